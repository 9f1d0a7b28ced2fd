//! Throttles kept in the database, so that every instance spends from the same budgets: one
//! document per key with its GCRA state, changed by compare-and-set (FerretDB has no atomic
//! read-modify-write that could do it in one step on both servers).

use std::num::NonZeroU32;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use mongodb::bson::{self, doc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use videotube_domain::ports::Throttle;
use videotube_domain::RepoError;

use crate::mongo::{insert_unique, to_bson_time, Store, Within, THROTTLES};

/// Attempts allowed in a burst, and how fast the allowance refills.
#[derive(Debug, Clone, Copy)]
pub struct Allowance {
    pub burst: NonZeroU32,
    pub refill_every: Duration,
}

impl Allowance {
    fn interval(self) -> TimeDelta {
        TimeDelta::from_std(self.refill_every.max(Duration::from_millis(1)))
            .unwrap_or(TimeDelta::MAX)
    }

    /// How far ahead of now a key's theoretical arrival time may run: the burst less one.
    fn tolerance(self) -> TimeDelta {
        self.interval() * (self.burst.get() as i32 - 1)
    }
}

/// The generic cell rate algorithm: a key's state is its theoretical arrival time (`tat`), when
/// its allowance would be whole again plus one interval. A request is allowed while `tat` is at
/// most the burst's tolerance ahead of now, and moves it on by one interval. Answers the new
/// `tat`, or how long to wait.
fn gcra(
    now: DateTime<Utc>,
    tat: Option<DateTime<Utc>>,
    allowance: Allowance,
) -> Result<DateTime<Utc>, Duration> {
    let tat = tat.map_or(now, |tat| tat.max(now));
    let allowed_from = tat - allowance.tolerance();
    if allowed_from > now {
        return Err((allowed_from - now).to_std().unwrap_or_default());
    }
    Ok(tat + allowance.interval())
}

#[derive(Serialize, Deserialize)]
struct ThrottleDoc {
    /// `<throttle>:<SHA-256 of the key>`: keys are client-chosen (a name of no account), so
    /// they are hashed to a fixed, index-safe length.
    #[serde(rename = "_id")]
    id: String,
    throttle: String,
    tat: bson::DateTime,
}

/// One throttle (login attempts per client, say), its keys in the `throttles` collection.
pub struct MongoThrottle {
    name: &'static str,
    allowance: Allowance,
    docs: mongodb::Collection<ThrottleDoc>,
    limit: Duration,
}

/// Compare-and-set rounds before a key under that much contention is refused.
const TRIES: usize = 8;

impl MongoThrottle {
    /// `name` labels its documents and its `throttle_rejections_total` series.
    pub fn new(store: &Store, name: &'static str, allowance: Allowance) -> Self {
        Self {
            name,
            allowance,
            docs: store.collection(THROTTLES),
            limit: store.limit(),
        }
    }

    fn rejected(&self, wait: Duration) -> Option<Duration> {
        metrics::counter!("throttle_rejections_total", "throttle" => self.name).increment(1);
        Some(wait)
    }
}

#[async_trait]
impl Throttle for MongoThrottle {
    #[tracing::instrument(name = "throttles.spend", skip_all)]
    async fn spend(&self, key: &str) -> Result<Option<Duration>, RepoError> {
        let id = format!("{}:{}", self.name, hex::encode(Sha256::digest(key)));
        for _ in 0..TRIES {
            let now = Utc::now();
            let stored = self
                .docs
                .find_one(doc! { "_id": &id })
                .within(self.limit)
                .await?;
            let tat = match gcra(
                now,
                stored.as_ref().map(|d| d.tat.to_chrono()),
                self.allowance,
            ) {
                Ok(tat) => to_bson_time(tat),
                Err(wait) => return Ok(self.rejected(wait)),
            };
            let written = match stored {
                Some(seen) => {
                    self.docs
                        .update_one(
                            doc! { "_id": &id, "tat": seen.tat },
                            doc! { "$set": { "tat": tat } },
                        )
                        .within(self.limit)
                        .await?
                        .modified_count
                        == 1
                }
                None => {
                    let fresh = ThrottleDoc {
                        id: id.clone(),
                        throttle: self.name.to_owned(),
                        tat,
                    };
                    insert_unique(self.limit, &self.docs, fresh).await?
                }
            };
            if written {
                return Ok(None);
            }
        }
        // Another request changed the key every time: it is being hammered.
        Ok(self.rejected(self.allowance.refill_every))
    }

    #[tracing::instrument(name = "throttles.forget_refilled", skip_all)]
    async fn forget_refilled(&self, now: DateTime<Utc>) -> Result<(), RepoError> {
        self.docs
            .delete_many(doc! { "throttle": self.name, "tat": { "$lte": to_bson_time(now) } })
            .within(self.limit)
            .await
            .map(drop)
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
    fn a_burst_then_one_per_interval() {
        let now = Utc::now();
        let mut tat = None;
        for _ in 0..3 {
            tat = Some(gcra(now, tat, allowance(3)).expect("within the burst"));
        }
        let wait = gcra(now, tat, allowance(3)).unwrap_err();
        assert_eq!(wait, Duration::from_secs(60));
        let later = now + TimeDelta::seconds(60);
        let tat = gcra(later, tat, allowance(3)).expect("one more after an interval");
        assert!(gcra(later, Some(tat), allowance(3)).is_err());
        // Idle long enough, a key is as good as new (its state may be forgotten).
        let much_later = now + TimeDelta::hours(1);
        assert_eq!(
            gcra(much_later, Some(tat), allowance(3)),
            gcra(much_later, None, allowance(3))
        );
    }
}
