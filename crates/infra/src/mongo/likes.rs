use std::collections::HashMap;

use async_trait::async_trait;
use bson::oid::ObjectId;
use bson::{doc, Document};
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use mongodb::{Collection, Database};
use serde::{Deserialize, Serialize};
use videotube_domain::ports::LikeRepository;
use videotube_domain::{Id, RepoError};

use super::{group_number, id, insert_unique, oid, repo_error, to_bson_time, LIKES};

/// The original's schema (`likedBy` and one of `video`, `comment`, `tweet`), plus `target`,
/// which names the liked thing (`video:<id>`) and is always present: the unique
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
    video: ObjectId,
    video_owner: ObjectId,
    created_at: bson::DateTime,
}

fn video_target(video: Id) -> String {
    format!("video:{video}")
}

pub struct MongoLikeRepository {
    likes: Collection<LikeDoc>,
}

impl MongoLikeRepository {
    pub fn new(db: &Database) -> Self {
        Self {
            likes: db.collection(LIKES),
        }
    }
}

#[async_trait]
impl LikeRepository for MongoLikeRepository {
    async fn like_video(
        &self,
        user: Id,
        video: Id,
        video_owner: Id,
        at: DateTime<Utc>,
    ) -> Result<bool, RepoError> {
        let like = LikeDoc {
            id: ObjectId::new(),
            liked_by: oid(user),
            target: video_target(video),
            video: oid(video),
            video_owner: oid(video_owner),
            created_at: to_bson_time(at),
        };
        insert_unique(&self.likes, like).await
    }

    async fn unlike_video(&self, user: Id, video: Id) -> Result<bool, RepoError> {
        let result = self
            .likes
            .delete_one(doc! { "likedBy": oid(user), "target": video_target(video) })
            .await
            .map_err(repo_error)?;
        Ok(result.deleted_count == 1)
    }

    async fn likes_video(&self, user: Id, video: Id) -> Result<bool, RepoError> {
        let found = self
            .likes
            .find_one(doc! { "likedBy": oid(user), "target": video_target(video) })
            .await
            .map_err(repo_error)?;
        Ok(found.is_some())
    }

    async fn video_counts(&self, videos: &[Id]) -> Result<HashMap<Id, u64>, RepoError> {
        if videos.is_empty() {
            return Ok(HashMap::new());
        }
        let videos: Vec<ObjectId> = videos.iter().copied().map(oid).collect();
        let pipeline = [
            doc! { "$match": { "video": { "$in": videos } } },
            doc! { "$group": { "_id": "$video", "n": { "$sum": 1 } } },
        ];
        let groups: Vec<Document> = self
            .likes
            .aggregate(pipeline)
            .await
            .map_err(repo_error)?
            .try_collect()
            .await
            .map_err(repo_error)?;
        Ok(groups
            .iter()
            .filter_map(|g| Some((id(g.get_object_id("_id").ok()?), group_number(g, "n"))))
            .collect())
    }

    async fn channel_total(&self, owner: Id) -> Result<u64, RepoError> {
        self.likes
            .count_documents(doc! { "videoOwner": oid(owner) })
            .await
            .map_err(repo_error)
    }

    async fn remove_video(&self, video: Id) -> Result<(), RepoError> {
        self.likes
            .delete_many(doc! { "target": video_target(video) })
            .await
            .map(drop)
            .map_err(repo_error)
    }
}
