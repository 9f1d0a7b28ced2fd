//! Channel pages.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;
use videotube_domain::values::Username;

use crate::api::{respond, ApiError, Envelope};
use crate::auth::Viewer;
use crate::startup::AppState;

/// A channel page: the owner's public fields and the subscription counts.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChannelView<'a> {
    #[serde(rename = "_id")]
    id: String,
    full_name: &'a str,
    username: &'a str,
    #[serde(serialize_with = "crate::origin::media_url")]
    avatar: &'a str,
    /// "" when there is none.
    #[serde(serialize_with = "crate::origin::media_url")]
    cover_image: &'a str,
    email: &'a str,
    subscribers_count: u64,
    channels_subscribed_to_count: u64,
    /// Whether the caller subscribes to this channel.
    is_subscribed: bool,
}

/// A channel page: the original's fields, counts from the subscriptions collection.
#[utoipa::path(
    get, path = "/api/v1/users/c/{username}",
    security((), ("bearerAuth" = []), ("cookieAuth" = [])),
    responses((status = 200, description = "The channel", body = Envelope<ChannelView>)),
)]
pub(super) async fn channel_profile(
    state: web::Data<AppState>,
    Viewer(viewer): Viewer,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let username = Username::existing(&path).map_err(|e| ApiError::bad_request(vec![e]))?;
    let channel = state.services.channels.profile(viewer, username).await?;
    let user = &channel.user;
    let data = ChannelView {
        id: user.id.to_string(),
        full_name: user.full_name.as_str(),
        username: user.username.as_str(),
        avatar: &user.avatar.url,
        cover_image: user.cover_image.as_ref().map_or("", |c| c.url.as_str()),
        email: user.email.as_str(),
        subscribers_count: channel.counts.subscribers,
        channels_subscribed_to_count: channel.counts.subscribed_to,
        is_subscribed: channel.is_subscribed,
    };
    Ok(respond(
        StatusCode::OK,
        data,
        "User channel fetched successfully",
    ))
}
