use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Serialize;

use crate::api::{paginated, respond, ApiError};
use crate::auth::AuthUser;
use crate::routes::page_request;
use crate::routes::videos::VideoView;
use crate::startup::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/stats").get(stats))
        .service(web::resource("/videos").get(videos));
}

/// `{totalVideos, totalViews, totalSubscribers, totalLikes}`, zeros for a new channel.
async fn stats(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
) -> Result<HttpResponse, ApiError> {
    let stats = state.dashboard.stats(caller.user_id).await?;
    Ok(respond(
        StatusCode::OK,
        stats,
        "Channel stats fetched successfully",
    ))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DashboardVideo<'a> {
    #[serde(flatten)]
    video: VideoView<'a>,
    likes_count: u64,
}

/// The caller's videos in every state, newest first, with like counts; paginated.
async fn videos(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let page = page_request(&query)?;
    let found = state.dashboard.videos(caller.user_id, page).await?;
    Ok(respond(
        StatusCode::OK,
        paginated(&found, |(video, likes)| DashboardVideo {
            video: VideoView::from(video),
            likes_count: *likes,
        }),
        "Channel videos fetched successfully",
    ))
}
