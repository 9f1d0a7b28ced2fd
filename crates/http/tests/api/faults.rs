//! Breaking what the server depends on while it works: the database under a write load, the
//! media store (errors, hangs, resets), and SIGTERM in the middle of requests and a job. The
//! database and SIGTERM cases run the real `videotube` binary.

use std::process::Child;
use std::time::{Duration, Instant};

use futures_util::TryStreamExt;
use reqwest::StatusCode;
use serde_json::{json, Value};
use videotube_infra::mongo::bson::{doc, Document};
use videotube_infra::mongo::{self, Database};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::binary::{start_videotube, wait_for_exit, wait_until_healthy};
use crate::fake_cloudinary::{FakeUpload, API_KEY, SECRET};
use crate::helpers::{
    body_of, cloudinary_where_video_uploads_hang, database_uri, spawn_app_on_cloudinary,
    spawn_app_with, upstream_address, RegisterForm, TcpProxy, PASSWORD, PNG,
};
use crate::samples;
use crate::videos::{publish, video_form};

/// The binary on a free port with its own database, media and spool directories.
pub struct Server {
    child: Child,
    pub port: u16,
    pub api: String,
    db: Database,
    dirs: tempfile::TempDir,
}

impl Server {
    pub async fn start(database: &str, vars: &[(&str, String)]) -> Server {
        let dirs = tempfile::tempdir().unwrap();
        let db_name = format!("test_{}", uuid::Uuid::new_v4().simple());
        let mut all = vec![
            ("MONGODB_URI", database.to_owned()),
            ("DB_NAME", db_name.clone()),
            ("MEDIA_DIR", dirs.path().join("media").display().to_string()),
            (
                "UPLOAD_TMP_DIR",
                dirs.path().join("spool").display().to_string(),
            ),
            ("APP_AUTH__BCRYPT_COST", "4".into()),
        ];
        all.extend(vars.iter().map(|(k, v)| (*k, v.clone())));
        let all: Vec<(&str, &str)> = all.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (child, port) = start_videotube(&all, &dirs.path().join("server.log")).await;
        Server {
            child,
            port,
            api: format!("http://127.0.0.1:{port}/api/v1"),
            db: mongo::connect(&database_uri(), &db_name, Duration::from_secs(5))
                .await
                .unwrap(),
            dirs,
        }
    }

