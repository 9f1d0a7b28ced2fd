use std::time::Duration;

use std::collections::HashSet;

use async_trait::async_trait;
use bson::oid::ObjectId;
use bson::{doc, Document};
use futures_util::TryStreamExt;
use mongodb::options::ReturnDocument;
use mongodb::{Collection, Database};
use serde::{Deserialize, Serialize};
use videotube_domain::media::{MediaFolder, StoredMedia};
use videotube_domain::page::{Cursor, Page, PageRequest, SortValue};
use videotube_domain::ports::{ChannelTotals, VideoRepository};
use videotube_domain::video::{
    Description, ProcessedFiles, Title, Video, VideoChanges, VideoSearch, VideoSort, VideoStatus,
};
use videotube_domain::{Id, RepoError};

use super::legacy::{real_number, whole_number, MediaField};
use super::{
    after_cursor, find_all, find_ids, group_number, groups, id, oid, page_of, to_bson_time, Store,
    Within, VIDEOS,
};

/// A video as stored; field names follow the original (`videoFile` and `thumbnail` as URLs,
/// `owner`, `isPublished`), with asset ids beside the URLs and the processing state added.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct VideoDoc {
    #[serde(rename = "_id")]
    id: ObjectId,
    owner: ObjectId,
    title: String,
    description: String,
    #[serde(default)]
    video_file: MediaField,
    #[serde(default)]
    video_file_asset_id: String,
    #[serde(default)]
    thumbnail: MediaField,
    #[serde(default)]
    thumbnail_asset_id: String,
    /// The HLS package's master playlist, where the server transcodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hls_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hls_asset_id: Option<String>,
    #[serde(default, deserialize_with = "real_number")]
    duration: f64,
    #[serde(default, deserialize_with = "whole_number")]
    views: i64,
    #[serde(default = "published_by_default")]
    is_published: bool,
    /// Absent on documents of the original backend, whose videos were stored synchronously.
    #[serde(default = "ready_by_default")]
    status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    failure_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    progress: Option<i32>,
    /// Published and ready: in the public catalogue. Stored so that the catalogue's indexes can
    /// start with it (see `indexes`); kept in step by every write to `isPublished` or `status`.
    #[serde(default)]
    listed: bool,
    created_at: bson::DateTime,
    updated_at: bson::DateTime,
}

fn published_by_default() -> bool {
    true
}

fn ready_by_default() -> String {
    VideoStatus::Ready.as_str().to_owned()
}

impl From<&Video> for VideoDoc {
    fn from(video: &Video) -> Self {
        let (video_file, video_file_asset_id) = split(video.video_file.as_ref());
        let (thumbnail, thumbnail_asset_id) = split(video.thumbnail.as_ref());
        VideoDoc {
            id: oid(video.id),
            owner: oid(video.owner),
            title: video.title.as_str().to_owned(),
            description: video.description.as_str().to_owned(),
            video_file: MediaField::url(&video_file),
            video_file_asset_id,
            thumbnail: MediaField::url(&thumbnail),
            thumbnail_asset_id,
            hls_url: video.stream.as_ref().map(|s| s.url.clone()),
            hls_asset_id: video.stream.as_ref().map(|s| s.asset_id.clone()),
            duration: video.duration_seconds,
            views: video.views as i64,
            is_published: video.is_published,
            status: video.status.as_str().to_owned(),
            failure_reason: video.failure_reason.clone(),
            progress: video.progress.map(i32::from),
            listed: video.is_published && video.status == VideoStatus::Ready,
            created_at: to_bson_time(video.created_at),
            updated_at: to_bson_time(video.updated_at),
        }
    }
}

