use std::net::TcpListener;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_cors::Cors;
use actix_http::error::DispatchError;
use actix_http::HttpService;
use actix_service::{map_config, IntoServiceFactory, ServiceFactoryExt};
use actix_web::dev::{fn_service, AppConfig, Server};
use actix_web::http::{header, StatusCode};
use actix_web::rt::net::TcpStream;
use actix_web::{error, web, App, HttpRequest, HttpResponse};
use secrecy::ExposeSecret;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing_actix_web::TracingLogger;
use videotube_domain::ports::{DirectUploads, MediaStore, Throttle, VideoTools};
use videotube_domain::services::{
    AttachmentService, AuthPolicy, ChannelService, CommentService, DashboardService, HealthService,
    JobPolicy, LikeService, MediaJobService, MediaVisibility, PlaylistService,
    ResumableUploadService, SubscriptionService, TweetService, UserPorts, UserService, VideoPorts,
    VideoService, WatchService,
};
use videotube_infra::cloudinary::CloudinaryStore;
use videotube_infra::ffmpeg::Ffmpeg;
use videotube_infra::media_links::MediaLinks;
use videotube_infra::mongo::{self, Database, DbError, PrepareError};
use videotube_infra::password::HasherError;
use videotube_infra::throttle::{Allowance, MongoThrottle};
use videotube_infra::worker::{run_media_jobs, run_sweeps, JobBell};
use videotube_infra::{BcryptHasher, JwtCodec, LocalMediaStore};

use crate::api::{error_body, ApiError, TOTAL_COUNT};
use crate::auth::CookiePolicy;
use crate::bare_errors::EnvelopedErrors;
use crate::config::{self, MediaSettings, Settings};
use crate::middleware::{finish_response, head_as_get, with_origin, REQUEST_ID};
use crate::origin::PublicOrigin;
use crate::routes;
use crate::slow_clients::{guard_bodies, is_too_slow, BodyPolicy};
use crate::telemetry::RequestSpan;
use crate::upload::{SizeLimits, SPOOL_PREFIX};

