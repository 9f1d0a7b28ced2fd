use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::Utc;

use super::{visible_in_order, visible_video, VideoWithOwner};
use crate::error::{Error, FieldError};
use crate::ownership::owned_by;
use crate::page::{Cursor, Page, PageRequest};
use crate::playlist::{Playlist, PlaylistChanges, PlaylistDescription, PlaylistName};
use crate::ports::{PlaylistRepository, UserRepository, VideoRepository};
use crate::video::Video;
use crate::Id;

/// A playlist with the videos the viewer may see, in playlist order.
#[derive(Debug, Clone)]
pub struct PlaylistWithVideos {
    pub playlist: Playlist,
    pub videos: Vec<VideoWithOwner>,
}

/// A playlist as a user's list shows it.
#[derive(Debug, Clone)]
pub struct PlaylistSummary {
    pub playlist: Playlist,
    /// Videos in it the viewer may see.
    pub total_videos: u64,
    /// The first of those, whose thumbnail shows the playlist.
    pub first_video: Option<Video>,
}

/// The most videos one playlist holds. Parallel adds may each pass the check at the limit, so
/// a playlist can end a few over; that bounds reads all the same.
pub const MAX_PLAYLIST_VIDEOS: u64 = 500;

pub struct PlaylistService {
    playlists: Arc<dyn PlaylistRepository>,
    videos: Arc<dyn VideoRepository>,
    users: Arc<dyn UserRepository>,
}

impl PlaylistService {
    pub fn new(
        playlists: Arc<dyn PlaylistRepository>,
        videos: Arc<dyn VideoRepository>,
        users: Arc<dyn UserRepository>,
    ) -> Self {
        Self {
            playlists,
            videos,
            users,
        }
    }

    #[tracing::instrument(name = "PlaylistService::create", skip_all)]
    pub async fn create(
        &self,
        owner: Id,
        name: PlaylistName,
        description: PlaylistDescription,
    ) -> Result<PlaylistWithVideos, Error> {
        let playlist = self
            .playlists
            .insert(owner, &name, &description, Utc::now())
            .await?;
        Ok(PlaylistWithVideos {
            playlist,
            videos: Vec::new(),
        })
    }

    #[tracing::instrument(name = "PlaylistService::get", skip_all)]
    pub async fn get(&self, viewer: Option<Id>, id: Id) -> Result<PlaylistWithVideos, Error> {
        let playlist = self
            .playlists
            .find_by_id(id)
            .await?
            .ok_or(Error::NotFound("Playlist not found"))?;
        self.with_videos(viewer, playlist).await
    }

    /// A user's playlists, newest first, each with how many of its videos the viewer may see and
    /// the first one's thumbnail: five queries whatever the page size.
    #[tracing::instrument(name = "PlaylistService::by_user", skip_all)]
    pub async fn by_user(
        &self,
        viewer: Option<Id>,
        user: Id,
        page: PageRequest,
        after: Option<&Cursor>,
    ) -> Result<Page<PlaylistSummary>, Error> {
        let found = self.playlists.by_owner(user, page, after).await?;
        if found.items.is_empty() && self.users.find_by_id(user).await?.is_none() {
            return Err(Error::NotFound("User not found"));
        }
        let ids: Vec<Id> = found.items.iter().map(|p| p.id).collect();
        let entries = if ids.is_empty() {
            HashMap::new()
        } else {
            self.playlists.videos_of(&ids).await?
        };
        let mut all: Vec<Id> = entries.values().flatten().copied().collect();
        all.sort();
        all.dedup();
        let visible = if all.is_empty() {
            HashSet::new()
        } else {
            self.videos.visible_among(viewer, &all).await?
        };
        let visible_entries: HashMap<Id, Vec<Id>> = entries
            .into_iter()
            .map(|(playlist, videos)| {
                let shown = videos.into_iter().filter(|v| visible.contains(v)).collect();
                (playlist, shown)
            })
            .collect();
        let firsts: Vec<Id> = visible_entries
            .values()
            .filter_map(|videos| videos.first().copied())
            .collect();
        let first_videos: HashMap<Id, Video> = if firsts.is_empty() {
            HashMap::new()
        } else {
            self.videos
                .find_many(&firsts)
                .await?
                .into_iter()
                .map(|v| (v.id, v))
                .collect()
        };
        Ok(found.map(|playlist| {
            let videos = visible_entries.get(&playlist.id);
            PlaylistSummary {
                total_videos: videos.map_or(0, |v| v.len() as u64),
                first_video: videos
                    .and_then(|v| v.first())
                    .and_then(|first| first_videos.get(first).cloned()),
                playlist,
            }
        }))
    }

