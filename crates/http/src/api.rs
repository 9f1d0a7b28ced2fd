//! The response envelope the original backend's clients read:
//! `{"statusCode", "data", "message", "success"}`, plus `errors` on failures.

use std::fmt;
use std::time::Duration;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;
use videotube_domain::page::{Cursor, Page};
use videotube_domain::{BoxError, Error, FieldError};

/// A successful answer: `data` is the route's payload.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Envelope<'a, T> {
    #[schema(minimum = 200, maximum = 299)]
    status_code: u16,
    data: T,
    message: &'a str,
    success: bool,
}

pub fn respond<T: Serialize>(status: StatusCode, data: T, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(Envelope {
        status_code: status.as_u16(),
        data,
        message,
        success: status.is_success(),
    })
}

/// What was wrong with one input field.
#[derive(Serialize, ToSchema)]
pub struct FieldErrorBody<'a> {
    /// The field, path or query parameter, as the client named it.
    field: &'a str,
    message: &'a str,
}

/// A failed answer: `data` is null and `errors` names the fields at fault (often empty).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorEnvelope<'a> {
    #[schema(minimum = 400, maximum = 599)]
    status_code: u16,
    #[schema(schema_with = null_schema)]
    data: (),
    message: &'a str,
    success: bool,
    errors: Vec<FieldErrorBody<'a>>,
}

fn null_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::Null)
        .build()
}

/// The JSON body of an error response.
pub fn error_body<'a>(
    status: StatusCode,
    message: &'a str,
    errors: &'a [FieldError],
) -> ErrorEnvelope<'a> {
    ErrorEnvelope {
        status_code: status.as_u16(),
        data: (),
        message,
        success: false,
        errors: errors
            .iter()
            .map(|e| FieldErrorBody {
                field: e.field,
                message: &e.message,
            })
            .collect(),
    }
}

/// Every failure a handler returns. 5xx answers are generic; their cause chain goes to the log,
/// inside the request's span (so with its request id).
pub struct ApiError {
    status: StatusCode,
    message: String,
    errors: Vec<FieldError>,
    retry_after: Option<Duration>,
    cause: Option<BoxError>,
    /// Set on errors that leave the middleware stack as errors rather than responses, which
    /// therefore cannot get the header added on the way out.
    request_id: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            errors: Vec::new(),
            retry_after: None,
            cause: None,
            request_id: None,
        }
    }

    pub fn with_request_id(mut self, request_id: Option<String>) -> Self {
        self.request_id = request_id;
        self
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    pub fn bad_request(errors: Vec<FieldError>) -> Self {
        Self::from(Error::invalid(errors))
    }

    pub fn unauthorized(message: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }
}

impl From<Error> for ApiError {
    fn from(err: Error) -> Self {
        let public = |status: StatusCode, message: String| ApiError::new(status, message);
        match err {
            Error::Validation { message, errors } => {
                public(StatusCode::BAD_REQUEST, message).with_errors(errors)
            }
            Error::Conflict { message, errors } => {
                public(StatusCode::CONFLICT, message).with_errors(errors)
            }
            Error::Unauthorized(m) => public(StatusCode::UNAUTHORIZED, m.into()),
            Error::Forbidden(m) => public(StatusCode::FORBIDDEN, m.into()),
            Error::NotFound(m) => public(StatusCode::NOT_FOUND, m.into()),
            Error::TooManyRequests { retry_after } => ApiError {
                retry_after: Some(retry_after),
                ..public(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Too many attempts, try again later".into(),
                )
            },
            Error::Unavailable(cause) => ApiError {
                cause: Some(cause),
                ..public(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Service temporarily unavailable".into(),
                )
            },
            Error::Internal(cause) => ApiError {
                cause: Some(cause),
                ..public(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal server error".into(),
                )
            },
        }
    }
}

pub use videotube_domain::error::CauseChain;

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.message)?;
        if let Some(cause) = &self.cause {
            write!(f, " caused by: {}", CauseChain(cause.as_ref()))?;
        }
        Ok(())
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        if self.status.is_server_error() {
            tracing::error!(error = ?self, "request failed");
        }
        let mut builder = HttpResponse::build(self.status);
        if let Some(id) = &self.request_id {
            builder.insert_header((crate::middleware::REQUEST_ID, id.as_str()));
        }
        if let Some(wait) = self.retry_after {
            builder.insert_header((header::RETRY_AFTER, wait.as_secs().max(1).to_string()));
        }
        let mut response = builder.json(error_body(self.status, &self.message, &self.errors));
        crate::middleware::add_security_headers(response.headers_mut());
        response
    }
}

