//! Resumable uploads with the tus 1.0 protocol (<https://tus.io/protocols/resumable-upload>):
//! core, creation, termination, expiration and checksum (`sha1`). A client declares the file's
//! size and the video's title and description (`Upload-Metadata`), then sends the bytes in as
//! many `PATCH`es as it takes; after a cut connection or a server restart it asks where the
//! upload is (`HEAD`) and goes on from there. The bytes go straight to a file in the spool
//! (memory stays flat whatever the size); the last one publishes the video exactly as
//! `POST /videos` does (the `Video-Id` header names it). Every request is authenticated like any
//! write, and an upload is its owner's alone.
//!
//! An upload's bytes are in one spool: requests for it must reach an instance sharing that
//! directory (others answer 409, which tus clients retry). Unfinished uploads expire
//! `media.resumable_expiry_seconds` after their last piece and are swept with their bytes.

use std::collections::HashSet;
use std::io::SeekFrom;
use std::sync::Mutex;

use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::DefaultHeaders;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha1::{Digest, Sha1};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use utoipa::{OpenApi, ToSchema};
use videotube_domain::media::{MediaCategory, MediaType, UploadedFile};
use videotube_domain::resumable::ResumableUpload;
use videotube_domain::video::{Description, Title};
use videotube_domain::Id;

use crate::api::{respond, ApiError, Envelope, ErrorEnvelope};
use crate::auth::AuthUser;
use crate::body::{from_object, Problems, Text};
use crate::routes::Endpoint;
use crate::slow_clients::is_too_slow;
use crate::startup::AppState;
use crate::upload::{field_error, human_size, sniff_type, spool_failed, SNIFF_BYTES};

/// Where uploads are created; each upload is at `PATH/<id>`.
pub const PATH: &str = "/uploads/tus";
const VERSION: &str = "1.0.0";
const EXTENSIONS: &str = "creation,termination,expiration,checksum";
const OFFSET_STREAM: &str = "application/offset+octet-stream";

const TUS_RESUMABLE: HeaderName = HeaderName::from_static("tus-resumable");
const TUS_VERSION: HeaderName = HeaderName::from_static("tus-version");
const TUS_EXTENSION: HeaderName = HeaderName::from_static("tus-extension");
const TUS_MAX_SIZE: HeaderName = HeaderName::from_static("tus-max-size");
const TUS_CHECKSUM_ALGORITHM: HeaderName = HeaderName::from_static("tus-checksum-algorithm");
const UPLOAD_LENGTH: HeaderName = HeaderName::from_static("upload-length");
const UPLOAD_OFFSET: HeaderName = HeaderName::from_static("upload-offset");
const UPLOAD_METADATA: HeaderName = HeaderName::from_static("upload-metadata");
const UPLOAD_EXPIRES: HeaderName = HeaderName::from_static("upload-expires");
const UPLOAD_CHECKSUM: HeaderName = HeaderName::from_static("upload-checksum");
const UPLOAD_DEFER_LENGTH: HeaderName = HeaderName::from_static("upload-defer-length");
/// Names the video a finished upload published (not part of tus).
const VIDEO_ID: HeaderName = HeaderName::from_static("video-id");

/// The request headers a browser client sends, and the response headers it must be able to
/// read (CORS).
pub const REQUEST_HEADERS: [HeaderName; 6] = [
    TUS_RESUMABLE,
    UPLOAD_LENGTH,
    UPLOAD_OFFSET,
    UPLOAD_METADATA,
    UPLOAD_CHECKSUM,
    UPLOAD_DEFER_LENGTH,
];
pub const RESPONSE_HEADERS: [HeaderName; 10] = [
    header::LOCATION,
    TUS_RESUMABLE,
    TUS_VERSION,
    TUS_EXTENSION,
    TUS_MAX_SIZE,
    TUS_CHECKSUM_ALGORITHM,
    UPLOAD_LENGTH,
    UPLOAD_OFFSET,
    UPLOAD_EXPIRES,
    VIDEO_ID,
];

pub fn endpoints() -> Vec<Endpoint> {
    endpoints![
        OPTIONS "/uploads/tus" => capabilities,
        POST "/uploads/tus" => create,
        GET "/uploads/tus/{uploadId}" => status,
        PATCH "/uploads/tus/{uploadId}" => append,
        DELETE "/uploads/tus/{uploadId}" => terminate,
    ]
}

