//! Resumable uploads with tus 1.0 (`/uploads/tus`, issue 17): the protocol spoken by hand, bad
//! input of every kind, expiry, and the real `tus-js-client` (npm) uploading through a connection
//! that is cut mid-way and across a server killed mid-way.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use reqwest::{Method, Response, StatusCode};
use serde_json::Value;
use sha1::{Digest, Sha1};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use videotube_infra::mongo::bson::{doc, Document};
use videotube_infra::worker::sweep_resumable_uploads;

use crate::binary::{settled_at, signed_up_at, start_videotube};
use crate::helpers::{
    body_of, database_uri, error_fields, spawn_app_with, spawn_app_with_worker, Login, TestApp, PNG,
};
use crate::samples;

/// The app with ffmpeg on (resumable uploads need it to make thumbnails), plus `vars`.
async fn tus_app(vars: &[(&str, &str)]) -> TestApp {
    let mut all = vec![("APP_MEDIA__FFMPEG", "ffmpeg")];
    all.extend_from_slice(vars);
    spawn_app_with(&all).await
}

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn metadata(title: &str, description: &str) -> String {
    format!(
        "title {},description {},filename {}",
        b64(title),
        b64(description),
        b64("clip.mp4")
    )
}

fn header<'a>(res: &'a Response, name: &str) -> &'a str {
    res.headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} in {:?}", res.headers()))
        .to_str()
        .unwrap()
}

/// `POST /uploads/tus` with these headers on top of `Tus-Resumable: 1.0.0`.
async fn create_with(app: &TestApp, access: &str, headers: &[(&str, &str)]) -> Response {
    let mut req = app
        .client
        .post(app.url("/uploads/tus"))
        .bearer_auth(access)
        .header("Tus-Resumable", "1.0.0");
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.send().await.unwrap()
}

