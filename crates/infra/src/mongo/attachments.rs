use std::collections::HashSet;
use std::time::Duration;

use async_trait::async_trait;
use bson::doc;
use bson::oid::ObjectId;
use mongodb::Collection;
use serde::{Deserialize, Serialize};
use videotube_domain::attachment::{Attachment, AttachmentTitle};
use videotube_domain::media::StoredMedia;
use videotube_domain::ports::AttachmentRepository;
use videotube_domain::{Id, RepoError};

use super::{find_all, id, insert_unique, oid, to_bson_time, Store, Within, ATTACHMENTS};

/// An attachment holds one of its video's numbered slots (`0..max`, unique per video): the
/// unique index is what keeps concurrent adds within the limit, on every store and without a
/// counter that a crash could leave wrong.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AttachmentDoc {
    #[serde(rename = "_id")]
    id: ObjectId,
    video: ObjectId,
    slot: i32,
    title: String,
    url: String,
    asset_id: String,
    size: i64,
    created_at: bson::DateTime,
}

impl From<AttachmentDoc> for Attachment {
    fn from(doc: AttachmentDoc) -> Self {
        Attachment {
            id: id(doc.id),
            video_id: id(doc.video),
            title: AttachmentTitle::from_stored(doc.title),
            file: StoredMedia {
                url: doc.url,
                asset_id: doc.asset_id,
            },
            size: doc.size.max(0) as u64,
            created_at: doc.created_at.to_chrono(),
        }
    }
}

pub struct MongoAttachmentRepository {
    limit: Duration,
    attachments: Collection<AttachmentDoc>,
}

impl MongoAttachmentRepository {
    pub fn new(store: &Store) -> Self {
        Self {
            limit: store.limit,
            attachments: store.collection(ATTACHMENTS),
        }
    }

    async fn docs_of(&self, video: Id) -> Result<Vec<AttachmentDoc>, RepoError> {
        find_all(
            self.attachments
                .find(doc! { "video": oid(video) })
                .sort(doc! { "createdAt": 1, "_id": 1 }),
            self.limit,
        )
        .await
    }
}

#[async_trait]
impl AttachmentRepository for MongoAttachmentRepository {
    fn next_id(&self) -> Id {
        id(ObjectId::new())
    }

    #[tracing::instrument(name = "attachments.insert_within", skip_all)]
    async fn insert_within(&self, attachment: &Attachment, max: u32) -> Result<bool, RepoError> {
        // Each lost race means another add took a slot: after `max` of them the video is full.
        for _ in 0..=max {
            let taken: HashSet<i32> = self
                .docs_of(attachment.video_id)
                .await?
                .iter()
                .map(|doc| doc.slot)
                .collect();
            let Some(slot) = (0..max as i32).find(|slot| !taken.contains(slot)) else {
                return Ok(false);
            };
            let doc = AttachmentDoc {
                id: oid(attachment.id),
                video: oid(attachment.video_id),
                slot,
                title: attachment.title.as_str().to_owned(),
                url: attachment.file.url.clone(),
                asset_id: attachment.file.asset_id.clone(),
                size: attachment.size as i64,
                created_at: to_bson_time(attachment.created_at),
            };
            if insert_unique(self.limit, &self.attachments, doc).await? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    #[tracing::instrument(name = "attachments.of_video", skip_all)]
    async fn of_video(&self, video: Id) -> Result<Vec<Attachment>, RepoError> {
        let docs = self.docs_of(video).await?;
        Ok(docs.into_iter().map(Attachment::from).collect())
    }

    #[tracing::instrument(name = "attachments.find", skip_all)]
    async fn find(&self, attachment: Id) -> Result<Option<Attachment>, RepoError> {
        let found = self
            .attachments
            .find_one(doc! { "_id": oid(attachment) })
            .max_time(self.limit)
            .within(self.limit)
            .await?;
        Ok(found.map(Attachment::from))
    }

    #[tracing::instrument(name = "attachments.delete", skip_all)]
    async fn delete(&self, attachment: Id) -> Result<Option<Attachment>, RepoError> {
        let removed = self
            .attachments
            .find_one_and_delete(doc! { "_id": oid(attachment) })
            .within(self.limit)
            .await?;
        Ok(removed.map(Attachment::from))
    }

    #[tracing::instrument(name = "attachments.move_file", skip_all)]
    async fn move_file(
        &self,
        attachment: Id,
        from: &StoredMedia,
        to: &StoredMedia,
    ) -> Result<bool, RepoError> {
        let moved = self
            .attachments
            .update_one(
                doc! { "_id": oid(attachment), "assetId": &from.asset_id, "url": &from.url },
                doc! { "$set": { "assetId": &to.asset_id, "url": &to.url } },
            )
            .within(self.limit)
            .await?;
        Ok(moved.matched_count == 1)
    }

    #[tracing::instrument(name = "attachments.holding_file", skip_all)]
    async fn holding_file(&self, asset_id: &str) -> Result<Option<Attachment>, RepoError> {
        let found = self
            .attachments
            .find_one(doc! { "assetId": asset_id })
            .max_time(self.limit)
            .within(self.limit)
            .await?;
        Ok(found.map(Attachment::from))
    }

    #[tracing::instrument(name = "attachments.remove_video", skip_all)]
    async fn remove_video(&self, video: Id) -> Result<Vec<Attachment>, RepoError> {
        let attached = self.of_video(video).await?;
        self.attachments
            .delete_many(doc! { "video": oid(video) })
            .within(self.limit)
            .await?;
        Ok(attached)
    }
}