/// What handlers share: the services, and what the HTTP layer itself needs.
pub struct AppState {
    pub services: Arc<Services>,
    /// Where spooled files wait for their job (outside the per-request spool's clean-up).
    pub jobs_dir: PathBuf,
    /// Largest JSON body read by hand (where a route takes JSON or multipart).
    pub json_limit: usize,
    pub cookies: CookiePolicy,
    pub spool_dir: PathBuf,
    /// The local media directory, canonical (links resolved), for containment checks.
    pub media_root: PathBuf,
    pub upload_limits: SizeLimits,
    /// Signs and checks links to files only their owner may fetch.
    pub media_links: Arc<MediaLinks>,
    /// Whether public data is readable without signing in (`Viewer`).
    pub public_reads: bool,
    /// Whether ffmpeg is here to make a thumbnail for a video published without one.
    pub makes_thumbnails: bool,
    /// Set on shutdown: readiness answers 503 from then on.
    pub draining: Arc<AtomicBool>,
    /// Where resumable (tus) uploads' bytes arrive, in the jobs' spool (it outlives restarts).
    pub resumable_dir: PathBuf,
    pub resumable_writers: routes::ResumableWriters,
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
    #[error("could not prepare the database")]
    Database(#[source] Box<PrepareError>),
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

/// The server, ready to run, and the services it serves. What runs beside it (the job worker,
/// the sweeper) is started apart, by `main` or a test (`start_background_tasks`).
pub struct Application {
    port: u16,
    server: Server,
    /// The `/metrics` server and its port, when `APP_METRICS__ADDRESS` is set.
    metrics: Option<(Server, u16)>,
    services: Arc<Services>,
    background: BackgroundSettings,
    draining: Arc<AtomicBool>,
    drain_delay: Duration,
}

impl Application {
    /// Binds the listener (port 0 picks a free one), prepares the directories and the database,
    /// wires the services and builds the server; `run_until_stopped` serves.
    pub async fn build(settings: Settings) -> Result<Self, BuildError> {
        let app = &settings.application;
        let address = format!("{}:{}", app.host, app.port);
        let listener =
            TcpListener::bind(&address).map_err(|source| BuildError::Bind { address, source })?;
        let port = listener.local_addr().map_err(BuildError::Server)?.port();
        let metrics_listener = match settings.metrics.address.trim() {
            "" => None,
            address => Some(
                TcpListener::bind(address).map_err(|source| BuildError::Bind {
                    address: address.to_owned(),
                    source,
                })?,
            ),
        };
        crate::metrics::install();
        let jobs_dir = prepare_directories(&settings.media)?;
        let spool = spool_identity(&jobs_dir)?;
        let db = prepare_database(&settings.database).await?;
        mongo::adopt_unassigned_jobs(&db, &spool)
            .await
            .map_err(|err| BuildError::Database(Box::new(PrepareError::from(err))))?;
        let (media_store, direct_uploads) = media_store(&settings)?;
        let tools = video_tools(&settings.media).await;
        let makes_thumbnails = tools.is_some();
        let services = Arc::new(Services::new(
            &settings,
            &db,
            media_store,
            direct_uploads,
            tools,
            &spool,
        )?);
        let state = AppState::new(&settings, Arc::clone(&services), jobs_dir, makes_thumbnails)?;
        let draining = Arc::clone(&state.draining);
        let server = http_server(&settings, listener, port, state)?;
        let metrics = match metrics_listener {
            Some(listener) => {
                let port = listener.local_addr().map_err(BuildError::Server)?.port();
                let server = crate::metrics::server(listener, Arc::clone(&services))
                    .map_err(BuildError::Server)?;
                tracing::info!(port, "serving /metrics");
                Some((server, port))
            }
            None => None,
        };
        Ok(Self {
            port,
            server,
            metrics,
            services,
            background: BackgroundSettings::from(&settings),
            draining,
            drain_delay: Duration::from_secs(app.drain_delay_seconds),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(_, port)| *port)
    }

    /// The services the server calls, for tests that drive them directly (the job worker's
    /// jobs, the sweeps) instead of waiting for background tasks.
    pub fn services(&self) -> Arc<Services> {
        Arc::clone(&self.services)
    }

    /// Starts the media job worker and the sweeper.
    pub fn start_background_tasks(&self) -> BackgroundTasks {
        BackgroundTasks::start(&self.services, self.background)
    }

    /// Stops the server: readiness turns 503 at once, requests are still served for the drain
    /// delay (while a load balancer notices), then no new connections are taken and requests in
    /// flight finish (up to the configured shutdown timeout).
    pub fn stopper(&self) -> impl std::future::Future<Output = ()> + use<> {
        let handle = self.server.handle();
        let (draining, delay) = (Arc::clone(&self.draining), self.drain_delay);
        async move {
            draining.store(true, Ordering::SeqCst);
            tokio::time::sleep(delay).await;
            handle.stop(true).await
        }
    }

    /// Serves until stopped; the metrics server (if any) stops with the API.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let Some((metrics, _)) = self.metrics else {
            return self.server.await;
        };
        let stop_metrics = metrics.handle();
        let api = async {
            let served = self.server.await;
            stop_metrics.stop(false).await;
            served
        };
        futures_util::future::join(api, metrics).await.0
    }
}

/// How the background tasks run.
#[derive(Debug, Clone, Copy)]
struct BackgroundSettings {
    /// Whether to run the job worker (`APP_MEDIA__WORKER`).
    worker: bool,
    poll: Duration,
    renew_every: Duration,
    sweep_every: Duration,
    /// How long a running job may take to finish once the tasks are asked to stop.
    grace: Duration,
}

impl From<&Settings> for BackgroundSettings {
    fn from(settings: &Settings) -> Self {
        let media = &settings.media;
        BackgroundSettings {
            worker: media.worker,
            poll: Duration::from_secs(media.job_poll_seconds.max(1)),
            // Three renewals per lease: one lost to a database blip still leaves time for another.
            renew_every: Duration::from_secs(media.job_lease_seconds.max(1)) / 3,
            sweep_every: Duration::from_secs(settings.database.sweep_seconds.max(1)),
            grace: Duration::from_secs(settings.application.shutdown_timeout_seconds),
        }
    }
}

/// The media job worker and the sweeper, running.
pub struct BackgroundTasks {
    stop: Arc<watch::Sender<bool>>,
    /// None on an API-only instance.
    worker: Option<JoinHandle<()>>,
    sweeper: JoinHandle<()>,
    grace: Duration,
}

impl BackgroundTasks {
    fn start(services: &Services, settings: BackgroundSettings) -> Self {
        let (stop, stopped) = watch::channel(false);
        let worker = settings.worker.then(|| {
            tokio::spawn(run_media_jobs(
                Arc::clone(&services.jobs),
                Arc::clone(&services.bell),
                settings.poll,
                settings.renew_every,
                stopped.clone(),
                settings.grace,
            ))
        });
        if !settings.worker {
            tracing::info!("APP_MEDIA__WORKER=false: this instance stores no published video");
        }
        let sweeper = tokio::spawn(run_sweeps(
            Arc::clone(&services.users),
            Arc::clone(&services.watching),
            Arc::clone(&services.uploads),
            settings.sweep_every,
            stopped,
        ));
        Self {
            stop: Arc::new(stop),
            worker,
            sweeper,
            grace: settings.grace,
        }
    }

