use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::api::{respond, ApiError};
use crate::auth::AuthUser;
use crate::routes::parse_id;
use crate::startup::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/toggle/v/{videoId}").post(toggle_video_like))
        .service(web::resource("/toggle/t/{tweetId}").post(toggle_tweet_like));
}

/// Likes or unlikes a video the caller can see: `{isLiked, likesCount}`.
async fn toggle_video_like(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let video = parse_id(&path, "videoId")?;
    let (is_liked, likes) = state.videos.toggle_like(caller.user_id, video).await?;
    let message = if is_liked {
        "Video liked"
    } else {
        "Video unliked"
    };
    Ok(respond(
        StatusCode::OK,
        json!({ "isLiked": is_liked, "likesCount": likes }),
        message,
    ))
}

/// Likes or unlikes a tweet: `{isLiked, likesCount}`.
async fn toggle_tweet_like(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let tweet = parse_id(&path, "tweetId")?;
    let (is_liked, likes) = state.tweets.toggle_like(caller.user_id, tweet).await?;
    let message = if is_liked {
        "Tweet liked"
    } else {
        "Tweet unliked"
    };
    Ok(respond(
        StatusCode::OK,
        json!({ "isLiked": is_liked, "likesCount": likes }),
        message,
    ))
}
