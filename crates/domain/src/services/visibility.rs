use std::sync::Arc;

use crate::error::Error;
use crate::media::StoredMedia;
use crate::ports::{AttachmentRepository, MediaStore, VideoRepository};
use crate::video::Video;

/// Keeps a video's files as reachable as the video: the rule shared by the catalogue (which
/// publishes and hides videos) and the media jobs (which store their files).
#[derive(Clone)]
pub struct MediaVisibility {
    videos: Arc<dyn VideoRepository>,
    attachments: Arc<dyn AttachmentRepository>,
    media: Arc<dyn MediaStore>,
}

impl MediaVisibility {
    pub fn new(
        videos: Arc<dyn VideoRepository>,
        attachments: Arc<dyn AttachmentRepository>,
        media: Arc<dyn MediaStore>,
    ) -> Self {
        Self {
            videos,
            attachments,
            media,
        }
    }

    /// Puts the video's files where its visibility says (`MediaStore::set_public`): reachable
    /// by anyone while the video is public, else only through links its owner is given. Run
    /// after every write that changes a video's visibility or files (publishing or hiding it,
    /// a new thumbnail, a job that stored them). Files are moved first and
    /// recorded after, on condition that the video did not change meanwhile; if it did, they
    /// are moved back and the video as it is now is aligned instead. (A crash between the two
    /// steps leaves a video whose recorded URLs point where its files were.)
    /// Its attachments' files follow once its own are recorded.
    #[tracing::instrument(name = "MediaVisibility::align", skip_all)]
    pub async fn align(&self, video: Video) -> Result<Video, Error> {
        let video = self.align_own_files(video).await?;
        self.align_attachments(&video).await?;
        Ok(video)
    }

