use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use videotube_domain::playlist::{Playlist, PlaylistChanges, PlaylistDescription, PlaylistName};
use videotube_domain::services::{PlaylistSummary, PlaylistWithVideos};

use crate::api::{respond, respond_list, ApiError, Empty, Envelope, ErrorEnvelope};
use crate::auth::{AuthUser, Viewer};
use crate::body::{Invalid, Json, Problems, Text};
use crate::origin::MediaUrl;
use crate::routes::views::{video_with_owner, VideoView};
use crate::routes::Endpoint;
use crate::routes::{parse_id, parse_ids, ListQuery};
use crate::startup::AppState;

pub fn endpoints() -> Vec<Endpoint> {
    endpoints![
        POST "/playlist" => create,
        GET "/playlist/user/{userId}" => by_user,
        PATCH "/playlist/add/{videoId}/{playlistId}" => add_video,
        PATCH "/playlist/remove/{videoId}/{playlistId}" => remove_video,
        GET "/playlist/{playlistId}" => get,
        PATCH "/playlist/{playlistId}" => update,
        DELETE "/playlist/{playlistId}" => delete,
    ]
}

/// The original's fields: `{_id, name, description, owner, createdAt, updatedAt}`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlaylistBody<'a> {
    #[serde(rename = "_id")]
    id: String,
    name: &'a str,
    description: &'a str,
    owner: String,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
}

impl<'a> From<&'a Playlist> for PlaylistBody<'a> {
    fn from(playlist: &'a Playlist) -> Self {
        PlaylistBody {
            id: playlist.id.to_string(),
            name: playlist.name.as_str(),
            description: playlist.description.as_str(),
            owner: playlist.owner.to_string(),
            created_at: playlist.created_at,
            updated_at: playlist.updated_at,
        }
    }
}

/// One playlist: its fields and `videos`, the ones the caller may see, in playlist order, each
/// with its owner.
#[derive(Serialize, ToSchema)]
pub struct PlaylistView<'a> {
    #[serde(flatten)]
    playlist: PlaylistBody<'a>,
    videos: Vec<VideoView<'a>>,
}

impl<'a> From<&'a PlaylistWithVideos> for PlaylistView<'a> {
    fn from(found: &'a PlaylistWithVideos) -> Self {
        PlaylistView {
            playlist: PlaylistBody::from(&found.playlist),
            videos: found.videos.iter().map(video_with_owner).collect(),
        }
    }
}

/// A playlist in a user's list: its fields, `totalVideos` and the first video's `thumbnail`
/// (`""` when it has none the caller may see).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlaylistListItem<'a> {
    #[serde(flatten)]
    playlist: PlaylistBody<'a>,
    total_videos: u64,
    #[schema(value_type = String)]
    thumbnail: MediaUrl<'a>,
}

impl<'a> From<&'a PlaylistSummary> for PlaylistListItem<'a> {
    fn from(summary: &'a PlaylistSummary) -> Self {
        PlaylistListItem {
            playlist: PlaylistBody::from(&summary.playlist),
            total_videos: summary.total_videos,
            thumbnail: summary
                .first_video
                .as_ref()
                .and_then(|video| Some((video, video.thumbnail.as_ref()?)))
                .map_or(MediaUrl::public(""), |(video, thumbnail)| {
                    MediaUrl::of_video(&thumbnail.url, video)
                }),
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct PlaylistRequest {
    #[schema(value_type = String, min_length = 1, max_length = 100)]
    name: Text,
    #[schema(value_type = Option<String>, max_length = 1000)]
    description: Text,
}

pub struct NewPlaylist {
    name: PlaylistName,
    description: PlaylistDescription,
}

impl TryFrom<PlaylistRequest> for NewPlaylist {
    type Error = Invalid;

    fn try_from(body: PlaylistRequest) -> Result<Self, Invalid> {
        let mut problems = Problems::default();
        let name = problems.required(PlaylistName::FIELD, &body.name, |s| PlaylistName::parse(&s));
        let description = problems.optional(PlaylistDescription::FIELD, &body.description, |s| {
            PlaylistDescription::parse(&s)
        });
        problems.finish(name.map(|name| NewPlaylist {
            name,
            description: description.unwrap_or_default(),
        }))
    }
}

/// At least one.
#[derive(Deserialize, ToSchema)]
pub struct PlaylistChangesRequest {
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100)]
    name: Text,
    #[schema(value_type = Option<String>, max_length = 1000)]
    description: Text,
}

impl TryFrom<PlaylistChangesRequest> for PlaylistChanges {
    type Error = Invalid;

    fn try_from(body: PlaylistChangesRequest) -> Result<Self, Invalid> {
        let mut problems = Problems::default();
        let changes = PlaylistChanges {
            name: problems.optional(PlaylistName::FIELD, &body.name, |s| PlaylistName::parse(&s)),
            description: problems.optional(PlaylistDescription::FIELD, &body.description, |s| {
                PlaylistDescription::parse(&s)
            }),
        };
        problems.finish(Some(changes))
    }
}

