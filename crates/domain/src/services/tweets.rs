use std::sync::Arc;

use chrono::Utc;

use super::{liked_item, LikeStates};
use crate::error::Error;
use crate::like::LikeTarget;
use crate::ownership::owned_by;
use crate::page::{Cursor, Page, PageRequest};
use crate::ports::{LikeRepository, TweetRepository, UserRepository};
use crate::tweet::{Tweet, TweetContent};
use crate::user::UserSummary;
use crate::Id;

/// A tweet as lists show it, and as writes answer it.
#[derive(Debug, Clone)]
pub struct TweetView {
    pub tweet: Tweet,
    pub owner: Option<UserSummary>,
    pub likes: u64,
    pub is_liked: bool,
}

pub struct TweetService {
    tweets: Arc<dyn TweetRepository>,
    likes: Arc<dyn LikeRepository>,
    users: Arc<dyn UserRepository>,
}

impl TweetService {
    pub fn new(
        tweets: Arc<dyn TweetRepository>,
        likes: Arc<dyn LikeRepository>,
        users: Arc<dyn UserRepository>,
    ) -> Self {
        Self {
            tweets,
            likes,
            users,
        }
    }

    /// Posts the caller's tweet, answered as lists show it (no likes yet).
    #[tracing::instrument(name = "TweetService::create", skip_all)]
    pub async fn create(&self, owner: Id, content: TweetContent) -> Result<TweetView, Error> {
        let (tweet, mut summary) = futures_util::future::try_join(
            self.tweets.insert(owner, &content, Utc::now()),
            self.users.summaries(&[owner]),
        )
        .await?;
        Ok(TweetView {
            tweet,
            owner: summary.pop(),
            likes: 0,
            is_liked: false,
        })
    }

    /// A user's tweets, newest first, with their owner, like counts and whether the viewer likes
    /// each: five queries (page, count, owner, counts, the viewer's likes) whatever the page size.
    #[tracing::instrument(name = "TweetService::by_user", skip_all)]
    pub async fn by_user(
        &self,
        viewer: Option<Id>,
        user: Id,
        page: PageRequest,
        after: Option<&Cursor>,
    ) -> Result<Page<TweetView>, Error> {
        let found = self.tweets.by_owner(user, page, after).await?;
        let targets: Vec<LikeTarget> = found
            .items
            .iter()
            .map(|t| LikeTarget::Tweet(t.id))
            .collect();
        let likes = LikeStates::load(self.likes.as_ref(), viewer, &targets).await?;
        let Some(owner) = self.users.summaries(&[user]).await?.pop() else {
            return Err(Error::NotFound("User not found"));
        };
        let owner = Some(owner);
        Ok(found.map(|tweet| {
            let (likes, is_liked) = likes.of(LikeTarget::Tweet(tweet.id));
            TweetView {
                owner: owner.clone(),
                likes,
                is_liked,
                tweet,
            }
        }))
    }

    #[tracing::instrument(name = "TweetService::update", skip_all)]
    pub async fn update(
        &self,
        caller: Id,
        id: Id,
        content: TweetContent,
    ) -> Result<TweetView, Error> {
        self.owned(caller, id).await?;
        let tweet = self
            .tweets
            .update_content(id, &content)
            .await?
            .ok_or(Error::NotFound("Tweet not found"))?;
        let (owner, likes, is_liked) = liked_item(
            self.users.as_ref(),
            self.likes.as_ref(),
            caller,
            LikeTarget::Tweet(id),
        )
        .await?;
        Ok(TweetView {
            tweet,
            owner,
            likes,
            is_liked,
        })
    }

    /// Deletes the tweet, then its likes (invisible once the tweet is gone).
    #[tracing::instrument(name = "TweetService::delete", skip_all)]
    pub async fn delete(&self, caller: Id, id: Id) -> Result<(), Error> {
        self.owned(caller, id).await?;
        if !self.tweets.delete(id).await? {
            return Err(Error::NotFound("Tweet not found"));
        }
        Ok(self.likes.remove_targets(&[LikeTarget::Tweet(id)]).await?)
    }

    async fn owned(&self, caller: Id, id: Id) -> Result<Tweet, Error> {
        owned_by(self.tweets.find_by_id(id).await?, caller)
    }
}