/// Every answer under `PATH`, errors included, says which protocol version it speaks.
pub fn protocol_headers() -> DefaultHeaders {
    DefaultHeaders::new().add((TUS_RESUMABLE, VERSION))
}

/// The uploads a request of this process is writing to: one writer per upload at a time.
#[derive(Default)]
pub struct Writers(Mutex<HashSet<Id>>);

/// This process writes to the upload until dropped.
struct Writing<'a> {
    writers: &'a Writers,
    upload: Id,
}

impl Writers {
    fn start(&self, upload: Id) -> Result<Writing<'_>, ApiError> {
        let mut writing = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !writing.insert(upload) {
            return Err(ApiError::new(
                StatusCode::LOCKED,
                "Another request is writing to this upload; try again once it has ended",
            ));
        }
        Ok(Writing {
            writers: self,
            upload,
        })
    }
}

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        let mut writing = self
            .writers
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        writing.remove(&self.upload);
    }
}

/// What the server supports (tus discovery); no authentication needed.
#[utoipa::path(
    options, path = "/api/v1/uploads/tus", security(()),
    responses((status = 204, description = "`Tus-Version`, `Tus-Extension`, `Tus-Max-Size`, `Tus-Checksum-Algorithm`")),
)]
async fn capabilities(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::NoContent()
        .insert_header((TUS_VERSION, VERSION))
        .insert_header((TUS_EXTENSION, EXTENSIONS))
        .insert_header((TUS_MAX_SIZE, state.upload_limits.video.to_string()))
        .insert_header((TUS_CHECKSUM_ALGORITHM, "sha1"))
        .finish()
}

/// The video an upload publishes, from `Upload-Metadata` (base64 values, as tus sends them;
/// other keys, such as tus-js-client's `filename` and `filetype`, are ignored).
#[derive(Deserialize, ToSchema)]
pub struct UploadMetadata {
    #[schema(value_type = String, min_length = 1, max_length = 100)]
    title: Text,
    #[schema(value_type = String, min_length = 1, max_length = 5000)]
    description: Text,
}

impl TryFrom<UploadMetadata> for (Title, Description) {
    type Error = crate::body::Invalid;

    fn try_from(metadata: UploadMetadata) -> Result<Self, Self::Error> {
        let mut problems = Problems::default();
        let title = problems.required(Title::FIELD, &metadata.title, |s| Title::parse(&s));
        let description = problems.required(Description::FIELD, &metadata.description, |s| {
            Description::parse(&s)
        });
        problems.finish(title.zip(description))
    }
}

/// Begins an upload (tus creation): `Upload-Length` (at most the video limit) and
/// `Upload-Metadata` with `title` and `description`. Answers its URL in `Location`.
#[utoipa::path(
    post, path = "/api/v1/uploads/tus",
    params(
        ("Tus-Resumable" = String, Header, description = "1.0.0"),
        ("Upload-Length" = u64, Header, description = "The file's size in bytes"),
        ("Upload-Metadata" = String, Header, description = "`title <base64>,description <base64>`"),
    ),
    responses(
        (status = 201, description = "Created: `Location` is the upload's URL, `Upload-Expires` when it is dropped unless continued"),
        (status = 400, description = "A header is missing or malformed, or the title or description is invalid", body = ErrorEnvelope),
        (status = 409, description = "The server cannot make thumbnails (no ffmpeg): publish with `POST /videos`", body = ErrorEnvelope),
        (status = 412, description = "Not tus 1.0.0", body = ErrorEnvelope),
        (status = 413, description = "Larger than the video limit", body = ErrorEnvelope),
    ),
)]
async fn create(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    speaks_tus(&req)?;
    if !state.makes_thumbnails {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "Resumable uploads need the server to make the thumbnail, and it has no ffmpeg: \
             publish with POST /videos and a thumbnail",
        ));
    }
    if req.headers().contains_key(UPLOAD_DEFER_LENGTH) {
        return Err(header_error(
            "Upload-Length",
            "is required: uploads of unknown length are not supported",
        ));
    }
    let length = number_header(req.headers(), UPLOAD_LENGTH, "Upload-Length")?
        .ok_or_else(|| header_error("Upload-Length", "is required"))?;
    if length == 0 {
        return Err(header_error("Upload-Length", "must be more than 0"));
    }
    let limit = state.upload_limits.video;
    if length > limit {
        return Err(field_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Upload-Length",
            &format!("must be at most {}", human_size(limit)),
        ));
    }
    let metadata: UploadMetadata = from_object(metadata(req.headers())?)?;
    let (title, description) = metadata.try_into()?;
    let uploads = &state.services.uploads;
    let upload = uploads.draft(
        caller.user_id,
        title,
        description,
        length,
        &state.resumable_dir,
    );
    tokio::fs::File::create_new(&upload.path)
        .await
        .map_err(spool_failed)?;
    if let Err(err) = uploads.begin(&upload).await {
        let _ = tokio::fs::remove_file(&upload.path).await;
        return Err(err.into());
    }
    let location = format!(
        "{}/api/v1{PATH}/{}",
        crate::origin::current().unwrap_or_default(),
        upload.id
    );
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .insert_header((UPLOAD_EXPIRES, http_date(upload.expires_at)))
        .finish())
}

