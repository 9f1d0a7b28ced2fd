use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use super::videos::known_duration;
use super::MediaVisibility;
use crate::error::{root_cause, CauseChain, Error};
use crate::media::{
    hls_ladder, plausible_duration, MediaFolder, MediaType, StoredMedia, UploadedFile,
};
use crate::ports::{
    MediaJobRepository, MediaStore, TranscodeJob, VideoRepository, VideoToolError, VideoTools,
};
use crate::video::{JobLease, JobQueueStats, MediaJob, ProcessedFiles, Video, VideoStatus};

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
    /// How often a store that makes its own streams (`MediaStore::makes_streams`) is asked
    /// whether a stored video's stream is ready.
    pub stream_poll: Duration,
    /// How long after publishing a video the worker stops waiting for its stream: the video
    /// stays playable from its file, without `hlsUrl`.
    pub stream_wait: Duration,
}

/// What running a claimed job did.
#[derive(Debug)]
pub enum JobStep {
    /// A job failed and was put back for a later attempt.
    Retrying,
    /// A job ended (ready or failed) and its spooled files may be deleted.
    Finished { spooled: Vec<PathBuf> },
    /// The video is stored and the job was put back to ask for the stream its store makes:
    /// its spooled files may be deleted.
    Waiting { spooled: Vec<PathBuf> },
    /// Another worker claimed the job meanwhile; this one wrote nothing and must let it go.
    LeaseLost,
}

/// A job whose video never appeared (the process died between the two writes of `publish`)
/// is dropped after this long.
const ORPHAN_AFTER: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// Why an attempt did not store a job's video.
enum AttemptError {
    /// The upload can never be stored (it is not a video): the video fails at once.
    Rejected(String),
    /// Something outside the upload failed: the job is tried again later.
    Failed(Error),
}

/// The background work of publishing: checking and storing a published video's files, as
/// durable jobs with leases (a crashed worker's job is taken over) and fencing (a worker that
/// lost its job writes nothing).
pub struct MediaJobService {
    videos: Arc<dyn VideoRepository>,
    jobs: Arc<dyn MediaJobRepository>,
    media: Arc<dyn MediaStore>,
    /// Without them (ffmpeg is not installed) videos are stored as uploaded, unchecked, and
    /// a video published without a thumbnail cannot be stored.
    tools: Option<Arc<dyn VideoTools>>,
    visibility: MediaVisibility,
    policy: JobPolicy,
}

impl MediaJobService {
    /// `visibility` moves a stored video's files where its visibility says.
    pub fn new(
        videos: Arc<dyn VideoRepository>,
        jobs: Arc<dyn MediaJobRepository>,
        media: Arc<dyn MediaStore>,
        tools: Option<Arc<dyn VideoTools>>,
        visibility: MediaVisibility,
        policy: JobPolicy,
    ) -> Self {
        Self {
            visibility,
            videos,
            jobs,
            media,
            tools,
            policy,
        }
    }

    /// Claims a due job for this worker, for the lease's length.
    #[tracing::instrument(name = "MediaJobService::claim", skip_all)]
    pub async fn claim(&self) -> Result<Option<JobLease>, Error> {
        Ok(self.jobs.claim_next(Utc::now(), self.policy.lease).await?)
    }

    #[tracing::instrument(name = "MediaJobService::queue_stats", skip_all)]
    pub async fn queue_stats(&self) -> Result<JobQueueStats, Error> {
        Ok(self.jobs.queue_stats(Utc::now()).await?)
    }

    /// Extends a running job's lease; `false` when another worker took the job over (the lease
    /// had run out), in which case this worker must stop working on it.
    #[tracing::instrument(name = "MediaJobService::renew", skip_all)]
    pub async fn renew(&self, lease: &JobLease) -> Result<bool, Error> {
        Ok(self
            .jobs
            .renew(lease, Utc::now(), self.policy.lease)
            .await?)
    }

