use std::collections::HashMap;

use actix_web::http::Method;
use actix_web::{web, Route};
use videotube_domain::id::InvalidId;
use videotube_domain::page::{Cursor, PageRequest};
use videotube_domain::{FieldError, Id};

use crate::api::ApiError;

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
mod health;
mod likes;
pub mod media;
mod playlists;
mod subscriptions;
mod tweets;
mod uploads;
mod users;
pub mod videos;

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
        GET "/openapi.json" => crate::openapi::serve,
    ];
    for module in [
        users::endpoints(),
        videos::endpoints(),
        uploads::endpoints(),
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
        ("users", users::Api::openapi()),
        ("videos", videos::Api::openapi()),
        ("uploads", uploads::Api::openapi()),
        ("subscriptions", subscriptions::Api::openapi()),
        ("likes", likes::Api::openapi()),
        ("comments", comments::Api::openapi()),
        ("playlists", playlists::Api::openapi()),
        ("tweets", tweets::Api::openapi()),
        ("dashboard", dashboard::Api::openapi()),
    ]
}

/// `page` and `limit` of a `{docs, totalDocs, ...}` page (documentation of what
/// `keyset_request` reads).
#[allow(dead_code)]
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// From 1; a page past the end is empty; `page` × `limit` at most 10,000.
    #[param(minimum = 1, maximum = 10000, default = 1)]
    page: Option<u32>,
    /// 1 to 100.
    #[param(minimum = 1, maximum = 100, default = 10)]
    limit: Option<u32>,
}

/// `cursor` of a list that also pages by keyset (documentation of what `keyset_request` and
/// `list_request` read).
#[allow(dead_code)]
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CursorQuery {
    /// Where the previous page said the list goes on (`nextCursor`, or the `next` link): the
    /// list goes on from there, however deep (then `page` is 1 or absent).
    #[param(pattern = "^([0-9a-f]{2})+$")]
    cursor: Option<String>,
}

/// `page` and `limit` of a list answered as a plain array (documentation of what
/// `list_request` reads).
#[allow(dead_code)]
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// From 1; a page past the end is empty; `page` × `limit` at most 10,000.
    #[param(minimum = 1, maximum = 10000, default = 1)]
    page: Option<u32>,
    /// 1 to 100.
    #[param(minimum = 1, maximum = 100, default = 100)]
    limit: Option<u32>,
}

/// How many items a plain-array list answers when `limit` is absent: enough that a client
/// unaware of paging (the community's front ends) shows a full screen.
pub const LIST_DEFAULT_LIMIT: u32 = 100;

/// `page`, `limit` and `cursor` of a `{docs, ...}` page (see `PageRequest::parse_keyset`).
pub fn keyset_request(
    query: &HashMap<String, String>,
) -> Result<(PageRequest, Option<Cursor>), ApiError> {
    parse_keyset(query, PageRequest::DEFAULT_LIMIT)
}

/// `page`, `limit` and `cursor` of a plain-array list: the same, 100 items by default.
pub fn list_request(
    query: &HashMap<String, String>,
) -> Result<(PageRequest, Option<Cursor>), ApiError> {
    parse_keyset(query, LIST_DEFAULT_LIMIT)
}

fn parse_keyset(
    query: &HashMap<String, String>,
    default_limit: u32,
) -> Result<(PageRequest, Option<Cursor>), ApiError> {
    let param = |name: &str| query.get(name).map(String::as_str);
    PageRequest::parse_keyset(
        param("page"),
        param("limit"),
        param("cursor"),
        default_limit,
    )
    .map_err(ApiError::bad_request)
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
        cfg.service(resource);
    }
}

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
