use async_trait::async_trait;
use bson::doc;
use bson::oid::ObjectId;
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use mongodb::{Collection, Database};
use serde::{Deserialize, Serialize};
use videotube_domain::page::PageRequest;
use videotube_domain::ports::WatchHistoryRepository;
use videotube_domain::{Id, RepoError};

use super::{id, insert_unique, oid, repo_error, to_bson_time, VIEW_CLAIMS, WATCH_HISTORY};

/// One entry per (user, video), unique; `watchedAt` is the latest watch.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HistoryDoc {
    user: ObjectId,
    video: ObjectId,
    watched_at: bson::DateTime,
}

/// A counted view; its `_id` names viewer, video and the watch before it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ViewClaimDoc {
    #[serde(rename = "_id")]
    id: String,
    video: ObjectId,
    user: ObjectId,
}

pub struct MongoWatchHistoryRepository {
    history: Collection<HistoryDoc>,
    claims: Collection<ViewClaimDoc>,
}

impl MongoWatchHistoryRepository {
    pub fn new(db: &Database) -> Self {
        Self {
            history: db.collection(WATCH_HISTORY),
            claims: db.collection(VIEW_CLAIMS),
        }
    }
}

#[async_trait]
impl WatchHistoryRepository for MongoWatchHistoryRepository {
    async fn last_watched(&self, user: Id, video: Id) -> Result<Option<DateTime<Utc>>, RepoError> {
        let found = self
            .history
            .find_one(doc! { "user": oid(user), "video": oid(video) })
            .await
            .map_err(repo_error)?;
        Ok(found.map(|entry| entry.watched_at.to_chrono()))
    }

    async fn claim_view(
        &self,
        user: Id,
        video: Id,
        previous: Option<DateTime<Utc>>,
    ) -> Result<bool, RepoError> {
        let previous = previous.map_or(0, |at| at.timestamp_millis());
        let claim = ViewClaimDoc {
            id: format!("{video}:{user}:{previous}"),
            video: oid(video),
            user: oid(user),
        };
        insert_unique(&self.claims, claim).await
    }

    async fn record(&self, user: Id, video: Id, at: DateTime<Utc>) -> Result<(), RepoError> {
        let filter = doc! { "user": oid(user), "video": oid(video) };
        let update = doc! { "$set": { "watchedAt": to_bson_time(at) } };
        let upsert = || {
            self.history
                .update_one(filter.clone(), update.clone())
                .upsert(true)
        };
        match upsert().await.map_err(repo_error) {
            // Two first watches at once: one inserted, the other now finds the entry.
            Err(RepoError::Duplicate(_)) => upsert().await.map(drop).map_err(repo_error),
            other => other.map(drop),
        }
    }

    async fn page(&self, user: Id, page: PageRequest) -> Result<Vec<Id>, RepoError> {
        let entries: Vec<HistoryDoc> = self
            .history
            .find(doc! { "user": oid(user) })
            .sort(doc! { "watchedAt": -1, "video": -1 })
            .skip(page.skip())
            .limit(i64::from(page.limit()))
            .await
            .map_err(repo_error)?
            .try_collect()
            .await
            .map_err(repo_error)?;
        Ok(entries.into_iter().map(|e| id(e.video)).collect())
    }

    async fn forget(&self, user: Id, video: Id) -> Result<(), RepoError> {
        self.history
            .delete_one(doc! { "user": oid(user), "video": oid(video) })
            .await
            .map(drop)
            .map_err(repo_error)
    }

    async fn clear(&self, user: Id) -> Result<(), RepoError> {
        self.history
            .delete_many(doc! { "user": oid(user) })
            .await
            .map(drop)
            .map_err(repo_error)
    }

    async fn remove_video(&self, video: Id) -> Result<(), RepoError> {
        self.history
            .delete_many(doc! { "video": oid(video) })
            .await
            .map_err(repo_error)?;
        self.claims
            .delete_many(doc! { "video": oid(video) })
            .await
            .map(drop)
            .map_err(repo_error)
    }
}