    /// Gives a claimed job back at once, its attempt not counted (the worker is stopping), so
    /// that another worker, or this one after a restart, takes it up without waiting for the
    /// lease to run out. Files already stored are replaced by the next attempt.
    #[tracing::instrument(name = "MediaJobService::release", skip_all)]
    pub async fn release(&self, lease: &JobLease) -> Result<(), Error> {
        let job = &lease.job;
        self.jobs
            .retry_later(lease, job.attempts, "interrupted by a shutdown", Utc::now())
            .await?;
        Ok(())
    }

    /// Stores a claimed job's files and records the result. Every write is refused once another
    /// worker holds the job (`JobStep::LeaseLost`).
    #[tracing::instrument(name = "MediaJobService::run", skip_all)]
    pub async fn run(&self, lease: &JobLease) -> Result<JobStep, Error> {
        let job = &lease.job;
        let now = Utc::now();
        let retrying = |done: bool| {
            if done {
                JobStep::Retrying
            } else {
                JobStep::LeaseLost
            }
        };
        let Some(video) = self.videos.find_by_id(job.video_id).await? else {
            if now - job.created_at > ORPHAN_AFTER {
                tracing::warn!(job = %job.id, "dropping a job whose video does not exist");
                return self.finish(lease).await;
            }
            // `publish` may still be writing the video.
            let again = now + chrono::TimeDelta::seconds(2);
            let given_back = self
                .jobs
                .retry_later(lease, job.attempts, "video not written yet", again)
                .await?;
            return Ok(retrying(given_back));
        };
        if video.status == VideoStatus::Ready {
            // Stored by an earlier run, which left the job waiting for the store's stream.
            return self.await_stream(lease, &video).await;
        }
        match self.process(lease).await {
            Ok((files, duration)) => {
                let recorded = self
                    .videos
                    .mark_ready(job.video_id, lease.fence, &files, duration)
                    .await?;
                if !recorded {
                    return Ok(JobStep::LeaseLost);
                }
                tracing::info!(video = %job.video_id, duration, "video ready");
                // Files are stored public; a video hidden meanwhile gets them moved. If that
                // fails, the next toggle of the video aligns them.
                if let Some(video) = self.videos.find_by_id(job.video_id).await? {
                    if let Err(err) = self.visibility.align(video).await {
                        tracing::warn!(video = %job.video_id, error = ?err,
                            "could not make a hidden video's files private");
                    }
                }
                if files.stream.is_none() && self.media.makes_streams() {
                    return self
                        .stream_later(lease, "waiting for the store's stream")
                        .await;
                }
                self.finish(lease).await
            }
            Err(AttemptError::Rejected(reason)) => {
                tracing::info!(video = %job.video_id, reason, "upload rejected");
                self.fail(lease, &reason).await
            }
            Err(AttemptError::Failed(err)) => {
                let attempts = job.attempts + 1;
                tracing::warn!(video = %job.video_id, attempts, error = ?err, "storing the video failed");
                if attempts >= self.policy.max_attempts {
                    let reason = format!(
                        "Storing the video failed after {attempts} attempts ({}); please upload it again",
                        root_cause(&err)
                    );
                    return self.fail(lease, &reason).await;
                }
                let backoff = self.policy.first_backoff * 2u32.saturating_pow(attempts - 1);
                let not_before =
                    now + chrono::TimeDelta::from_std(backoff).unwrap_or(chrono::TimeDelta::MAX);
                let cause = CauseChain(&err).to_string();
                let given_back = self
                    .jobs
                    .retry_later(lease, attempts, &cause, not_before)
                    .await?;
                Ok(retrying(given_back))
            }
        }
    }