/// A piece of the file, its bytes as they are (a schema only: the body is streamed).
pub struct Piece;

impl utoipa::PartialSchema for Piece {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .into()
    }
}

impl ToSchema for Piece {}

/// An upload as `GET` answers it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UploadView {
    offset: u64,
    length: u64,
    expires_at: DateTime<Utc>,
    /// The video published from it, once complete.
    #[serde(skip_serializing_if = "Option::is_none")]
    video_id: Option<String>,
}

/// Where the upload is (tus `HEAD`, which answers these headers alone): `Upload-Offset` is where
/// the next `PATCH` starts.
#[utoipa::path(
    get, path = "/api/v1/uploads/tus/{uploadId}",
    params(("uploadId" = String, Path, description = "From `Location`")),
    responses(
        (status = 200, description = "`Upload-Offset`, `Upload-Length`, `Upload-Expires`, and `Video-Id` once complete", body = Envelope<UploadView>),
        (status = 404, description = "No such upload of the caller's, or it expired", body = ErrorEnvelope),
        (status = 412, description = "`Tus-Resumable` asks for another version than 1.0.0", body = ErrorEnvelope),
    ),
)]
async fn status(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    req: HttpRequest,
    upload_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    speaks_tus_if_asked(&req)?;
    let upload = state
        .services
        .uploads
        .find(caller.user_id, upload_id_of(&upload_id)?)
        .await?;
    let mut res = respond(
        StatusCode::OK,
        UploadView {
            offset: upload.offset,
            length: upload.length,
            expires_at: upload.expires_at,
            video_id: upload.video_id.map(|id| id.to_string()),
        },
        "Upload found",
    );
    let headers = res.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(UPLOAD_LENGTH, HeaderValue::from(upload.length));
    progress_headers(headers, &upload);
    Ok(res)
}

