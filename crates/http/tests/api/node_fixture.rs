//! A database as the Node backend leaves it, built with its own Mongoose models
//! (`scripts/node-fixture`): the server starts on it as it is and serves its users, videos,
//! comments, tweets and subscriptions; `videotube migrate` converts it once, and finishes the job
//! when a run is killed half-way (on a larger generated database, `build bulk`).

use std::process::Command;

use reqwest::StatusCode;
use serde_json::{json, Value};

use videotube_infra::mongo::bson;

use crate::helpers::{body_of, database_uri, spawn_app_with, TestApp};

/// Builds the fixture in a fresh database, with the script's `flags`; answers the database's
/// name and what the script wrote.
fn node_fixture(flags: &[&str]) -> (String, Value) {
    let db = format!("test_{}", uuid::Uuid::new_v4().simple());
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/node-fixture/build"
    );
    let mut command = Command::new(script);
    command
        .env("MONGODB_URI", database_uri())
        .env("DB_NAME", &db)
        .args(flags);
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
        let flags: &[&str] = if objects { &["--objects"] } else { &[] };
        let (db, fixture) = node_fixture(flags);
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

/// `videotube migrate` on the fixture: what the binary prints, and whether it succeeded.
fn migrate(db: &str, apply: bool) -> String {
    let uri = database_uri();
    let mut args = vec!["migrate"];
    if apply {
        args.push("--apply");
    }
    let output = crate::binary::videotube(&[("MONGODB_URI", &uri), ("DB_NAME", db)])
        .args(&args)
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    printed
}

#[tokio::test]
async fn migrate_says_what_it_would_do_then_does_it_once() {
    for flags in [&["--duplicates"][..], &["--duplicates", "--objects"]] {
        migrate_once(flags).await;
    }
}

