//! Receiving multipart forms. File parts are streamed to temp files in the spool directory (never
//! held whole in memory), cut off at their field's size limit, and typed by their magic bytes.
//! The temp files belong to the returned form and are deleted when it is dropped, on every path:
//! success, a validation error, a store error or a client that went away mid-upload.
//! Every route that takes files uses this: a form is a type implementing [`MultipartForm`], whose
//! fields are its text parts (read like a JSON body, see `body`) and whose `FILES` are its file
//! parts; both the receiver and the OpenAPI schema ([`MultipartSchema`]) are made from it.

use std::borrow::Cow;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::path::Path;

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use futures_util::TryStreamExt;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tokio::io::AsyncWriteExt;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};
use videotube_domain::media::{MediaCategory, MediaType, UploadedFile};
use videotube_domain::FieldError;

use crate::api::ApiError;
use crate::body::{from_object, Problems};

/// A file part of a form, declared once for the receiver and for the schema.
#[derive(Debug, Clone, Copy)]
pub struct FileField {
    pub name: &'static str,
    pub accepts: MediaCategory,
    pub required: bool,
    /// Shown in the schema.
    pub description: &'static str,
}

/// A multipart form: the implementing struct holds its text parts, `FILES` its file parts.
pub trait MultipartForm: DeserializeOwned + ToSchema {
    const FILES: &'static [FileField];
}

/// The schema of form `T` as one object: `T`'s own properties, and a binary one per file.
pub struct MultipartSchema<T>(PhantomData<T>);

impl<T: MultipartForm> PartialSchema for MultipartSchema<T> {
    fn schema() -> RefOr<Schema> {
        let mut schema = T::schema();
        if let RefOr::T(Schema::Object(object)) = &mut schema {
            for file in T::FILES {
                let kinds = if file.required {
                    SchemaType::Type(Type::String)
                } else {
                    SchemaType::from_iter([Type::String, Type::Null])
                };
                let description = (!file.description.is_empty()).then_some(file.description);
                let property = ObjectBuilder::new()
                    .schema_type(kinds)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
                    .description(description)
                    .build();
                object
                    .properties
                    .insert(file.name.to_owned(), Schema::Object(property).into());
                if file.required {
                    object.required.push(file.name.to_owned());
                }
            }
        }
        schema
    }
}

impl<T: MultipartForm> ToSchema for MultipartSchema<T> {
    fn name() -> Cow<'static, str> {
        T::name()
    }
}

/// The largest file each kind of file part may be.
#[derive(Debug, Clone, Copy)]
pub struct SizeLimits {
    pub image: u64,
    pub video: u64,
    pub document: u64,
}

impl SizeLimits {
    fn of(self, category: MediaCategory) -> u64 {
        match category {
            MediaCategory::Image => self.image,
            MediaCategory::Video => self.video,
            MediaCategory::Document => self.document,
        }
    }
}

/// Limits for the non-file parts of a form.
const MAX_TEXT_BYTES: usize = 64 * 1024;
const MAX_PARTS: usize = 32;
/// Enough leading bytes for every signature `infer` checks among the types we accept.
pub const SNIFF_BYTES: usize = 64;
pub const SPOOL_PREFIX: &str = "videotube-upload-";

/// A received file in the spool, deleted when this is dropped unless kept.
pub struct Spooled {
    temp: tempfile::TempPath,
    file: UploadedFile,
    /// The name the client gave the file, as sent: for display only, never for storing.
    name: Option<String>,
}

impl Spooled {
    pub fn file(&self) -> &UploadedFile {
        &self.file
    }

    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Moves the file out of the request's reach, into `dir`, for a background job. The
    /// returned guard still deletes it unless `hand_over` says the job now owns it.
    pub fn keep_in(self, dir: &Path) -> Result<KeptFile, ApiError> {
        let name = format!(
            "{}.{}",
            uuid::Uuid::new_v4().simple(),
            self.file.media_type.extension()
        );
        let path = dir.join(name);
        self.temp
            .persist(&path)
            .map_err(|e| spool_failed(e.error))?;
        Ok(KeptFile {
            file: UploadedFile { path, ..self.file },
            handed_over: false,
        })
    }
}