impl From<VideoDoc> for Video {
    fn from(doc: VideoDoc) -> Self {
        Video {
            id: id(doc.id),
            owner: id(doc.owner),
            title: Title::from_stored(doc.title),
            description: Description::from_stored(doc.description),
            video_file: doc.video_file.into_media(Some(doc.video_file_asset_id)),
            thumbnail: doc.thumbnail.into_media(Some(doc.thumbnail_asset_id)),
            stream: match (doc.hls_url, doc.hls_asset_id) {
                (Some(url), Some(asset_id)) => Some(StoredMedia { url, asset_id }),
                _ => None,
            },
            duration_seconds: doc.duration,
            views: doc.views.max(0) as u64,
            is_published: doc.is_published,
            status: VideoStatus::parse(&doc.status).unwrap_or(VideoStatus::Failed),
            failure_reason: doc.failure_reason,
            progress: doc
                .progress
                .and_then(|p| u8::try_from(p.clamp(0, 100)).ok()),
            created_at: doc.created_at.to_chrono(),
            updated_at: doc.updated_at.to_chrono(),
        }
    }
}

pub struct MongoVideoRepository {
    limit: Duration,
    videos: Collection<VideoDoc>,
}

impl MongoVideoRepository {
    pub fn new(store: &Store) -> Self {
        Self {
            limit: store.limit,
            videos: store.collection(VIDEOS),
        }
    }

    /// Lists the video if it is published and ready, as a second, conditional write after the
    /// one that made it so. Publishing and processing may finish at the same moment: whichever
    /// of the two runs this last sees both and lists the video; unpublishing unlists it in its
    /// own write, which this cannot undo (its filter no longer matches).
    async fn list_if_public(&self, video_id: Id) -> Result<(), RepoError> {
        self.videos
            .update_one(
                doc! {
                    "_id": oid(video_id),
                    "isPublished": true,
                    "status": VideoStatus::Ready.as_str(),
                },
                doc! { "$set": { "listed": true } },
            )
            .within(self.limit)
            .await
            .map(drop)
    }

    /// A job's write to its video, refused once a claim with a larger fence has written: the
    /// filter and the new `jobFence` are one conditional update, atomic on MongoDB. (FerretDB
    /// applies it as a read then a write, and its SQLite backend reads the collection for any
    /// filter other than `_id` alone; jobs end rarely enough for that.)
    async fn fenced_update(
        &self,
        video_id: Id,
        fence: u64,
        mut set: Document,
    ) -> Result<bool, RepoError> {
        let fence = i64::try_from(fence).unwrap_or(i64::MAX);
        set.insert("jobFence", fence);
        set.insert("updatedAt", bson::DateTime::now());
        let result = self
            .videos
            .update_one(
                doc! { "_id": oid(video_id), "jobFence": { "$not": { "$gt": fence } } },
                doc! { "$set": set },
            )
            .within(self.limit)
            .await?;
        Ok(result.matched_count == 1)
    }

    async fn update(&self, video_id: Id, set: Document) -> Result<Option<Video>, RepoError> {
        self.videos
            .find_one_and_update(doc! { "_id": oid(video_id) }, doc! { "$set": set })
            .max_time(self.limit)
            .return_document(ReturnDocument::After)
            .within(self.limit)
            .await
            .map(|found| found.map(Video::from))
    }
}

#[async_trait]
impl VideoRepository for MongoVideoRepository {
    fn next_id(&self) -> Id {
        id(ObjectId::new())
    }

    #[tracing::instrument(name = "videos.insert", skip_all)]
    async fn insert(&self, video: &Video) -> Result<(), RepoError> {
        self.videos
            .insert_one(VideoDoc::from(video))
            .within(self.limit)
            .await
            .map(drop)
    }

    #[tracing::instrument(name = "videos.find_by_id", skip_all)]
    async fn find_by_id(&self, video_id: Id) -> Result<Option<Video>, RepoError> {
        let found = self
            .videos
            .find_one(doc! { "_id": oid(video_id) })
            .max_time(self.limit)
            .within(self.limit)
            .await?;
        Ok(found.map(Video::from))
    }

    #[tracing::instrument(name = "videos.mark_ready", skip_all)]
    async fn mark_ready(
        &self,
        video_id: Id,
        fence: u64,
        files: &ProcessedFiles,
        duration_seconds: f64,
    ) -> Result<bool, RepoError> {
        let mut set = doc! {
            "videoFile": &files.video_file.url,
            "videoFileAssetId": &files.video_file.asset_id,
            "thumbnail": &files.thumbnail.url,
            "thumbnailAssetId": &files.thumbnail.asset_id,
            "duration": duration_seconds,
            "status": VideoStatus::Ready.as_str(),
        };
        if let Some(stream) = &files.stream {
            set.insert("hlsUrl", &stream.url);
            set.insert("hlsAssetId", &stream.asset_id);
        }
        let recorded = self.fenced_update(video_id, fence, set).await?;
        if recorded {
            self.list_if_public(video_id).await?;
        }
        Ok(recorded)
    }

