use std::collections::HashMap;

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use secrecy::ExposeSecret;
use serde::Serialize;
use serde_json::{json, Map, Value};
use videotube_domain::media::ProfileImage;
use videotube_domain::services::Registration;
use videotube_domain::user::{AccountChanges, User};
use videotube_domain::values::{Email, FullName, LoginId, NewPassword, Password, Username};
use videotube_domain::FieldError;

use crate::api::{respond, ApiError};
use crate::auth::{AuthUser, REFRESH_COOKIE};
use crate::fields::Fields;
use crate::routes::videos::video_with_owner;
use crate::routes::{page_request, parse_id};
use crate::startup::AppState;
use crate::upload;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/register").post(register))
        .service(web::resource("/login").post(login))
        .service(web::resource("/logout").post(logout))
        .service(web::resource("/refresh-token").post(refresh_token))
        .service(web::resource("/change-password").post(change_password))
        .service(web::resource("/current-user").get(current_user))
        .service(web::resource("/update-account").patch(update_account))
        .service(web::resource("/avatar").patch(update_avatar))
        .service(web::resource("/cover-image").patch(update_cover_image))
        .service(web::resource("/c/{username}").get(channel_profile))
        .service(web::resource("/history").get(history).delete(clear_history))
        .service(web::resource("/history/{videoId}").delete(forget_watch));
}

/// A user as clients see it: the original's fields, never the password hash or asset ids.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserView<'a> {
    #[serde(rename = "_id")]
    id: String,
    username: &'a str,
    email: &'a str,
    full_name: &'a str,
    avatar: &'a str,
    /// "" when there is none, as the original stored it.
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

async fn register(
    state: web::Data<AppState>,
    multipart: Multipart,
) -> Result<HttpResponse, ApiError> {
    let rules = [state.image_rule("avatar"), state.image_rule("coverImage")];
    // The form, and with it every spooled file, lives until this handler returns.
    let form = upload::receive(multipart, &rules, &state.spool_dir).await?;
    let mut fields = Fields::new(form.text.clone());
    let full_name = fields.required(FullName::FIELD, |s| FullName::parse(&s));
    let email = fields.required(Email::FIELD, |s| Email::parse(&s));
    let username = fields.required(Username::FIELD, |s| Username::parse(&s));
    let password = fields.required("password", |s| NewPassword::parse(s, "password"));
    let avatar = form.required_file("avatar", &mut fields);
    fields.finish()?;
    let (Some(full_name), Some(email), Some(username), Some(password), Some(avatar)) =
        (full_name, email, username, password, avatar)
    else {
        unreachable!("Fields::finish fails when a required field is missing");
    };
    let user = state
        .users
        .register(Registration {
            username,
            email,
            full_name,
            password,
            avatar,
            cover_image: form.file("coverImage"),
        })
        .await?;
    Ok(respond(
        StatusCode::CREATED,
        UserView::from(&user),
        "User registered successfully",
    ))
}

async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<Map<String, Value>>,
) -> Result<HttpResponse, ApiError> {
    let mut fields = Fields::new(body.into_inner());
    let username = fields.optional(Username::FIELD, |s| Username::parse(&s));
    let email = fields.optional(Email::FIELD, |s| Email::parse(&s));
    let password = fields.required("password", |s| Password::parse(s, "password"));
    let login = match (username, email) {
        (Some(username), _) => Some(LoginId::Username(username)),
        (None, Some(email)) => Some(LoginId::Email(email)),
        (None, None) => {
            if !fields.has(Username::FIELD) && !fields.has(Email::FIELD) {
                fields.problem(FieldError::new(
                    Username::FIELD,
                    "username or email is required",
                ));
            }
            None
        }
    };
    fields.finish()?;
    let (Some(login), Some(password)) = (login, password) else {
        unreachable!("Fields::finish fails when a required field is missing");
    };
    let client = req.peer_addr().map(|addr| addr.ip());
    let (user, tokens) = state.users.login(login, password, client).await?;
    let data = json!({
        "user": UserView::from(&user),
        "accessToken": tokens.access.token.expose_secret(),
        "refreshToken": tokens.refresh.token.expose_secret(),
    });
    let mut response = respond(StatusCode::OK, data, "User logged in successfully");
    state.cookies.set_tokens(&mut response, &tokens)?;
    Ok(response)
}

async fn logout(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
) -> Result<HttpResponse, ApiError> {
    state.users.logout(caller).await?;
    let mut response = respond(StatusCode::OK, json!({}), "User logged out");
    state.cookies.clear_tokens(&mut response)?;
    Ok(response)
}

/// The token comes from the `refreshToken` cookie or from a JSON body `{"refreshToken": "..."}`,
/// as in the original; an empty body is fine when the cookie is there.
async fn refresh_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let from_body = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        let map: Map<String, Value> = serde_json::from_slice(&body)
            .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "Malformed JSON body"))?;
        let mut fields = Fields::new(map);
        let token = fields.optional(REFRESH_COOKIE, Ok);
        fields.finish()?;
        token
    };
    let token = req
        .cookie(REFRESH_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|t| !t.is_empty())
        .or(from_body)
        .ok_or_else(|| ApiError::unauthorized("Unauthorized request"))?;
    let tokens = state.users.refresh(&token).await?;
    let data = json!({
        "accessToken": tokens.access.token.expose_secret(),
        "refreshToken": tokens.refresh.token.expose_secret(),
    });
    let mut response = respond(StatusCode::OK, data, "Access token refreshed");
    state.cookies.set_tokens(&mut response, &tokens)?;
    Ok(response)
}

