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

/// 200 while the database answers a ping, 503 (still the envelope) while it does not.
#[utoipa::path(
    get, path = "/api/v1/healthcheck", security(()),
    responses(
        (status = 200, description = "The database answers", body = Envelope<Health>),
        (status = 503, description = "The database does not answer", body = ErrorEnvelope),
    ),
)]
pub async fn healthcheck(state: web::Data<AppState>) -> HttpResponse {
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
        Err(_) => {
            let status = StatusCode::SERVICE_UNAVAILABLE;
            HttpResponse::build(status).json(error_body(status, "Database unavailable", &[]))
        }
    }
}

#[derive(OpenApi)]
#[openapi(paths(healthcheck))]
pub struct Api;