    async fn align_own_files(&self, mut video: Video) -> Result<Video, Error> {
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

    /// Moves each attachment's file where the video's visibility says, one at a time: each is
    /// recorded on condition that it did not change meanwhile, else moved back. A video whose
    /// visibility changes while this runs is aligned again by the write that changed it.
    async fn align_attachments(&self, video: &Video) -> Result<(), Error> {
        let public = video.is_public();
        for attachment in self.attachments.of_video(video.id).await? {
            let now = self.media.set_public(&attachment.file, public).await?;
            if now == attachment.file
                || self
                    .attachments
                    .move_file(attachment.id, &attachment.file, &now)
                    .await?
            {
                continue;
            }
            if let Err(err) = self.media.set_public(&now, !public).await {
                tracing::warn!(attachment = %attachment.id, asset = %now.asset_id, error = ?err,
                    "could not move an attachment's file back; its recorded URL is stale");
            }
        }
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::fakes::{ready_video, FakeAttachments, FakeStore, FakeVideos};

    fn visibility(videos: &Arc<FakeVideos>, store: &Arc<FakeStore>) -> MediaVisibility {
        MediaVisibility::new(
            videos.clone(),
            Arc::new(FakeAttachments::default()),
            store.clone(),
        )
    }

    #[tokio::test]
    async fn a_hidden_videos_files_go_private_and_come_back_when_it_is_public_again() {
        // Stored public (as a job stores them), the video hidden meanwhile: both files move.
        let video = Video {
            is_published: false,
            ..ready_video(true)
        };
        let videos = Arc::new(FakeVideos::with(video.clone()));
        let store = Arc::new(FakeStore::default());
        let aligned = visibility(&videos, &store)
            .align(videos.get(video.id))
            .await
            .unwrap();
        assert_eq!(
            aligned.video_file,
            Some(FakeStore::media("videos/a", false))
        );
        assert_eq!(
            aligned.thumbnail,
            Some(FakeStore::media("thumbnails/a", false))
        );
        assert_eq!(videos.get(video.id), aligned, "and recorded");

        let published = videos.set_published(video.id, true).await.unwrap().unwrap();
        let aligned = visibility(&videos, &store).align(published).await.unwrap();
        assert_eq!(aligned.video_file, Some(FakeStore::media("videos/a", true)));
        assert_eq!(store.moves.lock().unwrap().len(), 4);

        let again = visibility(&videos, &store)
            .align(aligned.clone())
            .await
            .unwrap();
        assert_eq!(again, aligned);
        assert_eq!(store.moves.lock().unwrap().len(), 4, "nothing to move");
    }

    fn attachment_of(video: &Video, n: u8, public: bool) -> crate::attachment::Attachment {
        crate::attachment::Attachment {
            id: crate::Id::from_bytes([n; 12]),
            video_id: video.id,
            title: crate::attachment::AttachmentTitle::parse("Notes").unwrap(),
            file: FakeStore::media(&format!("attachments/{n}"), public),
            size: 10,
            created_at: chrono::Utc::now(),
        }
    }

    #[tokio::test]
    async fn attachments_follow_their_video() {
        let video = ready_video(true);
        let videos = Arc::new(FakeVideos::with(video.clone()));
        let store = Arc::new(FakeStore::default());
        let attachments = Arc::new(FakeAttachments::default());
        *attachments.attachments.lock().unwrap() = vec![
            attachment_of(&video, 7, true),
            attachment_of(&video, 8, true),
        ];
        let visibility = MediaVisibility::new(videos.clone(), attachments.clone(), store.clone());
        let files = || -> Vec<StoredMedia> {
            let all = attachments.attachments.lock().unwrap();
            all.iter().map(|a| a.file.clone()).collect()
        };

        let hidden = videos
            .set_published(video.id, false)
            .await
            .unwrap()
            .unwrap();
        visibility.align(hidden).await.unwrap();
        let private = [
            FakeStore::media("attachments/7", false),
            FakeStore::media("attachments/8", false),
        ];
        assert_eq!(files(), private);
        let shown = videos.set_published(video.id, true).await.unwrap().unwrap();
        visibility.align(shown).await.unwrap();
        assert_eq!(files()[0], FakeStore::media("attachments/7", true));
        assert_eq!(
            store.moves.lock().unwrap().len(),
            8,
            "2 files and 2 attachments, twice"
        );
    }

    #[tokio::test]
    async fn an_attachment_removed_while_its_file_moves_has_it_moved_back() {
        // Hidden with its own files already private: only the attachment moves.
        let video = ready_video(false);
        let videos = Arc::new(FakeVideos::with(video.clone()));
        let store = Arc::new(FakeStore::default());
        let attachments = Arc::new(FakeAttachments::default());
        *attachments.attachments.lock().unwrap() = vec![attachment_of(&video, 7, true)];
        let racing = attachments.clone();
        *store.after_next_move.lock().unwrap() = Some(Box::new(move || {
            racing.attachments.lock().unwrap().clear();
        }));
        MediaVisibility::new(videos.clone(), attachments.clone(), store.clone())
            .align(video)
            .await
            .unwrap();
        assert_eq!(
            store.moves.lock().unwrap().clone(),
            [
                ("attachments/7".to_owned(), false),
                ("attachments/7".to_owned(), true)
            ]
        );
        assert!(attachments.attachments.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn files_moved_for_a_video_that_changed_meanwhile_go_back_and_the_new_state_wins() {
        let video = ready_video(true);
        let videos = Arc::new(FakeVideos::with(video.clone()));
        let store = Arc::new(FakeStore::default());
        // Hidden by one request; published again by another while its files move.
        let hidden = videos
            .set_published(video.id, false)
            .await
            .unwrap()
            .unwrap();
        let other = videos.clone();
        *store.after_next_move.lock().unwrap() = Some(Box::new(move || {
            other.update(video.id, |v| v.is_published = true);
        }));
        let aligned = visibility(&videos, &store).align(hidden).await.unwrap();
        assert!(aligned.is_published);
        assert_eq!(aligned.video_file, Some(FakeStore::media("videos/a", true)));
        assert_eq!(
            aligned.thumbnail,
            Some(FakeStore::media("thumbnails/a", true))
        );
        assert_eq!(videos.get(video.id), aligned);
        let moves = store.moves.lock().unwrap().clone();
        assert_eq!(
            moves,
            [
                ("videos/a".to_owned(), false),
                ("thumbnails/a".to_owned(), false),
                ("videos/a".to_owned(), true),
                ("thumbnails/a".to_owned(), true),
            ],
            "moved, then moved back"
        );
    }

    #[tokio::test]
    async fn a_refused_move_undoes_the_other_and_records_nothing() {
        let video = ready_video(true);
        let videos = Arc::new(FakeVideos::with(video.clone()));
        let store = Arc::new(FakeStore {
            refuse: Some("thumbnails/a".into()),
            ..FakeStore::default()
        });
        let hidden = videos
            .set_published(video.id, false)
            .await
            .unwrap()
            .unwrap();
        let err = visibility(&videos, &store).align(hidden.clone()).await;
        assert!(matches!(err, Err(Error::Internal(_))), "{err:?}");
        assert_eq!(videos.get(video.id), hidden, "nothing recorded");
        assert_eq!(
            store.moves.lock().unwrap().clone(),
            [
                ("videos/a".to_owned(), false),
                ("videos/a".to_owned(), true)
            ]
        );
    }
}
