//! `/videos/:videoId/attachments`: documents (PDF) attached to a video. The upload is the
//! upload module's, configured: one file field that accepts documents, under its own limit
//! (`APP_MEDIA__DOCUMENT_MAX_BYTES`).

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use videotube_domain::attachment::{Attachment, AttachmentTitle};
use videotube_domain::media::{MediaCategory, UploadedFile};
use videotube_domain::video::Video;

use crate::api::{respond, ApiError, Empty, Envelope, ErrorEnvelope};
use crate::auth::{AuthUser, Viewer};
use crate::body::{Invalid, Text};
use crate::origin::MediaUrl;
use crate::routes::{parse_id, parse_ids};
use crate::startup::AppState;
use crate::upload::{self, FileField, MultipartForm, MultipartSchema, Received};

/// An attachment's text fields; its file is `FILE`.
#[derive(Deserialize, ToSchema)]
pub struct AttachmentForm {
    /// The file's name (without its extension) when absent.
    #[schema(value_type = Option<String>, min_length = 1, max_length = 200)]
    title: Text,
}

const FILE: FileField = FileField {
    name: "file",
    accepts: MediaCategory::Document,
    required: true,
    description: "A PDF, recognised by its content, up to the document limit (20 MiB by default).",
};

impl MultipartForm for AttachmentForm {
    const FILES: &'static [FileField] = &[FILE];
}

/// What `AttachmentForm` is in the OpenAPI description.
type AttachmentFormSchema = MultipartSchema<AttachmentForm>;

/// An attachment as answered.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentView<'a> {
    #[serde(rename = "_id")]
    id: String,
    title: &'a str,
    /// The PDF, served as a download; like the video's own files, a link to an attachment of a
    /// video that is not public is signed and runs out.
    #[schema(value_type = String)]
    url: MediaUrl<'a>,
    /// In bytes.
    size: u64,
    created_at: chrono::DateTime<chrono::Utc>,
}

impl<'a> AttachmentView<'a> {
    fn of(video: &Video, attachment: &'a Attachment) -> Self {
        AttachmentView {
            id: attachment.id.to_string(),
            title: attachment.title.as_str(),
            url: MediaUrl::of_video(&attachment.file.url, video),
            size: attachment.size,
            created_at: attachment.created_at,
        }
    }
}

/// The form's file, and the title given or one made from the file's name.
fn parse(form: &Received<AttachmentForm>) -> Result<(AttachmentTitle, &UploadedFile), Invalid> {
    let mut problems = form.problems();
    let given = problems.optional(AttachmentTitle::FIELD, &form.text.title, |s| {
        AttachmentTitle::parse(&s)
    });
    let title = given.unwrap_or_else(|| AttachmentTitle::from_file_name(form.file_name(&FILE)));
    problems.finish(form.file(&FILE).map(|file| (title, file)))
}

/// Attaches a PDF to the caller's video (at most 20 per video).
#[utoipa::path(
    post, path = "/api/v1/videos/{videoId}/attachments",
    request_body(content = AttachmentFormSchema, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Attached", body = Envelope<AttachmentView>),
        (status = 403, description = "Not the video's owner", body = ErrorEnvelope),
        (status = 409, description = "The video has 20 attachments already", body = ErrorEnvelope),
    ),
)]
pub(super) async fn attach(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    path: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let video_id = parse_id(&path, "videoId")?;
    let attachments = &state.services.attachments;
    // Before the body is read: a stranger's or a surplus file is refused unread.
    attachments.may_attach(caller.user_id, video_id).await?;
    let multipart = Multipart::new(req.headers(), payload);
    let form: Received<AttachmentForm> =
        upload::receive(multipart, state.upload_limits, &state.spool_dir).await?;
    let (title, file) = parse(&form)?;
    let (video, attachment) = attachments
        .attach(caller.user_id, video_id, title, file)
        .await?;
    Ok(respond(
        StatusCode::CREATED,
        AttachmentView::of(&video, &attachment),
        "Attachment added",
    ))
}

/// The video's attachments, oldest first, for whoever may see the video.
#[utoipa::path(
    get, path = "/api/v1/videos/{videoId}/attachments",
    security((), ("bearerAuth" = []), ("cookieAuth" = [])),
    responses((status = 200, description = "The video's attachments, oldest first", body = Envelope<Vec<AttachmentView>>)),
)]
pub(super) async fn list(
    state: web::Data<AppState>,
    Viewer(viewer): Viewer,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let video_id = parse_id(&path, "videoId")?;
    let (video, attachments) = state.services.attachments.list(viewer, video_id).await?;
    let views: Vec<AttachmentView> = attachments
        .iter()
        .map(|attachment| AttachmentView::of(&video, attachment))
        .collect();
    Ok(respond(StatusCode::OK, views, "Attachments fetched"))
}

/// Removes an attachment of the caller's video; its file is deleted.
#[utoipa::path(
    delete, path = "/api/v1/videos/{videoId}/attachments/{attachmentId}",
    responses(
        (status = 200, description = "Removed, and its file deleted", body = Envelope<Empty>),
        (status = 403, description = "Not the video's owner", body = ErrorEnvelope),
    ),
)]
pub(super) async fn detach(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (video, attachment) = path.into_inner();
    let [video_id, attachment_id] =
        parse_ids([(&video, "videoId"), (&attachment, "attachmentId")])?;
    state
        .services
        .attachments
        .detach(caller.user_id, video_id, attachment_id)
        .await?;
    Ok(respond(StatusCode::OK, Empty {}, "Attachment removed"))
}
