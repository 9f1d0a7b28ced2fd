//! The `videotube` binary itself: configuration from the environment, refusal to start in
//! production with development secrets, and a graceful exit on SIGTERM.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::database_uri;

pub fn videotube(vars: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_videotube"));
    command
        .env_clear()
        // Servers run side by side: each one's /metrics on a port of its own.
        .env("APP_METRICS__ADDRESS", "127.0.0.1:0")
        // Bare sample headers, as in `spawn_app`.
        .env("APP_MEDIA__FFMPEG", "")
        .envs(vars.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Starts the binary on a port the system picks (`PORT=0`, so that no other process can take
/// the port between a probe and the bind) and answers the process and that port, read from its
/// "listening" log line, once it is healthy. Its output goes to the file `log`: nobody reads it
/// while the test runs, and a full pipe would block the server.
pub async fn start_videotube(vars: &[(&str, &str)], log: &Path) -> (Child, u16) {
    let mut all = vars.to_vec();
    all.retain(|(k, _)| *k != "PORT");
    all.push(("PORT", "0"));
    let file = std::fs::File::create(log).unwrap();
    let mut child = videotube(&all).stdout(file).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(port) = listening_port(&text) {
            wait_until_healthy(port).await;
            return (child, port);
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the server exited ({status}) before listening: {text}");
        }
        assert!(
            Instant::now() < deadline,
            "the server did not start: {text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The port of the "listening" line, in text (whatever its colours) or JSON.
fn listening_port(log: &str) -> Option<u16> {
    let line = log.lines().find(|line| line.contains("listening"))?;
    let mut plain = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|c| *c == 'm');
        } else {
            plain.push(c);
        }
    }
    let digits = plain
        .split("port=")
        .nth(1)
        .or_else(|| plain.split("\"port\":").nth(1))?;
    digits
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

pub fn wait_for_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the server did not exit within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn production_refuses_to_start_with_development_secrets() {
    let output = videotube(&[("APP_ENVIRONMENT", "production"), ("PORT", "0")])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let log = String::from_utf8_lossy(&output.stdout);
    assert!(log.contains("ACCESS_TOKEN_SECRET is not set"), "{log}");
}

#[tokio::test]
async fn sigterm_stops_the_server_gracefully() {
    stops_gracefully_on("-TERM").await;
}

#[tokio::test]
async fn sigint_stops_the_server_gracefully_too() {
    stops_gracefully_on("-INT").await;
}

async fn stops_gracefully_on(signal: &str) {
    let media = tempfile::tempdir().unwrap();
    let db_name = format!("test_{}", uuid::Uuid::new_v4().simple());
    let log = media.path().join("server.log");
    let (mut child, _) = start_videotube(
        &[
            ("MONGODB_URI", &database_uri()),
            ("DB_NAME", &db_name),
            (
                "MEDIA_DIR",
                &media.path().join("media").display().to_string(),
            ),
            (
                "UPLOAD_TMP_DIR",
                &media.path().join("spool").display().to_string(),
            ),
        ],
        &log,
    )
    .await;

    let killed = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = wait_for_exit(&mut child, Duration::from_secs(20));
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(status.success(), "{status:?}: {log}");
    assert!(log.contains("finishing requests in flight"), "{log}");
    assert!(!log.contains("forced shutdown"), "{log}");
}

/// Waits until the server at `port` answers its healthcheck.
pub async fn wait_until_healthy(port: u16) {
    let health = format!("http://127.0.0.1:{port}/api/v1/healthcheck");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !matches!(client.get(&health).send().await, Ok(res) if res.status().is_success()) {
        assert!(Instant::now() < deadline, "the server did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn public_ids(
    requests: &[wiremock::Request],
    resource: &str,
) -> std::collections::BTreeSet<String> {
    requests
        .iter()
        .filter(|r| r.url.path() == format!("/v1_1/demo/{resource}/upload"))
        .map(|r| {
            String::from_utf8(crate::fake_cloudinary::multipart_fields(r)["public_id"].clone())
                .unwrap()
        })
        .collect()
}

/// Registers `username` on the server at `api` and logs in: answers the access token.
pub async fn signed_up_at(api: &str, username: &str) -> String {
    let client = reqwest::Client::new();
    let res = client
        .post(format!("{api}/users/register"))
        .multipart(crate::helpers::RegisterForm::new(username).into_form())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::CREATED);
    let login: serde_json::Value = client
        .post(format!("{api}/users/login"))
        .json(&serde_json::json!({ "username": username, "password": crate::helpers::PASSWORD }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    login["data"]["accessToken"].as_str().unwrap().to_owned()
}

/// The video once out of `processing` on the server at `api` (asked every 200 ms), within
/// `within`.
pub async fn settled_at(
    api: &str,
    token: &str,
    video_id: &str,
    within: Duration,
) -> serde_json::Value {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + within;
    loop {
        let body: serde_json::Value = client
            .get(format!("{api}/videos/{video_id}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if body["data"]["status"] != "processing" {
            return body["data"].clone();
        }
        assert!(Instant::now() < deadline, "the video never left processing");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_job_cut_short_by_a_crash_finishes_after_a_restart_with_one_copy_of_each_file() {
    use crate::fake_cloudinary::{API_KEY, SECRET};
    use crate::helpers::cloudinary_where_video_uploads_hang;

    // The first video upload hangs: the server is killed while its job is running.
    let cloudinary = cloudinary_where_video_uploads_hang(Duration::from_secs(60), Some(1)).await;

    let dirs = tempfile::tempdir().unwrap();
    let spool = dirs.path().join("spool");
    let vars = [
        ("MONGODB_URI", database_uri()),
        ("DB_NAME", format!("test_{}", uuid::Uuid::new_v4().simple())),
        ("MEDIA_DIR", dirs.path().join("media").display().to_string()),
        ("UPLOAD_TMP_DIR", spool.display().to_string()),
        (
            "CLOUDINARY_URL",
            format!("cloudinary://{API_KEY}:{SECRET}@demo"),
        ),
        ("APP_CLOUDINARY__API_BASE", cloudinary.uri()),
        ("APP_MEDIA__JOB_LEASE_SECONDS", "2".into()),
        ("APP_MEDIA__JOB_POLL_SECONDS", "1".into()),
        ("APP_AUTH__BCRYPT_COST", "4".into()),
    ];
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (mut first, port) = start_videotube(&vars, &dirs.path().join("first.log")).await;

    let api = format!("http://127.0.0.1:{port}/api/v1");
    let client = reqwest::Client::new();
    let token = signed_up_at(&api, "survivor").await;
    let form = crate::videos::video_form(
        ("clip.mp4", crate::samples::mp4(3_000)),
        crate::helpers::PNG.to_vec(),
    );
    let res = client
        .post(format!("{api}/videos"))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::ACCEPTED);
    let video: serde_json::Value = res.json().await.unwrap();
    let video_id = video["data"]["_id"].as_str().unwrap().to_owned();

    let deadline = Instant::now() + Duration::from_secs(20);
    while public_ids(&cloudinary.received_requests().await.unwrap(), "video").is_empty() {
        assert!(Instant::now() < deadline, "the job never started uploading");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first.kill().unwrap();
    first.wait().unwrap();

    let (mut second, port) = start_videotube(&vars, &dirs.path().join("second.log")).await;
    let api = format!("http://127.0.0.1:{port}/api/v1");
    let video = settled_at(&api, &token, &video_id, Duration::from_secs(30)).await;
    second.kill().unwrap();
    second.wait().unwrap();

    assert_eq!(video["status"], "ready", "{video}");
    let requests = cloudinary.received_requests().await.unwrap();
    let video_uploads = requests
        .iter()
        .filter(|r| r.url.path() == "/v1_1/demo/video/upload")
        .count();
    assert_eq!(video_uploads, 2, "the interrupted upload, then the retry");
    assert!(
        public_ids(&requests, "video").len() == 1,
        "the retry replaced the interrupted upload"
    );
    // One avatar and one thumbnail.
    assert_eq!(public_ids(&requests, "image").len(), 2);
    let mut leftovers: Vec<_> = walk(&spool);
    // The spool's name (`startup::spool_identity`) stays; it is not an upload.
    leftovers.retain(|path| !path.ends_with("jobs/.spool-id"));
    assert!(leftovers.is_empty(), "spool not cleaned: {leftovers:?}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
