use actix_web::web;

mod health;
pub mod media;
mod uploads;
mod users;
mod videos;

/// Each path is a `web::resource`, so a known path with the wrong method answers 405, not 404.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/healthcheck").get(health::healthcheck))
        .service(web::scope("/users").configure(users::configure))
        .service(web::scope("/videos").configure(videos::configure))
        .service(web::scope("/uploads").configure(uploads::configure));
}
