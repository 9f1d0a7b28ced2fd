use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use super::{discard, toggle_like, visible_in_order, visible_video, with_owners};
use crate::error::{Error, FieldError};
use crate::like::{LikeTarget, LikedVideo};
use crate::media::{
    plausible_duration, DirectUploadReport, MediaCategory, MediaFolder, StoredMedia, UploadGrant,
    UploadedFile,
};
use crate::ownership::owned_by;
use crate::page::{Cursor, Page, PageRequest};
use crate::ports::{
    CommentRepository, DirectUploads, LikeRepository, MediaJobRepository, MediaStore,
    PlaylistRepository, UserRepository, VideoRepository, WatchHistoryRepository,
};
use crate::user::UserSummary;
use crate::video::{
    Description, JobLease, MediaJob, Title, Video, VideoChanges, VideoSearch, VideoStatus,
};
use crate::Id;

/// How the background job worker behaves.
#[derive(Debug, Clone, Copy)]
pub struct JobPolicy {
    /// How long a claimed job is reserved for its worker; a crashed worker's job is taken over
    /// after this.
    pub lease: Duration,
    /// Attempts before a video is marked `failed`.
    pub max_attempts: u32,
    /// Wait before the second attempt; doubles each time.
    pub first_backoff: Duration,
}

/// What running a claimed job did.
#[derive(Debug)]
pub enum JobStep {
    /// A job failed and was put back for a later attempt.
    Retrying,
    /// A job ended (ready or failed) and its spooled files may be deleted.
    Finished { spooled: Vec<PathBuf> },
    /// Another worker claimed the job meanwhile; this one wrote nothing and must let it go.
    LeaseLost,
}

/// A job whose video never appeared (the process died between the two writes of `publish`)
/// is dropped after this long.
const ORPHAN_AFTER: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// A video with its owner's summary, as lists and the watch page show it.
#[derive(Debug, Clone)]
pub struct VideoWithOwner {
    pub video: Video,
    /// `None` only if the owner's account is gone.
    pub owner: Option<UserSummary>,
}

/// Likes read per query when listing liked videos.
const LIKED_BATCH: u32 = 100;

/// Comments of a deleted video are removed this many at a time.
const COMMENT_BATCH: u32 = 500;

/// Loads of one video by one viewer within this window count as one view.
const VIEW_WINDOW: Duration = Duration::from_secs(30 * 60);

/// What the video service works with.
pub struct VideoPorts {
    pub videos: Arc<dyn VideoRepository>,
    pub jobs: Arc<dyn MediaJobRepository>,
    pub history: Arc<dyn WatchHistoryRepository>,
    pub likes: Arc<dyn LikeRepository>,
    pub comments: Arc<dyn CommentRepository>,
    pub playlists: Arc<dyn PlaylistRepository>,
    pub users: Arc<dyn UserRepository>,
    pub media: Arc<dyn MediaStore>,
    /// Present when the media store takes uploads from clients directly (Cloudinary).
    pub direct: Option<Arc<dyn DirectUploads>>,
}

pub struct VideoService {
    videos: Arc<dyn VideoRepository>,
    jobs: Arc<dyn MediaJobRepository>,
    history: Arc<dyn WatchHistoryRepository>,
    likes: Arc<dyn LikeRepository>,
    comments: Arc<dyn CommentRepository>,
    playlists: Arc<dyn PlaylistRepository>,
    users: Arc<dyn UserRepository>,
    media: Arc<dyn MediaStore>,
    direct: Option<Arc<dyn DirectUploads>>,
    policy: JobPolicy,
}

impl VideoService {
    pub fn new(ports: VideoPorts, policy: JobPolicy) -> Self {
        let VideoPorts {
            videos,
            jobs,
            history,
            likes,
            comments,
            playlists,
            users,
            media,
            direct,
        } = ports;
        Self {
            videos,
            jobs,
            history,
            likes,
            comments,
            playlists,
            users,
            media,
            direct,
            policy,
        }
    }

