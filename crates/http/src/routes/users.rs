use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{OpenApi, ToSchema};
use videotube_domain::media::{MediaCategory, ProfileImage, UploadedFile};
use videotube_domain::services::Registration;
use videotube_domain::user::{AccountChanges, User};
use videotube_domain::values::{Email, FullName, LoginId, NewPassword, Password, Username};
use videotube_domain::FieldError;

use crate::api::{respond, respond_list, ApiError, Empty, Envelope, ErrorEnvelope};
use crate::auth::{AuthUser, REFRESH_COOKIE};
use crate::body::{from_object, Invalid, Json, Problems, Text};
use crate::routes::videos::{video_with_owner, VideoView};
use crate::routes::Endpoint;
use crate::routes::{parse_id, ListQuery};
use crate::startup::AppState;
use crate::upload::{self, FileField, MultipartForm, MultipartSchema, Received};

pub fn endpoints() -> Vec<Endpoint> {
    endpoints![
        POST "/users/register" => register,
        POST "/users/login" => login,
        POST "/users/logout" => logout,
        POST "/users/refresh-token" => refresh_token,
        POST "/users/change-password" => change_password,
        GET "/users/current-user" => current_user,
        PATCH "/users/update-account" => update_account,
        PATCH "/users/avatar" => update_avatar,
        PATCH "/users/cover-image" => update_cover_image,
        GET "/users/c/{username}" => channel_profile,
        GET "/users/history" => history,
        DELETE "/users/history" => clear_history,
        DELETE "/users/history/{videoId}" => forget_watch,
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

/// `POST /users/login`: the user and both tokens.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginData<'a> {
    user: UserView<'a>,
    access_token: &'a str,
    refresh_token: &'a str,
}

/// `POST /users/refresh-token`: the new pair.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokensData<'a> {
    access_token: &'a str,
    refresh_token: &'a str,
}

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

/// `POST /users/register`, multipart.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegisterForm {
    /// 1 to 100 characters.
    #[schema(value_type = String, min_length = 1, max_length = 100)]
    full_name: Text,
    #[schema(value_type = String, format = Email)]
    email: Text,
    /// 3 to 30 of letters, digits, '.' and '_'; stored lowercase.
    #[schema(value_type = String, pattern = "^[A-Za-z0-9._]{3,30}$")]
    username: Text,
    /// 8 to 72 bytes.
    #[schema(value_type = String, min_length = 8, max_length = 72)]
    password: Text,
}

const AVATAR: FileField = FileField {
    name: "avatar",
    accepts: MediaCategory::Image,
    required: true,
    description: "JPEG, PNG, WebP or GIF, up to the image limit (5 MiB by default).",
};

const COVER_IMAGE: FileField = FileField {
    name: "coverImage",
    accepts: MediaCategory::Image,
    required: false,
    description: "",
};

/// What `RegisterForm` is in the OpenAPI description (utoipa takes no generic type there).
type RegisterFormSchema = MultipartSchema<RegisterForm>;

impl MultipartForm for RegisterForm {
    const FILES: &'static [FileField] = &[AVATAR, COVER_IMAGE];
}

impl<'a> TryFrom<&'a Received<RegisterForm>> for Registration<'a> {
    type Error = Invalid;

    fn try_from(form: &'a Received<RegisterForm>) -> Result<Self, Invalid> {
        let mut problems = form.problems();
        let text = &form.text;
        let full_name =
            problems.required(FullName::FIELD, &text.full_name, |s| FullName::parse(&s));
        let email = problems.required(Email::FIELD, &text.email, |s| Email::parse(&s));
        let username = problems.required(Username::FIELD, &text.username, |s| Username::parse(&s));
        let password = problems.required("password", &text.password, |s| {
            NewPassword::parse(s, "password")
        });
        let registration = match (full_name, email, username, password, form.file(&AVATAR)) {
            (Some(full_name), Some(email), Some(username), Some(password), Some(avatar)) => {
                Some(Registration {
                    username,
                    email,
                    full_name,
                    password,
                    avatar,
                    cover_image: form.file(&COVER_IMAGE),
                })
            }
            _ => None,
        };
        problems.finish(registration)
    }
}

/// `PATCH /users/avatar`, multipart.
#[derive(Deserialize, ToSchema)]
pub struct AvatarForm {}

/// What `AvatarForm` is in the OpenAPI description (utoipa takes no generic type there).
type AvatarFormSchema = MultipartSchema<AvatarForm>;

impl MultipartForm for AvatarForm {
    const FILES: &'static [FileField] = &[FileField {
        description: "",
        ..AVATAR
    }];
}

