use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use crate::api::{respond, respond_list, ApiError, Envelope};
use crate::auth::AuthUser;
use crate::routes::views::{video_with_owner, VideoView};
use crate::routes::Endpoint;
use crate::routes::{parse_id, ListQuery};
use crate::startup::AppState;

pub fn endpoints() -> Vec<Endpoint> {
    endpoints![
        POST "/likes/toggle/v/{videoId}" => toggle_video_like,
        POST "/likes/toggle/c/{commentId}" => toggle_comment_like,
        POST "/likes/toggle/t/{tweetId}" => toggle_tweet_like,
        GET "/likes/videos" => liked_videos,
    ]
}

/// Likes or unlikes a video the caller can see: `{isLiked, likesCount}`.
#[utoipa::path(
    post, path = "/api/v1/likes/toggle/v/{videoId}",
    responses((status = 200, description = "Liked or unliked", body = Envelope<Toggled>)),
)]
async fn toggle_video_like(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let video = parse_id(&path, "videoId")?;
    let toggled = state
        .services
        .likes
        .toggle_video(caller.user_id, video)
        .await?;
    Ok(toggled_response(toggled, "Video"))
}

/// Likes or unlikes a comment on a video the caller can see: `{isLiked, likesCount}`.
#[utoipa::path(
    post, path = "/api/v1/likes/toggle/c/{commentId}",
    responses((status = 200, description = "Liked or unliked", body = Envelope<Toggled>)),
)]
async fn toggle_comment_like(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let comment = parse_id(&path, "commentId")?;
    let toggled = state
        .services
        .likes
        .toggle_comment(caller.user_id, comment)
        .await?;
    Ok(toggled_response(toggled, "Comment"))
}

/// The caller's liked videos, most recently liked first: a plain array, paged by
/// `page`/`limit` or `cursor`; videos deleted or hidden since are left out.
#[utoipa::path(
    get, path = "/api/v1/likes/videos",
    params(ListQuery),
    responses((status = 200, description = "Most recently liked first, each with its owner", body = Envelope<Vec<VideoView>>, headers(("X-Total-Count" = u64, description = "How many items the whole list holds"), ("Link" = String, description = "`next` (by cursor), `prev`, `first`, `last` (by page)")))),
)]
async fn liked_videos(
    req: HttpRequest,
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let (page, after) = query.parse()?;
    let found = state
        .services
        .likes
        .liked_videos(caller.user_id, page, after.as_ref())
        .await?;
    Ok(respond_list(
        &req,
        &found,
        video_with_owner,
        "Liked videos fetched successfully",
    ))
}

/// Likes or unlikes a tweet: `{isLiked, likesCount}`.
#[utoipa::path(
    post, path = "/api/v1/likes/toggle/t/{tweetId}",
    responses((status = 200, description = "Liked or unliked", body = Envelope<Toggled>)),
)]
async fn toggle_tweet_like(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let tweet = parse_id(&path, "tweetId")?;
    let toggled = state
        .services
        .likes
        .toggle_tweet(caller.user_id, tweet)
        .await?;
    Ok(toggled_response(toggled, "Tweet"))
}

/// The state after a toggle.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Toggled {
    is_liked: bool,
    likes_count: u64,
}

fn toggled_response((is_liked, likes): (bool, u64), what: &str) -> HttpResponse {
    let message = if is_liked {
        format!("{what} liked")
    } else {
        format!("{what} unliked")
    };
    respond(
        StatusCode::OK,
        Toggled {
            is_liked,
            likes_count: likes,
        },
        &message,
    )
}

#[derive(OpenApi)]
#[openapi(paths(
    toggle_video_like,
    toggle_comment_like,
    toggle_tweet_like,
    liked_videos
))]
pub struct Api;
