use actix_web::http::Method;
use actix_web::{web, Route};
use serde::Deserialize;
use utoipa::IntoParams;
use videotube_domain::id::InvalidId;
use videotube_domain::page::{Cursor, PageRequest};
use videotube_domain::{FieldError, Id};

use crate::api::ApiError;
use crate::body::Invalid;

/// `GET "/videos" => list, ...`: the routes of one module, as `Endpoint`s.
macro_rules! endpoints {
    ($($method:ident $path:literal => $handler:path),* $(,)?) => {
        vec![$($crate::routes::Endpoint {
            method: actix_web::http::Method::$method,
            path: $path,
            route: || actix_web::web::route()
                .method(actix_web::http::Method::$method)
                .to($handler),
        }),*]
    };
}

mod comments;
mod dashboard;
mod docs;
mod health;
mod likes;
pub mod media;
mod playlists;
mod subscriptions;
mod tus;
mod tweets;
mod uploads;
mod users;
pub mod videos;
mod views;

/// One route of the API: the router is built from these, and the OpenAPI test checks that the
/// spec describes exactly these.
pub struct Endpoint {
    pub method: Method,
    /// Under `/api/v1`, with `{name}` parameters (the same syntax in actix and OpenAPI).
    pub path: &'static str,
    route: fn() -> Route,
}

/// Every route under `/api/v1`.
pub fn endpoints() -> Vec<Endpoint> {
    let mut all = endpoints![
        GET "/healthcheck" => health::healthcheck,
        GET "/healthcheck/live" => health::live,
        GET "/openapi.json" => crate::openapi::serve,
    ];
    all.extend(docs::endpoints());
    for module in [
        users::endpoints(),
        videos::endpoints(),
        uploads::endpoints(),
        tus::endpoints(),
        subscriptions::endpoints(),
        likes::endpoints(),
        comments::endpoints(),
        playlists::endpoints(),
        tweets::endpoints(),
        dashboard::endpoints(),
    ] {
        all.extend(module);
    }
    all
}

/// Each module's operations, with the module's name (their tag).
pub fn openapi() -> Vec<(&'static str, utoipa::openapi::OpenApi)> {
    use utoipa::OpenApi;
    vec![
        ("meta", health::Api::openapi()),
        ("meta", docs::Api::openapi()),
        ("users", users::Api::openapi()),
        ("videos", videos::Api::openapi()),
        ("uploads", uploads::Api::openapi()),
        ("uploads", tus::Api::openapi()),
        ("subscriptions", subscriptions::Api::openapi()),
        ("likes", likes::Api::openapi()),
        ("comments", comments::Api::openapi()),
        ("playlists", playlists::Api::openapi()),
        ("tweets", tweets::Api::openapi()),
        ("dashboard", dashboard::Api::openapi()),
    ]
}

/// `page`, `limit` and `cursor` of a `{docs, totalDocs, ...}` page.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// From 1; a page past the end is empty; `page` × `limit` at most 10,000.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 10000, default = 1)]
    page: Option<String>,
    /// 1 to 100.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100, default = 10)]
    limit: Option<String>,
    /// Where the previous page said the list goes on (`nextCursor`, or the `next` link): the
    /// list goes on from there, however deep (then `page` is 1 or absent).
    #[param(pattern = "^([0-9a-f]{2})+$")]
    cursor: Option<String>,
}

impl PageQuery {
    pub fn parse(&self) -> Result<(PageRequest, Option<Cursor>), Invalid> {
        parse_keyset(
            &self.page,
            &self.limit,
            &self.cursor,
            PageRequest::DEFAULT_LIMIT,
        )
    }
}

/// `page`, `limit` and `cursor` of a list answered as a plain array: the same as `PageQuery`,
/// 100 items by default.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// From 1; a page past the end is empty; `page` × `limit` at most 10,000.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 10000, default = 1)]
    page: Option<String>,
    /// 1 to 100.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100, default = 100)]
    limit: Option<String>,
    /// Where the previous page said the list goes on (the `next` link): the list goes on from
    /// there, however deep (then `page` is 1 or absent).
    #[param(pattern = "^([0-9a-f]{2})+$")]
    cursor: Option<String>,
}

impl ListQuery {
    pub fn parse(&self) -> Result<(PageRequest, Option<Cursor>), Invalid> {
        parse_keyset(&self.page, &self.limit, &self.cursor, LIST_DEFAULT_LIMIT)
    }
}

/// How many items a plain-array list answers when `limit` is absent: enough that a client
/// unaware of paging (the community's front ends) shows a full screen.
pub const LIST_DEFAULT_LIMIT: u32 = 100;

fn parse_keyset(
    page: &Option<String>,
    limit: &Option<String>,
    cursor: &Option<String>,
    default_limit: u32,
) -> Result<(PageRequest, Option<Cursor>), Invalid> {
    PageRequest::parse_keyset(
        page.as_deref(),
        limit.as_deref(),
        cursor.as_deref(),
        default_limit,
    )
    .map_err(Invalid)
}

/// One `web::resource` per path, so a known path with the wrong method answers 405, not 404.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let mut paths: Vec<(&'static str, Vec<Endpoint>)> = Vec::new();
    for endpoint in endpoints() {
        match paths.iter_mut().find(|(path, _)| *path == endpoint.path) {
            Some((_, same_path)) => same_path.push(endpoint),
            None => paths.push((endpoint.path, vec![endpoint])),
        }
    }
    for (path, routes) in paths {
        let resource = routes
            .iter()
            .fold(web::resource(path), |resource, endpoint| {
                resource.route((endpoint.route)())
            });
        if path.starts_with(tus::PATH) {
            cfg.service(resource.wrap(tus::protocol_headers()));
        } else {
            cfg.service(resource);
        }
    }
}

pub use tus::{
    Writers as ResumableWriters, REQUEST_HEADERS as TUS_REQUEST_HEADERS,
    RESPONSE_HEADERS as TUS_RESPONSE_HEADERS,
};

/// A malformed id in a path is a 400 naming the parameter.
pub fn parse_id(raw: &str, field: &'static str) -> Result<Id, ApiError> {
    raw.parse()
        .map_err(|e: InvalidId| ApiError::bad_request(vec![FieldError::new(field, e.to_string())]))
}

/// Several ids of one path, every malformed one named in the 400.
pub fn parse_ids<const N: usize>(raw: [(&str, &'static str); N]) -> Result<[Id; N], ApiError> {
    let mut errors = Vec::new();
    let ids = raw.map(|(value, field)| {
        value.parse().unwrap_or_else(|e: InvalidId| {
            errors.push(FieldError::new(field, e.to_string()));
            Id::from_bytes([0; 12])
        })
    });
    if errors.is_empty() {
        Ok(ids)
    } else {
        Err(ApiError::bad_request(errors))
    }
}
