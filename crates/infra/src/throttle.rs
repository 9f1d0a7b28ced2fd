use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use videotube_domain::ports::{ClientThrottle, LoginThrottle};

/// Attempts allowed in a burst, and how fast the allowance refills.
#[derive(Debug, Clone, Copy)]
pub struct Allowance {
    pub burst: NonZeroU32,
    pub refill_every: Duration,
}

impl Allowance {
    fn quota(self) -> Quota {
        Quota::with_period(self.refill_every)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(self.burst)
    }
}

/// A GCRA limiter (the `governor` crate) keyed by client address, account name or the like.
pub struct KeyedThrottle<K: Hash + Eq + Clone> {
    /// Its label on `throttle_rejections_total`.
    name: &'static str,
    limiter: DefaultKeyedRateLimiter<K>,
    checks: AtomicU64,
}

/// How often a limiter forgets keys whose allowance has fully refilled.
const SWEEP_EVERY: u64 = 1024;

impl<K: Hash + Eq + Clone> KeyedThrottle<K> {
    pub fn new(name: &'static str, allowance: Allowance) -> Self {
        Self {
            name,
            limiter: RateLimiter::keyed(allowance.quota()),
            checks: AtomicU64::new(0),
        }
    }

    /// Spends one unit of the key's allowance, or says how long until one is back.
    pub fn check(&self, key: &K) -> Result<(), Duration> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.limiter.retain_recent();
        }
        let now = DefaultClock::default().now();
        self.limiter.check_key(key).map_err(|denied| {
            metrics::counter!("throttle_rejections_total", "throttle" => self.name).increment(1);
            denied.wait_time_from(now)
        })
    }
}

impl ClientThrottle for KeyedThrottle<IpAddr> {
    fn check(&self, client: IpAddr) -> Result<(), Duration> {
        KeyedThrottle::check(self, &client)
    }
}

/// Login attempts, limited per client IP and per account. Every attempt counts, so a guesser is
/// slowed down whether it targets one account from many addresses or many accounts from one.
pub struct GovernorLoginThrottle {
    per_ip: KeyedThrottle<IpAddr>,
    per_account: KeyedThrottle<String>,
}

impl GovernorLoginThrottle {
    pub fn new(per_ip: Allowance, per_account: Allowance) -> Self {
        Self {
            per_ip: KeyedThrottle::new("login_per_ip", per_ip),
            per_account: KeyedThrottle::new("login_per_account", per_account),
        }
    }
}

impl LoginThrottle for GovernorLoginThrottle {
    fn check_client(&self, client: IpAddr) -> Result<(), Duration> {
        self.per_ip.check(&client)
    }

    fn check_account(&self, account: &str) -> Result<(), Duration> {
        self.per_account.check(&account.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowance(burst: u32) -> Allowance {
        Allowance {
            burst: NonZeroU32::new(burst).unwrap(),
            refill_every: Duration::from_secs(60),
        }
    }

    #[test]
    fn limits_each_account_and_each_address_separately() {
        let throttle = GovernorLoginThrottle::new(allowance(3), allowance(2));
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        assert!(throttle.check_account("alice").is_ok());
        assert!(throttle.check_account("alice").is_ok());
        let wait = throttle.check_account("alice").unwrap_err();
        assert!(wait > Duration::from_secs(30) && wait <= Duration::from_secs(60));
        assert!(throttle.check_account("bob").is_ok());
        for _ in 0..3 {
            assert!(throttle.check_client(ip).is_ok());
        }
        assert!(throttle.check_client(ip).is_err());
        assert!(throttle.check_client("10.0.0.2".parse().unwrap()).is_ok());
    }
}
