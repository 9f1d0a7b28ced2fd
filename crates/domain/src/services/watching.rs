use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use super::{visible_in_order, visible_video, VideoWithOwner};
use crate::error::Error;
use crate::like::LikeTarget;
use crate::page::{Cursor, Page, PageRequest};
use crate::ports::{
    LikeRepository, SubscriptionRepository, UserRepository, VideoRepository, WatchHistoryRepository,
};
use crate::video::{Video, VideoStatus};
use crate::Id;

/// Loads of one video by one viewer within this window count as one view.
const VIEW_WINDOW: Duration = Duration::from_secs(30 * 60);

/// Watching videos: the watch page (views) and the viewer's history.
pub struct WatchService {
    videos: Arc<dyn VideoRepository>,
    history: Arc<dyn WatchHistoryRepository>,
    users: Arc<dyn UserRepository>,
    likes: Arc<dyn LikeRepository>,
    subscriptions: Arc<dyn SubscriptionRepository>,
}

/// The watch page: the video and its owner, with what a player page shows beside them.
pub struct WatchPage {
    pub video: VideoWithOwner,
    pub likes: u64,
    pub is_liked: bool,
    /// The owner's subscribers, and whether the viewer is one.
    pub subscribers: u64,
    pub is_subscribed: bool,
}

impl WatchService {
    pub fn new(
        videos: Arc<dyn VideoRepository>,
        history: Arc<dyn WatchHistoryRepository>,
        users: Arc<dyn UserRepository>,
        likes: Arc<dyn LikeRepository>,
        subscriptions: Arc<dyn SubscriptionRepository>,
    ) -> Self {
        Self {
            videos,
            history,
            users,
            likes,
            subscriptions,
        }
    }

    /// The watch page: the video with its owner, its likes and the owner's subscribers, and
    /// whether the viewer likes it and subscribes (`false` for an anonymous viewer). A ready video
    /// watched by a signed-in viewer counts a view (once per viewer within 30 minutes) and moves
    /// to the top of their history; an anonymous load counts none, as there is no one to tell
    /// a reload from a new viewer by.
    #[tracing::instrument(name = "WatchService::watch", skip_all)]
    pub async fn watch(&self, viewer: Option<Id>, id: Id) -> Result<WatchPage, Error> {
        let mut video = visible_video(self.videos.as_ref(), viewer, id)
            .await?
            .ok_or(Error::NotFound("Video not found"))?;
        if let Some(viewer) = viewer.filter(|_| video.status == VideoStatus::Ready) {
            if self
                .history
                .record_watch(viewer, id, Utc::now(), VIEW_WINDOW)
                .await?
            {
                self.videos.add_view(id).await?;
                video.views += 1;
            }
        }
        self.page(viewer, video).await
    }

    /// The watch page of a video the viewer may see, as `watch` answers it but counting no
    /// view: what writes to a video answer. The owner, the counts and the viewer's state are at
    /// most four queries, sent together.
    #[tracing::instrument(name = "WatchService::page", skip_all)]
    pub async fn page(&self, viewer: Option<Id>, video: Video) -> Result<WatchPage, Error> {
        let target = LikeTarget::Video(video.id);
        let (mut owner, likes, is_liked, (subscribers, is_subscribed)) =
            futures_util::future::try_join4(
                self.users.summaries(&[video.owner]),
                self.likes.counts(&[target]),
                async {
                    match viewer {
                        Some(viewer) => self.likes.is_liked(viewer, target).await,
                        None => Ok(false),
                    }
                },
                futures_util::future::try_join(self.subscriptions.counts(video.owner), async {
                    match viewer {
                        Some(viewer) => self.subscriptions.is_subscribed(viewer, video.owner).await,
                        None => Ok(false),
                    }
                }),
            )
            .await?;
        Ok(WatchPage {
            likes: likes.get(&target).copied().unwrap_or(0),
            is_liked,
            subscribers: subscribers.subscribers,
            is_subscribed,
            video: VideoWithOwner {
                owner: owner.pop(),
                video,
            },
        })
    }

    /// The viewer's history, newest first, without videos that are gone or hidden since (the
    /// total counts every entry).
    #[tracing::instrument(name = "WatchService::history", skip_all)]
    pub async fn history(
        &self,
        user: Id,
        page: PageRequest,
        after: Option<&Cursor>,
    ) -> Result<Page<VideoWithOwner>, Error> {
        let ids = self.history.page(user, page, after).await?;
        let items = visible_in_order(
            self.videos.as_ref(),
            self.users.as_ref(),
            Some(user),
            &ids.items,
        )
        .await?;
        Ok(Page {
            items,
            total: ids.total,
            request: ids.request,
            next: ids.next,
        })
    }

    #[tracing::instrument(name = "WatchService::forget", skip_all)]
    pub async fn forget(&self, user: Id, video: Id) -> Result<(), Error> {
        if self.history.forget(user, video).await? {
            Ok(())
        } else {
            Err(Error::NotFound("Video not in the watch history"))
        }
    }

    #[tracing::instrument(name = "WatchService::clear_history", skip_all)]
    pub async fn clear_history(&self, user: Id) -> Result<(), Error> {
        Ok(self.history.clear(user).await?)
    }

    /// Deletes view records that can no longer keep a view from counting: run periodically.
    #[tracing::instrument(name = "WatchService::sweep_view_records", skip_all)]
    pub async fn sweep_view_records(&self) -> Result<(), Error> {
        Ok(self.history.sweep(Utc::now(), VIEW_WINDOW).await?)
    }
}
