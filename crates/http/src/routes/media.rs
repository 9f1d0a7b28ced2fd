//! Files of the local media store, at `/media/...`: range requests (206, so players can seek; one
//! range at a time, `If-Range` honoured, else the whole file),
//! the content type by extension, long-lived caching (every stored name is unique and never
//! reused), and nothing outside the media directory, whatever the path says.

use std::collections::HashMap;
use std::path::{Component, Path};

use actix_files::NamedFile;
use actix_web::body::SizedStream;
use actix_web::http::header::{
    self, ContentDisposition, DispositionParam, DispositionType, HeaderValue,
};
use actix_web::http::StatusCode;
use actix_web::{mime, web, HttpRequest, HttpResponse};
use videotube_domain::media::MediaFolder;

use crate::api::ApiError;
use crate::origin::VIDEO_PARAMETER;
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
    // Files of videos that are not public are served to whoever holds a link signed for them
    // (their owner was given one); to anyone else they do not exist.
    let query = web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default();
    let folder = tail.split('/').next().and_then(MediaFolder::parse);
    let holder = query.get(VIDEO_PARAMETER).and_then(|id| id.parse().ok());
    let public = match folder {
        Some(folder) => {
            state
                .services
                .videos
                .file_is_public(folder, tail.as_str(), holder)
                .await?
        }
        None => false,
    };
    if !public && !signed(&req, &query, &state) {
        return Err(not_found());
    }
    let mut file = NamedFile::open_async(&resolved)
        .await
        .map_err(|_| not_found())?;
    if let Some(kind) = stream_type(&resolved) {
        file = file.set_content_type(kind);
    }
    if folder == Some(MediaFolder::Attachments) {
        // Documents are downloaded, never shown in the API's origin.
        let name = resolved
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("attachment.pdf");
        file = file.set_content_disposition(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(name.to_owned())],
        });
    }
    if !file.metadata().is_file() {
        return Err(not_found());
    }
    let mut response = file
        .use_etag(true)
        .use_last_modified(true)
        .into_response(&req);
    if response.status() == StatusCode::PARTIAL_CONTENT && !honours_range(&req, &response) {
        response = whole_file(&resolved, &response)
            .await
            .map_err(|_| not_found())?;
    } else if response.status() == StatusCode::OK
        && response.headers().contains_key(header::CONTENT_RANGE)
    {
        // A range that covers the whole file (`bytes=0-` past its end, clamped) is still a
        // range: 206, as its Content-Range says.
        *response.status_mut() = StatusCode::PARTIAL_CONTENT;
    }
    if response.status().is_success() {
        let caching = match folder {
            // Profile images are public for good, under names never reused.
            Some(MediaFolder::Avatars | MediaFolder::CoverImages) => {
                "public, max-age=31536000, immutable"
            }
            // A video's files are public only while it is: every use asks again (a 304 while
            // nothing changed), so unpublishing takes effect at once.
            _ if public => "public, no-cache",
            _ => "private, no-store",
        };
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(caching));
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
    }
    Ok(response)
}

/// HLS playlists and segments, by extension (`mime_guess` takes `.ts` for TypeScript).
fn stream_type(path: &Path) -> Option<mime::Mime> {
    let kind = match path.extension()?.to_str()? {
        "m3u8" => "application/vnd.apple.mpegurl",
        "ts" => "video/mp2t",
        _ => return None,
    };
    kind.parse().ok()
}

/// Whether the request carries a link signature for its path that has not run out.
fn signed(req: &HttpRequest, query: &HashMap<String, String>, state: &AppState) -> bool {
    match (query.get("expires"), query.get("signature")) {
        (Some(expires), Some(signature)) => {
            state
                .media_links
                .verify(req.path(), expires, signature, chrono::Utc::now())
        }
        _ => false,
    }
}

/// Whether the range actix-files served is what was asked: one range (it answers only the first
/// of several, where the whole file is the right answer), and, under `If-Range`, only while the
/// file is the one the client names (a strong ETag, or exactly its Last-Modified date).
fn honours_range(req: &HttpRequest, served: &HttpResponse) -> bool {
    let asked = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    if asked(header::RANGE.as_str()).is_some_and(|r| r.contains(',')) {
        return false;
    }
    let Some(validator) = asked(header::IF_RANGE.as_str()).map(str::trim) else {
        return true;
    };
    let has = |name| served.headers().get(name).and_then(|v| v.to_str().ok());
    if validator.starts_with('"') {
        has(header::ETAG.as_str()).is_some_and(|etag| etag == validator)
    } else {
        has(header::LAST_MODIFIED.as_str()).is_some_and(|modified| modified == validator)
    }
}

/// The whole file, with the representation headers actix-files chose for `ranged`.
async fn whole_file(path: &Path, ranged: &HttpResponse) -> std::io::Result<HttpResponse> {
    let file = tokio::fs::File::open(path).await?;
    let size = file.metadata().await?.len();
    let mut response = HttpResponse::Ok();
    for name in [
        header::CONTENT_TYPE,
        header::CONTENT_DISPOSITION,
        header::ETAG,
        header::LAST_MODIFIED,
        header::ACCEPT_RANGES,
    ] {
        if let Some(value) = ranged.headers().get(&name) {
            response.insert_header((name, value.clone()));
        }
    }
    let body = tokio_util::io::ReaderStream::new(file);
    Ok(response.body(SizedStream::new(size, body)))
}
