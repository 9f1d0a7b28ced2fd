//! Files of the local media store, at `/media/...`: range requests (206, so players can seek),
//! the content type by extension, long-lived caching (every stored name is unique and never
//! reused), and nothing outside the media directory, whatever the path says.

use std::path::{Component, Path};

use actix_files::NamedFile;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::api::ApiError;
use crate::startup::AppState;

pub async fn serve(
    req: HttpRequest,
    state: web::Data<AppState>,
    tail: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "Media not found");
    let relative = Path::new(tail.as_str());
    let plain = relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)));
    if !plain || tail.is_empty() {
        return Err(not_found());
    }
    // Resolving links as well as `..` catches a symlink that points out of the directory.
    let resolved = tokio::fs::canonicalize(state.media_root.join(relative))
        .await
        .map_err(|_| not_found())?;
    if !resolved.starts_with(&state.media_root) {
        return Err(not_found());
    }
    let file = NamedFile::open_async(&resolved)
        .await
        .map_err(|_| not_found())?;
    if !file.metadata().is_file() {
        return Err(not_found());
    }
    let mut response = file
        .use_etag(true)
        .use_last_modified(true)
        .into_response(&req);
    if response.status().is_success() {
        let headers = response.headers_mut();
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        );
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
    }
    Ok(response)
}
