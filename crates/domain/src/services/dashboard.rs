use std::sync::Arc;

use serde::Serialize;

use crate::error::Error;
use crate::like::LikeTarget;
use crate::page::{Cursor, Page, PageRequest};
use crate::ports::{LikeRepository, SubscriptionRepository, VideoRepository};
use crate::video::{Video, VideoSearch, VideoSort};
use crate::Id;

/// A creator's totals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelStats {
    pub total_videos: u64,
    pub total_views: u64,
    pub total_subscribers: u64,
    pub total_likes: u64,
}

/// The creator dashboard.
pub struct DashboardService {
    videos: Arc<dyn VideoRepository>,
    likes: Arc<dyn LikeRepository>,
    subscriptions: Arc<dyn SubscriptionRepository>,
}

impl DashboardService {
    pub fn new(
        videos: Arc<dyn VideoRepository>,
        likes: Arc<dyn LikeRepository>,
        subscriptions: Arc<dyn SubscriptionRepository>,
    ) -> Self {
        Self {
            videos,
            likes,
            subscriptions,
        }
    }

    /// Counts and sums only, never loading the channel's documents; zeros for a new channel.
    #[tracing::instrument(name = "DashboardService::stats", skip_all)]
    pub async fn stats(&self, owner: Id) -> Result<ChannelStats, Error> {
        let totals = self.videos.channel_totals(owner).await?;
        let subscribers = self.subscriptions.counts(owner).await?.subscribers;
        let likes = self.likes.channel_total(owner).await?;
        Ok(ChannelStats {
            total_videos: totals.videos,
            total_views: totals.views,
            total_subscribers: subscribers,
            total_likes: likes,
        })
    }

    /// The owner's videos in every state, newest first, each with its like count.
    #[tracing::instrument(name = "DashboardService::videos", skip_all)]
    pub async fn videos(
        &self,
        owner: Id,
        page: PageRequest,
        after: Option<Cursor>,
    ) -> Result<Page<(Video, u64)>, Error> {
        let search = VideoSearch {
            text: None,
            sort: VideoSort::CreatedAt,
            descending: true,
            owner: Some(owner),
            viewer: Some(owner),
            after,
        };
        let found = self.videos.search(&search, page).await?;
        let targets: Vec<LikeTarget> = found
            .items
            .iter()
            .map(|v| LikeTarget::Video(v.id))
            .collect();
        let counts = self.likes.counts(&targets).await?;
        Ok(found.map(|video| {
            let likes = counts
                .get(&LikeTarget::Video(video.id))
                .copied()
                .unwrap_or(0);
            (video, likes)
        }))
    }
}