/// A new upload of `length` bytes; answers its URL.
async fn created(app: &TestApp, login: &Login, length: usize) -> String {
    let res = create_with(
        app,
        &login.access,
        &[
            ("Upload-Length", &length.to_string()),
            (
                "Upload-Metadata",
                &metadata("Sent in pieces", "Over a bad line"),
            ),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    header(&res, "location").to_owned()
}

async fn patch(
    app: &TestApp,
    access: &str,
    url: &str,
    offset: usize,
    bytes: &[u8],
    extra: &[(&str, &str)],
) -> Response {
    let mut req = app
        .client
        .patch(url)
        .bearer_auth(access)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Offset", offset.to_string())
        .header("Content-Type", "application/offset+octet-stream");
    for (name, value) in extra {
        req = req.header(*name, *value);
    }
    req.body(bytes.to_vec()).send().await.unwrap()
}

async fn tus(app: &TestApp, method: Method, access: &str, url: &str) -> Response {
    app.client
        .request(method, url)
        .bearer_auth(access)
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .unwrap()
}

async fn offset_of(app: &TestApp, access: &str, url: &str) -> u64 {
    let res = tus(app, Method::HEAD, access, url).await;
    assert_eq!(res.status(), StatusCode::OK);
    header(&res, "upload-offset").parse().unwrap()
}

/// A real MP4 header padded to `len` bytes: a video by its first bytes (nothing here plays it).
fn video_of(len: usize) -> Vec<u8> {
    let mut video = samples::mp4(1000);
    video.resize(len, 0);
    video
}

fn sha1_header(bytes: &[u8]) -> String {
    format!(
        "sha1 {}",
        base64::engine::general_purpose::STANDARD.encode(Sha1::digest(bytes))
    )
}

#[tokio::test]
async fn the_server_says_what_it_supports() {
    let app = tus_app(&[]).await;
    let res = app
        .client
        .request(Method::OPTIONS, app.url("/uploads/tus"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&res, "tus-version"), "1.0.0");
    assert_eq!(header(&res, "tus-resumable"), "1.0.0");
    assert_eq!(header(&res, "tus-max-size"), "2147483648");
    assert_eq!(header(&res, "tus-checksum-algorithm"), "sha1");
    let extensions: Vec<&str> = header(&res, "tus-extension").split(',').collect();
    for extension in ["creation", "termination", "expiration", "checksum"] {
        assert!(extensions.contains(&extension), "{extensions:?}");
    }
}

#[tokio::test]
async fn a_video_sent_in_pieces_is_published_as_post_videos_publishes_it() {
    let app = tus_app(&[]).await;
    let owner = app.signed_up("patient").await;
    let video = video_of(300_000);
    let url = created(&app, &owner, video.len()).await;
    assert!(
        url.starts_with(&format!("{}/api/v1/uploads/tus/", app.address)),
        "{url}"
    );

    let res = tus(&app, Method::HEAD, &owner.access, &url).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "upload-offset"), "0");
    assert_eq!(header(&res, "upload-length"), video.len().to_string());
    assert_eq!(header(&res, "cache-control"), "no-store");
    assert_eq!(header(&res, "tus-resumable"), "1.0.0");
    assert!(header(&res, "upload-expires").ends_with(" GMT"));
    assert!(
        res.bytes().await.unwrap().is_empty(),
        "HEAD answers headers"
    );

    let first = &video[..100_000];
    let checksum = sha1_header(first);
    let res = patch(
        &app,
        &owner.access,
        &url,
        0,
        first,
        &[("Upload-Checksum", &checksum)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&res, "upload-offset"), "100000");

    // Pieces that cannot be kept leave the upload where it was.
    let rest = &video[100_000..];
    let wrong_offset = patch(&app, &owner.access, &url, 0, rest, &[]).await;
    assert_eq!(wrong_offset.status(), StatusCode::CONFLICT);
    let bad_sum = patch(
        &app,
        &owner.access,
        &url,
        100_000,
        rest,
        &[("Upload-Checksum", &checksum)],
    )
    .await;
    assert_eq!(bad_sum.status().as_u16(), 460);
    assert_eq!(body_of(bad_sum).await["success"], false);
    let unknown_algorithm = patch(
        &app,
        &owner.access,
        &url,
        100_000,
        rest,
        &[("Upload-Checksum", "md5 AAAA")],
    )
    .await;
    assert_eq!(unknown_algorithm.status(), StatusCode::BAD_REQUEST);
    let mut too_much = rest.to_vec();
    too_much.push(0);
    let res = patch(&app, &owner.access, &url, 100_000, &too_much, &[]).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let res = app
        .client
        .patch(&url)
        .bearer_auth(&owner.access)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Offset", "100000")
        .header("Content-Type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    for offset in ["", "-1", "1e5", "0x10"] {
        let res = app
            .client
            .patch(&url)
            .bearer_auth(&owner.access)
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Offset", offset)
            .header("Content-Type", "application/offset+octet-stream")
            .body(rest.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{offset:?}");
        assert_eq!(error_fields(&body_of(res).await), ["Upload-Offset"]);
    }
    assert_eq!(offset_of(&app, &owner.access, &url).await, 100_000);
    let on_disk = std::fs::read(
        app.resumable_dir()
            .join(format!("{}.upload", url.rsplit('/').next().unwrap())),
    )
    .unwrap();
    assert_eq!(on_disk, first, "refused pieces left nothing behind");

    let res = patch(
        &app,
        &owner.access,
        &url,
        100_000,
        rest,
        &[("Upload-Checksum", &sha1_header(rest))],
    )
    .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&res, "upload-offset"), video.len().to_string());
    let video_id = header(&res, "video-id").to_owned();
    // A client that missed that answer sends the last piece again, empty: the same video.
    let again = patch(&app, &owner.access, &url, video.len(), &[], &[]).await;
    assert_eq!(again.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&again, "video-id"), video_id);
    let status = body_of(
        app.get_authed(&url.replace(&app.url(""), ""), &owner.access)
            .await,
    )
    .await;
    assert_eq!(status["data"]["videoId"], video_id.as_str(), "{status}");

    let published = body_of(
        app.get_authed(&format!("/videos/{video_id}"), &owner.access)
            .await,
    )
    .await;
    assert_eq!(published["data"]["status"], "processing", "{published}");
    assert_eq!(published["data"]["title"], "Sent in pieces");
    assert_eq!(published["data"]["description"], "Over a bad line");
    // The whole file waits for its job, as a multipart upload's does; nothing else is left.
    let spooled = app.spool_files();
    assert_eq!(spooled.len(), 1, "{spooled:?}");
    assert!(
        spooled[0].starts_with("jobs/") && spooled[0].ends_with(".mp4"),
        "{spooled:?}"
    );
    assert_eq!(
        std::fs::read(app.spool_dir.path().join(&spooled[0])).unwrap(),
        video
    );
}