/// `PATCH /users/cover-image`, multipart.
#[derive(Deserialize, ToSchema)]
pub struct CoverImageForm {}

/// What `CoverImageForm` is in the OpenAPI description (utoipa takes no generic type there).
type CoverImageFormSchema = MultipartSchema<CoverImageForm>;

impl MultipartForm for CoverImageForm {
    const FILES: &'static [FileField] = &[FileField {
        required: true,
        ..COVER_IMAGE
    }];
}

/// `username` or `email`, and the password.
#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    #[schema(value_type = Option<String>)]
    username: Text,
    #[schema(value_type = Option<String>)]
    email: Text,
    #[schema(value_type = String)]
    password: Text,
}

/// Who logs in, and with what.
pub struct Credentials {
    login: LoginId,
    password: Password,
}

impl TryFrom<LoginRequest> for Credentials {
    type Error = Invalid;

    fn try_from(body: LoginRequest) -> Result<Self, Invalid> {
        let mut problems = Problems::default();
        let username = problems.optional(Username::FIELD, &body.username, |s| Username::parse(&s));
        let email = problems.optional(Email::FIELD, &body.email, |s| Email::parse(&s));
        let password = problems.required("password", &body.password, |s| {
            Password::parse(s, "password")
        });
        let login = match (username, email) {
            (Some(username), _) => Some(LoginId::Username(username)),
            (None, Some(email)) => Some(LoginId::Email(email)),
            (None, None) => {
                if !body.username.is_sent() && !body.email.is_sent() {
                    problems.add(FieldError::new(
                        Username::FIELD,
                        "username or email is required",
                    ));
                }
                None
            }
        };
        problems.finish(
            login
                .zip(password)
                .map(|(login, password)| Credentials { login, password }),
        )
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefreshRequest {
    #[schema(value_type = Option<String>)]
    refresh_token: Text,
}

impl TryFrom<RefreshRequest> for Option<String> {
    type Error = Invalid;

    fn try_from(body: RefreshRequest) -> Result<Self, Invalid> {
        let mut problems = Problems::default();
        let token = problems.optional(REFRESH_COOKIE, &body.refresh_token, Ok);
        problems.finish(Some(token))
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangePasswordRequest {
    #[schema(value_type = String)]
    old_password: Text,
    /// 8 to 72 bytes.
    #[schema(value_type = String, min_length = 8, max_length = 72)]
    new_password: Text,
}

pub struct PasswordChange {
    old: Password,
    new: NewPassword,
}

impl TryFrom<ChangePasswordRequest> for PasswordChange {
    type Error = Invalid;

    fn try_from(body: ChangePasswordRequest) -> Result<Self, Invalid> {
        let mut problems = Problems::default();
        let old = problems.required("oldPassword", &body.old_password, |s| {
            Password::parse(s, "oldPassword")
        });
        let new = problems.required("newPassword", &body.new_password, |s| {
            NewPassword::parse(s, "newPassword")
        });
        problems.finish(old.zip(new).map(|(old, new)| PasswordChange { old, new }))
    }
}

/// One or both.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateAccountRequest {
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100)]
    full_name: Text,
    #[schema(value_type = Option<String>, format = Email)]
    email: Text,
}

impl TryFrom<UpdateAccountRequest> for AccountChanges {
    type Error = Invalid;

    fn try_from(body: UpdateAccountRequest) -> Result<Self, Invalid> {
        let mut problems = Problems::default();
        let changes = AccountChanges {
            full_name: problems.optional(FullName::FIELD, &body.full_name, |s| FullName::parse(&s)),
            email: problems.optional(Email::FIELD, &body.email, |s| Email::parse(&s)),
        };
        problems.finish(Some(changes))
    }
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

#[utoipa::path(
    post, path = "/api/v1/users/register", security(()),
    request_body(content = RegisterFormSchema, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Registered", body = Envelope<UserView>),
        (status = 409, description = "Username or email taken", body = ErrorEnvelope),
        (status = 429, description = "Too many registrations from this client (see Retry-After)", body = ErrorEnvelope),
    ),
)]
async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    multipart: Multipart,
) -> Result<HttpResponse, ApiError> {
    state
        .services
        .users
        .admit_registration(req.peer_addr().map(|addr| addr.ip()))?;
    // The form, and with it every spooled file, lives until this handler returns.
    let form: Received<RegisterForm> =
        upload::receive(multipart, state.upload_limits, &state.spool_dir).await?;
    let user = state
        .services
        .users
        .register(Registration::try_from(&form)?)
        .await?;
    Ok(respond(
        StatusCode::CREATED,
        UserView::from(&user),
        "User registered successfully",
    ))
}

