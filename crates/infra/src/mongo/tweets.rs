use std::time::Duration;

use async_trait::async_trait;
use bson::oid::ObjectId;
use bson::{doc, Document};
use chrono::{DateTime, Utc};
use mongodb::options::ReturnDocument;
use mongodb::Collection;
use serde::{Deserialize, Serialize};
use videotube_domain::page::{Cursor, Page, PageRequest};
use videotube_domain::ports::TweetRepository;
use videotube_domain::tweet::{Tweet, TweetContent};
use videotube_domain::{Id, RepoError};

use super::{
    from_cursor, id, newest_first, oid, page_of, time_cursor, to_bson_time, Store, Within, TWEETS,
};

/// The original's schema: `owner`, `content`, timestamps.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TweetDoc {
    #[serde(rename = "_id")]
    id: ObjectId,
    owner: ObjectId,
    content: String,
    created_at: bson::DateTime,
    updated_at: bson::DateTime,
}

impl From<TweetDoc> for Tweet {
    fn from(doc: TweetDoc) -> Self {
        Tweet {
            id: id(doc.id),
            owner: id(doc.owner),
            content: TweetContent::from_stored(doc.content),
            created_at: doc.created_at.to_chrono(),
            updated_at: doc.updated_at.to_chrono(),
        }
    }
}

pub struct MongoTweetRepository {
    limit: Duration,
    tweets: Collection<TweetDoc>,
}

impl MongoTweetRepository {
    pub fn new(store: &Store) -> Self {
        Self {
            limit: store.limit,
            tweets: store.collection(TWEETS),
        }
    }
}

#[async_trait]
impl TweetRepository for MongoTweetRepository {
    #[tracing::instrument(name = "tweets.insert", skip_all)]
    async fn insert(
        &self,
        owner: Id,
        content: &TweetContent,
        at: DateTime<Utc>,
    ) -> Result<Tweet, RepoError> {
        let doc = TweetDoc {
            id: ObjectId::new(),
            owner: oid(owner),
            content: content.as_str().to_owned(),
            created_at: to_bson_time(at),
            updated_at: to_bson_time(at),
        };
        self.tweets.insert_one(&doc).within(self.limit).await?;
        Ok(doc.into())
    }

    #[tracing::instrument(name = "tweets.find_by_id", skip_all)]
    async fn find_by_id(&self, tweet_id: Id) -> Result<Option<Tweet>, RepoError> {
        let found = self
            .tweets
            .find_one(doc! { "_id": oid(tweet_id) })
            .max_time(self.limit)
            .within(self.limit)
            .await?;
        Ok(found.map(Tweet::from))
    }

    #[tracing::instrument(name = "tweets.by_owner", skip_all)]
    async fn by_owner(
        &self,
        owner: Id,
        page: PageRequest,
        after: Option<&Cursor>,
    ) -> Result<Page<Tweet>, RepoError> {
        let filter: Document = doc! { "owner": oid(owner) };
        let from = from_cursor(&filter, "createdAt", "_id", after);
        page_of(
            self.limit,
            &self.tweets,
            filter,
            from,
            newest_first(),
            page,
            |t: &TweetDoc| time_cursor(t.created_at, t.id),
        )
        .await
    }

    #[tracing::instrument(name = "tweets.update_content", skip_all)]
    async fn update_content(
        &self,
        tweet_id: Id,
        content: &TweetContent,
    ) -> Result<Option<Tweet>, RepoError> {
        let set = doc! { "content": content.as_str(), "updatedAt": bson::DateTime::now() };
        self.tweets
            .find_one_and_update(doc! { "_id": oid(tweet_id) }, doc! { "$set": set })
            .max_time(self.limit)
            .return_document(ReturnDocument::After)
            .within(self.limit)
            .await
            .map(|found| found.map(Tweet::from))
    }

    #[tracing::instrument(name = "tweets.delete", skip_all)]
    async fn delete(&self, tweet_id: Id) -> Result<bool, RepoError> {
        let result = self
            .tweets
            .delete_one(doc! { "_id": oid(tweet_id) })
            .within(self.limit)
            .await?;
        Ok(result.deleted_count == 1)
    }
}