    fn direct(&self) -> Result<&dyn DirectUploads, Error> {
        self.direct.as_deref().ok_or_else(|| Error::Conflict {
            message: "Direct uploads need Cloudinary; this server stores media itself".into(),
            errors: Vec::new(),
        })
    }

    /// Signed parameters for uploading one file straight to the media store, into the caller's
    /// own folder.
    pub fn grant_upload(&self, owner: Id, kind: MediaCategory) -> Result<UploadGrant, Error> {
        Ok(self.direct()?.grant(owner, kind))
    }

    /// Creates a video from files the client uploaded straight to the media store, after
    /// checking that the store really signed them and that they are the caller's. Nothing is
    /// left to process: the video is `ready` at once.
    #[tracing::instrument(name = "VideoService::publish_uploaded", skip_all)]
    pub async fn publish_uploaded(
        &self,
        owner: Id,
        title: Title,
        description: Description,
        video: &DirectUploadReport,
        thumbnail: &DirectUploadReport,
    ) -> Result<Video, Error> {
        let direct = self.direct()?;
        let video = direct.verify(owner, MediaCategory::Video, video);
        let thumbnail = direct.verify(owner, MediaCategory::Image, thumbnail);
        let (video, thumbnail) = match (video, thumbnail) {
            (Ok(video), Ok(thumbnail)) => (video, thumbnail),
            (video, thumbnail) => {
                let errors = [("videoFile", video.err()), ("thumbnail", thumbnail.err())]
                    .into_iter()
                    .filter_map(|(field, err)| err.map(|e| FieldError::new(field, e.to_string())))
                    .collect();
                return Err(Error::invalid(errors));
            }
        };
        let now = Utc::now();
        let video = Video {
            id: self.videos.next_id(),
            owner,
            title,
            description,
            duration_seconds: known_duration(video.duration_seconds, "direct upload"),
            video_file: Some(video.media),
            thumbnail: Some(thumbnail.media),
            views: 0,
            is_published: true,
            status: VideoStatus::Ready,
            failure_reason: None,
            created_at: now,
            updated_at: now,
        };
        self.videos.insert(&video).await?;
        Ok(video)
    }

    /// Creates the video in the `processing` state with a job to store its files. The job is
    /// written first: if the process dies in between, the worker finds a job without a video
    /// and drops it, whereas a video without a job would stay `processing` for ever.
    #[tracing::instrument(name = "VideoService::publish", skip_all)]
    pub async fn publish(
        &self,
        owner: Id,
        title: Title,
        description: Description,
        video: UploadedFile,
        thumbnail: UploadedFile,
    ) -> Result<Video, Error> {
        let now = Utc::now();
        let job = MediaJob {
            id: self.jobs.next_id(),
            video_id: self.videos.next_id(),
            name: self.media.fresh_name(),
            video,
            thumbnail,
            attempts: 0,
            created_at: now,
        };
        self.jobs.insert(&job).await?;
        let video = Video {
            id: job.video_id,
            owner,
            title,
            description,
            video_file: None,
            thumbnail: None,
            duration_seconds: 0.0,
            views: 0,
            is_published: true,
            status: VideoStatus::Processing,
            failure_reason: None,
            created_at: now,
            updated_at: now,
        };
        if let Err(err) = self.videos.insert(&video).await {
            // Best effort: an orphaned job is dropped by the worker anyway.
            let _ = self.jobs.remove(job.id).await;
            return Err(err.into());
        }
        Ok(video)
    }

    #[tracing::instrument(name = "VideoService::get", skip_all)]
    pub async fn get(&self, viewer: Id, id: Id) -> Result<Video, Error> {
        visible_video(self.videos.as_ref(), viewer, id)
            .await?
            .ok_or(Error::NotFound("Video not found"))
    }

