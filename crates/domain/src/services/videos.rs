use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use crate::error::{Error, FieldError};
use crate::media::{
    DirectUploadReport, MediaCategory, MediaFolder, StoredMedia, UploadGrant, UploadedFile,
};
use crate::ports::{DirectUploads, MediaJobRepository, MediaStore, VideoRepository};
use crate::video::{Description, MediaJob, Title, Video, VideoStatus};
use crate::Id;

/// How the background job worker behaves.
#[derive(Debug, Clone, Copy)]
pub struct JobPolicy {
    /// How long a claimed job is reserved for its worker; a crashed worker's job is taken over
    /// after this.
    pub lease: Duration,
    /// Attempts before a video is marked `failed`.
    pub max_attempts: u32,
    /// Wait before the second attempt; doubles each time.
    pub first_backoff: Duration,
}

/// What one turn of the job worker did.
#[derive(Debug)]
pub enum JobStep {
    /// No job was due.
    Idle,
    /// A job failed and was put back for a later attempt.
    Retrying,
    /// A job ended (ready or failed) and its spooled files may be deleted.
    Finished { spooled: Vec<PathBuf> },
}

/// A job whose video never appeared (the process died between the two writes of `publish`)
/// is dropped after this long.
const ORPHAN_AFTER: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

pub struct VideoService {
    videos: Arc<dyn VideoRepository>,
    jobs: Arc<dyn MediaJobRepository>,
    media: Arc<dyn MediaStore>,
    /// Present when the media store takes uploads from clients directly (Cloudinary).
    direct: Option<Arc<dyn DirectUploads>>,
    policy: JobPolicy,
}

impl VideoService {
    pub fn new(
        videos: Arc<dyn VideoRepository>,
        jobs: Arc<dyn MediaJobRepository>,
        media: Arc<dyn MediaStore>,
        direct: Option<Arc<dyn DirectUploads>>,
        policy: JobPolicy,
    ) -> Self {
        Self {
            videos,
            jobs,
            media,
            direct,
            policy,
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
            duration_seconds: video.duration_seconds.unwrap_or(0.0),
            video_file: Some(video.media),
            thumbnail: Some(thumbnail.media),
            views: 0,
            is_published: true,
            status: VideoStatus::Ready,
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
    pub async fn publish(
        &self,
        owner: Id,
        title: Title,
        description: Description,
        video: UploadedFile,
        thumbnail: UploadedFile,
    ) -> Result<Video, Error> {
        let now = Utc::now();
        let job = MediaJob {
            id: self.jobs.next_id(),
            video_id: self.videos.next_id(),
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
            duration_seconds: 0.0,
            views: 0,
            is_published: true,
            status: VideoStatus::Processing,
            failure_reason: None,
            created_at: now,
            updated_at: now,
        };
        if let Err(err) = self.videos.insert(&video).await {
            // Best effort: an orphaned job is dropped by the worker anyway.
            let _ = self.jobs.remove(job.id).await;
            return Err(err.into());
        }
        Ok(video)
    }

    pub async fn get(&self, viewer: Id, id: Id) -> Result<Video, Error> {
        match self.videos.find_by_id(id).await? {
            Some(video) if video.visible_to(viewer) => Ok(video),
            _ => Err(Error::NotFound("Video not found")),
        }
    }

    /// One turn of the worker: claim a due job, store its files, record the result.
    pub async fn process_next_job(&self) -> Result<JobStep, Error> {
        let now = Utc::now();
        let Some(job) = self.jobs.claim_next(now, self.policy.lease).await? else {
            return Ok(JobStep::Idle);
        };
        let spooled = vec![job.video.path.clone(), job.thumbnail.path.clone()];
        if self.videos.find_by_id(job.video_id).await?.is_none() {
            if now - job.created_at > ORPHAN_AFTER {
                tracing::warn!(job = %job.id, "dropping a job whose video does not exist");
                self.jobs.remove(job.id).await?;
                return Ok(JobStep::Finished { spooled });
            }
            // `publish` may still be writing the video.
            self.jobs
                .retry_later(
                    job.id,
                    job.attempts,
                    "video not written yet",
                    now + chrono::TimeDelta::seconds(2),
                )
                .await?;
            return Ok(JobStep::Retrying);
        }
        match self.store_files(&job).await {
            Ok((video_file, thumbnail, duration)) => {
                self.videos
                    .mark_ready(job.video_id, &video_file, &thumbnail, duration)
                    .await?;
                self.jobs.remove(job.id).await?;
                tracing::info!(video = %job.video_id, duration, "video ready");
                Ok(JobStep::Finished { spooled })
            }
            Err(err) => {
                let attempts = job.attempts + 1;
                tracing::warn!(video = %job.video_id, attempts, error = ?err, "storing the video failed");
                if attempts >= self.policy.max_attempts {
                    let reason = format!("Storing the video failed after {attempts} attempts; please upload it again");
                    self.videos.mark_failed(job.video_id, &reason).await?;
                    self.jobs.remove(job.id).await?;
                    return Ok(JobStep::Finished { spooled });
                }
                let backoff = self.policy.first_backoff * 2u32.saturating_pow(attempts - 1);
                let not_before =
                    now + chrono::TimeDelta::from_std(backoff).unwrap_or(chrono::TimeDelta::MAX);
                self.jobs
                    .retry_later(job.id, attempts, &err.to_string(), not_before)
                    .await?;
                Ok(JobStep::Retrying)
            }
        }
    }

    /// Stores both files under the job's id, so a retried or taken-over job replaces what an
    /// earlier attempt stored instead of adding a second copy.
    async fn store_files(&self, job: &MediaJob) -> Result<(StoredMedia, StoredMedia, f64), Error> {
        let name = job.id.to_string();
        let video = self
            .media
            .store(&job.video, MediaFolder::Videos, Some(&name))
            .await?;
        let thumbnail = self
            .media
            .store(&job.thumbnail, MediaFolder::Thumbnails, Some(&name))
            .await?;
        let duration = video.duration_seconds.unwrap_or_else(|| {
            tracing::warn!(video = %job.video_id, "the video's duration is unknown; recording 0");
            0.0
        });
        Ok((video.media, thumbnail.media, duration))
    }
}
