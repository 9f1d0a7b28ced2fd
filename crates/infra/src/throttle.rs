use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use videotube_domain::ports::LoginThrottle;

/// Login attempts allowed in a burst, and how fast the allowance refills.
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

/// Two GCRA limiters (the `governor` crate): one keyed by client IP, one by account name. Every
/// attempt counts, so a guesser is slowed down whether it targets one account from many
/// addresses or many accounts from one.
pub struct GovernorLoginThrottle {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    per_account: DefaultKeyedRateLimiter<String>,
    checks: AtomicU64,
}

/// How often the limiters forget keys whose allowance has fully refilled.
const SWEEP_EVERY: u64 = 1024;

impl GovernorLoginThrottle {
    pub fn new(per_ip: Allowance, per_account: Allowance) -> Self {
        Self {
            per_ip: RateLimiter::keyed(per_ip.quota()),
            per_account: RateLimiter::keyed(per_account.quota()),
            checks: AtomicU64::new(0),
        }
    }
}

impl LoginThrottle for GovernorLoginThrottle {
    fn check(&self, client: Option<IpAddr>, account: &str) -> Result<(), Duration> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.per_ip.retain_recent();
            self.per_account.retain_recent();
        }
        let now = DefaultClock::default().now();
        if let Some(ip) = client {
            self.per_ip
                .check_key(&ip)
                .map_err(|denied| denied.wait_time_from(now))?;
        }
        self.per_account
            .check_key(&account.to_owned())
            .map_err(|denied| denied.wait_time_from(now))
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
        let throttle = GovernorLoginThrottle::new(allowance(5), allowance(2));
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        assert!(throttle.check(Some(ip), "alice").is_ok());
        assert!(throttle.check(Some(ip), "alice").is_ok());
        let wait = throttle.check(Some(ip), "alice").unwrap_err();
        assert!(wait > Duration::from_secs(30) && wait <= Duration::from_secs(60));
        assert!(throttle.check(Some(ip), "bob").is_ok());
        assert!(throttle.check(Some(ip), "carol").is_ok());
        // The address has spent its five attempts, whatever the account.
        assert!(throttle.check(Some(ip), "dave").is_err());
        assert!(throttle
            .check(Some("10.0.0.2".parse().unwrap()), "erin")
            .is_ok());
    }
}