async fn change_password(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    body: web::Json<Map<String, Value>>,
) -> Result<HttpResponse, ApiError> {
    let mut fields = Fields::new(body.into_inner());
    let old = fields.required("oldPassword", |s| Password::parse(s, "oldPassword"));
    let new = fields.required("newPassword", |s| NewPassword::parse(s, "newPassword"));
    fields.finish()?;
    let (Some(old), Some(new)) = (old, new) else {
        unreachable!("Fields::finish fails when a required field is missing");
    };
    state.users.change_password(caller, old, new).await?;
    Ok(respond(
        StatusCode::OK,
        json!({}),
        "Password changed successfully",
    ))
}

async fn current_user(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
) -> Result<HttpResponse, ApiError> {
    let user = state.users.current_user(caller).await?;
    Ok(respond(
        StatusCode::OK,
        UserView::from(&user),
        "User fetched successfully",
    ))
}

async fn update_account(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    body: web::Json<Map<String, Value>>,
) -> Result<HttpResponse, ApiError> {
    let mut fields = Fields::new(body.into_inner());
    let changes = AccountChanges {
        full_name: fields.optional(FullName::FIELD, |s| FullName::parse(&s)),
        email: fields.optional(Email::FIELD, |s| Email::parse(&s)),
    };
    if !fields.has(FullName::FIELD) && !fields.has(Email::FIELD) {
        fields.problem(FieldError::new(
            FullName::FIELD,
            "fullName or email is required",
        ));
    }
    fields.finish()?;
    let user = state.users.update_account(caller, changes).await?;
    Ok(respond(
        StatusCode::OK,
        UserView::from(&user),
        "Account details updated successfully",
    ))
}

async fn update_avatar(
    state: web::Data<AppState>,
    caller: AuthUser,
    multipart: Multipart,
) -> Result<HttpResponse, ApiError> {
    replace_image(state, caller, multipart, ProfileImage::Avatar).await
}

async fn update_cover_image(
    state: web::Data<AppState>,
    caller: AuthUser,
    multipart: Multipart,
) -> Result<HttpResponse, ApiError> {
    replace_image(state, caller, multipart, ProfileImage::CoverImage).await
}

async fn replace_image(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    multipart: Multipart,
    image: ProfileImage,
) -> Result<HttpResponse, ApiError> {
    let (field, message) = match image {
        ProfileImage::Avatar => ("avatar", "Avatar image updated successfully"),
        ProfileImage::CoverImage => ("coverImage", "Cover image updated successfully"),
    };
    let form = upload::receive(multipart, &[state.image_rule(field)], &state.spool_dir).await?;
    let mut fields = Fields::new(Map::new());
    let file = form.required_file(field, &mut fields);
    fields.finish()?;
    let file = file.expect("Fields::finish fails when the file is missing");
    let user = state.users.replace_image(caller, image, file).await?;
    Ok(respond(StatusCode::OK, UserView::from(&user), message))
}

/// The caller's watch history, newest first. `data` is a plain array of videos, as the original
/// returned it; `page` and `limit` page through it.
async fn history(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let page = page_request(&query)?;
    let videos = state.videos.history(caller.user_id, page).await?;
    let views: Vec<_> = videos.iter().map(video_with_owner).collect();
    Ok(respond(
        StatusCode::OK,
        views,
        "Watch history fetched successfully",
    ))
}

async fn clear_history(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
) -> Result<HttpResponse, ApiError> {
    state.videos.clear_history(caller.user_id).await?;
    Ok(respond(StatusCode::OK, json!({}), "Watch history cleared"))
}

async fn forget_watch(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let video_id = parse_id(&path, "videoId")?;
    state.videos.forget_watch(caller.user_id, video_id).await?;
    Ok(respond(
        StatusCode::OK,
        json!({}),
        "Video removed from the watch history",
    ))
}

/// A channel page: the original's fields, counts from the subscriptions collection.
async fn channel_profile(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let username = Username::parse(&path).map_err(|e| ApiError::bad_request(vec![e]))?;
    let channel = state.channels.profile(caller.user_id, username).await?;
    let user = &channel.user;
    let data = json!({
        "_id": user.id.to_string(),
        "fullName": user.full_name.as_str(),
        "username": user.username.as_str(),
        "avatar": user.avatar.url,
        "coverImage": user.cover_image.as_ref().map_or("", |c| c.url.as_str()),
        "email": user.email.as_str(),
        "subscribersCount": channel.counts.subscribers,
        "channelsSubscribedToCount": channel.counts.subscribed_to,
        "isSubscribed": channel.is_subscribed,
    });
    Ok(respond(
        StatusCode::OK,
        data,
        "User channel fetched successfully",
    ))
}
