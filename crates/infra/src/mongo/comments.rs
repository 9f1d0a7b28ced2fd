use std::time::Duration;

use async_trait::async_trait;
use bson::doc;
use bson::oid::ObjectId;
use chrono::{DateTime, Utc};
use mongodb::options::ReturnDocument;
use mongodb::Collection;
use serde::{Deserialize, Serialize};
use videotube_domain::comment::{Comment, CommentContent};
use videotube_domain::page::{Cursor, Page, PageRequest};
use videotube_domain::ports::CommentRepository;
use videotube_domain::{Id, RepoError};

use super::{
    find_ids, from_cursor, id, newest_first, oid, page_of, time_cursor, to_bson_time, Store,
    Within, COMMENTS,
};

/// The original's schema: `content`, `video`, `owner`, timestamps.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CommentDoc {
    #[serde(rename = "_id")]
    id: ObjectId,
    video: ObjectId,
    owner: ObjectId,
    content: String,
    created_at: bson::DateTime,
    updated_at: bson::DateTime,
}

impl From<CommentDoc> for Comment {
    fn from(doc: CommentDoc) -> Self {
        Comment {
            id: id(doc.id),
            video: id(doc.video),
            owner: id(doc.owner),
            content: CommentContent::from_stored(doc.content),
            created_at: doc.created_at.to_chrono(),
            updated_at: doc.updated_at.to_chrono(),
        }
    }
}

pub struct MongoCommentRepository {
    limit: Duration,
    comments: Collection<CommentDoc>,
}

impl MongoCommentRepository {
    pub fn new(store: &Store) -> Self {
        Self {
            limit: store.limit,
            comments: store.collection(COMMENTS),
        }
    }
}

#[async_trait]
impl CommentRepository for MongoCommentRepository {
    #[tracing::instrument(name = "comments.insert", skip_all)]
    async fn insert(
        &self,
        video: Id,
        owner: Id,
        content: &CommentContent,
        at: DateTime<Utc>,
    ) -> Result<Comment, RepoError> {
        let doc = CommentDoc {
            id: ObjectId::new(),
            video: oid(video),
            owner: oid(owner),
            content: content.as_str().to_owned(),
            created_at: to_bson_time(at),
            updated_at: to_bson_time(at),
        };
        self.comments.insert_one(&doc).within(self.limit).await?;
        Ok(doc.into())
    }

    #[tracing::instrument(name = "comments.find_by_id", skip_all)]
    async fn find_by_id(&self, comment_id: Id) -> Result<Option<Comment>, RepoError> {
        let found = self
            .comments
            .find_one(doc! { "_id": oid(comment_id) })
            .max_time(self.limit)
            .within(self.limit)
            .await?;
        Ok(found.map(Comment::from))
    }

    #[tracing::instrument(name = "comments.by_video", skip_all)]
    async fn by_video(
        &self,
        video: Id,
        page: PageRequest,
        after: Option<&Cursor>,
    ) -> Result<Page<Comment>, RepoError> {
        let filter = doc! { "video": oid(video) };
        let from = from_cursor(&filter, "createdAt", "_id", after);
        page_of(
            self.limit,
            &self.comments,
            filter,
            from,
            newest_first(),
            page,
            |c: &CommentDoc| time_cursor(c.created_at, c.id),
        )
        .await
    }

    #[tracing::instrument(name = "comments.update_content", skip_all)]
    async fn update_content(
        &self,
        comment_id: Id,
        content: &CommentContent,
    ) -> Result<Option<Comment>, RepoError> {
        let set = doc! { "content": content.as_str(), "updatedAt": bson::DateTime::now() };
        self.comments
            .find_one_and_update(doc! { "_id": oid(comment_id) }, doc! { "$set": set })
            .max_time(self.limit)
            .return_document(ReturnDocument::After)
            .within(self.limit)
            .await
            .map(|found| found.map(Comment::from))
    }

    #[tracing::instrument(name = "comments.delete", skip_all)]
    async fn delete(&self, comment_id: Id) -> Result<bool, RepoError> {
        let result = self
            .comments
            .delete_one(doc! { "_id": oid(comment_id) })
            .within(self.limit)
            .await?;
        Ok(result.deleted_count == 1)
    }

    #[tracing::instrument(name = "comments.ids_of_video", skip_all)]
    async fn ids_of_video(&self, video: Id, limit: u32) -> Result<Vec<Id>, RepoError> {
        find_ids(
            self.limit,
            &self.comments,
            doc! { "video": oid(video) },
            Some(limit),
        )
        .await
    }

    #[tracing::instrument(name = "comments.delete_many", skip_all)]
    async fn delete_many(&self, ids: &[Id]) -> Result<(), RepoError> {
        let ids: Vec<ObjectId> = ids.iter().copied().map(oid).collect();
        self.comments
            .delete_many(doc! { "_id": { "$in": ids } })
            .within(self.limit)
            .await
            .map(drop)
    }
}
