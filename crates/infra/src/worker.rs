use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Notify};
use videotube_domain::services::{JobStep, UserService, VideoService};

/// The media job worker: runs jobs back to back while there are any, then waits for a wake-up
/// (a new job in this process) or the poll interval (jobs of other processes, retries coming
/// due, leases of crashed workers running out).
///
/// While a job runs its lease is renewed every `renew_every`; if another worker took the job
/// over meanwhile (this one was stalled past its lease), the job is dropped here at once.
///
/// When `stop` turns true it takes no new job; a job it is running gets `grace` to finish and is
/// otherwise given back (`VideoService::release_job`), so no lease is left held by a process that
/// is gone.
pub async fn run_media_jobs(
    videos: Arc<VideoService>,
    wake: Arc<Notify>,
    poll: Duration,
    renew_every: Duration,
    mut stop: watch::Receiver<bool>,
    grace: Duration,
) {
    while !*stop.borrow() {
        let job = match videos.claim_job().await {
            Ok(Some(job)) => job,
            Ok(None) => {
                tokio::select! {
                    _ = tokio::time::timeout(poll, wake.notified()) => {}
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
                match videos.renew_job(&job).await {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(err) => {
                        tracing::warn!(job = %job.job.id, error = ?err, "could not renew a job's lease; trying again")
                    }
                }
            }
        };
        let step = tokio::select! {
            step = videos.run_job(&job) => step,
            () = renewing => Ok(JobStep::LeaseLost),
            _ = out_of_time => {
                tracing::info!(job = %job.job.id, "stopping: giving the unfinished job back");
                if let Err(err) = videos.release_job(&job).await {
                    tracing::warn!(job = %job.job.id, error = ?err, "could not give the job back; it is taken over when its lease runs out");
                }
                return;
            }
        };
        match step {
            Ok(JobStep::Finished { spooled }) => {
                for path in spooled {
                    if let Err(err) = tokio::fs::remove_file(&path).await {
                        if err.kind() != std::io::ErrorKind::NotFound {
                            tracing::warn!(path = %path.display(), error = %err, "could not remove a spooled file");
                        }
                    }
                }
            }
            Ok(JobStep::Retrying) => {}
            Ok(JobStep::LeaseLost) => {
                tracing::warn!(job = %job.job.id, "another worker took the job over; letting it go")
            }
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

/// Every `every` until `stop`, deletes what no request can need any more: dead sessions, spent
/// refresh tokens, view records older than their window (there are no TTL indexes on FerretDB).
pub async fn run_sweeps(
    users: Arc<UserService>,
    videos: Arc<VideoService>,
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
        if let Err(err) = videos.sweep_view_records().await {
            tracing::warn!(error = ?err, "could not sweep old view records; trying again later");
        }
    }
}
