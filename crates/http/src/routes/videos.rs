use actix_multipart::Multipart;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, OpenApi, ToSchema};
use videotube_domain::media::{DirectUploadReport, MediaCategory, StoredMedia};
use videotube_domain::services::VideoWithOwner;
use videotube_domain::user::UserSummary;
use videotube_domain::video::{
    Description, SearchText, Title, Video, VideoChanges, VideoSearch, VideoSort, VideoStatus,
};
use videotube_domain::{FieldError, Id};

use crate::api::{paginated, respond, ApiError, Empty, Envelope, ErrorEnvelope, Paginated};
use crate::auth::AuthUser;
use crate::body::{from_object, Field, Invalid, Problems, Text};
use crate::origin::MediaUrl;
use crate::routes::Endpoint;
use crate::routes::{parse_id, PageQuery};
use crate::startup::AppState;
use crate::upload::{self, FileField, MultipartForm, MultipartSchema, Received, Spooled};

pub fn endpoints() -> Vec<Endpoint> {
    endpoints![
        GET "/videos" => list,
        POST "/videos" => publish,
        PATCH "/videos/toggle/publish/{videoId}" => toggle_publish,
        GET "/videos/{videoId}" => watch,
        PATCH "/videos/{videoId}" => update,
        DELETE "/videos/{videoId}" => delete,
    ]
}

/// `{_id, fullName, username, avatar}`, as the original shows a video's owner.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OwnerView<'a> {
    #[serde(rename = "_id")]
    id: String,
    full_name: &'a str,
    username: &'a str,
    #[serde(serialize_with = "crate::origin::media_url")]
    avatar: &'a str,
}

impl<'a> From<&'a UserSummary> for OwnerView<'a> {
    fn from(user: &'a UserSummary) -> Self {
        OwnerView {
            id: user.id.to_string(),
            full_name: user.full_name.as_str(),
            username: user.username.as_str(),
            avatar: &user.avatar_url,
        }
    }
}

/// The owner as an object where the route joined it, as an id elsewhere (as in the original).
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum Owner<'a> {
    Id(String),
    Summary(OwnerView<'a>),
}

pub fn video_with_owner(item: &VideoWithOwner) -> VideoView<'_> {
    let mut view = VideoView::from(&item.video);
    if let Some(owner) = &item.owner {
        view.owner = Owner::Summary(OwnerView::from(owner));
    }
    view
}

/// A video as the original shows it (`videoFile` and `thumbnail` as URLs, `""` until stored),
/// plus its processing `status` and, when that failed, why.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VideoView<'a> {
    #[serde(rename = "_id")]
    id: String,
    /// Of a video that is not public (only its owner sees it): a signed link that works for a
    /// while (`APP_MEDIA__PRIVATE_LINK_SECONDS`).
    #[schema(value_type = String)]
    video_file: MediaUrl<'a>,
    #[schema(value_type = String)]
    thumbnail: MediaUrl<'a>,
    title: &'a str,
    description: &'a str,
    duration: f64,
    views: u64,
    is_published: bool,
    owner: Owner<'a>,
    status: VideoStatusName,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_reason: Option<&'a str>,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
}

/// Where a video is in its life.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum VideoStatusName {
    Processing,
    Ready,
    Failed,
}

impl From<VideoStatus> for VideoStatusName {
    fn from(status: VideoStatus) -> Self {
        match status {
            VideoStatus::Processing => VideoStatusName::Processing,
            VideoStatus::Ready => VideoStatusName::Ready,
            VideoStatus::Failed => VideoStatusName::Failed,
        }
    }
}

