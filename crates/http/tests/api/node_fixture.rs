//! A database as the Node backend leaves it, built with its own Mongoose models
//! (`scripts/node-fixture`): the server starts on it as it is and serves its users, videos,
//! comments, tweets and subscriptions. (Likes, playlists and watch histories wait for
//! `videotube migrate`, issue 13.)

use std::process::Command;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{body_of, database_uri, spawn_app_with, TestApp};

/// Builds the fixture in a fresh database; answers its name and what the script wrote.
fn node_fixture(objects: bool) -> (String, Value) {
    let db = format!("test_{}", uuid::Uuid::new_v4().simple());
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/node-fixture/build"
    );
    let mut command = Command::new(script);
    command
        .env("MONGODB_URI", database_uri())
        .env("DB_NAME", &db);
    if objects {
        command.arg("--objects");
    }
    let output = command.output().expect("scripts/node-fixture/build runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    (db, serde_json::from_slice(&output.stdout).unwrap())
}

async fn login(app: &TestApp, body: Value) -> Value {
    let res = app.login_raw(body.clone()).await;
    assert_eq!(res.status(), StatusCode::OK, "{body}");
    body_of(res).await["data"].clone()
}

#[tokio::test]
async fn the_server_starts_on_the_node_backends_database_and_serves_its_data() {
    for objects in [false, true] {
        let (db, fixture) = node_fixture(objects);
        let app = spawn_app_with(&[("DB_NAME", &db)]).await;
        let password = fixture["password"].as_str().unwrap();
        let ada = fixture["users"]["ada"].as_str().unwrap();
        let bob = fixture["users"]["bob"].as_str().unwrap();

        let by_name = login(
            &app,
            json!({ "username": "legacy-user", "password": password }),
        )
        .await;
        assert_eq!(by_name["user"]["_id"], ada);
        assert_eq!(
            by_name["user"]["avatar"],
            "http://res.cloudinary.com/demo/image/upload/v1700000000/ada_avatar.png"
        );
        let by_email = login(
            &app,
            json!({ "email": "Ada@Example.com", "password": password }),
        )
        .await;
        assert_eq!(by_email["user"]["_id"], ada);
        let viewer = login(&app, json!({ "username": "bob", "password": password })).await;
        let access = viewer["accessToken"].as_str().unwrap();

        let channel = body_of(app.get_authed("/users/c/legacy-user", access).await).await;
        assert_eq!(channel["data"]["subscribersCount"], 1, "objects: {objects}");
        assert_eq!(channel["data"]["isSubscribed"], true);
        let subscribed = body_of(
            app.get_authed(&format!("/subscriptions/u/{bob}"), access)
                .await,
        )
        .await;
        assert_eq!(subscribed["data"][0]["_id"], ada);

        let listed = body_of(
            app.get_authed(&format!("/videos?userId={ada}"), access)
                .await,
        )
        .await;
        assert_eq!(listed["data"]["totalDocs"], 3, "objects: {objects}");
        let first = fixture["videos"][0].as_str().unwrap();
        let video = body_of(app.get_authed(&format!("/videos/{first}"), access).await).await;
        assert_eq!(video["data"]["views"], 4, "3 from Node, and this watch");
        assert_eq!(
            video["data"]["videoFile"],
            "http://res.cloudinary.com/demo/video/upload/v1700000000/clip_0.mp4"
        );
        let comments = body_of(app.get_authed(&format!("/comments/{first}"), access).await).await;
        assert_eq!(comments["data"]["docs"][0]["content"], "Lovely");
        let tweets = body_of(app.get_authed(&format!("/tweets/user/{ada}"), access).await).await;
        assert_eq!(tweets["data"][0]["content"], "Hello from Node");
    }
}
