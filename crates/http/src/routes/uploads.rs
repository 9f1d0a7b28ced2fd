use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use videotube_domain::media::MediaCategory;
use videotube_domain::FieldError;

use crate::api::{respond, ApiError};
use crate::auth::AuthUser;
use crate::startup::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/signature").post(signature));
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignatureQuery {
    resource_type: Option<String>,
}

/// Signed parameters for one direct upload to Cloudinary (`?resourceType=video`, the default,
/// or `image`). Only parameters the server chose are signed: the caller's folder and the time.
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
    let grant = state.videos.grant_upload(caller.user_id, kind)?;
    let data = json!({
        "cloudName": grant.cloud_name,
        "apiKey": grant.api_key,
        "timestamp": grant.timestamp,
        "signature": grant.signature,
        "folder": grant.folder,
        "resourceType": grant.resource_type,
    });
    Ok(respond(StatusCode::OK, data, "Upload signature created"))
}
