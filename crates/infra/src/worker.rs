use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Notify};
use videotube_domain::services::{JobStep, UserService, VideoService};

/// The media job worker: runs jobs back to back while there are any, then waits for a wake-up
/// (a new job in this process) or the poll interval (jobs of other processes, retries coming
/// due, leases of crashed workers running out).
///
/// When `stop` turns true it takes no new job; a job it is running gets `grace` to finish and is
/// otherwise given back (`VideoService::release_job`), so no lease is left held by a process that
/// is gone.
pub async fn run_media_jobs(
    videos: Arc<VideoService>,
    wake: Arc<Notify>,
    poll: Duration,
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
        let step = tokio::select! {
            step = videos.run_job(&job) => step,
            _ = out_of_time => {
                tracing::info!(job = %job.id, "stopping: giving the unfinished job back");
                if let Err(err) = videos.release_job(&job).await {
                    tracing::warn!(job = %job.id, error = ?err, "could not give the job back; it is taken over when its lease runs out");
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

/// Deletes dead sessions every `every` (there are no TTL indexes on FerretDB) until `stop`.
pub async fn sweep_sessions(
    users: Arc<UserService>,
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
    }
}
