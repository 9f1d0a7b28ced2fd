//! Publishing a video: files through this server (a background job stores them) or uploaded
//! straight to Cloudinary.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use videotube_domain::media::{DirectUploadReport, MediaCategory};
use videotube_domain::video::{Description, Title};
use videotube_domain::FieldError;

use super::{answer_written, is_json, read_json};
use crate::api::{ApiError, Envelope, ErrorEnvelope};
use crate::auth::AuthUser;
use crate::body::{from_object, Field, Invalid, Problems, Text};
use crate::routes::views::WatchView;
use crate::startup::AppState;
use crate::upload::{self, FileField, KeptFile, MultipartForm, MultipartSchema, Received, Spooled};

/// Multipart upload through this server.
#[derive(Deserialize, ToSchema)]
pub struct PublishForm {
    #[schema(value_type = String, min_length = 1, max_length = 100)]
    title: Text,
    #[schema(value_type = String, min_length = 1, max_length = 5000)]
    description: Text,
}

const VIDEO_FILE: FileField = FileField {
    name: "videoFile",
    accepts: MediaCategory::Video,
    required: true,
    description: "MP4, QuickTime, WebM or Matroska, up to the video limit (2 GiB by default).",
};

/// Optional where the server can make one (see `AppState::makes_thumbnails`).
pub(super) const THUMBNAIL: FileField = FileField {
    name: "thumbnail",
    accepts: MediaCategory::Image,
    required: false,
    description: "Required unless the server has ffmpeg (its default install), which then makes \
                  one from a frame of the video.",
};

/// What `PublishForm` is in the OpenAPI description (utoipa takes no generic type there).
type PublishFormSchema = MultipartSchema<PublishForm>;

impl MultipartForm for PublishForm {
    const FILES: &'static [FileField] = &[VIDEO_FILE, THUMBNAIL];
}

/// A video to publish from files received here.
pub struct NewUpload {
    title: Title,
    description: Description,
    video_file: Spooled,
    thumbnail: Option<Spooled>,
}

impl NewUpload {
    /// `thumbnail_required`: the server cannot make one.
    fn parse(mut form: Received<PublishForm>, thumbnail_required: bool) -> Result<Self, Invalid> {
        let mut problems = form.problems();
        if thumbnail_required && form.file(&THUMBNAIL).is_none() {
            problems.add(FieldError::new(THUMBNAIL.name, "is required"));
        }
        let title = problems.required(Title::FIELD, &form.text.title, |s| Title::parse(&s));
        let description = problems.required(Description::FIELD, &form.text.description, |s| {
            Description::parse(&s)
        });
        let upload = match (title, description, form.take(&VIDEO_FILE)) {
            (Some(title), Some(description), Some(video_file)) => Some(NewUpload {
                title,
                description,
                video_file,
                thumbnail: form.take(&THUMBNAIL),
            }),
            _ => None,
        };
        problems.finish(upload)
    }
}

/// Files uploaded straight to Cloudinary (see `/uploads/signature`), passed on as Cloudinary
/// answered.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublishUploaded {
    #[schema(value_type = String, min_length = 1, max_length = 100)]
    title: Text,
    #[schema(value_type = String, min_length = 1, max_length = 5000)]
    description: Text,
    #[schema(value_type = CloudinaryAnswer)]
    video_file: Field<CloudinaryAnswer>,
    #[schema(value_type = CloudinaryAnswer)]
    thumbnail: Field<CloudinaryAnswer>,
}

/// The fields of Cloudinary's upload answer the server checks (it answers more).
#[derive(Deserialize, ToSchema)]
pub struct CloudinaryAnswer {
    public_id: String,
    /// A number, or its digits as a string.
    #[schema(value_type = u64)]
    #[serde(deserialize_with = "version_digits")]
    version: String,
    signature: String,
    secure_url: String,
    resource_type: String,
    duration: Option<f64>,
}

/// Cloudinary's `version`: a number, or its digits as a string; kept as the digits it signed.
fn version_digits<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::Number(n) if n.is_u64() => Ok(n.to_string()),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => Ok(s),
        _ => Err(serde::de::Error::custom("not a version number")),
    }
}

impl From<CloudinaryAnswer> for DirectUploadReport {
    fn from(answer: CloudinaryAnswer) -> Self {
        DirectUploadReport {
            public_id: answer.public_id,
            version: answer.version,
            signature: answer.signature,
            secure_url: answer.secure_url,
            resource_type: answer.resource_type,
            duration_seconds: answer.duration,
        }
    }
}

