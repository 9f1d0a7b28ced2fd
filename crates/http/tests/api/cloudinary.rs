//! The API with media on a (fake) Cloudinary instead of the local disk: users' images, and the
//! delivery of a video's files following its visibility.

use reqwest::{Method, StatusCode};
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

use crate::helpers::{
    body_of, image_form, spawn_app_on_cloudinary, Login, RegisterForm, TestApp, JPEG, PNG,
};

use crate::fake_cloudinary::{delivery_signature_holds, FakeDestroy, FakeRename, FakeUpload};
use crate::samples;
use crate::videos::{publish, settled, video_form};

async fn published_video(app: &TestApp, owner: &Login) -> String {
    let res = publish(
        app,
        owner,
        video_form(("clip.mp4", samples::mp4(1_000)), PNG.to_vec()),
    )
    .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    body_of(res).await["data"]["_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn with_cloudinary_configured_avatars_go_there_and_replaced_ones_are_destroyed() {
    let cloudinary = MockServer::start().await;
    let uploads = FakeUpload::default();
    Mock::given(method("POST"))
        .and(path("/v1_1/demo/image/upload"))
        .respond_with(uploads.clone())
        .expect(2)
        .mount(&cloudinary)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1_1/demo/image/destroy"))
        .respond_with(FakeDestroy::answering("ok"))
        .expect(1)
        .mount(&cloudinary)
        .await;
    let app = spawn_app_on_cloudinary(&cloudinary, &[]).await;

    let login = app.signed_up("cloudy").await;
    let first = login.user["avatar"].as_str().unwrap().to_owned();
    assert!(
        first.starts_with("https://res.cloudinary.com/demo/image/upload/"),
        "{first}"
    );

    let res = app
        .client
        .patch(app.url("/users/avatar"))
        .bearer_auth(&login.access)
        .multipart(image_form("avatar", "new.jpg", JPEG.to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let second = body_of(res).await["data"]["avatar"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(first, second);
    assert!(
        app.media_files().is_empty(),
        "nothing is kept on local disk"
    );
    assert!(app.spool_files().is_empty());
    // The mocks' `expect` counts (two uploads, one destroy) are verified when `cloudinary` drops.
}

#[tokio::test]
async fn a_cloudinary_outage_is_a_503_and_registration_leaves_nothing_behind() {
    let cloudinary = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(503))
        .mount(&cloudinary)
        .await;
    let app = spawn_app_on_cloudinary(&cloudinary, &[("APP_CLOUDINARY__MAX_ATTEMPTS", "2")]).await;
    let res = app.register(RegisterForm::new("stormy")).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    body_of(res).await;
    assert!(app.spool_files().is_empty());
    let login = app
        .login_raw(
            serde_json::json!({ "username": "stormy", "password": crate::helpers::PASSWORD }),
        )
        .await;
    assert_eq!(
        login.status(),
        StatusCode::UNAUTHORIZED,
        "no user was created"
    );
}

/// A fake Cloudinary that takes uploads (videos after `video_delay`), renames and destroys.
async fn media_cloud(video_delay: std::time::Duration) -> (MockServer, FakeRename, FakeDestroy) {
    let cloudinary = MockServer::start().await;
    let renames = FakeRename::default();
    let destroys = FakeDestroy::answering("ok");
    let slow = FakeUpload {
        delay: video_delay,
        ..FakeUpload::default()
    };
    Mock::given(method("POST"))
        .and(path("/v1_1/demo/video/upload"))
        .respond_with(slow)
        .mount(&cloudinary)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1_1/demo/image/upload"))
        .respond_with(FakeUpload::default())
        .mount(&cloudinary)
        .await;
    for resource_type in ["video", "image"] {
        Mock::given(method("POST"))
            .and(path(format!("/v1_1/demo/{resource_type}/rename")))
            .respond_with(renames.clone())
            .mount(&cloudinary)
            .await;
        Mock::given(method("POST"))
            .and(path(format!("/v1_1/demo/{resource_type}/destroy")))
            .respond_with(destroys.clone())
            .mount(&cloudinary)
            .await;
    }
    (cloudinary, renames, destroys)
}

fn delivery_of(video: &Value) -> [String; 2] {
    ["videoFile", "thumbnail"].map(|field| {
        let url = video[field].as_str().unwrap();
        if url.contains("/authenticated/") {
            assert!(delivery_signature_holds(url), "{url}");
            "authenticated".to_owned()
        } else {
            assert!(url.contains("/upload/"), "{url}");
            "upload".to_owned()
        }
    })
}

#[tokio::test]
async fn a_hidden_videos_files_move_to_signed_delivery_and_back_when_published() {
    let (cloudinary, renames, destroys) = media_cloud(std::time::Duration::ZERO).await;
    let app = spawn_app_on_cloudinary(&cloudinary, &[]).await;
    let owner = app.signed_up("director").await;
    let id = published_video(&app, &owner).await;
    let ready = settled(&app, &owner, &id).await;
    assert_eq!(delivery_of(&ready), ["upload", "upload"]);

    let toggle = format!("/videos/toggle/publish/{id}");
    let hidden = body_of(app.send(Method::PATCH, &toggle, &owner.access).await).await;
    assert_eq!(hidden["data"]["isPublished"], false);
    assert_eq!(
        delivery_of(&hidden["data"]),
        ["authenticated", "authenticated"]
    );
    let owners_view = body_of(
        app.get_authed(&format!("/videos/{id}"), &owner.access)
            .await,
    )
    .await;
    assert_eq!(
        owners_view["data"]["videoFile"],
        hidden["data"]["videoFile"]
    );
    let sent = renames.received.lock().unwrap().clone();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(sent
        .iter()
        .all(|r| r["to_type"] == "authenticated" && r["invalidate"] == "true"));

    let shown = body_of(app.send(Method::PATCH, &toggle, &owner.access).await).await;
    assert_eq!(delivery_of(&shown["data"]), ["upload", "upload"]);
    app.send(Method::PATCH, &toggle, &owner.access).await;

    let res = app
        .send(Method::DELETE, &format!("/videos/{id}"), &owner.access)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let destroyed = destroys.received.lock().unwrap().clone();
    assert_eq!(destroyed.len(), 2, "{destroyed:?}");
    assert!(
        destroyed.iter().all(|d| d["type"] == "authenticated"),
        "hidden files are destroyed where they are: {destroyed:?}"
    );
}

#[tokio::test]
async fn a_video_hidden_while_processing_gets_its_files_in_signed_delivery() {
    let (cloudinary, _, _) = media_cloud(std::time::Duration::from_millis(1500)).await;
    let app = spawn_app_on_cloudinary(&cloudinary, &[]).await;
    let owner = app.signed_up("quick").await;
    let id = published_video(&app, &owner).await;
    let res = app
        .send(
            Method::PATCH,
            &format!("/videos/toggle/publish/{id}"),
            &owner.access,
        )
        .await;
    assert_eq!(body_of(res).await["data"]["status"], "processing");

    let ready = settled(&app, &owner, &id).await;
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["isPublished"], false);
    assert_eq!(delivery_of(&ready), ["authenticated", "authenticated"]);
}
