use std::time::Duration;

use async_trait::async_trait;
use bson::oid::ObjectId;
use bson::{doc, Document};
use chrono::{DateTime, Utc};
use mongodb::Collection;
use serde::{Deserialize, Serialize};
use videotube_domain::page::{Cursor, Page, PageRequest};
use videotube_domain::ports::{SubscriptionCounts, SubscriptionRepository};
use videotube_domain::{Id, RepoError};

use super::{
    from_cursor, group_number, groups, id, insert_unique, newest_first, oid, page_of, time_cursor,
    to_bson_time, Store, Within, SUBSCRIPTIONS,
};

/// The original's schema: `subscriber` follows `channel` (both user ids).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SubscriptionDoc {
    #[serde(rename = "_id")]
    id: ObjectId,
    subscriber: ObjectId,
    channel: ObjectId,
    created_at: bson::DateTime,
}

impl SubscriptionDoc {
    pub(super) fn new(subscriber: Id, channel: Id, at: DateTime<Utc>) -> Self {
        SubscriptionDoc {
            id: ObjectId::new(),
            subscriber: oid(subscriber),
            channel: oid(channel),
            created_at: to_bson_time(at),
        }
    }
}

pub struct MongoSubscriptionRepository {
    limit: Duration,
    subscriptions: Collection<SubscriptionDoc>,
}

impl MongoSubscriptionRepository {
    pub fn new(store: &Store) -> Self {
        Self {
            limit: store.limit,
            subscriptions: store.collection(SUBSCRIPTIONS),
        }
    }

    /// A page of one side of the subscriptions matching `filter`: the page and the total are
    /// two queries run at once.
    async fn page(
        &self,
        filter: Document,
        pick: fn(SubscriptionDoc) -> ObjectId,
        page: PageRequest,
        after: Option<&Cursor>,
    ) -> Result<Page<Id>, RepoError> {
        let from = from_cursor(&filter, "createdAt", "_id", after);
        let found: Page<SubscriptionDoc> = page_of(
            self.limit,
            &self.subscriptions,
            filter,
            from,
            newest_first(),
            page,
            |s: &SubscriptionDoc| time_cursor(s.created_at, s.id),
        )
        .await?;
        Ok(found.map(|s| id(pick(s))))
    }
}

#[async_trait]
impl SubscriptionRepository for MongoSubscriptionRepository {
    #[tracing::instrument(name = "subscriptions.subscribe", skip_all)]
    async fn subscribe(
        &self,
        subscriber: Id,
        channel: Id,
        at: DateTime<Utc>,
    ) -> Result<bool, RepoError> {
        let doc = SubscriptionDoc::new(subscriber, channel, at);
        insert_unique(self.limit, &self.subscriptions, doc).await
    }

    #[tracing::instrument(name = "subscriptions.unsubscribe", skip_all)]
    async fn unsubscribe(&self, subscriber: Id, channel: Id) -> Result<bool, RepoError> {
        let result = self
            .subscriptions
            .delete_one(doc! { "subscriber": oid(subscriber), "channel": oid(channel) })
            .within(self.limit)
            .await?;
        Ok(result.deleted_count == 1)
    }

    #[tracing::instrument(name = "subscriptions.is_subscribed", skip_all)]
    async fn is_subscribed(&self, subscriber: Id, channel: Id) -> Result<bool, RepoError> {
        let found = self
            .subscriptions
            .find_one(doc! { "subscriber": oid(subscriber), "channel": oid(channel) })
            .max_time(self.limit)
            .within(self.limit)
            .await?;
        Ok(found.is_some())
    }

    /// One aggregation: the user's subscriptions on either side, grouped by channel. The group
    /// of the user's own channel counts their subscribers; every other group is a channel they
    /// follow (no one subscribes to themself).
    #[tracing::instrument(name = "subscriptions.counts", skip_all)]
    async fn counts(&self, user: Id) -> Result<SubscriptionCounts, RepoError> {
        let user = oid(user);
        let pipeline = [
            doc! { "$match": { "$or": [ { "channel": user }, { "subscriber": user } ] } },
            doc! { "$group": { "_id": "$channel", "n": { "$sum": 1 } } },
        ];
        let groups = groups(&self.subscriptions, pipeline, self.limit)
            .within(self.limit)
            .await?;
        let mut counts = SubscriptionCounts::default();
        for group in groups {
            let n = group_number(&group, "n");
            if group.get_object_id("_id") == Ok(user) {
                counts.subscribers += n;
            } else {
                counts.subscribed_to += n;
            }
        }
        Ok(counts)
    }

    #[tracing::instrument(name = "subscriptions.subscribers", skip_all)]
    async fn subscribers(
        &self,
        channel: Id,
        page: PageRequest,
        after: Option<&Cursor>,
    ) -> Result<Page<Id>, RepoError> {
        self.page(
            doc! { "channel": oid(channel) },
            |s| s.subscriber,
            page,
            after,
        )
        .await
    }

    #[tracing::instrument(name = "subscriptions.subscriptions", skip_all)]
    async fn subscriptions(
        &self,
        subscriber: Id,
        page: PageRequest,
        after: Option<&Cursor>,
    ) -> Result<Page<Id>, RepoError> {
        self.page(
            doc! { "subscriber": oid(subscriber) },
            |s| s.channel,
            page,
            after,
        )
        .await
    }
}
