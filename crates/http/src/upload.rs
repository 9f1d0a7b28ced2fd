//! Receiving multipart forms. File parts are streamed to temp files in the spool directory (never
//! held whole in memory), cut off at their field's size limit, and typed by their magic bytes.
//! The temp files belong to the returned form and are deleted when it is dropped, on every path:
//! success, a validation error, a store error or a client that went away mid-upload.
//! Every route that takes files uses this, with its own `FileRule`s.

use std::collections::HashMap;
use std::path::Path;

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use futures_util::TryStreamExt;
use serde_json::{Map, Value};
use tokio::io::AsyncWriteExt;
use videotube_domain::media::{MediaCategory, MediaType, UploadedFile};
use videotube_domain::FieldError;

use crate::api::ApiError;
use crate::fields::Fields;

/// What one file field accepts.
#[derive(Debug, Clone, Copy)]
pub struct FileRule {
    pub field: &'static str,
    pub max_bytes: u64,
    pub accepts: MediaCategory,
}

/// Limits for the non-file parts of a form.
const MAX_TEXT_BYTES: usize = 64 * 1024;
const MAX_PARTS: usize = 32;
/// Enough leading bytes for every signature `infer` checks among the types we accept.
const SNIFF_BYTES: usize = 64;
pub const SPOOL_PREFIX: &str = "videotube-upload-";

pub struct SpooledFile {
    /// Deletes the spool file when dropped.
    temp: tempfile::TempPath,
    pub file: UploadedFile,
}

pub struct ReceivedForm {
    pub text: Map<String, Value>,
    files: HashMap<&'static str, SpooledFile>,
}

impl ReceivedForm {
    pub fn file(&self, field: &str) -> Option<&UploadedFile> {
        self.files.get(field).map(|f| &f.file)
    }

    /// The file of a required field; a missing one is reported in `fields`.
    pub fn required_file(&self, field: &'static str, fields: &mut Fields) -> Option<&UploadedFile> {
        let file = self.file(field);
        if file.is_none() {
            fields.problem(FieldError::new(field, "is required"));
        }
        file
    }

    /// Moves a spooled file out of the request's reach, into `dir`, for a background job. The
    /// returned guard still deletes it unless `hand_over` says the job now owns it.
    pub fn keep_file(&mut self, field: &str, dir: &Path) -> Result<Option<KeptFile>, ApiError> {
        let Some(spooled) = self.files.remove(field) else {
            return Ok(None);
        };
        let name = format!(
            "{}.{}",
            uuid::Uuid::new_v4().simple(),
            spooled.file.media_type.extension()
        );
        let path = dir.join(name);
        spooled
            .temp
            .persist(&path)
            .map_err(|e| spool_failed(e.error))?;
        Ok(Some(KeptFile {
            file: UploadedFile {
                path,
                ..spooled.file
            },
            handed_over: false,
        }))
    }
}

/// A spooled file kept for a background job; deleted on drop unless handed over.
pub struct KeptFile {
    pub file: UploadedFile,
    handed_over: bool,
}

impl KeptFile {
    pub fn hand_over(mut self) -> UploadedFile {
        self.handed_over = true;
        self.file.clone()
    }
}

impl Drop for KeptFile {
    fn drop(&mut self) {
        if !self.handed_over {
            let _ = std::fs::remove_file(&self.file.path);
        }
    }
}

pub async fn receive(
    mut multipart: Multipart,
    rules: &[FileRule],
    spool_dir: &Path,
) -> Result<ReceivedForm, ApiError> {
    let mut form = ReceivedForm {
        text: Map::new(),
        files: HashMap::new(),
    };
    let mut parts = 0;
    while let Some(field) = multipart.try_next().await.map_err(malformed)? {
        parts += 1;
        if parts > MAX_PARTS {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("A form may have at most {MAX_PARTS} parts"),
            ));
        }
        let name = field
            .content_disposition()
            .and_then(|cd| cd.get_name())
            .unwrap_or_default()
            .to_owned();
        let is_file = field
            .content_disposition()
            .is_some_and(|cd| cd.get_filename().is_some());
        match rules.iter().find(|rule| rule.field == name) {
            Some(rule) => {
                if form.files.contains_key(rule.field) {
                    return Err(field_error(
                        StatusCode::BAD_REQUEST,
                        rule.field,
                        "must be sent only once",
                    ));
                }
                let spooled = spool(field, rule, spool_dir).await?;
                form.files.insert(rule.field, spooled);
            }
            None if is_file => {
                return Err(field_error_owned(
                    StatusCode::BAD_REQUEST,
                    name,
                    "is not a file field of this form",
                ));
            }
            None => {
                let text = read_text(field, &name).await?;
                form.text.insert(name, Value::String(text));
            }
        }
    }
    Ok(form)
}