    /// A page of the catalogue, each video with its owner (three queries: page, count, owners).
    #[tracing::instrument(name = "VideoService::list", skip_all)]
    pub async fn list(
        &self,
        search: &VideoSearch,
        page: PageRequest,
    ) -> Result<Page<VideoWithOwner>, Error> {
        let found = self.videos.search(search, page).await?;
        let items = with_owners(self.users.as_ref(), found.items).await?;
        Ok(Page {
            items,
            total: found.total,
            request: found.request,
            next: found.next,
        })
    }

    /// The watch page: the video with its owner. A ready video counts a view (once per viewer
    /// within 30 minutes) and moves to the top of the viewer's history.
    #[tracing::instrument(name = "VideoService::watch", skip_all)]
    pub async fn watch(&self, viewer: Id, id: Id) -> Result<VideoWithOwner, Error> {
        let mut video = self.get(viewer, id).await?;
        if video.status == VideoStatus::Ready
            && self
                .history
                .record_watch(viewer, id, Utc::now(), VIEW_WINDOW)
                .await?
        {
            self.videos.add_view(id).await?;
            video.views += 1;
        }
        let owner = self.users.summaries(&[video.owner]).await?.pop();
        Ok(VideoWithOwner { video, owner })
    }

    /// The viewer's history, newest first, without videos that are gone or hidden since (the
    /// total counts every entry).
    #[tracing::instrument(name = "VideoService::history", skip_all)]
    pub async fn history(
        &self,
        user: Id,
        page: PageRequest,
        after: Option<&Cursor>,
    ) -> Result<Page<VideoWithOwner>, Error> {
        let ids = self.history.page(user, page, after).await?;
        let items =
            visible_in_order(self.videos.as_ref(), self.users.as_ref(), user, &ids.items).await?;
        Ok(Page {
            items,
            total: ids.total,
            request: ids.request,
            next: ids.next,
        })
    }

    /// The videos the user likes, most recently liked first, without those that are gone or
    /// hidden since. Likes are read in batches, each batch's videos checked at once, until the
    /// page is full: at most as many likes as the page's depth allows (see `PageRequest`). The
    /// total is exact when that walk reached the last like; otherwise it is the count of likes
    /// walked less the hidden ones among them, plus the likes left (an upper bound). From a
    /// cursor the walk starts there, and the total is the count of every like (an upper bound).
    #[tracing::instrument(name = "VideoService::liked", skip_all)]
    pub async fn liked(
        &self,
        user: Id,
        page: PageRequest,
        from: Option<&Cursor>,
    ) -> Result<Page<VideoWithOwner>, Error> {
        let wanted = usize::try_from(page.skip() + u64::from(page.limit())).unwrap_or(usize::MAX);
        let (mut shown, mut walked, mut after) = (Vec::new(), 0u64, from.cloned());
        let reached_the_end = loop {
            let batch = self
                .likes
                .liked_videos(user, after.as_ref(), LIKED_BATCH)
                .await?;
            walked += batch.len() as u64;
            let Some(last) = batch.last() else {
                break true;
            };
            after = Some(last.position.clone());
            let last_batch = batch.len() < LIKED_BATCH as usize;
            let ids: Vec<Id> = batch.iter().map(|l| l.video).collect();
            let visible = self.videos.visible_among(user, &ids).await?;
            shown.extend(batch.into_iter().filter(|l| visible.contains(&l.video)));
            if last_batch {
                break true;
            }
            if shown.len() >= wanted {
                break false;
            }
        };
        let total = if from.is_some() {
            self.likes.count_liked_videos(user).await?
        } else if reached_the_end {
            shown.len() as u64
        } else {
            let left = self
                .likes
                .count_liked_videos(user)
                .await?
                .saturating_sub(walked);
            shown.len() as u64 + left
        };
        let on_page: Vec<LikedVideo> = shown
            .into_iter()
            .skip(usize::try_from(page.skip()).unwrap_or(usize::MAX))
            .take(page.limit() as usize)
            .collect();
        let next = on_page
            .last()
            .filter(|_| on_page.len() == page.limit() as usize)
            .map(|l| l.position.clone());
        let ids: Vec<Id> = on_page.iter().map(|l| l.video).collect();
        Ok(Page {
            items: visible_in_order(self.videos.as_ref(), self.users.as_ref(), user, &ids).await?,
            total,
            request: page,
            next,
        })
    }

