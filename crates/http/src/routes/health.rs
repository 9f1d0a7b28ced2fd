//! Probes: liveness (the process serves) and readiness (it can serve requests: the database
//! answers and it is not shutting down).

use std::sync::atomic::Ordering;

use crate::api::{error_body, respond, Envelope, ErrorEnvelope};
use crate::startup::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

#[derive(Serialize, ToSchema)]
pub struct Health {
    status: &'static str,
    database: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct Liveness {
    status: &'static str,
}

/// Readiness: 200 while the database answers a ping; 503 (still the envelope) while it does not
/// and from the moment the process is told to stop. For a load balancer or an orchestrator's
/// readiness probe; a liveness probe wants `/healthcheck/live`.
#[utoipa::path(
    get, path = "/api/v1/healthcheck", security(()),
    responses(
        (status = 200, description = "Ready: the database answers", body = Envelope<Health>),
        (status = 503, description = "Not ready: the database does not answer, or the process is shutting down", body = ErrorEnvelope),
    ),
)]
pub async fn healthcheck(state: web::Data<AppState>) -> HttpResponse {
    let unavailable = |message| {
        let status = StatusCode::SERVICE_UNAVAILABLE;
        HttpResponse::build(status).json(error_body(status, message, &[]))
    };
    if state.draining.load(Ordering::SeqCst) {
        return unavailable("Shutting down");
    }
    // A failure is logged where it happened (the probe's span).
    match state.services.health.check().await {
        Ok(()) => respond(
            StatusCode::OK,
            Health {
                status: "ok",
                database: "up",
            },
            "Health check passed",
        ),
        Err(_) => unavailable("Database unavailable"),
    }
}

/// Liveness: 200 whenever the process answers HTTP, whatever the database does, so that a
/// database outage does not get healthy processes restarted.
#[utoipa::path(
    get, path = "/api/v1/healthcheck/live", security(()),
    responses((status = 200, description = "The process serves", body = Envelope<Liveness>)),
)]
pub async fn live() -> HttpResponse {
    respond(StatusCode::OK, Liveness { status: "ok" }, "Alive")
}

#[derive(OpenApi)]
#[openapi(paths(healthcheck, live))]
pub struct Api;
