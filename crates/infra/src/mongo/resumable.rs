use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use bson::doc;
use bson::oid::ObjectId;
use chrono::{DateTime, Utc};
use mongodb::Collection;
use serde::{Deserialize, Serialize};
use videotube_domain::ports::ResumableUploadRepository;
use videotube_domain::resumable::ResumableUpload;
use videotube_domain::video::{Description, Title};
use videotube_domain::{Id, RepoError};

use super::{find_all, id, oid, to_bson_time, Store, Within, RESUMABLE_UPLOADS};

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UploadDoc {
    #[serde(rename = "_id")]
    id: ObjectId,
    owner: ObjectId,
    title: String,
    description: String,
    length: i64,
    offset: i64,
    path: String,
    spool: String,
    created_at: bson::DateTime,
    expires_at: bson::DateTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    video: Option<ObjectId>,
}

impl From<UploadDoc> for ResumableUpload {
    fn from(doc: UploadDoc) -> Self {
        ResumableUpload {
            id: id(doc.id),
            owner: id(doc.owner),
            title: Title::from_stored(doc.title),
            description: Description::from_stored(doc.description),
            length: doc.length.max(0) as u64,
            offset: doc.offset.max(0) as u64,
            path: PathBuf::from(doc.path),
            spool: doc.spool,
            created_at: doc.created_at.to_chrono(),
            expires_at: doc.expires_at.to_chrono(),
            video_id: doc.video.map(id),
        }
    }
}

pub struct MongoResumableUploadRepository {
    limit: Duration,
    uploads: Collection<UploadDoc>,
}

impl MongoResumableUploadRepository {
    pub fn new(store: &Store) -> Self {
        Self {
            limit: store.limit,
            uploads: store.collection(RESUMABLE_UPLOADS),
        }
    }
}

#[async_trait]
impl ResumableUploadRepository for MongoResumableUploadRepository {
    fn next_id(&self) -> Id {
        id(ObjectId::new())
    }

    #[tracing::instrument(name = "resumable_uploads.insert", skip_all)]
    async fn insert(&self, upload: &ResumableUpload) -> Result<(), RepoError> {
        let doc = UploadDoc {
            id: oid(upload.id),
            owner: oid(upload.owner),
            title: upload.title.as_str().to_owned(),
            description: upload.description.as_str().to_owned(),
            length: upload.length as i64,
            offset: upload.offset as i64,
            path: upload.path.display().to_string(),
            spool: upload.spool.clone(),
            created_at: to_bson_time(upload.created_at),
            expires_at: to_bson_time(upload.expires_at),
            video: upload.video_id.map(oid),
        };
        self.uploads
            .insert_one(doc)
            .within(self.limit)
            .await
            .map(drop)
    }

    #[tracing::instrument(name = "resumable_uploads.find", skip_all)]
    async fn find(&self, upload: Id) -> Result<Option<ResumableUpload>, RepoError> {
        let found = self
            .uploads
            .find_one(doc! { "_id": oid(upload) })
            .max_time(self.limit)
            .within(self.limit)
            .await?;
        Ok(found.map(ResumableUpload::from))
    }

    #[tracing::instrument(name = "resumable_uploads.advance", skip_all)]
    async fn advance(
        &self,
        upload: Id,
        from: u64,
        to: u64,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, RepoError> {
        let moved = self
            .uploads
            .update_one(
                doc! { "_id": oid(upload), "offset": from as i64, "video": null },
                doc! { "$set": { "offset": to as i64, "expiresAt": to_bson_time(expires_at) } },
            )
            .within(self.limit)
            .await?;
        Ok(moved.matched_count == 1)
    }

    #[tracing::instrument(name = "resumable_uploads.complete", skip_all)]
    async fn complete(
        &self,
        upload: Id,
        video: Id,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, RepoError> {
        let done = self
            .uploads
            .update_one(
                doc! { "_id": oid(upload), "video": null },
                doc! { "$set": { "video": oid(video), "expiresAt": to_bson_time(expires_at) } },
            )
            .within(self.limit)
            .await?;
        Ok(done.matched_count == 1)
    }

    #[tracing::instrument(name = "resumable_uploads.remove", skip_all)]
    async fn remove(&self, upload: Id) -> Result<bool, RepoError> {
        let removed = self
            .uploads
            .delete_one(doc! { "_id": oid(upload) })
            .within(self.limit)
            .await?;
        Ok(removed.deleted_count == 1)
    }

    #[tracing::instrument(name = "resumable_uploads.expired", skip_all)]
    async fn expired(
        &self,
        spool: &str,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ResumableUpload>, RepoError> {
        let found = find_all(
            self.uploads
                .find(doc! { "spool": spool, "expiresAt": { "$lte": to_bson_time(now) } })
                .sort(doc! { "expiresAt": 1 })
                .limit(i64::from(limit)),
            self.limit,
        )
        .await?;
        Ok(found.into_iter().map(ResumableUpload::from).collect())
    }
}
