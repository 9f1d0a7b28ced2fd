use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use reqwest::multipart::{Form, Part};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use videotube_http::config::Settings;
use videotube_http::startup::{BackgroundTasks, Services};
use videotube_http::Application;
use videotube_infra::mongo::{self, Database};
use videotube_infra::worker::run_due_jobs;

use crate::query_shapes::{ShapeLog, WireReader};

/// A real 1x1 PNG.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53,
    0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0x00,
    0x00, 0x03, 0x01, 0x01, 0x00, 0xc9, 0xfe, 0x92, 0xef, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e,
    0x44, 0xae, 0x42, 0x60, 0x82,
];

/// The start of a JPEG (SOI, APP0/JFIF); enough for type detection.
pub const JPEG: &[u8] = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00";

pub const PASSWORD: &str = "correct horse battery";
pub const ACCESS_SECRET: &str = "local-development-access-secret-not-for-production";

static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var_os("TEST_LOG").is_some() {
        videotube_http::telemetry::init(videotube_http::telemetry::LogFormat::Pretty);
    }
});

pub struct TestApp {
    pub address: String,
    /// Where its `/metrics` is served, unless the test turned it off.
    pub metrics_address: Option<String>,
    pub client: reqwest::Client,
    pub media_dir: TempDir,
    pub spool_dir: TempDir,
    /// Kept so the database stays reachable through it for the app's lifetime.
    pub db_proxy: TcpProxy,
    /// The app's database, reached directly, for checking what was (not) written.
    pub db: Database,
    /// The app's services, for driving its background work directly (`run_jobs`).
    pub services: Arc<Services>,
    /// What the app was started with.
    pub settings: Settings,
    /// The job worker and sweeper, when the test asked for them (`spawn_app_with_worker`);
    /// other tests run jobs themselves, when they choose.
    _background: Option<BackgroundTasks>,
}

pub fn database_uri() -> String {
    std::env::var("TEST_MONGODB_URI").expect(
        "TEST_MONGODB_URI is not set: run the tests with scripts/test, which provides a database",
    )
}

