use std::time::Duration;

use std::collections::HashMap;

use async_trait::async_trait;
use bson::oid::ObjectId;
use bson::{doc, Document};
use chrono::{DateTime, Utc};
use mongodb::options::ReturnDocument;
use mongodb::Collection;
use serde::{Deserialize, Serialize};
use videotube_domain::page::{Cursor, Page, PageRequest};
use videotube_domain::playlist::{Playlist, PlaylistChanges, PlaylistDescription, PlaylistName};
use videotube_domain::ports::PlaylistRepository;
use videotube_domain::{Id, RepoError};

use super::{
    find_all, from_cursor, id, insert_unique, newest_first, oid, page_of, time_cursor,
    to_bson_time, Store, Within, PLAYLISTS, PLAYLIST_VIDEOS,
};

/// The original's fields (`name`, `description`, `owner`, timestamps) without its `videos`
/// array: entries live in `playlist_videos`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlaylistDoc {
    #[serde(rename = "_id")]
    id: ObjectId,
    name: String,
    #[serde(default)]
    description: String,
    owner: ObjectId,
    created_at: bson::DateTime,
    updated_at: bson::DateTime,
}

impl From<PlaylistDoc> for Playlist {
    fn from(doc: PlaylistDoc) -> Self {
        Playlist {
            id: id(doc.id),
            owner: id(doc.owner),
            name: PlaylistName::from_stored(doc.name),
            description: PlaylistDescription::from_stored(doc.description),
            created_at: doc.created_at.to_chrono(),
            updated_at: doc.updated_at.to_chrono(),
        }
    }
}

/// One video in one playlist; unique (playlist, video). Playlist order is `addedAt`. (An array
/// in the playlist would be rewritten whole by FerretDB, and a lost update would drop a video.)
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EntryDoc {
    #[serde(rename = "_id")]
    id: ObjectId,
    playlist: ObjectId,
    video: ObjectId,
    added_at: bson::DateTime,
}

pub struct MongoPlaylistRepository {
    limit: Duration,
    playlists: Collection<PlaylistDoc>,
    entries: Collection<EntryDoc>,
}

impl MongoPlaylistRepository {
    pub fn new(store: &Store) -> Self {
        Self {
            limit: store.limit,
            playlists: store.collection(PLAYLISTS),
            entries: store.collection(PLAYLIST_VIDEOS),
        }
    }
}

#[async_trait]
impl PlaylistRepository for MongoPlaylistRepository {
    #[tracing::instrument(name = "playlists.insert", skip_all)]
    async fn insert(
        &self,
        owner: Id,
        name: &PlaylistName,
        description: &PlaylistDescription,
        at: DateTime<Utc>,
    ) -> Result<Playlist, RepoError> {
        let doc = PlaylistDoc {
            id: ObjectId::new(),
            name: name.as_str().to_owned(),
            description: description.as_str().to_owned(),
            owner: oid(owner),
            created_at: to_bson_time(at),
            updated_at: to_bson_time(at),
        };
        self.playlists.insert_one(&doc).within(self.limit).await?;
        Ok(doc.into())
    }

    #[tracing::instrument(name = "playlists.find_by_id", skip_all)]
    async fn find_by_id(&self, playlist_id: Id) -> Result<Option<Playlist>, RepoError> {
        let found = self
            .playlists
            .find_one(doc! { "_id": oid(playlist_id) })
            .max_time(self.limit)
            .within(self.limit)
            .await?;
        Ok(found.map(Playlist::from))
    }

    #[tracing::instrument(name = "playlists.by_owner", skip_all)]
    async fn by_owner(
        &self,
        owner: Id,
        page: PageRequest,
        after: Option<&Cursor>,
    ) -> Result<Page<Playlist>, RepoError> {
        let filter = doc! { "owner": oid(owner) };
        let from = from_cursor(&filter, "createdAt", "_id", after);
        page_of(
            self.limit,
            &self.playlists,
            filter,
            from,
            newest_first(),
            page,
            |p: &PlaylistDoc| time_cursor(p.created_at, p.id),
        )
        .await
    }

