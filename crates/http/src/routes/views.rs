//! Answers shared by several route modules: a video, its owner.

use serde::Serialize;
use utoipa::ToSchema;
use videotube_domain::media::StoredMedia;
use videotube_domain::services::watching::WatchPage;
use videotube_domain::services::VideoWithOwner;
use videotube_domain::user::UserSummary;
use videotube_domain::video::{Video, VideoStatus};

use crate::origin::MediaUrl;

/// `{_id, fullName, username, avatar}`, as the original shows a video's owner.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OwnerView<'a> {
    #[serde(rename = "_id")]
    id: String,
    full_name: &'a str,
    username: &'a str,
    #[serde(serialize_with = "crate::origin::media_url")]
    avatar: &'a str,
    /// On the watch page only: the owner's subscribers.
    #[serde(skip_serializing_if = "Option::is_none")]
    subscribers_count: Option<u64>,
    /// On the watch page only: whether the caller subscribes to the owner.
    #[serde(skip_serializing_if = "Option::is_none")]
    is_subscribed: Option<bool>,
}

impl<'a> From<&'a UserSummary> for OwnerView<'a> {
    fn from(user: &'a UserSummary) -> Self {
        OwnerView {
            id: user.id.to_string(),
            full_name: user.full_name.as_str(),
            username: user.username.as_str(),
            avatar: &user.avatar_url,
            subscribers_count: None,
            is_subscribed: None,
        }
    }
}

/// The owner as an object where the route joined it, as an id elsewhere (as in the original).
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum Owner<'a> {
    Id(String),
    Summary(OwnerView<'a>),
}

pub fn video_with_owner(item: &VideoWithOwner) -> VideoView<'_> {
    let mut view = VideoView::from(&item.video);
    if let Some(owner) = &item.owner {
        view.owner = Owner::Summary(OwnerView::from(owner));
    }
    view
}

/// `GET /videos/:id`: the video as every route shows it, plus its likes and whether the caller
/// likes it; its owner also carries `subscribersCount` and `isSubscribed`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WatchView<'a> {
    #[serde(flatten)]
    video: VideoView<'a>,
    likes_count: u64,
    is_liked: bool,
}

impl<'a> From<&'a WatchPage> for WatchView<'a> {
    fn from(page: &'a WatchPage) -> Self {
        let mut video = video_with_owner(&page.video);
        if let Owner::Summary(owner) = &mut video.owner {
            owner.subscribers_count = Some(page.subscribers);
            owner.is_subscribed = Some(page.is_subscribed);
        }
        WatchView {
            video,
            likes_count: page.likes,
            is_liked: page.is_liked,
        }
    }
}

/// A video as the original shows it (`videoFile` and `thumbnail` as URLs, `""` until stored),
/// plus its processing `status` and, when that failed, why.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VideoView<'a> {
    #[serde(rename = "_id")]
    id: String,
    /// Of a video that is not public (only its owner sees it): a signed link that works for a
    /// while (`APP_MEDIA__PRIVATE_LINK_SECONDS`).
    #[schema(value_type = String)]
    video_file: MediaUrl<'a>,
    #[schema(value_type = String)]
    thumbnail: MediaUrl<'a>,
    /// The HLS master playlist (adaptive streaming: H.264/AAC renditions up to the source's
    /// size), once made, while the video is public: made by the server (local store, with
    /// ffmpeg) or by Cloudinary (its streaming profile), which may take minutes after the video
    /// is `ready`. Absent without either and for videos stored before.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    hls_url: Option<MediaUrl<'a>>,
    title: &'a str,
    description: &'a str,
    duration: f64,
    views: u64,
    is_published: bool,
    owner: Owner<'a>,
    status: VideoStatusName,
    /// While `processing`, how far it has got (0-100), once the worker can tell (it transcodes
    /// a video of known length). Only the owner sees a video in this state.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 100)]
    progress: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_reason: Option<&'a str>,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
}

/// Where a video is in its life.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum VideoStatusName {
    Processing,
    Ready,
    Failed,
}

impl From<VideoStatus> for VideoStatusName {
    fn from(status: VideoStatus) -> Self {
        match status {
            VideoStatus::Processing => VideoStatusName::Processing,
            VideoStatus::Ready => VideoStatusName::Ready,
            VideoStatus::Failed => VideoStatusName::Failed,
        }
    }
}

/// One of the video's files as answered (see `MediaUrl`).
fn media_url<'a>(video: &Video, file: Option<&'a StoredMedia>) -> MediaUrl<'a> {
    MediaUrl::of_video(file.map_or("", |m| m.url.as_str()), video)
}

impl<'a> From<&'a Video> for VideoView<'a> {
    fn from(video: &'a Video) -> Self {
        VideoView {
            id: video.id.to_string(),
            video_file: media_url(video, video.video_file.as_ref()),
            thumbnail: media_url(video, video.thumbnail.as_ref()),
            // Its renditions' playlists and segments are fetched by relative URLs that carry
            // no signature, so a stream is served only while its video is public.
            hls_url: video
                .stream
                .as_ref()
                .filter(|_| video.is_public())
                .map(|stream| media_url(video, Some(stream))),
            title: video.title.as_str(),
            description: video.description.as_str(),
            duration: video.duration_seconds,
            views: video.views,
            is_published: video.is_published,
            owner: Owner::Id(video.owner.to_string()),
            status: video.status.into(),
            progress: video
                .progress
                .filter(|_| video.status == VideoStatus::Processing),
            failure_reason: video.failure_reason.as_deref(),
            created_at: video.created_at,
            updated_at: video.updated_at,
        }
    }
}
