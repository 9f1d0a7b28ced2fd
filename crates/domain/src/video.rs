use std::fmt;
use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::error::FieldError;
use crate::id::Id;
use crate::media::{MediaFolder, StoredMedia, UploadedFile};
use crate::page::Cursor;
use crate::text::bounded;

/// Where a video is in its life: stored files arrive through a background job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoStatus {
    Processing,
    Ready,
    Failed,
}

impl VideoStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            VideoStatus::Processing => "processing",
            VideoStatus::Ready => "ready",
            VideoStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            VideoStatus::Processing,
            VideoStatus::Ready,
            VideoStatus::Failed,
        ]
        .into_iter()
        .find(|status| status.as_str() == s)
    }
}

/// 1 to 100 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

/// 1 to 5000 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(String);

impl Title {
    pub const FIELD: &'static str = "title";

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        bounded(raw, Self::FIELD, 1..=100).map(Title)
    }

    pub fn from_stored(value: String) -> Self {
        Title(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Description {
    pub const FIELD: &'static str = "description";

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        bounded(raw, Self::FIELD, 1..=5000).map(Description)
    }

    pub fn from_stored(value: String) -> Self {
        Description(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Title {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Video {
    pub id: Id,
    pub owner: Id,
    pub title: Title,
    pub description: Description,
    /// Set once the files are stored.
    pub video_file: Option<StoredMedia>,
    pub thumbnail: Option<StoredMedia>,
    /// The HLS package made from the video file (its URL is the master playlist's), where the
    /// server transcodes.
    pub stream: Option<StoredMedia>,
    pub duration_seconds: f64,
    pub views: u64,
    pub is_published: bool,
    pub status: VideoStatus,
    /// How far processing has got (percent), while it runs and where the worker can tell.
    pub progress: Option<u8>,
    /// Why processing failed, in words the owner can read.
    pub failure_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Video {
    /// Published and ready: everyone may see it.
    pub fn is_public(&self) -> bool {
        self.is_published && self.status == VideoStatus::Ready
    }

    /// Whether `asset_id` is this video's file in `folder` (its video file, its thumbnail or
    /// its HLS package).
    pub fn holds(&self, folder: MediaFolder, asset_id: &str) -> bool {
        let file = match folder {
            MediaFolder::Videos => self.video_file.as_ref(),
            MediaFolder::Thumbnails => self.thumbnail.as_ref(),
            MediaFolder::Streams => self.stream.as_ref(),
            MediaFolder::Avatars | MediaFolder::CoverImages | MediaFolder::Attachments => None,
        };
        file.is_some_and(|f| f.asset_id == asset_id)
    }

    /// Owners see their videos in every state; everyone else (anonymous viewers too) only
    /// public ones.
    pub fn visible_to(&self, viewer: Option<Id>) -> bool {
        viewer == Some(self.owner) || self.is_public()
    }
}

/// What a job stored for a video.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessedFiles {
    pub video_file: StoredMedia,
    pub thumbnail: StoredMedia,
    pub stream: Option<StoredMedia>,
}

/// What lists of videos may be sorted by (`sortBy`); anything else is refused, so a client cannot
/// sort by a field it should not see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoSort {
    CreatedAt,
    Views,
    Duration,
    Title,
}

impl VideoSort {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        match raw {
            "createdAt" => Ok(VideoSort::CreatedAt),
            "views" => Ok(VideoSort::Views),
            "duration" => Ok(VideoSort::Duration),
            "title" => Ok(VideoSort::Title),
            _ => Err(FieldError::new(
                "sortBy",
                "must be createdAt, views, duration or title",
            )),
        }
    }
}

/// Text searched for in the catalogue: at most 200 characters after trimming, no control
/// characters (a database's regex engine may refuse a NUL byte: it is a 400 here, not a 500).
/// Empty means no text filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchText(String);

impl SearchText {
    pub const FIELD: &'static str = "query";

    pub fn parse(raw: &str) -> Result<Option<Self>, FieldError> {
        let text = bounded(raw, Self::FIELD, 0..=200)?;
        Ok((!text.is_empty()).then_some(SearchText(text)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A search of the video catalogue.
#[derive(Debug, Clone)]
pub struct VideoSearch {
    /// Matched literally, ignoring case, against title and description.
    pub text: Option<SearchText>,
    pub sort: VideoSort,
    pub descending: bool,
    /// Only this channel's videos.
    pub owner: Option<Id>,
    /// Whoever searches, if signed in: their own videos show in every state.
    pub viewer: Option<Id>,
    /// Start after this video (keyset paging) instead of skipping `page`s.
    pub after: Option<Cursor>,
}

/// Changes to a video's details; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct VideoChanges {
    pub title: Option<Title>,
    pub description: Option<Description>,
}

/// A durable request to store a published video's files. It survives restarts: the spooled
/// files stay until the job is finished one way or the other.
#[derive(Debug, Clone)]
pub struct MediaJob {
    pub id: Id,
    pub video_id: Id,
    /// The name its files are stored under (see `MediaStore::fresh_name`): drawn when the job is
    /// queued, so that every attempt stores under the same name.
    pub name: String,
    pub video: UploadedFile,
    /// `None`: none was uploaded, and the worker makes one from the video.
    pub thumbnail: Option<UploadedFile>,
    /// Failed attempts so far.
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
}

impl MediaJob {
    /// Where the worker writes the thumbnail it makes, beside the video in the spool.
    pub fn made_thumbnail_path(&self) -> PathBuf {
        self.video.path.with_extension("thumbnail.jpg")
    }

    /// Where the worker makes the HLS package, beside the video in the spool.
    pub fn stream_dir(&self) -> PathBuf {
        self.video.path.with_extension("hls")
    }

    /// The job's files (and the package's directory) in the spool, to delete once it has ended.
    pub fn spooled(&self) -> Vec<PathBuf> {
        let thumbnail = match &self.thumbnail {
            Some(uploaded) => uploaded.path.clone(),
            None => self.made_thumbnail_path(),
        };
        vec![self.video.path.clone(), thumbnail, self.stream_dir()]
    }
}

/// A job claimed by one worker, until its lease runs out unless renewed. Every claim of a job
/// gets a larger `fence`, so the writes of a worker whose lease was taken over are refused.
#[derive(Debug, Clone)]
pub struct JobLease {
    pub job: MediaJob,
    pub fence: u64,
}

/// How the job queue stands, for monitoring.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JobQueueStats {
    /// Jobs not finished yet: waiting, running or waiting to be tried again.
    pub queued: u64,
    /// How long ago the job first in line to be claimed was published, if one is due and free.
    pub oldest_due: Option<std::time::Duration>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_and_descriptions_are_trimmed_and_bounded() {
        assert_eq!(Title::parse("  My video ").unwrap().as_str(), "My video");
        assert!(Title::parse(" ").is_err());
        assert!(Title::parse(&"t".repeat(101)).is_err());
        assert!(Description::parse("line one\nline two").is_ok());
        assert!(Description::parse(&"d".repeat(5001)).is_err());
        assert!(Title::parse("bell\u{7}").is_err());
    }

    #[test]
    fn search_text_is_bounded_and_free_of_control_characters() {
        assert_eq!(
            SearchText::parse("  cats ").unwrap().unwrap().as_str(),
            "cats"
        );
        assert_eq!(SearchText::parse("   ").unwrap(), None);
        assert!(SearchText::parse("a\u{0}b").is_err());
        assert!(SearchText::parse(&"q".repeat(201)).is_err());
    }

    #[test]
    fn statuses_round_trip() {
        for status in [
            VideoStatus::Processing,
            VideoStatus::Ready,
            VideoStatus::Failed,
        ] {
            assert_eq!(VideoStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(VideoStatus::parse("done"), None);
    }
}
