use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde::Serialize;
use utoipa::{IntoParams, OpenApi, ToSchema};
use videotube_domain::media::MediaCategory;
use videotube_domain::FieldError;

use crate::api::{respond, ApiError, Envelope, ErrorEnvelope};
use crate::auth::AuthUser;
use crate::routes::Endpoint;
use crate::startup::AppState;

pub fn endpoints() -> Vec<Endpoint> {
    endpoints![
        POST "/uploads/signature" => signature,
    ]
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
struct SignatureQuery {
    /// `video` (the default) or `image`.
    #[param(pattern = "^(video|image)$")]
    resource_type: Option<String>,
}

/// What the client sends to Cloudinary, as given.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UploadGrantView<'a> {
    cloud_name: &'a str,
    api_key: &'a str,
    timestamp: i64,
    signature: &'a str,
    folder: &'a str,
    resource_type: &'a str,
}

/// Signed parameters for one direct upload to Cloudinary (`?resourceType=video`, the default,
/// or `image`). Only parameters the server chose are signed: the caller's folder and the time.
#[utoipa::path(
    post, path = "/api/v1/uploads/signature",
    params(SignatureQuery),
    responses(
        (status = 200, description = "Parameters to send to Cloudinary with the file", body = Envelope<UploadGrantView>),
        (status = 409, description = "This server stores media itself (no Cloudinary)", body = ErrorEnvelope),
    ),
)]
async fn signature(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    query: web::Query<SignatureQuery>,
) -> Result<HttpResponse, ApiError> {
    let kind = match query.resource_type.as_deref() {
        None | Some("video") => MediaCategory::Video,
        Some("image") => MediaCategory::Image,
        Some(_) => {
            return Err(ApiError::bad_request(vec![FieldError::new(
                "resourceType",
                "must be video or image",
            )]))
        }
    };
    let grant = state.services.videos.grant_upload(caller.user_id, kind)?;
    let data = UploadGrantView {
        cloud_name: &grant.cloud_name,
        api_key: &grant.api_key,
        timestamp: grant.timestamp,
        signature: &grant.signature,
        folder: &grant.folder,
        resource_type: grant.resource_type,
    };
    Ok(respond(StatusCode::OK, data, "Upload signature created"))
}

#[derive(OpenApi)]
#[openapi(paths(signature))]
pub struct Api;
