use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use videotube_domain::services::TweetView;
use videotube_domain::tweet::{Tweet, TweetContent};

use crate::api::{respond, respond_list, ApiError, Empty, Envelope, ErrorEnvelope};
use crate::auth::{AuthUser, Viewer};
use crate::body::{Invalid, Json, Problems, Text};
use crate::routes::views::OwnerView;
use crate::routes::Endpoint;
use crate::routes::{parse_id, ListQuery};
use crate::startup::AppState;

pub fn endpoints() -> Vec<Endpoint> {
    endpoints![
        POST "/tweets" => create,
        GET "/tweets/user/{userId}" => by_user,
        PATCH "/tweets/{tweetId}" => update,
        DELETE "/tweets/{tweetId}" => delete,
    ]
}

/// `{_id, content, owner, createdAt, updatedAt}`, `owner` an id as in the original.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TweetBody<'a> {
    #[serde(rename = "_id")]
    id: String,
    content: &'a str,
    owner: String,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
}

impl<'a> From<&'a Tweet> for TweetBody<'a> {
    fn from(tweet: &'a Tweet) -> Self {
        TweetBody {
            id: tweet.id.to_string(),
            content: tweet.content.as_str(),
            owner: tweet.owner.to_string(),
            created_at: tweet.created_at,
            updated_at: tweet.updated_at,
        }
    }
}

/// A tweet as lists and writes answer it: its fields, the owner's summary as `ownerDetails`,
/// `likesCount` and `isLiked`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TweetListItem<'a> {
    #[serde(flatten)]
    tweet: TweetBody<'a>,
    owner_details: Option<OwnerView<'a>>,
    likes_count: u64,
    is_liked: bool,
}

/// `{content}`: 1 to 280 characters after trimming.
#[derive(Deserialize, ToSchema)]
pub struct TweetRequest {
    #[schema(value_type = String, min_length = 1, max_length = 280)]
    content: Text,
}

impl TryFrom<TweetRequest> for TweetContent {
    type Error = Invalid;

    fn try_from(body: TweetRequest) -> Result<Self, Invalid> {
        let mut problems = Problems::default();
        let content = problems.required(TweetContent::FIELD, &body.content, |s| {
            TweetContent::parse(&s)
        });
        problems.finish(content)
    }
}

#[utoipa::path(
    post, path = "/api/v1/tweets",
    request_body = TweetRequest,
    responses((status = 201, description = "Created", body = Envelope<TweetListItem>)),
)]
async fn create(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    Json(body): Json<TweetRequest>,
) -> Result<HttpResponse, ApiError> {
    let content = TweetContent::try_from(body)?;
    let tweet = state
        .services
        .tweets
        .create(caller.user_id, content)
        .await?;
    Ok(respond(
        StatusCode::CREATED,
        list_item(&tweet),
        "Tweet created successfully",
    ))
}

/// The user's tweets, newest first: a plain array, paged by `page`/`limit` or `cursor`.
#[utoipa::path(
    get, path = "/api/v1/tweets/user/{userId}",
    security((), ("bearerAuth" = []), ("cookieAuth" = [])),
    params(ListQuery),
    responses((status = 200, description = "Newest first, with `ownerDetails`, like counts and whether the caller likes each", body = Envelope<Vec<TweetListItem>>, headers(("X-Total-Count" = u64, description = "How many items the whole list holds"), ("Link" = String, description = "`next` (by cursor), `prev`, `first`, `last` (by page)"))), (status = 404, description = "No such user", body = ErrorEnvelope)),
)]
async fn by_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    Viewer(viewer): Viewer,
    path: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let user = parse_id(&path, "userId")?;
    let (page, after) = query.parse()?;
    let found = state
        .services
        .tweets
        .by_user(viewer, user, page, after.as_ref())
        .await?;
    Ok(respond_list(
        &req,
        &found,
        list_item,
        "Tweets fetched successfully",
    ))
}

fn list_item(view: &TweetView) -> TweetListItem<'_> {
    TweetListItem {
        tweet: TweetBody::from(&view.tweet),
        owner_details: view.owner.as_ref().map(OwnerView::from),
        likes_count: view.likes,
        is_liked: view.is_liked,
    }
}

#[utoipa::path(
    patch, path = "/api/v1/tweets/{tweetId}",
    request_body = TweetRequest,
    responses((status = 200, description = "Updated", body = Envelope<TweetListItem>), (status = 403, description = "Not the tweet's owner", body = ErrorEnvelope)),
)]
async fn update(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    path: web::Path<String>,
    Json(body): Json<TweetRequest>,
) -> Result<HttpResponse, ApiError> {
    let tweet_id = parse_id(&path, "tweetId")?;
    let content = TweetContent::try_from(body)?;
    let tweet = state
        .services
        .tweets
        .update(caller.user_id, tweet_id, content)
        .await?;
    Ok(respond(
        StatusCode::OK,
        list_item(&tweet),
        "Tweet updated successfully",
    ))
}

#[utoipa::path(
    delete, path = "/api/v1/tweets/{tweetId}",
    responses((status = 200, description = "Deleted with its likes", body = Envelope<Empty>), (status = 403, description = "Not the tweet's owner", body = ErrorEnvelope)),
)]
async fn delete(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let tweet_id = parse_id(&path, "tweetId")?;
    state
        .services
        .tweets
        .delete(caller.user_id, tweet_id)
        .await?;
    Ok(respond(
        StatusCode::OK,
        Empty {},
        "Tweet deleted successfully",
    ))
}

#[derive(OpenApi)]
#[openapi(paths(create, by_user, update, delete))]
pub struct Api;