    /// Records the stream the store made of a ready video once it is there, asking again every
    /// `stream_poll` until `stream_wait` after publishing, when the video is left without one.
    /// The store failing to answer is not the video's failure: it is asked again.
    async fn await_stream(&self, lease: &JobLease, video: &Video) -> Result<JobStep, Error> {
        let job = &lease.job;
        let file = match (&video.video_file, &video.stream) {
            (Some(file), None) if self.media.makes_streams() => file,
            _ => return self.finish(lease).await,
        };
        let waiting = match self.media.made_stream(file).await {
            Ok(Some(stream)) => {
                if !self
                    .videos
                    .set_stream(job.video_id, lease.fence, &stream)
                    .await?
                {
                    return Ok(JobStep::LeaseLost);
                }
                tracing::info!(video = %job.video_id, "stream ready");
                return self.finish(lease).await;
            }
            Ok(None) => "waiting for the store's stream".to_owned(),
            Err(err) => {
                let err = Error::from(err);
                tracing::warn!(video = %job.video_id, error = ?err, "could not ask for a video's stream");
                format!("asking for the store's stream failed: {}", CauseChain(&err))
            }
        };
        let waited = (Utc::now() - job.created_at).to_std().unwrap_or_default();
        if waited > self.policy.stream_wait {
            tracing::warn!(video = %job.video_id, waited_seconds = waited.as_secs(),
                "gave up waiting for a video's stream; it plays from its file");
            return self.finish(lease).await;
        }
        self.stream_later(lease, &waiting).await
    }

    /// Puts the job back to ask for its stream again, its attempts not counted: after
    /// `stream_poll`, or a quarter of the time waited so far when that is longer, so that a slow
    /// stream costs a few dozen calls to the store's (rate-limited) API, not hundreds.
    async fn stream_later(&self, lease: &JobLease, why: &str) -> Result<JobStep, Error> {
        let now = Utc::now();
        let waited = (now - lease.job.created_at).to_std().unwrap_or_default();
        let wait = self.policy.stream_poll.max(waited / 4);
        let again = now + chrono::TimeDelta::from_std(wait).unwrap_or(chrono::TimeDelta::MAX);
        let given_back = self
            .jobs
            .retry_later(lease, lease.job.attempts, why, again)
            .await?;
        Ok(if given_back {
            JobStep::Waiting {
                spooled: lease.job.spooled(),
            }
        } else {
            JobStep::LeaseLost
        })
    }

    /// Ends the job with its video `failed` for `reason`, shown to the owner.
    async fn fail(&self, lease: &JobLease, reason: &str) -> Result<JobStep, Error> {
        let job = &lease.job;
        if !self
            .videos
            .mark_failed(job.video_id, lease.fence, reason)
            .await?
        {
            return Ok(JobStep::LeaseLost);
        }
        self.finish(lease).await
    }

    /// Ends the job: its spooled files may go, unless another worker took it over meanwhile.
    async fn finish(&self, lease: &JobLease) -> Result<JobStep, Error> {
        Ok(if self.jobs.finish(lease).await? {
            JobStep::Finished {
                spooled: lease.job.spooled(),
            }
        } else {
            JobStep::LeaseLost
        })
    }

