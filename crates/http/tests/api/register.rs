use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;

use crate::helpers::{body_of, error_fields, spawn_app, RegisterForm, JPEG, PNG};

#[tokio::test]
async fn register_creates_the_user_and_stores_the_avatar() {
    let app = spawn_app().await;
    let mut form = RegisterForm::new("Alice.Smith");
    form.email = "  Alice@Example.COM ".into();
    let res = app.register(form).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body = body_of(res).await;
    let user = &body["data"];
    assert_eq!(user["username"], "alice.smith");
    assert_eq!(
        user["email"], "alice@example.com",
        "original defect: email was not lowercased"
    );
    assert_eq!(user["fullName"], "Alice.Smith Tester");
    assert_eq!(user["coverImage"], "");
    assert_eq!(user["_id"].as_str().unwrap().len(), 24);
    assert!(user.get("refreshToken").is_none());

    let avatar_url = user["avatar"].as_str().unwrap();
    assert!(
        avatar_url.starts_with(&format!("{}/media/avatars/", app.address)),
        "{avatar_url}"
    );
    let res = app.client.get(avatar_url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/png");
    assert_eq!(res.bytes().await.unwrap().as_ref(), PNG);
    assert!(app.spool_files().is_empty());
}

#[tokio::test]
async fn register_with_a_cover_image_stores_both() {
    let app = spawn_app().await;
    let mut form = RegisterForm::new("bob");
    form.cover_image = Some(("cover.jpg", JPEG.to_vec()));
    let body = body_of(app.register(form).await).await;
    let cover = body["data"]["coverImage"].as_str().unwrap();
    assert!(
        cover.contains("/media/covers/") && cover.ends_with(".jpg"),
        "{cover}"
    );
    assert_eq!(app.media_files().len(), 2);
}

#[tokio::test]
async fn original_defect_register_without_an_avatar_is_a_400_not_a_500() {
    let app = spawn_app().await;
    let mut form = RegisterForm::new("noavatar");
    form.avatar = None;
    let res = app.register(form).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_fields(&body_of(res).await), ["avatar"]);
}

#[tokio::test]
async fn register_reports_every_missing_or_invalid_field() {
    let app = spawn_app().await;
    let form = Form::new()
        .text("username", "")
        .text("email", "not-an-email")
        .text("password", "short")
        .part("avatar", Part::bytes(PNG.to_vec()).file_name("a.png"));
    let res = app
        .client
        .post(app.url("/users/register"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let mut fields = error_fields(&body_of(res).await);
    fields.sort();
    assert_eq!(fields, ["email", "fullName", "password", "username"]);
    assert!(app.spool_files().is_empty());
    assert!(app.media_files().is_empty());
}

#[tokio::test]
async fn register_refuses_operator_text_and_bad_usernames() {
    let app = spawn_app().await;
    for username in ["{\"$gt\": \"\"}", "ab", "has space", &"x".repeat(31)] {
        let mut form = RegisterForm::new(username);
        form.email = "valid@example.com".into();
        let res = app.register(form).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{username}");
        assert_eq!(error_fields(&body_of(res).await), ["username"]);
    }
    assert!(app.media_files().is_empty());
}

#[tokio::test]
async fn passwords_over_72_bytes_are_refused_not_truncated() {
    let app = spawn_app().await;
    let mut form = RegisterForm::new("longpass");
    form.password = "é".repeat(37); // 74 bytes, 37 characters
    let res = app.register(form).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_fields(&body_of(res).await), ["password"]);
}

#[tokio::test]
async fn original_defect_oversized_uploads_are_a_413_and_leave_no_file() {
    let app = spawn_app().await;
    let mut big = PNG.to_vec();
    big.resize(6 * 1024 * 1024, 0);
    let mut form = RegisterForm::new("bigavatar");
    form.avatar = Some(("big.png", big));
    let res = app.register(form).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_fields(&body_of(res).await), ["avatar"]);
    assert!(app.spool_files().is_empty());
    assert!(app.media_files().is_empty());
}

#[tokio::test]
async fn original_defect_upload_types_are_checked_by_content() {
    let app = spawn_app().await;
    let mut form = RegisterForm::new("fakepng");
    form.avatar = Some((
        "avatar.png",
        b"just some text, not an image at all".to_vec(),
    ));
    let res = app.register(form).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body = body_of(res).await;
    assert_eq!(error_fields(&body), ["avatar"]);
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("image"));
    assert!(app.spool_files().is_empty());
    assert!(app.media_files().is_empty());
}

