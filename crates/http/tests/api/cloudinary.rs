//! The API with media on a (fake) Cloudinary instead of the local disk: users' images, and the
//! delivery of a video's files following its visibility.

use reqwest::{Method, StatusCode};
use serde_json::Value;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer};

use crate::helpers::{
    body_of, image_form, spawn_app_on_cloudinary, Login, RegisterForm, TestApp, JPEG, PNG,
};

use crate::fake_cloudinary::{
    delivery_signature_holds, FakeAdmin, FakeDestroy, FakeRename, FakeUpload,
};
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

#[tokio::test]
async fn the_stream_cloudinary_makes_becomes_the_videos_hls_url_once_ready() {
    let (cloudinary, _, destroys) = media_cloud(std::time::Duration::ZERO).await;
    let admin = FakeAdmin::ready_after(2);
    Mock::given(method("GET"))
        .and(path_regex(
            "^/v1_1/demo/resources/video/upload/videotube/videos/",
        ))
        .respond_with(admin.clone())
        .mount(&cloudinary)
        .await;
    let app =
        spawn_app_on_cloudinary(&cloudinary, &[("APP_CLOUDINARY__STREAM_POLL_SECONDS", "1")]).await;
    let owner = app.signed_up("streamer").await;
    let id = published_video(&app, &owner).await;
    let ready = settled(&app, &owner, &id).await;
    assert_eq!(ready["status"], "ready");
    assert!(ready.get("hlsUrl").is_none(), "not made yet: {ready}");
    let video_url = ready["videoFile"].as_str().unwrap();

    // The job asks again every second (this app's poll) until Cloudinary has made it.
    let path = format!("/videos/{id}");
    let mut shown = Value::Null;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        app.run_jobs().await;
        let anonymous = app.client.get(app.url(&path)).send().await.unwrap();
        shown = body_of(anonymous).await["data"].clone();
        if shown.get("hlsUrl").is_some() {
            break;
        }
    }
    let public_id = video_url
        .rsplit_once("/v1700000000/")
        .unwrap()
        .1
        .trim_end_matches(".mp4");
    assert_eq!(
        shown["hlsUrl"],
        format!(
            "https://res.cloudinary.com/demo/video/upload/sp_auto/v1700000000/{public_id}.m3u8"
        ),
        "{shown}"
    );
    assert_eq!(shown["videoFile"], video_url, "the file stays as it was");
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    app.run_jobs().await;
    assert_eq!(
        admin.asked.lock().unwrap().clone(),
        [public_id, public_id],
        "asked until made, then no more"
    );

    let toggle = format!("/videos/toggle/publish/{id}");
    let hidden = body_of(app.send(Method::PATCH, &toggle, &owner.access).await).await;
    assert!(hidden["data"].get("hlsUrl").is_none(), "{hidden}");

    let res = app.send(Method::DELETE, &path, &owner.access).await;
    assert_eq!(res.status(), StatusCode::OK);
    let destroyed = destroys.received.lock().unwrap().clone();
    assert_eq!(
        destroyed.len(),
        2,
        "the video and its thumbnail; the stream goes with the video: {destroyed:?}"
    );
    assert!(
        app.spool_files().is_empty(),
        "spooled files went once the video was stored"
    );
}

#[tokio::test]
async fn a_stream_not_made_in_time_is_given_up_and_the_video_plays_from_its_file() {
    let (cloudinary, _, _) = media_cloud(std::time::Duration::ZERO).await;
    let admin = FakeAdmin::ready_after(usize::MAX);
    Mock::given(method("GET"))
        .and(path_regex("^/v1_1/demo/resources/video/"))
        .respond_with(admin.clone())
        .mount(&cloudinary)
        .await;
    let app = spawn_app_on_cloudinary(
        &cloudinary,
        &[
            ("APP_CLOUDINARY__STREAM_POLL_SECONDS", "1"),
            ("APP_CLOUDINARY__STREAM_WAIT_MINUTES", "0"),
        ],
    )
    .await;
    let owner = app.signed_up("impatient").await;
    let id = published_video(&app, &owner).await;
    assert_eq!(settled(&app, &owner, &id).await["status"], "ready");
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    app.run_jobs().await;
    assert_eq!(admin.asked.lock().unwrap().len(), 1, "asked once");
    let jobs = app
        .db
        .collection::<videotube_infra::mongo::bson::Document>("media_jobs");
    assert_eq!(
        jobs.count_documents(videotube_infra::mongo::bson::doc! {})
            .await
            .unwrap(),
        0,
        "the job ended"
    );
    let video = settled(&app, &owner, &id).await;
    assert!(video.get("hlsUrl").is_none(), "{video}");
    assert!(video["videoFile"].as_str().unwrap().ends_with(".mp4"));
}

