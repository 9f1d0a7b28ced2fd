use std::sync::Arc;

use chrono::Utc;

use super::{discard, visible_video, with_owners, MediaVisibility};
use crate::error::{Error, FieldError};
use crate::like::LikeTarget;
use crate::media::{
    plausible_duration, DirectUploadReport, MediaCategory, MediaFolder, UploadGrant, UploadedFile,
};
use crate::ownership::owned_by;
use crate::page::{Page, PageRequest};
use crate::ports::{
    AttachmentRepository, CommentRepository, DirectUploads, JobWakeup, LikeRepository,
    MediaJobRepository, MediaStore, PlaylistRepository, UserRepository, VideoRepository,
    WatchHistoryRepository,
};
use crate::user::UserSummary;
use crate::video::{Description, MediaJob, Title, Video, VideoChanges, VideoSearch, VideoStatus};
use crate::Id;

/// A video with its owner's summary, as lists and the watch page show it.
#[derive(Debug, Clone)]
pub struct VideoWithOwner {
    pub video: Video,
    /// `None` only if the owner's account is gone.
    pub owner: Option<UserSummary>,
}

/// Comments of a deleted video are removed this many at a time.
const COMMENT_BATCH: u32 = 500;

/// What the video service works with.
pub struct VideoPorts {
    pub videos: Arc<dyn VideoRepository>,
    pub jobs: Arc<dyn MediaJobRepository>,
    pub history: Arc<dyn WatchHistoryRepository>,
    pub likes: Arc<dyn LikeRepository>,
    pub comments: Arc<dyn CommentRepository>,
    pub playlists: Arc<dyn PlaylistRepository>,
    pub users: Arc<dyn UserRepository>,
    pub attachments: Arc<dyn AttachmentRepository>,
    pub media: Arc<dyn MediaStore>,
    /// Present when the media store takes uploads from clients directly (Cloudinary).
    pub direct: Option<Arc<dyn DirectUploads>>,
    pub wakeup: Arc<dyn JobWakeup>,
}

/// The catalogue (`/videos`): publishing, listing, editing, hiding and deleting videos.
pub struct VideoService {
    videos: Arc<dyn VideoRepository>,
    jobs: Arc<dyn MediaJobRepository>,
    history: Arc<dyn WatchHistoryRepository>,
    likes: Arc<dyn LikeRepository>,
    comments: Arc<dyn CommentRepository>,
    playlists: Arc<dyn PlaylistRepository>,
    users: Arc<dyn UserRepository>,
    attachments: Arc<dyn AttachmentRepository>,
    media: Arc<dyn MediaStore>,
    visibility: MediaVisibility,
    direct: Option<Arc<dyn DirectUploads>>,
    wakeup: Arc<dyn JobWakeup>,
}

impl VideoService {
    pub fn new(ports: VideoPorts) -> Self {
        let VideoPorts {
            videos,
            jobs,
            history,
            likes,
            comments,
            playlists,
            users,
            attachments,
            media,
            direct,
            wakeup,
        } = ports;
        Self {
            visibility: MediaVisibility::new(videos.clone(), attachments.clone(), media.clone()),
            videos,
            jobs,
            history,
            likes,
            comments,
            playlists,
            users,
            attachments,
            media,
            direct,
            wakeup,
        }
    }

    fn direct(&self) -> Result<&dyn DirectUploads, Error> {
        self.direct.as_deref().ok_or_else(|| Error::Conflict {
            message: "Direct uploads need Cloudinary; this server stores media itself".into(),
            errors: Vec::new(),
        })
    }

    /// Signed parameters for uploading one file straight to the media store, into the caller's
    /// own folder.
    pub fn grant_upload(&self, owner: Id, kind: MediaCategory) -> Result<UploadGrant, Error> {
        Ok(self.direct()?.grant(owner, kind))
    }

