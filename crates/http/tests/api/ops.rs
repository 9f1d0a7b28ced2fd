//! Running it as a service (issue 16): log lines a shipper can read, client addresses behind a
//! proxy, metrics, several instances of the binary on one database.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::fake_cloudinary::{API_KEY, SECRET};
use crate::faults::Server;
use crate::helpers::{cloudinary_where_video_uploads_hang, database_uri, spawn_app_with, PASSWORD};

/// With `APP_LOG_FORMAT=json` every line is a JSON object, and each request has one line with
/// its id, route pattern, status, latency, client address and user; no token is ever logged.
#[tokio::test]
async fn json_logs_give_each_request_a_line_a_shipper_can_read() {
    let server = Server::start(&database_uri(), &[("APP_LOG_FORMAT", "json".into())]).await;
    let (token, user_id) = server.signed_up(&reqwest::Client::new(), "logged").await;
    let res = reqwest::Client::new()
        .get(format!("{}/users/current-user", server.api))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let request_id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(200)).await;

    let log = server.log();
    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let request = lines
        .iter()
        .filter(|line| line["fields"]["message"] == "request finished")
        .map(|line| &line["spans"][0])
        .find(|span| span["request_id"] == request_id.as_str())
        .unwrap_or_else(|| panic!("no line for request {request_id}: {log}"));
    assert_eq!(request["route"], "/api/v1/users/current-user");
    assert_eq!(request["method"], "GET");
    assert_eq!(request["status"], 200);
    assert!(request["latency_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(request["client_ip"], "127.0.0.1");
    assert_eq!(request["user_id"], user_id.as_str());
    assert!(!log.contains(&token), "a token was logged");
    assert!(!log.contains(PASSWORD), "a password was logged");
}

/// Text logs written to a file carry no colour codes.
#[tokio::test]
async fn text_logs_in_a_file_have_no_colour_codes() {
    let server = Server::start(&database_uri(), &[("APP_LOG_FORMAT", "pretty".into())]).await;
    server.signed_up(&reqwest::Client::new(), "plain").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let log = server.log();
    assert!(log.contains("request finished"), "{log}");
    assert!(!log.contains('\u{1b}'), "{log}");
}

/// Behind a trusted proxy each client has its own login budget, named by the address the proxy
/// forwarded for; from an untrusted peer `X-Forwarded-For` changes nothing.
#[tokio::test]
async fn a_trusted_proxys_clients_get_their_own_budgets_and_others_cannot_spoof_one() {
    let limits = [
        ("APP_AUTH__LOGIN_PER_IP__BURST", "3"),
        ("APP_AUTH__LOGIN_PER_IP__REFILL_SECONDS", "3600"),
    ];
    let attempt = |app: &crate::helpers::TestApp, n: usize, client: &str| {
        let request = app
            .client
            .post(app.url("/users/login"))
            .header("x-forwarded-for", format!("203.0.113.99, {client}"))
            .json(&json!({ "username": format!("nobody{n}"), "password": "wrong password" }));
        async move { request.send().await.unwrap().status() }
    };

    let behind_proxy = spawn_app_with(&[
        limits[0],
        limits[1],
        ("APP_APPLICATION__TRUSTED_PROXIES", "127.0.0.1"),
    ])
    .await;
    for n in 0..3 {
        assert_eq!(
            attempt(&behind_proxy, n, "198.51.100.1").await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        attempt(&behind_proxy, 3, "198.51.100.1").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        attempt(&behind_proxy, 4, "198.51.100.2").await,
        StatusCode::UNAUTHORIZED,
        "another client of the proxy has a budget of its own"
    );

    let direct = spawn_app_with(&limits).await;
    for n in 0..3 {
        let client = format!("198.51.100.{}", 10 + n);
        assert_eq!(attempt(&direct, n, &client).await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        attempt(&direct, 3, "198.51.100.50").await,
        StatusCode::TOO_MANY_REQUESTS,
        "a header from an untrusted peer names no one"
    );
}

/// The sum of the samples of `name` whose labels include all of `labels`, in a Prometheus text
/// exposition; 0 when there are none.
fn sample(exposition: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    exposition
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let rest = series.strip_prefix(name)?;
            let matches = (rest.is_empty() || rest.starts_with('{'))
                && labels
                    .iter()
                    .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")));
            matches.then(|| value.parse::<f64>().ok()).flatten()
        })
        .sum()
}

/// `/metrics` is served on its own address, never on the API's port, and its series move with
/// the traffic: requests by route pattern, database operations, password hashing, throttles,
/// the job queue.
#[tokio::test]
async fn metrics_are_scraped_apart_from_the_api_and_move_with_traffic() {
    let app = spawn_app_with(&[
        ("APP_AUTH__LOGIN_PER_IP__BURST", "2"),
        ("APP_AUTH__LOGIN_PER_IP__REFILL_SECONDS", "3600"),
    ])
    .await;
    let metrics = format!("{}/metrics", app.metrics_address.as_deref().unwrap());
    let scrape = || {
        let request = app.client.get(&metrics);
        async move {
            let res = request.send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            assert!(res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain"));
            res.text().await.unwrap()
        }
    };
    let before = scrape().await;
    let videos = [("route", "/api/v1/videos"), ("status", "200")];
    let owner = app.signed_up("metered").await;
    for _ in 0..3 {
        let res = app.client.get(app.url("/videos")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    let video = crate::videos::publish(
        &app,
        &owner,
        crate::videos::video_form(
            ("clip.mp4", crate::samples::mp4(1_000)),
            crate::helpers::PNG.to_vec(),
        ),
    )
    .await;
    assert_eq!(video.status(), StatusCode::ACCEPTED);
    for _ in 0..3 {
        app.login_raw(json!({ "username": "metered", "password": "wrong password" }))
            .await;
    }
    let after = scrape().await;

    let moved = |name: &str, labels: &[(&str, &str)]| {
        sample(&after, name, labels) - sample(&before, name, labels)
    };
    assert!(moved("http_requests_total", &videos) >= 3.0, "{after}");
    assert!(moved("http_request_duration_seconds_count", &videos) >= 3.0);
    // (Labelled by the repository call's span, `videos.search`, where spans are on: in the
    // binary, not in this test process, which installs no subscriber.)
    assert!(moved("db_operation_duration_seconds_count", &[]) >= 3.0);
    assert!(moved("throttle_rejections_total", &[("throttle", "login_per_ip")]) >= 1.0);
    assert!(after.contains("password_hashes_waiting"));
    assert!(after.contains("password_hashes_running"));
    assert!(
        sample(&after, "media_jobs_queued", &[]) >= 1.0,
        "the job just queued"
    );
    assert!(after.contains("media_jobs_oldest_due_seconds"));

    // Not on the API's port.
    for path in ["/metrics", "/api/v1/metrics"] {
        let res = app
            .client
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let off = spawn_app_with(&[("APP_METRICS__ADDRESS", "")]).await;
    assert!(off.metrics_address.is_none());
}

/// Publishes a small video through `server`; answers its id.
async fn publish_through(server: &Server, client: &reqwest::Client, token: &str) -> String {
    let form = crate::videos::video_form(
        ("clip.mp4", crate::samples::mp4(1_000)),
        crate::helpers::PNG.to_vec(),
    );
    let res = client
        .post(format!("{}/videos", server.api))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let accepted: Value = res.json().await.unwrap();
    accepted["data"]["_id"].as_str().unwrap().to_owned()
}

/// A video's `status` as its owner sees it through `server`.
async fn status_of(server: &Server, client: &reqwest::Client, token: &str, video: &str) -> String {
    let body: Value = client
        .get(format!("{}/videos/{video}", server.api))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["data"]["status"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Waits until the video is ready; fails if its job ends otherwise or takes over `within`.
async fn wait_until_ready(
    server: &Server,
    client: &reqwest::Client,
    token: &str,
    video: &str,
    within: Duration,
) {
    let deadline = Instant::now() + within;
    loop {
        match status_of(server, client, token, video).await.as_str() {
            "ready" => return,
            "processing" => {}
            other => panic!("the job ended {other}"),
        }
        assert!(Instant::now() < deadline, "never stored");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Start-up removes the spool files a crash left, but not those another instance sharing the
/// directory is writing now.
#[tokio::test]
async fn start_up_removes_only_abandoned_spool_files() {
    let spool = tempfile::tempdir().unwrap();
    let file = |name: &str, age: Duration| {
        let path = spool.path().join(name);
        let file = std::fs::File::create(&path).unwrap();
        file.set_modified(std::time::SystemTime::now() - age)
            .unwrap();
        path
    };
    let abandoned = file("videotube-upload-crashed", Duration::from_secs(2 * 3600));
    let in_flight = file("videotube-upload-arriving", Duration::from_secs(5));
    let foreign = file("notes.txt", Duration::from_secs(2 * 3600));
    let _app = spawn_app_with(&[("UPLOAD_TMP_DIR", spool.path().to_str().unwrap())]).await;
    assert!(!abandoned.exists());
    assert!(in_flight.exists(), "another instance's upload in flight");
    assert!(foreign.exists());
}

/// `APP_MEDIA__WORKER=false` runs an API-only instance: what it accepts is stored by an
/// instance with a worker on the same database (sharing the spool directory).
#[tokio::test]
async fn an_api_only_instance_leaves_jobs_to_one_with_a_worker() {
    let spool = tempfile::tempdir().unwrap();
    let db_name = format!("test_{}", uuid::Uuid::new_v4().simple());
    let shared = |worker: &str| {
        vec![
            ("DB_NAME", db_name.clone()),
            ("UPLOAD_TMP_DIR", spool.path().display().to_string()),
            ("APP_MEDIA__JOB_POLL_SECONDS", "1".to_owned()),
            ("APP_MEDIA__WORKER", worker.to_owned()),
        ]
    };
    let api_only = Server::start(&database_uri(), &shared("false")).await;
    let client = reqwest::Client::new();
    let (token, _) = api_only.signed_up(&client, "uploader").await;
    let video = publish_through(&api_only, &client, &token).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        status_of(&api_only, &client, &token, &video).await,
        "processing",
        "no worker has run"
    );

    let _worker = Server::start(&database_uri(), &shared("true")).await;
    wait_until_ready(&api_only, &client, &token, &video, Duration::from_secs(30)).await;
    assert!(api_only.log().contains("APP_MEDIA__WORKER=false"));
}

/// Throttle budgets live in the database: an account's login budget is the same whether one
/// instance serves the attempts or several take turns, and a restart does not refill it.
#[tokio::test]
async fn an_accounts_login_budget_is_shared_by_every_instance_and_survives_a_restart() {
    let db_name = format!("test_{}", uuid::Uuid::new_v4().simple());
    let vars = [
        ("DB_NAME", db_name.as_str()),
        ("APP_AUTH__LOGIN_PER_ACCOUNT__BURST", "4"),
        ("APP_AUTH__LOGIN_PER_ACCOUNT__REFILL_SECONDS", "3600"),
    ];
    let (first, second) = (spawn_app_with(&vars).await, spawn_app_with(&vars).await);
    first.signed_up("shared").await;
    async fn attempt(app: &crate::helpers::TestApp) -> StatusCode {
        app.login_raw(json!({ "username": "shared", "password": "wrong password" }))
            .await
            .status()
    }
    // signed_up logged in once: three wrong attempts remain, whichever instance gets them.
    for app in [&second, &first, &second] {
        assert_eq!(attempt(app).await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(attempt(&first).await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(attempt(&second).await, StatusCode::TOO_MANY_REQUESTS);
    let restarted = spawn_app_with(&vars).await;
    assert_eq!(attempt(&restarted).await, StatusCode::TOO_MANY_REQUESTS);
}

/// A worker never takes a job whose files are in another instance's spool: a job published
/// through an instance is left to workers that share its spool directory.
#[tokio::test]
async fn a_job_is_only_claimed_by_a_worker_that_can_read_its_files() {
    let (own_spool, other_spool) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let db_name = format!("test_{}", uuid::Uuid::new_v4().simple());
    let instance = |spool: &tempfile::TempDir, worker: &str| {
        vec![
            ("DB_NAME", db_name.clone()),
            ("UPLOAD_TMP_DIR", spool.path().display().to_string()),
            ("APP_MEDIA__JOB_POLL_SECONDS", "1".to_owned()),
            ("APP_MEDIA__WORKER", worker.to_owned()),
        ]
    };
    let publisher = Server::start(&database_uri(), &instance(&own_spool, "false")).await;
    let _elsewhere = Server::start(&database_uri(), &instance(&other_spool, "true")).await;
    let client = reqwest::Client::new();
    let (token, _) = publisher.signed_up(&client, "publisher").await;
    let video = publish_through(&publisher, &client, &token).await;
    // (On one machine that worker could even read the files by their path, and stored them
    // before this rule; on another it could not, and the job failed.)
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        status_of(&publisher, &client, &token, &video).await,
        "processing",
        "the other spool's worker left it"
    );

    let _sharing = Server::start(&database_uri(), &instance(&own_spool, "true")).await;
    wait_until_ready(&publisher, &client, &token, &video, Duration::from_secs(30)).await;
}

/// The lines of `log` holding `message` and the field `key=value`.
fn log_lines<'a>(log: &'a str, message: &str, key: &str, value: &str) -> Vec<&'a str> {
    let field = format!("{key}={value}");
    log.lines()
        .filter(|line| line.contains(message) && line.contains(&field))
        .collect()
}

/// Two instances of the binary on one database, sharing the spool directory and the media store
/// as the README's deployment guide sets them up: ten videos published through both are each
/// stored exactly once, and the job of an instance killed while storing is finished by the
/// other once the lease runs out.
#[tokio::test]
async fn two_instances_store_each_video_once_and_finish_a_killed_ones_job() {
    // The first video to reach the store hangs there: its instance is killed holding the job.
    let cloudinary = cloudinary_where_video_uploads_hang(Duration::from_secs(300), Some(1)).await;
    let spool = tempfile::tempdir().unwrap();
    let lease = Duration::from_secs(4);
    let vars = vec![
        ("DB_NAME", format!("test_{}", uuid::Uuid::new_v4().simple())),
        ("UPLOAD_TMP_DIR", spool.path().display().to_string()),
        (
            "CLOUDINARY_URL",
            format!("cloudinary://{API_KEY}:{SECRET}@demo"),
        ),
        ("APP_CLOUDINARY__API_BASE", cloudinary.uri()),
        ("APP_MEDIA__JOB_POLL_SECONDS", "1".into()),
        ("APP_MEDIA__JOB_LEASE_SECONDS", lease.as_secs().to_string()),
    ];
    let mut instances = vec![
        Server::start(&database_uri(), &vars).await,
        Server::start(&database_uri(), &vars).await,
    ];
    let client = reqwest::Client::new();
    let (token, _) = instances[0].signed_up(&client, "busy").await;
    let mut videos = Vec::new();
    for turn in 0..10 {
        videos.push(publish_through(&instances[turn % 2], &client, &token).await);
    }

    // Nine are stored while one instance hangs on the tenth.
    let deadline = Instant::now() + Duration::from_secs(60);
    let hanging = loop {
        let mut processing = Vec::new();
        for video in &videos {
            match status_of(&instances[0], &client, &token, video)
                .await
                .as_str()
            {
                "ready" => {}
                "processing" => processing.push(video.clone()),
                other => panic!("a job ended {other}"),
            }
        }
        if processing.len() == 1 {
            break processing.remove(0);
        }
        assert!(
            Instant::now() < deadline,
            "still processing: {processing:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let holder = instances
        .iter()
        .position(|server| !log_lines(&server.log(), "job claimed", "video", &hanging).is_empty())
        .expect("an instance claimed the hanging job");
    let killed_log = instances.remove(holder).kill();
    let killed_at = Instant::now();
    let survivor = &instances[0];
    wait_until_ready(survivor, &client, &token, &hanging, Duration::from_secs(30)).await;
    assert!(
        killed_at.elapsed() < lease + Duration::from_secs(10),
        "taken over after {:?}",
        killed_at.elapsed()
    );

    let survivor_log = survivor.log();
    assert_eq!(
        log_lines(&survivor_log, "job claimed", "video", &hanging).len(),
        1,
        "{survivor_log}"
    );
    for video in &videos {
        let stored = log_lines(&killed_log, "video ready", "video", video).len()
            + log_lines(&survivor_log, "video ready", "video", video).len();
        assert_eq!(stored, 1, "{video}\n{killed_log}\n{survivor_log}");
    }
}

/// What one instance learns, the other knows: a logout through one is refused by the other
/// within the session recheck window, and an account's login budget is the same over two
/// instances as on one.
#[tokio::test]
async fn two_instances_agree_on_logouts_and_login_budgets() {
    let recheck = Duration::from_secs(2);
    let vars = vec![
        ("DB_NAME", format!("test_{}", uuid::Uuid::new_v4().simple())),
        (
            "APP_AUTH__SESSION_RECHECK_SECONDS",
            recheck.as_secs().to_string(),
        ),
        ("APP_AUTH__LOGIN_PER_ACCOUNT__BURST", "4".into()),
        ("APP_AUTH__LOGIN_PER_ACCOUNT__REFILL_SECONDS", "3600".into()),
    ];
    let (a, b) = (
        Server::start(&database_uri(), &vars).await,
        Server::start(&database_uri(), &vars).await,
    );
    let client = reqwest::Client::new();
    let (token, _) = a.signed_up(&client, "roamer").await;
    let current_user = |server: &Server| {
        client
            .get(format!("{}/users/current-user", server.api))
            .bearer_auth(&token)
            .send()
    };
    // b has seen the session live, so it trusts it until its next recheck.
    assert_eq!(current_user(&b).await.unwrap().status(), StatusCode::OK);
    let res = client
        .post(format!("{}/users/logout", a.api))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let logged_out = Instant::now();
    assert_eq!(
        current_user(&a).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    while current_user(&b).await.unwrap().status() != StatusCode::UNAUTHORIZED {
        assert!(
            logged_out.elapsed() < recheck + Duration::from_secs(1),
            "b still serves a session logged out {:?} ago",
            logged_out.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let attempt = |server: &Server| {
        client
            .post(format!("{}/users/login", server.api))
            .json(&json!({ "username": "roamer", "password": "wrong password" }))
            .send()
    };
    // signed_up logged in once: three wrong attempts remain, whichever instance gets them.
    for server in [&b, &a, &b] {
        assert_eq!(
            attempt(server).await.unwrap().status(),
            StatusCode::UNAUTHORIZED
        );
    }
    for server in [&a, &b] {
        assert_eq!(
            attempt(server).await.unwrap().status(),
            StatusCode::TOO_MANY_REQUESTS
        );
    }
}
