use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::api::{paginated, respond, ApiError};
use crate::auth::AuthUser;
use crate::routes::videos::video_with_owner;
use crate::routes::{page_request, parse_id};
use crate::startup::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/toggle/v/{videoId}").post(toggle_video_like))
        .service(web::resource("/toggle/c/{commentId}").post(toggle_comment_like))
        .service(web::resource("/toggle/t/{tweetId}").post(toggle_tweet_like))
        .service(web::resource("/videos").get(liked_videos));
}

/// Likes or unlikes a video the caller can see: `{isLiked, likesCount}`.
async fn toggle_video_like(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let video = parse_id(&path, "videoId")?;
    let toggled = state.videos.toggle_like(caller.user_id, video).await?;
    Ok(toggled_response(toggled, "Video"))
}

/// Likes or unlikes a comment on a video the caller can see: `{isLiked, likesCount}`.
async fn toggle_comment_like(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let comment = parse_id(&path, "commentId")?;
    let toggled = state.comments.toggle_like(caller.user_id, comment).await?;
    Ok(toggled_response(toggled, "Comment"))
}

/// The caller's liked videos, most recently liked first, paginated; videos deleted or hidden
/// since are left out.
async fn liked_videos(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let found = state
        .videos
        .liked(caller.user_id, page_request(&query)?)
        .await?;
    Ok(respond(
        StatusCode::OK,
        paginated(&found, video_with_owner),
        "Liked videos fetched successfully",
    ))
}

/// Likes or unlikes a tweet: `{isLiked, likesCount}`.
async fn toggle_tweet_like(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let tweet = parse_id(&path, "tweetId")?;
    let toggled = state.tweets.toggle_like(caller.user_id, tweet).await?;
    Ok(toggled_response(toggled, "Tweet"))
}

fn toggled_response((is_liked, likes): (bool, u64), what: &str) -> HttpResponse {
    let message = if is_liked {
        format!("{what} liked")
    } else {
        format!("{what} unliked")
    };
    respond(
        StatusCode::OK,
        json!({ "isLiked": is_liked, "likesCount": likes }),
        &message,
    )
}
