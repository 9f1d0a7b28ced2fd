use std::collections::{HashMap, HashSet};

use crate::error::Error;
use crate::like::LikeTarget;
use crate::media::StoredMedia;
use crate::ports::{LikeRepository, MediaStore, UserRepository, VideoRepository};
use crate::user::UserSummary;
use crate::video::Video;
use crate::Id;

pub mod attachments;
pub mod channels;
pub mod comments;
pub mod dashboard;
#[cfg(test)]
mod fakes;
pub mod health;
pub mod likes;
pub mod media_jobs;
pub mod playlists;
pub mod resumable;
pub mod subscriptions;
pub mod tweets;
pub mod users;
pub mod videos;
pub mod visibility;
pub mod watching;

pub use attachments::AttachmentService;
pub use channels::{ChannelProfile, ChannelService};
pub use comments::{CommentService, CommentView};
pub use dashboard::{ChannelStats, DashboardService};
pub use health::HealthService;
pub use likes::LikeService;
pub use media_jobs::{JobPolicy, JobStep, MediaJobService};
pub use playlists::{PlaylistService, PlaylistSummary, PlaylistWithVideos};
pub use resumable::ResumableUploadService;
pub use subscriptions::SubscriptionService;
pub use tweets::{TweetService, TweetView};
pub use users::{AuthPolicy, Registration, UserPorts, UserService};
pub use videos::{VideoPorts, VideoService, VideoWithOwner};
pub use visibility::MediaVisibility;
pub use watching::WatchService;

/// Deletes an asset nothing references any more. A failure is logged, not returned: the request
/// that replaced or removed it succeeded, and an orphaned file costs storage, not correctness.
async fn discard(store: &dyn MediaStore, media: &StoredMedia) {
    if let Err(err) = store.delete(media).await {
        tracing::warn!(asset = %media.asset_id, error = ?err, "could not delete an unreferenced asset");
    }
}

/// How many likes each target has and which of them the viewer likes (two queries; one for an
/// anonymous viewer).
struct LikeStates {
    counts: HashMap<LikeTarget, u64>,
    liked: HashSet<LikeTarget>,
}

impl LikeStates {
    async fn load(
        likes: &dyn LikeRepository,
        viewer: Option<Id>,
        targets: &[LikeTarget],
    ) -> Result<Self, Error> {
        Ok(LikeStates {
            counts: likes.counts(targets).await?,
            liked: match viewer {
                Some(viewer) => likes.liked_among(viewer, targets).await?,
                None => HashSet::new(),
            },
        })
    }

    /// `(likesCount, isLiked)`
    fn of(&self, target: LikeTarget) -> (u64, bool) {
        (
            self.counts.get(&target).copied().unwrap_or(0),
            self.liked.contains(&target),
        )
    }
}

/// What lists show beside an item the caller owns and just changed: the caller's summary, the
/// item's like count and whether the caller likes it (three queries, sent together).
async fn liked_item(
    users: &dyn UserRepository,
    likes: &dyn LikeRepository,
    caller: Id,
    target: LikeTarget,
) -> Result<(Option<UserSummary>, u64, bool), Error> {
    let (mut owner, counts, is_liked) = futures_util::future::try_join3(
        users.summaries(&[caller]),
        likes.counts(&[target]),
        likes.is_liked(caller, target),
    )
    .await?;
    Ok((
        owner.pop(),
        counts.get(&target).copied().unwrap_or(0),
        is_liked,
    ))
}

/// The video, if it exists and the viewer may see it (hidden ones do not exist for others).
async fn visible_video(
    videos: &dyn VideoRepository,
    viewer: Option<Id>,
    id: Id,
) -> Result<Option<Video>, Error> {
    Ok(videos
        .find_by_id(id)
        .await?
        .filter(|video| video.visible_to(viewer)))
}

/// The videos with these ids that the viewer may see, in the order of `ids`, each with its
/// owner (two queries).
async fn visible_in_order(
    videos: &dyn VideoRepository,
    users: &dyn UserRepository,
    viewer: Option<Id>,
    ids: &[Id],
) -> Result<Vec<VideoWithOwner>, Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut found: HashMap<Id, Video> = videos
        .find_many(ids)
        .await?
        .into_iter()
        .filter(|v| v.visible_to(viewer))
        .map(|v| (v.id, v))
        .collect();
    let ordered: Vec<Video> = ids.iter().filter_map(|id| found.remove(id)).collect();
    with_owners(users, ordered).await
}

/// Each video with its owner's summary, in one query for all the owners.
async fn with_owners(
    users: &dyn UserRepository,
    videos: Vec<Video>,
) -> Result<Vec<VideoWithOwner>, Error> {
    let mut ids: Vec<Id> = videos.iter().map(|v| v.owner).collect();
    ids.sort();
    ids.dedup();
    let owners: HashMap<Id, _> = if ids.is_empty() {
        HashMap::new()
    } else {
        users
            .summaries(&ids)
            .await?
            .into_iter()
            .map(|s| (s.id, s))
            .collect()
    };
    Ok(videos
        .into_iter()
        .map(|video| VideoWithOwner {
            owner: owners.get(&video.owner).cloned(),
            video,
        })
        .collect())
}
