//! The caller's account: registering, the profile, the password, the images.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;
use videotube_domain::media::{MediaCategory, ProfileImage, UploadedFile};
use videotube_domain::services::Registration;
use videotube_domain::user::AccountChanges;
use videotube_domain::values::{Email, FullName, NewPassword, Password, Username};

use super::UserView;
use crate::api::{respond, ApiError, Empty, Envelope, ErrorEnvelope};
use crate::auth::AuthUser;
use crate::body::{Invalid, Json, Problems, Text};
use crate::startup::AppState;
use crate::upload::{self, FileField, MultipartForm, MultipartSchema, Received};

/// `POST /users/register`, multipart.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegisterForm {
    /// 1 to 100 characters.
    #[schema(value_type = String, min_length = 1, max_length = 100)]
    full_name: Text,
    #[schema(value_type = String, format = Email)]
    email: Text,
    /// 3 to 30 of letters, digits, '.' and '_'; stored lowercase.
    #[schema(value_type = String, pattern = "^[A-Za-z0-9._]{3,30}$")]
    username: Text,
    /// 8 to 72 bytes.
    #[schema(value_type = String, min_length = 8, max_length = 72)]
    password: Text,
}

const AVATAR: FileField = FileField {
    name: "avatar",
    accepts: MediaCategory::Image,
    required: true,
    description: "JPEG, PNG, WebP or GIF, up to the image limit (5 MiB by default).",
};

const COVER_IMAGE: FileField = FileField {
    name: "coverImage",
    accepts: MediaCategory::Image,
    required: false,
    description: "",
};

/// What `RegisterForm` is in the OpenAPI description (utoipa takes no generic type there).
type RegisterFormSchema = MultipartSchema<RegisterForm>;

impl MultipartForm for RegisterForm {
    const FILES: &'static [FileField] = &[AVATAR, COVER_IMAGE];
}

impl<'a> TryFrom<&'a Received<RegisterForm>> for Registration<'a> {
    type Error = Invalid;

    fn try_from(form: &'a Received<RegisterForm>) -> Result<Self, Invalid> {
        let mut problems = form.problems();
        let text = &form.text;
        let full_name =
            problems.required(FullName::FIELD, &text.full_name, |s| FullName::parse(&s));
        let email = problems.required(Email::FIELD, &text.email, |s| Email::parse(&s));
        let username = problems.required(Username::FIELD, &text.username, |s| Username::parse(&s));
        let password = problems.required("password", &text.password, |s| {
            NewPassword::parse(s, "password")
        });
        let registration = match (full_name, email, username, password, form.file(&AVATAR)) {
            (Some(full_name), Some(email), Some(username), Some(password), Some(avatar)) => {
                Some(Registration {
                    username,
                    email,
                    full_name,
                    password,
                    avatar,
                    cover_image: form.file(&COVER_IMAGE),
                })
            }
            _ => None,
        };
        problems.finish(registration)
    }
}

/// `PATCH /users/avatar`, multipart.
#[derive(Deserialize, ToSchema)]
pub struct AvatarForm {}

/// What `AvatarForm` is in the OpenAPI description (utoipa takes no generic type there).
type AvatarFormSchema = MultipartSchema<AvatarForm>;

impl MultipartForm for AvatarForm {
    const FILES: &'static [FileField] = &[FileField {
        description: "",
        ..AVATAR
    }];
}

/// `PATCH /users/cover-image`, multipart.
#[derive(Deserialize, ToSchema)]
pub struct CoverImageForm {}

/// What `CoverImageForm` is in the OpenAPI description (utoipa takes no generic type there).
type CoverImageFormSchema = MultipartSchema<CoverImageForm>;

impl MultipartForm for CoverImageForm {
    const FILES: &'static [FileField] = &[FileField {
        required: true,
        ..COVER_IMAGE
    }];
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangePasswordRequest {
    #[schema(value_type = String)]
    old_password: Text,
    /// 8 to 72 bytes.
    #[schema(value_type = String, min_length = 8, max_length = 72)]
    new_password: Text,
}

pub struct PasswordChange {
    old: Password,
    new: NewPassword,
}

impl TryFrom<ChangePasswordRequest> for PasswordChange {
    type Error = Invalid;

    fn try_from(body: ChangePasswordRequest) -> Result<Self, Invalid> {
        let mut problems = Problems::default();
        let old = problems.required("oldPassword", &body.old_password, |s| {
            Password::parse(s, "oldPassword")
        });
        let new = problems.required("newPassword", &body.new_password, |s| {
            NewPassword::parse(s, "newPassword")
        });
        problems.finish(old.zip(new).map(|(old, new)| PasswordChange { old, new }))
    }
}

/// One or both.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateAccountRequest {
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100)]
    full_name: Text,
    #[schema(value_type = Option<String>, format = Email)]
    email: Text,
}

impl TryFrom<UpdateAccountRequest> for AccountChanges {
    type Error = Invalid;