/// Adds the body's bytes at `Upload-Offset`, which must be where the upload is
/// (`Content-Type: application/offset+octet-stream`). With `Upload-Checksum: sha1 <base64>` the
/// piece is kept only if it matches. The last byte publishes the video (`Video-Id`).
#[utoipa::path(
    patch, path = "/api/v1/uploads/tus/{uploadId}",
    params(
        ("uploadId" = String, Path, description = "From `Location`"),
        ("Upload-Offset" = u64, Header, description = "Where this piece starts"),
        ("Upload-Checksum" = Option<String>, Header, description = "`sha1 <base64 digest of the piece>`"),
    ),
    request_body(content = Piece, content_type = "application/offset+octet-stream"),
    responses(
        (status = 204, description = "Kept: `Upload-Offset` is where the upload is now; `Video-Id` once it published the video"),
        (status = 404, description = "No such upload of the caller's, or it expired", body = ErrorEnvelope),
        (status = 409, description = "`Upload-Offset` is not where the upload is, or its bytes are on another instance's spool", body = ErrorEnvelope),
        (status = 410, description = "The upload's bytes are gone from the spool; start again", body = ErrorEnvelope),
        (status = 412, description = "Not tus 1.0.0", body = ErrorEnvelope),
        (status = 413, description = "More bytes than the upload's length", body = ErrorEnvelope),
        (status = 415, description = "Not `application/offset+octet-stream`, or the file is not a video (the upload is dropped)", body = ErrorEnvelope),
        (status = 423, description = "Another request is writing to this upload", body = ErrorEnvelope),
        (status = 460, description = "The piece does not match `Upload-Checksum`; it was not kept", body = ErrorEnvelope),
    ),
)]
async fn append(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    req: HttpRequest,
    upload_id: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    speaks_tus(&req)?;
    let content_type = req.headers().get(header::CONTENT_TYPE);
    if content_type.and_then(|v| v.to_str().ok()) != Some(OFFSET_STREAM) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Content-Type must be {OFFSET_STREAM}"),
        ));
    }
    let offset = number_header(req.headers(), UPLOAD_OFFSET, "Upload-Offset")?
        .ok_or_else(|| header_error("Upload-Offset", "is required"))?;
    let checksum = expected_checksum(req.headers())?;
    let id = upload_id_of(&upload_id)?;
    let uploads = &state.services.uploads;
    // Found again once this request is the upload's only writer here: the first look may be
    // stale by then.
    uploads.find(caller.user_id, id).await?;
    let _writing = state.resumable_writers.start(id)?;
    let upload = uploads.find(caller.user_id, id).await?;
    if !uploads.is_here(&upload) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "This upload's bytes are on another instance's spool; try again",
        ));
    }
    if offset != upload.offset {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "Upload-Offset is {offset} but the upload is at {}; ask where it is (HEAD) and go on from there",
                upload.offset
            ),
        ));
    }
    if upload.video_id.is_some() {
        // A client that missed the last answer.
        return Ok(appended(&upload));
    }
    let room = upload.length - upload.offset;
    let declared = number_header(req.headers(), header::CONTENT_LENGTH, "Content-Length")?;
    if declared.is_some_and(|length| length > room) {
        return Err(too_long(room));
    }

    // `cut`: whether the body broke off, and if so whether for coming too slowly.
    let (kept, cut) = match receive(&upload, body, room).await? {
        Received::Whole { bytes, sha1 } => {
            if checksum.as_ref().is_some_and(|expected| *expected != sha1) {
                discard_after(&upload).await?;
                return Err(ApiError::new(
                    StatusCode::from_u16(460).expect("a valid status"),
                    "The piece does not match Upload-Checksum; it was not kept",
                ));
            }
            (bytes, None)
        }
        // A cut piece cannot be checked against its checksum: it is dropped, to be sent again.
        Received::Cut { too_slow, .. } if checksum.is_some() => {
            discard_after(&upload).await?;
            (0, Some(too_slow))
        }
        Received::Cut { bytes, too_slow } => (bytes, Some(too_slow)),
    };
    let upload = match kept {
        0 => upload,
        _ => uploads.advance(&upload, upload.offset + kept).await?,
    };
    let media_type = match sniffed(&upload).await? {
        Sniff::TooShort => None,
        Sniff::Video(media_type) => Some(media_type),
        Sniff::NotVideo => {
            let _ = uploads.terminate(caller.user_id, upload.id).await;
            let _ = tokio::fs::remove_file(&upload.path).await;
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "The file must be {}; the upload was dropped",
                    MediaCategory::Video.describe()
                ),
            ));
        }
    };
    match cut {
        Some(true) => {
            return Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "The body came too slowly; what arrived is kept",
            ))
        }
        // Nobody reads this answer: the client asks where the upload is (HEAD).
        Some(false) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "The body broke off; what arrived is kept",
            ))
        }
        None => {}
    }
    match (upload.is_complete(), media_type) {
        (true, Some(media_type)) => publish(&state, upload, media_type).await,
        _ => Ok(appended(&upload)),
    }
}

/// Publishes the complete upload's file, moved into the jobs' spool for its job.
async fn publish(
    state: &AppState,
    upload: ResumableUpload,
    media_type: MediaType,
) -> Result<HttpResponse, ApiError> {
    let kept = state.jobs_dir.join(format!(
        "{}.{}",
        uuid::Uuid::new_v4().simple(),
        media_type.extension()
    ));
    tokio::fs::rename(&upload.path, &kept)
        .await
        .map_err(spool_failed)?;
    let file = UploadedFile {
        path: kept.clone(),
        media_type,
        size: upload.length,
    };
    match state.services.uploads.publish(&upload, file).await {
        Ok(video) => Ok(appended(&ResumableUpload {
            video_id: Some(video.id),
            ..upload
        })),
        Err(err) => {
            // Back where a retried last PATCH (of no bytes) finds it.
            let _ = tokio::fs::rename(&kept, &upload.path).await;
            Err(err.into())
        }
    }
}

