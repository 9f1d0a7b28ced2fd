use actix_multipart::Multipart;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use serde_json::{Map, Value};
use videotube_domain::media::DirectUploadReport;
use videotube_domain::video::{Description, Title, Video};
use videotube_domain::{FieldError, Id};

use crate::api::{respond, ApiError};
use crate::auth::AuthUser;
use crate::fields::Fields;
use crate::startup::AppState;
use crate::upload;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("").post(publish))
        .service(web::resource("/{videoId}").get(get_video));
}

/// A video as the original shows it (`videoFile` and `thumbnail` as URLs, `""` until stored),
/// plus its processing `status` and, when that failed, why.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VideoView<'a> {
    #[serde(rename = "_id")]
    id: String,
    video_file: &'a str,
    thumbnail: &'a str,
    title: &'a str,
    description: &'a str,
    duration: f64,
    views: u64,
    is_published: bool,
    owner: String,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_reason: Option<&'a str>,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
}

impl<'a> From<&'a Video> for VideoView<'a> {
    fn from(video: &'a Video) -> Self {
        VideoView {
            id: video.id.to_string(),
            video_file: video.video_file.as_ref().map_or("", |m| m.url.as_str()),
            thumbnail: video.thumbnail.as_ref().map_or("", |m| m.url.as_str()),
            title: video.title.as_str(),
            description: video.description.as_str(),
            duration: video.duration_seconds,
            views: video.views,
            is_published: video.is_published,
            owner: video.owner.to_string(),
            status: video.status.as_str(),
            failure_reason: video.failure_reason.as_deref(),
            created_at: video.created_at,
            updated_at: video.updated_at,
        }
    }
}

/// Two ways in. Multipart `title, description, videoFile, thumbnail`: the files come through
/// this server and are stored in the background (202). JSON `title, description` with
/// `videoFile` and `thumbnail` set to Cloudinary's answers to direct uploads (see
/// `/uploads/signature`): checked and created `ready` at once (201).
async fn publish(
    state: web::Data<AppState>,
    caller: AuthUser,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        publish_uploaded(state, caller, payload).await
    } else {
        publish_files(state, caller, Multipart::new(req.headers(), payload)).await
    }
}

async fn publish_uploaded(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = payload
        .to_bytes_limited(state.json_limit)
        .await
        .map_err(|_| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "Request body is too large"))?
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "Malformed JSON body"))?;
    let body: Map<String, Value> = serde_json::from_slice(&body)
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "Expected a JSON object"))?;
    let (video_report, thumbnail_report) = (
        upload_report(body.get("videoFile")),
        upload_report(body.get("thumbnail")),
    );
    let mut fields = Fields::new(body);
    let title = fields.required(Title::FIELD, |s| Title::parse(&s));
    let description = fields.required(Description::FIELD, |s| Description::parse(&s));
    for (field, report) in [
        ("videoFile", &video_report),
        ("thumbnail", &thumbnail_report),
    ] {
        if report.is_none() {
            fields.problem(FieldError::new(
                field,
                "must be Cloudinary's upload answer: public_id, version, signature, secure_url, resource_type",
            ));
        }
    }
    fields.finish()?;
    let (Some(title), Some(description), Some(video), Some(thumbnail)) =
        (title, description, video_report, thumbnail_report)
    else {
        unreachable!("Fields::finish fails when a required field is missing");
    };
    let video = state
        .videos
        .publish_uploaded(caller.user_id, title, description, &video, &thumbnail)
        .await?;
    Ok(respond(
        StatusCode::CREATED,
        VideoView::from(&video),
        "Video published",
    ))
}

/// Cloudinary's answer to an upload, as a client passes it on (`version` may be a number).
fn upload_report(value: Option<&Value>) -> Option<DirectUploadReport> {
    let answer = value?.as_object()?;
    let text = |key: &str| answer.get(key)?.as_str().map(str::to_owned);
    let version = match answer.get("version")? {
        Value::Number(n) => n.as_u64()?.to_string(),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s.clone(),
        _ => return None,
    };
    let duration_seconds = match answer.get("duration") {
        None | Some(Value::Null) => None,
        Some(value) => Some(value.as_f64()?),
    };
    Some(DirectUploadReport {
        public_id: text("public_id")?,
        version,
        signature: text("signature")?,
        secure_url: text("secure_url")?,
        resource_type: text("resource_type")?,
        duration_seconds,
    })
}

/// Accepts the upload and answers 202: the files are stored by the background job worker, and
/// `GET /videos/:videoId` shows when the video is `ready` (or `failed`, with a reason).
async fn publish_files(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    multipart: Multipart,
) -> Result<HttpResponse, ApiError> {
    let rules = [state.video_rule("videoFile"), state.image_rule("thumbnail")];
    let mut form = upload::receive(multipart, &rules, &state.spool_dir).await?;
    let mut fields = Fields::new(form.text.clone());
    let title = fields.required(Title::FIELD, |s| Title::parse(&s));
    let description = fields.required(Description::FIELD, |s| Description::parse(&s));
    form.required_file("videoFile", &mut fields);
    form.required_file("thumbnail", &mut fields);
    fields.finish()?;
    let (Some(title), Some(description)) = (title, description) else {
        unreachable!("Fields::finish fails when a required field is missing");
    };
    let video_file = form.keep_file("videoFile", &state.jobs_dir)?;
    let thumbnail = form.keep_file("thumbnail", &state.jobs_dir)?;
    let (Some(video_file), Some(thumbnail)) = (video_file, thumbnail) else {
        unreachable!("Fields::finish fails when a required file is missing");
    };
    let video = state
        .videos
        .publish(
            caller.user_id,
            title,
            description,
            video_file.file.clone(),
            thumbnail.file.clone(),
        )
        .await?;
    // The job owns the files now.
    video_file.hand_over();
    thumbnail.hand_over();
    state.job_wake.notify_one();
    Ok(respond(
        StatusCode::ACCEPTED,
        VideoView::from(&video),
        "Video accepted; it is being processed",
    ))
}

async fn get_video(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let video_id = parse_id(&path, "videoId")?;
    let video = state.videos.get(caller.user_id, video_id).await?;
    Ok(respond(
        StatusCode::OK,
        VideoView::from(&video),
        "Video fetched successfully",
    ))
}

/// A malformed id in a path is a 400 naming the parameter.
pub fn parse_id(raw: &str, field: &'static str) -> Result<Id, ApiError> {
    raw.parse().map_err(|e: videotube_domain::id::InvalidId| {
        ApiError::bad_request(vec![videotube_domain::FieldError::new(
            field,
            e.to_string(),
        )])
    })
}