type Headers = Vec<(&'static str, String)>;

#[tokio::test]
async fn bad_creation_requests_are_clear_4xx_and_create_nothing() {
    let app = tus_app(&[("APP_MEDIA__VIDEO_MAX_BYTES", "1000000")]).await;
    let owner = app.signed_up("careless").await;
    let good_metadata = metadata("A title", "A description");
    let cases: Vec<(Headers, StatusCode, Vec<&str>)> = vec![
        (
            vec![("Upload-Metadata", good_metadata.clone())],
            StatusCode::BAD_REQUEST,
            vec!["Upload-Length"],
        ),
        (
            vec![
                ("Upload-Length", "12abc".into()),
                ("Upload-Metadata", good_metadata.clone()),
            ],
            StatusCode::BAD_REQUEST,
            vec!["Upload-Length"],
        ),
        (
            vec![
                ("Upload-Length", "0".into()),
                ("Upload-Metadata", good_metadata.clone()),
            ],
            StatusCode::BAD_REQUEST,
            vec!["Upload-Length"],
        ),
        (
            vec![
                ("Upload-Defer-Length", "1".into()),
                ("Upload-Metadata", good_metadata.clone()),
            ],
            StatusCode::BAD_REQUEST,
            vec!["Upload-Length"],
        ),
        (
            vec![
                ("Upload-Length", "1000001".into()),
                ("Upload-Metadata", good_metadata.clone()),
            ],
            StatusCode::PAYLOAD_TOO_LARGE,
            vec!["Upload-Length"],
        ),
        (
            vec![("Upload-Length", "1000".into())],
            StatusCode::BAD_REQUEST,
            vec!["title", "description"],
        ),
        (
            vec![
                ("Upload-Length", "1000".into()),
                ("Upload-Metadata", format!("description {}", b64("only"))),
            ],
            StatusCode::BAD_REQUEST,
            vec!["title"],
        ),
        (
            vec![
                ("Upload-Length", "1000".into()),
                ("Upload-Metadata", metadata(&"x".repeat(101), "long title")),
            ],
            StatusCode::BAD_REQUEST,
            vec!["title"],
        ),
        (
            vec![
                ("Upload-Length", "1000".into()),
                ("Upload-Metadata", metadata("   ", "blank title")),
            ],
            StatusCode::BAD_REQUEST,
            vec!["title"],
        ),
        (
            vec![
                ("Upload-Length", "1000".into()),
                (
                    "Upload-Metadata",
                    "title !!!notbase64,description eA==".into(),
                ),
            ],
            StatusCode::BAD_REQUEST,
            vec!["Upload-Metadata"],
        ),
        (
            vec![
                ("Upload-Length", "1000".into()),
                (
                    "Upload-Metadata",
                    format!("title {},title {}", b64("a"), b64("b")),
                ),
            ],
            StatusCode::BAD_REQUEST,
            vec!["Upload-Metadata"],
        ),
    ];
    for (headers, status, fields) in cases {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let res = create_with(&app, &owner.access, &headers).await;
        assert_eq!(res.status(), status, "{headers:?}");
        assert_eq!(header(&res, "tus-resumable"), "1.0.0");
        let body = body_of(res).await;
        assert_eq!(error_fields(&body), fields, "{headers:?}: {body}");
    }
    // An operator object where a string belongs is just text in a header: a title like any.
    let res = create_with(
        &app,
        &owner.access,
        &[
            ("Upload-Length", "1000"),
            ("Upload-Metadata", &metadata(r#"{"$gt": ""}"#, "text")),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = tus(
        &app,
        Method::DELETE,
        &owner.access,
        header(&res, "location"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    let res = app
        .client
        .post(app.url("/uploads/tus"))
        .bearer_auth(&owner.access)
        .header("Upload-Length", "1000")
        .header("Upload-Metadata", &good_metadata)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::PRECONDITION_FAILED,
        "no Tus-Resumable"
    );
    for token in ["", "not-a-jwt", &format!("{}x", owner.access)] {
        let res = create_with(
            &app,
            token,
            &[
                ("Upload-Length", "1000"),
                ("Upload-Metadata", &good_metadata),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{token:?}");
        assert_eq!(header(&res, "tus-resumable"), "1.0.0");
        body_of(res).await;
    }
    assert!(app.spool_files().is_empty(), "{:?}", app.spool_files());
    let uploads = app.db.collection::<Document>("resumable_uploads");
    assert_eq!(uploads.count_documents(doc! {}).await.unwrap(), 0);
}

#[tokio::test]
async fn an_upload_is_its_owners_alone_and_odd_ids_are_not_found() {
    let app = tus_app(&[]).await;
    let owner = app.signed_up("owner").await;
    let stranger = app.signed_up("stranger").await;
    let url = created(&app, &owner, 1000).await;
    let bytes = video_of(1000);
    for method in [Method::HEAD, Method::GET, Method::DELETE] {
        let res = tus(&app, method.clone(), &stranger.access, &url).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{method}");
    }
    let res = patch(&app, &stranger.access, &url, 0, &bytes, &[]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    for id in ["nope", "0", "ffffffffffffffffffffffff", "%24gt"] {
        let other = app.url(&format!("/uploads/tus/{id}"));
        let res = tus(&app, Method::GET, &owner.access, &other).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{id}");
        assert_eq!(body_of(res).await["success"], false);
        let res = patch(&app, &owner.access, &other, 0, &bytes, &[]).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{id}");
    }
    assert_eq!(offset_of(&app, &owner.access, &url).await, 0);
}

#[tokio::test]
async fn a_file_that_is_not_a_video_is_refused_at_its_first_bytes_and_dropped() {
    let app = tus_app(&[]).await;
    let owner = app.signed_up("sneaky").await;
    let mut image = PNG.to_vec();
    image.resize(5000, 0);
    let url = created(&app, &owner, image.len()).await;
    let res = patch(&app, &owner.access, &url, 0, &image[..1000], &[]).await;
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(body_of(res).await["message"]
        .as_str()
        .unwrap()
        .contains("video"));
    assert_eq!(
        tus(&app, Method::HEAD, &owner.access, &url).await.status(),
        StatusCode::NOT_FOUND
    );
    assert!(app.spool_files().is_empty(), "{:?}", app.spool_files());
    let videos = app.db.collection::<Document>("videos");
    assert_eq!(videos.count_documents(doc! {}).await.unwrap(), 0);
}

#[tokio::test]
async fn an_ended_upload_is_gone_with_its_bytes() {
    let app = tus_app(&[]).await;
    let owner = app.signed_up("quitter").await;
    let video = video_of(2000);
    let url = created(&app, &owner, video.len()).await;
    let res = patch(&app, &owner.access, &url, 0, &video[..1000], &[]).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = tus(&app, Method::DELETE, &owner.access, &url).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        tus(&app, Method::HEAD, &owner.access, &url).await.status(),
        StatusCode::NOT_FOUND
    );
    let res = patch(&app, &owner.access, &url, 1000, &video[1000..], &[]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(app.spool_files().is_empty(), "{:?}", app.spool_files());
}

#[tokio::test]
async fn an_upload_left_alone_expires_and_is_swept_with_its_bytes() {
    let app = tus_app(&[("APP_MEDIA__RESUMABLE_EXPIRY_SECONDS", "1")]).await;
    let owner = app.signed_up("forgetful").await;
    let video = video_of(2000);
    let url = created(&app, &owner, video.len()).await;
    let res = patch(&app, &owner.access, &url, 0, &video[..1000], &[]).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let expires = header(&res, "upload-expires").to_owned();
    assert!(
        chrono::DateTime::parse_from_rfc2822(&expires.replace("GMT", "+0000")).is_ok(),
        "{expires}"
    );
    let kept = created(&app, &owner, video.len()).await;
    assert_eq!(
        sweep_resumable_uploads(&app.services.uploads)
            .await
            .unwrap(),
        0,
        "not yet"
    );

    tokio::time::sleep(Duration::from_millis(1500)).await;
    let res = patch(&app, &owner.access, &url, 1000, &video[1000..], &[]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "expired");
    assert_eq!(
        sweep_resumable_uploads(&app.services.uploads)
            .await
            .unwrap(),
        2
    );
    assert!(app.spool_files().is_empty(), "{:?}", app.spool_files());
    assert_eq!(
        tus(&app, Method::HEAD, &owner.access, &kept).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn without_ffmpeg_to_make_thumbnails_resumable_uploads_are_refused_clearly() {
    let app = spawn_app_with(&[]).await;
    let owner = app.signed_up("thumbless").await;
    let res = create_with(
        &app,
        &owner.access,
        &[
            ("Upload-Length", "1000"),
            ("Upload-Metadata", &metadata("A", "B")),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(body_of(res).await["message"]
        .as_str()
        .unwrap()
        .contains("POST /videos"));
}

// The real client. `scripts/tus-client/install` puts tus-js-client under `.tools`.

fn tus_client_dir() -> PathBuf {
    let install = Command::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/tus-client/install"
    ))
    .output()
    .expect("scripts/tus-client/install runs");
    assert!(
        install.status.success(),
        "{}",
        String::from_utf8_lossy(&install.stderr)
    );
    PathBuf::from(String::from_utf8(install.stdout).unwrap().trim())
}

/// Three seconds of noisy 640x360 H.264 (noise does not compress): megabytes, so that an
/// upload through a slow relay takes long enough to break mid-way.
fn big_clip(dir: &Path) -> (PathBuf, Vec<u8>) {
    let path = dir.join("clip.mp4");
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i"])
        .arg("testsrc=size=640x360:rate=25:duration=3,noise=alls=60:allf=t")
        .args(["-f", "lavfi", "-i", "sine=duration=3"])
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-crf",
            "18",
            "-pix_fmt",
            "yuv420p",
        ])
        .args(["-c:a", "aac", "-f", "mp4"])
        .arg(&path)
        .status()
        .expect("ffmpeg runs");
    assert!(status.success());
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 3_000_000, "{} bytes", bytes.len());
    (path, bytes)
}

/// `node upload.js` (see `scripts/tus-client/upload.js`), running.
fn start_tus_client(
    endpoint: &str,
    token: &str,
    file: &Path,
    chunk: Option<usize>,
) -> tokio::process::Child {
    let dir = tus_client_dir();
    let mut command = tokio::process::Command::new("node");
    command
        .current_dir(&dir)
        .arg("upload.js")
        .arg(endpoint)
        .arg(token)
        .arg(file)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    if let Some(chunk) = chunk {
        command.arg(chunk.to_string());
    }
    command
        .spawn()
        .expect("node runs (Debian: apt-get install nodejs)")
}

/// The client's last event, once it has exited.
async fn client_outcome(child: tokio::process::Child) -> (Value, String) {
    let output = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .expect("the tus client finished")
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let log = format!("{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let last = stdout.lines().last().unwrap_or("null");
    (serde_json::from_str(last).unwrap_or(Value::Null), log)
}

/// The size of the one upload file in `dir`, once there is one.
fn upload_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".upload"))
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .max()
        .unwrap_or(0)
}

async fn wait_for_upload_size(dir: &Path, at_least: u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while upload_size(dir) < at_least {
        assert!(
            Instant::now() < deadline,
            "the upload never reached {at_least} bytes"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A TCP relay between the client and the server: passes the client's bytes at `rate` bytes a
/// second (an upload of megabytes takes seconds, long enough to break it mid-way), cuts every
/// connection on demand, and can be pointed at another server.
struct Relay {
    port: u16,
    upstream: Arc<Mutex<u16>>,
    connections: Arc<Mutex<JoinSet<()>>>,
    accepting: tokio::task::JoinHandle<()>,
}

impl Relay {
    async fn start(upstream: u16, rate: u64) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let upstream = Arc::new(Mutex::new(upstream));
        let connections = Arc::new(Mutex::new(JoinSet::new()));
        let accepting = tokio::spawn({
            let (upstream, connections) = (Arc::clone(&upstream), Arc::clone(&connections));
            async move {
                while let Ok((client, _)) = listener.accept().await {
                    let to = *upstream.lock().unwrap();
                    connections.lock().unwrap().spawn(relay(client, to, rate));
                }
            }
        });
        Relay {
            port,
            upstream,
            connections,
            accepting,
        }
    }

    /// Drops every open connection mid-stream, as a broken network does.
    fn cut(&self) {
        self.connections.lock().unwrap().abort_all();
    }

    fn point_at(&self, port: u16) {
        *self.upstream.lock().unwrap() = port;
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.accepting.abort();
        self.cut();
    }
}

async fn relay(client: TcpStream, upstream: u16, rate: u64) {
    let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)).await else {
        return;
    };
    let (mut from_client, mut to_client) = client.into_split();
    let (mut from_server, mut to_server) = server.into_split();
    let requests = async {
        let mut buffer = vec![0; 16 * 1024];
        while let Ok(n @ 1..) = from_client.read(&mut buffer).await {
            if to_server.write_all(&buffer[..n]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_secs_f64(n as f64 / rate as f64)).await;
        }
        let _ = to_server.shutdown().await;
    };
    let replies = async {
        let _ = tokio::io::copy(&mut from_server, &mut to_client).await;
        let _ = to_client.shutdown().await;
    };
    tokio::join!(requests, replies);
}

/// Waits for the video to be processed by the app's worker, then checks that the file it
/// stored is the one sent.
async fn stored_as_sent(api: &str, access: &str, video_id: &str, sent: &[u8]) {
    let video = settled_at(api, access, video_id, Duration::from_secs(60)).await;
    assert_eq!(video["status"], "ready", "{video}");
    assert_eq!(video["title"], "Sent with tus");
    let file = reqwest::Client::new()
        .get(video["videoFile"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(file == sent, "the stored file is the one sent");
}

#[tokio::test]
async fn tus_js_client_uploads_a_video_in_chunks() {
    let app = spawn_app_with_worker(&[("APP_MEDIA__FFMPEG", "ffmpeg")]).await;
    let owner = app.signed_up("uploader").await;
    let dir = tempfile::tempdir().unwrap();
    let (path, sent) = big_clip(dir.path());
    let client = start_tus_client(
        &app.url("/uploads/tus"),
        &owner.access,
        &path,
        Some(1 << 20),
    );
    let (outcome, log) = client_outcome(client).await;
    assert_eq!(outcome["event"], "success", "{log}");
    assert_eq!(outcome["retried"], false, "{log}");
    let video_id = outcome["videoId"].as_str().unwrap();
    stored_as_sent(&app.url(""), &owner.access, video_id, &sent).await;
    assert!(app.spool_becomes(true).await, "{:?}", app.spool_files());
}

#[tokio::test]
async fn tus_js_client_goes_on_after_its_connection_is_cut_mid_upload() {
    let app = spawn_app_with_worker(&[("APP_MEDIA__FFMPEG", "ffmpeg")]).await;
    let owner = app.signed_up("commuter").await;
    let dir = tempfile::tempdir().unwrap();
    let (path, sent) = big_clip(dir.path());
    let port: u16 = app.address.rsplit(':').next().unwrap().parse().unwrap();
    let relay = Relay::start(port, 2 << 20).await;
    let endpoint = format!("http://127.0.0.1:{}/api/v1/uploads/tus", relay.port);
    // One request for the whole file: the cut breaks it in the middle of its body.
    let client = start_tus_client(&endpoint, &owner.access, &path, None);
    wait_for_upload_size(&app.resumable_dir(), sent.len() as u64 / 3).await;
    relay.cut();

    let (outcome, log) = client_outcome(client).await;
    assert_eq!(outcome["event"], "success", "{log}");
    assert_eq!(outcome["retried"], true, "{log}");
    let resumed_at = outcome["resumedAt"].as_u64().unwrap_or(0);
    assert!(
        resumed_at >= sent.len() as u64 / 3,
        "went on from what arrived: {log}"
    );
    stored_as_sent(
        &app.url(""),
        &owner.access,
        outcome["videoId"].as_str().unwrap(),
        &sent,
    )
    .await;
}

#[tokio::test]
async fn tus_js_client_goes_on_after_the_server_is_killed_and_restarted_mid_upload() {
    let dirs = tempfile::tempdir().unwrap();
    let spool = dirs.path().join("spool");
    let vars = [
        ("MONGODB_URI", database_uri()),
        ("DB_NAME", format!("test_{}", uuid::Uuid::new_v4().simple())),
        ("MEDIA_DIR", dirs.path().join("media").display().to_string()),
        ("UPLOAD_TMP_DIR", spool.display().to_string()),
        ("APP_MEDIA__FFMPEG", "ffmpeg".into()),
        ("APP_MEDIA__JOB_POLL_SECONDS", "1".into()),
        ("APP_AUTH__BCRYPT_COST", "4".into()),
    ];
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (first, port) = start_videotube(&vars, &dirs.path().join("first.log")).await;
    let mut first = Killed(first);
    let api = format!("http://127.0.0.1:{port}/api/v1");
    let token = signed_up_at(&api, "resilient").await;

    let (path, sent) = big_clip(dirs.path());
    let relay = Relay::start(port, 2 << 20).await;
    let endpoint = format!("http://127.0.0.1:{}/api/v1/uploads/tus", relay.port);
    let tus_client = start_tus_client(&endpoint, &token, &path, Some(512 * 1024));
    wait_for_upload_size(&spool.join("jobs/resumable"), sent.len() as u64 / 2).await;
    first.0.kill().unwrap();
    first.0.wait().unwrap();
    relay.cut();
    let (second, port) = start_videotube(&vars, &dirs.path().join("second.log")).await;
    let _second = Killed(second);
    relay.point_at(port);

    let (outcome, log) = client_outcome(tus_client).await;
    assert_eq!(outcome["event"], "success", "{log}");
    assert_eq!(outcome["retried"], true, "{log}");
    let resumed_at = outcome["resumedAt"].as_u64().unwrap_or(0);
    assert!(
        resumed_at >= 512 * 1024,
        "went on from the last piece kept: {log}"
    );
    let api = format!("http://127.0.0.1:{port}/api/v1");
    stored_as_sent(&api, &token, outcome["videoId"].as_str().unwrap(), &sent).await;
}

/// A server process, killed when the test ends whichever way.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn a_piece_that_stops_arriving_is_cut_off_and_what_came_is_kept() {
    let app = tus_app(&[("APP_APPLICATION__BODY_IDLE_TIMEOUT_SECONDS", "1")]).await;
    let owner = app.signed_up("stalling").await;
    let video = video_of(1000);
    let url = created(&app, &owner, video.len()).await;
    let path = url
        .split_once("/api/")
        .map(|(_, p)| format!("/api/{p}"))
        .unwrap();
    let port: u16 = app.address.rsplit(':').next().unwrap().parse().unwrap();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let head = format!(
        "PATCH {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {}\r\n\
         Tus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\n\
         Content-Length: 1000\r\n\r\n",
        owner.access
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&video[..300]).await.unwrap();
    let mut answer = vec![0; 1024];
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut answer))
        .await
        .expect("cut off within the idle timeout")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]).into_owned();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert_eq!(offset_of(&app, &owner.access, &url).await, 300);
    let res = patch(&app, &owner.access, &url, 300, &video[300..], &[]).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(res.headers().contains_key("video-id"));
}