    #[tracing::instrument(name = "playlists.update_details", skip_all)]
    async fn update_details(
        &self,
        playlist_id: Id,
        changes: &PlaylistChanges,
    ) -> Result<Option<Playlist>, RepoError> {
        let mut set = doc! { "updatedAt": bson::DateTime::now() };
        if let Some(name) = &changes.name {
            set.insert("name", name.as_str());
        }
        if let Some(description) = &changes.description {
            set.insert("description", description.as_str());
        }
        self.playlists
            .find_one_and_update(doc! { "_id": oid(playlist_id) }, doc! { "$set": set })
            .max_time(self.limit)
            .return_document(ReturnDocument::After)
            .within(self.limit)
            .await
            .map(|found| found.map(Playlist::from))
    }

    #[tracing::instrument(name = "playlists.delete", skip_all)]
    async fn delete(&self, playlist_id: Id) -> Result<bool, RepoError> {
        let result = self
            .playlists
            .delete_one(doc! { "_id": oid(playlist_id) })
            .within(self.limit)
            .await?;
        if result.deleted_count == 0 {
            return Ok(false);
        }
        self.entries
            .delete_many(doc! { "playlist": oid(playlist_id) })
            .within(self.limit)
            .await?;
        Ok(true)
    }

    #[tracing::instrument(name = "playlists.add_video", skip_all)]
    async fn add_video(
        &self,
        playlist: Id,
        video: Id,
        at: DateTime<Utc>,
    ) -> Result<bool, RepoError> {
        let entry = EntryDoc {
            id: ObjectId::new(),
            playlist: oid(playlist),
            video: oid(video),
            added_at: to_bson_time(at),
        };
        insert_unique(self.limit, &self.entries, entry).await
    }

    #[tracing::instrument(name = "playlists.remove_video", skip_all)]
    async fn remove_video(&self, playlist: Id, video: Id) -> Result<bool, RepoError> {
        let result = self
            .entries
            .delete_one(doc! { "playlist": oid(playlist), "video": oid(video) })
            .within(self.limit)
            .await?;
        Ok(result.deleted_count == 1)
    }

    #[tracing::instrument(name = "playlists.count_videos", skip_all)]
    async fn count_videos(&self, playlist: Id) -> Result<u64, RepoError> {
        self.entries
            .count_documents(doc! { "playlist": oid(playlist) })
            .max_time(self.limit)
            .within(self.limit)
            .await
    }

    #[tracing::instrument(name = "playlists.videos_of", skip_all)]
    async fn videos_of(&self, playlists: &[Id]) -> Result<HashMap<Id, Vec<Id>>, RepoError> {
        let ids: Vec<ObjectId> = playlists.iter().copied().map(oid).collect();
        let entries: Vec<Document> = find_all(
            self.entries
                .clone_with_type::<Document>()
                .find(doc! { "playlist": { "$in": ids } })
                .sort(doc! { "addedAt": 1, "_id": 1 })
                .projection(doc! { "playlist": 1, "video": 1 }),
            self.limit,
        )
        .await?;
        let mut videos: HashMap<Id, Vec<Id>> = HashMap::new();
        for entry in &entries {
            if let (Ok(playlist), Ok(video)) = (
                entry.get_object_id("playlist"),
                entry.get_object_id("video"),
            ) {
                videos.entry(id(playlist)).or_default().push(id(video));
            }
        }
        Ok(videos)
    }

    #[tracing::instrument(name = "playlists.remove_video_everywhere", skip_all)]
    async fn remove_video_everywhere(&self, video: Id) -> Result<(), RepoError> {
        self.entries
            .delete_many(doc! { "video": oid(video) })
            .within(self.limit)
            .await
            .map(drop)
    }
}
