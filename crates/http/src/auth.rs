//! Who is calling: the `AuthUser` extractor, and the token cookies.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use secrecy::ExposeSecret;
use videotube_domain::session::{Caller, IssuedToken, TokenPair};

use crate::api::ApiError;
use crate::config::SameSitePolicy;
use crate::startup::AppState;

pub const ACCESS_COOKIE: &str = "accessToken";
pub const REFRESH_COOKIE: &str = "refreshToken";

/// The authenticated caller: an access token from the `accessToken` cookie or an
/// `Authorization: Bearer` header, valid, and of a session that is still live.
pub struct AuthUser(pub Caller);

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token =
            bearer_token(req).or_else(|| req.cookie(ACCESS_COOKIE).map(|c| c.value().to_owned()));
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let token = token.ok_or_else(|| ApiError::unauthorized("Unauthorized request"))?;
            let state = state.expect("AppState is registered by Application::build");
            Ok(AuthUser(state.users.authenticate(&token).await?))
        })
    }
}

fn bearer_token(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty())
        .then(|| token.trim().to_owned())
}

/// How token cookies are set: HttpOnly always, `Path=/`, `Max-Age` equal to the token's
/// lifetime, SameSite as configured, and Secure when configured or when SameSite=None demands it.
#[derive(Debug, Clone, Copy)]
pub struct CookiePolicy {
    pub secure: bool,
    pub same_site: SameSitePolicy,
}

impl CookiePolicy {
    fn build<'a>(&self, name: &'a str, value: String, max_age: time::Duration) -> Cookie<'a> {
        let same_site = match self.same_site {
            SameSitePolicy::Lax => SameSite::Lax,
            SameSitePolicy::Strict => SameSite::Strict,
            SameSitePolicy::None => SameSite::None,
        };
        Cookie::build(name, value)
            .http_only(true)
            .secure(self.secure || self.same_site == SameSitePolicy::None)
            .same_site(same_site)
            .path("/")
            .max_age(max_age)
            .finish()
    }

    fn token_cookie<'a>(&self, name: &'a str, token: &IssuedToken) -> Cookie<'a> {
        // Rounded up: the token was issued a moment ago with a whole number of seconds to live.
        let lifetime = ((token.expires_at - chrono::Utc::now())
            .num_milliseconds()
            .max(0)
            + 999)
            / 1000;
        self.build(
            name,
            token.token.expose_secret().to_owned(),
            time::Duration::seconds(lifetime),
        )
    }

    pub fn set_tokens(
        &self,
        response: &mut HttpResponse,
        tokens: &TokenPair,
    ) -> Result<(), ApiError> {
        add(response, self.token_cookie(ACCESS_COOKIE, &tokens.access))?;
        add(response, self.token_cookie(REFRESH_COOKIE, &tokens.refresh))
    }

    pub fn clear_tokens(&self, response: &mut HttpResponse) -> Result<(), ApiError> {
        for name in [ACCESS_COOKIE, REFRESH_COOKIE] {
            let mut cookie = self.build(name, String::new(), time::Duration::ZERO);
            cookie.set_expires(time::OffsetDateTime::UNIX_EPOCH);
            add(response, cookie)?;
        }
        Ok(())
    }
}

fn add(response: &mut HttpResponse, cookie: Cookie<'_>) -> Result<(), ApiError> {
    response
        .add_cookie(&cookie)
        .map_err(|e| ApiError::from(videotube_domain::Error::internal(e.to_string())))
}
