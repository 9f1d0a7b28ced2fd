//! Prometheus metrics: recorded through the `metrics` facade wherever they happen (requests here
//! and in `telemetry`, database operations, password hashing, throttles and job attempts in the
//! infra crate), rendered by `metrics-exporter-prometheus` and served at `/metrics` by a listener
//! of its own (`APP_METRICS__ADDRESS`), never on the API's port.
//!
//! Series:
//! - `http_requests_total`, `http_request_duration_seconds` by `method`, `route` (the pattern)
//!   and `status`
//! - `db_operation_duration_seconds` by `operation` (the repository call, `videos.search`),
//!   `db_operation_errors_total` by `operation` and `kind` (`unavailable`, `other`)
//! - `password_hashes_waiting`, `password_hashes_running`: the bcrypt pool's queue
//! - `throttle_rejections_total` by `throttle` (`login_per_ip`, `login_per_account`,
//!   `register_per_ip`, `refresh_per_ip`)
//! - `media_job_attempts_total` by `outcome` (`finished`, `retrying`, `lease_lost`)
//! - `media_jobs_queued`, `media_jobs_oldest_due_seconds`: read from the database at each scrape

use std::net::TcpListener;
use std::sync::{Arc, OnceLock};

use actix_web::dev::Server;
use actix_web::{web, App, HttpResponse, HttpServer};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::startup::Services;

/// Seconds, from a fast cached read to a slow upload's request.
const SECONDS_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0,
];

/// The process's recorder, installed once (metrics are per process, whatever number of
/// applications a test starts in it).
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("seconds".into()), SECONDS_BUCKETS)
            .expect("the buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed; /metrics stays empty");
        }
        handle
    })
}

/// Installs the recorder; metrics recorded before are lost.
pub fn install() {
    handle();
}

/// The `/metrics` server on `listener`.
pub fn server(listener: TcpListener, services: Arc<Services>) -> std::io::Result<Server> {
    let services = web::Data::from(services);
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(services.clone())
            .route("/metrics", web::get().to(render))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?
    .run())
}

async fn render(services: web::Data<Services>) -> HttpResponse {
    match services.jobs.queue_stats().await {
        Ok(stats) => {
            metrics::gauge!("media_jobs_queued").set(stats.queued as f64);
            metrics::gauge!("media_jobs_oldest_due_seconds")
                .set(stats.oldest_due.map_or(0.0, |age| age.as_secs_f64()));
        }
        Err(err) => tracing::warn!(error = ?err, "could not read the job queue for /metrics"),
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(handle().render())
}