#[tokio::test]
async fn empty_files_and_unexpected_file_fields_are_refused() {
    let app = spawn_app().await;
    let mut form = RegisterForm::new("emptyfile");
    form.avatar = Some(("avatar.png", Vec::new()));
    assert_eq!(app.register(form).await.status(), StatusCode::BAD_REQUEST);

    let form = RegisterForm::new("extrafile")
        .into_form()
        .part("resume", Part::bytes(PNG.to_vec()).file_name("cv.png"));
    let res = app
        .client
        .post(app.url("/users/register"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    body_of(res).await;
    assert!(app.spool_files().is_empty());
    assert!(app.media_files().is_empty());
}

#[tokio::test]
async fn register_needs_a_multipart_body() {
    let app = spawn_app().await;
    let res = app
        .post_json(
            "/users/register",
            serde_json::json!({ "username": "json", "password": "x" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    body_of(res).await;
}

#[tokio::test]
async fn original_defect_duplicate_registration_is_a_409_that_leaves_no_files() {
    let app = spawn_app().await;
    app.register(RegisterForm::new("taken")).await;
    let stored_before = app.media_files();

    let res = app.register(RegisterForm::new("taken")).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let mut fields = error_fields(&body_of(res).await);
    fields.sort();
    assert_eq!(fields, ["email", "username"]);

    let mut same_email = RegisterForm::new("other");
    same_email.email = "TAKEN@example.com".into();
    same_email.cover_image = Some(("c.png", PNG.to_vec()));
    let res = app.register(same_email).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_fields(&body_of(res).await), ["email"]);

    assert!(
        app.spool_files().is_empty(),
        "original defect: temp files were left on 409"
    );
    assert_eq!(app.media_files(), stored_before);
}

#[tokio::test]
async fn original_defect_same_name_uploads_never_overwrite_each_other() {
    let app = spawn_app().await;
    let a = body_of(app.register(RegisterForm::new("first")).await).await;
    let b = body_of(app.register(RegisterForm::new("second")).await).await;
    assert_ne!(a["data"]["avatar"], b["data"]["avatar"]);
    assert_eq!(app.media_files().len(), 2);
}

#[tokio::test]
async fn concurrent_registrations_of_one_username_create_one_user() {
    let app = spawn_app().await;
    let attempts = (0..8).map(|i| {
        let mut form = RegisterForm::new("racer");
        form.email = format!("racer{i}@example.com");
        app.register(form)
    });
    let statuses: Vec<StatusCode> = futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .map(|r| r.status())
        .collect();
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        1,
        "{statuses:?}"
    );
    assert!(statuses
        .iter()
        .all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT));
    assert_eq!(
        app.media_files().len(),
        1,
        "the losers' avatars are deleted again"
    );
}

#[tokio::test]
async fn original_defect_email_is_lowercased_so_case_variants_are_one_account() {
    let app = spawn_app().await;
    let mut form = RegisterForm::new("casey");
    form.email = "Casey@Example.COM".into();
    let body = body_of(app.register(form).await).await;
    assert_eq!(body["data"]["email"], "casey@example.com");

    let mut twin = RegisterForm::new("casey2");
    twin.email = "CASEY@example.com".into();
    assert_eq!(app.register(twin).await.status(), StatusCode::CONFLICT);
    let res = app
        .login_raw(serde_json::json!({ "email": "cAsEy@example.com", "password": crate::helpers::PASSWORD }))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_client_that_disconnects_mid_upload_leaves_no_temp_file() {
    use tokio::io::AsyncWriteExt;
    let app = spawn_app().await;
    let authority = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(authority).await.unwrap();
    let boundary = "XBOUNDARYX";
    let head = format!(
        "POST /api/v1/users/register HTTP/1.1\r\nHost: {authority}\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: 10000000\r\n\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"a.png\"\r\n\
         Content-Type: image/png\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(PNG).await.unwrap();
    stream.write_all(&vec![0u8; 200_000]).await.unwrap();
    assert!(
        app.spool_becomes(false).await,
        "the upload reached the spool"
    );
    drop(stream);
    let cleaned = app.spool_becomes(true).await;
    assert!(
        cleaned,
        "the spool file outlived the connection: {:?}",
        app.spool_files()
    );
}