async fn read_text(mut field: actix_multipart::Field, name: &str) -> Result<String, ApiError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.try_next().await.map_err(malformed)? {
        if bytes.len() + chunk.len() > MAX_TEXT_BYTES {
            return Err(field_error_owned(
                StatusCode::PAYLOAD_TOO_LARGE,
                name.to_owned(),
                "is too long",
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|_| {
        field_error_owned(
            StatusCode::BAD_REQUEST,
            name.to_owned(),
            "must be UTF-8 text",
        )
    })
}

async fn spool(
    mut field: actix_multipart::Field,
    rule: &FileRule,
    spool_dir: &Path,
) -> Result<SpooledFile, ApiError> {
    let temp = tempfile::Builder::new()
        .prefix(SPOOL_PREFIX)
        .tempfile_in(spool_dir)
        .map_err(spool_failed)?;
    let (std_file, temp) = temp.into_parts();
    let mut out = tokio::fs::File::from_std(std_file);
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    let mut media_type = None;
    let mut size: u64 = 0;
    while let Some(chunk) = field.try_next().await.map_err(malformed)? {
        size += chunk.len() as u64;
        if size > rule.max_bytes {
            return Err(field_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                rule.field,
                &format!("must be at most {}", human_size(rule.max_bytes)),
            ));
        }
        if media_type.is_none() {
            let wanted = SNIFF_BYTES - head.len();
            head.extend_from_slice(&chunk[..wanted.min(chunk.len())]);
            if head.len() == SNIFF_BYTES {
                media_type = Some(sniff(&head, rule)?);
            }
        }
        out.write_all(&chunk).await.map_err(spool_failed)?;
    }
    out.flush().await.map_err(spool_failed)?;
    if size == 0 {
        return Err(field_error(StatusCode::BAD_REQUEST, rule.field, "is empty"));
    }
    let media_type = match media_type {
        Some(t) => t,
        None => sniff(&head, rule)?,
    };
    Ok(SpooledFile {
        file: UploadedFile {
            path: temp.to_path_buf(),
            media_type,
            size,
        },
        temp,
    })
}

/// The type by content; the file name and the declared content type are not trusted.
fn sniff(head: &[u8], rule: &FileRule) -> Result<MediaType, ApiError> {
    infer::get(head)
        .and_then(|kind| MediaType::from_mime(kind.mime_type()))
        .filter(|t| t.category() == rule.accepts)
        .ok_or_else(|| {
            field_error(
                StatusCode::BAD_REQUEST,
                rule.field,
                &format!("must be {}", rule.accepts.describe()),
            )
        })
}

fn human_size(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

fn field_error(status: StatusCode, field: &'static str, message: &str) -> ApiError {
    ApiError::new(status, format!("{field} {message}"))
        .with_errors(vec![FieldError::new(field, message)])
}

/// For fields the client named, which have no static name to report under.
fn field_error_owned(status: StatusCode, field: String, message: &str) -> ApiError {
    ApiError::new(status, format!("{field} {message}"))
}

fn malformed(err: actix_multipart::MultipartError) -> ApiError {
    if let actix_multipart::MultipartError::Payload(e) = &err {
        if crate::slow_clients::is_too_slow(e) {
            return ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "The request body came too slowly",
            );
        }
    }
    ApiError::new(
        StatusCode::BAD_REQUEST,
        format!("Malformed multipart form: {err}"),
    )
}

fn spool_failed(err: std::io::Error) -> ApiError {
    ApiError::from(videotube_domain::Error::internal(err))
}
