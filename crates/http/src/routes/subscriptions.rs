use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use crate::api::{respond, respond_list, ApiError, Envelope, ErrorEnvelope};
use crate::auth::AuthUser;
use crate::routes::views::OwnerView;
use crate::routes::Endpoint;
use crate::routes::{parse_id, ListQuery};
use crate::startup::AppState;

/// The original registered these two GET handlers the wrong way round; here `/c/:channelId`
/// lists a channel's subscribers and `/u/:subscriberId` the channels a user follows.
pub fn endpoints() -> Vec<Endpoint> {
    endpoints![
        POST "/subscriptions/c/{channelId}" => toggle,
        GET "/subscriptions/c/{channelId}" => subscribers,
        GET "/subscriptions/u/{subscriberId}" => subscribed_to,
    ]
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionToggled {
    is_subscribed: bool,
    /// The same as `isSubscribed`, under the name the community's complete implementations
    /// (and the front ends written for them) use.
    subscribed: bool,
}

#[utoipa::path(
    post, path = "/api/v1/subscriptions/c/{channelId}",
    responses((status = 200, description = "Subscribed or unsubscribed; subscribing to yourself is a 400", body = Envelope<SubscriptionToggled>)),
)]
async fn toggle(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let channel = parse_id(&path, "channelId")?;
    let is_subscribed = state
        .services
        .subscriptions
        .toggle(caller.user_id, channel)
        .await?;
    let message = if is_subscribed {
        "Subscribed"
    } else {
        "Unsubscribed"
    };
    Ok(respond(
        StatusCode::OK,
        SubscriptionToggled {
            is_subscribed,
            subscribed: is_subscribed,
        },
        message,
    ))
}

#[utoipa::path(
    get, path = "/api/v1/subscriptions/c/{channelId}",
    params(ListQuery),
    responses((status = 200, description = "The channel's subscribers, newest first", body = Envelope<Vec<OwnerView>>, headers(("X-Total-Count" = u64, description = "How many items the whole list holds"), ("Link" = String, description = "`next` (by cursor), `prev`, `first`, `last` (by page)"))), (status = 404, description = "No such channel", body = ErrorEnvelope)),
)]
async fn subscribers(
    req: HttpRequest,
    state: web::Data<AppState>,
    _caller: AuthUser,
    path: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let channel = parse_id(&path, "channelId")?;
    let (page, after) = query.parse()?;
    let found = state
        .services
        .subscriptions
        .subscribers(channel, page, after.as_ref())
        .await?;
    Ok(respond_list(
        &req,
        &found,
        OwnerView::from,
        "Subscribers fetched successfully",
    ))
}

#[utoipa::path(
    get, path = "/api/v1/subscriptions/u/{subscriberId}",
    params(ListQuery),
    responses((status = 200, description = "The channels the user follows, newest first", body = Envelope<Vec<OwnerView>>, headers(("X-Total-Count" = u64, description = "How many items the whole list holds"), ("Link" = String, description = "`next` (by cursor), `prev`, `first`, `last` (by page)"))), (status = 404, description = "No such user", body = ErrorEnvelope)),
)]
async fn subscribed_to(
    req: HttpRequest,
    state: web::Data<AppState>,
    _caller: AuthUser,
    path: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let subscriber = parse_id(&path, "subscriberId")?;
    let (page, after) = query.parse()?;
    let found = state
        .services
        .subscriptions
        .subscriptions(subscriber, page, after.as_ref())
        .await?;
    Ok(respond_list(
        &req,
        &found,
        OwnerView::from,
        "Subscribed channels fetched successfully",
    ))
}

#[derive(OpenApi)]
#[openapi(paths(toggle, subscribers, subscribed_to))]
pub struct Api;
