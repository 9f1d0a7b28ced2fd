use crate::media::StoredMedia;
use crate::ports::MediaStore;

pub mod channels;
pub mod dashboard;
pub mod users;
pub mod videos;

pub use channels::{ChannelProfile, ChannelService};
pub use dashboard::{ChannelStats, DashboardService};
pub use users::{AuthPolicy, Registration, UserService};
pub use videos::{JobPolicy, JobStep, VideoPorts, VideoService, VideoWithOwner};

/// Deletes an asset nothing references any more. A failure is logged, not returned: the request
/// that replaced or removed it succeeded, and an orphaned file costs storage, not correctness.
async fn discard(store: &dyn MediaStore, media: &StoredMedia) {
    if let Err(err) = store.delete(media).await {
        tracing::warn!(asset = %media.asset_id, error = ?err, "could not delete an unreferenced asset");
    }
}