/// The test database server's database `name`, reached directly.
pub async fn database(name: &str) -> Database {
    mongo::connect(&database_uri(), name, Duration::from_secs(5))
        .await
        .unwrap()
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts the app with a fresh database, fresh media and spool directories, cheap bcrypt, and the
/// given variables on top (e.g. `[("REFRESH_REUSE_GRACE_SECONDS", "0")]`). The database is reached
/// through a proxy that tests may cut to simulate an outage.
pub async fn spawn_app_with(vars: &[(&str, &str)]) -> TestApp {
    spawn(vars, false).await
}

/// The app with its own job worker and sweeper running, as `main` starts them.
pub async fn spawn_app_with_worker(vars: &[(&str, &str)]) -> TestApp {
    spawn(vars, true).await
}

async fn spawn(vars: &[(&str, &str)], with_background_tasks: bool) -> TestApp {
    LazyLock::force(&TRACING);
    let upstream = database_uri();
    let db_proxy = TcpProxy::start(upstream_address(&upstream)).await;
    let media_dir = tempfile::tempdir().unwrap();
    let spool_dir = tempfile::tempdir().unwrap();
    let mut env: HashMap<String, String> = HashMap::from([
        (
            "MONGODB_URI".into(),
            format!(
                "mongodb://127.0.0.1:{}/?directConnection=true",
                db_proxy.port
            ),
        ),
        (
            "DB_NAME".into(),
            format!("test_{}", uuid::Uuid::new_v4().simple()),
        ),
        ("PORT".into(), "0".into()),
        ("MEDIA_DIR".into(), media_dir.path().display().to_string()),
        (
            "UPLOAD_TMP_DIR".into(),
            spool_dir.path().display().to_string(),
        ),
        ("APP_AUTH__BCRYPT_COST".into(), "4".into()),
        ("APP_DATABASE__TIMEOUT_SECONDS".into(), "2".into()),
        // Tests run side by side: each app's /metrics on a port of its own.
        ("APP_METRICS__ADDRESS".into(), "127.0.0.1:0".into()),
        // The samples are bare container headers, no streams, which ffprobe rightly refuses;
        // the processing tests (processing.rs) turn it on with real videos.
        ("APP_MEDIA__FFMPEG".into(), String::new()),
    ]);
    env.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let db_name = env["DB_NAME"].clone();
    let (_, settings) = Settings::load(&env).expect("test settings load");
    let app = Application::build(settings.clone())
        .await
        .expect("the application starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let metrics_address = app
        .metrics_port()
        .map(|port| format!("http://127.0.0.1:{port}"));
    let services = app.services();
    let background = with_background_tasks.then(|| app.start_background_tasks());
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        metrics_address,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        media_dir,
        spool_dir,
        db_proxy,
        db: mongo::connect(&upstream, &db_name, Duration::from_secs(5))
            .await
            .unwrap(),
        services,
        settings,
        _background: background,
    }
}

/// A fake Cloudinary (see `fake_cloudinary`) on which video uploads hang for `hang` (only the
/// first `first` of them, given a number) and every other upload succeeds: a job stays running
/// while a test looks at it, stops it or kills its server.
pub async fn cloudinary_where_video_uploads_hang(
    hang: Duration,
    first: Option<u64>,
) -> wiremock::MockServer {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    let hanging = Mock::given(method("POST"))
        .and(path("/v1_1/demo/video/upload"))
        .respond_with(ResponseTemplate::new(200).set_delay(hang))
        .with_priority(1);
    match first {
        Some(n) => hanging.up_to_n_times(n).mount(&server).await,
        None => hanging.mount(&server).await,
    }
    Mock::given(method("POST"))
        .respond_with(crate::fake_cloudinary::FakeUpload::default())
        .mount(&server)
        .await;
    server
}

/// The app with media on the fake Cloudinary `server` (see `fake_cloudinary`), plus `vars`.
pub async fn spawn_app_on_cloudinary(
    server: &wiremock::MockServer,
    vars: &[(&str, &str)],
) -> TestApp {
    use crate::fake_cloudinary::{API_KEY, SECRET};
    let url = format!("cloudinary://{API_KEY}:{SECRET}@demo");
    let base = server.uri();
    let mut all = vec![
        ("CLOUDINARY_URL", url.as_str()),
        ("APP_CLOUDINARY__API_BASE", base.as_str()),
    ];
    all.extend_from_slice(vars);
    spawn_app_with(&all).await
}

pub fn upstream_address(uri: &str) -> String {
    let rest = uri.split_once("://").map_or(uri, |(_, rest)| rest);
    let host = rest.split(['/', '?']).next().unwrap();
    let host = host.rsplit_once('@').map_or(host, |(_, host)| host);
    host.split(',').next().unwrap().to_owned()
}

pub struct RegisterForm {
    pub username: String,
    pub email: String,
    pub full_name: String,
    pub password: String,
    pub avatar: Option<(&'static str, Vec<u8>)>,
    pub cover_image: Option<(&'static str, Vec<u8>)>,
}

impl RegisterForm {
    pub fn new(username: &str) -> Self {
        Self {
            username: username.into(),
            email: format!("{username}@example.com"),
            full_name: format!("{username} Tester"),
            password: PASSWORD.into(),
            avatar: Some(("avatar.png", PNG.to_vec())),
            cover_image: None,
        }
    }

    pub fn into_form(self) -> Form {
        let mut form = Form::new()
            .text("username", self.username)
            .text("email", self.email)
            .text("fullName", self.full_name)
            .text("password", self.password);
        if let Some((name, bytes)) = self.avatar {
            form = form.part(
                "avatar",
                Part::bytes(bytes)
                    .file_name(name)
                    .mime_str("image/png")
                    .unwrap(),
            );
        }
        if let Some((name, bytes)) = self.cover_image {
            form = form.part(
                "coverImage",
                Part::bytes(bytes)
                    .file_name(name)
                    .mime_str("image/png")
                    .unwrap(),
            );
        }
        form
    }
}

pub fn image_form(field: &'static str, name: &'static str, bytes: Vec<u8>) -> Form {
    Form::new().part(
        field,
        Part::bytes(bytes)
            .file_name(name)
            .mime_str("image/png")
            .unwrap(),
    )
}

/// A logged-in user's tokens.
pub struct Login {
    pub user: Value,
    pub access: String,
    pub refresh: String,
}

impl TestApp {
    /// Whether the spool becomes empty (or not) within two seconds: a request's files go when
    /// its form is dropped, which may be just after the answer went out.
    pub async fn spool_becomes(&self, empty: bool) -> bool {
        for _ in 0..100 {
            if self.spool_files().is_empty() == empty {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }

    /// Runs the media jobs that are due, as the worker would.
    pub async fn run_jobs(&self) {
        run_due_jobs(&self.services.jobs)
            .await
            .expect("the due jobs ran");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.address)
    }

    pub async fn register(&self, form: RegisterForm) -> Response {
        self.client
            .post(self.url("/users/register"))
            .multipart(form.into_form())
            .send()
            .await
            .unwrap()
    }

    pub async fn post_json(&self, path: &str, body: Value) -> Response {
        self.client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn login_raw(&self, body: Value) -> Response {
        self.post_json("/users/login", body).await
    }

    /// Registers `username` and logs in.
    pub async fn signed_up(&self, username: &str) -> Login {
        let res = self.register(RegisterForm::new(username)).await;
        assert_eq!(
            res.status(),
            StatusCode::CREATED,
            "{}",
            res.text().await.unwrap()
        );
        self.login(username).await
    }

    pub async fn login(&self, username: &str) -> Login {
        let res = self
            .login_raw(json!({ "username": username, "password": PASSWORD }))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let body = body_of(res).await;
        Login {
            user: body["data"]["user"].clone(),
            access: body["data"]["accessToken"].as_str().unwrap().to_owned(),
            refresh: body["data"]["refreshToken"].as_str().unwrap().to_owned(),
        }
    }

    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        access: &str,
        body: Value,
    ) -> Response {
        let request = self
            .client
            .request(method, self.url(path))
            .bearer_auth(access);
        request.json(&body).send().await.unwrap()
    }

    /// A request without a body.
    pub async fn send(&self, method: reqwest::Method, path: &str, access: &str) -> Response {
        self.client
            .request(method, self.url(path))
            .bearer_auth(access)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_json_authed(&self, path: &str, access: &str, body: Value) -> Response {
        self.send_json(reqwest::Method::POST, path, access, body)
            .await
    }

    pub async fn get_authed(&self, path: &str, access: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(access)
            .send()
            .await
            .unwrap()
    }

    pub async fn current_user_status(&self, access: &str) -> StatusCode {
        self.get_authed("/users/current-user", access)
            .await
            .status()
    }

    pub async fn refresh_with(&self, refresh: &str) -> Response {
        self.post_json("/users/refresh-token", json!({ "refreshToken": refresh }))
            .await
    }

    /// Files left in the upload spool (and its jobs folder); every request and every finished
    /// job must clean up after itself.
    pub fn spool_files(&self) -> Vec<String> {
        let mut files = files_in(self.spool_dir.path());
        files.retain(|name| name != "jobs");
        files.extend(
            files_in(&self.spool_dir.path().join("jobs"))
                .into_iter()
                // The spool's name (`startup::spool_identity`), not an upload, and the
                // directory of resumable uploads, listed next.
                .filter(|f| f != ".spool-id" && f != "resumable")
                .map(|f| format!("jobs/{f}")),
        );
        files.extend(
            files_in(&self.resumable_dir())
                .into_iter()
                .map(|f| format!("jobs/resumable/{f}")),
        );
        files
    }

    /// Where resumable (tus) uploads' bytes arrive.
    pub fn resumable_dir(&self) -> std::path::PathBuf {
        self.spool_dir.path().join("jobs").join("resumable")
    }

    /// Every stored media file, relative to the media directory.
    pub fn media_files(&self) -> Vec<String> {
        let mut all = Vec::new();
        for folder in files_in(self.media_dir.path()) {
            let dir = self.media_dir.path().join(&folder);
            all.extend(files_in(&dir).into_iter().map(|f| format!("{folder}/{f}")));
        }
        all
    }
}

fn files_in(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The response's JSON body, checked for the envelope's shape and for anything secret.
/// A list answered as a plain array: its items, `X-Total-Count`, and the `Link` header's
/// targets by relation.
#[derive(Debug)]
pub struct Listed {
    pub items: Vec<Value>,
    pub total: u64,
    pub links: HashMap<String, String>,
}

pub async fn listed(res: Response) -> Listed {
    assert_eq!(res.status(), StatusCode::OK);
    let header = |name: &str| {
        res.headers()
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_str()
            .unwrap()
            .to_owned()
    };
    let total = header("x-total-count").parse().unwrap();
    let links = header("link")
        .split(", ")
        .map(|link| {
            let (target, rel) = link.split_once("; rel=").unwrap();
            let target = target.trim_start_matches('<').trim_end_matches('>');
            (rel.trim_matches('"').to_owned(), target.to_owned())
        })
        .collect();
    let body = body_of(res).await;
    let items = body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("data is not an array: {body}"))
        .clone();
    Listed {
        items,
        total,
        links,
    }
}

pub async fn body_of(res: Response) -> Value {
    let status = res.status();
    assert!(
        res.headers().contains_key("x-request-id"),
        "every response has a request id"
    );
    let text = res.text().await.unwrap();
    let body: Value =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    assert_eq!(body["statusCode"], status.as_u16(), "{body}");
    assert_eq!(body["success"], status.is_success(), "{body}");
    assert!(body["message"].is_string(), "{body}");
    if !status.is_success() {
        assert!(
            body["data"].is_null() && body["errors"].is_array(),
            "{body}"
        );
    }
    assert_no_secrets(&body);
    body
}

/// No password, password hash or stored token hash ever leaves the server.
pub fn assert_no_secrets(value: &Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                let key = key.to_lowercase();
                assert!(
                    !key.contains("password") && !key.contains("hash"),
                    "secret-looking key {key}"
                );
                assert_no_secrets(v);
            }
        }
        Value::Array(items) => items.iter().for_each(assert_no_secrets),
        Value::String(s) => assert!(!s.starts_with("$2"), "a bcrypt hash leaked: {s}"),
        _ => {}
    }
}

pub fn error_fields(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect()
}

/// A TCP proxy to the database that a test can cut and restore, to see the app through an
/// outage without stopping the shared database server. It also reads the app's commands off the
/// wire and, when dropped, fails the test if one queried without an index (`query_shapes`).
pub struct TcpProxy {
    pub port: u16,
    upstream: String,
    tasks: Arc<Mutex<JoinSet<()>>>,
    shapes: ShapeLog,
}

impl TcpProxy {
    pub async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let proxy = TcpProxy {
            port,
            upstream,
            tasks: Arc::new(Mutex::new(JoinSet::new())),
            shapes: ShapeLog::default(),
        };
        proxy.serve(listener);
        proxy
    }

    fn serve(&self, listener: TcpListener) {
        let upstream = self.upstream.clone();
        let tasks = Arc::clone(&self.tasks);
        let accept_tasks = Arc::clone(&self.tasks);
        let shapes = self.shapes.clone();
        accept_tasks.lock().unwrap().spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let shapes = shapes.clone();
                tasks.lock().unwrap().spawn(async move {
                    if let Ok(server) = TcpStream::connect(&upstream).await {
                        let (mut from_client, mut to_client) = client.into_split();
                        let (mut from_server, mut to_server) = server.into_split();
                        let requests = async {
                            let mut reader = WireReader::new(shapes);
                            let mut buffer = vec![0; 64 * 1024];
                            while let Ok(n @ 1..) = from_client.read(&mut buffer).await {
                                reader.feed(&buffer[..n]);
                                if to_server.write_all(&buffer[..n]).await.is_err() {
                                    break;
                                }
                            }
                            let _ = to_server.shutdown().await;
                        };
                        let replies = async {
                            let _ = tokio::io::copy(&mut from_server, &mut to_client).await;
                            let _ = to_client.shutdown().await;
                        };
                        tokio::join!(requests, replies);
                    }
                });
            }
        });
    }

    /// Drops every connection and stops listening: the database is "down".
    pub fn cut(&self) {
        self.tasks.lock().unwrap().abort_all();
    }

    /// Listens again on the same port: the database is "back".
    pub async fn restore(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        self.serve(listener);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.cut();
        if !std::thread::panicking() {
            self.shapes.check();
        }
    }
}