    fn try_from(body: UpdateAccountRequest) -> Result<Self, Invalid> {
        let mut problems = Problems::default();
        let changes = AccountChanges {
            full_name: problems.optional(FullName::FIELD, &body.full_name, |s| FullName::parse(&s)),
            email: problems.optional(Email::FIELD, &body.email, |s| Email::parse(&s)),
        };
        problems.finish(Some(changes))
    }
}

#[utoipa::path(
    post, path = "/api/v1/users/register", security(()),
    request_body(content = RegisterFormSchema, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Registered", body = Envelope<UserView>),
        (status = 409, description = "Username or email taken", body = ErrorEnvelope),
        (status = 429, description = "Too many registrations from this client (see Retry-After)", body = ErrorEnvelope),
    ),
)]
pub(super) async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    multipart: Multipart,
) -> Result<HttpResponse, ApiError> {
    state
        .services
        .users
        .admit_registration(crate::origin::client_ip(&req))
        .await?;
    // The form, and with it every spooled file, lives until this handler returns.
    let form: Received<RegisterForm> =
        upload::receive(multipart, state.upload_limits, &state.spool_dir).await?;
    let user = state
        .services
        .users
        .register(Registration::try_from(&form)?)
        .await?;
    Ok(respond(
        StatusCode::CREATED,
        UserView::from(&user),
        "User registered successfully",
    ))
}

#[utoipa::path(
    post, path = "/api/v1/users/change-password",
    request_body = ChangePasswordRequest,
    responses((status = 200, description = "Changed; the user's other sessions are revoked", body = Envelope<Empty>)),
)]
pub(super) async fn change_password(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    Json(body): Json<ChangePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let PasswordChange { old, new } = body.try_into()?;
    state
        .services
        .users
        .change_password(caller, old, new)
        .await?;
    Ok(respond(
        StatusCode::OK,
        Empty {},
        "Password changed successfully",
    ))
}

#[utoipa::path(
    get, path = "/api/v1/users/current-user",
    responses((status = 200, description = "The caller", body = Envelope<UserView>)),
)]
pub(super) async fn current_user(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
) -> Result<HttpResponse, ApiError> {
    let user = state.services.users.current_user(caller).await?;
    Ok(respond(
        StatusCode::OK,
        UserView::from(&user),
        "User fetched successfully",
    ))
}

#[utoipa::path(
    patch, path = "/api/v1/users/update-account",
    request_body = UpdateAccountRequest,
    responses(
        (status = 200, description = "Updated", body = Envelope<UserView>),
        (status = 409, description = "Email taken", body = ErrorEnvelope),
    ),
)]
pub(super) async fn update_account(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    Json(body): Json<UpdateAccountRequest>,
) -> Result<HttpResponse, ApiError> {
    let changes = AccountChanges::try_from(body)?;
    let user = state.services.users.update_account(caller, changes).await?;
    Ok(respond(
        StatusCode::OK,
        UserView::from(&user),
        "Account details updated successfully",
    ))
}

#[utoipa::path(
    patch, path = "/api/v1/users/avatar",
    request_body(content = AvatarFormSchema, content_type = "multipart/form-data"),
    responses((status = 200, description = "Replaced; the old file is deleted", body = Envelope<UserView>)),
)]
pub(super) async fn update_avatar(
    state: web::Data<AppState>,
    caller: AuthUser,
    multipart: Multipart,
) -> Result<HttpResponse, ApiError> {
    let form: Received<AvatarForm> =
        upload::receive(multipart, state.upload_limits, &state.spool_dir).await?;
    let file = form.problems().finish(form.file(&AVATAR))?;
    replace_image(&state, caller, ProfileImage::Avatar, file).await
}

#[utoipa::path(
    patch, path = "/api/v1/users/cover-image",
    request_body(content = CoverImageFormSchema, content_type = "multipart/form-data"),
    responses((status = 200, description = "Replaced; the old file is deleted", body = Envelope<UserView>)),
)]
pub(super) async fn update_cover_image(
    state: web::Data<AppState>,
    caller: AuthUser,
    multipart: Multipart,
) -> Result<HttpResponse, ApiError> {
    let form: Received<CoverImageForm> =
        upload::receive(multipart, state.upload_limits, &state.spool_dir).await?;
    let file = form.problems().finish(form.file(&COVER_IMAGE))?;
    replace_image(&state, caller, ProfileImage::CoverImage, file).await
}

pub(super) async fn replace_image(
    state: &AppState,
    AuthUser(caller): AuthUser,
    image: ProfileImage,
    file: &UploadedFile,
) -> Result<HttpResponse, ApiError> {
    let message = match image {
        ProfileImage::Avatar => "Avatar image updated successfully",
        ProfileImage::CoverImage => "Cover image updated successfully",
    };
    let user = state
        .services
        .users
        .replace_image(caller, image, file)
        .await?;
    Ok(respond(StatusCode::OK, UserView::from(&user), message))
}
