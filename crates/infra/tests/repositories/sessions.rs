//! Sessions: refresh-token rotation, revocation, the sweep.

use std::time::Duration;

use bson::doc;
use chrono::{TimeDelta, Utc};
use videotube_domain::ports::SessionRepository;
use videotube_domain::session::{RefreshRotation, Rotation, Session};
use videotube_domain::Id;
use videotube_infra::mongo::MongoSessionRepository;

use crate::fresh_database;

pub(crate) fn session(
    repo: &MongoSessionRepository,
    user_id: Id,
    expires_in: TimeDelta,
) -> Session {
    let now = Utc::now();
    Session {
        id: repo.next_id(),
        user_id,
        expires_at: now + expires_in,
        revoked: false,
        created_at: now,
    }
}

pub(crate) fn rotation<'a>(
    s: &Session,
    presented: &'a str,
    next: &'a str,
    grace: u64,
) -> RefreshRotation<'a> {
    let now = Utc::now();
    RefreshRotation {
        session: s.id,
        user: s.user_id,
        presented,
        next,
        next_expires_at: now + TimeDelta::days(1),
        now,
        grace: Duration::from_secs(grace),
    }
}

#[tokio::test]
async fn one_of_parallel_rotations_wins_and_one_more_is_let_through_by_the_grace() {
    let db = fresh_database().await;
    let sessions = MongoSessionRepository::new(&db);
    let user: Id = "0123456789abcdef01234567".parse().unwrap();
    for (grace, expected) in [
        (10, [Rotation::Rotated, Rotation::RotatedInGrace]),
        (0, [Rotation::Rotated, Rotation::Reused]),
    ] {
        let s = session(&sessions, user, TimeDelta::days(1));
        // Fingerprints of distinct tokens: unique across sessions.
        let first = format!("first-{grace}");
        sessions.insert(&s, &first).await.unwrap();
        let nexts: Vec<String> = (0..6).map(|i| format!("next-{grace}-{i}")).collect();
        let outcomes = futures_util::future::join_all(
            nexts
                .iter()
                .map(|next| sessions.rotate(rotation(&s, &first, next, grace))),
        )
        .await;
        let mut outcomes: Vec<Rotation> = outcomes.into_iter().map(Result::unwrap).collect();
        let count = |o: Rotation| outcomes.iter().filter(|x| **x == o).count();
        assert_eq!(count(expected[0]), 1, "grace {grace}: {outcomes:?}");
        assert_eq!(
            count(expected[1]),
            if grace == 0 { 5 } else { 1 },
            "{outcomes:?}"
        );
        outcomes.retain(|o| !expected.contains(o));
        assert!(
            outcomes.iter().all(|o| *o == Rotation::Reused),
            "{outcomes:?}"
        );
    }
}

#[tokio::test]
async fn a_rotation_survives_losing_its_session_write_and_the_sweep_repairs_it() {
    let db = fresh_database().await;
    let sessions = MongoSessionRepository::new(&db);
    let raw = db.collection::<bson::Document>("sessions");
    let user: Id = "0123456789abcdef01234567".parse().unwrap();
    let s = session(&sessions, user, TimeDelta::days(1));
    sessions.insert(&s, "t0").await.unwrap();
    let as_first_written = raw
        .find_one(doc! { "_id": bson::oid::ObjectId::from_bytes(s.id.bytes()) })
        .await
        .unwrap()
        .unwrap();
    let lose_session_write = || async {
        raw.replace_one(
            doc! { "_id": as_first_written.get_object_id("_id").unwrap() },
            as_first_written.clone(),
        )
        .await
        .unwrap();
    };

    assert_eq!(
        sessions.rotate(rotation(&s, "t0", "t1", 0)).await.unwrap(),
        Rotation::Rotated
    );
    // The process died after spending t0, before the session recorded t1.
    lose_session_write().await;
    assert_eq!(
        sessions.rotate(rotation(&s, "t0", "x", 0)).await.unwrap(),
        Rotation::Reused
    );
    assert_eq!(
        sessions.rotate(rotation(&s, "t1", "t2", 0)).await.unwrap(),
        Rotation::Rotated
    );
    lose_session_write().await;
    assert_eq!(
        sessions.rotate(rotation(&s, "t2", "t3", 0)).await.unwrap(),
        Rotation::Rotated
    );
    lose_session_write().await;

    // An hour later the sweep moves the session past the spent records and deletes them.
    let spent = db.collection::<bson::Document>("refresh_token_uses");
    let an_hour_ago = bson::DateTime::from_chrono(Utc::now() - TimeDelta::minutes(61));
    spent
        .update_many(doc! {}, doc! { "$set": { "usedAt": an_hour_ago } })
        .await
        .unwrap();
    sessions.sweep(Utc::now()).await.unwrap();
    assert_eq!(spent.count_documents(doc! {}).await.unwrap(), 0);
    assert_eq!(
        sessions.rotate(rotation(&s, "t3", "t4", 0)).await.unwrap(),
        Rotation::Rotated
    );
    assert_eq!(
        sessions.rotate(rotation(&s, "t1", "x", 0)).await.unwrap(),
        Rotation::Reused
    );
    // Fresh records stay: a parallel refresh may still be following them.
    sessions.sweep(Utc::now()).await.unwrap();
    assert_eq!(spent.count_documents(doc! {}).await.unwrap(), 1);
}