async fn migrate_once(flags: &[&str]) {
    let (db, fixture) = node_fixture(flags);
    let likes = || async {
        crate::helpers::database(&db)
            .await
            .collection::<bson::Document>("likes")
            .count_documents(bson::doc! {})
            .await
            .unwrap()
    };
    assert_eq!(likes().await, 5);

    let planned = migrate(&db, false);
    assert!(planned.contains("Would change"), "{planned}");
    for line in [
        "users: remove the old `refreshToken`: 1 documents",
        "users: lowercase emails: 1 documents",
        "users: move `watchHistory` into watch_history: 2 documents",
        "users: flatten media and record asset ids: 2 documents",
        "videos: flatten media, record asset ids, fill `isPublished` and `views`: 3 documents",
        "playlists: move the `videos` arrays into playlist_videos, in order: 1 documents",
        "likes: remove likes of nothing or by nobody: 1 documents",
        "likes: set `target` (and a video like's `videoOwner`): 4 documents",
        "likes: remove duplicates, keeping the oldest: 1 documents",
        "subscriptions: remove duplicates, keeping the oldest: 1 documents",
    ] {
        assert!(planned.contains(line), "{flags:?}: {line}\n{planned}");
    }
    assert_eq!(likes().await, 5, "a dry run writes nothing");

    let applied = migrate(&db, true);
    assert!(
        applied.contains("Done; the indexes are built."),
        "{applied}"
    );
    assert_eq!(likes().await, 3);
    let again = migrate(&db, true);
    assert!(again.contains("Nothing to do"), "{again}");
    assert!(migrate(&db, false).contains("Nothing to do"));

    let app = spawn_app_with(&[("DB_NAME", &db)]).await;
    let password = fixture["password"].as_str().unwrap();
    let bob = login(&app, json!({ "username": "bob", "password": password })).await;
    let access = bob["accessToken"].as_str().unwrap();
    let first = fixture["videos"][0].as_str().unwrap();
    let liked = body_of(app.get_authed("/likes/videos", access).await).await;
    assert_eq!(liked["data"][0]["_id"], first, "{liked}");
    assert_eq!(liked["data"].as_array().unwrap().len(), 1);
    let ada = fixture["users"]["ada"].as_str().unwrap();
    let tweets = body_of(app.get_authed(&format!("/tweets/user/{ada}"), access).await).await;
    assert_eq!(tweets["data"][0]["likesCount"], 1);
    assert_eq!(tweets["data"][0]["isLiked"], true);
    let channel = body_of(app.get_authed("/users/c/legacy-user", access).await).await;
    assert_eq!(channel["data"]["subscribersCount"], 1);
    let videos: Vec<&str> = fixture["videos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let history = body_of(app.get_authed("/users/history", access).await).await;
    let watched: Vec<&str> = history["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["_id"].as_str().unwrap())
        .collect();
    assert_eq!(watched, [videos[0], videos[1]], "the last watched first");
    let playlist = fixture["playlist"].as_str().unwrap();
    let listed = body_of(
        app.get_authed(&format!("/playlist/{playlist}"), access)
            .await,
    )
    .await;
    let in_order: Vec<&str> = listed["data"]["videos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["_id"].as_str().unwrap())
        .collect();
    assert_eq!(in_order, [videos[2], videos[0]]);
    let ada_now = login(
        &app,
        json!({ "email": "ada@example.com", "password": password }),
    )
    .await;
    assert_eq!(ada_now["user"]["email"], "ada@example.com");
    let users = crate::helpers::database(&db)
        .await
        .collection::<bson::Document>("users");
    let stored = users
        .find_one(bson::doc! { "username": "legacy-user" })
        .await
        .unwrap()
        .unwrap();
    assert!(!stored.contains_key("refreshToken"));
    assert!(!stored.contains_key("watchHistory"));
    assert_eq!(stored.get_str("avatarAssetId").unwrap(), "image/ada_avatar");
    let res = app
        .send(
            reqwest::Method::POST,
            &format!("/likes/toggle/v/{first}"),
            access,
        )
        .await;
    assert_eq!(
        body_of(res).await["data"]["isLiked"],
        false,
        "a Node-era like can be taken back"
    );
}

/// `build bulk`: a generated Node-era database (`scripts/node-fixture/bulk.js`), the same
/// documents each time; answers its name.
fn bulk_fixture() -> String {
    let (db, _) = node_fixture(&["bulk", "--users", "1500", "--likes", "6000"]);
    db
}

/// Every document of the database, as text, in an order and a form two databases built alike
/// and migrated alike share: `updatedAt` is the time of the build, so it is left out, and the
/// watch history (whose times follow it) is each user's videos, the latest first.
async fn contents(name: &str) -> Vec<String> {
    use futures_util::TryStreamExt;
    let db = crate::helpers::database(name).await;
    let mut names = db.list_collection_names().await.unwrap();
    names.sort();
    let mut contents = vec![format!("collections: {names:?}")];
    for collection in names {
        let coll = db.collection::<bson::Document>(&collection);
        let mut indexes = coll.list_index_names().await.unwrap();
        indexes.sort();
        contents.push(format!("{collection} indexes: {indexes:?}"));
        let mut documents: Vec<bson::Document> = coll
            .find(bson::doc! {})
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        let mut lines: Vec<String> = match collection.as_str() {
            "watch_history" => {
                documents.sort_by_key(|d| {
                    let at = d.get_datetime("watchedAt").unwrap().timestamp_millis();
                    (d.get_object_id("user").unwrap(), -at)
                });
                documents
                    .iter()
                    .map(|d| {
                        format!(
                            "{} {}",
                            d.get_object_id("user").unwrap(),
                            d.get_object_id("video").unwrap()
                        )
                    })
                    .collect()
            }
            _ => documents
                .into_iter()
                .map(|mut d| {
                    d.remove("updatedAt");
                    if collection == "playlist_videos" {
                        d.remove("_id");
                    }
                    d.to_string()
                })
                .collect(),
        };
        if collection == "playlist_videos" {
            lines.sort();
        }
        contents.push(format!("{collection}: {} documents", lines.len()));
        contents.extend(lines);
    }
    contents
}

/// Killed (SIGKILL) at several moments, then run again, `videotube migrate --apply` leaves what
/// one uninterrupted run leaves: nothing lost, nothing twice.
#[tokio::test]
async fn a_migration_killed_at_any_moment_is_finished_by_the_next_run() {
    let reference = bulk_fixture();
    migrate(&reference, true);
    let interrupted = bulk_fixture();
    let db = crate::helpers::database(&interrupted).await;
    let count = |collection: &'static str| {
        let coll = db.collection::<bson::Document>(collection);
        async move { coll.count_documents(bson::doc! {}).await.unwrap_or(0) }
    };
    let uri = database_uri();
    let vars = [
        ("MONGODB_URI", uri.as_str()),
        ("DB_NAME", interrupted.as_str()),
    ];
    // While the users' history entries are written (before their copy replaces them), while the
    // likes are copied, and at moments a clock picks.
    let moments: [(&str, &str, u64); 4] = [
        ("watch history half-written", "watch_history", 1),
        ("likes half-copied", "likes__migrating", 2000),
        ("a clock's moment", "", 150),
        ("a later clock's moment", "", 400),
    ];
    for (moment, collection, at_least) in moments {
        let mut run = crate::binary::videotube(&vars)
            .args(["migrate", "--apply"])
            .spawn()
            .unwrap();
        if collection.is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(at_least)).await;
        } else {
            while count(collection).await < at_least {
                assert!(
                    run.try_wait().unwrap().is_none(),
                    "the run ended before {moment}"
                );
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
            assert!(run.try_wait().unwrap().is_none(), "killed at {moment}");
        }
        run.kill().unwrap();
        run.wait().unwrap();
    }
    migrate(&interrupted, true);
    assert!(migrate(&interrupted, true).contains("Nothing to do"));
    let (expected, found) = (contents(&reference).await, contents(&interrupted).await);
    assert_eq!(expected.len(), found.len(), "{:?}", &found[..3]);
    for (expected, found) in expected.iter().zip(&found) {
        assert_eq!(expected, found);
    }
}
