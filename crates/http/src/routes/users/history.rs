//! The caller's watch history.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::api::{respond, respond_list, ApiError, Empty, Envelope, ErrorEnvelope};
use crate::auth::AuthUser;
use crate::routes::views::{video_with_owner, VideoView};
use crate::routes::{parse_id, ListQuery};
use crate::startup::AppState;

/// The caller's watch history, newest first. `data` is a plain array of videos, as the original
/// returned it; `page`/`limit` or `cursor` page through it.
#[utoipa::path(
    get, path = "/api/v1/users/history",
    params(ListQuery),
    responses((status = 200, description = "Newest first; videos hidden or deleted since are left out (the total counts them)", body = Envelope<Vec<VideoView>>, headers(("X-Total-Count" = u64, description = "How many items the whole list holds"), ("Link" = String, description = "`next` (by cursor), `prev`, `first`, `last` (by page)")))),
)]
pub(super) async fn history(
    req: HttpRequest,
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let (page, after) = query.parse()?;
    let found = state
        .services
        .watching
        .history(caller.user_id, page, after.as_ref())
        .await?;
    Ok(respond_list(
        &req,
        &found,
        video_with_owner,
        "Watch history fetched successfully",
    ))
}

#[utoipa::path(
    delete, path = "/api/v1/users/history",
    responses((status = 200, description = "Cleared", body = Envelope<Empty>)),
)]
pub(super) async fn clear_history(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
) -> Result<HttpResponse, ApiError> {
    state
        .services
        .watching
        .clear_history(caller.user_id)
        .await?;
    Ok(respond(StatusCode::OK, Empty {}, "Watch history cleared"))
}

#[utoipa::path(
    delete, path = "/api/v1/users/history/{videoId}",
    responses(
        (status = 200, description = "Removed", body = Envelope<Empty>),
        (status = 404, description = "Not in the caller's watch history", body = ErrorEnvelope),
    ),
)]
pub(super) async fn forget_watch(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let video_id = parse_id(&path, "videoId")?;
    state
        .services
        .watching
        .forget(caller.user_id, video_id)
        .await?;
    Ok(respond(
        StatusCode::OK,
        Empty {},
        "Video removed from the watch history",
    ))
}