    /// Asks the tasks to stop: the worker takes no new job and finishes or gives back its
    /// current one within the grace.
    pub fn stopper(&self) -> impl Fn() + Send + Sync + 'static {
        let stop = Arc::clone(&self.stop);
        move || {
            stop.send_replace(true);
        }
    }

    /// Stops the tasks and waits for the worker to let go of its job.
    pub async fn stop(self) {
        self.stop.send_replace(true);
        let bound = self.grace + Duration::from_secs(5);
        if let Some(worker) = self.worker {
            if tokio::time::timeout(bound, worker).await.is_err() {
                tracing::warn!("the media job worker did not stop in time");
            }
        }
        self.sweeper.abort();
    }
}

fn resumable_dir(jobs_dir: &Path) -> PathBuf {
    jobs_dir.join("resumable")
}

fn prepare_directories(media: &config::MediaSettings) -> Result<PathBuf, BuildError> {
    let jobs_dir = media.upload_tmp_dir.join("jobs");
    for dir in [
        &media.dir,
        &media.upload_tmp_dir,
        &jobs_dir,
        &resumable_dir(&jobs_dir),
    ] {
        std::fs::create_dir_all(dir).map_err(|e| BuildError::Directory(dir.clone(), e))?;
    }
    remove_stale_spool_files(&media.upload_tmp_dir);
    videotube_infra::local_store::remove_abandoned_packages(&media.dir, SPOOL_FILE_ABANDONED_AFTER);
    Ok(jobs_dir)
}

/// The name of the spool directory `jobs_dir`, kept in it (`.spool-id`): the same for every
/// instance that shares the directory, different for instances whose spools differ. Jobs carry
/// it, so that a worker only takes jobs whose files it can read.
pub fn spool_identity(jobs_dir: &std::path::Path) -> Result<String, BuildError> {
    let path = jobs_dir.join(".spool-id");
    let failed = |e| BuildError::Directory(jobs_dir.to_owned(), e);
    // Written whole under a name of its own, then linked into place: linking is atomic and
    // refuses an existing name, so whoever links first names the spool and nobody reads half
    // a name.
    let fresh = uuid::Uuid::new_v4().simple().to_string();
    let draft = jobs_dir.join(format!(".spool-id.{fresh}"));
    std::fs::write(&draft, &fresh).map_err(failed)?;
    let linked = std::fs::hard_link(&draft, &path);
    let _ = std::fs::remove_file(&draft);
    match linked {
        Ok(()) => Ok(fresh),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            let name = std::fs::read_to_string(&path).map_err(failed)?;
            match name.trim() {
                "" => Err(failed(std::io::Error::other(format!(
                    "{} is empty; delete it",
                    path.display()
                )))),
                name => Ok(name.to_owned()),
            }
        }
        Err(err) => Err(failed(err)),
    }
}

/// A client for the configured database (nothing is sent until it is used).
pub async fn connect_database(settings: &config::DatabaseSettings) -> Result<Database, DbError> {
    mongo::connect(
        settings.uri.expose_secret(),
        &settings.name,
        Duration::from_secs(settings.timeout_seconds),
    )
    .await
}

async fn prepare_database(settings: &config::DatabaseSettings) -> Result<Database, BuildError> {
    let db = connect_database(settings)
        .await
        .map_err(BuildError::DatabaseUri)?;
    mongo::prepare(&db)
        .await
        .map_err(|err| BuildError::Database(Box::new(err)))?;
    Ok(db)
}