    /// Everything the server logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dirs.path().join("server.log")).unwrap()
    }

    /// Files left in the upload spool.
    pub fn spool_files(&self) -> Vec<std::path::PathBuf> {
        std::fs::read_dir(self.dirs.path().join("spool"))
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| p.is_file())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Registers and logs in `username`; answers the access token and the user's id.
    pub async fn signed_up(&self, client: &reqwest::Client, username: &str) -> (String, String) {
        let form = RegisterForm::new(username).into_form();
        let res = client
            .post(format!("{}/users/register", self.api))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let login: Value = client
            .post(format!("{}/users/login", self.api))
            .json(&json!({ "username": username, "password": PASSWORD }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let data = &login["data"];
        (
            data["accessToken"].as_str().unwrap().to_owned(),
            data["user"]["_id"].as_str().unwrap().to_owned(),
        )
    }

    /// Sends SIGTERM and answers the exit status and everything the server logged.
    pub fn terminate(self, within: Duration) -> (std::process::ExitStatus, String) {
        self.send_sigterm();
        self.exit(within)
    }

    pub fn send_sigterm(&self) {
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    /// Kills the server at once (SIGKILL: it gives nothing back); answers everything it logged.
    pub fn kill(mut self) -> String {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.log()
    }

    /// Waits for the server to exit; answers its status and everything it logged.
    pub fn exit(mut self, within: Duration) -> (std::process::ExitStatus, String) {
        let status = wait_for_exit(&mut self.child, within);
        let log = std::fs::read_to_string(self.dirs.path().join("server.log")).unwrap();
        (status, log)
    }
}

/// A server a test did not stop is killed, not left running.
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn a_database_outage_under_writes_answers_503_and_loses_no_acknowledged_write() {
    let proxy = TcpProxy::start(upstream_address(&database_uri())).await;
    let through_proxy = format!("mongodb://127.0.0.1:{}/?directConnection=true", proxy.port);
    let server = Server::start(
        &through_proxy,
        &[("APP_DATABASE__TIMEOUT_SECONDS", "1".into())],
    )
    .await;
    let client = reqwest::Client::new();
    let (token, _) = server.signed_up(&client, "writer").await;

    let started = Instant::now();
    let writers: Vec<_> = (0..6)
        .map(|writer| {
            let (client, api, token) = (client.clone(), server.api.clone(), token.clone());
            tokio::spawn(async move {
                let mut answers = Vec::new();
                let mut i = 0;
                while started.elapsed() < Duration::from_secs(5) {
                    let content = format!("tweet {writer}-{i}");
                    i += 1;
                    let res = client
                        .post(format!("{api}/tweets"))
                        .bearer_auth(&token)
                        .json(&json!({ "content": content }))
                        .send()
                        .await
                        .unwrap();
                    let status = res.status();
                    let body: Value = res.json().await.expect("every answer is JSON");
                    assert_eq!(body["statusCode"], status.as_u16(), "{body}");
                    answers.push((content, status));
                }
                answers
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_millis(1200)).await;
    proxy.cut();
    let res = client
        .get(format!("{}/healthcheck", server.api))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    body_of(res).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    proxy.restore().await;

    let mut acknowledged = Vec::new();
    let mut refused = 0;
    for writer in writers {
        for (content, status) in writer.await.unwrap() {
            match status {
                StatusCode::CREATED => acknowledged.push(content),
                StatusCode::SERVICE_UNAVAILABLE => refused += 1,
                other => panic!("{content}: answered {other}"),
            }
        }
    }
    assert!(refused > 0, "the outage was felt");
    assert!(!acknowledged.is_empty());

    wait_until_healthy(server.port).await;
    let stored: Vec<String> = server
        .db
        .collection::<Document>("tweets")
        .find(doc! {})
        .await
        .unwrap()
        .try_collect::<Vec<Document>>()
        .await
        .unwrap()
        .iter()
        .map(|d| d.get_str("content").unwrap().to_owned())
        .collect();
    let missing: Vec<_> = acknowledged
        .iter()
        .filter(|c| !stored.contains(c))
        .collect();
    assert!(
        missing.is_empty(),
        "acknowledged but not stored: {missing:?}"
    );

    let (status, log) = server.terminate(Duration::from_secs(20));
    assert!(status.success(), "{log}");
    assert!(!log.contains("panicked"), "{log}");
    // The log says which repository operation the outage broke: its line carries the span of
    // the call (`<collection>.<method>`) inside the service's.
    let located = log
        .lines()
        .filter(|line| line.contains("database unavailable"))
        .any(|line| {
            ["tweets.insert", "sessions.find"]
                .iter()
                .any(|op| line.contains(op))
        });
    assert!(located, "{log}");
    // And so does the request's own 5xx line, through the error's cause chain, which needs no
    // span to be shown.
    let named = log
        .lines()
        .filter(|line| line.contains("request failed"))
        .any(|line| {
            ["tweets.insert failed", "sessions.find failed"]
                .iter()
                .any(|op| line.contains(op))
        });
    assert!(named, "{log}");
}

#[tokio::test]
async fn sigterm_under_load_finishes_requests_and_gives_the_running_job_back() {
    let cloudinary = cloudinary_where_video_uploads_hang(Duration::from_secs(120), None).await;
    let server = Server::start(
        &database_uri(),
        &[
            (
                "CLOUDINARY_URL",
                format!("cloudinary://{API_KEY}:{SECRET}@demo"),
            ),
            ("APP_CLOUDINARY__API_BASE", cloudinary.uri()),
            ("APP_CLOUDINARY__TIMEOUT_SECONDS", "300".into()),
            ("APP_APPLICATION__SHUTDOWN_TIMEOUT_SECONDS", "6".into()),
            ("APP_AUTH__BCRYPT_COST", "11".into()),
        ],
    )
    .await;
    let client = reqwest::Client::new();
    let (token, _) = server.signed_up(&client, "stopper").await;
    let form = video_form(("clip.mp4", samples::mp4(2_000)), PNG.to_vec());
    let res = client
        .post(format!("{}/videos", server.api))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let claims = server.db.collection::<Document>("media_job_claims");
    let deadline = Instant::now() + Duration::from_secs(10);
    while claims.count_documents(doc! {}).await.unwrap() == 0 {
        assert!(Instant::now() < deadline, "the job was never claimed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Logins at bcrypt cost 11 keep the server busy for about a second (three on a busy machine,
    // within the 6 s the shutdown allows); they are given 250 ms to arrive (100 ms was not always
    // enough on a busy machine, and one arriving after the signal is refused, rightly), then the
    // server is stopped under them.
    let in_flight: Vec<_> = (0..8)
        .map(|_| {
            let (client, api) = (client.clone(), server.api.clone());
            tokio::spawn(async move {
                client
                    .post(format!("{api}/users/login"))
                    .json(&json!({ "username": "stopper", "password": PASSWORD }))
                    .send()
                    .await
                    .map(|res| res.status())
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(250)).await;
    let stopping = Instant::now();
    let db = server.db.clone();
    let (status, log) = server.terminate(Duration::from_secs(15));
    assert!(status.success(), "{log}");
    assert!(
        stopping.elapsed() < Duration::from_secs(12),
        "{:?}",
        stopping.elapsed()
    );
    for request in in_flight {
        let answer = request.await.unwrap();
        assert!(
            matches!(answer, Ok(StatusCode::OK)),
            "{answer:?} after {:?}\n{log}",
            stopping.elapsed()
        );
    }
    assert!(log.contains("giving the unfinished job back"), "{log}");
    let job = db
        .collection::<Document>("media_jobs")
        .find_one(doc! {})
        .await
        .unwrap()
        .expect("the job is still queued");
    let lease_until = job.get_datetime("leaseUntil").unwrap().to_chrono();
    assert!(
        lease_until <= chrono::Utc::now(),
        "the lease was given back"
    );
    assert_eq!(
        job.get_i32("attempts").unwrap(),
        0,
        "the attempt is not counted"
    );
}

/// A listener that accepts connections and resets them at once.
async fn resetting_listener() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            // Linger 0: dropping sends a reset at once (the deprecation is about blocking drops,
            // which a zero linger does not do).
            #[allow(deprecated)]
            let _ = socket.set_linger(Some(Duration::ZERO));
            drop(socket);
        }
    });
    address
}

#[tokio::test]
async fn a_media_store_that_hangs_or_resets_fails_jobs_with_a_reason_and_requests_in_bounded_time()
{
    let hanging = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(60)))
        .mount(&hanging)
        .await;
    let resetting = resetting_listener().await;
    for (what, api_base) in [("hanging", hanging.uri()), ("resetting", resetting)] {
        // Registration stores the avatar on the fake; the store is broken only afterwards.
        let working = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(FakeUpload::default())
            .mount(&working)
            .await;
        let db_name = format!("test_{}", uuid::Uuid::new_v4().simple());
        let app = spawn_app_on_cloudinary(&working, &[("DB_NAME", &db_name)]).await;
        let login = app.signed_up(&format!("{what}_store")).await;
        // The same database, served by an app whose media store is broken.
        let url = format!("cloudinary://{API_KEY}:{SECRET}@demo");
        let broken = spawn_app_with(&[
            ("DB_NAME", &db_name),
            ("CLOUDINARY_URL", &url),
            ("APP_CLOUDINARY__API_BASE", &api_base),
            ("APP_CLOUDINARY__TIMEOUT_SECONDS", "1"),
            ("APP_CLOUDINARY__MAX_ATTEMPTS", "2"),
            ("APP_MEDIA__JOB_MAX_ATTEMPTS", "2"),
            ("APP_MEDIA__JOB_BACKOFF_SECONDS", "0"),
        ])
        .await;

        let started = Instant::now();
        let res = broken
            .client
            .patch(broken.url("/users/avatar"))
            .bearer_auth(&login.access)
            .multipart(crate::helpers::image_form("avatar", "a.png", PNG.to_vec()))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_server_error(), "{what}: {}", res.status());
        body_of(res).await;
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "{what}: {:?}",
            started.elapsed()
        );

        let accepted = publish(
            &broken,
            &login,
            video_form(("clip.mp4", samples::mp4(1_000)), PNG.to_vec()),
        )
        .await;
        assert_eq!(accepted.status(), StatusCode::ACCEPTED);
        let id = body_of(accepted).await["data"]["_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let started = Instant::now();
        broken.run_jobs().await;
        // Two attempts, each two requests bounded by the 1 s timeout.
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{what}: {:?}",
            started.elapsed()
        );
        let video = body_of(
            broken
                .get_authed(&format!("/videos/{id}"), &login.access)
                .await,
        )
        .await["data"]
            .clone();
        assert_eq!(video["status"], "failed", "{what}");
        assert!(video["failureReason"]
            .as_str()
            .unwrap()
            .contains("attempts"));
        // The spooled files go once the outcome is recorded.
        assert!(
            broken.spool_files().is_empty(),
            "{what}: {:?}",
            broken.spool_files()
        );
    }
}

/// On SIGTERM readiness fails at once, so that a load balancer stops sending traffic, while
/// requests are still served for the drain delay; liveness holds throughout; then it stops.
#[tokio::test]
async fn on_sigterm_readiness_fails_first_while_requests_are_still_served() {
    let server = Server::start(
        &database_uri(),
        &[("APP_APPLICATION__DRAIN_DELAY_SECONDS", "2".into())],
    )
    .await;
    let client = reqwest::Client::new();
    let status = |path: &str| {
        let request = client.get(format!("{}{path}", server.api));
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(status("/healthcheck").await, 200);
    let signalled = std::time::Instant::now();
    server.send_sigterm();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(status("/healthcheck").await, 503);
    assert_eq!(status("/healthcheck/live").await, 200);
    assert_eq!(
        status("/videos").await,
        200,
        "still serving during the delay"
    );
    assert!(signalled.elapsed() < Duration::from_secs(2));
    let (exit, log) = server.exit(Duration::from_secs(15));
    assert!(exit.success(), "{log}");
    assert!(
        signalled.elapsed() >= Duration::from_secs(2),
        "the delay was kept"
    );
}