    /// Whether anyone may fetch a stored file: avatars and covers, and the files of public
    /// videos. Files of other videos (hidden, failed) and files no video holds yet (a job still
    /// storing them) are for their owner only, who gets signed links to them. `holder`, the video
    /// the link names, is looked up by id (which every store serves from its primary index); a
    /// link that names none is answered by looking the file up.
    #[tracing::instrument(name = "VideoService::file_is_public", skip_all)]
    pub async fn file_is_public(
        &self,
        folder: MediaFolder,
        asset_id: &str,
        holder: Option<Id>,
    ) -> Result<bool, Error> {
        if matches!(folder, MediaFolder::Avatars | MediaFolder::CoverImages) {
            return Ok(true);
        }
        let video = match holder {
            Some(id) => self
                .videos
                .find_by_id(id)
                .await?
                .filter(|video| video.holds(folder, asset_id)),
            None => self.videos.holding_file(folder, asset_id).await?,
        };
        Ok(video.is_some_and(|video| video.is_public()))
    }

    /// Deletes view records that can no longer keep a view from counting: run periodically.
    #[tracing::instrument(name = "VideoService::sweep_view_records", skip_all)]
    pub async fn sweep_view_records(&self) -> Result<(), Error> {
        Ok(self.history.sweep(Utc::now(), VIEW_WINDOW).await?)
    }

    #[tracing::instrument(name = "VideoService::forget_watch", skip_all)]
    pub async fn forget_watch(&self, user: Id, video: Id) -> Result<(), Error> {
        Ok(self.history.forget(user, video).await?)
    }

    #[tracing::instrument(name = "VideoService::clear_history", skip_all)]
    pub async fn clear_history(&self, user: Id) -> Result<(), Error> {
        Ok(self.history.clear(user).await?)
    }

    /// Changes title or description and, given a new thumbnail, replaces the old one (whose
    /// file is then deleted).
    #[tracing::instrument(name = "VideoService::update", skip_all)]
    pub async fn update(
        &self,
        caller: Id,
        id: Id,
        changes: VideoChanges,
        thumbnail: Option<&UploadedFile>,
    ) -> Result<Video, Error> {
        if changes.title.is_none() && changes.description.is_none() && thumbnail.is_none() {
            return Err(Error::invalid(vec![FieldError::new(
                Title::FIELD,
                "title, description or thumbnail is required",
            )]));
        }
        let video = self.owned(caller, id).await?;
        let stored = match thumbnail {
            Some(file) => Some(
                self.media
                    .store(file, MediaFolder::Thumbnails, None)
                    .await?
                    .media,
            ),
            None => None,
        };
        let updated = self
            .videos
            .update_details(id, &changes, stored.as_ref())
            .await;
        let updated = match updated {
            Ok(Some(video)) => video,
            other => {
                if let Some(stored) = &stored {
                    discard(self.media.as_ref(), stored).await;
                }
                return Err(other
                    .err()
                    .map_or(Error::NotFound("Video not found"), Error::from));
            }
        };
        if let (Some(_), Some(old)) = (&stored, &video.thumbnail) {
            discard(self.media.as_ref(), old).await;
        }
        if stored.is_some() {
            return self.align_files(updated).await;
        }
        Ok(updated)
    }

    #[tracing::instrument(name = "VideoService::toggle_publish", skip_all)]
    pub async fn toggle_publish(&self, caller: Id, id: Id) -> Result<Video, Error> {
        let video = self.owned(caller, id).await?;
        let toggled = self
            .videos
            .set_published(id, !video.is_published)
            .await?
            .ok_or(Error::NotFound("Video not found"))?;
        self.align_files(toggled).await
    }

