use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use crate::api::{paginated, respond, ApiError, Envelope, Paginated};
use crate::auth::AuthUser;
use crate::routes::videos::OwnerView;
use crate::routes::Endpoint;
use crate::routes::{page_request, parse_id, PageQuery};
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
        .channels
        .toggle_subscription(caller.user_id, channel)
        .await?;
    let message = if is_subscribed {
        "Subscribed"
    } else {
        "Unsubscribed"
    };
    Ok(respond(
        StatusCode::OK,
        SubscriptionToggled { is_subscribed },
        message,
    ))
}

#[utoipa::path(
    get, path = "/api/v1/subscriptions/c/{channelId}",
    params(PageQuery),
    responses((status = 200, description = "The channel's subscribers, newest first", body = Envelope<Paginated<OwnerView>>)),
)]
async fn subscribers(
    state: web::Data<AppState>,
    _caller: AuthUser,
    path: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let channel = parse_id(&path, "channelId")?;
    let page = state
        .channels
        .subscribers(channel, page_request(&query)?)
        .await?;
    Ok(respond(
        StatusCode::OK,
        paginated(&page, OwnerView::from),
        "Subscribers fetched successfully",
    ))
}

#[utoipa::path(
    get, path = "/api/v1/subscriptions/u/{subscriberId}",
    params(PageQuery),
    responses((status = 200, description = "The channels the user follows, newest first", body = Envelope<Paginated<OwnerView>>)),
)]
async fn subscribed_to(
    state: web::Data<AppState>,
    _caller: AuthUser,
    path: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let subscriber = parse_id(&path, "subscriberId")?;
    let page = state
        .channels
        .subscriptions(subscriber, page_request(&query)?)
        .await?;
    Ok(respond(
        StatusCode::OK,
        paginated(&page, OwnerView::from),
        "Subscribed channels fetched successfully",
    ))
}

#[derive(OpenApi)]
#[openapi(paths(toggle, subscribers, subscribed_to))]
pub struct Api;
