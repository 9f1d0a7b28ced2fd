use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::json;
use videotube_infra::mongo;

use crate::api::{error_body, respond, CauseChain};
use crate::startup::AppState;

/// 200 while the database answers a ping, 503 (still the envelope) while it does not.
pub async fn healthcheck(state: web::Data<AppState>) -> HttpResponse {
    match mongo::ping(&state.db).await {
        Ok(()) => respond(
            StatusCode::OK,
            json!({ "status": "ok", "database": "up" }),
            "Health check passed",
        ),
        Err(err) => {
            tracing::warn!(error = %CauseChain(&err), "healthcheck: database unreachable");
            let status = StatusCode::SERVICE_UNAVAILABLE;
            HttpResponse::build(status).json(error_body(status, "Database unavailable", &[]))
        }
    }
}
