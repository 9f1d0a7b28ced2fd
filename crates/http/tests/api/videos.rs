//! Publishing videos: 202 and a background job that stores the files, on the local store and on
//! a fake Cloudinary, with validation, visibility and failure handling.

use std::time::Duration;

use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{
    body_of, cloudinary_where_video_uploads_hang, error_fields, spawn_app, spawn_app_on_cloudinary,
    spawn_app_with, spawn_app_with_worker, Login, TestApp, PNG,
};

use crate::fake_cloudinary::FakeUpload;
use crate::samples;

pub fn video_form(video: (&'static str, Vec<u8>), thumbnail: Vec<u8>) -> Form {
    Form::new()
        .text("title", "My first video")
        .text("description", "Shot on a phone")
        .part(
            "videoFile",
            Part::bytes(video.1)
                .file_name(video.0)
                .mime_str("video/mp4")
                .unwrap(),
        )
        .part(
            "thumbnail",
            Part::bytes(thumbnail)
                .file_name("thumb.png")
                .mime_str("image/png")
                .unwrap(),
        )
}

pub async fn publish(app: &TestApp, login: &Login, form: Form) -> reqwest::Response {
    app.client
        .post(app.url("/videos"))
        .bearer_auth(&login.access)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// Runs the due media jobs, then answers the video as its owner sees it.
pub async fn settled(app: &TestApp, login: &Login, id: &str) -> Value {
    app.run_jobs().await;
    let body = body_of(
        app.get_authed(&format!("/videos/{id}"), &login.access)
            .await,
    )
    .await;
    body["data"].clone()
}

/// Waits for the app's own worker to take the video out of `processing`.
async fn settled_by_the_worker(app: &TestApp, login: &Login, id: &str) -> Value {
    for _ in 0..100 {
        let body = body_of(
            app.get_authed(&format!("/videos/{id}"), &login.access)
                .await,
        )
        .await;
        if body["data"]["status"] != "processing" {
            return body["data"].clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("video {id} is still processing");
}

/// Publishes a video and has its job run; answers its id.
pub async fn ready_video(app: &TestApp, login: &Login, title: &str) -> String {
    let form =
        video_form(("clip.mp4", samples::mp4(1_000)), PNG.to_vec()).text("title", title.to_owned());
    let id = body_of(publish(app, login, form).await).await["data"]["_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(settled(app, login, &id).await["status"], "ready");
    id
}

#[tokio::test]
async fn a_published_video_is_accepted_then_ready_on_the_local_store() {
    let app = spawn_app().await;
    let login = app.signed_up("director").await;
    let res = publish(
        &app,
        &login,
        video_form(("clip.mp4", samples::mp4(5_000)), PNG.to_vec()),
    )
    .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let accepted = body_of(res).await["data"].clone();
    assert_eq!(accepted["title"], "My first video");
    assert_eq!(accepted["owner"]["_id"], login.user["_id"]);
    assert_eq!(accepted["videoFile"], "");

    let video = settled(&app, &login, accepted["_id"].as_str().unwrap()).await;
    assert_eq!(video["status"], "ready", "{video}");
    assert_eq!(video["duration"], 5.0);
    assert!(video.get("failureReason").is_none());
    let res = app
        .client
        .get(video["videoFile"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "video/mp4");
    assert_eq!(res.bytes().await.unwrap(), samples::mp4(5_000));
    let res = app
        .client
        .get(video["thumbnail"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "image/png");
    assert!(app.spool_files().is_empty(), "{:?}", app.spool_files());
}

#[tokio::test]
async fn webm_and_quicktime_videos_are_accepted_with_their_duration() {
    let app = spawn_app().await;
    let login = app.signed_up("formats").await;
    for (name, bytes, duration) in [
        ("clip.webm", samples::webm(7_250.0), 7.25),
        ("clip.mov", samples::quicktime(2_500), 2.5),
    ] {
        let body =
            body_of(publish(&app, &login, video_form((name, bytes), PNG.to_vec())).await).await;
        let video = settled(&app, &login, body["data"]["_id"].as_str().unwrap()).await;
        assert_eq!(video["duration"], duration, "{name}");
    }
}

#[tokio::test]
async fn bad_uploads_are_refused_and_leave_nothing_behind() {
    let app = spawn_app_with(&[("APP_MEDIA__VIDEO_MAX_BYTES", "100000")]).await;
    let login = app.signed_up("careless").await;
    let stored_before = app.media_files();

    let res = publish(&app, &login, Form::new().text("title", " ")).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let mut fields = error_fields(&body_of(res).await);
    fields.sort();
    assert_eq!(fields, ["description", "thumbnail", "title", "videoFile"]);

    let mislabelled = video_form(("clip.mp4", PNG.to_vec()), PNG.to_vec());
    let res = publish(&app, &login, mislabelled).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_fields(&body_of(res).await), ["videoFile"]);

    let video_as_thumbnail = video_form(("clip.mp4", samples::mp4(1_000)), samples::mp4(1_000));
    let res = publish(&app, &login, video_as_thumbnail).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_fields(&body_of(res).await), ["thumbnail"]);

    let mut big = samples::mp4(1_000);
    big.resize(200_000, 0);
    let res = publish(&app, &login, video_form(("big.mp4", big), PNG.to_vec())).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_fields(&body_of(res).await), ["videoFile"]);

    let res = app
        .client
        .post(app.url("/videos"))
        .multipart(video_form(("clip.mp4", samples::mp4(1_000)), PNG.to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    assert!(app.spool_files().is_empty(), "{:?}", app.spool_files());
    assert_eq!(app.media_files(), stored_before);
}

#[tokio::test]
async fn a_video_in_processing_is_the_owners_alone_and_ids_are_checked() {
    // The worker polls once a minute: the video is ready sooner only if publishing wakes it.
    let app = spawn_app_with_worker(&[("APP_MEDIA__JOB_POLL_SECONDS", "60")]).await;
    let owner = app.signed_up("owner").await;
    let stranger = app.signed_up("stranger").await;
    let body = body_of(
        publish(
            &app,
            &owner,
            video_form(("clip.mp4", samples::mp4(1_000)), PNG.to_vec()),
        )
        .await,
    )
    .await;
    let id = body["data"]["_id"].as_str().unwrap().to_owned();

    let video = settled_by_the_worker(&app, &owner, &id).await;
    assert_eq!(video["status"], "ready");
    assert_eq!(
        app.get_authed(&format!("/videos/{id}"), &stranger.access)
            .await
            .status(),
        StatusCode::OK
    );

    let res = app.get_authed("/videos/not-an-id", &owner.access).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_fields(&body_of(res).await), ["videoId"]);
    let res = app
        .get_authed("/videos/0123456789abcdef01234567", &owner.access)
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    body_of(res).await;
}

#[tokio::test]
async fn others_cannot_see_a_video_that_is_not_ready() {
    // Video uploads hang, so the video stays `processing` while the test looks at it.
    let cloudinary = cloudinary_where_video_uploads_hang(Duration::from_secs(30), None).await;
    let app = spawn_app_on_cloudinary(&cloudinary, &[]).await;
    let owner = app.signed_up("shy").await;
    let stranger = app.signed_up("curious").await;
    let body = body_of(
        publish(
            &app,
            &owner,
            video_form(("clip.mp4", samples::mp4(1_000)), PNG.to_vec()),
        )
        .await,
    )
    .await;
    let id = body["data"]["_id"].as_str().unwrap();
    let mine = body_of(
        app.get_authed(&format!("/videos/{id}"), &owner.access)
            .await,
    )
    .await;
    assert_eq!(mine["data"]["status"], "processing");
    let res = app
        .get_authed(&format!("/videos/{id}"), &stranger.access)
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn on_cloudinary_the_video_goes_up_as_a_video_with_its_duration() {
    let cloudinary = MockServer::start().await;
    let uploads = FakeUpload::default();
    Mock::given(method("POST"))
        .and(path("/v1_1/demo/video/upload"))
        .respond_with(uploads.clone())
        .expect(1)
        .mount(&cloudinary)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1_1/demo/image/upload"))
        .respond_with(uploads.clone())
        .expect(2) // the avatar, then the thumbnail
        .mount(&cloudinary)
        .await;
    let app = spawn_app_on_cloudinary(&cloudinary, &[]).await;
    let login = app.signed_up("clouded").await;
    let body = body_of(
        publish(
            &app,
            &login,
            video_form(("clip.mp4", samples::mp4(1_000)), PNG.to_vec()),
        )
        .await,
    )
    .await;
    let video = settled(&app, &login, body["data"]["_id"].as_str().unwrap()).await;
    assert_eq!(video["status"], "ready");
    assert_eq!(video["duration"], 12.5, "Cloudinary's duration is recorded");
    assert!(video["videoFile"]
        .as_str()
        .unwrap()
        .contains("/video/upload/"));
    assert!(app.spool_files().is_empty());
}

#[tokio::test]
async fn a_store_that_keeps_failing_ends_in_failed_with_a_reason() {
    let cloudinary = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1_1/demo/video/upload"))
        .respond_with(ResponseTemplate::new(500))
        .expect(3) // one request per job attempt
        .mount(&cloudinary)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1_1/demo/image/upload"))
        .respond_with(FakeUpload::default())
        .mount(&cloudinary)
        .await;
    let app = spawn_app_on_cloudinary(
        &cloudinary,
        &[
            ("APP_CLOUDINARY__MAX_ATTEMPTS", "1"),
            ("APP_MEDIA__JOB_MAX_ATTEMPTS", "3"),
            ("APP_MEDIA__JOB_BACKOFF_SECONDS", "0"),
        ],
    )
    .await;
    let login = app.signed_up("unlucky").await;
    let body = body_of(
        publish(
            &app,
            &login,
            video_form(("clip.mp4", samples::mp4(1_000)), PNG.to_vec()),
        )
        .await,
    )
    .await;
    let video = settled(&app, &login, body["data"]["_id"].as_str().unwrap()).await;
    assert_eq!(video["status"], "failed");
    let reason = video["failureReason"].as_str().unwrap();
    assert!(reason.contains("after 3 attempts"), "{video}");
    assert!(reason.contains("500"), "it says what failed: {reason}");

    assert!(app.spool_files().is_empty(), "{:?}", app.spool_files());
}