/// `GET /videos`: what to list, besides the page (`PageQuery`).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
#[into_params(rename_all = "camelCase")]
pub struct VideoListQuery {
    /// Literal text, matched case-insensitively in titles and descriptions.
    #[param(value_type = Option<String>)]
    query: Text,
    #[param(value_type = Option<VideoSortName>, inline)]
    sort_by: Field<VideoSortName>,
    #[param(value_type = Option<SortType>, inline)]
    sort_type: Field<SortType>,
    /// Only this user's videos.
    #[param(value_type = Option<String>, pattern = "^[0-9a-fA-F]{24}$")]
    user_id: Text,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum VideoSortName {
    CreatedAt,
    Views,
    Duration,
    Title,
}

impl From<VideoSortName> for VideoSort {
    fn from(name: VideoSortName) -> Self {
        match name {
            VideoSortName::CreatedAt => VideoSort::CreatedAt,
            VideoSortName::Views => VideoSort::Views,
            VideoSortName::Duration => VideoSort::Duration,
            VideoSortName::Title => VideoSort::Title,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SortType {
    Asc,
    Desc,
}

/// What `GET /videos` asks for, parsed; the viewer is added by the handler.
pub struct VideoListing {
    text: Option<SearchText>,
    sort: VideoSort,
    descending: bool,
    owner: Option<Id>,
}

impl TryFrom<VideoListQuery> for VideoListing {
    type Error = Invalid;

    fn try_from(query: VideoListQuery) -> Result<Self, Invalid> {
        let mut problems = Problems::default();
        let sort = match query.sort_by {
            Field::Absent => VideoSort::CreatedAt,
            Field::Given(name) => name.into(),
            Field::Malformed => {
                problems.add(FieldError::new(
                    "sortBy",
                    "must be createdAt, views, duration or title",
                ));
                VideoSort::CreatedAt
            }
        };
        let descending = match query.sort_type {
            Field::Absent | Field::Given(SortType::Desc) => true,
            Field::Given(SortType::Asc) => false,
            Field::Malformed => {
                problems.add(FieldError::new("sortType", "must be asc or desc"));
                true
            }
        };
        let owner = problems.optional("userId", &query.user_id, |s| {
            s.parse::<Id>()
                .map_err(|e| FieldError::new("userId", e.to_string()))
        });
        let text = problems
            .optional(SearchText::FIELD, &query.query, |s| SearchText::parse(&s))
            .flatten();
        problems.finish(Some(VideoListing {
            text,
            sort,
            descending,
            owner,
        }))
    }
}

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

const THUMBNAIL: FileField = FileField {
    name: "thumbnail",
    accepts: MediaCategory::Image,
    required: true,
    description: "",
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
    thumbnail: Spooled,
}

impl TryFrom<Received<PublishForm>> for NewUpload {
    type Error = Invalid;

    fn try_from(mut form: Received<PublishForm>) -> Result<Self, Invalid> {
        let mut problems = form.problems();
        let title = problems.required(Title::FIELD, &form.text.title, |s| Title::parse(&s));
        let description = problems.required(Description::FIELD, &form.text.description, |s| {
            Description::parse(&s)
        });
        let upload = match (
            title,
            description,
            form.take(&VIDEO_FILE),
            form.take(&THUMBNAIL),
        ) {
            (Some(title), Some(description), Some(video_file), Some(thumbnail)) => {
                Some(NewUpload {
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

/// At least one.
#[derive(Deserialize, ToSchema)]
pub struct VideoChangesRequest {
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100)]
    title: Text,
    #[schema(value_type = Option<String>, min_length = 1, max_length = 5000)]
    description: Text,
}

impl TryFrom<VideoChangesRequest> for VideoChanges {
    type Error = Invalid;

    fn try_from(body: VideoChangesRequest) -> Result<Self, Invalid> {
        video_changes(&body.title, &body.description, Problems::default())
    }
}

/// At least one; a new thumbnail replaces the old one.
#[derive(Deserialize, ToSchema)]
pub struct VideoChangesForm {
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100)]
    title: Text,
    #[schema(value_type = Option<String>, min_length = 1, max_length = 5000)]
    description: Text,
}

const NEW_THUMBNAIL: FileField = FileField {
    required: false,
    ..THUMBNAIL
};

/// What `VideoChangesForm` is in the OpenAPI description (utoipa takes no generic type there).
type VideoChangesFormSchema = MultipartSchema<VideoChangesForm>;

impl MultipartForm for VideoChangesForm {
    const FILES: &'static [FileField] = &[NEW_THUMBNAIL];
}

impl TryFrom<&Received<VideoChangesForm>> for VideoChanges {
    type Error = Invalid;

    fn try_from(form: &Received<VideoChangesForm>) -> Result<Self, Invalid> {
        video_changes(&form.text.title, &form.text.description, form.problems())
    }
}

fn video_changes(
    title: &Text,
    description: &Text,
    mut problems: Problems,
) -> Result<VideoChanges, Invalid> {
    let changes = VideoChanges {
        title: problems.optional(Title::FIELD, title, |s| Title::parse(&s)),
        description: problems.optional(Description::FIELD, description, |s| Description::parse(&s)),
    };
    problems.finish(Some(changes))
}

/// One of the video's files as answered (see `MediaUrl`).
fn media_url<'a>(video: &Video, file: Option<&'a StoredMedia>) -> MediaUrl<'a> {
    MediaUrl::of_video(file.map_or("", |m| m.url.as_str()), video)
}

impl<'a> From<&'a Video> for VideoView<'a> {
    fn from(video: &'a Video) -> Self {
        VideoView {
            id: video.id.to_string(),
            video_file: media_url(video, video.video_file.as_ref()),
            thumbnail: media_url(video, video.thumbnail.as_ref()),
            title: video.title.as_str(),
            description: video.description.as_str(),
            duration: video.duration_seconds,
            views: video.views,
            is_published: video.is_published,
            owner: Owner::Id(video.owner.to_string()),
            status: video.status.into(),
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
#[utoipa::path(
    post, path = "/api/v1/videos",
    request_body(content(
        (PublishFormSchema = "multipart/form-data"),
        (PublishUploaded = "application/json"),
    )),
    responses(
        (status = 202, description = "Multipart: accepted, `status` processing; a background job stores the files", body = Envelope<VideoView>),
        (status = 201, description = "JSON (direct uploads): checked and published, `status` ready", body = Envelope<VideoView>),
        (status = 409, description = "JSON: this server stores media itself (no Cloudinary)", body = ErrorEnvelope),
    ),
)]
async fn publish(
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

async fn publish_uploaded(
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
    Ok(respond(
        StatusCode::CREATED,
        VideoView::from(&video),
        "Video published",
    ))
}

/// Accepts the upload and answers 202: the files are stored by the background job worker, and
/// `GET /videos/:videoId` shows when the video is `ready` (or `failed`, with a reason).
async fn publish_files(
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
    } = form.try_into()?;
    let video_file = video_file.keep_in(&state.jobs_dir)?;
    let thumbnail = thumbnail.keep_in(&state.jobs_dir)?;
    let video = state
        .services
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
    Ok(respond(
        StatusCode::ACCEPTED,
        VideoView::from(&video),
        "Video accepted; it is being processed",
    ))
}

/// `page`, `limit`, `query` (literal, case-insensitive, on title and description), `sortBy`
/// (`createdAt`, `views`, `duration`, `title`), `sortType` (`asc`, `desc`), `userId`.
#[utoipa::path(
    get, path = "/api/v1/videos",
    params(PageQuery, VideoListQuery),
    responses((status = 200, description = "Published, ready videos (and the caller's own in every state), each with its owner", body = Envelope<Paginated<VideoView>>)),
)]
async fn list(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    paging: web::Query<PageQuery>,
    query: web::Query<VideoListQuery>,
) -> Result<HttpResponse, ApiError> {
    // Both parsed before either is refused, so that every problem is named at once.
    let (page, listing) = (paging.parse(), VideoListing::try_from(query.into_inner()));
    let ((page, after), listing) = match (page, listing) {
        (Ok(page), Ok(listing)) => (page, listing),
        (page, listing) => {
            let errors = [page.err(), listing.err()].into_iter().flatten();
            return Err(Invalid(errors.flat_map(|invalid| invalid.0).collect()).into());
        }
    };
    let search = VideoSearch {
        text: listing.text,
        sort: listing.sort,
        descending: listing.descending,
        owner: listing.owner,
        viewer: caller.user_id,
        after,
    };
    let found = state.services.videos.list(&search, page).await?;
    Ok(respond(
        StatusCode::OK,
        paginated(&found, video_with_owner),
        "Videos fetched successfully",
    ))
}

/// The watch page: counts a view and records the caller's history.
#[utoipa::path(
    get, path = "/api/v1/videos/{videoId}",
    responses((status = 200, description = "The video with its owner; counts a view and records the caller's history", body = Envelope<VideoView>)),
)]
async fn watch(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let video_id = parse_id(&path, "videoId")?;
    let video = state
        .services
        .watching
        .watch(caller.user_id, video_id)
        .await?;
    Ok(respond(
        StatusCode::OK,
        video_with_owner(&video),
        "Video fetched successfully",
    ))
}