/// A video to publish from files the client uploaded straight to Cloudinary.
pub struct NewDirectUpload {
    title: Title,
    description: Description,
    video_file: DirectUploadReport,
    thumbnail: DirectUploadReport,
}

impl TryFrom<PublishUploaded> for NewDirectUpload {
    type Error = Invalid;

    fn try_from(body: PublishUploaded) -> Result<Self, Invalid> {
        let mut problems = Problems::default();
        let title = problems.required(Title::FIELD, &body.title, |s| Title::parse(&s));
        let description = problems.required(Description::FIELD, &body.description, |s| {
            Description::parse(&s)
        });
        let mut answer = |field: &'static str, answer: Field<CloudinaryAnswer>| match answer {
            Field::Given(answer) => Some(DirectUploadReport::from(answer)),
            Field::Absent | Field::Malformed => {
                problems.add(FieldError::new(
                    field,
                    "must be Cloudinary's upload answer: public_id, version, signature, secure_url, resource_type",
                ));
                None
            }
        };
        let video_file = answer("videoFile", body.video_file);
        let thumbnail = answer("thumbnail", body.thumbnail);
        let upload = match (title, description, video_file, thumbnail) {
            (Some(title), Some(description), Some(video_file), Some(thumbnail)) => {
                Some(NewDirectUpload {
                    title,
                    description,
                    video_file,
                    thumbnail,
                })
            }
            _ => None,
        };
        problems.finish(upload)
    }
}

/// Two ways in. Multipart `title, description, videoFile, thumbnail`: the files come through
/// this server and are stored in the background (202). JSON `title, description` with
/// `videoFile` and `thumbnail` set to Cloudinary's answers to direct uploads (see
/// `/uploads/signature`): checked and created `ready` at once (201).
#[utoipa::path(
    post, path = "/api/v1/videos",
    request_body(content(
        (PublishFormSchema = "multipart/form-data"),
        (PublishUploaded = "application/json"),
    )),
    responses(
        (status = 202, description = "Multipart: accepted, `status` processing; a background job stores the files", body = Envelope<WatchView>),
        (status = 201, description = "JSON (direct uploads): checked and published, `status` ready", body = Envelope<WatchView>),
        (status = 409, description = "JSON: this server stores media itself (no Cloudinary)", body = ErrorEnvelope),
    ),
)]
pub(super) async fn publish(
    state: web::Data<AppState>,
    caller: AuthUser,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    if is_json(&req) {
        publish_uploaded(state, caller, payload).await
    } else {
        publish_files(state, caller, Multipart::new(req.headers(), payload)).await
    }
}

pub(super) async fn publish_uploaded(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body: PublishUploaded = from_object(read_json(&state, payload).await?)?;
    let NewDirectUpload {
        title,
        description,
        video_file,
        thumbnail,
    } = body.try_into()?;
    let video = state
        .services
        .videos
        .publish_uploaded(caller.user_id, title, description, &video_file, &thumbnail)
        .await?;
    answer_written(
        &state,
        caller.user_id,
        video,
        StatusCode::CREATED,
        "Video published",
    )
    .await
}

/// Accepts the upload and answers 202: the files are stored by the background job worker, and
/// `GET /videos/:videoId` shows when the video is `ready` (or `failed`, with a reason).
pub(super) async fn publish_files(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    multipart: Multipart,
) -> Result<HttpResponse, ApiError> {
    let form: Received<PublishForm> =
        upload::receive(multipart, state.upload_limits, &state.spool_dir).await?;
    let NewUpload {
        title,
        description,
        video_file,
        thumbnail,
    } = NewUpload::parse(form, !state.makes_thumbnails)?;
    let video_file = video_file.keep_in(&state.jobs_dir)?;
    let thumbnail = thumbnail
        .map(|file| file.keep_in(&state.jobs_dir))
        .transpose()?;
    let video = state
        .services
        .videos
        .publish(
            caller.user_id,
            title,
            description,
            video_file.file.clone(),
            thumbnail.as_ref().map(|kept| kept.file.clone()),
        )
        .await?;
    // The job owns the files now.
    video_file.hand_over();
    thumbnail.map(KeptFile::hand_over);
    answer_written(
        &state,
        caller.user_id,
        video,
        StatusCode::ACCEPTED,
        "Video accepted; it is being processed",
    )
    .await
}
