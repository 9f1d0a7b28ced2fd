//! The interfaces the services need from the outside world. `videotube-infra` implements them
//! for a document database, bcrypt, JWT and the media stores; tests and other crates may bring
//! their own.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::attachment::Attachment;
use crate::comment::{Comment, CommentContent};
use crate::error::{BoxError, RepoError};
use crate::id::Id;
use crate::like::{LikeTarget, LikedVideo};
use crate::media::{
    DirectUploadReport, MediaCategory, MediaFolder, ProfileImage, Rendition, Stored, StoredMedia,
    UploadGrant, UploadedFile, VideoProbe,
};
use crate::page::{Cursor, Page, PageRequest};
use crate::playlist::{Playlist, PlaylistChanges, PlaylistDescription, PlaylistName};
use crate::resumable::ResumableUpload;
use crate::session::{IssuedToken, RefreshRotation, Rotation, Session, TokenClaims, TokenKind};
use crate::tweet::{Tweet, TweetContent};
use crate::user::{AccountChanges, NewUser, User, UserSummary};
use crate::values::{Email, LoginId, NewPassword, Password, PasswordHash, Username};
use crate::video::{
    JobLease, JobQueueStats, MediaJob, ProcessedFiles, Video, VideoChanges, VideoSearch,
};

#[async_trait]
pub trait UserRepository: Send + Sync {
    /// Fails with `RepoError::Duplicate` when the username or email is taken.
    async fn insert(&self, user: NewUser) -> Result<User, RepoError>;
    async fn find_by_id(&self, id: Id) -> Result<Option<User>, RepoError>;
    async fn find_by_login(&self, login: &LoginId) -> Result<Option<User>, RepoError>;
    /// Which of the two unique values already belong to someone (for a precise 409 before any
    /// file is stored; the unique indexes still decide races).
    async fn taken(&self, username: &Username, email: &Email) -> Result<(bool, bool), RepoError>;
    /// The summaries of these users, in one query (missing ones are left out).
    async fn summaries(&self, ids: &[Id]) -> Result<Vec<UserSummary>, RepoError>;
    async fn update_account(
        &self,
        id: Id,
        changes: &AccountChanges,
    ) -> Result<Option<User>, RepoError>;
    async fn set_password(&self, id: Id, hash: &PasswordHash) -> Result<bool, RepoError>;
    async fn set_image(
        &self,
        id: Id,
        image: ProfileImage,
        media: &StoredMedia,
    ) -> Result<Option<User>, RepoError>;
}

