//! `/docs`: an interactive reference to the API (Swagger UI over `/api/v1/openapi.json`), its
//! files compiled into the binary by `utoipa-swagger-ui`'s `vendored` feature: no CDN, nothing
//! fetched at build or run time.

use std::sync::Arc;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use utoipa::OpenApi;
use utoipa_swagger_ui::Config;

use crate::api::{ApiError, ErrorEnvelope};
use crate::routes::Endpoint;

pub fn endpoints() -> Vec<Endpoint> {
    endpoints![
        GET "/docs" => page,
        GET "/docs/{file}" => file,
    ]
}

/// The page's own scripts, styles and the description it reads; Swagger UI styles elements
/// inline and draws icons from `data:` URLs. Everything else the API answers keeps the strict
/// default (see `add_security_headers`).
const PAGE_POLICY: &str =
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; connect-src 'self'; base-uri 'self'; frame-ancestors 'none'";

/// Where the page and its files are, as the client reaches them (`PUBLIC_URL`'s path prefix
/// kept), so that the page works at `/docs` and `/docs/` alike.
fn docs_root() -> String {
    format!(
        "{}/api/v1/docs/",
        crate::origin::current().unwrap_or_default()
    )
}

/// The API reference page.
#[utoipa::path(
    get, path = "/api/v1/docs",
    security(()),
    responses((status = 200, description = "Swagger UI over this API's OpenAPI description", body = String, content_type = "text/html")),
)]
async fn page() -> Result<HttpResponse, ApiError> {
    let index = swagger_file("index.html")?;
    let html = String::from_utf8_lossy(&index.bytes).replacen(
        "<title>",
        &format!("<base href=\"{}\">\n    <title>", docs_root()),
        1,
    );
    Ok(answer(index.content_type, false, html.into_bytes()))
}

/// One of the page's files: scripts, styles, icons.
#[utoipa::path(
    get, path = "/api/v1/docs/{file}",
    security(()),
    responses((status = 200, description = "A file of the reference page", body = String, content_type = "text/plain"), (status = 404, description = "No such file", body = ErrorEnvelope)),
)]
async fn file(path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let found = swagger_file(&path)?;
    Ok(answer(
        found.content_type,
        found.gzpipped,
        found.bytes.into_owned(),
    ))
}

fn swagger_file(name: &str) -> Result<utoipa_swagger_ui::SwaggerFile<'static>, ApiError> {
    let config = Arc::new(Config::new([format!(
        "{}/api/v1/openapi.json",
        crate::origin::current().unwrap_or_default()
    )]));
    match utoipa_swagger_ui::serve(name, config) {
        Ok(Some(file)) => Ok(file),
        Ok(None) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "No such file in the API reference",
        )),
        Err(err) => Err(videotube_domain::Error::internal(err.to_string()).into()),
    }
}

fn answer(content_type: String, gzipped: bool, body: Vec<u8>) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    response.content_type(content_type).insert_header((
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_POLICY),
    ));
    if gzipped {
        response.insert_header((header::CONTENT_ENCODING, "gzip"));
    }
    response.body(body)
}

#[derive(OpenApi)]
#[openapi(paths(page, file))]
pub struct Api;
