use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::api::{paginated, respond, ApiError};
use crate::auth::AuthUser;
use crate::routes::videos::OwnerView;
use crate::routes::{page_request, parse_id};
use crate::startup::AppState;

/// The original registered these two GET handlers the wrong way round; here `/c/:channelId`
/// lists a channel's subscribers and `/u/:subscriberId` the channels a user follows.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/c/{channelId}")
            .post(toggle)
            .get(subscribers),
    )
    .service(web::resource("/u/{subscriberId}").get(subscribed_to));
}

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
        json!({ "isSubscribed": is_subscribed }),
        message,
    ))
}

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
