use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{body_of, spawn_app, RegisterForm};

#[tokio::test]
async fn healthcheck_reports_the_database_up() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/healthcheck"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body = body_of(res).await;
    assert_eq!(body["data"]["database"], "up");
}

#[tokio::test]
async fn a_database_outage_is_a_503_envelope_and_the_app_recovers_without_a_restart() {
    let app = spawn_app().await;
    app.signed_up("outage").await;

    app.db_proxy.cut();
    let res = app
        .client
        .get(app.url("/healthcheck"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = body_of(res).await;
    assert_eq!(body["data"], serde_json::Value::Null);
    // Liveness does not depend on the database: nothing should restart the process for this.
    let res = app
        .client
        .get(app.url("/healthcheck/live"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .login_raw(json!({ "username": "outage", "password": "whatever1" }))
        .await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = body_of(res).await;
    assert_eq!(body["message"], "Service temporarily unavailable");
    let res = app.register(RegisterForm::new("during_outage")).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(app.spool_files().is_empty());

    app.db_proxy.restore().await;
    let mut status = StatusCode::SERVICE_UNAVAILABLE;
    for _ in 0..40 {
        status = app
            .client
            .get(app.url("/healthcheck"))
            .send()
            .await
            .unwrap()
            .status();
        if status == StatusCode::OK {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(status, StatusCode::OK);
    app.login("outage").await;
}

#[tokio::test]
async fn the_app_starts_again_on_an_existing_database() {
    let db_name = format!("test_{}", uuid::Uuid::new_v4().simple());
    let first = crate::helpers::spawn_app_with(&[("DB_NAME", &db_name)]).await;
    first.signed_up("returning").await;
    // Index creation on start-up must accept indexes that already exist.
    let second = crate::helpers::spawn_app_with(&[("DB_NAME", &db_name)]).await;
    second.login("returning").await;
}
