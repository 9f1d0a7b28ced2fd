use std::collections::HashMap;

use actix_web::web;
use videotube_domain::id::InvalidId;
use videotube_domain::page::PageRequest;
use videotube_domain::{FieldError, Id};

use crate::api::ApiError;

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

/// Each path is a `web::resource`, so a known path with the wrong method answers 405, not 404.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/healthcheck").get(health::healthcheck))
        .service(web::scope("/users").configure(users::configure))
        .service(web::scope("/videos").configure(videos::configure))
        .service(web::scope("/uploads").configure(uploads::configure))
        .service(web::scope("/subscriptions").configure(subscriptions::configure))
        .service(web::scope("/likes").configure(likes::configure))
        .service(web::scope("/tweets").configure(tweets::configure))
        .service(web::scope("/comments").configure(comments::configure))
        .service(web::scope("/playlist").configure(playlists::configure))
        .service(web::scope("/dashboard").configure(dashboard::configure));
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

/// `page` and `limit` from a query string (defaults 1 and 10; 400 naming the parameter otherwise).
pub fn page_request(query: &HashMap<String, String>) -> Result<PageRequest, ApiError> {
    let param = |name: &str| query.get(name).map(String::as_str);
    PageRequest::parse(param("page"), param("limit")).map_err(ApiError::bad_request)
}
