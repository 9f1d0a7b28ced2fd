//! The OpenAPI 3.1 description of the API, generated from the handlers' annotations and served at
//! `/api/v1/openapi.json`. Conventions every operation shares are added here rather than repeated
//! on each handler: authentication, path parameters and the error answers.

use actix_web::{web, HttpResponse};
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, ObjectBuilder, OpenApi as Spec, Ref, Required, ResponseBuilder, Type,
};
use utoipa::OpenApi;

use crate::api::ErrorEnvelope;
use crate::routes;
use crate::startup::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "VideoTube API",
        description = "The videotube backend's API: every answer is the envelope \
            `{statusCode, data, message, success}`, failures add `errors: [{field, message}]`. \
            Authenticated operations take the access token as a Bearer header or the \
            `accessToken` cookie that login sets.",
        license(name = "MIT"),
    ),
    paths(serve),
    tags((name = "meta", description = "Health and this description")),
    components(schemas(ErrorEnvelope)),
    security(("bearerAuth" = []), ("cookieAuth" = [])),
)]
struct Root;

pub const BEARER: &str = "bearerAuth";
pub const COOKIE: &str = "cookieAuth";

/// The whole description: each route module's operations, then the shared conventions.
pub fn spec() -> Spec {
    let mut spec = Root::openapi();
    for (tag, mut module) in routes::openapi() {
        for operation in module.paths.paths.values_mut().flat_map(operations) {
            operation.tags = Some(vec![tag.to_owned()]);
            // Handler names repeat across modules; operation ids must not.
            if let Some(id) = &mut operation.operation_id {
                *id = format!("{tag}_{id}");
            }
        }
        spec.merge(module);
    }
    let components = spec.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        BEARER,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .build(),
        ),
    );
    components.add_security_scheme(
        COOKIE,
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(crate::auth::ACCESS_COOKIE))),
    );
    for (path, item) in spec.paths.paths.iter_mut() {
        for operation in operations(item) {
            describe_path_parameters(path, operation);
            add_error_answers(operation);
        }
    }
    spec
}

/// `GET /api/v1/openapi.json`: this description.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "meta",
    security(()),
    responses((status = 200, description = "The OpenAPI 3.1 description of this API", content_type = "application/json")),
)]
pub async fn serve(state: web::Data<AppState>) -> HttpResponse {
    let mut spec = spec();
    if !state.public_reads {
        require_login_everywhere(&mut spec);
    }
    HttpResponse::Ok().json(spec)
}

/// With `APP_AUTH__PUBLIC_READS=false` the operations readable anonymously (whose security
/// lists the empty requirement beside the tokens) need a token like the rest.
fn require_login_everywhere(spec: &mut Spec) {
    for operation in spec.paths.paths.values_mut().flat_map(operations) {
        if let Some(security) = &mut operation.security {
            if security.len() > 1 {
                security.retain(|requirement| requirement != &Default::default());
            }
        }
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.post,
        &mut item.put,
        &mut item.patch,
        &mut item.delete,
        &mut item.options,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

/// Each `{name}` of the path as a required string parameter: ids are 24 hexadecimal digits
/// (anything else is a 400 naming the parameter).
fn describe_path_parameters(path: &str, operation: &mut Operation) {
    let names = path
        .split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'));
    let parameters = operation.parameters.get_or_insert_with(Vec::new);
    for name in names {
        let schema = if name.ends_with("Id") {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some("^[0-9a-fA-F]{24}$"))
        } else {
            ObjectBuilder::new().schema_type(Type::String)
        };
        parameters.push(
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(schema))
                .build()
                .into(),
        );
    }
}

/// The failures any operation of its kind may answer, each with the error envelope: 400 for
/// bad input, 401 without a valid session, 404 for an absent resource, 413 and 415 for
/// bodies, 429 when throttled, 500 and 503 when something behind the API fails.
fn add_error_answers(operation: &mut Operation) {
    let takes_input = operation.request_body.is_some()
        || operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
    let names_a_resource =
        operation.parameters.iter().flatten().any(
            |p| matches!(p, utoipa::openapi::RefOr::T(p) if p.parameter_in == ParameterIn::Path),
        );
    let public = operation
        .security
        .as_ref()
        .is_some_and(|s| s.iter().all(|r| r == &Default::default()));
    let answers = [
        (
            400,
            takes_input,
            "Invalid input; `errors` names each field at fault",
        ),
        (401, !public, "Missing, invalid or revoked access token"),
        (
            404,
            names_a_resource,
            "No such resource, or not one the caller may see",
        ),
        (
            413,
            operation.request_body.is_some(),
            "Body or file over its size limit",
        ),
        (
            415,
            operation.request_body.is_some(),
            "Body of a type this operation does not take",
        ),
        (
            500,
            true,
            "Internal error; details are logged under the x-request-id",
        ),
        (503, true, "The database is unreachable; retry later"),
    ];
    for (status, applies, description) in answers {
        let status = status.to_string();
        if applies && !operation.responses.responses.contains_key(&status) {
            operation
                .responses
                .responses
                .insert(status, error_answer(description).into());
        }
    }
}

pub fn error_answer(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorEnvelope")))
                .build(),
        )
        .build()
}
