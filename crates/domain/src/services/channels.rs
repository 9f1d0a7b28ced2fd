use std::sync::Arc;

use crate::error::Error;
use crate::ports::{SubscriptionCounts, SubscriptionRepository, UserRepository};
use crate::user::User;
use crate::values::{LoginId, Username};
use crate::Id;

/// A channel page: the user, their counts, and whether the viewer follows them.
#[derive(Debug, Clone)]
pub struct ChannelProfile {
    pub user: User,
    pub counts: SubscriptionCounts,
    pub is_subscribed: bool,
}

/// Channel pages (`/users/c/:username`).
pub struct ChannelService {
    users: Arc<dyn UserRepository>,
    subscriptions: Arc<dyn SubscriptionRepository>,
}

impl ChannelService {
    pub fn new(
        users: Arc<dyn UserRepository>,
        subscriptions: Arc<dyn SubscriptionRepository>,
    ) -> Self {
        Self {
            users,
            subscriptions,
        }
    }

    /// Three queries: the user, both counts in one aggregation, and the viewer's subscription
    /// (none for an anonymous viewer, who subscribes to no one).
    #[tracing::instrument(name = "ChannelService::profile", skip_all)]
    pub async fn profile(
        &self,
        viewer: Option<Id>,
        username: Username,
    ) -> Result<ChannelProfile, Error> {
        let user = self
            .users
            .find_by_login(&LoginId::Username(username))
            .await?
            .ok_or(Error::NotFound("Channel not found"))?;
        let counts = self.subscriptions.counts(user.id).await?;
        let is_subscribed = match viewer.filter(|viewer| *viewer != user.id) {
            Some(viewer) => self.subscriptions.is_subscribed(viewer, user.id).await?,
            None => false,
        };
        Ok(ChannelProfile {
            user,
            counts,
            is_subscribed,
        })
    }
}