/// `title`, `description` and a new `thumbnail`, as multipart (as the original) or, without a
/// thumbnail, as JSON; at least one of them.
#[utoipa::path(
    patch, path = "/api/v1/videos/{videoId}",
    request_body(content(
        (VideoChangesRequest = "application/json"),
        (VideoChangesFormSchema = "multipart/form-data"),
    )),
    responses(
        (status = 200, description = "Updated; a replaced thumbnail's file is deleted", body = Envelope<VideoView>),
        (status = 403, description = "Not the video's owner", body = ErrorEnvelope),
    ),
)]
async fn update(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    path: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let video_id = parse_id(&path, "videoId")?;
    let (changes, form) = if is_json(&req) {
        let body: VideoChangesRequest = from_object(read_json(&state, payload).await?)?;
        (VideoChanges::try_from(body)?, None)
    } else {
        let multipart = Multipart::new(req.headers(), payload);
        let form: Received<VideoChangesForm> =
            upload::receive(multipart, state.upload_limits, &state.spool_dir).await?;
        (VideoChanges::try_from(&form)?, Some(form))
    };
    let thumbnail = form.as_ref().and_then(|form| form.file(&NEW_THUMBNAIL));
    let video = state
        .services
        .videos
        .update(caller.user_id, video_id, changes, thumbnail)
        .await?;
    Ok(respond(
        StatusCode::OK,
        VideoView::from(&video),
        "Video updated successfully",
    ))
}

