//! Resumable uploads (tus): who may add to an upload, where it is, and the video it becomes.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::error::Error;
use crate::media::UploadedFile;
use crate::ports::ResumableUploadRepository;
use crate::resumable::ResumableUpload;
use crate::services::VideoService;
use crate::video::{Description, Title, Video};
use crate::Id;

/// Expired uploads are removed this many at a time.
const SWEEP_BATCH: u32 = 100;

/// Resumable uploads: their state and rules. Their bytes are the caller's (the HTTP layer writes
/// them to `ResumableUpload::path` and deletes the paths of the uploads this removes).
pub struct ResumableUploadService {
    uploads: Arc<dyn ResumableUploadRepository>,
    videos: Arc<VideoService>,
    /// How long an upload lives after its last piece (and a finished one after its last byte).
    expiry: Duration,
    /// This instance's spool (`spool_identity`).
    spool: String,
}

impl ResumableUploadService {
    pub fn new(
        uploads: Arc<dyn ResumableUploadRepository>,
        videos: Arc<VideoService>,
        expiry: Duration,
        spool: String,
    ) -> Self {
        Self {
            uploads,
            videos,
            expiry,
            spool,
        }
    }

    fn expires(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now + chrono::TimeDelta::from_std(self.expiry).unwrap_or(chrono::TimeDelta::MAX)
    }

    /// A new upload of `length` bytes that will publish `title`, its bytes to go in `dir`: not
    /// recorded until `begin` (the caller makes its file in between).
    pub fn draft(
        &self,
        owner: Id,
        title: Title,
        description: Description,
        length: u64,
        dir: &Path,
    ) -> ResumableUpload {
        let id = self.uploads.next_id();
        let now = Utc::now();
        ResumableUpload {
            id,
            owner,
            title,
            description,
            length,
            offset: 0,
            path: dir.join(format!("{id}.upload")),
            spool: self.spool.clone(),
            created_at: now,
            expires_at: self.expires(now),
            video_id: None,
        }
    }

    #[tracing::instrument(name = "ResumableUploadService::begin", skip_all)]
    pub async fn begin(&self, upload: &ResumableUpload) -> Result<(), Error> {
        Ok(self.uploads.insert(upload).await?)
    }

    /// The caller's upload: not found for anyone else, or once expired.
    #[tracing::instrument(name = "ResumableUploadService::find", skip_all)]
    pub async fn find(&self, caller: Id, id: Id) -> Result<ResumableUpload, Error> {
        self.uploads
            .find(id)
            .await?
            .filter(|upload| upload.owner == caller && !upload.is_expired(Utc::now()))
            .ok_or(Error::NotFound("Upload not found"))
    }

    /// Whether the upload's bytes are in this instance's spool.
    pub fn is_here(&self, upload: &ResumableUpload) -> bool {
        upload.spool == self.spool
    }

    /// Records that `upload` now holds `to` bytes; its expiry moves on.
    #[tracing::instrument(name = "ResumableUploadService::advance", skip_all)]
    pub async fn advance(
        &self,
        upload: &ResumableUpload,
        to: u64,
    ) -> Result<ResumableUpload, Error> {
        let expires_at = self.expires(Utc::now());
        if !self
            .uploads
            .advance(upload.id, upload.offset, to, expires_at)
            .await?
        {
            return Err(Error::Conflict {
                message:
                    "The upload moved on meanwhile; ask where it is (HEAD) and go on from there"
                        .into(),
                errors: Vec::new(),
            });
        }
        Ok(ResumableUpload {
            offset: to,
            expires_at,
            ..upload.clone()
        })
    }

    /// Publishes the complete upload's file (now `file`, which the video's job owns) as
    /// `POST /videos` does, and records the video on the upload.
    #[tracing::instrument(name = "ResumableUploadService::publish", skip_all)]
    pub async fn publish(
        &self,
        upload: &ResumableUpload,
        file: UploadedFile,
    ) -> Result<Video, Error> {
        let video = self
            .videos
            .publish(
                upload.owner,
                upload.title.clone(),
                upload.description.clone(),
                file,
                None,
            )
            .await?;
        let expires_at = self.expires(Utc::now());
        if let Err(err) = self.uploads.complete(upload.id, video.id, expires_at).await {
            // The video is there; only a client asking again would miss its id.
            tracing::warn!(upload = %upload.id, video = %video.id, error = ?err,
                "could not record the video of a finished upload");
        }
        Ok(video)
    }

    /// Ends the caller's upload at their request; answers it, for its bytes to be deleted.
    #[tracing::instrument(name = "ResumableUploadService::terminate", skip_all)]
    pub async fn terminate(&self, caller: Id, id: Id) -> Result<ResumableUpload, Error> {
        let upload = self.find(caller, id).await?;
        if !self.uploads.remove(id).await? {
            return Err(Error::NotFound("Upload not found"));
        }
        Ok(upload)
    }

    /// Removes this spool's expired uploads; answers them, for their bytes to be deleted.
    #[tracing::instrument(name = "ResumableUploadService::sweep_expired", skip_all)]
    pub async fn sweep_expired(&self) -> Result<Vec<ResumableUpload>, Error> {
        let mut removed = Vec::new();
        loop {
            let expired = self
                .uploads
                .expired(&self.spool, Utc::now(), SWEEP_BATCH)
                .await?;
            let full = expired.len() == SWEEP_BATCH as usize;
            for upload in expired {
                if self.uploads.remove(upload.id).await? {
                    removed.push(upload);
                }
            }
            if !full {
                return Ok(removed);
            }
        }
    }
}