    /// Creates a video from files the client uploaded straight to the media store, after
    /// checking that the store really signed them and that they are the caller's. Nothing is
    /// left to process: the video is `ready` at once.
    #[tracing::instrument(name = "VideoService::publish_uploaded", skip_all)]
    pub async fn publish_uploaded(
        &self,
        owner: Id,
        title: Title,
        description: Description,
        video: &DirectUploadReport,
        thumbnail: &DirectUploadReport,
    ) -> Result<Video, Error> {
        let direct = self.direct()?;
        let video = direct.verify(owner, MediaCategory::Video, video);
        let thumbnail = direct.verify(owner, MediaCategory::Image, thumbnail);
        let (video, thumbnail) = match (video, thumbnail) {
            (Ok(video), Ok(thumbnail)) => (video, thumbnail),
            (video, thumbnail) => {
                let errors = [("videoFile", video.err()), ("thumbnail", thumbnail.err())]
                    .into_iter()
                    .filter_map(|(field, err)| err.map(|e| FieldError::new(field, e.to_string())))
                    .collect();
                return Err(Error::invalid(errors));
            }
        };
        let now = Utc::now();
        let video = Video {
            id: self.videos.next_id(),
            owner,
            title,
            description,
            duration_seconds: known_duration(video.duration_seconds, "direct upload"),
            video_file: Some(video.media),
            thumbnail: Some(thumbnail.media),
            stream: None,
            views: 0,
            is_published: true,
            status: VideoStatus::Ready,
            progress: None,
            failure_reason: None,
            created_at: now,
            updated_at: now,
        };
        self.videos.insert(&video).await?;
        Ok(video)
    }

    /// Creates the video in the `processing` state with a job to store its files. The job is
    /// written first: if the process dies in between, the worker finds a job without a video
    /// and drops it, whereas a video without a job would stay `processing` for ever.
    #[tracing::instrument(name = "VideoService::publish", skip_all)]
    pub async fn publish(
        &self,
        owner: Id,
        title: Title,
        description: Description,
        video: UploadedFile,
        thumbnail: Option<UploadedFile>,
    ) -> Result<Video, Error> {
        let now = Utc::now();
        let job = MediaJob {
            id: self.jobs.next_id(),
            video_id: self.videos.next_id(),
            name: self.media.fresh_name(),
            video,
            thumbnail,
            attempts: 0,
            created_at: now,
        };
        self.jobs.insert(&job).await?;
        let video = Video {
            id: job.video_id,
            owner,
            title,
            description,
            video_file: None,
            thumbnail: None,
            stream: None,
            duration_seconds: 0.0,
            views: 0,
            is_published: true,
            status: VideoStatus::Processing,
            progress: None,
            failure_reason: None,
            created_at: now,
            updated_at: now,
        };
        if let Err(err) = self.videos.insert(&video).await {
            // Best effort: an orphaned job is dropped by the worker anyway.
            let _ = self.jobs.remove(job.id).await;
            return Err(err.into());
        }
        self.wakeup.job_queued();
        Ok(video)
    }

    #[tracing::instrument(name = "VideoService::get", skip_all)]
    pub async fn get(&self, viewer: Option<Id>, id: Id) -> Result<Video, Error> {
        visible_video(self.videos.as_ref(), viewer, id)
            .await?
            .ok_or(Error::NotFound("Video not found"))
    }

    /// A page of the catalogue, each video with its owner (three queries: page, count, owners).
    #[tracing::instrument(name = "VideoService::list", skip_all)]
    pub async fn list(
        &self,
        search: &VideoSearch,
        page: PageRequest,
    ) -> Result<Page<VideoWithOwner>, Error> {
        let found = self.videos.search(search, page).await?;
        let items = with_owners(self.users.as_ref(), found.items).await?;
        Ok(Page {
            items,
            total: found.total,
            request: found.request,
            next: found.next,
        })
    }

    /// Whether anyone may fetch a stored file: avatars and covers, and the files of public
    /// videos. Files of other videos (hidden, failed) and files no video holds yet (a job still
    /// storing them) are for their owner only, who gets signed links to them. `holder`, the video
    /// the link names, is looked up by id (which every store serves from its primary index); a
    /// link that names none is answered by looking the file up.
    #[tracing::instrument(name = "VideoService::file_is_public", skip_all)]
    pub async fn file_is_public(
        &self,
        folder: MediaFolder,
        asset_id: &str,
        holder: Option<Id>,
    ) -> Result<bool, Error> {
        if matches!(folder, MediaFolder::Avatars | MediaFolder::CoverImages) {
            return Ok(true);
        }
        // A package's files are answered for by the package (`streams/<name>`).
        let asset_id = match folder {
            MediaFolder::Streams => match asset_id.splitn(3, '/').collect::<Vec<_>>()[..] {
                [root, name, _] => &asset_id[..root.len() + 1 + name.len()],
                _ => return Ok(false),
            },
            _ => asset_id,
        };
        if folder == MediaFolder::Attachments {
            // An attachment is as public as its video.
            let Some(attachment) = self.attachments.holding_file(asset_id).await? else {
                return Ok(false);
            };
            if holder.is_some_and(|holder| holder != attachment.video_id) {
                return Ok(false);
            }
            let video = self.videos.find_by_id(attachment.video_id).await?;
            return Ok(video.is_some_and(|video| video.is_public()));
        }
        let video = match holder {
            Some(id) => self
                .videos
                .find_by_id(id)
                .await?
                .filter(|video| video.holds(folder, asset_id)),
            None => self.videos.holding_file(folder, asset_id).await?,
        };
        Ok(video.is_some_and(|video| video.is_public()))
    }

