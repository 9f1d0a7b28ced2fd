//! In-memory fakes of the ports, for fast tests of the services' rules. The repositories are
//! tested against a real database in the infra crate; these only keep state the simplest way.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use async_trait::async_trait;

use crate::attachment::Attachment;
use crate::error::RepoError;
use crate::media::{MediaFolder, Stored, StoredMedia, UploadedFile};
use crate::page::{Page, PageRequest};
use crate::ports::{
    AttachmentRepository, ChannelTotals, MediaStore, MediaStoreError, VideoRepository,
};
use crate::video::{ProcessedFiles, Video, VideoChanges, VideoSearch, VideoStatus};
use crate::Id;

/// Videos in a map. Conditional writes compare what the Mongo adapter compares.
#[derive(Default)]
pub struct FakeVideos {
    pub videos: Mutex<HashMap<Id, Video>>,
    next: Mutex<u8>,
}

impl FakeVideos {
    pub fn with(video: Video) -> Self {
        let fake = FakeVideos::default();
        fake.videos.lock().unwrap().insert(video.id, video);
        fake
    }

    pub fn get(&self, id: Id) -> Video {
        self.videos.lock().unwrap()[&id].clone()
    }

    pub fn update(&self, id: Id, change: impl FnOnce(&mut Video)) -> Option<Video> {
        let mut videos = self.videos.lock().unwrap();
        let video = videos.get_mut(&id)?;
        change(video);
        Some(video.clone())
    }
}

#[async_trait]
impl VideoRepository for FakeVideos {
    fn next_id(&self) -> Id {
        let mut next = self.next.lock().unwrap();
        *next += 1;
        Id::from_bytes([*next; 12])
    }

    async fn insert(&self, video: &Video) -> Result<(), RepoError> {
        self.videos.lock().unwrap().insert(video.id, video.clone());
        Ok(())
    }

    async fn find_by_id(&self, id: Id) -> Result<Option<Video>, RepoError> {
        Ok(self.videos.lock().unwrap().get(&id).cloned())
    }

    async fn mark_ready(
        &self,
        id: Id,
        _fence: u64,
        files: &ProcessedFiles,
        duration_seconds: f64,
    ) -> Result<bool, RepoError> {
        Ok(self
            .update(id, |v| {
                v.video_file = Some(files.video_file.clone());
                v.thumbnail = Some(files.thumbnail.clone());
                v.stream = files.stream.clone();
                v.duration_seconds = duration_seconds;
                v.status = VideoStatus::Ready;
            })
            .is_some())
    }

    async fn mark_progress(&self, id: Id, _fence: u64, percent: u8) -> Result<bool, RepoError> {
        Ok(self.update(id, |v| v.progress = Some(percent)).is_some())
    }

    async fn set_stream(
        &self,
        id: Id,
        _fence: u64,
        stream: &StoredMedia,
    ) -> Result<bool, RepoError> {
        Ok(self
            .update(id, |v| v.stream = Some(stream.clone()))
            .is_some())
    }

    async fn mark_failed(&self, id: Id, _fence: u64, reason: &str) -> Result<bool, RepoError> {
        Ok(self
            .update(id, |v| {
                v.status = VideoStatus::Failed;
                v.failure_reason = Some(reason.to_owned());
            })
            .is_some())
    }

    async fn search(
        &self,
        search: &VideoSearch,
        page: PageRequest,
    ) -> Result<Page<Video>, RepoError> {
        let mut found: Vec<Video> = self
            .videos
            .lock()
            .unwrap()
            .values()
            .filter(|v| v.visible_to(search.viewer))
            .filter(|v| search.owner.is_none_or(|owner| v.owner == owner))
            .cloned()
            .collect();
        found.sort_by_key(|v| std::cmp::Reverse(v.created_at));
        let total = found.len() as u64;
        let items = found
            .into_iter()
            .skip(page.skip() as usize)
            .take(page.limit() as usize)
            .collect();
        Ok(Page {
            items,
            total,
            request: page,
            next: None,
        })
    }

