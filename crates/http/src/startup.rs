use std::net::{IpAddr, TcpListener};
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::http::{header, StatusCode};
use actix_web::{error, web, App, HttpRequest, HttpResponse, HttpServer};
use secrecy::ExposeSecret;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;
use tracing_actix_web::TracingLogger;
use videotube_domain::ports::{DirectUploads, MediaStore};
use videotube_domain::services::{
    AuthPolicy, ChannelService, CommentService, DashboardService, HealthService, JobPolicy,
    PlaylistService, TweetService, UserService, VideoPorts, VideoService,
};
use videotube_domain::Error;
use videotube_infra::cloudinary::CloudinaryStore;
use videotube_infra::media_links::MediaLinks;
use videotube_infra::mongo::{self, Database, DbError};
use videotube_infra::password::HasherError;
use videotube_infra::throttle::{Allowance, KeyedThrottle};
use videotube_infra::worker::{run_media_jobs, run_sweeps};
use videotube_infra::{BcryptHasher, GovernorLoginThrottle, JwtCodec, LocalMediaStore};

use crate::api::{error_body, ApiError, TOTAL_COUNT};
use crate::auth::CookiePolicy;
use crate::config::{self, Settings};
use crate::middleware::{finish_response, with_origin, REQUEST_ID};
use crate::origin::PublicOrigin;
use crate::routes;
use crate::slow_clients::{guard_bodies, is_too_slow, BodyPolicy};
use crate::upload::{SizeLimits, SPOOL_PREFIX};

/// What handlers share.
pub struct AppState {
    pub users: Arc<UserService>,
    pub channels: ChannelService,
    pub dashboard: DashboardService,
    pub tweets: TweetService,
    pub comments: CommentService,
    pub playlists: PlaylistService,
    pub videos: Arc<VideoService>,
    /// Wakes the media job worker when a job is queued.
    pub job_wake: Arc<Notify>,
    /// Where spooled files wait for their job (outside the per-request spool's clean-up).
    pub jobs_dir: PathBuf,
    /// Largest JSON body read by hand (where a route takes JSON or multipart).
    pub json_limit: usize,
    pub health: HealthService,
    pub cookies: CookiePolicy,
    pub spool_dir: PathBuf,
    /// The local media directory, canonical (links resolved), for containment checks.
    pub media_root: PathBuf,
    pub upload_limits: SizeLimits,
    pub register_throttle: KeyedThrottle<IpAddr>,
    pub refresh_throttle: KeyedThrottle<IpAddr>,
    /// Signs and checks links to files only their owner may fetch.
    pub media_links: Arc<MediaLinks>,
}

