use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{body_of, spawn_app, spawn_app_with};

#[tokio::test]
async fn original_defect_unknown_routes_answer_a_json_404_not_html() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/no/such/route"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let body = body_of(res).await;
    assert_eq!(body["message"], "Route not found");

    let res = app
        .client
        .get(format!("{}/not-api", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(body_of(res).await["statusCode"], 404);
}

#[tokio::test]
async fn a_wrong_method_is_a_405_envelope() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/users/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    body_of(res).await;
}

#[tokio::test]
async fn malformed_json_is_a_400_envelope() {
    let app = spawn_app().await;
    for body in ["{\"username\": ", "[1, 2]", "\"text\"", ""] {
        let res = app
            .client
            .post(app.url("/users/login"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body:?}");
        body_of(res).await;
    }
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_415_envelope() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(app.url("/users/login"))
        .header("content-type", "text/plain")
        .body("username=a&password=b")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    body_of(res).await;
}

#[tokio::test]
async fn a_json_body_over_the_limit_is_a_413_envelope() {
    let app = spawn_app().await;
    let huge = "x".repeat(70 * 1024);
    let res = app
        .post_json("/users/login", json!({ "username": huge, "password": "p" }))
        .await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    body_of(res).await;
}

#[tokio::test]
async fn cors_allows_credentials_for_listed_origins_only() {
    let app = spawn_app_with(&[("CORS_ORIGIN", "https://app.example")]).await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/users/login"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let res = preflight("https://app.example").await.unwrap();
    assert!(res.status().is_success());
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    assert_eq!(res.headers()["access-control-allow-credentials"], "true");

    let res = preflight("https://evil.example").await.unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
    assert!(res.status().is_client_error());
    body_of(res).await;
}

#[tokio::test]
async fn original_defect_cors_wildcard_never_comes_with_credentials() {
    let app = spawn_app_with(&[("CORS_ORIGIN", "*")]).await;
    let res = app
        .client
        .get(app.url("/healthcheck"))
        .header("origin", "https://anywhere.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
    assert!(res
        .headers()
        .get("access-control-allow-credentials")
        .is_none());
}
