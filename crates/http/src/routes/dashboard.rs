use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use crate::api::{respond, respond_list, ApiError, Envelope};
use crate::auth::AuthUser;
use crate::routes::views::VideoView;
use crate::routes::Endpoint;
use crate::routes::ListQuery;
use crate::startup::AppState;

pub fn endpoints() -> Vec<Endpoint> {
    endpoints![
        GET "/dashboard/stats" => stats,
        GET "/dashboard/videos" => videos,
    ]
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    total_videos: u64,
    total_views: u64,
    total_subscribers: u64,
    total_likes: u64,
}

/// `{totalVideos, totalViews, totalSubscribers, totalLikes}`, zeros for a new channel.
#[utoipa::path(
    get, path = "/api/v1/dashboard/stats",
    responses((status = 200, description = "The caller's channel totals (zeros for a new one)", body = Envelope<Stats>)),
)]
async fn stats(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
) -> Result<HttpResponse, ApiError> {
    let stats = state.services.dashboard.stats(caller.user_id).await?;
    Ok(respond(
        StatusCode::OK,
        Stats {
            total_videos: stats.total_videos,
            total_views: stats.total_views,
            total_subscribers: stats.total_subscribers,
            total_likes: stats.total_likes,
        },
        "Channel stats fetched successfully",
    ))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DashboardVideo<'a> {
    #[serde(flatten)]
    video: VideoView<'a>,
    likes_count: u64,
}

/// The caller's videos in every state, newest first, with like counts: a plain array, paged by
/// `page`/`limit` or `cursor`.
#[utoipa::path(
    get, path = "/api/v1/dashboard/videos",
    params(ListQuery),
    responses((status = 200, description = "The caller's videos in every state, newest first, with like counts", body = Envelope<Vec<DashboardVideo>>, headers(("X-Total-Count" = u64, description = "How many items the whole list holds"), ("Link" = String, description = "`next` (by cursor), `prev`, `first`, `last` (by page)")))),
)]
async fn videos(
    req: HttpRequest,
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let (page, after) = query.parse()?;
    let found = state
        .services
        .dashboard
        .videos(caller.user_id, page, after)
        .await?;
    Ok(respond_list(
        &req,
        &found,
        |(video, likes)| DashboardVideo {
            video: VideoView::from(video),
            likes_count: *likes,
        },
        "Channel videos fetched successfully",
    ))
}

#[derive(OpenApi)]
#[openapi(paths(stats, videos))]
pub struct Api;