#[tokio::test]
async fn revoked_expired_and_foreign_sessions_are_gone() {
    let db = fresh_database().await;
    let sessions = MongoSessionRepository::new(&db);
    let user: Id = "0123456789abcdef01234567".parse().unwrap();
    let s = session(&sessions, user, TimeDelta::days(1));
    sessions.insert(&s, "t0").await.unwrap();
    let stranger = Session {
        user_id: "0123456789abcdef01234568".parse().unwrap(),
        ..s.clone()
    };
    assert_eq!(
        sessions
            .rotate(rotation(&stranger, "t0", "x", 10))
            .await
            .unwrap(),
        Rotation::Gone
    );
    let mut late = rotation(&s, "t0", "x", 10);
    late.now += TimeDelta::days(2);
    assert_eq!(sessions.rotate(late).await.unwrap(), Rotation::Gone);
    let unknown = Session {
        id: sessions.next_id(),
        ..s.clone()
    };
    assert_eq!(
        sessions
            .rotate(rotation(&unknown, "t0", "x", 10))
            .await
            .unwrap(),
        Rotation::Gone
    );
    sessions.revoke(s.id).await.unwrap();
    assert_eq!(
        sessions.rotate(rotation(&s, "t0", "x", 10)).await.unwrap(),
        Rotation::Gone
    );
    assert!(sessions.find(s.id).await.unwrap().unwrap().revoked);
}

#[tokio::test]
async fn revoke_others_keeps_one_and_the_sweep_deletes_the_dead() {
    let db = fresh_database().await;
    let sessions = MongoSessionRepository::new(&db);
    let user: Id = "0123456789abcdef01234567".parse().unwrap();
    let other_user: Id = "0123456789abcdef01234568".parse().unwrap();
    let keep = session(&sessions, user, TimeDelta::days(1));
    let drop_me = session(&sessions, user, TimeDelta::days(1));
    let expired = session(&sessions, user, TimeDelta::seconds(-5));
    let someone_elses = session(&sessions, other_user, TimeDelta::days(1));
    for s in [&keep, &drop_me, &expired, &someone_elses] {
        sessions.insert(s, "t0").await.unwrap();
    }
    sessions.revoke_others(user, keep.id).await.unwrap();
    assert!(!sessions.find(keep.id).await.unwrap().unwrap().revoked);
    assert!(sessions.find(drop_me.id).await.unwrap().unwrap().revoked);
    assert!(
        !sessions
            .find(someone_elses.id)
            .await
            .unwrap()
            .unwrap()
            .revoked
    );

    // Revoked sessions expire as they are revoked (a second ago at most, by the time of the sweep).
    sessions
        .sweep(Utc::now() + TimeDelta::seconds(1))
        .await
        .unwrap();
    assert!(sessions.find(keep.id).await.unwrap().is_some());
    assert!(sessions.find(drop_me.id).await.unwrap().is_none());
    assert!(sessions.find(expired.id).await.unwrap().is_none());
    assert!(sessions.find(someone_elses.id).await.unwrap().is_some());
}