    async fn holding_file(
        &self,
        folder: MediaFolder,
        asset_id: &str,
    ) -> Result<Option<Video>, RepoError> {
        let videos = self.videos.lock().unwrap();
        Ok(videos.values().find(|v| v.holds(folder, asset_id)).cloned())
    }

    async fn find_many(&self, ids: &[Id]) -> Result<Vec<Video>, RepoError> {
        let videos = self.videos.lock().unwrap();
        Ok(ids
            .iter()
            .filter_map(|id| videos.get(id).cloned())
            .collect())
    }

    async fn visible_among(
        &self,
        viewer: Option<Id>,
        ids: &[Id],
    ) -> Result<HashSet<Id>, RepoError> {
        let videos = self.videos.lock().unwrap();
        Ok(ids
            .iter()
            .filter(|id| videos.get(id).is_some_and(|v| v.visible_to(viewer)))
            .copied()
            .collect())
    }

    async fn update_details(
        &self,
        id: Id,
        changes: &VideoChanges,
        thumbnail: Option<&StoredMedia>,
    ) -> Result<Option<Video>, RepoError> {
        Ok(self.update(id, |v| {
            if let Some(title) = &changes.title {
                v.title = title.clone();
            }
            if let Some(description) = &changes.description {
                v.description = description.clone();
            }
            if let Some(thumbnail) = thumbnail {
                v.thumbnail = Some(thumbnail.clone());
            }
        }))
    }

    async fn set_published(&self, id: Id, published: bool) -> Result<Option<Video>, RepoError> {
        Ok(self.update(id, |v| v.is_published = published))
    }

    async fn move_files(
        &self,
        seen: &Video,
        video_file: Option<&StoredMedia>,
        thumbnail: Option<&StoredMedia>,
    ) -> Result<Option<Video>, RepoError> {
        let mut videos = self.videos.lock().unwrap();
        let Some(video) = videos.get_mut(&seen.id) else {
            return Ok(None);
        };
        let unchanged = video.is_published == seen.is_published
            && video.status == seen.status
            && video.video_file == seen.video_file
            && video.thumbnail == seen.thumbnail;
        if !unchanged {
            return Ok(None);
        }
        if let Some(file) = video_file {
            video.video_file = Some(file.clone());
        }
        if let Some(file) = thumbnail {
            video.thumbnail = Some(file.clone());
        }
        Ok(Some(video.clone()))
    }

    async fn delete(&self, id: Id) -> Result<bool, RepoError> {
        Ok(self.videos.lock().unwrap().remove(&id).is_some())
    }

    async fn add_view(&self, id: Id) -> Result<(), RepoError> {
        self.update(id, |v| v.views += 1);
        Ok(())
    }

    async fn channel_totals(&self, owner: Id) -> Result<ChannelTotals, RepoError> {
        let videos = self.videos.lock().unwrap();
        let own = videos.values().filter(|v| v.owner == owner);
        Ok(
            own.fold(ChannelTotals::default(), |totals, v| ChannelTotals {
                videos: totals.videos + 1,
                views: totals.views + v.views,
            }),
        )
    }
}

type Hook = Box<dyn FnOnce() + Send>;

/// A store that keeps files in two places, `public:` and `private:` (their URLs say which),
/// like a CDN's public and signed deliveries. It can refuse one asset, and run a hook after its
/// next move (to change the video meanwhile, as a concurrent request would).
#[derive(Default)]
pub struct FakeStore {
    /// Every move, in order: `(asset id, public)`.
    pub moves: Mutex<Vec<(String, bool)>>,
    pub refuse: Option<String>,
    pub after_next_move: Mutex<Option<Hook>>,
}

impl FakeStore {
    pub fn media(asset_id: &str, public: bool) -> StoredMedia {
        let place = if public { "public" } else { "private" };
        StoredMedia {
            url: format!("{place}:{asset_id}"),
            asset_id: asset_id.to_owned(),
        }
    }
}

#[async_trait]
impl MediaStore for FakeStore {
    async fn store(
        &self,
        _file: &UploadedFile,
        folder: MediaFolder,
        name: Option<&str>,
    ) -> Result<Stored, MediaStoreError> {
        let asset = format!("{}/{}", folder.as_str(), name.unwrap_or("fresh"));
        Ok(Stored {
            media: FakeStore::media(&asset, true),
            duration_seconds: Some(1.0),
        })
    }

