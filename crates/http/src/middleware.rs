//! One middleware makes every response keep the contract: panics become an opaque 500, errors
//! raised outside handlers (unknown routes, wrong methods, oversized or malformed bodies, CORS)
//! get the JSON envelope instead of actix's plain text, and each response carries its request id
//! and the security headers.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse};
use futures_util::FutureExt;
use tracing_actix_web::RequestId;

use crate::api::{error_body, ApiError};
use crate::origin::{Answering, PublicOrigin};
use crate::startup::AppState;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// HEAD is answered as GET without the body (players, caches and link checkers send it): the
/// request is routed as GET, and the connection, which knows it was HEAD, sends the headers alone.
pub async fn head_as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() == actix_web::http::Method::HEAD {
        req.head_mut().method = actix_web::http::Method::GET;
    }
    next.call(req).await
}

/// Makes the request's public origin (`origin::PublicOrigin`) and the media link signer known
/// to whatever builds the answer: media URLs and `Link` headers are made absolute against it.
pub async fn with_origin(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let origin = req.app_data::<actix_web::web::Data<PublicOrigin>>();
    let state = req.app_data::<actix_web::web::Data<AppState>>();
    match (origin, state) {
        (Some(origin), Some(state)) => {
            let answering = Answering {
                origin: origin.of(req.request()),
                links: Arc::clone(&state.media_links),
            };
            crate::origin::scoped(answering, next.call(req)).await
        }
        _ => next.call(req).await,
    }
}

pub async fn finish_response(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let request_id = req.extensions().get::<RequestId>().map(|id| id.to_string());
    // The request moves into the call, so a failure that comes back without a response leaves as
    // an error; actix renders it through `ApiError::error_response`, which adds the request id.
    match AssertUnwindSafe(next.call(req)).catch_unwind().await {
        Ok(Ok(response)) => {
            let mut response = envelope_errors(response.map_into_boxed_body());
            add_security_headers(response.headers_mut());
            if let Some(id) = request_id
                .as_deref()
                .and_then(|id| HeaderValue::from_str(id).ok())
            {
                response.headers_mut().insert(REQUEST_ID, id);
            }
            Ok(response)
        }
        Ok(Err(err)) => {
            let status = err.as_response_error().status_code();
            Err(ApiError::new(status, generic_message(status))
                .with_request_id(request_id)
                .into())
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("unknown panic");
            tracing::error!(panic = what, "handler panicked");
            let status = StatusCode::INTERNAL_SERVER_ERROR;
            Err(ApiError::new(status, generic_message(status))
                .with_request_id(request_id)
                .into())
        }
    }
}

/// For a JSON API and its media files: nothing here is to be sniffed into another type, framed,
/// or run as a page, no URL leaks through Referer, and answers are not cached unless they say
/// so (media files do). HSTS belongs to whatever terminates TLS in front of the server.
pub fn add_security_headers(headers: &mut header::HeaderMap) {
    for (name, value) in SECURITY_HEADERS {
        let name = header::HeaderName::from_static(name);
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
}

/// What `add_security_headers` adds (also to the answers actix-http writes itself).
pub const SECURITY_HEADERS: [(&str, &str); 5] = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    (
        "content-security-policy",
        "default-src 'none'; frame-ancestors 'none'",
    ),
    ("cache-control", "no-store"),
];

fn generic_message(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "Route not found",
        StatusCode::METHOD_NOT_ALLOWED => "Method not allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "Request body is too large",
        s if s.is_server_error() => "Internal server error",
        s => s.canonical_reason().unwrap_or("Bad request"),
    }
}

/// Rewrites error responses that are not JSON yet (actix's own) into the envelope, keeping their
/// status and headers such as `Allow` or `Retry-After`.
fn envelope_errors(response: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (req, old) = response.into_parts();
    let mut new =
        HttpResponse::build(status).json(error_body(status, generic_message(status), &[]));
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            new.headers_mut().append(name.clone(), value.clone());
        }
    }
    ServiceResponse::new(req, new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::{test, web, App};

    async fn panics() -> HttpResponse {
        panic!("secret internal detail")
    }

    #[actix_web::test]
    async fn a_panicking_handler_answers_an_opaque_500_envelope() {
        let app = test::init_service(
            App::new()
                .wrap(actix_web::middleware::from_fn(finish_response))
                .wrap(tracing_actix_web::TracingLogger::default())
                .route("/boom", web::get().to(panics)),
        )
        .await;
        // The server renders an error that leaves the stack through `error_response`, as here.
        let err = test::try_call_service(&app, test::TestRequest::get().uri("/boom").to_request())
            .await
            .expect_err("a panic leaves as an error");
        let res = err.error_response();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(res.headers().contains_key(REQUEST_ID));
        let body = actix_web::body::to_bytes(res.into_body()).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["success"], false);
        assert_eq!(body["message"], "Internal server error");
        assert!(!body.to_string().contains("secret internal detail"));

        // The worker survived and still answers.
        let res =
            test::call_service(&app, test::TestRequest::get().uri("/nope").to_request()).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let body: serde_json::Value = test::read_body_json(res).await;
        assert_eq!(body["statusCode"], 404);
    }
}