    #[tracing::instrument(name = "videos.search", skip_all)]
    async fn search(
        &self,
        search: &VideoSearch,
        page: PageRequest,
    ) -> Result<Page<Video>, RepoError> {
        let filter = search_filter(search);
        let page_filter = page_filter(search);
        let direction = if search.descending { -1 } else { 1 };
        // `_id` breaks ties, so pages never overlap or skip.
        let sort = doc! { sort_field(search.sort): direction, "_id": direction };
        let position = |video: &VideoDoc| Cursor {
            after: match search.sort {
                VideoSort::CreatedAt => SortValue::Time(video.created_at.to_chrono()),
                VideoSort::Views => SortValue::Number(video.views as f64),
                VideoSort::Duration => SortValue::Number(video.duration),
                VideoSort::Title => SortValue::Text(video.title.clone()),
            },
            id: id(video.id),
        };
        page_of(
            self.limit,
            &self.videos,
            filter,
            page_filter,
            sort,
            page,
            position,
        )
        .await
    }

    #[tracing::instrument(name = "videos.holding_file", skip_all)]
    async fn holding_file(
        &self,
        folder: MediaFolder,
        asset_id: &str,
    ) -> Result<Option<Video>, RepoError> {
        let field = match folder {
            MediaFolder::Thumbnails => "thumbnailAssetId",
            MediaFolder::Streams => "hlsAssetId",
            _ => "videoFileAssetId",
        };
        let found = self
            .videos
            .find_one(doc! { field: asset_id })
            .max_time(self.limit)
            .within(self.limit)
            .await?;
        Ok(found.map(Video::from))
    }

    #[tracing::instrument(name = "videos.find_many", skip_all)]
    async fn find_many(&self, ids: &[Id]) -> Result<Vec<Video>, RepoError> {
        let ids: Vec<ObjectId> = ids.iter().copied().map(oid).collect();
        let found: Vec<VideoDoc> =
            find_all(self.videos.find(doc! { "_id": { "$in": ids } }), self.limit).await?;
        Ok(found.into_iter().map(Video::from).collect())
    }

    #[tracing::instrument(name = "videos.visible_among", skip_all)]
    async fn visible_among(
        &self,
        viewer: Option<Id>,
        ids: &[Id],
    ) -> Result<HashSet<Id>, RepoError> {
        let ids: Vec<ObjectId> = ids.iter().copied().map(oid).collect();
        let mut filter = doc! { "_id": { "$in": ids } };
        match viewer {
            Some(viewer) => {
                filter.insert("$or", vec![listed(), doc! { "owner": oid(viewer) }]);
            }
            None => filter.extend(listed()),
        }
        Ok(find_ids(self.limit, &self.videos, filter, None)
            .await?
            .into_iter()
            .collect())
    }

    #[tracing::instrument(name = "videos.update_details", skip_all)]
    async fn update_details(
        &self,
        video_id: Id,
        changes: &VideoChanges,
        thumbnail: Option<&StoredMedia>,
    ) -> Result<Option<Video>, RepoError> {
        let mut set = doc! { "updatedAt": bson::DateTime::now() };
        if let Some(title) = &changes.title {
            set.insert("title", title.as_str());
        }
        if let Some(description) = &changes.description {
            set.insert("description", description.as_str());
        }
        if let Some(thumbnail) = thumbnail {
            set.insert("thumbnail", &thumbnail.url);
            set.insert("thumbnailAssetId", &thumbnail.asset_id);
        }
        self.update(video_id, set).await
    }