/// Ends an upload at its owner's request (tus termination): its bytes are deleted.
#[utoipa::path(
    delete, path = "/api/v1/uploads/tus/{uploadId}",
    params(("uploadId" = String, Path, description = "From `Location`")),
    responses(
        (status = 204, description = "Ended and deleted"),
        (status = 404, description = "No such upload of the caller's, or it expired", body = ErrorEnvelope),
        (status = 412, description = "Not tus 1.0.0", body = ErrorEnvelope),
        (status = 423, description = "A request is writing to it", body = ErrorEnvelope),
    ),
)]
async fn terminate(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    req: HttpRequest,
    upload_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    speaks_tus(&req)?;
    let id = upload_id_of(&upload_id)?;
    let _writing = state.resumable_writers.start(id)?;
    let upload = state.services.uploads.terminate(caller.user_id, id).await?;
    if let Err(err) = tokio::fs::remove_file(&upload.path).await {
        if err.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(path = %upload.path.display(), error = %err, "could not remove an ended upload's bytes");
        }
    }
    Ok(HttpResponse::NoContent().finish())
}

/// What a `PATCH` body brought.
enum Received {
    Whole {
        bytes: u64,
        sha1: Vec<u8>,
    },
    /// The body broke off (a cut connection, or a client too slow for the body guard): what
    /// arrived is written.
    Cut {
        bytes: u64,
        too_slow: bool,
    },
}

/// Writes the body at the upload's offset, at most `room` bytes (more is a 413, and nothing of
/// it is kept). Bytes past the recorded offset, left by a request that died before recording
/// them, are dropped first.
async fn receive(
    upload: &ResumableUpload,
    mut body: web::Payload,
    room: u64,
) -> Result<Received, ApiError> {
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .open(&upload.path)
        .await
        .map_err(|err| match err.kind() {
            std::io::ErrorKind::NotFound => ApiError::new(
                StatusCode::GONE,
                "This upload's bytes are gone; start again",
            ),
            _ => spool_failed(err),
        })?;
    file.set_len(upload.offset).await.map_err(spool_failed)?;
    file.seek(SeekFrom::Start(upload.offset))
        .await
        .map_err(spool_failed)?;
    // Hashed whether or not a checksum came: SHA-1 runs far faster than the disk writes.
    let mut hasher = Sha1::new();
    let mut bytes: u64 = 0;
    let mut cut = None;
    while let Some(chunk) = body.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(err) => {
                cut = Some(is_too_slow(&err));
                break;
            }
        };
        bytes += chunk.len() as u64;
        if bytes > room {
            drop(file);
            discard_after(upload).await?;
            return Err(too_long(room));
        }
        hasher.update(&chunk);
        file.write_all(&chunk).await.map_err(spool_failed)?;
    }
    // Kept means on disk: the offset recorded next must survive a crash of the machine.
    file.sync_data().await.map_err(spool_failed)?;
    Ok(match cut {
        Some(too_slow) => Received::Cut { bytes, too_slow },
        None => Received::Whole {
            bytes,
            sha1: hasher.finalize().to_vec(),
        },
    })
}

/// Drops whatever follows the upload's recorded offset in its file.
async fn discard_after(upload: &ResumableUpload) -> Result<(), ApiError> {
    let file = tokio::fs::OpenOptions::new()
        .write(true)
        .open(&upload.path)
        .await
        .map_err(spool_failed)?;
    file.set_len(upload.offset).await.map_err(spool_failed)
}

/// What the upload's first bytes say it is.
enum Sniff {
    /// Too few bytes are there yet to tell.
    TooShort,
    Video(MediaType),
    NotVideo,
}

async fn sniffed(upload: &ResumableUpload) -> Result<Sniff, ApiError> {
    if upload.offset < SNIFF_BYTES as u64 && !upload.is_complete() {
        return Ok(Sniff::TooShort);
    }
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    tokio::fs::File::open(&upload.path)
        .await
        .map_err(spool_failed)?
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut head)
        .await
        .map_err(spool_failed)?;
    Ok(sniff_type(&head, MediaCategory::Video).map_or(Sniff::NotVideo, Sniff::Video))
}

/// 204 with where the upload is.
fn appended(upload: &ResumableUpload) -> HttpResponse {
    let mut res = HttpResponse::NoContent().finish();
    progress_headers(res.headers_mut(), upload);
    res
}