#[utoipa::path(
    post, path = "/api/v1/users/login", security(()),
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in; both tokens are also set as HttpOnly cookies", body = Envelope<LoginData>),
        (status = 401, description = "Unknown user or wrong password (the same answer for both)", body = ErrorEnvelope),
        (status = 429, description = "Too many attempts from this client or for this account (see Retry-After)", body = ErrorEnvelope),
    ),
)]
async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    Json(body): Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let Credentials { login, password } = body.try_into()?;
    let client = req.peer_addr().map(|addr| addr.ip());
    let (user, tokens) = state.services.users.login(login, password, client).await?;
    let data = LoginData {
        user: UserView::from(&user),
        access_token: tokens.access.token.expose_secret(),
        refresh_token: tokens.refresh.token.expose_secret(),
    };
    let mut response = respond(StatusCode::OK, data, "User logged in successfully");
    state.cookies.set_tokens(&mut response, &tokens)?;
    Ok(response)
}

#[utoipa::path(
    post, path = "/api/v1/users/logout",
    responses((status = 200, description = "Session revoked, cookies cleared", body = Envelope<Empty>)),
)]
async fn logout(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
) -> Result<HttpResponse, ApiError> {
    state.services.users.logout(caller).await?;
    let mut response = respond(StatusCode::OK, Empty {}, "User logged out");
    state.cookies.clear_tokens(&mut response)?;
    Ok(response)
}

/// The token comes from the `refreshToken` cookie or from a JSON body `{"refreshToken": "..."}`,
/// as in the original; an empty body is fine when the cookie is there.
#[utoipa::path(
    post, path = "/api/v1/users/refresh-token", security(()),
    request_body(content = Option<RefreshRequest>, description = "Optional when the refreshToken cookie is sent"),
    responses(
        (status = 200, description = "New tokens (also set as cookies); the old refresh token is spent", body = Envelope<TokensData>),
        (status = 401, description = "No, an invalid, or a spent refresh token", body = ErrorEnvelope),
        (status = 429, description = "Too many refreshes from this client (see Retry-After)", body = ErrorEnvelope),
    ),
)]
async fn refresh_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let from_body = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        let object: Map<String, Value> = serde_json::from_slice(&body)
            .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "Malformed JSON body"))?;
        Option::try_from(from_object::<RefreshRequest>(object)?)?
    };
    let from_cookie = req
        .cookie(REFRESH_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|t| !t.is_empty());
    if from_cookie.is_some() {
        state.cookies.refuse_cross_site(&req)?;
    }
    let token = from_cookie
        .or(from_body)
        .ok_or_else(|| ApiError::unauthorized("Unauthorized request"))?;
    let tokens = state
        .services
        .users
        .refresh(&token, req.peer_addr().map(|addr| addr.ip()))
        .await?;
    let data = TokensData {
        access_token: tokens.access.token.expose_secret(),
        refresh_token: tokens.refresh.token.expose_secret(),
    };
    let mut response = respond(StatusCode::OK, data, "Access token refreshed");
    state.cookies.set_tokens(&mut response, &tokens)?;
    Ok(response)
}

#[utoipa::path(
    post, path = "/api/v1/users/change-password",
    request_body = ChangePasswordRequest,
    responses((status = 200, description = "Changed; the user's other sessions are revoked", body = Envelope<Empty>)),
)]
async fn change_password(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    Json(body): Json<ChangePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let PasswordChange { old, new } = body.try_into()?;
    state
        .services
        .users
        .change_password(caller, old, new)
        .await?;
    Ok(respond(
        StatusCode::OK,
        Empty {},
        "Password changed successfully",
    ))
}

#[utoipa::path(
    get, path = "/api/v1/users/current-user",
    responses((status = 200, description = "The caller", body = Envelope<UserView>)),
)]
async fn current_user(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
) -> Result<HttpResponse, ApiError> {
    let user = state.services.users.current_user(caller).await?;
    Ok(respond(
        StatusCode::OK,
        UserView::from(&user),
        "User fetched successfully",
    ))
}

#[utoipa::path(
    patch, path = "/api/v1/users/update-account",
    request_body = UpdateAccountRequest,
    responses(
        (status = 200, description = "Updated", body = Envelope<UserView>),
        (status = 409, description = "Email taken", body = ErrorEnvelope),
    ),
)]
async fn update_account(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    Json(body): Json<UpdateAccountRequest>,
) -> Result<HttpResponse, ApiError> {
    let changes = AccountChanges::try_from(body)?;
    let user = state.services.users.update_account(caller, changes).await?;
    Ok(respond(
        StatusCode::OK,
        UserView::from(&user),
        "Account details updated successfully",
    ))
}