    #[tracing::instrument(name = "videos.set_published", skip_all)]
    async fn set_published(
        &self,
        video_id: Id,
        published: bool,
    ) -> Result<Option<Video>, RepoError> {
        let mut set = doc! { "isPublished": published, "updatedAt": bson::DateTime::now() };
        if !published {
            set.insert("listed", false);
        }
        let updated = self.update(video_id, set).await?;
        if published && updated.is_some() {
            self.list_if_public(video_id).await?;
        }
        Ok(updated)
    }

    #[tracing::instrument(name = "videos.move_files", skip_all)]
    async fn move_files(
        &self,
        seen: &Video,
        video_file: Option<&StoredMedia>,
        thumbnail: Option<&StoredMedia>,
    ) -> Result<Option<Video>, RepoError> {
        // Only files this server stored move (see `MediaStore::set_public`), and their videos
        // have every field compared here; a document of the original backend never gets here.
        let (seen_video_file, _) = split(seen.video_file.as_ref());
        let (seen_thumbnail, _) = split(seen.thumbnail.as_ref());
        let unchanged = doc! {
            "_id": oid(seen.id),
            "isPublished": seen.is_published,
            "status": seen.status.as_str(),
            "videoFile": seen_video_file,
            "thumbnail": seen_thumbnail,
        };
        let mut set = doc! { "updatedAt": bson::DateTime::now() };
        if let Some(video_file) = video_file {
            set.insert("videoFile", &video_file.url);
            set.insert("videoFileAssetId", &video_file.asset_id);
        }
        if let Some(thumbnail) = thumbnail {
            set.insert("thumbnail", &thumbnail.url);
            set.insert("thumbnailAssetId", &thumbnail.asset_id);
        }
        self.videos
            .find_one_and_update(unchanged, doc! { "$set": set })
            .max_time(self.limit)
            .return_document(ReturnDocument::After)
            .within(self.limit)
            .await
            .map(|found| found.map(Video::from))
    }

    #[tracing::instrument(name = "videos.delete", skip_all)]
    async fn delete(&self, video_id: Id) -> Result<bool, RepoError> {
        let result = self
            .videos
            .delete_one(doc! { "_id": oid(video_id) })
            .within(self.limit)
            .await?;
        Ok(result.deleted_count == 1)
    }

    #[tracing::instrument(name = "videos.add_view", skip_all)]
    async fn add_view(&self, video_id: Id) -> Result<(), RepoError> {
        self.videos
            .update_one(
                doc! { "_id": oid(video_id) },
                doc! { "$inc": { "views": 1 } },
            )
            .within(self.limit)
            .await
            .map(drop)
    }

    /// Two queries at once: FerretDB 1.24 computes only the first of several accumulators in one
    /// `$group` (the others come back 0), so the views are summed alone and the videos counted.
    #[tracing::instrument(name = "videos.channel_totals", skip_all)]
    async fn channel_totals(&self, owner: Id) -> Result<ChannelTotals, RepoError> {
        let owned = doc! { "owner": oid(owner) };
        let pipeline = [
            doc! { "$match": owned.clone() },
            doc! { "$group": { "_id": null, "views": { "$sum": "$views" } } },
        ];
        let count = async {
            self.videos
                .count_documents(owned.clone())
                .max_time(self.limit)
                .await
        };
        let (groups, videos) = tokio::try_join!(
            groups(&self.videos, pipeline, self.limit).within(self.limit),
            count.within(self.limit)
        )?;
        Ok(ChannelTotals {
            videos,
            views: groups.first().map_or(0, |g| group_number(g, "views")),
        })
    }

    #[tracing::instrument(name = "videos.mark_progress", skip_all)]
    async fn mark_progress(
        &self,
        video_id: Id,
        fence: u64,
        percent: u8,
    ) -> Result<bool, RepoError> {
        let set = doc! { "progress": i32::from(percent.min(100)) };
        self.fenced_update(video_id, fence, set).await
    }

    #[tracing::instrument(name = "videos.set_stream", skip_all)]
    async fn set_stream(
        &self,
        video_id: Id,
        fence: u64,
        stream: &StoredMedia,
    ) -> Result<bool, RepoError> {
        let set = doc! { "hlsUrl": &stream.url, "hlsAssetId": &stream.asset_id };
        self.fenced_update(video_id, fence, set).await
    }

