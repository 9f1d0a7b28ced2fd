//! The users API with media on a (fake) Cloudinary instead of the local disk.

use reqwest::StatusCode;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

use crate::helpers::{body_of, image_form, spawn_app_on_cloudinary, RegisterForm, JPEG};

use crate::fake_cloudinary::{FakeDestroy, FakeUpload};

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
        .respond_with(FakeDestroy("ok"))
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
