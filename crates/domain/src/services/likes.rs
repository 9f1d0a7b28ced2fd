use std::sync::Arc;

use super::{visible_in_order, visible_video, VideoWithOwner};
use crate::error::Error;
use crate::like::{LikeTarget, LikedVideo};
use crate::page::{Cursor, Page, PageRequest};
use crate::ports::{
    CommentRepository, LikeRepository, TweetRepository, UserRepository, VideoRepository,
};
use crate::Id;

/// Likes read per query when listing liked videos.
const LIKED_BATCH: u32 = 100;

/// Likes of videos, comments and tweets (`/likes`).
pub struct LikeService {
    likes: Arc<dyn LikeRepository>,
    videos: Arc<dyn VideoRepository>,
    comments: Arc<dyn CommentRepository>,
    tweets: Arc<dyn TweetRepository>,
    users: Arc<dyn UserRepository>,
}

impl LikeService {
    pub fn new(
        likes: Arc<dyn LikeRepository>,
        videos: Arc<dyn VideoRepository>,
        comments: Arc<dyn CommentRepository>,
        tweets: Arc<dyn TweetRepository>,
        users: Arc<dyn UserRepository>,
    ) -> Self {
        Self {
            likes,
            videos,
            comments,
            tweets,
            users,
        }
    }

    /// Likes or unlikes a video the caller can see; answers `(isLiked, likesCount)`.
    #[tracing::instrument(name = "LikeService::toggle_video", skip_all)]
    pub async fn toggle_video(&self, user: Id, id: Id) -> Result<(bool, u64), Error> {
        let video = visible_video(self.videos.as_ref(), Some(user), id)
            .await?
            .ok_or(Error::NotFound("Video not found"))?;
        self.toggle(user, LikeTarget::Video(id), video.owner).await
    }

    /// Likes or unlikes a comment on a video the caller can see: `(isLiked, likesCount)`.
    #[tracing::instrument(name = "LikeService::toggle_comment", skip_all)]
    pub async fn toggle_comment(&self, user: Id, id: Id) -> Result<(bool, u64), Error> {
        let comment = self
            .comments
            .find_by_id(id)
            .await?
            .ok_or(Error::NotFound("Comment not found"))?;
        if visible_video(self.videos.as_ref(), Some(user), comment.video)
            .await?
            .is_none()
        {
            return Err(Error::NotFound("Comment not found"));
        }
        self.toggle(user, LikeTarget::Comment(id), comment.owner)
            .await
    }

    #[tracing::instrument(name = "LikeService::toggle_tweet", skip_all)]
    pub async fn toggle_tweet(&self, user: Id, id: Id) -> Result<(bool, u64), Error> {
        let tweet = self
            .tweets
            .find_by_id(id)
            .await?
            .ok_or(Error::NotFound("Tweet not found"))?;
        self.toggle(user, LikeTarget::Tweet(id), tweet.owner).await
    }

    /// The videos the user likes, most recently liked first, without those that are gone or
    /// hidden since. Likes are read in batches, each batch's videos checked at once, until the
    /// page is full: at most as many likes as the page's depth allows (see `PageRequest`). The
    /// total is exact when that walk reached the last like; otherwise it is the count of likes
    /// walked less the hidden ones among them, plus the likes left (an upper bound). From a
    /// cursor the walk starts there, and the total is the count of every like (an upper bound).
    #[tracing::instrument(name = "LikeService::liked_videos", skip_all)]
    pub async fn liked_videos(
        &self,
        user: Id,
        page: PageRequest,
        from: Option<&Cursor>,
    ) -> Result<Page<VideoWithOwner>, Error> {
        let wanted = usize::try_from(page.skip() + u64::from(page.limit())).unwrap_or(usize::MAX);
        let (mut shown, mut walked, mut after) = (Vec::new(), 0u64, from.cloned());
        let reached_the_end = loop {
            let batch = self
                .likes
                .liked_videos(user, after.as_ref(), LIKED_BATCH)
                .await?;
            walked += batch.len() as u64;
            let Some(last) = batch.last() else {
                break true;
            };
            after = Some(last.position.clone());
            let last_batch = batch.len() < LIKED_BATCH as usize;
            let ids: Vec<Id> = batch.iter().map(|l| l.video).collect();
            let visible = self.videos.visible_among(Some(user), &ids).await?;
            shown.extend(batch.into_iter().filter(|l| visible.contains(&l.video)));
            if last_batch {
                break true;
            }
            if shown.len() >= wanted {
                break false;
            }
        };
        let total = if from.is_some() {
            self.likes.count_liked_videos(user).await?
        } else if reached_the_end {
            shown.len() as u64
        } else {
            let left = self
                .likes
                .count_liked_videos(user)
                .await?
                .saturating_sub(walked);
            shown.len() as u64 + left
        };
        let on_page: Vec<LikedVideo> = shown
            .into_iter()
            .skip(usize::try_from(page.skip()).unwrap_or(usize::MAX))
            .take(page.limit() as usize)
            .collect();
        let next = on_page
            .last()
            .filter(|_| on_page.len() == page.limit() as usize)
            .map(|l| l.position.clone());
        let ids: Vec<Id> = on_page.iter().map(|l| l.video).collect();
        Ok(Page {
            items: visible_in_order(self.videos.as_ref(), self.users.as_ref(), Some(user), &ids)
                .await?,
            total,
            request: page,
            next,
        })
    }

    /// Likes or unlikes a target; answers `(isLiked, likesCount)`. A toggle that loses a race to
    /// a parallel one still answers the state it meant to reach; the unique index keeps one
    /// like. The count is the others' likes plus the caller's own state, so it agrees with
    /// `isLiked` even while parallel toggles of the same caller come and go.
    async fn toggle(
        &self,
        user: Id,
        target: LikeTarget,
        target_owner: Id,
    ) -> Result<(bool, u64), Error> {
        let is_liked = if self.likes.is_liked(user, target).await? {
            self.likes.unlike(user, target).await?;
            false
        } else {
            self.likes
                .like(user, target, target_owner, chrono::Utc::now())
                .await?;
            true
        };
        let others = self.likes.count_others(target, user).await?;
        Ok((is_liked, others + u64::from(is_liked)))
    }
}
