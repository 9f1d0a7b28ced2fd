use std::time::Duration;

use async_trait::async_trait;
use bson::doc;
use bson::oid::ObjectId;
use chrono::{DateTime, Utc};
use mongodb::Collection;
use serde::{Deserialize, Serialize};
use videotube_domain::page::{Cursor, Page, PageRequest};
use videotube_domain::ports::WatchHistoryRepository;
use videotube_domain::{Id, RepoError};

use super::{
    from_cursor, id, insert_unique, oid, page_of, time_cursor, to_bson_time, Store, Within,
    VIEW_CLAIMS, WATCH_HISTORY,
};

/// One entry per (user, video), unique; `watchedAt` is the latest watch.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct HistoryDoc {
    user: ObjectId,
    video: ObjectId,
    watched_at: bson::DateTime,
}

impl HistoryDoc {
    pub(super) fn new(user: Id, video: Id, at: DateTime<Utc>) -> Self {
        HistoryDoc {
            user: oid(user),
            video: oid(video),
            watched_at: to_bson_time(at),
        }
    }
}

/// A counted view. Its `_id` names video, viewer and the window-long time bucket it fell in, so
/// of parallel watches in one bucket exactly one inserts it. A view counts unless one was counted
/// within the window before it, which can only be in this bucket or the one before.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ViewDoc {
    #[serde(rename = "_id")]
    id: String,
    video: ObjectId,
    user: ObjectId,
    at: bson::DateTime,
}

fn view_id(video: Id, user: Id, bucket: i64) -> String {
    format!("{video}:{user}:{bucket}")
}

fn millis(window: Duration) -> i64 {
    i64::try_from(window.as_millis()).unwrap_or(i64::MAX).max(1)
}

pub struct MongoWatchHistoryRepository {
    limit: Duration,
    history: Collection<HistoryDoc>,
    views: Collection<ViewDoc>,
}

impl MongoWatchHistoryRepository {
    pub fn new(store: &Store) -> Self {
        Self {
            limit: store.limit,
            history: store.collection(WATCH_HISTORY),
            views: store.collection(VIEW_CLAIMS),
        }
    }
}

impl MongoWatchHistoryRepository {
    async fn record(&self, user: Id, video: Id, at: DateTime<Utc>) -> Result<(), RepoError> {
        let filter = doc! { "user": oid(user), "video": oid(video) };
        let update = doc! { "$set": { "watchedAt": to_bson_time(at) } };
        let upsert = || {
            self.history
                .update_one(filter.clone(), update.clone())
                .upsert(true)
        };
        match upsert().within(self.limit).await {
            // Two first watches at once: one inserted, the other now finds the entry.
            Err(RepoError::Duplicate(_)) => upsert().within(self.limit).await.map(drop),
            other => other.map(drop),
        }
    }
}

#[async_trait]
impl WatchHistoryRepository for MongoWatchHistoryRepository {
    #[tracing::instrument(name = "watch_history.record_watch", skip_all)]
    async fn record_watch(
        &self,
        user: Id,
        video: Id,
        at: DateTime<Utc>,
        window: Duration,
    ) -> Result<bool, RepoError> {
        let window_ms = millis(window);
        let bucket = at.timestamp_millis().div_euclid(window_ms);
        let before = self
            .views
            .find_one(doc! { "_id": view_id(video, user, bucket - 1) })
            .max_time(self.limit)
            .within(self.limit)
            .await?;
        let counted_recently =
            before.is_some_and(|v| at.timestamp_millis() - v.at.timestamp_millis() < window_ms);
        let counted = !counted_recently
            && insert_unique(
                self.limit,
                &self.views,
                ViewDoc {
                    id: view_id(video, user, bucket),
                    video: oid(video),
                    user: oid(user),
                    at: to_bson_time(at),
                },
            )
            .await?;
        self.record(user, video, at).await?;
        Ok(counted)
    }

    #[tracing::instrument(name = "watch_history.page", skip_all)]
    async fn page(
        &self,
        user: Id,
        page: PageRequest,
        after: Option<&Cursor>,
    ) -> Result<Page<Id>, RepoError> {
        let filter = doc! { "user": oid(user) };
        let from = from_cursor(&filter, "watchedAt", "video", after);
        let entries: Page<HistoryDoc> = page_of(
            self.limit,
            &self.history,
            filter,
            from,
            doc! { "watchedAt": -1, "video": -1 },
            page,
            |e: &HistoryDoc| time_cursor(e.watched_at, e.video),
        )
        .await?;
        Ok(entries.map(|e| id(e.video)))
    }

    #[tracing::instrument(name = "watch_history.forget", skip_all)]
    async fn forget(&self, user: Id, video: Id) -> Result<bool, RepoError> {
        self.history
            .delete_one(doc! { "user": oid(user), "video": oid(video) })
            .within(self.limit)
            .await
            .map(|deleted| deleted.deleted_count > 0)
    }

    #[tracing::instrument(name = "watch_history.clear", skip_all)]
    async fn clear(&self, user: Id) -> Result<(), RepoError> {
        self.history
            .delete_many(doc! { "user": oid(user) })
            .within(self.limit)
            .await
            .map(drop)
    }

    #[tracing::instrument(name = "watch_history.remove_video", skip_all)]
    async fn remove_video(&self, video: Id) -> Result<(), RepoError> {
        self.history
            .delete_many(doc! { "video": oid(video) })
            .within(self.limit)
            .await?;
        self.views
            .delete_many(doc! { "video": oid(video) })
            .within(self.limit)
            .await
            .map(drop)
    }

    #[tracing::instrument(name = "watch_history.sweep", skip_all)]
    async fn sweep(&self, now: DateTime<Utc>, window: Duration) -> Result<(), RepoError> {
        let cutoff = bson::DateTime::from_millis(now.timestamp_millis() - millis(window));
        // `$not $gte` also takes the records of earlier versions, which have no `at`.
        self.views
            .delete_many(doc! { "at": { "$not": { "$gte": cutoff } } })
            .within(self.limit)
            .await
            .map(drop)
    }
}