/// A PDF attachment form.
fn handout(name: &str) -> reqwest::multipart::Form {
    let mut pdf = b"%PDF-1.7\n".to_vec();
    pdf.resize(2000, b' ');
    reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(pdf).file_name(name.to_owned()),
    )
}

/// The delivery of each of the video's attachments, as its owner is shown them.
async fn attachment_delivery(app: &TestApp, owner: &Login, video: &str) -> Vec<String> {
    let listed = body_of(
        app.get_authed(&format!("/videos/{video}/attachments"), &owner.access)
            .await,
    )
    .await;
    listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|attachment| {
            let url = attachment["url"].as_str().unwrap();
            assert!(url.ends_with(".pdf"), "{url}");
            if url.contains("/raw/authenticated/") {
                assert!(delivery_signature_holds(url), "{url}");
                "authenticated".to_owned()
            } else {
                assert!(
                    url.starts_with("https://res.cloudinary.com/demo/raw/upload/"),
                    "{url}"
                );
                "upload".to_owned()
            }
        })
        .collect()
}

#[tokio::test]
async fn attachments_go_to_cloudinary_as_raw_files_that_follow_their_videos_visibility() {
    let (cloudinary, renames, destroys) = media_cloud(std::time::Duration::ZERO).await;
    Mock::given(method("POST"))
        .and(path("/v1_1/demo/raw/upload"))
        .respond_with(FakeUpload::default())
        .expect(2)
        .mount(&cloudinary)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1_1/demo/raw/rename"))
        .respond_with(renames)
        .mount(&cloudinary)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1_1/demo/raw/destroy"))
        .respond_with(destroys.clone())
        .mount(&cloudinary)
        .await;
    let app =
        spawn_app_on_cloudinary(&cloudinary, &[("APP_CLOUDINARY__STREAMING_PROFILE", "")]).await;
    let owner = app.signed_up("archivist").await;
    let id = published_video(&app, &owner).await;
    settled(&app, &owner, &id).await;
    let attach = |name: &'static str| {
        app.client
            .post(app.url(&format!("/videos/{id}/attachments")))
            .bearer_auth(&owner.access)
            .multipart(handout(name))
            .send()
    };
    let res = attach("handout.pdf").await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    body_of(res).await;
    assert_eq!(attachment_delivery(&app, &owner, &id).await, ["upload"]);
    assert!(app.media_files().is_empty(), "nothing on local disk");

    let toggle = format!("/videos/toggle/publish/{id}");
    app.send(Method::PATCH, &toggle, &owner.access).await;
    assert_eq!(
        attachment_delivery(&app, &owner, &id).await,
        ["authenticated"]
    );
    // Added to the hidden video: it goes where the video's files are at once.
    let res = attach("errata.pdf").await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let added = body_of(res).await["data"]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(added.contains("/raw/authenticated/"), "{added}");
    assert_eq!(
        attachment_delivery(&app, &owner, &id).await,
        ["authenticated", "authenticated"]
    );
    app.send(Method::PATCH, &toggle, &owner.access).await;
    assert_eq!(
        attachment_delivery(&app, &owner, &id).await,
        ["upload", "upload"]
    );
    app.send(Method::PATCH, &toggle, &owner.access).await;

    let res = app
        .send(Method::DELETE, &format!("/videos/{id}"), &owner.access)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let destroyed = destroys.received.lock().unwrap().clone();
    let raw: Vec<_> = destroyed
        .iter()
        .filter(|d| d["public_id"].starts_with("videotube/attachments/"))
        .collect();
    assert_eq!(raw.len(), 2, "{destroyed:?}");
    assert!(
        raw.iter().all(|d| d["type"] == "authenticated"),
        "destroyed where they are: {raw:?}"
    );
    assert!(app.spool_becomes(true).await);
}
