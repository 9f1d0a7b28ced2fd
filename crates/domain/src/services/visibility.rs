use std::sync::Arc;

use crate::error::Error;
use crate::media::StoredMedia;
use crate::ports::{MediaStore, VideoRepository};
use crate::video::Video;

/// Keeps a video's files as reachable as the video: the rule shared by the catalogue (which
/// publishes and hides videos) and the media jobs (which store their files).
#[derive(Clone)]
pub struct MediaVisibility {
    videos: Arc<dyn VideoRepository>,
    media: Arc<dyn MediaStore>,
}

impl MediaVisibility {
    pub fn new(videos: Arc<dyn VideoRepository>, media: Arc<dyn MediaStore>) -> Self {
        Self { videos, media }
    }

    /// Puts the video's files where its visibility says (`MediaStore::set_public`): reachable
    /// by anyone while the video is public, else only through links its owner is given. Run
    /// after every write that changes a video's visibility or files (publishing or hiding it,
    /// a new thumbnail, a job that stored them). Files are moved first and
    /// recorded after, on condition that the video did not change meanwhile; if it did, they
    /// are moved back and the video as it is now is aligned instead. (A crash between the two
    /// steps leaves a video whose recorded URLs point where its files were.)
    #[tracing::instrument(name = "MediaVisibility::align", skip_all)]
    pub async fn align(&self, mut video: Video) -> Result<Video, Error> {
        const TRIES: usize = 3;
        for _ in 0..TRIES {
            let public = video.is_public();
            let mut moved = [None, None];
            for (slot, file) in moved.iter_mut().zip([&video.video_file, &video.thumbnail]) {
                let Some(file) = file else { continue };
                match self.media.set_public(file, public).await {
                    Ok(now) => *slot = Some(now),
                    Err(err) => {
                        self.move_back(&video, &moved, public).await;
                        return Err(err.into());
                    }
                }
            }
            if moved[0] == video.video_file && moved[1] == video.thumbnail {
                return Ok(video);
            }
            if let Some(aligned) = self
                .videos
                .move_files(&video, moved[0].as_ref(), moved[1].as_ref())
                .await?
            {
                return Ok(aligned);
            }
            self.move_back(&video, &moved, public).await;
            video = self
                .videos
                .find_by_id(video.id)
                .await?
                .ok_or(Error::NotFound("Video not found"))?;
        }
        Err(Error::Conflict {
            message: "The video kept changing meanwhile; please try again".into(),
            errors: Vec::new(),
        })
    }

    /// Undoes the moves of `align` that were not recorded (best effort: logged if it fails).
    async fn move_back(&self, video: &Video, moved: &[Option<StoredMedia>; 2], public: bool) {
        let recorded = [&video.video_file, &video.thumbnail];
        for (now, was) in moved.iter().zip(recorded) {
            if let Some(now) = now.as_ref().filter(|now| Some(*now) != was.as_ref()) {
                if let Err(err) = self.media.set_public(now, !public).await {
                    tracing::warn!(video = %video.id, asset = %now.asset_id, error = ?err,
                        "could not move a file back; its video's recorded URL is stale");
                }
            }
        }
    }
}
