//! Bulk writes that fill a database (the benchmark seeder), through the repositories' own
//! document types, so that a seeded database is what the repositories would have written.

use chrono::{DateTime, Utc};
use mongodb::{Collection, Database};
use serde::Serialize;
use videotube_domain::user::NewUser;
use videotube_domain::video::Video;
use videotube_domain::Id;

use super::history::HistoryDoc;
use super::subscriptions::SubscriptionDoc;
use super::users::UserDoc;
use super::videos::VideoDoc;
use super::{oid, DbError, SUBSCRIPTIONS, USERS, VIDEOS, WATCH_HISTORY};

/// Documents per `insertMany`.
const BATCH: usize = 5_000;

async fn insert_all<T: Serialize + Send + Sync>(
    collection: Collection<T>,
    docs: Vec<T>,
) -> Result<(), DbError> {
    for batch in docs.chunks(BATCH) {
        collection.insert_many(batch).await?;
    }
    Ok(())
}

/// Users with the ids given.
pub async fn insert_users(db: &Database, users: &[(Id, NewUser)]) -> Result<(), DbError> {
    let docs = users
        .iter()
        .map(|(id, user)| UserDoc::new(oid(*id), user))
        .collect();
    insert_all(db.collection(USERS), docs).await
}

pub async fn insert_videos(db: &Database, videos: &[Video]) -> Result<(), DbError> {
    insert_all(
        db.collection(VIDEOS),
        videos.iter().map(VideoDoc::from).collect(),
    )
    .await
}

/// `(subscriber, channel, since)`.
pub async fn insert_subscriptions(
    db: &Database,
    subscriptions: &[(Id, Id, DateTime<Utc>)],
) -> Result<(), DbError> {
    let docs = subscriptions
        .iter()
        .map(|&(subscriber, channel, at)| SubscriptionDoc::new(subscriber, channel, at))
        .collect();
    insert_all(db.collection(SUBSCRIPTIONS), docs).await
}

/// `(user, video, watched at)`.
pub async fn insert_history(
    db: &Database,
    entries: &[(Id, Id, DateTime<Utc>)],
) -> Result<(), DbError> {
    let docs = entries
        .iter()
        .map(|&(user, video, at)| HistoryDoc::new(user, video, at))
        .collect();
    insert_all(db.collection(WATCH_HISTORY), docs).await
}