/// A received form: its text parts as `T`, and its files, deleted when this is dropped.
pub struct Received<T> {
    pub text: T,
    files: HashMap<&'static str, Spooled>,
}

impl<T: MultipartForm> Received<T> {
    pub fn file(&self, field: &FileField) -> Option<&UploadedFile> {
        self.files.get(field.name).map(Spooled::file)
    }

    /// The file's name as the client gave it (`filename` of its part).
    pub fn file_name(&self, field: &FileField) -> Option<&str> {
        self.files.get(field.name).and_then(Spooled::name)
    }

    /// Takes a file out of the form, to outlive it.
    pub fn take(&mut self, field: &FileField) -> Option<Spooled> {
        self.files.remove(field.name)
    }

    /// What is wrong with the files: every required one that was not sent. A form's `TryFrom`
    /// starts from these and adds its text fields' problems.
    pub fn problems(&self) -> Problems {
        let mut problems = Problems::default();
        for field in T::FILES {
            if field.required && !self.files.contains_key(field.name) {
                problems.add(FieldError::new(field.name, "is required"));
            }
        }
        problems
    }
}

/// What one file part accepts.
struct FileRule {
    field: &'static str,
    max_bytes: u64,
    accepts: MediaCategory,
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

/// Receives form `T`: its files spooled under `spool_dir` within `limits`, its text read as `T`.
pub async fn receive<T: MultipartForm>(
    mut multipart: Multipart,
    limits: SizeLimits,
    spool_dir: &Path,
) -> Result<Received<T>, ApiError> {
    let rules: Vec<FileRule> = T::FILES
        .iter()
        .map(|file| FileRule {
            field: file.name,
            max_bytes: limits.of(file.accepts),
            accepts: file.accepts,
        })
        .collect();
    let mut text = Map::new();
    let mut files = HashMap::new();
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
                if files.contains_key(rule.field) {
                    return Err(field_error(
                        StatusCode::BAD_REQUEST,
                        rule.field,
                        "must be sent only once",
                    ));
                }
                let spooled = spool(field, rule, spool_dir).await?;
                files.insert(rule.field, spooled);
            }
            None if is_file => {
                return Err(field_error_owned(
                    StatusCode::BAD_REQUEST,
                    name,
                    "is not a file field of this form",
                ));
            }
            None => {
                let value = read_text(field, &name).await?;
                text.insert(name, Value::String(value));
            }
        }
    }
    Ok(Received {
        text: from_object(text)?,
        files,
    })
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
) -> Result<Spooled, ApiError> {
    let name = field
        .content_disposition()
        .and_then(|cd| cd.get_filename())
        .map(str::to_owned);
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
    Ok(Spooled {
        file: UploadedFile {
            path: temp.to_path_buf(),
            media_type,
            size,
        },
        temp,
        name,
    })
}

/// The type of a file of `category` by its first bytes (`SNIFF_BYTES` of them, or the whole
/// file when shorter): `None` when it is not one we accept.
pub fn sniff_type(head: &[u8], category: MediaCategory) -> Option<MediaType> {
    infer::get(head)
        .and_then(|kind| MediaType::from_mime(kind.mime_type()))
        .filter(|t| t.category() == category)
}

/// The type by content; the file name and the declared content type are not trusted.
fn sniff(head: &[u8], rule: &FileRule) -> Result<MediaType, ApiError> {
    sniff_type(head, rule.accepts).ok_or_else(|| {
        field_error(
            StatusCode::BAD_REQUEST,
            rule.field,
            &format!("must be {}", rule.accepts.describe()),
        )
    })
}

pub fn human_size(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

pub fn field_error(status: StatusCode, field: &'static str, message: &str) -> ApiError {
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

pub fn spool_failed(err: std::io::Error) -> ApiError {
    ApiError::from(videotube_domain::Error::internal(err))
}