    #[tracing::instrument(name = "PlaylistService::update", skip_all)]
    pub async fn update(
        &self,
        caller: Id,
        id: Id,
        changes: PlaylistChanges,
    ) -> Result<PlaylistWithVideos, Error> {
        if changes.name.is_none() && changes.description.is_none() {
            return Err(Error::invalid(vec![FieldError::new(
                PlaylistName::FIELD,
                "name or description is required",
            )]));
        }
        self.owned(caller, id).await?;
        let playlist = self
            .playlists
            .update_details(id, &changes)
            .await?
            .ok_or(Error::NotFound("Playlist not found"))?;
        self.with_videos(Some(caller), playlist).await
    }

    #[tracing::instrument(name = "PlaylistService::delete", skip_all)]
    pub async fn delete(&self, caller: Id, id: Id) -> Result<(), Error> {
        self.owned(caller, id).await?;
        if self.playlists.delete(id).await? {
            Ok(())
        } else {
            Err(Error::NotFound("Playlist not found"))
        }
    }

    /// Adds a video the caller may see to the caller's playlist; adding it again changes
    /// nothing. What counts is who owns the playlist, not who owns the video. A playlist holds
    /// at most `MAX_PLAYLIST_VIDEOS` (409 beyond), which bounds what reading one costs.
    #[tracing::instrument(name = "PlaylistService::add_video", skip_all)]
    pub async fn add_video(
        &self,
        caller: Id,
        id: Id,
        video: Id,
    ) -> Result<PlaylistWithVideos, Error> {
        let playlist = self.owned(caller, id).await?;
        if visible_video(self.videos.as_ref(), Some(caller), video)
            .await?
            .is_none()
        {
            return Err(Error::NotFound("Video not found"));
        }
        if self.playlists.count_videos(id).await? >= MAX_PLAYLIST_VIDEOS {
            return Err(Error::Conflict {
                message: format!("A playlist holds at most {MAX_PLAYLIST_VIDEOS} videos"),
                errors: Vec::new(),
            });
        }
        self.playlists.add_video(id, video, Utc::now()).await?;
        self.with_videos(Some(caller), playlist).await
    }

    /// Takes a video out of the caller's playlist; removing it again changes nothing. A video
    /// that is in the playlist may be removed even once it is hidden.
    #[tracing::instrument(name = "PlaylistService::remove_video", skip_all)]
    pub async fn remove_video(
        &self,
        caller: Id,
        id: Id,
        video: Id,
    ) -> Result<PlaylistWithVideos, Error> {
        let playlist = self.owned(caller, id).await?;
        let removed = self.playlists.remove_video(id, video).await?;
        if !removed && self.videos.find_by_id(video).await?.is_none() {
            return Err(Error::NotFound("Video not found"));
        }
        self.with_videos(Some(caller), playlist).await
    }

    async fn with_videos(
        &self,
        viewer: Option<Id>,
        playlist: Playlist,
    ) -> Result<PlaylistWithVideos, Error> {
        let ids = self
            .playlists
            .videos_of(&[playlist.id])
            .await?
            .remove(&playlist.id)
            .unwrap_or_default();
        let videos =
            visible_in_order(self.videos.as_ref(), self.users.as_ref(), viewer, &ids).await?;
        Ok(PlaylistWithVideos { playlist, videos })
    }

    async fn owned(&self, caller: Id, id: Id) -> Result<Playlist, Error> {
        owned_by(self.playlists.find_by_id(id).await?, caller)
    }
}