#[utoipa::path(
    post, path = "/api/v1/playlist",
    request_body = PlaylistRequest,
    responses((status = 201, description = "Created", body = Envelope<PlaylistView>)),
)]
async fn create(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    Json(body): Json<PlaylistRequest>,
) -> Result<HttpResponse, ApiError> {
    let NewPlaylist { name, description } = body.try_into()?;
    let created = state
        .services
        .playlists
        .create(caller.user_id, name, description)
        .await?;
    Ok(respond(
        StatusCode::CREATED,
        PlaylistView::from(&created),
        "Playlist created successfully",
    ))
}

#[utoipa::path(
    get, path = "/api/v1/playlist/{playlistId}",
    security((), ("bearerAuth" = []), ("cookieAuth" = [])),
    responses((status = 200, description = "With the videos the caller may see, in playlist order", body = Envelope<PlaylistView>)),
)]
async fn get(
    state: web::Data<AppState>,
    Viewer(viewer): Viewer,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let playlist = parse_id(&path, "playlistId")?;
    let found = state.services.playlists.get(viewer, playlist).await?;
    Ok(respond(
        StatusCode::OK,
        PlaylistView::from(&found),
        "Playlist fetched successfully",
    ))
}

/// A user's playlists, newest first: a plain array, paged by `page`/`limit` or `cursor`.
#[utoipa::path(
    get, path = "/api/v1/playlist/user/{userId}",
    security((), ("bearerAuth" = []), ("cookieAuth" = [])),
    params(ListQuery),
    responses((status = 200, description = "Newest first, each with `totalVideos` and the first video's `thumbnail`", body = Envelope<Vec<PlaylistListItem>>, headers(("X-Total-Count" = u64, description = "How many items the whole list holds"), ("Link" = String, description = "`next` (by cursor), `prev`, `first`, `last` (by page)"))), (status = 404, description = "No such user", body = ErrorEnvelope)),
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
        .playlists
        .by_user(viewer, user, page, after.as_ref())
        .await?;
    Ok(respond_list(
        &req,
        &found,
        PlaylistListItem::from,
        "Playlists fetched successfully",
    ))
}

#[utoipa::path(
    patch, path = "/api/v1/playlist/{playlistId}",
    request_body = PlaylistChangesRequest,
    responses((status = 200, description = "Updated", body = Envelope<PlaylistView>), (status = 403, description = "Not the playlist's owner", body = ErrorEnvelope)),
)]
async fn update(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    path: web::Path<String>,
    Json(body): Json<PlaylistChangesRequest>,
) -> Result<HttpResponse, ApiError> {
    let playlist = parse_id(&path, "playlistId")?;
    let changes = PlaylistChanges::try_from(body)?;
    let updated = state
        .services
        .playlists
        .update(caller.user_id, playlist, changes)
        .await?;
    Ok(respond(
        StatusCode::OK,
        PlaylistView::from(&updated),
        "Playlist updated successfully",
    ))
}

#[utoipa::path(
    delete, path = "/api/v1/playlist/{playlistId}",
    responses((status = 200, description = "Deleted", body = Envelope<Empty>), (status = 403, description = "Not the playlist's owner", body = ErrorEnvelope)),
)]
async fn delete(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let playlist = parse_id(&path, "playlistId")?;
    state
        .services
        .playlists
        .delete(caller.user_id, playlist)
        .await?;
    Ok(respond(
        StatusCode::OK,
        Empty {},
        "Playlist deleted successfully",
    ))
}

#[utoipa::path(
    patch, path = "/api/v1/playlist/add/{videoId}/{playlistId}",
    responses((status = 200, description = "The playlist with the video (added once, at the end)", body = Envelope<PlaylistView>), (status = 403, description = "Not the playlist's owner", body = ErrorEnvelope)),
)]
async fn add_video(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    change_entry(state, caller, path, Change::Add).await
}

#[utoipa::path(
    patch, path = "/api/v1/playlist/remove/{videoId}/{playlistId}",
    responses((status = 200, description = "The playlist without the video", body = Envelope<PlaylistView>), (status = 403, description = "Not the playlist's owner", body = ErrorEnvelope)),
)]
async fn remove_video(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    change_entry(state, caller, path, Change::Remove).await
}

enum Change {
    Add,
    Remove,
}

/// `/{add|remove}/{videoId}/{playlistId}`: answers the playlist as it is afterwards.
async fn change_entry(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    path: web::Path<(String, String)>,
    change: Change,
) -> Result<HttpResponse, ApiError> {
    let [video, playlist] = parse_ids([(&path.0, "videoId"), (&path.1, "playlistId")])?;
    let playlists = &state.services.playlists;
    let (updated, message) = match change {
        Change::Add => (
            playlists.add_video(caller.user_id, playlist, video).await?,
            "Video added to the playlist",
        ),
        Change::Remove => (
            playlists
                .remove_video(caller.user_id, playlist, video)
                .await?,
            "Video removed from the playlist",
        ),
    };
    Ok(respond(
        StatusCode::OK,
        PlaylistView::from(&updated),
        message,
    ))
}

#[derive(OpenApi)]
#[openapi(paths(create, get, by_user, update, delete, add_video, remove_video))]
pub struct Api;