    async fn delete(&self, _media: &StoredMedia) -> Result<(), MediaStoreError> {
        Ok(())
    }

    async fn set_public(
        &self,
        media: &StoredMedia,
        public: bool,
    ) -> Result<StoredMedia, MediaStoreError> {
        if media
            .url
            .starts_with(if public { "public:" } else { "private:" })
        {
            return Ok(media.clone());
        }
        if self.refuse.as_deref() == Some(media.asset_id.as_str()) {
            return Err(MediaStoreError::Failed("refused".into()));
        }
        self.moves
            .lock()
            .unwrap()
            .push((media.asset_id.clone(), public));
        if let Some(hook) = self.after_next_move.lock().unwrap().take() {
            hook();
        }
        Ok(FakeStore::media(&media.asset_id, public))
    }

    fn fresh_name(&self) -> String {
        "fresh".into()
    }
}

/// A ready video whose files are where its visibility says.
/// Attachments in a list.
#[derive(Default)]
pub struct FakeAttachments {
    pub attachments: Mutex<Vec<Attachment>>,
}

#[async_trait]
impl AttachmentRepository for FakeAttachments {
    fn next_id(&self) -> Id {
        Id::from_bytes([self.attachments.lock().unwrap().len() as u8 + 100; 12])
    }

    async fn insert_within(&self, attachment: &Attachment, max: u32) -> Result<bool, RepoError> {
        let mut all = self.attachments.lock().unwrap();
        let count = all
            .iter()
            .filter(|a| a.video_id == attachment.video_id)
            .count();
        if count >= max as usize {
            return Ok(false);
        }
        all.push(attachment.clone());
        Ok(true)
    }

    async fn of_video(&self, video: Id) -> Result<Vec<Attachment>, RepoError> {
        let all = self.attachments.lock().unwrap();
        Ok(all
            .iter()
            .filter(|a| a.video_id == video)
            .cloned()
            .collect())
    }

    async fn find(&self, id: Id) -> Result<Option<Attachment>, RepoError> {
        let all = self.attachments.lock().unwrap();
        Ok(all.iter().find(|a| a.id == id).cloned())
    }

    async fn delete(&self, id: Id) -> Result<Option<Attachment>, RepoError> {
        let mut all = self.attachments.lock().unwrap();
        let at = all.iter().position(|a| a.id == id);
        Ok(at.map(|at| all.remove(at)))
    }

    async fn move_file(
        &self,
        id: Id,
        from: &StoredMedia,
        to: &StoredMedia,
    ) -> Result<bool, RepoError> {
        let mut all = self.attachments.lock().unwrap();
        match all.iter_mut().find(|a| a.id == id && a.file == *from) {
            Some(attachment) => {
                attachment.file = to.clone();
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn holding_file(&self, asset_id: &str) -> Result<Option<Attachment>, RepoError> {
        let all = self.attachments.lock().unwrap();
        Ok(all.iter().find(|a| a.file.asset_id == asset_id).cloned())
    }

    async fn remove_video(&self, video: Id) -> Result<Vec<Attachment>, RepoError> {
        let mut all = self.attachments.lock().unwrap();
        let (gone, kept) = all.drain(..).partition(|a| a.video_id == video);
        *all = kept;
        Ok(gone)
    }
}

pub fn ready_video(published: bool) -> Video {
    let now = chrono::Utc::now();
    Video {
        id: Id::from_bytes([1; 12]),
        owner: Id::from_bytes([2; 12]),
        title: crate::video::Title::parse("A video").unwrap(),
        description: crate::video::Description::parse("About it").unwrap(),
        video_file: Some(FakeStore::media("videos/a", published)),
        thumbnail: Some(FakeStore::media("thumbnails/a", published)),
        stream: None,
        duration_seconds: 1.0,
        views: 0,
        is_published: published,
        status: VideoStatus::Ready,
        progress: None,
        failure_reason: None,
        created_at: now,
        updated_at: now,
    }
}