    #[tracing::instrument(name = "videos.mark_failed", skip_all)]
    async fn mark_failed(&self, video_id: Id, fence: u64, reason: &str) -> Result<bool, RepoError> {
        let set = doc! {
            "status": VideoStatus::Failed.as_str(),
            "failureReason": reason,
            "listed": false,
        };
        self.fenced_update(video_id, fence, set).await
    }
}

/// Videos everyone may see.
fn listed() -> Document {
    doc! { "listed": true }
}

/// All of one channel's videos, in a form the (owner, listed, sort) indexes serve with the sort.
fn all_of(owner: Id) -> Document {
    doc! { "owner": oid(owner), "listed": { "$in": [true, false] } }
}

/// The filter of a catalogue search.
fn search_filter(search: &VideoSearch) -> Document {
    let mut conditions = vec![match search.owner {
        Some(owner) if Some(owner) == search.viewer => all_of(owner),
        Some(owner) => doc! { "owner": oid(owner), "listed": true },
        // The viewer's listed videos are in the first branch already.
        None => match search.viewer {
            Some(viewer) => doc! { "$or": [listed(), { "owner": oid(viewer), "listed": false }] },
            None => listed(),
        },
    }];
    if let Some(text) = &search.text {
        let pattern = doc! { "$regex": escape_regex(text.as_str()), "$options": "i" };
        conditions
            .push(doc! { "$or": [ { "title": pattern.clone() }, { "description": pattern } ] });
    }
    doc! { "$and": conditions }
}

/// The search's filter, from its cursor on when it has one.
fn page_filter(search: &VideoSearch) -> Document {
    let mut filter = search_filter(search);
    if let (Some(cursor), Ok(conditions)) = (&search.after, filter.get_array_mut("$and")) {
        let field = sort_field(search.sort);
        conditions.push(after_cursor(field, "_id", search.descending, cursor).into());
    }
    filter
}

/// Sets `listed` on the videos stored before it existed (the original backend's among them, which
/// have no `status` and count as ready), a batch at a time: a no-op once done. Run at start-up.
pub async fn backfill_listed(db: &Database) -> Result<(), mongodb::error::Error> {
    let videos = db.collection::<Document>(VIDEOS);
    loop {
        let batch: Vec<Document> = videos
            .find(doc! { "listed": { "$exists": false } })
            .projection(doc! { "isPublished": 1, "status": 1 })
            .limit(1000)
            .await?
            .try_collect()
            .await?;
        if batch.is_empty() {
            return Ok(());
        }
        let (listed, unlisted): (Vec<&Document>, Vec<&Document>) = batch.iter().partition(|v| {
            v.get_bool("isPublished").unwrap_or(true)
                && !matches!(v.get_str("status"), Ok("processing" | "failed"))
        });
        for (ids, value) in [(listed, true), (unlisted, false)] {
            let ids: Vec<ObjectId> = ids
                .iter()
                .filter_map(|v| v.get_object_id("_id").ok())
                .collect();
            if !ids.is_empty() {
                videos
                    .update_many(
                        doc! { "_id": { "$in": ids } },
                        doc! { "$set": { "listed": value } },
                    )
                    .await?;
            }
        }
    }
}

/// The text matched literally: every regex metacharacter escaped.
pub fn escape_regex(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

fn sort_field(sort: VideoSort) -> &'static str {
    match sort {
        VideoSort::CreatedAt => "createdAt",
        VideoSort::Views => "views",
        VideoSort::Duration => "duration",
        VideoSort::Title => "title",
    }
}

fn split(media: Option<&StoredMedia>) -> (String, String) {
    media.map_or_else(Default::default, |m| (m.url.clone(), m.asset_id.clone()))
}

#[cfg(test)]
mod tests {
    use super::escape_regex;

    #[test]
    fn regex_metacharacters_are_escaped() {
        assert_eq!(escape_regex(".*"), "\\.\\*");
        assert_eq!(
            escape_regex("(a|b)[c]{2}^$\\+?"),
            "\\(a\\|b\\)\\[c\\]\\{2\\}\\^\\$\\\\\\+\\?"
        );
        assert_eq!(escape_regex("plain text"), "plain text");
    }
}
