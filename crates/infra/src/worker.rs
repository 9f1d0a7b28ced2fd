use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use videotube_domain::services::{JobStep, VideoService};

/// The media job worker: runs jobs back to back while there are any, then waits for a wake-up
/// (a new job in this process) or the poll interval (jobs of other processes, retries coming
/// due, leases of crashed workers running out).
pub async fn run_media_jobs(videos: Arc<VideoService>, wake: Arc<Notify>, poll: Duration) {
    loop {
        match videos.process_next_job().await {
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
            Ok(JobStep::Idle) => {
                let _ = tokio::time::timeout(poll, wake.notified()).await;
            }
            Err(err) => {
                tracing::error!(error = ?err, "media job worker: the queue is unreachable; waiting");
                tokio::time::sleep(poll).await;
            }
        }
    }
}