/// A page in the shape the original's front ends read (mongoose-aggregate-paginate's).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Paginated<T> {
    docs: Vec<T>,
    total_docs: u64,
    limit: u32,
    page: u64,
    total_pages: u64,
    /// The position of the first doc on this page, from 1.
    paging_counter: u64,
    has_prev_page: bool,
    has_next_page: bool,
    prev_page: Option<u64>,
    next_page: Option<u64>,
    /// Where the next page starts (`?cursor=`) when this one was full, else null.
    next_cursor: Option<String>,
}

/// The page with each item shown through `view`.
pub fn paginated<'a, T, U: Serialize>(
    page: &'a Page<T>,
    view: impl FnMut(&'a T) -> U,
) -> Paginated<U> {
    let request = page.request;
    let current = u64::from(request.page());
    let total_pages = page.total_pages();
    Paginated {
        docs: page.items.iter().map(view).collect(),
        total_docs: page.total,
        limit: request.limit(),
        page: current,
        total_pages,
        paging_counter: request.skip() + 1,
        has_prev_page: current > 1,
        has_next_page: current < total_pages,
        prev_page: (current > 1).then(|| current - 1),
        next_page: (current < total_pages).then(|| current + 1),
        next_cursor: page.next.as_ref().map(Cursor::encode),
    }
}

/// The list's length, on lists answered as plain arrays.
pub const TOTAL_COUNT: &str = "x-total-count";

/// A list whose `data` is a plain array of items, as the community's front ends read the routes
/// the original left as TODO. The whole list's length goes in `X-Total-Count` and the way on
/// in `Link` (RFC 8288, as GitHub's API does): `first`, `prev` and `last` by page number
/// (`last` only while within the depth pages reach), `next` by cursor (from wherever the page
/// was reached: stable when items are added, and as cheap at any depth).
pub fn respond_list<'a, T, U: Serialize>(
    req: &HttpRequest,
    page: &'a Page<T>,
    view: impl FnMut(&'a T) -> U,
    message: &str,
) -> HttpResponse {
    let items: Vec<U> = page.items.iter().map(view).collect();
    let mut response = respond(StatusCode::OK, items, message);
    let headers = response.headers_mut();
    headers.insert(
        header::HeaderName::from_static(TOTAL_COUNT),
        header::HeaderValue::from(page.total),
    );
    if let Ok(link) = header::HeaderValue::from_str(&links(req, page)) {
        headers.insert(header::LINK, link);
    }
    response
}

fn links<T>(req: &HttpRequest, page: &Page<T>) -> String {
    let request = page.request;
    // Absolute, like GitHub's; path-absolute (still valid) outside a request's scope.
    let origin = crate::origin::current().unwrap_or_default();
    type Pairs = Vec<(String, String)>;
    let (paging, kept): (Pairs, Pairs) = serde_urlencoded::from_str::<Pairs>(req.query_string())
        .unwrap_or_default()
        .into_iter()
        .partition(|(name, _)| matches!(name.as_str(), "page" | "limit" | "cursor"));
    let from_cursor = paging.iter().any(|(name, _)| name == "cursor");
    let url = |paging: [(&str, String); 2]| {
        let mut pairs: Vec<(&str, String)> =
            kept.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        pairs.extend(paging);
        let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        format!("{origin}{}?{query}", req.path())
    };
    let limit = || ("limit", request.limit().to_string());
    let numbered = |n: u32| url([("page", n.to_string()), limit()]);
    let mut links = Vec::new();
    if let Some(next) = &page.next {
        links.push((url([("cursor", next.encode()), limit()]), "next"));
    }
    let current = request.page();
    if current > 1 && !from_cursor {
        links.push((numbered(current - 1), "prev"));
    }
    links.push((numbered(1), "first"));
    let last = u32::try_from(page.total_pages()).unwrap_or(u32::MAX);
    if request.at(last).is_some() {
        links.push((numbered(last), "last"));
    }
    links
        .iter()
        .map(|(url, rel)| format!("<{url}>; rel=\"{rel}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The payload of answers that have nothing more to say than their message.
#[derive(Serialize, ToSchema)]
pub struct Empty {}
