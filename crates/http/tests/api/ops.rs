//! Running it as a service (issue 16): log lines a shipper can read, client addresses behind a
//! proxy.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::faults::Server;
use crate::helpers::{database_uri, spawn_app_with, PASSWORD};

/// Registers and logs in `username` on the real binary; answers the access token and user id.
async fn sign_up(server: &Server, username: &str) -> (String, String) {
    let client = reqwest::Client::new();
    let form = crate::helpers::RegisterForm::new(username).into_form();
    let res = client
        .post(format!("{}/users/register", server.api))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let login: Value = client
        .post(format!("{}/users/login", server.api))
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

/// With `APP_LOG_FORMAT=json` every line is a JSON object, and each request has one line with
/// its id, route pattern, status, latency, client address and user; no token is ever logged.
#[tokio::test]
async fn json_logs_give_each_request_a_line_a_shipper_can_read() {
    let server = Server::start(&database_uri(), &[("APP_LOG_FORMAT", "json".into())]).await;
    let (token, user_id) = sign_up(&server, "logged").await;
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
    sign_up(&server, "plain").await;
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
