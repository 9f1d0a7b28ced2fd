use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use videotube_domain::ports::Throttle;
use videotube_infra::mongo::bson::{doc, Document};
use videotube_infra::throttle::{Allowance, MongoThrottle};

use crate::fresh_database;

fn allowance(burst: u32) -> Allowance {
    Allowance {
        burst: NonZeroU32::new(burst).unwrap(),
        refill_every: Duration::from_secs(60),
    }
}

#[tokio::test]
async fn a_burst_is_spent_once_across_throttle_instances_and_forgotten_once_refilled() {
    let store = fresh_database().await;
    // Two instances of the server: two throttles over one database.
    let one = MongoThrottle::new(&store, "login_per_account", allowance(3));
    let other = MongoThrottle::new(&store, "login_per_account", allowance(3));
    let elsewhere = MongoThrottle::new(&store, "register_per_ip", allowance(3));
    for throttle in [&one, &other, &one] {
        assert_eq!(throttle.spend("alice").await.unwrap(), None);
    }
    let wait = other.spend("alice").await.unwrap().expect("spent");
    assert!(wait > Duration::from_secs(50) && wait <= Duration::from_secs(60));
    assert_eq!(one.spend("bob").await.unwrap(), None, "a key of its own");
    assert_eq!(
        elsewhere.spend("alice").await.unwrap(),
        None,
        "a throttle of its own"
    );
    // A key far longer than an index key may be is hashed.
    assert_eq!(one.spend(&"x".repeat(10_000)).await.unwrap(), None);

    // Once whole again a key is forgotten; forgetting one throttle's keys leaves the others'.
    let refilled = Utc::now() + TimeDelta::hours(1);
    one.forget_refilled(refilled).await.unwrap();
    let keys = |throttle: &'static str| {
        let docs = store.collection::<Document>("throttles");
        async move {
            docs.count_documents(doc! { "throttle": throttle })
                .await
                .unwrap()
        }
    };
    assert_eq!(keys("login_per_account").await, 0);
    assert_eq!(keys("register_per_ip").await, 1);
}

#[tokio::test]
async fn concurrent_attempts_spend_exactly_the_burst() {
    let store = fresh_database().await;
    let throttle = Arc::new(MongoThrottle::new(&store, "login_per_ip", allowance(5)));
    let attempts = (0..12).map(|_| {
        let throttle = Arc::clone(&throttle);
        tokio::spawn(async move { throttle.spend("10.0.0.1").await.unwrap() })
    });
    let mut allowed = 0;
    for attempt in attempts {
        if attempt.await.unwrap().is_none() {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 5);
}