impl AppState {
    /// Spends one unit of the client's allowance on `throttle`: 429 with Retry-After when none
    /// is left. Requests without a peer address (none over TCP) are not limited.
    pub fn throttle(
        &self,
        throttle: &KeyedThrottle<IpAddr>,
        req: &HttpRequest,
    ) -> Result<(), ApiError> {
        match req.peer_addr() {
            Some(peer) => throttle
                .check(&peer.ip())
                .map_err(|retry_after| Error::TooManyRequests { retry_after }.into()),
            None => Ok(()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("could not bind {address}")]
    Bind {
        address: String,
        #[source]
        source: std::io::Error,
    },
    #[error("could not prepare the directory {0}")]
    Directory(PathBuf, #[source] std::io::Error),
    #[error("invalid database settings (MONGODB_URI)")]
    DatabaseUri(#[source] DbError),
    #[error("could not prepare the database (indexes, backfills); is the database at MONGODB_URI reachable?")]
    Indexes(#[source] DbError),
    #[error("could not set up password hashing")]
    Bcrypt(#[source] HasherError),
    #[error(transparent)]
    Settings(#[from] config::SettingsError),
    #[error("could not set up the Cloudinary client")]
    MediaStore(#[source] videotube_domain::BoxError),
    #[error("could not start the HTTP server")]
    Server(#[source] std::io::Error),
}

/// Where the local store's files are served, and what its stored URLs start with.
pub const MEDIA_PATH: &str = "/media";

pub struct Application {
    port: u16,
    server: Server,
    worker: JoinHandle<()>,
    stop_worker: Arc<watch::Sender<bool>>,
    shutdown_grace: Duration,
}

impl Application {
    /// Binds the listener (port 0 picks a free one), connects to the database, creates the indexes
    /// and prepares the server; `run_until_stopped` serves until `stopper` is awaited.
    pub async fn build(settings: Settings) -> Result<Self, BuildError> {
        let app = &settings.application;
        let address = format!("{}:{}", app.host, app.port);
        let listener =
            TcpListener::bind(&address).map_err(|source| BuildError::Bind { address, source })?;
        let port = listener.local_addr().map_err(BuildError::Server)?.port();
        let bound_at = {
            let host = match app.host.as_str() {
                "0.0.0.0" | "::" | "[::]" => "localhost",
                host => host,
            };
            format!("http://{host}:{port}")
        };
        let origin =
            PublicOrigin::new(&app.public_url, app.trusted_proxy_nets()?, bound_at.clone());

        let media = &settings.media;
        let jobs_dir = media.upload_tmp_dir.join("jobs");
        for dir in [&media.dir, &media.upload_tmp_dir, &jobs_dir] {
            std::fs::create_dir_all(dir).map_err(|e| BuildError::Directory(dir.clone(), e))?;
        }
        remove_stale_spool_files(&media.upload_tmp_dir);

        let db_settings = &settings.database;
        let db = mongo::connect(
            db_settings.uri.expose_secret(),
            &db_settings.name,
            Duration::from_secs(db_settings.timeout_seconds),
        )
        .await
        .map_err(BuildError::DatabaseUri)?;
        mongo::prepare(&db).await.map_err(BuildError::Indexes)?;

        let (media_store, direct_uploads): (Arc<dyn MediaStore>, Option<Arc<dyn DirectUploads>>) =
            match settings.cloudinary.store_config()? {
                Some(config) => {
                    tracing::info!(cloud = %config.cloud_name, "storing media on Cloudinary");
                    let cloudinary =
                        Arc::new(CloudinaryStore::new(config).map_err(BuildError::MediaStore)?);
                    (cloudinary.clone(), Some(cloudinary))
                }
                None => (
                    Arc::new(LocalMediaStore::new(media.dir.clone(), MEDIA_PATH)),
                    None,
                ),
            };
        let Services {
            users,
            channels,
            dashboard,
            tweets,
            comments,
            playlists,
            videos,
            health,
        } = Services::new(&settings, &db, media_store, direct_uploads)?;
        let job_wake = Arc::new(Notify::new());
        let (stop_worker, worker_stop) = watch::channel(false);
        let shutdown_grace = Duration::from_secs(app.shutdown_timeout_seconds);
        let worker = tokio::spawn(run_media_jobs(
            Arc::clone(&videos),
            Arc::clone(&job_wake),
            Duration::from_secs(media.job_poll_seconds.max(1)),
            // Three renewals per lease: one lost to a database blip still leaves time for another.
            Duration::from_secs(media.job_lease_seconds.max(1)) / 3,
            worker_stop,
            shutdown_grace,
        ));
        tokio::spawn(run_sweeps(
            Arc::clone(&users),
            Arc::clone(&videos),
            Duration::from_secs(settings.database.sweep_seconds.max(1)),
            stop_worker.subscribe(),
        ));
        let state = web::Data::new(AppState {
            users,
            channels,
            dashboard,
            tweets,
            comments,
            playlists,
            videos,
            job_wake,
            jobs_dir,
            json_limit: app.json_limit_bytes,
            health,
            cookies: CookiePolicy {
                secure: app.cookie_secure,
                same_site: app.cookie_same_site,
                trusted_origins: app
                    .cors_origins
                    .iter()
                    .filter(|o| *o != "*")
                    .cloned()
                    .collect(),
            },
            spool_dir: media.upload_tmp_dir.clone(),
            media_root: std::fs::canonicalize(&media.dir)
                .map_err(|e| BuildError::Directory(media.dir.clone(), e))?,
            upload_limits: SizeLimits {
                image: media.image_max_bytes,
                video: media.video_max_bytes,
            },
            register_throttle: KeyedThrottle::new(allowance(settings.auth.register_per_ip)),
            refresh_throttle: KeyedThrottle::new(allowance(settings.auth.refresh_per_ip)),
            media_links: Arc::new(MediaLinks::new(
                &settings.auth.access_token_secret,
                Duration::from_secs(media.private_link_seconds.max(1)),
            )),
        });

        let cors_origins = app.cors_origins.clone();
        let json_limit = app.json_limit_bytes;
        let body_policy = BodyPolicy {
            idle: Duration::from_secs(app.body_idle_timeout_seconds.max(1)),
            grace: Duration::from_secs(app.body_rate_grace_seconds),
            min_bytes_per_second: app.body_min_bytes_per_second,
        };
        let server = HttpServer::new(move || {
            App::new()
                .wrap(actix_web::middleware::from_fn(with_origin))
                .wrap(actix_web::middleware::from_fn(guard_bodies))
                .wrap(cors(&cors_origins))
                .wrap(actix_web::middleware::from_fn(finish_response))
                .wrap(TracingLogger::default())
                .app_data(state.clone())
                .app_data(web::Data::new(origin.clone()))
                .app_data(body_policy)
                .app_data(
                    web::JsonConfig::default()
                        .limit(json_limit)
                        .error_handler(json_error),
                )
                .app_data(web::QueryConfig::default().error_handler(|err, _| {
                    ApiError::new(
                        StatusCode::BAD_REQUEST,
                        format!("Invalid query string: {err}"),
                    )
                    .into()
                }))
                .service(web::scope("/api/v1").configure(routes::configure))
                .service(
                    web::resource(format!("{MEDIA_PATH}/{{tail:.*}}")).get(routes::media::serve),
                )
                .default_service(web::to(not_found))
        })
        .shutdown_timeout(app.shutdown_timeout_seconds)
        .client_request_timeout(Duration::from_secs(app.head_timeout_seconds.max(1)))
        // actix stops at once on SIGINT; `main` handles both signals and always stops gracefully.
        .disable_signals()
        .listen(listener)
        .map_err(BuildError::Server)?
        .run();
        tracing::info!(port, public_url = %app.public_url, %bound_at, "listening");
        Ok(Self {
            port,
            server,
            worker,
            stop_worker: Arc::new(stop_worker),
            shutdown_grace,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server: no new connections, requests in flight finish (up to the configured
    /// shutdown timeout); the job worker takes no new job and finishes or gives back its current
    /// one within the same time.
    pub fn stopper(&self) -> impl std::future::Future<Output = ()> + use<> {
        let handle = self.server.handle();
        let stop_worker = Arc::clone(&self.stop_worker);
        async move {
            stop_worker.send_replace(true);
            handle.stop(true).await
        }
    }

    /// Serves until stopped, then waits for the job worker to let go of its job.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        self.stop_worker.send_replace(true);
        let bound = self.shutdown_grace + Duration::from_secs(5);
        if tokio::time::timeout(bound, self.worker).await.is_err() {
            tracing::warn!("the media job worker did not stop in time");
        }
        served
    }
}

/// The domain services wired to MongoDB, bcrypt, JWT and a media store: what the routes call.
/// The load benchmark's baseline (`videotube-baseline`) calls them directly, without HTTP.
pub struct Services {
    pub users: Arc<UserService>,
    pub channels: ChannelService,
    pub dashboard: DashboardService,
    pub tweets: TweetService,
    pub comments: CommentService,
    pub playlists: PlaylistService,
    pub videos: Arc<VideoService>,
    pub health: HealthService,
}

impl Services {
    pub fn new(
        settings: &Settings,
        db: &Database,
        media_store: Arc<dyn MediaStore>,
        direct_uploads: Option<Arc<dyn DirectUploads>>,
    ) -> Result<Self, BuildError> {
        let (auth, media) = (&settings.auth, &settings.media);
        let store = &mongo::Store::new(
            db.clone(),
            Duration::from_millis(settings.database.max_time_ms.max(1)),
        );
        let user_repository = Arc::new(mongo::MongoUserRepository::new(store));
        let users = Arc::new(UserService::new(
            user_repository.clone(),
            Arc::new(mongo::MongoSessionRepository::new(store)),
            Arc::new(
                BcryptHasher::new(auth.bcrypt_cost, auth.bcrypt_threads)
                    .map_err(BuildError::Bcrypt)?,
            ),
            Arc::new(JwtCodec::new(
                &auth.access_token_secret,
                &auth.refresh_token_secret,
            )),
            Arc::clone(&media_store),
            Arc::new(GovernorLoginThrottle::new(
                allowance(auth.login_per_ip),
                allowance(auth.login_per_account),
            )),
            AuthPolicy {
                access_ttl: auth.access_token_expiry,
                refresh_ttl: auth.refresh_token_expiry,
                refresh_reuse_grace: Duration::from_secs(auth.refresh_reuse_grace_seconds),
                session_recheck: Duration::from_secs(auth.session_recheck_seconds),
            },
        ));
        let video_repository = Arc::new(mongo::MongoVideoRepository::new(store));
        let likes = Arc::new(mongo::MongoLikeRepository::new(store));
        let subscriptions = Arc::new(mongo::MongoSubscriptionRepository::new(store));
        let comment_repository = Arc::new(mongo::MongoCommentRepository::new(store));
        let playlist_repository = Arc::new(mongo::MongoPlaylistRepository::new(store));
        let videos = Arc::new(VideoService::new(
            VideoPorts {
                videos: video_repository.clone(),
                jobs: Arc::new(mongo::MongoMediaJobRepository::new(store)),
                history: Arc::new(mongo::MongoWatchHistoryRepository::new(store)),
                likes: likes.clone(),
                comments: comment_repository.clone(),
                playlists: playlist_repository.clone(),
                users: user_repository.clone(),
                media: Arc::clone(&media_store),
                direct: direct_uploads,
            },
            JobPolicy {
                lease: Duration::from_secs(media.job_lease_seconds.max(1)),
                max_attempts: media.job_max_attempts.max(1),
                first_backoff: Duration::from_secs(media.job_backoff_seconds),
            },
        ));
        let channels = ChannelService::new(user_repository.clone(), subscriptions.clone());
        let dashboard =
            DashboardService::new(video_repository.clone(), likes.clone(), subscriptions);
        let tweets = TweetService::new(
            Arc::new(mongo::MongoTweetRepository::new(store)),
            likes.clone(),
            user_repository.clone(),
        );
        let comments = CommentService::new(
            comment_repository,
            video_repository.clone(),
            likes,
            user_repository.clone(),
        );
        let playlists = PlaylistService::new(
            playlist_repository,
            video_repository,
            user_repository.clone(),
        );
        Ok(Services {
            users,
            channels,
            dashboard,
            tweets,
            comments,
            playlists,
            videos,
            health: HealthService::new(Arc::new(store.clone())),
        })
    }
}

fn allowance(a: config::Allowance) -> Allowance {
    Allowance {
        burst: NonZeroU32::new(a.burst).unwrap_or(NonZeroU32::MIN),
        refill_every: Duration::from_secs(a.refill_seconds.max(1)),
    }
}

/// Browsers may call the API with cookies from the listed origins only. A `*` in CORS_ORIGIN means
/// "any origin, without credentials": answering `*` (or echoing any origin) together with
/// `Access-Control-Allow-Credentials` was the original's hole.
fn cors(origins: &[String]) -> Cors {
    let cors = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .expose_headers([
            REQUEST_ID,
            header::HeaderName::from_static(TOTAL_COUNT),
            header::LINK,
        ])
        .max_age(3600);
    if origins.iter().any(|o| o == "*") {
        return cors.send_wildcard().allow_any_origin();
    }
    origins
        .iter()
        .fold(cors.supports_credentials(), |cors, origin| {
            cors.allowed_origin(origin.trim_end_matches('/'))
        })
}

fn json_error(err: error::JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    let api_error = match &err {
        error::JsonPayloadError::OverflowKnownLength { .. }
        | error::JsonPayloadError::Overflow { .. } => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "Request body is too large")
        }
        error::JsonPayloadError::Payload(e) if is_too_slow(e) => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "The request body came too slowly",
        ),
        error::JsonPayloadError::ContentType => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Expected a JSON body (Content-Type: application/json)",
        ),
        error::JsonPayloadError::Deserialize(e) if e.is_data() => {
            ApiError::new(StatusCode::BAD_REQUEST, "Expected a JSON object")
        }
        _ => ApiError::new(StatusCode::BAD_REQUEST, "Malformed JSON body"),
    };
    api_error.into()
}

async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(error_body(StatusCode::NOT_FOUND, "Route not found", &[]))
}

/// Spool files are only needed while their request runs; any left here were orphaned by a crash.
fn remove_stale_spool_files(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with(SPOOL_PREFIX)
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