    /// Changes title or description and, given a new thumbnail, replaces the old one (whose
    /// file is then deleted).
    #[tracing::instrument(name = "VideoService::update", skip_all)]
    pub async fn update(
        &self,
        caller: Id,
        id: Id,
        changes: VideoChanges,
        thumbnail: Option<&UploadedFile>,
    ) -> Result<Video, Error> {
        if changes.title.is_none() && changes.description.is_none() && thumbnail.is_none() {
            return Err(Error::invalid(vec![FieldError::new(
                Title::FIELD,
                "title, description or thumbnail is required",
            )]));
        }
        let video = self.owned(caller, id).await?;
        let stored = match thumbnail {
            Some(file) => Some(
                self.media
                    .store(file, MediaFolder::Thumbnails, None)
                    .await?
                    .media,
            ),
            None => None,
        };
        let updated = self
            .videos
            .update_details(id, &changes, stored.as_ref())
            .await;
        let updated = match updated {
            Ok(Some(video)) => video,
            other => {
                if let Some(stored) = &stored {
                    discard(self.media.as_ref(), stored).await;
                }
                return Err(other
                    .err()
                    .map_or(Error::NotFound("Video not found"), Error::from));
            }
        };
        if let (Some(_), Some(old)) = (&stored, &video.thumbnail) {
            discard(self.media.as_ref(), old).await;
        }
        if stored.is_some() {
            return self.visibility.align(updated).await;
        }
        Ok(updated)
    }

    #[tracing::instrument(name = "VideoService::toggle_publish", skip_all)]
    pub async fn toggle_publish(&self, caller: Id, id: Id) -> Result<Video, Error> {
        let video = self.owned(caller, id).await?;
        let toggled = self
            .videos
            .set_published(id, !video.is_published)
            .await?
            .ok_or(Error::NotFound("Video not found"))?;
        self.visibility.align(toggled).await
    }

    /// Deletes the video, then what hangs off it, then its files: once the first step is done
    /// nothing shows the video, so a crash half way leaves only invisible leftovers.
    #[tracing::instrument(name = "VideoService::delete", skip_all)]
    pub async fn delete(&self, caller: Id, id: Id) -> Result<(), Error> {
        let video = self.owned(caller, id).await?;
        if !self.videos.delete(id).await? {
            return Err(Error::NotFound("Video not found"));
        }
        self.history.remove_video(id).await?;
        self.playlists.remove_video_everywhere(id).await?;
        self.likes.remove_targets(&[LikeTarget::Video(id)]).await?;
        // A batch of comments at a time, each batch's likes before its comments: the other order
        // could strand likes for ever.
        loop {
            let batch = self.comments.ids_of_video(id, COMMENT_BATCH).await?;
            if batch.is_empty() {
                break;
            }
            let targets: Vec<LikeTarget> = batch.iter().copied().map(LikeTarget::Comment).collect();
            self.likes.remove_targets(&targets).await?;
            self.comments.delete_many(&batch).await?;
        }
        let attached = self.attachments.remove_video(id).await?;
        for media in [&video.video_file, &video.thumbnail, &video.stream]
            .into_iter()
            .flatten()
            .chain(attached.iter().map(|attachment| &attachment.file))
        {
            discard(self.media.as_ref(), media).await;
        }
        Ok(())
    }

    /// The video, if the caller owns it: 404 when there is none, 403 when it is someone else's.
    async fn owned(&self, caller: Id, id: Id) -> Result<Video, Error> {
        owned_by(self.videos.find_by_id(id).await?, caller)
    }
}

/// The stored length of a video: what the store read when it is plausible, else 0 (and a
/// warning naming what was read).
pub(super) fn known_duration(read: Option<f64>, source: &str) -> f64 {
    plausible_duration(read).unwrap_or_else(|| {
        tracing::warn!(
            ?read,
            source,
            "the video's duration is unknown or implausible; recording 0"
        );
        0.0
    })
}
