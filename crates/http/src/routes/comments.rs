use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use videotube_domain::comment::{Comment, CommentContent};
use videotube_domain::services::CommentView;

use crate::api::{paginated, respond, ApiError, Empty, Envelope, ErrorEnvelope, Paginated};
use crate::auth::{AuthUser, Viewer};
use crate::body::{Invalid, Json, Problems, Text};
use crate::routes::views::{Owner, OwnerView};
use crate::routes::Endpoint;
use crate::routes::{parse_id, PageQuery};
use crate::startup::AppState;

pub fn endpoints() -> Vec<Endpoint> {
    endpoints![
        PATCH "/comments/c/{commentId}" => update,
        DELETE "/comments/c/{commentId}" => delete,
        GET "/comments/{videoId}" => list,
        POST "/comments/{videoId}" => add,
    ]
}

/// `{_id, content, video, owner, createdAt, updatedAt}`, `owner` being the owner's summary (an
/// id only if the account is gone).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommentBody<'a> {
    #[serde(rename = "_id")]
    id: String,
    content: &'a str,
    video: String,
    owner: Owner<'a>,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
}

impl<'a> From<&'a Comment> for CommentBody<'a> {
    fn from(comment: &'a Comment) -> Self {
        CommentBody {
            id: comment.id.to_string(),
            content: comment.content.as_str(),
            video: comment.video.to_string(),
            owner: Owner::Id(comment.owner.to_string()),
            created_at: comment.created_at,
            updated_at: comment.updated_at,
        }
    }
}

/// A comment as lists and writes answer it: its fields, `likesCount` and `isLiked`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommentListItem<'a> {
    #[serde(flatten)]
    comment: CommentBody<'a>,
    likes_count: u64,
    is_liked: bool,
}

/// `{content}`: 1 to 1000 characters after trimming.
#[derive(Deserialize, ToSchema)]
pub struct CommentRequest {
    #[schema(value_type = String, min_length = 1, max_length = 1000)]
    content: Text,
}

impl TryFrom<CommentRequest> for CommentContent {
    type Error = Invalid;

    fn try_from(body: CommentRequest) -> Result<Self, Invalid> {
        let mut problems = Problems::default();
        let content = problems.required(CommentContent::FIELD, &body.content, |s| {
            CommentContent::parse(&s)
        });
        problems.finish(content)
    }
}

fn list_item(view: &CommentView) -> CommentListItem<'_> {
    let mut comment = CommentBody::from(&view.comment);
    if let Some(owner) = &view.owner {
        comment.owner = Owner::Summary(OwnerView::from(owner));
    }
    CommentListItem {
        comment,
        likes_count: view.likes,
        is_liked: view.is_liked,
    }
}

/// A video's comments, newest first, paginated.
#[utoipa::path(
    get, path = "/api/v1/comments/{videoId}",
    security((), ("bearerAuth" = []), ("cookieAuth" = [])),
    params(PageQuery),
    responses((status = 200, description = "Newest first, each with its owner, like count and whether the caller likes it", body = Envelope<Paginated<CommentListItem>>)),
)]
async fn list(
    state: web::Data<AppState>,
    Viewer(viewer): Viewer,
    path: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let video = parse_id(&path, "videoId")?;
    let (page, after) = query.parse()?;
    let found = state
        .services
        .comments
        .list(viewer, video, page, after.as_ref())
        .await?;
    Ok(respond(
        StatusCode::OK,
        paginated(&found, list_item),
        "Comments fetched successfully",
    ))
}

#[utoipa::path(
    post, path = "/api/v1/comments/{videoId}",
    request_body = CommentRequest,
    responses((status = 201, description = "Added", body = Envelope<CommentListItem>)),
)]
async fn add(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    path: web::Path<String>,
    Json(body): Json<CommentRequest>,
) -> Result<HttpResponse, ApiError> {
    let video = parse_id(&path, "videoId")?;
    let content = CommentContent::try_from(body)?;
    let comment = state
        .services
        .comments
        .add(caller.user_id, video, content)
        .await?;
    Ok(respond(
        StatusCode::CREATED,
        list_item(&comment),
        "Comment added successfully",
    ))
}

#[utoipa::path(
    patch, path = "/api/v1/comments/c/{commentId}",
    request_body = CommentRequest,
    responses((status = 200, description = "Updated", body = Envelope<CommentListItem>), (status = 403, description = "Not the comment's owner", body = ErrorEnvelope)),
)]
async fn update(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    path: web::Path<String>,
    Json(body): Json<CommentRequest>,
) -> Result<HttpResponse, ApiError> {
    let comment_id = parse_id(&path, "commentId")?;
    let content = CommentContent::try_from(body)?;
    let comment = state
        .services
        .comments
        .update(caller.user_id, comment_id, content)
        .await?;
    Ok(respond(
        StatusCode::OK,
        list_item(&comment),
        "Comment updated successfully",
    ))
}

#[utoipa::path(
    delete, path = "/api/v1/comments/c/{commentId}",
    responses((status = 200, description = "Deleted with its likes", body = Envelope<Empty>), (status = 403, description = "Not the comment's owner", body = ErrorEnvelope)),
)]
async fn delete(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let comment_id = parse_id(&path, "commentId")?;
    state
        .services
        .comments
        .delete(caller.user_id, comment_id)
        .await?;
    Ok(respond(
        StatusCode::OK,
        Empty {},
        "Comment deleted successfully",
    ))
}

#[derive(OpenApi)]
#[openapi(paths(list, add, update, delete))]
pub struct Api;
