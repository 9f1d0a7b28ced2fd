use std::collections::HashMap;
use std::sync::Arc;

use chrono::Utc;

use crate::error::Error;
use crate::page::{Cursor, Page, PageRequest};
use crate::ports::{SubscriptionRepository, UserRepository};
use crate::user::UserSummary;
use crate::Id;

/// Subscriptions to channels (`/subscriptions`).
pub struct SubscriptionService {
    users: Arc<dyn UserRepository>,
    subscriptions: Arc<dyn SubscriptionRepository>,
}

impl SubscriptionService {
    pub fn new(
        users: Arc<dyn UserRepository>,
        subscriptions: Arc<dyn SubscriptionRepository>,
    ) -> Self {
        Self {
            users,
            subscriptions,
        }
    }

    /// Subscribes or unsubscribes; answers whether the caller is subscribed afterwards. The
    /// unique (subscriber, channel) index keeps one subscription at most, however many toggles
    /// race.
    #[tracing::instrument(name = "SubscriptionService::toggle_subscription", skip_all)]
    pub async fn toggle(&self, subscriber: Id, channel: Id) -> Result<bool, Error> {
        if subscriber == channel {
            return Err(Error::invalid(vec![crate::FieldError::new(
                "channelId",
                "you cannot subscribe to your own channel",
            )]));
        }
        if self.users.find_by_id(channel).await?.is_none() {
            return Err(Error::NotFound("Channel not found"));
        }
        if self
            .subscriptions
            .is_subscribed(subscriber, channel)
            .await?
        {
            self.subscriptions.unsubscribe(subscriber, channel).await?;
            Ok(false)
        } else {
            self.subscriptions
                .subscribe(subscriber, channel, Utc::now())
                .await?;
            Ok(true)
        }
    }

    #[tracing::instrument(name = "SubscriptionService::subscribers", skip_all)]
    pub async fn subscribers(
        &self,
        channel: Id,
        page: PageRequest,
        after: Option<&Cursor>,
    ) -> Result<Page<UserSummary>, Error> {
        let ids = self.subscriptions.subscribers(channel, page, after).await?;
        self.exists_if_empty(&ids, channel, "Channel not found")
            .await?;
        self.summaries(ids).await
    }

    #[tracing::instrument(name = "SubscriptionService::subscriptions", skip_all)]
    pub async fn subscriptions(
        &self,
        subscriber: Id,
        page: PageRequest,
        after: Option<&Cursor>,
    ) -> Result<Page<UserSummary>, Error> {
        let ids = self
            .subscriptions
            .subscriptions(subscriber, page, after)
            .await?;
        self.exists_if_empty(&ids, subscriber, "User not found")
            .await?;
        self.summaries(ids).await
    }

    /// An empty page of an absent user's list is a 404: one more query, on empty pages only.
    async fn exists_if_empty(
        &self,
        ids: &Page<Id>,
        user: Id,
        absent: &'static str,
    ) -> Result<(), Error> {
        if ids.items.is_empty() && self.users.find_by_id(user).await?.is_none() {
            return Err(Error::NotFound(absent));
        }
        Ok(())
    }

    /// The users of a page of ids, in the page's order, in one query.
    async fn summaries(&self, ids: Page<Id>) -> Result<Page<UserSummary>, Error> {
        let mut found: HashMap<Id, UserSummary> = self
            .users
            .summaries(&ids.items)
            .await?
            .into_iter()
            .map(|s| (s.id, s))
            .collect();
        Ok(Page {
            items: ids.items.iter().filter_map(|id| found.remove(id)).collect(),
            total: ids.total,
            request: ids.request,
            next: ids.next,
        })
    }
}
