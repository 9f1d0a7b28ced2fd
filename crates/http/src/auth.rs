//! Who is calling: the `AuthUser` extractor, and the token cookies.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use secrecy::ExposeSecret;
use videotube_domain::session::{Caller, IssuedToken, TokenPair};
use videotube_domain::Id;

use crate::api::ApiError;
use crate::config::SameSitePolicy;
use crate::startup::AppState;

pub const ACCESS_COOKIE: &str = "accessToken";
pub const REFRESH_COOKIE: &str = "refreshToken";

/// The authenticated caller: an access token from the `accessToken` cookie or an
/// `Authorization: Bearer` header, valid, and of a session that is still live. The cookie is
/// tried first, as the original reads it, then the header; the first that verifies wins, so a
/// stale header beside a fresh cookie (or the other way round) still signs the caller in.
pub struct AuthUser(pub Caller);

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let caller = signed_in(req);
        Box::pin(async move {
            caller
                .await?
                .map(AuthUser)
                .ok_or_else(|| ApiError::unauthorized("Unauthorized request"))
        })
    }
}

/// Who reads public data: the signed-in caller, or no one when the request carries no
/// credentials and public reads are on (`APP_AUTH__PUBLIC_READS`, the default). Credentials
/// that are sent but do not verify are still 401, so that a front end with an expired token
/// refreshes it instead of silently showing the page as to a stranger.
pub struct Viewer(pub Option<Id>);

impl FromRequest for Viewer {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let public_reads = req
            .app_data::<web::Data<AppState>>()
            .is_some_and(|state| state.public_reads);
        let caller = signed_in(req);
        Box::pin(async move {
            match caller.await? {
                Some(caller) => Ok(Viewer(Some(caller.user_id))),
                None if public_reads => Ok(Viewer(None)),
                None => Err(ApiError::unauthorized("Unauthorized request")),
            }
        })
    }
}

/// The caller whose credentials verify first (see `AuthUser`); `None` when the request carries
/// none, an error when it carries some and none verifies.
fn signed_in(req: &HttpRequest) -> impl Future<Output = Result<Option<Caller>, ApiError>> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let mut failure = None;
    let mut tokens = Vec::with_capacity(2);
    if let Some(cookie) = req.cookie(ACCESS_COOKIE).filter(|c| !c.value().is_empty()) {
        match state.as_ref().map(|s| s.cookies.refuse_cross_site(req)) {
            Some(Err(refused)) => failure = Some(refused),
            _ => tokens.push(cookie.value().to_owned()),
        }
    }
    tokens.extend(bearer_token(req));
    let request = req.clone();
    async move {
        let state = state.ok_or_else(|| {
            ApiError::from(videotube_domain::Error::internal(
                "AuthUser used in an app without AppState",
            ))
        })?;
        for token in tokens {
            match state.services.users.authenticate(&token).await {
                Ok(caller) => {
                    crate::telemetry::record_user(&request, caller.user_id);
                    return Ok(Some(caller));
                }
                Err(err @ videotube_domain::Error::Unauthorized(_)) => failure = Some(err.into()),
                Err(err) => return Err(err.into()),
            }
        }
        failure.map_or(Ok(None), Err)
    }
}

fn bearer_token(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty())
        .then(|| token.trim().to_owned())
}

/// How token cookies are set: HttpOnly always, `Path=/`, `Max-Age` equal to the token's
/// lifetime, SameSite as configured, and Secure when configured or when SameSite=None demands it;
/// and from where they are believed on writes.
#[derive(Debug, Clone)]
pub struct CookiePolicy {
    pub secure: bool,
    pub same_site: SameSitePolicy,
    /// The CORS origins allowed with credentials: the sites whose pages may write with cookies.
    pub trusted_origins: Vec<String>,
}

impl CookiePolicy {
    /// Cross-site request forgery: a browser attaches cookies to requests any site makes (with
    /// `SameSite=None`, the setting for a front end on another site, to every such request). A
    /// cookie-authenticated request that may change something (not GET, HEAD or OPTIONS) is
    /// refused (403) when its `Origin` is neither this server's nor a trusted one, or, without
    /// an `Origin`, when the browser says `Sec-Fetch-Site: cross-site`. Clients that send
    /// neither header (not browsers) and Bearer tokens (which no other site can attach) pass.
    pub fn refuse_cross_site(&self, req: &HttpRequest) -> Result<(), ApiError> {
        if matches!(req.method().as_str(), "GET" | "HEAD" | "OPTIONS") {
            return Ok(());
        }
        let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
        let allowed = match header("origin") {
            Some(origin) => {
                let origin = origin.trim_end_matches('/');
                self.trusted_origins
                    .iter()
                    .any(|o| o.trim_end_matches('/') == origin)
                    || crate::origin::current().is_some_and(|own| own == origin)
            }
            None => header("sec-fetch-site") != Some("cross-site"),
        };
        if allowed {
            Ok(())
        } else {
            Err(ApiError::new(
                actix_web::http::StatusCode::FORBIDDEN,
                "Cross-site request refused: send the access token as a Bearer header, or call from an allowed origin",
            ))
        }
    }

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