    /// Checks the upload is a video, makes its thumbnail when none was uploaded and its HLS
    /// package where the store keeps one (when the tools are installed), then stores it all;
    /// answers what was stored and the video's length.
    async fn process(&self, lease: &JobLease) -> Result<(ProcessedFiles, f64), AttemptError> {
        let job = &lease.job;
        let probed = match &self.tools {
            Some(tools) => {
                let probed = tools.probe(&job.video.path).await.map_err(tool_failure)?;
                let Some(stream) = &probed.video else {
                    return Err(AttemptError::Rejected(
                        "The file has no video stream; please upload a video".into(),
                    ));
                };
                let (width, height) = stream.displayed_size();
                tracing::info!(video = %job.video_id, codec = stream.codec, width, height,
                    audio = probed.audio_codec, duration = probed.duration_seconds, "video probed");
                Some((tools, probed, (width, height)))
            }
            None => None,
        };
        let probed_duration = probed
            .as_ref()
            .and_then(|(_, probed, _)| plausible_duration(probed.duration_seconds));
        let thumbnail =
            match (&job.thumbnail, &probed) {
                (Some(uploaded), _) => uploaded.clone(),
                (None, Some((tools, _, _))) => {
                    let out = job.made_thumbnail_path();
                    let at = thumbnail_moment(probed_duration);
                    let size = tools
                        .grab_frame(&job.video.path, at, &out)
                        .await
                        .map_err(tool_failure)?;
                    UploadedFile {
                        path: out,
                        media_type: MediaType::Jpeg,
                        size,
                    }
                }
                (None, None) => return Err(AttemptError::Rejected(
                    "No thumbnail was uploaded, and this server cannot make one (ffmpeg is not \
                     installed); please publish it again with a thumbnail"
                        .into(),
                )),
            };
        // The package is made whole in the spool and stored in one piece (`store_package`),
        // so a crash mid-transcode leaves nothing published; the next attempt starts over.
        let package = match &probed {
            Some((tools, probed, (width, height))) if self.media.hosts_streams() => {
                let transcode = TranscodeJob {
                    ladder: hls_ladder(*width, *height),
                    with_sound: probed.audio_codec.is_some(),
                    duration_seconds: probed_duration,
                };
                let out = job.stream_dir();
                let report = self.progress_reporter(lease);
                let files = tools
                    .transcode_hls(&job.video.path, &transcode, &out, &report)
                    .await
                    .map_err(tool_failure)?;
                Some((out, files))
            }
            _ => None,
        };
        let (video_file, thumbnail, stored_duration) = self
            .store_files(job, &thumbnail)
            .await
            .map_err(AttemptError::Failed)?;
        let stream = match package {
            Some((dir, files)) => Some(
                self.media
                    .store_package(&dir, &files, &job.name)
                    .await
                    .map_err(|err| AttemptError::Failed(err.into()))?,
            ),
            None => None,
        };
        let duration = known_duration(probed_duration.or(stored_duration), "media job");
        let files = ProcessedFiles {
            video_file,
            thumbnail,
            stream,
        };
        Ok((files, duration))
    }

    /// Records a running job's progress on its video, for the owner to see; a lost write is
    /// only logged (the next report, or the end, brings the video up to date).
    fn progress_reporter(
        &self,
        lease: &JobLease,
    ) -> impl Fn(u8) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync {
        let videos = Arc::clone(&self.videos);
        let (video, fence) = (lease.job.video_id, lease.fence);
        move |percent| {
            let videos = Arc::clone(&videos);
            Box::pin(async move {
                if let Err(err) = videos.mark_progress(video, fence, percent).await {
                    tracing::warn!(%video, error = ?err, "could not record a job's progress");
                }
            })
        }
    }

    /// Stores both files under the job's id, so a retried or taken-over job replaces what an
    /// earlier attempt stored instead of adding a second copy.
    async fn store_files(
        &self,
        job: &MediaJob,
        thumbnail: &UploadedFile,
    ) -> Result<(StoredMedia, StoredMedia, Option<f64>), Error> {
        let name = &job.name;
        let video = self
            .media
            .store(&job.video, MediaFolder::Videos, Some(name))
            .await?;
        let thumbnail = self
            .media
            .store(thumbnail, MediaFolder::Thumbnails, Some(name))
            .await?;
        Ok((video.media, thumbnail.media, video.duration_seconds))
    }
}

/// An unreadable upload is final; the tools failing is worth another attempt.
fn tool_failure(err: VideoToolError) -> AttemptError {
    match err {
        VideoToolError::Unreadable(detail) => AttemptError::Rejected(format!(
            "The file is not a video that can be played ({detail}); please upload a video"
        )),
        err @ VideoToolError::Failed(_) => AttemptError::Failed(Error::internal(err)),
    }
}

/// When a made thumbnail is taken: a little way in, past a fade from black or a title card,
/// but early enough to show what the video opens with.
fn thumbnail_moment(duration: Option<f64>) -> f64 {
    duration.map_or(0.0, |seconds| (seconds * 0.1).min(5.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thumbnail_is_taken_a_tenth_in_and_at_most_five_seconds_in() {
        assert_eq!(thumbnail_moment(Some(2.0)), 0.2);
        assert_eq!(thumbnail_moment(Some(3600.0)), 5.0);
        assert_eq!(thumbnail_moment(None), 0.0);
    }
}