fn progress_headers(headers: &mut HeaderMap, upload: &ResumableUpload) {
    headers.insert(UPLOAD_OFFSET, HeaderValue::from(upload.offset));
    match upload.video_id {
        Some(video) => {
            let video = HeaderValue::from_str(&video.to_string()).expect("hex digits");
            headers.insert(VIDEO_ID, video);
        }
        None => {
            let expires = HeaderValue::from_str(&http_date(upload.expires_at)).expect("ASCII");
            headers.insert(UPLOAD_EXPIRES, expires);
        }
    }
}

fn too_long(room: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("The upload has room for {room} more bytes; nothing of this piece was kept"),
    )
}

/// Refuses requests that do not speak tus 1.0.0 (412, with the versions spoken).
fn speaks_tus(req: &HttpRequest) -> Result<(), ApiError> {
    match req.headers().get(TUS_RESUMABLE) {
        Some(version) if version == VERSION => Ok(()),
        _ => Err(version_refused()),
    }
}

/// Refuses requests that ask for another version of tus; a plain `GET` of an upload, which
/// asks for none, is answered too.
fn speaks_tus_if_asked(req: &HttpRequest) -> Result<(), ApiError> {
    match req.headers().get(TUS_RESUMABLE) {
        Some(version) if version != VERSION => Err(version_refused()),
        _ => Ok(()),
    }
}

fn version_refused() -> ApiError {
    ApiError::new(
        StatusCode::PRECONDITION_FAILED,
        format!("Tus-Resumable must be {VERSION}, the tus version this server speaks (Tus-Version: {VERSION})"),
    )
}

/// A malformed upload id is an upload that does not exist.
fn upload_id_of(raw: &str) -> Result<Id, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::from(videotube_domain::Error::NotFound("Upload not found")))
}

fn header_error(header: &'static str, message: &str) -> ApiError {
    field_error(StatusCode::BAD_REQUEST, header, message)
}

fn number_header(
    headers: &HeaderMap,
    name: HeaderName,
    shown: &'static str,
) -> Result<Option<u64>, ApiError> {
    let Some(value) = headers.get(name) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse().ok())
        .map(Some)
        .ok_or_else(|| header_error(shown, "must be a whole number of bytes"))
}

/// `Upload-Checksum: sha1 <base64>`; other algorithms are a 400, as tus says.
fn expected_checksum(headers: &HeaderMap) -> Result<Option<Vec<u8>>, ApiError> {
    let Some(value) = headers.get(UPLOAD_CHECKSUM) else {
        return Ok(None);
    };
    let malformed = || header_error("Upload-Checksum", "must be `sha1 <base64 digest>`");
    let (algorithm, digest) = value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .ok_or_else(malformed)?;
    if algorithm != "sha1" {
        return Err(header_error(
            "Upload-Checksum",
            "uses an algorithm this server does not support (Tus-Checksum-Algorithm: sha1)",
        ));
    }
    base64::engine::general_purpose::STANDARD
        .decode(digest)
        .ok()
        .filter(|digest| digest.len() == 20)
        .map(Some)
        .ok_or_else(malformed)
}

/// `Upload-Metadata`: comma-separated `key base64-value` pairs (a key alone has an empty
/// value), as the fields of an object.
fn metadata(headers: &HeaderMap) -> Result<Map<String, Value>, ApiError> {
    let mut fields = Map::new();
    let Some(raw) = headers.get(UPLOAD_METADATA) else {
        return Ok(fields);
    };
    let malformed = |message: &str| header_error("Upload-Metadata", message);
    let raw = raw
        .to_str()
        .map_err(|_| malformed("must be ASCII: `key base64-value` pairs"))?;
    for pair in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, encoded) = pair.split_once(' ').unwrap_or((pair, ""));
        let value = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| malformed(&format!("{key}: the value must be base64 of UTF-8 text")))?;
        if fields
            .insert(key.to_owned(), Value::String(value))
            .is_some()
        {
            return Err(malformed(&format!("{key} is given twice")));
        }
    }
    Ok(fields)
}

/// An HTTP date (RFC 9110), as `Upload-Expires` carries it.
fn http_date(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

#[derive(OpenApi)]
#[openapi(paths(capabilities, create, status, append, terminate))]
pub struct Api;
