//! `/videos`: the catalogue, the watch page, editing, hiding and deleting; publishing is in
//! `publish`.

use actix_multipart::Multipart;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::{IntoParams, OpenApi, ToSchema};
use videotube_domain::video::{
    Description, SearchText, Title, Video, VideoChanges, VideoSearch, VideoSort,
};
use videotube_domain::{FieldError, Id};

use crate::api::{paginated, respond, ApiError, Empty, Envelope, ErrorEnvelope, Paginated};
use crate::auth::{AuthUser, Viewer};
use crate::body::{from_object, Field, Invalid, Problems, Text};
use crate::routes::views::{video_with_owner, VideoView, WatchView};
use crate::routes::Endpoint;
use crate::routes::{parse_id, PageQuery};
use crate::startup::AppState;
use crate::upload::{self, FileField, MultipartForm, MultipartSchema, Received};
use publish::THUMBNAIL;

mod attachments;
mod publish;

pub fn endpoints() -> Vec<Endpoint> {
    endpoints![
        GET "/videos" => list,
        POST "/videos" => publish::publish,
        PATCH "/videos/toggle/publish/{videoId}" => toggle_publish,
        GET "/videos/{videoId}" => watch,
        PATCH "/videos/{videoId}" => update,
        DELETE "/videos/{videoId}" => delete,
        POST "/videos/{videoId}/attachments" => attachments::attach,
        GET "/videos/{videoId}/attachments" => attachments::list,
        DELETE "/videos/{videoId}/attachments/{attachmentId}" => attachments::detach,
    ]
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
    description: "",
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

/// `page`, `limit`, `query` (literal, case-insensitive, on title and description), `sortBy`
/// (`createdAt`, `views`, `duration`, `title`), `sortType` (`asc`, `desc`), `userId`.
#[utoipa::path(
    get, path = "/api/v1/videos",
    security((), ("bearerAuth" = []), ("cookieAuth" = [])),
    params(PageQuery, VideoListQuery),
    responses((status = 200, description = "Published, ready videos (and the caller's own in every state), each with its owner", body = Envelope<Paginated<VideoView>>)),
)]
async fn list(
    state: web::Data<AppState>,
    Viewer(viewer): Viewer,
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
        viewer,
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
    security((), ("bearerAuth" = []), ("cookieAuth" = [])),
    responses((status = 200, description = "The video with its owner, its likes and the owner's subscribers, and whether the caller likes it and subscribes; counts a view and records the caller's history", body = Envelope<WatchView>)),
)]
async fn watch(
    state: web::Data<AppState>,
    Viewer(viewer): Viewer,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let video_id = parse_id(&path, "videoId")?;
    let video = state.services.watching.watch(viewer, video_id).await?;
    Ok(respond(
        StatusCode::OK,
        WatchView::from(&video),
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
        (status = 200, description = "Updated; a replaced thumbnail's file is deleted", body = Envelope<WatchView>),
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
    answer_written(
        &state,
        caller.user_id,
        video,
        StatusCode::OK,
        "Video updated successfully",
    )
    .await
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
        (status = 200, description = "The video with `isPublished` flipped", body = Envelope<WatchView>),
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
    answer_written(
        &state,
        caller.user_id,
        video,
        StatusCode::OK,
        "Publish status toggled",
    )
    .await
}

/// A video just written, answered as its watch page shows it (without counting a view), so
/// that a front end can put the answer where the page's video was.
pub(super) async fn answer_written(
    state: &AppState,
    caller: Id,
    video: Video,
    status: StatusCode,
    message: &str,
) -> Result<HttpResponse, ApiError> {
    let page = state.services.watching.page(Some(caller), video).await?;
    Ok(respond(status, WatchView::from(&page), message))
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
#[openapi(paths(
    list,
    publish::publish,
    watch,
    update,
    delete,
    toggle_publish,
    attachments::attach,
    attachments::list,
    attachments::detach
))]
pub struct Api;