type MediaStores = (Arc<dyn MediaStore>, Option<Arc<dyn DirectUploads>>);

/// Cloudinary when it is configured (it also takes uploads from clients directly), else the
/// local disk.
/// ffmpeg, when it is configured and installed; start-up says when it is not.
async fn video_tools(media: &MediaSettings) -> Option<Arc<dyn VideoTools>> {
    let program = media.ffmpeg.trim();
    if program.is_empty() {
        return None;
    }
    match Ffmpeg::find(Path::new(program)).await {
        Ok(ffmpeg) => Some(Arc::new(ffmpeg)),
        Err(missing) => {
            tracing::warn!(
                program = %missing.display(),
                "ffmpeg was not found (install Debian's ffmpeg package, or name it in \
                 APP_MEDIA__FFMPEG): published videos are stored as uploaded, unchecked, and \
                 need a thumbnail"
            );
            None
        }
    }
}

fn media_store(settings: &Settings) -> Result<MediaStores, BuildError> {
    Ok(match settings.cloudinary.store_config()? {
        Some(config) => {
            tracing::info!(cloud = %config.cloud_name, "storing media on Cloudinary");
            let cloudinary =
                Arc::new(CloudinaryStore::new(config).map_err(BuildError::MediaStore)?);
            (cloudinary.clone(), Some(cloudinary))
        }
        None => (
            Arc::new(LocalMediaStore::new(settings.media.dir.clone(), MEDIA_PATH)),
            None,
        ),
    })
}

impl AppState {
    fn new(
        settings: &Settings,
        services: Arc<Services>,
        jobs_dir: PathBuf,
        makes_thumbnails: bool,
    ) -> Result<Self, BuildError> {
        let (app, media) = (&settings.application, &settings.media);
        Ok(AppState {
            services,
            json_limit: app.json_limit_bytes,
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
                document: media.document_max_bytes,
            },
            media_links: Arc::new(MediaLinks::new(
                &settings.auth.access_token_secret,
                Duration::from_secs(media.private_link_seconds.max(1)),
            )),
            public_reads: settings.auth.public_reads,
            makes_thumbnails,
            draining: Arc::default(),
            resumable_dir: resumable_dir(&jobs_dir),
            resumable_writers: routes::ResumableWriters::default(),
            jobs_dir,
        })
    }
}

/// The actix server over `state`: middleware, limits, error answers, routes.
fn http_server(
    settings: &Settings,
    listener: TcpListener,
    port: u16,
    state: AppState,
) -> Result<Server, BuildError> {
    let app = &settings.application;
    let bound_at = {
        let host = match app.host.as_str() {
            "0.0.0.0" | "::" | "[::]" => "localhost",
            host => host,
        };
        format!("http://{host}:{port}")
    };
    let origin = PublicOrigin::new(&app.public_url, app.trusted_proxy_nets()?, bound_at.clone());
    let state = web::Data::new(state);
    let cors_origins = app.cors_origins.clone();
    let json_limit = app.json_limit_bytes;
    let body_policy = BodyPolicy {
        idle: Duration::from_secs(app.body_idle_timeout_seconds.max(1)),
        grace: Duration::from_secs(app.body_rate_grace_seconds),
        min_bytes_per_second: app.body_min_bytes_per_second,
    };
    let make_app = move || {
        App::new()
            // Express's default routing ignores a trailing slash, and clients written for the
            // original send both forms; the route table (and the OpenAPI document) stays one form.
            .wrap(actix_web::middleware::NormalizePath::trim())
            .wrap(actix_web::middleware::from_fn(head_as_get))
            .wrap(actix_web::middleware::from_fn(with_origin))
            .wrap(actix_web::middleware::from_fn(guard_bodies))
            .wrap(cors(&cors_origins))
            .wrap(actix_web::middleware::from_fn(finish_response))
            .wrap(TracingLogger::<RequestSpan>::new())
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
            .service(web::resource(format!("{MEDIA_PATH}/{{tail:.*}}")).get(routes::media::serve))
            .default_service(web::to(not_found))
    };
    // What `HttpServer` assembles, with each connection wrapped in `EnvelopedErrors`.
    let local = listener.local_addr().map_err(BuildError::Server)?;
    let head_timeout = Duration::from_secs(app.head_timeout_seconds.max(1));
    let builder = Server::build();
    let shutdown = builder.graceful_shutdown_signal();
    let server = builder
        .shutdown_timeout(app.shutdown_timeout_seconds)
        // actix stops at once on SIGINT; `main` handles both signals and always stops gracefully.
        .disable_signals()
        .listen("videotube", listener, move || {
            let shutdown = shutdown.clone();
            let app = make_app()
                .into_factory()
                .map_err(|err| err.error_response());
            let http = HttpService::build()
                .graceful_shutdown_signal(move || {
                    let shutdown = shutdown.clone();
                    async move { shutdown.notified().await }
                })
                .client_request_timeout(head_timeout)
                // HttpServer's: a second for a client to read an answer before it is cut off.
                .client_disconnect_timeout(Duration::from_secs(1))
                .local_addr(local)
                // Its host and address serve only `ConnectionInfo`, which nothing here reads
                // (`PublicOrigin` says where the server is); actix-web makes no other public.
                .h1(map_config(app, |_| AppConfig::default()));
            fn_service(|io: TcpStream| async move {
                let peer = io.peer_addr().ok();
                Ok::<_, DispatchError>((EnvelopedErrors::new(io), peer))
            })
            .and_then(http)
        })
        .map_err(BuildError::Server)?
        .run();
    tracing::info!(port, public_url = %app.public_url, %bound_at, "listening");
    Ok(server)
}