#[utoipa::path(
    patch, path = "/api/v1/users/avatar",
    request_body(content = AvatarFormSchema, content_type = "multipart/form-data"),
    responses((status = 200, description = "Replaced; the old file is deleted", body = Envelope<UserView>)),
)]
async fn update_avatar(
    state: web::Data<AppState>,
    caller: AuthUser,
    multipart: Multipart,
) -> Result<HttpResponse, ApiError> {
    let form: Received<AvatarForm> =
        upload::receive(multipart, state.upload_limits, &state.spool_dir).await?;
    let file = form.problems().finish(form.file(&AVATAR))?;
    replace_image(&state, caller, ProfileImage::Avatar, file).await
}

#[utoipa::path(
    patch, path = "/api/v1/users/cover-image",
    request_body(content = CoverImageFormSchema, content_type = "multipart/form-data"),
    responses((status = 200, description = "Replaced; the old file is deleted", body = Envelope<UserView>)),
)]
async fn update_cover_image(
    state: web::Data<AppState>,
    caller: AuthUser,
    multipart: Multipart,
) -> Result<HttpResponse, ApiError> {
    let form: Received<CoverImageForm> =
        upload::receive(multipart, state.upload_limits, &state.spool_dir).await?;
    let file = form.problems().finish(form.file(&COVER_IMAGE))?;
    replace_image(&state, caller, ProfileImage::CoverImage, file).await
}

async fn replace_image(
    state: &AppState,
    AuthUser(caller): AuthUser,
    image: ProfileImage,
    file: &UploadedFile,
) -> Result<HttpResponse, ApiError> {
    let message = match image {
        ProfileImage::Avatar => "Avatar image updated successfully",
        ProfileImage::CoverImage => "Cover image updated successfully",
    };
    let user = state
        .services
        .users
        .replace_image(caller, image, file)
        .await?;
    Ok(respond(StatusCode::OK, UserView::from(&user), message))
}

/// The caller's watch history, newest first. `data` is a plain array of videos, as the original
/// returned it; `page`/`limit` or `cursor` page through it.
#[utoipa::path(
    get, path = "/api/v1/users/history",
    params(ListQuery),
    responses((status = 200, description = "Newest first; videos hidden or deleted since are left out (the total counts them)", body = Envelope<Vec<VideoView>>, headers(("X-Total-Count" = u64, description = "How many items the whole list holds"), ("Link" = String, description = "`next` (by cursor), `prev`, `first`, `last` (by page)")))),
)]
async fn history(
    req: HttpRequest,
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let (page, after) = query.parse()?;
    let found = state
        .services
        .watching
        .history(caller.user_id, page, after.as_ref())
        .await?;
    Ok(respond_list(
        &req,
        &found,
        video_with_owner,
        "Watch history fetched successfully",
    ))
}

#[utoipa::path(
    delete, path = "/api/v1/users/history",
    responses((status = 200, description = "Cleared", body = Envelope<Empty>)),
)]
async fn clear_history(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
) -> Result<HttpResponse, ApiError> {
    state
        .services
        .watching
        .clear_history(caller.user_id)
        .await?;
    Ok(respond(StatusCode::OK, Empty {}, "Watch history cleared"))
}

#[utoipa::path(
    delete, path = "/api/v1/users/history/{videoId}",
    responses((status = 200, description = "Removed (or was not there)", body = Envelope<Empty>)),
)]
async fn forget_watch(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let video_id = parse_id(&path, "videoId")?;
    state
        .services
        .watching
        .forget(caller.user_id, video_id)
        .await?;
    Ok(respond(
        StatusCode::OK,
        Empty {},
        "Video removed from the watch history",
    ))
}

/// A channel page: the original's fields, counts from the subscriptions collection.
#[utoipa::path(
    get, path = "/api/v1/users/c/{username}",
    responses((status = 200, description = "The channel", body = Envelope<ChannelView>)),
)]
async fn channel_profile(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let username = Username::parse(&path).map_err(|e| ApiError::bad_request(vec![e]))?;
    let channel = state
        .services
        .channels
        .profile(caller.user_id, username)
        .await?;
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

#[derive(OpenApi)]
#[openapi(paths(
    register,
    login,
    logout,
    refresh_token,
    change_password,
    current_user,
    update_account,
    update_avatar,
    update_cover_image,
    channel_profile,
    history,
    clear_history,
    forget_watch,
))]
pub struct Api;
