//! Sessions: logging in and out, refreshing the tokens.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use videotube_domain::values::{Email, LoginId, Password, Username};
use videotube_domain::FieldError;

use super::UserView;
use crate::api::{respond, ApiError, Empty, Envelope, ErrorEnvelope};
use crate::auth::{AuthUser, REFRESH_COOKIE};
use crate::body::{from_object, Invalid, Json, Problems, Text};
use crate::startup::AppState;

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
        let username =
            problems.optional(Username::FIELD, &body.username, |s| Username::existing(&s));
        let email = problems.optional(Email::FIELD, &body.email, |s| Email::for_login(&s));
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

#[utoipa::path(
    post, path = "/api/v1/users/login", security(()),
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in; both tokens are also set as HttpOnly cookies", body = Envelope<LoginData>),
        (status = 401, description = "Unknown user or wrong password (the same answer for both)", body = ErrorEnvelope),
        (status = 429, description = "Too many attempts from this client or for this account (see Retry-After)", body = ErrorEnvelope),
    ),
)]
pub(super) async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    Json(body): Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let Credentials { login, password } = body.try_into()?;
    let client = crate::origin::client_ip(&req);
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
pub(super) async fn logout(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
) -> Result<HttpResponse, ApiError> {
    state.services.users.logout(caller).await?;
    let mut response = respond(StatusCode::OK, Empty {}, "User logged out");
    state.cookies.clear_tokens(&mut response)?;
    Ok(response)
}

/// The token comes from the `refreshToken` cookie or from a JSON body `{"refreshToken": "..."}`,
/// as in the original (the cookie when both are refresh tokens); an empty body is fine when the
/// cookie is there.
#[utoipa::path(
    post, path = "/api/v1/users/refresh-token", security(()),
    request_body(content = Option<RefreshRequest>, description = "Optional when the refreshToken cookie is sent"),
    responses(
        (status = 200, description = "New tokens (also set as cookies); the old refresh token is spent", body = Envelope<TokensData>),
        (status = 401, description = "No, an invalid, or a spent refresh token", body = ErrorEnvelope),
        (status = 429, description = "Too many refreshes from this client (see Retry-After)", body = ErrorEnvelope),
    ),
)]
pub(super) async fn refresh_token(
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
    // The cookie first, as the original reads it, then the body: the first that is a refresh
    // token this server signed (a spent one included: presenting it is what reuse detection is for).
    let token = match from_cookie {
        Some(cookie) if from_body.is_none() || state.services.users.is_refresh_token(&cookie) => {
            state.cookies.refuse_cross_site(&req)?;
            cookie
        }
        _ => from_body.ok_or_else(|| ApiError::unauthorized("Unauthorized request"))?,
    };
    let tokens = state
        .services
        .users
        .refresh(&token, crate::origin::client_ip(&req))
        .await?;
    let data = TokensData {
        access_token: tokens.access.token.expose_secret(),
        refresh_token: tokens.refresh.token.expose_secret(),
    };
    let mut response = respond(StatusCode::OK, data, "Access token refreshed");
    state.cookies.set_tokens(&mut response, &tokens)?;
    Ok(response)
}
