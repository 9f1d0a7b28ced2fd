//! `/users`: the account, sessions, channel pages and the watch history, each in its module
//! and calling its service (`UserService`, `ChannelService`, `WatchService`).

use serde::Serialize;
use utoipa::{OpenApi, ToSchema};
use videotube_domain::user::User;

use crate::routes::Endpoint;

mod account;
mod channel;
mod history;
mod session;

pub fn endpoints() -> Vec<Endpoint> {
    endpoints![
        POST "/users/register" => account::register,
        POST "/users/login" => session::login,
        POST "/users/logout" => session::logout,
        POST "/users/refresh-token" => session::refresh_token,
        POST "/users/change-password" => account::change_password,
        GET "/users/current-user" => account::current_user,
        PATCH "/users/update-account" => account::update_account,
        PATCH "/users/avatar" => account::update_avatar,
        PATCH "/users/cover-image" => account::update_cover_image,
        GET "/users/c/{username}" => channel::channel_profile,
        GET "/users/history" => history::history,
        DELETE "/users/history" => history::clear_history,
        DELETE "/users/history/{videoId}" => history::forget_watch,
    ]
}

/// A user as clients see it: the original's fields, never the password hash or asset ids.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserView<'a> {
    #[serde(rename = "_id")]
    id: String,
    username: &'a str,
    email: &'a str,
    full_name: &'a str,
    #[serde(serialize_with = "crate::origin::media_url")]
    avatar: &'a str,
    /// "" when there is none, as the original stored it.
    #[serde(serialize_with = "crate::origin::media_url")]
    cover_image: &'a str,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
}

impl<'a> From<&'a User> for UserView<'a> {
    fn from(user: &'a User) -> Self {
        UserView {
            id: user.id.to_string(),
            username: user.username.as_str(),
            email: user.email.as_str(),
            full_name: user.full_name.as_str(),
            avatar: &user.avatar.url,
            cover_image: user.cover_image.as_ref().map_or("", |c| c.url.as_str()),
            created_at: user.created_at,
            updated_at: user.updated_at,
        }
    }
}

#[derive(OpenApi)]
#[openapi(paths(
    account::register,
    session::login,
    session::logout,
    session::refresh_token,
    account::change_password,
    account::current_user,
    account::update_account,
    account::update_avatar,
    account::update_cover_image,
    channel::channel_profile,
    history::history,
    history::clear_history,
    history::forget_watch,
))]
pub struct Api;