    /// Puts the video's files where its visibility says (`MediaStore::set_public`): reachable
    /// by anyone while the video is public, else only through links its owner is given. Run
    /// after every write that changes a video's visibility or files. Files are moved first and
    /// recorded after, on condition that the video did not change meanwhile; if it did, they
    /// are moved back and the video as it is now is aligned instead. (A crash between the two
    /// steps leaves a video whose recorded URLs point where its files were.)
    #[tracing::instrument(name = "VideoService::align_files", skip_all)]
    async fn align_files(&self, mut video: Video) -> Result<Video, Error> {
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

    /// Undoes the moves of `align_files` that were not recorded (best effort: logged if it fails).
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

    /// Deletes the video, then what hangs off it, then its files: once the first step is done
    /// nothing shows the video, so a crash half way leaves only invisible leftovers.
    #[tracing::instrument(name = "VideoService::delete", skip_all)]
    pub async fn delete(&self, caller: Id, id: Id) -> Result<(), Error> {
        let video = self.owned(caller, id).await?;
        if !self.videos.delete(id).await? {
            return Err(Error::NotFound("Video not found"));
        }
        self.history.remove_video(id).await?;
        self.playlists.remove_video_everywhere(id).await?;
        self.likes.remove_targets(&[LikeTarget::Video(id)]).await?;
        // A batch of comments at a time, each batch's likes before its comments: the other order
        // could strand likes for ever.
        loop {
            let batch = self.comments.ids_of_video(id, COMMENT_BATCH).await?;
            if batch.is_empty() {
                break;
            }
            let targets: Vec<LikeTarget> = batch.iter().copied().map(LikeTarget::Comment).collect();
            self.likes.remove_targets(&targets).await?;
            self.comments.delete_many(&batch).await?;
        }
        for media in [&video.video_file, &video.thumbnail].into_iter().flatten() {
            discard(self.media.as_ref(), media).await;
        }
        Ok(())
    }

    /// Likes or unlikes a video the caller can see; answers `(isLiked, likesCount)`.
    #[tracing::instrument(name = "VideoService::toggle_like", skip_all)]
    pub async fn toggle_like(&self, user: Id, id: Id) -> Result<(bool, u64), Error> {
        let video = self.get(user, id).await?;
        toggle_like(
            self.likes.as_ref(),
            user,
            LikeTarget::Video(id),
            video.owner,
        )
        .await
    }

    /// The video, if the caller owns it: 404 when there is none, 403 when it is someone else's.
    async fn owned(&self, caller: Id, id: Id) -> Result<Video, Error> {
        owned_by(self.videos.find_by_id(id).await?, caller)
    }

    /// Claims a due job for this worker, for the lease's length.
    #[tracing::instrument(name = "VideoService::claim_job", skip_all)]
    pub async fn claim_job(&self) -> Result<Option<JobLease>, Error> {
        Ok(self.jobs.claim_next(Utc::now(), self.policy.lease).await?)
    }

    /// Extends a running job's lease; `false` when another worker took the job over (the lease
    /// had run out), in which case this worker must stop working on it.
    #[tracing::instrument(name = "VideoService::renew_job", skip_all)]
    pub async fn renew_job(&self, lease: &JobLease) -> Result<bool, Error> {
        Ok(self
            .jobs
            .renew(lease, Utc::now(), self.policy.lease)
            .await?)
    }

    /// Gives a claimed job back at once, its attempt not counted (the worker is stopping), so
    /// that another worker, or this one after a restart, takes it up without waiting for the
    /// lease to run out. Files already stored are replaced by the next attempt.
    #[tracing::instrument(name = "VideoService::release_job", skip_all)]
    pub async fn release_job(&self, lease: &JobLease) -> Result<(), Error> {
        let job = &lease.job;
        self.jobs
            .retry_later(lease, job.attempts, "interrupted by a shutdown", Utc::now())
            .await?;
        Ok(())
    }

    /// Stores a claimed job's files and records the result. Every write is refused once another
    /// worker holds the job (`JobStep::LeaseLost`).
    #[tracing::instrument(name = "VideoService::run_job", skip_all)]
    pub async fn run_job(&self, lease: &JobLease) -> Result<JobStep, Error> {
        let job = &lease.job;
        let now = Utc::now();
        let spooled = vec![job.video.path.clone(), job.thumbnail.path.clone()];
        let finished = |done: bool| {
            if done {
                JobStep::Finished { spooled }
            } else {
                JobStep::LeaseLost
            }
        };
        let retrying = |done: bool| {
            if done {
                JobStep::Retrying
            } else {
                JobStep::LeaseLost
            }
        };
        if self.videos.find_by_id(job.video_id).await?.is_none() {
            if now - job.created_at > ORPHAN_AFTER {
                tracing::warn!(job = %job.id, "dropping a job whose video does not exist");
                return Ok(finished(self.jobs.finish(lease).await?));
            }
            // `publish` may still be writing the video.
            let again = now + chrono::TimeDelta::seconds(2);
            let given_back = self
                .jobs
                .retry_later(lease, job.attempts, "video not written yet", again)
                .await?;
            return Ok(retrying(given_back));
        }
        match self.store_files(job).await {
            Ok((video_file, thumbnail, duration)) => {
                let recorded = self
                    .videos
                    .mark_ready(job.video_id, lease.fence, &video_file, &thumbnail, duration)
                    .await?;
                if !recorded {
                    return Ok(JobStep::LeaseLost);
                }
                tracing::info!(video = %job.video_id, duration, "video ready");
                // Files are stored public; a video hidden meanwhile gets them moved. If that
                // fails, the next toggle of the video aligns them.
                if let Some(video) = self.videos.find_by_id(job.video_id).await? {
                    if let Err(err) = self.align_files(video).await {
                        tracing::warn!(video = %job.video_id, error = ?err,
                            "could not make a hidden video's files private");
                    }
                }
                Ok(finished(self.jobs.finish(lease).await?))
            }
            Err(err) => {
                let attempts = job.attempts + 1;
                tracing::warn!(video = %job.video_id, attempts, error = ?err, "storing the video failed");
                if attempts >= self.policy.max_attempts {
                    let reason = format!("Storing the video failed after {attempts} attempts; please upload it again");
                    if !self
                        .videos
                        .mark_failed(job.video_id, lease.fence, &reason)
                        .await?
                    {
                        return Ok(JobStep::LeaseLost);
                    }
                    return Ok(finished(self.jobs.finish(lease).await?));
                }
                let backoff = self.policy.first_backoff * 2u32.saturating_pow(attempts - 1);
                let not_before =
                    now + chrono::TimeDelta::from_std(backoff).unwrap_or(chrono::TimeDelta::MAX);
                let given_back = self
                    .jobs
                    .retry_later(lease, attempts, &err.to_string(), not_before)
                    .await?;
                Ok(retrying(given_back))
            }
        }
    }

    /// Stores both files under the job's id, so a retried or taken-over job replaces what an
    /// earlier attempt stored instead of adding a second copy.
    async fn store_files(&self, job: &MediaJob) -> Result<(StoredMedia, StoredMedia, f64), Error> {
        let name = &job.name;
        let video = self
            .media
            .store(&job.video, MediaFolder::Videos, Some(name))
            .await?;
        let thumbnail = self
            .media
            .store(&job.thumbnail, MediaFolder::Thumbnails, Some(name))
            .await?;
        let duration = known_duration(video.duration_seconds, "media job");
        Ok((video.media, thumbnail.media, duration))
    }
}

/// The stored length of a video: what the store read when it is plausible, else 0 (and a
/// warning naming what was read).
fn known_duration(read: Option<f64>, source: &str) -> f64 {
    plausible_duration(read).unwrap_or_else(|| {
        tracing::warn!(
            ?read,
            source,
            "the video's duration is unknown or implausible; recording 0"
        );
        0.0
    })
}