#[async_trait]
pub trait VideoRepository: Send + Sync {
    fn next_id(&self) -> Id;
    async fn insert(&self, video: &Video) -> Result<(), RepoError>;
    async fn find_by_id(&self, id: Id) -> Result<Option<Video>, RepoError>;
    /// Records the processed files, unless a job claim with a larger fence wrote the video
    /// already (`false`: this worker's lease was taken over).
    async fn mark_ready(
        &self,
        id: Id,
        fence: u64,
        files: &ProcessedFiles,
        duration_seconds: f64,
    ) -> Result<bool, RepoError>;
    /// Marks processing failed, on the same terms as `mark_ready`.
    async fn mark_failed(&self, id: Id, fence: u64, reason: &str) -> Result<bool, RepoError>;
    /// Records how far processing has got (percent), on the same terms as `mark_ready`.
    async fn mark_progress(&self, id: Id, fence: u64, percent: u8) -> Result<bool, RepoError>;
    /// Records the stream a store made of a ready video's file (`MediaStore::made_stream`), on
    /// the same terms as `mark_ready`.
    async fn set_stream(&self, id: Id, fence: u64, stream: &StoredMedia)
        -> Result<bool, RepoError>;
    /// A page of the catalogue: published, ready videos, plus the viewer's own in every state.
    async fn search(
        &self,
        search: &VideoSearch,
        page: PageRequest,
    ) -> Result<Page<Video>, RepoError>;
    /// The video whose file (its video file in `Videos`, its thumbnail in `Thumbnails`) is
    /// stored as `asset_id`.
    async fn holding_file(
        &self,
        folder: MediaFolder,
        asset_id: &str,
    ) -> Result<Option<Video>, RepoError>;
    /// These videos, in one query (missing ones are left out, order not kept).
    async fn find_many(&self, ids: &[Id]) -> Result<Vec<Video>, RepoError>;
    /// Which of these videos the viewer may see (published and ready, or their own), in one
    /// query that reads ids only.
    async fn visible_among(&self, viewer: Option<Id>, ids: &[Id])
        -> Result<HashSet<Id>, RepoError>;
    async fn update_details(
        &self,
        id: Id,
        changes: &VideoChanges,
        thumbnail: Option<&StoredMedia>,
    ) -> Result<Option<Video>, RepoError>;
    async fn set_published(&self, id: Id, published: bool) -> Result<Option<Video>, RepoError>;
    /// Records that the video's files moved (see `MediaStore::set_public`), if the video is still
    /// as `seen` (published or not, its status, its files): `None` when it changed or is gone.
    async fn move_files(
        &self,
        seen: &Video,
        video_file: Option<&StoredMedia>,
        thumbnail: Option<&StoredMedia>,
    ) -> Result<Option<Video>, RepoError>;
    /// `false` when there was nothing to delete.
    async fn delete(&self, id: Id) -> Result<bool, RepoError>;
    async fn add_view(&self, id: Id) -> Result<(), RepoError>;
    /// How many videos the owner has and their views.
    async fn channel_totals(&self, owner: Id) -> Result<ChannelTotals, RepoError>;
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChannelTotals {
    pub videos: u64,
    pub views: u64,
}

/// Who follows which channel: one document per (subscriber, channel), unique.
#[async_trait]
pub trait SubscriptionRepository: Send + Sync {
    /// `false` when the subscription already existed.
    async fn subscribe(
        &self,
        subscriber: Id,
        channel: Id,
        at: DateTime<Utc>,
    ) -> Result<bool, RepoError>;
    /// `false` when there was none.
    async fn unsubscribe(&self, subscriber: Id, channel: Id) -> Result<bool, RepoError>;
    async fn is_subscribed(&self, subscriber: Id, channel: Id) -> Result<bool, RepoError>;
    /// The user's subscriber count and how many channels they follow, in one query.
    async fn counts(&self, user: Id) -> Result<SubscriptionCounts, RepoError>;
    /// A page of the channel's subscribers, newest first, from after `after` when given.
    async fn subscribers(
        &self,
        channel: Id,
        page: PageRequest,
        after: Option<&Cursor>,
    ) -> Result<Page<Id>, RepoError>;
    /// A page of the channels the user follows, newest first, from after `after` when given.
    async fn subscriptions(
        &self,
        subscriber: Id,
        page: PageRequest,
        after: Option<&Cursor>,
    ) -> Result<Page<Id>, RepoError>;
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SubscriptionCounts {
    pub subscribers: u64,
    pub subscribed_to: u64,
}

/// Likes: one per (user, target), whatever the target.
#[async_trait]
pub trait LikeRepository: Send + Sync {
    /// `false` when the like already existed. The owner of a liked video is kept on the like, so
    /// a channel's likes are one indexed count.
    async fn like(
        &self,
        user: Id,
        target: LikeTarget,
        target_owner: Id,
        at: DateTime<Utc>,
    ) -> Result<bool, RepoError>;
    /// `false` when there was none.
    async fn unlike(&self, user: Id, target: LikeTarget) -> Result<bool, RepoError>;
    async fn is_liked(&self, user: Id, target: LikeTarget) -> Result<bool, RepoError>;
    /// Likes of the target by anyone but `user`.
    async fn count_others(&self, target: LikeTarget, user: Id) -> Result<u64, RepoError>;
    /// Likes per target, in one aggregation (targets without likes are absent).
    async fn counts(&self, targets: &[LikeTarget]) -> Result<HashMap<LikeTarget, u64>, RepoError>;
    /// Which of these targets the user likes, in one query.
    async fn liked_among(
        &self,
        user: Id,
        targets: &[LikeTarget],
    ) -> Result<HashSet<LikeTarget>, RepoError>;
    /// Likes on all of a channel's videos.
    async fn channel_total(&self, owner: Id) -> Result<u64, RepoError>;
    /// Removes every like of these targets (a deleted video's, its comments', a tweet's).
    async fn remove_targets(&self, targets: &[LikeTarget]) -> Result<(), RepoError>;
    /// How many videos the user likes (hidden or not).
    async fn count_liked_videos(&self, user: Id) -> Result<u64, RepoError>;
    /// Up to `limit` of the videos the user likes, most recently liked first, from after `after`.
    async fn liked_videos(
        &self,
        user: Id,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Vec<LikedVideo>, RepoError>;
}

#[async_trait]
pub trait CommentRepository: Send + Sync {
    async fn insert(
        &self,
        video: Id,
        owner: Id,
        content: &CommentContent,
        at: DateTime<Utc>,
    ) -> Result<Comment, RepoError>;
    async fn find_by_id(&self, id: Id) -> Result<Option<Comment>, RepoError>;
    /// A page of the video's comments, newest first, from after `after` when given.
    async fn by_video(
        &self,
        video: Id,
        page: PageRequest,
        after: Option<&Cursor>,
    ) -> Result<Page<Comment>, RepoError>;
    async fn update_content(
        &self,
        id: Id,
        content: &CommentContent,
    ) -> Result<Option<Comment>, RepoError>;
    /// `false` when there was nothing to delete.
    async fn delete(&self, id: Id) -> Result<bool, RepoError>;
    /// The ids of up to `limit` of the video's comments (any of them).
    async fn ids_of_video(&self, video: Id, limit: u32) -> Result<Vec<Id>, RepoError>;
    async fn delete_many(&self, ids: &[Id]) -> Result<(), RepoError>;
}

/// Playlists, and their entries: one record per (playlist, video), unique, so concurrent adds
/// neither duplicate nor lose an entry.
#[async_trait]
pub trait PlaylistRepository: Send + Sync {
    async fn insert(
        &self,
        owner: Id,
        name: &PlaylistName,
        description: &PlaylistDescription,
        at: DateTime<Utc>,
    ) -> Result<Playlist, RepoError>;
    async fn find_by_id(&self, id: Id) -> Result<Option<Playlist>, RepoError>;
    /// A page of the user's playlists, newest first, from after `after` when given.
    async fn by_owner(
        &self,
        owner: Id,
        page: PageRequest,
        after: Option<&Cursor>,
    ) -> Result<Page<Playlist>, RepoError>;
    async fn update_details(
        &self,
        id: Id,
        changes: &PlaylistChanges,
    ) -> Result<Option<Playlist>, RepoError>;
    /// Deletes the playlist, then its entries. `false` when there was no playlist.
    async fn delete(&self, id: Id) -> Result<bool, RepoError>;
    /// `false` when the video was already in the playlist (it keeps its place).
    async fn add_video(
        &self,
        playlist: Id,
        video: Id,
        at: DateTime<Utc>,
    ) -> Result<bool, RepoError>;
    /// `false` when the video was not in the playlist.
    async fn remove_video(&self, playlist: Id, video: Id) -> Result<bool, RepoError>;
    /// How many videos the playlist holds.
    async fn count_videos(&self, playlist: Id) -> Result<u64, RepoError>;
    /// Each playlist's videos in the order they were added, in one query.
    async fn videos_of(&self, playlists: &[Id]) -> Result<HashMap<Id, Vec<Id>>, RepoError>;
    /// Takes a deleted video out of every playlist.
    async fn remove_video_everywhere(&self, video: Id) -> Result<(), RepoError>;
}

#[async_trait]
pub trait TweetRepository: Send + Sync {
    async fn insert(
        &self,
        owner: Id,
        content: &TweetContent,
        at: DateTime<Utc>,
    ) -> Result<Tweet, RepoError>;
    async fn find_by_id(&self, id: Id) -> Result<Option<Tweet>, RepoError>;
    /// A page of the user's tweets, newest first, from after `after` when given.
    async fn by_owner(
        &self,
        owner: Id,
        page: PageRequest,
        after: Option<&Cursor>,
    ) -> Result<Page<Tweet>, RepoError>;
    async fn update_content(
        &self,
        id: Id,
        content: &TweetContent,
    ) -> Result<Option<Tweet>, RepoError>;
    /// `false` when there was nothing to delete.
    async fn delete(&self, id: Id) -> Result<bool, RepoError>;
}

/// Who watched what, when: one entry per (user, video), holding the latest watch.
#[async_trait]
pub trait WatchHistoryRepository: Send + Sync {
    /// Records that the user watched the video at `at` (it moves to the top of their history)
    /// and answers whether the watch counts as a view: it does unless a view of this video by
    /// this user was counted less than `window` before. Of parallel watches one counts. Clearing
    /// the history does not reset the window.
    async fn record_watch(
        &self,
        user: Id,
        video: Id,
        at: DateTime<Utc>,
        window: Duration,
    ) -> Result<bool, RepoError>;
    /// A page of the user's videos, newest watch first, from after `after` when given.
    async fn page(
        &self,
        user: Id,
        page: PageRequest,
        after: Option<&Cursor>,
    ) -> Result<Page<Id>, RepoError>;
    /// Removes the video from the user's history; answers whether it was there.
    async fn forget(&self, user: Id, video: Id) -> Result<bool, RepoError>;
    async fn clear(&self, user: Id) -> Result<(), RepoError>;
    /// Every entry and view record of a deleted video.
    async fn remove_video(&self, video: Id) -> Result<(), RepoError>;
    /// Deletes the records of views counted more than `window` before `now`: they can no longer
    /// keep a watch from counting.
    async fn sweep(&self, now: DateTime<Utc>, window: Duration) -> Result<(), RepoError>;
}

/// Documents attached to videos.
#[async_trait]
pub trait AttachmentRepository: Send + Sync {
    fn next_id(&self) -> Id;
    /// Adds the attachment unless its video already has `max`: `false` then. Concurrent adds
    /// never take a video past `max`.
    async fn insert_within(&self, attachment: &Attachment, max: u32) -> Result<bool, RepoError>;
    /// The video's attachments, oldest first.
    async fn of_video(&self, video: Id) -> Result<Vec<Attachment>, RepoError>;
    async fn find(&self, id: Id) -> Result<Option<Attachment>, RepoError>;
    /// Removes the attachment; answers it if it was there.
    async fn delete(&self, id: Id) -> Result<Option<Attachment>, RepoError>;
    /// Records that the attachment's file moved (`MediaStore::set_public`) from `from` to `to`,
    /// if it is still recorded at `from`: `false` when it changed or went meanwhile.
    async fn move_file(
        &self,
        id: Id,
        from: &StoredMedia,
        to: &StoredMedia,
    ) -> Result<bool, RepoError>;
    /// The attachment whose file is `asset_id`.
    async fn holding_file(&self, asset_id: &str) -> Result<Option<Attachment>, RepoError>;
    /// Removes every attachment of a deleted video; answers them, for their files to go too.
    async fn remove_video(&self, video: Id) -> Result<Vec<Attachment>, RepoError>;
}

/// The state of resumable uploads (`ResumableUpload`); their bytes are on disk.
#[async_trait]
pub trait ResumableUploadRepository: Send + Sync {
    fn next_id(&self) -> Id;
    async fn insert(&self, upload: &ResumableUpload) -> Result<(), RepoError>;
    async fn find(&self, id: Id) -> Result<Option<ResumableUpload>, RepoError>;
    /// Records that the upload now holds `to` bytes and expires at `expires_at`, if it still
    /// held `from` and had no video: `false` when another request moved it meanwhile.
    async fn advance(
        &self,
        id: Id,
        from: u64,
        to: u64,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, RepoError>;
    /// Records the video published from the complete upload, kept until `expires_at` so that a
    /// client that missed the answer can ask again.
    async fn complete(
        &self,
        id: Id,
        video: Id,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, RepoError>;
    async fn remove(&self, id: Id) -> Result<bool, RepoError>;
    /// Up to `limit` uploads in `spool` whose time ran out by `now`, finished or not.
    async fn expired(
        &self,
        spool: &str,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ResumableUpload>, RepoError>;
}

/// The durable queue of media jobs.
#[async_trait]
pub trait MediaJobRepository: Send + Sync {
    fn next_id(&self) -> Id;
    async fn insert(&self, job: &MediaJob) -> Result<(), RepoError>;
    /// Leases the next due job that no live lease holds (a crashed worker's job is taken over
    /// once its lease runs out) for `lease`. Exactly one caller wins each claim, and each claim of
    /// a job has a larger fence than the one before.
    async fn claim_next(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Option<JobLease>, RepoError>;
    /// Extends the lease to `now + lease`; `false` when the job was claimed by someone else
    /// meanwhile (the holder must stop).
    async fn renew(
        &self,
        lease: &JobLease,
        now: DateTime<Utc>,
        lease_for: Duration,
    ) -> Result<bool, RepoError>;
    /// Gives the job back after a failed (or interrupted) attempt, to be tried again from
    /// `not_before`; `false`, writing nothing, when the lease was taken over.
    async fn retry_later(
        &self,
        lease: &JobLease,
        attempts: u32,
        error: &str,
        not_before: DateTime<Utc>,
    ) -> Result<bool, RepoError>;
    /// Deletes a job that ended; `false`, deleting nothing, when the lease was taken over.
    async fn finish(&self, lease: &JobLease) -> Result<bool, RepoError>;
    /// Deletes a job that never got its video (see `VideoService::publish`), whoever holds it.
    async fn remove(&self, id: Id) -> Result<(), RepoError>;
    /// How many jobs there are, and how long the first due, unleased one has waited.
    async fn queue_stats(&self, now: DateTime<Utc>) -> Result<JobQueueStats, RepoError>;
}

#[async_trait]
pub trait SessionRepository: Send + Sync {
    /// A fresh id, needed before the session exists because its tokens carry it.
    fn next_id(&self) -> Id;
    /// Stores a new session whose first refresh token has this fingerprint.
    async fn insert(&self, session: &Session, token_hash: &str) -> Result<(), RepoError>;
    async fn find(&self, id: Id) -> Result<Option<Session>, RepoError>;
    /// Spends the presented refresh token and makes `next` the session's current one, if the
    /// presented token is current or (within the grace) the one replaced last. Of parallel calls
    /// presenting one token exactly one rotates; the others are judged against the session as
    /// that one left it. A failure before the token is spent leaves it unspent (the caller may
    /// retry); once it is spent, `next` is current whatever fails afterwards.
    async fn rotate(&self, rotation: RefreshRotation<'_>) -> Result<Rotation, RepoError>;
    async fn revoke(&self, id: Id) -> Result<(), RepoError>;
    /// Revokes every session of the user but `keep`.
    async fn revoke_others(&self, user_id: Id, keep: Id) -> Result<(), RepoError>;
    /// Deletes what can no longer be used: expired or revoked sessions, records of spent tokens
    /// that no rotation can need any more. Run periodically, not on request paths.
    async fn sweep(&self, now: DateTime<Utc>) -> Result<(), RepoError>;
}

/// Password hashing. Implementations run the slow hash away from async workers.
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    async fn hash(&self, password: &NewPassword) -> Result<PasswordHash, BoxError>;
    /// Checks against `hash`, or, when there is no account, against a dummy hash of the same cost
    /// (always `false`) so that the answer takes as long either way.
    async fn verify(
        &self,
        password: &Password,
        hash: Option<&PasswordHash>,
    ) -> Result<bool, BoxError>;
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("token expired")]
    Expired,
    #[error("token invalid")]
    Invalid,
}

pub trait TokenCodec: Send + Sync {
    fn issue(
        &self,
        kind: TokenKind,
        claims: TokenClaims,
        ttl: Duration,
    ) -> Result<IssuedToken, BoxError>;
    fn verify(&self, kind: TokenKind, token: &str) -> Result<TokenClaims, TokenError>;
    /// A one-way fingerprint of a token, the only form in which refresh tokens are stored.
    fn fingerprint(&self, token: &str) -> String;
}

#[derive(Debug, thiserror::Error)]
pub enum MediaStoreError {
    #[error("media store unavailable")]
    Unavailable(#[source] BoxError),
    #[error("media store failed")]
    Failed(#[source] BoxError),
}

#[async_trait]
pub trait MediaStore: Send + Sync {
    /// Stores a copy of the file (the caller still owns and removes the original). With a `name`,
    /// storing again under that name replaces the earlier copy, which makes retried jobs leave
    /// one copy; without one, the store picks a fresh unique name.
    async fn store(
        &self,
        file: &UploadedFile,
        folder: MediaFolder,
        name: Option<&str>,
    ) -> Result<Stored, MediaStoreError>;
    /// Deleting something already gone is a success.
    async fn delete(&self, media: &StoredMedia) -> Result<(), MediaStoreError>;
    /// Makes a stored file reachable by anyone (`public`) or only through links its owner is
    /// given, and answers where it is now (the same `media` when nothing had to change). A store
    /// that checks access on every request (the local disk, through `/media`) changes nothing;
    /// one that serves from a CDN moves the file to a delivery that needs a signature and makes
    /// the CDN forget the old URL.
    async fn set_public(
        &self,
        media: &StoredMedia,
        public: bool,
    ) -> Result<StoredMedia, MediaStoreError>;
    /// A name for `store` that no one can guess (128 random bits): a stored file is reachable at
    /// its URL, so its name must not follow from anything a client sees (an id, a time).
    fn fresh_name(&self) -> String;
    /// Whether this store keeps HLS packages made here (`store_package`). One that makes its
    /// own streams (Cloudinary) does not, and the server does not transcode for it.
    fn hosts_streams(&self) -> bool {
        false
    }
    /// Whether this store makes HLS streams of the videos stored in it by itself, in the
    /// background (Cloudinary's eager streaming profiles); `made_stream` tells when one is ready.
    fn makes_streams(&self) -> bool {
        false
    }
    /// The HLS stream this store made of `video` (a file stored in `MediaFolder::Videos`),
    /// `None` while it is still being made. It goes with its video: deleting the video deletes
    /// it, and `delete` of the stream itself is a success that does nothing.
    async fn made_stream(
        &self,
        _video: &StoredMedia,
    ) -> Result<Option<StoredMedia>, MediaStoreError> {
        Ok(None)
    }
    /// Stores an HLS package (`files`, relative to `dir`, the master playlist last) as one
    /// asset in `MediaFolder::Streams` under `name`, replacing an earlier one whole: readers see
    /// the old package or the new one, never part of one. The URL is the master playlist's;
    /// `delete` removes the whole package.
    async fn store_package(
        &self,
        _dir: &Path,
        _files: &[PathBuf],
        _name: &str,
    ) -> Result<StoredMedia, MediaStoreError> {
        Err(MediaStoreError::Failed(
            "this store keeps no HLS packages".into(),
        ))
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DirectUploadError {
    #[error("the upload's signature does not match")]
    BadSignature,
    #[error("the upload is not in the caller's folder")]
    ForeignFolder,
    #[error("the upload is not {0}")]
    WrongKind(&'static str),
    #[error("the upload's URL is not the media store's")]
    ForeignUrl,
}

/// Uploads that go from the client straight to the media store (Cloudinary), never through
/// this server: it signs what the client may upload and checks what the client says it did.
pub trait DirectUploads: Send + Sync {
    fn grant(&self, owner: Id, kind: MediaCategory) -> UploadGrant;
    /// Accepts a reported upload only if the store signed it, it lies in the owner's folder and
    /// it is of the expected kind.
    fn verify(
        &self,
        owner: Id,
        kind: MediaCategory,
        report: &DirectUploadReport,
    ) -> Result<Stored, DirectUploadError>;
}

/// An allowance of one kind of request per key (a client address, an account): brute-force and
/// flood protection. Kept where every instance sees it, so that a budget is the same whether one
/// instance serves the requests or three.
#[async_trait]
pub trait Throttle: Send + Sync {
    /// Spends one unit of `key`'s allowance; `Some(wait)` when none is left: how long until one
    /// is back.
    async fn spend(&self, key: &str) -> Result<Option<Duration>, RepoError>;
    /// Forgets keys whose allowance is whole again (they are as good as new): run periodically.
    async fn forget_refilled(&self, now: DateTime<Utc>) -> Result<(), RepoError>;
}

/// Tells this process's job worker that a job was queued, so that it starts at once instead of
/// at its next poll (workers of other processes find the job by polling).
pub trait JobWakeup: Send + Sync {
    fn job_queued(&self);
}

/// Told how far a long piece of work has got, in percent, every few seconds at most; awaited
/// before the work goes on.
pub type Progress<'a> = &'a (dyn Fn(u8) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>
         + Send
         + Sync);

/// What a transcode makes: the renditions, with or without sound, of a video this long.
#[derive(Debug, Clone, PartialEq)]
pub struct TranscodeJob {
    pub ladder: Vec<Rendition>,
    pub with_sound: bool,
    pub duration_seconds: Option<f64>,
}

#[derive(Debug, thiserror::Error)]
pub enum VideoToolError {
    /// The file is not a video the tools can read: the upload's fault, and final.
    #[error("the file is not a readable video: {0}")]
    Unreadable(String),
    /// The tools could not do their work (not runnable, killed, timed out, the file not there):
    /// worth another attempt.
    #[error("processing the video failed")]
    Failed(#[source] BoxError),
}

/// Work on a video file by its content (ffmpeg, in `videotube-infra`).
#[async_trait]
pub trait VideoTools: Send + Sync {
    /// What the file holds: streams, codecs, size, length.
    async fn probe(&self, file: &Path) -> Result<VideoProbe, VideoToolError>;
    /// Writes the picture shown `at_seconds` into the video to `out`, as a JPEG (replacing
    /// what is there); answers its size in bytes.
    async fn grab_frame(
        &self,
        video: &Path,
        at_seconds: f64,
        out: &Path,
    ) -> Result<u64, VideoToolError>;
    /// Transcodes the video into an HLS package in `out_dir` (emptied first): a playlist and
    /// segments per rendition of `job.ladder`, in a directory named after it, and `master.m3u8`;
    /// answers the package's files relative to `out_dir`, the master playlist last. Given the
    /// video's length, tells `progress` how far it has got now and then.
    async fn transcode_hls(
        &self,
        video: &Path,
        job: &TranscodeJob,
        out_dir: &Path,
        progress: Progress<'_>,
    ) -> Result<Vec<PathBuf>, VideoToolError>;
}

/// Whether the database answers at all.
#[async_trait]
pub trait DatabaseProbe: Send + Sync {
    async fn ping(&self) -> Result<(), RepoError>;
}

impl From<MediaStoreError> for crate::error::Error {
    fn from(err: MediaStoreError) -> Self {
        match err {
            MediaStoreError::Unavailable(cause) => crate::error::Error::Unavailable(cause),
            MediaStoreError::Failed(cause) => crate::error::Error::Internal(cause),
        }
    }
}
