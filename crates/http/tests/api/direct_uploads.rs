//! Direct uploads: the client uploads to Cloudinary with parameters this server signed, then
//! reports Cloudinary's answers; the server checks them before creating the video.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde_json::{json, Value};
use sha1::{Digest, Sha1};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

use crate::fake_cloudinary::{expected_signature, FakeUpload, API_KEY, SECRET};
use crate::helpers::{body_of, error_fields, spawn_app, spawn_app_on_cloudinary, Login, TestApp};

async fn with_cloudinary() -> (TestApp, MockServer) {
    let cloudinary = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1_1/demo/image/upload"))
        .respond_with(FakeUpload::default())
        .mount(&cloudinary)
        .await;
    let app = spawn_app_on_cloudinary(&cloudinary, &[]).await;
    (app, cloudinary)
}

/// Cloudinary's answer to an upload into `folder`, signed as Cloudinary signs it.
fn answer(folder: &str, name: &str, resource_type: &str) -> Value {
    let public_id = format!("{folder}/{name}");
    let version = 1_700_000_123u64;
    let payload = format!("public_id={public_id}&version={version}{SECRET}");
    json!({
        "public_id": public_id,
        "version": version,
        "signature": hex::encode(Sha1::digest(payload.as_bytes())),
        "secure_url": format!("https://res.cloudinary.com/demo/{resource_type}/upload/v{version}/{public_id}.mp4"),
        "resource_type": resource_type,
        "duration": 31.5,
        "bytes": 1234,
    })
}

async fn signature(app: &TestApp, login: &Login, query: &str) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/uploads/signature{query}")))
        .bearer_auth(&login.access)
        .send()
        .await
        .unwrap()
}

async fn publish_json(app: &TestApp, login: &Login, body: Value) -> reqwest::Response {
    app.client
        .post(app.url("/videos"))
        .bearer_auth(&login.access)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_signature_covers_the_callers_folder_only() {
    let (app, _cloudinary) = with_cloudinary().await;
    let login = app.signed_up("direct").await;
    let body = body_of(signature(&app, &login, "").await).await;
    let grant = &body["data"];
    let folder = format!("videotube/users/{}", login.user["_id"].as_str().unwrap());
    assert_eq!(grant["folder"], folder);
    assert_eq!(grant["cloudName"], "demo");
    assert_eq!(grant["apiKey"], API_KEY);
    assert_eq!(grant["resourceType"], "video");
    let signed = BTreeMap::from([
        ("folder".to_owned(), folder),
        ("timestamp".to_owned(), grant["timestamp"].to_string()),
    ]);
    assert_eq!(
        grant["signature"],
        expected_signature(&signed),
        "Cloudinary would accept it"
    );

    let image = body_of(signature(&app, &login, "?resourceType=image").await).await;
    assert_eq!(image["data"]["resourceType"], "image");
    let res = signature(&app, &login, "?resourceType=raw").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_fields(&body_of(res).await), ["resourceType"]);
}

#[tokio::test]
async fn a_verified_direct_upload_becomes_a_ready_video() {
    let (app, _cloudinary) = with_cloudinary().await;
    let login = app.signed_up("uploader").await;
    let folder = format!("videotube/users/{}", login.user["_id"].as_str().unwrap());
    let body = json!({
        "title": "Straight to the cloud",
        "description": "No detour",
        "videoFile": answer(&folder, "clip", "video"),
        "thumbnail": answer(&folder, "thumb", "image"),
    });
    let res = publish_json(&app, &login, body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let video = body_of(res).await["data"].clone();
    assert_eq!(video["status"], "ready");
    assert_eq!(video["duration"], 31.5);
    assert!(video["videoFile"]
        .as_str()
        .unwrap()
        .ends_with(&format!("{folder}/clip.mp4")));
    let fetched = body_of(
        app.get_authed(
            &format!("/videos/{}", video["_id"].as_str().unwrap()),
            &login.access,
        )
        .await,
    )
    .await;
    assert_eq!(fetched["data"]["videoFile"], video["videoFile"]);
}

#[tokio::test]
async fn forged_foreign_and_malformed_reports_are_refused() {
    let (app, _cloudinary) = with_cloudinary().await;
    let login = app.signed_up("mallet").await;
    let victim = app.signed_up("victim").await;
    let mine = format!("videotube/users/{}", login.user["_id"].as_str().unwrap());
    let theirs = format!("videotube/users/{}", victim.user["_id"].as_str().unwrap());

    let mut forged = answer(&mine, "clip", "video");
    forged["signature"] = json!("0".repeat(40));
    let mut version_changed = answer(&mine, "clip", "video");
    version_changed["version"] = json!(1);
    let cases = [
        (forged, answer(&mine, "t", "image"), vec!["videoFile"]),
        (
            version_changed,
            answer(&mine, "t", "image"),
            vec!["videoFile"],
        ),
        (
            answer(&theirs, "clip", "video"),
            answer(&mine, "t", "image"),
            vec!["videoFile"],
        ),
        (
            answer(&mine, "clip", "video"),
            answer(&mine, "t", "video"),
            vec!["thumbnail"],
        ),
        (
            json!({ "public_id": { "$gt": "" } }),
            json!("text"),
            vec!["videoFile", "thumbnail"],
        ),
    ];
    for (video, thumbnail, expected) in cases {
        let body =
            json!({ "title": "t", "description": "d", "videoFile": video, "thumbnail": thumbnail });
        let res = publish_json(&app, &login, body.clone()).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(error_fields(&body_of(res).await), expected, "{body}");
    }
    let res = publish_json(&app, &login, json!({ "title": { "$ne": null } })).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let mut fields = error_fields(&body_of(res).await);
    fields.sort();
    assert_eq!(fields, ["description", "thumbnail", "title", "videoFile"]);
}

#[tokio::test]
async fn on_the_local_store_direct_uploads_are_a_clear_409() {
    let app = spawn_app().await;
    let login = app.signed_up("grounded").await;
    let res = signature(&app, &login, "").await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(body_of(res).await["message"]
        .as_str()
        .unwrap()
        .contains("need Cloudinary"));
    let folder = format!("videotube/users/{}", login.user["_id"].as_str().unwrap());
    let body = json!({
        "title": "t",
        "description": "d",
        "videoFile": answer(&folder, "clip", "video"),
        "thumbnail": answer(&folder, "thumb", "image"),
    });
    let res = publish_json(&app, &login, body).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    body_of(res).await;
}
