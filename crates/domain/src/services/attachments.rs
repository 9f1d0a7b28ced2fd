//! Documents attached to videos: added and removed by the video's owner, listed to whoever may
//! see the video. Their files follow the video: deleting it deletes them.

use std::sync::Arc;

use chrono::Utc;

use super::{discard, visible_video, MediaVisibility};
use crate::attachment::{Attachment, AttachmentTitle, MAX_ATTACHMENTS_PER_VIDEO};
use crate::error::Error;
use crate::media::{MediaFolder, UploadedFile};
use crate::ownership::owned_by;
use crate::ports::{AttachmentRepository, MediaStore, VideoRepository};
use crate::video::Video;
use crate::Id;

pub struct AttachmentService {
    videos: Arc<dyn VideoRepository>,
    attachments: Arc<dyn AttachmentRepository>,
    media: Arc<dyn MediaStore>,
    visibility: MediaVisibility,
}

fn full() -> Error {
    Error::Conflict {
        message: format!(
            "A video has at most {MAX_ATTACHMENTS_PER_VIDEO} attachments; delete one first"
        ),
        errors: Vec::new(),
    }
}

impl AttachmentService {
    pub fn new(
        videos: Arc<dyn VideoRepository>,
        attachments: Arc<dyn AttachmentRepository>,
        media: Arc<dyn MediaStore>,
    ) -> Self {
        Self {
            visibility: MediaVisibility::new(videos.clone(), attachments.clone(), media.clone()),
            videos,
            attachments,
            media,
        }
    }

    /// Whether the caller may attach one more document to the video: asked before the file is
    /// received, so that a stranger's or a surplus upload is refused before it is read.
    #[tracing::instrument(name = "AttachmentService::may_attach", skip_all)]
    pub async fn may_attach(&self, caller: Id, video_id: Id) -> Result<(), Error> {
        self.owned(caller, video_id).await?;
        let count = self.attachments.of_video(video_id).await?.len();
        if count >= MAX_ATTACHMENTS_PER_VIDEO as usize {
            return Err(full());
        }
        Ok(())
    }

    /// Stores the file and attaches it; the count is checked again as it is recorded, so
    /// concurrent uploads cannot pass the limit (a refused one's file is deleted).
    #[tracing::instrument(name = "AttachmentService::attach", skip_all)]
    pub async fn attach(
        &self,
        caller: Id,
        video_id: Id,
        title: AttachmentTitle,
        file: &UploadedFile,
    ) -> Result<(Video, Attachment), Error> {
        let video = self.owned(caller, video_id).await?;
        let stored = self
            .media
            .store(file, MediaFolder::Attachments, None)
            .await?;
        let attachment = Attachment {
            id: self.attachments.next_id(),
            video_id,
            title,
            file: stored.media,
            size: file.size,
            created_at: Utc::now(),
        };
        let recorded = self
            .attachments
            .insert_within(&attachment, MAX_ATTACHMENTS_PER_VIDEO)
            .await;
        if !matches!(recorded, Ok(true)) {
            discard(self.media.as_ref(), &attachment.file).await;
        }
        match recorded {
            Ok(true) => Ok(self.placed(video, attachment).await?),
            Err(err) => Err(err.into()),
            // Full, or the video was deleted meanwhile.
            Ok(false) => {
                self.owned(caller, video_id).await?;
                Err(full())
            }
        }
    }

    /// The video's attachments, oldest first, for whoever may see the video; with the video,
    /// whose visibility their links follow.
    #[tracing::instrument(name = "AttachmentService::list", skip_all)]
    pub async fn list(
        &self,
        viewer: Option<Id>,
        video_id: Id,
    ) -> Result<(Video, Vec<Attachment>), Error> {
        let video = visible_video(self.videos.as_ref(), viewer, video_id)
            .await?
            .ok_or(Error::NotFound("Video not found"))?;
        Ok((video, self.attachments.of_video(video_id).await?))
    }

    /// Removes an attachment of the caller's video, and its file.
    #[tracing::instrument(name = "AttachmentService::detach", skip_all)]
    pub async fn detach(&self, caller: Id, video_id: Id, attachment_id: Id) -> Result<(), Error> {
        self.owned(caller, video_id).await?;
        let not_found = || Error::NotFound("Attachment not found");
        self.attachments
            .find(attachment_id)
            .await?
            .filter(|attachment| attachment.video_id == video_id)
            .ok_or_else(not_found)?;
        let removed = self
            .attachments
            .delete(attachment_id)
            .await?
            .ok_or_else(not_found)?;
        discard(self.media.as_ref(), &removed.file).await;
        Ok(())
    }

    /// A new attachment is stored public, as every file is; on a video that is not public
    /// (read again now that the attachment is recorded, so a video hidden meanwhile counts) it
    /// moves where the video's files are. Failing that it stays where it is until the video's
    /// next change aligns it, which does not undo the attachment.
    async fn placed(
        &self,
        video: Video,
        attachment: Attachment,
    ) -> Result<(Video, Attachment), Error> {
        let video = self.videos.find_by_id(video.id).await?.unwrap_or(video);
        if video.is_public() {
            return Ok((video, attachment));
        }
        let video = match self.visibility.align(video.clone()).await {
            Ok(aligned) => aligned,
            Err(err) => {
                tracing::warn!(video = %video.id, error = ?err,
                    "could not move a new attachment where its hidden video's files are");
                video
            }
        };
        let attachment = self
            .attachments
            .find(attachment.id)
            .await?
            .unwrap_or(attachment);
        Ok((video, attachment))
    }

    async fn owned(&self, caller: Id, video_id: Id) -> Result<Video, Error> {
        owned_by(self.videos.find_by_id(video_id).await?, caller)
    }
}
