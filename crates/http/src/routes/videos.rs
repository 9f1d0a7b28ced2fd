use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Serialize;
use videotube_domain::video::{Description, Title, Video};
use videotube_domain::Id;

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

/// Accepts the upload and answers 202: the files are stored by the background job worker, and
/// `GET /videos/:videoId` shows when the video is `ready` (or `failed`, with a reason).
async fn publish(
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