#[utoipa::path(
    delete, path = "/api/v1/videos/{videoId}",
    responses(
        (status = 200, description = "Deleted with its likes, comments, history and playlist entries and files", body = Envelope<Empty>),
        (status = 403, description = "Not the video's owner", body = ErrorEnvelope),
    ),
)]
async fn delete(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let video_id = parse_id(&path, "videoId")?;
    state
        .services
        .videos
        .delete(caller.user_id, video_id)
        .await?;
    Ok(respond(
        StatusCode::OK,
        Empty {},
        "Video deleted successfully",
    ))
}

#[utoipa::path(
    patch, path = "/api/v1/videos/toggle/publish/{videoId}",
    responses(
        (status = 200, description = "The video with `isPublished` flipped", body = Envelope<VideoView>),
        (status = 403, description = "Not the video's owner", body = ErrorEnvelope),
    ),
)]
async fn toggle_publish(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let video_id = parse_id(&path, "videoId")?;
    let video = state
        .services
        .videos
        .toggle_publish(caller.user_id, video_id)
        .await?;
    Ok(respond(
        StatusCode::OK,
        VideoView::from(&video),
        "Publish status toggled",
    ))
}

fn is_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// A JSON object body, for routes that take JSON or multipart.
async fn read_json(
    state: &AppState,
    payload: web::Payload,
) -> Result<Map<String, Value>, ApiError> {
    let body = payload
        .to_bytes_limited(state.json_limit)
        .await
        .map_err(|_| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "Request body is too large"))?
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "Malformed JSON body"))?;
    serde_json::from_slice(&body)
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "Expected a JSON object"))
}

#[derive(OpenApi)]
#[openapi(paths(list, publish, watch, update, delete, toggle_publish))]
pub struct Api;
