use std::time::Duration;

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use bson::oid::ObjectId;
use bson::{doc, Document};
use chrono::{DateTime, Utc};
use mongodb::Collection;
use serde::{Deserialize, Serialize};
use videotube_domain::like::{LikeTarget, LikedVideo};
use videotube_domain::page::Cursor;
use videotube_domain::ports::LikeRepository;
use videotube_domain::{Id, RepoError};

use super::{
    find_all, from_cursor, group_number, groups, id, insert_unique, newest_first, oid, time_cursor,
    to_bson_time, Store, Within, LIKES,
};

/// The original's schema (`likedBy` and one of `video`, `comment`, `tweet`), plus `target`,
/// which names the liked thing (`video:<id>`, `comment:<id>`, `tweet:<id>`) and is always present: the unique
/// (likedBy, target) index then holds on every store (a unique index over fields that are
/// missing for some kinds would count missing values as equal on MongoDB and as distinct on
/// FerretDB/SQLite).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LikeDoc {
    #[serde(rename = "_id")]
    id: ObjectId,
    liked_by: ObjectId,
    target: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    video: Option<ObjectId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    comment: Option<ObjectId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tweet: Option<ObjectId>,
    /// Set on video likes: a channel's likes are one count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    video_owner: Option<ObjectId>,
    created_at: bson::DateTime,
}

pub struct MongoLikeRepository {
    limit: Duration,
    likes: Collection<LikeDoc>,
}

impl MongoLikeRepository {
    pub fn new(store: &Store) -> Self {
        Self {
            limit: store.limit,
            likes: store.collection(LIKES),
        }
    }
}

fn keys(targets: &[LikeTarget]) -> (Vec<String>, HashMap<String, LikeTarget>) {
    let by_key: HashMap<String, LikeTarget> = targets.iter().map(|t| (t.to_string(), *t)).collect();
    (by_key.keys().cloned().collect(), by_key)
}

#[async_trait]
impl LikeRepository for MongoLikeRepository {
    #[tracing::instrument(name = "likes.like", skip_all)]
    async fn like(
        &self,
        user: Id,
        target: LikeTarget,
        target_owner: Id,
        at: DateTime<Utc>,
    ) -> Result<bool, RepoError> {
        let mut like = LikeDoc {
            id: ObjectId::new(),
            liked_by: oid(user),
            target: target.to_string(),
            video: None,
            comment: None,
            tweet: None,
            video_owner: None,
            created_at: to_bson_time(at),
        };
        match target {
            LikeTarget::Video(video) => {
                like.video = Some(oid(video));
                like.video_owner = Some(oid(target_owner));
            }
            LikeTarget::Comment(comment) => like.comment = Some(oid(comment)),
            LikeTarget::Tweet(tweet) => like.tweet = Some(oid(tweet)),
        }
        insert_unique(self.limit, &self.likes, like).await
    }

    #[tracing::instrument(name = "likes.unlike", skip_all)]
    async fn unlike(&self, user: Id, target: LikeTarget) -> Result<bool, RepoError> {
        let result = self
            .likes
            .delete_one(doc! { "likedBy": oid(user), "target": target.to_string() })
            .within(self.limit)
            .await?;
        Ok(result.deleted_count == 1)
    }

    #[tracing::instrument(name = "likes.is_liked", skip_all)]
    async fn is_liked(&self, user: Id, target: LikeTarget) -> Result<bool, RepoError> {
        let found = self
            .likes
            .find_one(doc! { "likedBy": oid(user), "target": target.to_string() })
            .max_time(self.limit)
            .within(self.limit)
            .await?;
        Ok(found.is_some())
    }

    #[tracing::instrument(name = "likes.count_others", skip_all)]
    async fn count_others(&self, target: LikeTarget, user: Id) -> Result<u64, RepoError> {
        self.likes
            .count_documents(doc! { "target": target.to_string(), "likedBy": { "$ne": oid(user) } })
            .max_time(self.limit)
            .within(self.limit)
            .await
    }

    #[tracing::instrument(name = "likes.counts", skip_all)]
    async fn counts(&self, targets: &[LikeTarget]) -> Result<HashMap<LikeTarget, u64>, RepoError> {
        if targets.is_empty() {
            return Ok(HashMap::new());
        }
        let (keys, by_key) = keys(targets);
        let pipeline = [
            doc! { "$match": { "target": { "$in": keys } } },
            doc! { "$group": { "_id": "$target", "n": { "$sum": 1 } } },
        ];
        let groups = groups(&self.likes, pipeline, self.limit)
            .within(self.limit)
            .await?;
        Ok(groups
            .iter()
            .filter_map(|g| Some((*by_key.get(g.get_str("_id").ok()?)?, group_number(g, "n"))))
            .collect())
    }

    #[tracing::instrument(name = "likes.liked_among", skip_all)]
    async fn liked_among(
        &self,
        user: Id,
        targets: &[LikeTarget],
    ) -> Result<HashSet<LikeTarget>, RepoError> {
        if targets.is_empty() {
            return Ok(HashSet::new());
        }
        let (keys, by_key) = keys(targets);
        let liked: Vec<LikeDoc> = find_all(
            self.likes
                .find(doc! { "likedBy": oid(user), "target": { "$in": keys } }),
            self.limit,
        )
        .await?;
        Ok(liked
            .iter()
            .filter_map(|l| by_key.get(&l.target).copied())
            .collect())
    }

    #[tracing::instrument(name = "likes.channel_total", skip_all)]
    async fn channel_total(&self, owner: Id) -> Result<u64, RepoError> {
        self.likes
            .count_documents(doc! { "videoOwner": oid(owner) })
            .max_time(self.limit)
            .within(self.limit)
            .await
    }

    #[tracing::instrument(name = "likes.remove_targets", skip_all)]
    async fn remove_targets(&self, targets: &[LikeTarget]) -> Result<(), RepoError> {
        // Batches keep each command far below the 16 MB limit however many comments a video had.
        for batch in targets.chunks(1000) {
            let keys: Vec<String> = batch.iter().map(LikeTarget::to_string).collect();
            self.likes
                .delete_many(doc! { "target": { "$in": keys } })
                .within(self.limit)
                .await?;
        }
        Ok(())
    }

    #[tracing::instrument(name = "likes.count_liked_videos", skip_all)]
    async fn count_liked_videos(&self, user: Id) -> Result<u64, RepoError> {
        self.likes
            .count_documents(doc! { "likedBy": oid(user), "video": { "$exists": true } })
            .max_time(self.limit)
            .within(self.limit)
            .await
    }

    #[tracing::instrument(name = "likes.liked_videos", skip_all)]
    async fn liked_videos(
        &self,
        user: Id,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Vec<LikedVideo>, RepoError> {
        let filter = from_cursor(
            &doc! { "likedBy": oid(user), "video": { "$exists": true } },
            "createdAt",
            "_id",
            after,
        );
        let liked: Vec<Document> = find_all(
            self.likes
                .clone_with_type::<Document>()
                .find(filter)
                .sort(newest_first())
                .projection(doc! { "video": 1, "createdAt": 1 })
                .limit(i64::from(limit)),
            self.limit,
        )
        .await?;
        Ok(liked
            .iter()
            .filter_map(|l| {
                Some(LikedVideo {
                    video: id(l.get_object_id("video").ok()?),
                    position: time_cursor(
                        *l.get_datetime("createdAt").ok()?,
                        l.get_object_id("_id").ok()?,
                    ),
                })
            })
            .collect())
    }
}
