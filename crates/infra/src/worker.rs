use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Notify};
use videotube_domain::ports::JobWakeup;
use videotube_domain::services::{
    JobStep, MediaJobService, ResumableUploadService, UserService, WatchService,
};
use videotube_domain::video::JobLease;
use videotube_domain::Error;

/// How the catalogue wakes this process's job worker when it queues a job.
#[derive(Default)]
pub struct JobBell(Notify);

impl JobWakeup for JobBell {
    fn job_queued(&self) {
        self.0.notify_one();
    }
}

/// The media job worker: runs jobs back to back while there are any, then waits for a wake-up
/// (a new job in this process) or the poll interval (jobs of other processes, retries coming
/// due, leases of crashed workers running out).
///
/// While a job runs its lease is renewed every `renew_every`; if another worker took the job
/// over meanwhile (this one was stalled past its lease), the job is dropped here at once.
///
/// When `stop` turns true it takes no new job; a job it is running gets `grace` to finish and is
/// otherwise given back (`MediaJobService::release`), so no lease is left held by a process that
/// is gone.
pub async fn run_media_jobs(
    jobs: Arc<MediaJobService>,
    bell: Arc<JobBell>,
    poll: Duration,
    renew_every: Duration,
    mut stop: watch::Receiver<bool>,
    grace: Duration,
) {
    while !*stop.borrow() {
        let job = match jobs.claim().await {
            Ok(Some(job)) => {
                // Which instance holds which job, for whoever reads the logs of several.
                tracing::info!(job = %job.job.id, video = %job.job.video_id, fence = job.fence,
                    attempts = job.job.attempts, "job claimed");
                job
            }
            Ok(None) => {
                tokio::select! {
                    _ = tokio::time::timeout(poll, bell.0.notified()) => {}
                    _ = stop.wait_for(|stopping| *stopping) => {}
                }
                continue;
            }
            Err(err) => {
                tracing::error!(error = ?err, "media job worker: the queue is unreachable; waiting");
                tokio::select! {
                    _ = tokio::time::sleep(poll) => {}
                    _ = stop.wait_for(|stopping| *stopping) => {}
                }
                continue;
            }
        };
        let mut stopping = stop.clone();
        let out_of_time = async move {
            let _ = stopping.wait_for(|stopping| *stopping).await;
            tokio::time::sleep(grace).await;
        };
        let renewing = async {
            loop {
                tokio::time::sleep(renew_every).await;
                match jobs.renew(&job).await {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(err) => {
                        tracing::warn!(job = %job.job.id, error = ?err, "could not renew a job's lease; trying again")
                    }
                }
            }
        };
        let step = tokio::select! {
            step = jobs.run(&job) => step,
            () = renewing => Ok(JobStep::LeaseLost),
            _ = out_of_time => {
                tracing::info!(job = %job.job.id, "stopping: giving the unfinished job back");
                if let Err(err) = jobs.release(&job).await {
                    tracing::warn!(job = %job.job.id, error = ?err, "could not give the job back; it is taken over when its lease runs out");
                }
                return;
            }
        };
        match step {
            Ok(step) => after(step, &job).await,
            Err(err) => {
                tracing::error!(error = ?err, "media job worker: a job step failed; waiting");
                tokio::select! {
                    _ = tokio::time::sleep(poll) => {}
                    _ = stop.wait_for(|stopping| *stopping) => {}
                }
            }
        }
    }
}

/// What a worker does once a job step is done: the spooled files of a job that no longer needs
/// them are deleted.
async fn after(step: JobStep, job: &JobLease) {
    let outcome = match step {
        JobStep::Finished { .. } => "finished",
        JobStep::Retrying => "retrying",
        JobStep::Waiting { .. } => "waiting",
        JobStep::LeaseLost => "lease_lost",
    };
    metrics::counter!("media_job_attempts_total", "outcome" => outcome).increment(1);
    match step {
        JobStep::Finished { spooled } | JobStep::Waiting { spooled } => {
            for path in spooled {
                if let Err(err) = crate::remove_path(&path).await {
                    if err.kind() != std::io::ErrorKind::NotFound {
                        tracing::warn!(path = %path.display(), error = %err, "could not remove a spooled file");
                    }
                }
            }
        }
        JobStep::Retrying => {}
        JobStep::LeaseLost => {
            tracing::warn!(job = %job.job.id, "another worker took the job over; letting it go")
        }
    }
}

/// Runs every job that is due, one after the other, until none is: what the worker does
/// between two waits, without the waiting, the lease renewals or the stop signal. For tests
/// and tools that drive the jobs themselves; answers how many job steps ran.
pub async fn run_due_jobs(jobs: &MediaJobService) -> Result<usize, Error> {
    let mut steps = 0;
    while let Some(job) = jobs.claim().await? {
        after(jobs.run(&job).await?, &job).await;
        steps += 1;
    }
    Ok(steps)
}

/// Every `every` until `stop`, deletes what no request can need any more: dead sessions, spent
/// refresh tokens, view records older than their window, expired resumable uploads (there are no
/// TTL indexes on FerretDB).
pub async fn run_sweeps(
    users: Arc<UserService>,
    watching: Arc<WatchService>,
    uploads: Arc<ResumableUploadService>,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|stopping| *stopping) => return,
        }
        if let Err(err) = users.sweep_sessions().await {
            tracing::warn!(error = ?err, "could not sweep dead sessions; trying again later");
        }
        if let Err(err) = users.sweep_throttles().await {
            tracing::warn!(error = ?err, "could not sweep refilled throttle keys; trying again later");
        }
        if let Err(err) = watching.sweep_view_records().await {
            tracing::warn!(error = ?err, "could not sweep old view records; trying again later");
        }
        if let Err(err) = sweep_resumable_uploads(&uploads).await {
            tracing::warn!(error = ?err, "could not sweep expired uploads; trying again later");
        }
    }
}

/// Drops this spool's expired resumable uploads with their bytes; answers how many.
pub async fn sweep_resumable_uploads(uploads: &ResumableUploadService) -> Result<usize, Error> {
    let expired = uploads.sweep_expired().await?;
    for upload in &expired {
        if let Err(err) = crate::remove_path(&upload.path).await {
            if err.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(path = %upload.path.display(), error = %err, "could not remove an expired upload's bytes");
            }
        }
    }
    Ok(expired.len())
}