/// The domain services wired to MongoDB, bcrypt, JWT and a media store: what the routes call,
/// in one place. The load benchmark's baseline (`videotube-baseline`) calls them directly.
pub struct Services {
    pub users: Arc<UserService>,
    pub channels: ChannelService,
    pub subscriptions: SubscriptionService,
    pub dashboard: DashboardService,
    pub tweets: TweetService,
    pub comments: CommentService,
    pub likes: LikeService,
    pub playlists: PlaylistService,
    pub videos: Arc<VideoService>,
    pub attachments: AttachmentService,
    pub uploads: Arc<ResumableUploadService>,
    pub watching: Arc<WatchService>,
    pub jobs: Arc<MediaJobService>,
    /// Wakes this process's job worker when the catalogue queues a job.
    pub bell: Arc<JobBell>,
    pub health: HealthService,
}

impl Services {
    /// `spool`: the identity of the upload spool directory (`spool_identity`).
    pub fn new(
        settings: &Settings,
        db: &Database,
        media_store: Arc<dyn MediaStore>,
        direct_uploads: Option<Arc<dyn DirectUploads>>,
        tools: Option<Arc<dyn VideoTools>>,
        spool: &str,
    ) -> Result<Self, BuildError> {
        let (auth, media) = (&settings.auth, &settings.media);
        let store = &mongo::Store::new(db.clone(), settings.database.operation_limit());
        let users = Arc::new(mongo::MongoUserRepository::new(store));
        let videos = Arc::new(mongo::MongoVideoRepository::new(store));
        let likes = Arc::new(mongo::MongoLikeRepository::new(store));
        let subscriptions = Arc::new(mongo::MongoSubscriptionRepository::new(store));
        let comments = Arc::new(mongo::MongoCommentRepository::new(store));
        let playlists = Arc::new(mongo::MongoPlaylistRepository::new(store));
        let tweets = Arc::new(mongo::MongoTweetRepository::new(store));
        let history = Arc::new(mongo::MongoWatchHistoryRepository::new(store));
        let attachments = Arc::new(mongo::MongoAttachmentRepository::new(store));
        let jobs = Arc::new(mongo::MongoMediaJobRepository::new(store, spool));
        let bell = Arc::new(JobBell::default());
        let throttle = |name, allowed| -> Arc<dyn Throttle> {
            Arc::new(MongoThrottle::new(store, name, allowance(allowed)))
        };
        let user_service = UserService::new(
            UserPorts {
                users: users.clone(),
                sessions: Arc::new(mongo::MongoSessionRepository::new(store)),
                hasher: Arc::new(
                    BcryptHasher::new(auth.bcrypt_cost, auth.bcrypt_threads)
                        .map_err(BuildError::Bcrypt)?,
                ),
                tokens: Arc::new(JwtCodec::new(
                    &auth.access_token_secret,
                    &auth.refresh_token_secret,
                )),
                media: Arc::clone(&media_store),
                logins_per_client: throttle("login_per_ip", auth.login_per_ip),
                logins_per_account: throttle("login_per_account", auth.login_per_account),
                registrations: throttle("register_per_ip", auth.register_per_ip),
                refreshes: throttle("refresh_per_ip", auth.refresh_per_ip),
            },
            AuthPolicy {
                access_ttl: auth.access_token_expiry,
                refresh_ttl: auth.refresh_token_expiry,
                refresh_reuse_grace: Duration::from_secs(auth.refresh_reuse_grace_seconds),
                session_recheck: Duration::from_secs(auth.session_recheck_seconds),
            },
        );
        let video_service = VideoService::new(VideoPorts {
            videos: videos.clone(),
            jobs: jobs.clone(),
            history: history.clone(),
            likes: likes.clone(),
            comments: comments.clone(),
            playlists: playlists.clone(),
            users: users.clone(),
            attachments: attachments.clone(),
            media: Arc::clone(&media_store),
            direct: direct_uploads,
            wakeup: bell.clone(),
        });
        let video_service = Arc::new(video_service);
        let upload_service = ResumableUploadService::new(
            Arc::new(mongo::MongoResumableUploadRepository::new(store)),
            Arc::clone(&video_service),
            Duration::from_secs(media.resumable_expiry_seconds.max(1)),
            spool.to_owned(),
        );
        let job_service = MediaJobService::new(
            videos.clone(),
            jobs,
            Arc::clone(&media_store),
            tools,
            MediaVisibility::new(
                videos.clone(),
                attachments.clone(),
                Arc::clone(&media_store),
            ),
            JobPolicy {
                lease: Duration::from_secs(media.job_lease_seconds.max(1)),
                max_attempts: media.job_max_attempts.max(1),
                first_backoff: Duration::from_secs(media.job_backoff_seconds),
                stream_poll: Duration::from_secs(settings.cloudinary.stream_poll_seconds.max(1)),
                stream_wait: Duration::from_secs(settings.cloudinary.stream_wait_minutes * 60),
            },
        );
        let watching = Arc::new(WatchService::new(
            videos.clone(),
            history,
            users.clone(),
            likes.clone(),
            subscriptions.clone(),
        ));
        Ok(Services {
            users: Arc::new(user_service),
            channels: ChannelService::new(users.clone(), subscriptions.clone()),
            subscriptions: SubscriptionService::new(users.clone(), subscriptions.clone()),
            dashboard: DashboardService::new(videos.clone(), likes.clone(), subscriptions),
            tweets: TweetService::new(tweets.clone(), likes.clone(), users.clone()),
            comments: CommentService::new(
                comments.clone(),
                videos.clone(),
                likes.clone(),
                users.clone(),
            ),
            likes: LikeService::new(likes, videos.clone(), comments, tweets, users.clone()),
            playlists: PlaylistService::new(playlists, videos.clone(), users.clone()),
            watching,
            attachments: AttachmentService::new(
                videos.clone(),
                attachments,
                Arc::clone(&media_store),
            ),
            videos: video_service,
            uploads: Arc::new(upload_service),
            jobs: Arc::new(job_service),
            bell,
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
        .allowed_methods(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
        .allowed_headers(
            [header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT]
                .into_iter()
                .chain(routes::TUS_REQUEST_HEADERS),
        )
        .expose_headers(
            [
                REQUEST_ID,
                header::HeaderName::from_static(TOTAL_COUNT),
                header::LINK,
            ]
            .into_iter()
            .chain(routes::TUS_RESPONSE_HEADERS),
        )
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

/// A spool file nobody wrote for this long belongs to no request any more. A request writes
/// its upload's file at least every `BODY_IDLE_TIMEOUT_SECONDS` while it arrives and then keeps
/// it for minutes at most (a store's upload, bounded by its timeouts).
const SPOOL_FILE_ABANDONED_AFTER: Duration = Duration::from_secs(3600);

/// Spool files are only needed while their request runs; those left by a crash are removed at
/// start-up. Only abandoned ones: another instance sharing the directory may be receiving an
/// upload into one right now.
fn remove_stale_spool_files(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let abandoned = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|modified| modified.elapsed().ok())
            .is_some_and(|idle| idle > SPOOL_FILE_ABANDONED_AFTER);
        if abandoned
            && entry
                .file_name()
                .to_string_lossy()
                .starts_with(SPOOL_PREFIX)
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
