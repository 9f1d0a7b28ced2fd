use crate::error::Error;
use crate::like::LikeTarget;
use crate::media::StoredMedia;
use crate::ports::{LikeRepository, MediaStore};
use crate::Id;

pub mod channels;
pub mod dashboard;
pub mod tweets;
pub mod users;
pub mod videos;

pub use channels::{ChannelProfile, ChannelService};
pub use dashboard::{ChannelStats, DashboardService};
pub use tweets::{TweetService, TweetView};
pub use users::{AuthPolicy, Registration, UserService};
pub use videos::{JobPolicy, JobStep, VideoPorts, VideoService, VideoWithOwner};

/// Deletes an asset nothing references any more. A failure is logged, not returned: the request
/// that replaced or removed it succeeded, and an orphaned file costs storage, not correctness.
async fn discard(store: &dyn MediaStore, media: &StoredMedia) {
    if let Err(err) = store.delete(media).await {
        tracing::warn!(asset = %media.asset_id, error = ?err, "could not delete an unreferenced asset");
    }
}

/// Likes or unlikes a target; answers `(isLiked, likesCount)`. A toggle that loses a race to a
/// parallel one still answers the state it meant to reach; the unique index keeps one like.
async fn toggle_like(
    likes: &dyn LikeRepository,
    user: Id,
    target: LikeTarget,
    target_owner: Id,
) -> Result<(bool, u64), Error> {
    let is_liked = if likes.is_liked(user, target).await? {
        likes.unlike(user, target).await?;
        false
    } else {
        likes
            .like(user, target, target_owner, chrono::Utc::now())
            .await?;
        true
    };
    let count = likes
        .counts(&[target])
        .await?
        .get(&target)
        .copied()
        .unwrap_or(0);
    Ok((is_liked, count))
}
