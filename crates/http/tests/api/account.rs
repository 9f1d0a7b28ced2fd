use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{
    body_of, error_fields, image_form, spawn_app, Login, TestApp, JPEG, PASSWORD, PNG,
};

async fn change_password(app: &TestApp, login: &Login, body: Value) -> reqwest::Response {
    app.send_json(Method::POST, "/users/change-password", &login.access, body)
        .await
}

async fn update_account(app: &TestApp, login: &Login, body: Value) -> reqwest::Response {
    app.send_json(Method::PATCH, "/users/update-account", &login.access, body)
        .await
}

async fn upload(
    app: &TestApp,
    login: &Login,
    path: &str,
    form: reqwest::multipart::Form,
) -> reqwest::Response {
    app.client
        .patch(app.url(path))
        .bearer_auth(&login.access)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn current_user_shows_the_profile_without_secrets() {
    let app = spawn_app().await;
    let login = app.signed_up("nina").await;
    let body = body_of(app.get_authed("/users/current-user", &login.access).await).await;
    let user = body["data"].as_object().unwrap();
    let mut keys: Vec<&str> = user.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "_id",
            "avatar",
            "coverImage",
            "createdAt",
            "email",
            "fullName",
            "updatedAt",
            "username"
        ]
    );
}

#[tokio::test]
async fn change_password_replaces_it_and_signs_out_other_sessions() {
    let app = spawn_app().await;
    let here = app.signed_up("oscar").await;
    let elsewhere = app.login("oscar").await;
    let res = change_password(
        &app,
        &here,
        json!({ "oldPassword": PASSWORD, "newPassword": "a brand new secret" }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    body_of(res).await;

    assert_eq!(app.current_user_status(&here.access).await, StatusCode::OK);
    assert_eq!(
        app.current_user_status(&elsewhere.access).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.refresh_with(&elsewhere.refresh).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let old = app
        .login_raw(json!({ "username": "oscar", "password": PASSWORD }))
        .await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    let new = app
        .login_raw(json!({ "username": "oscar", "password": "a brand new secret" }))
        .await;
    assert_eq!(new.status(), StatusCode::OK);
}

#[tokio::test]
async fn original_defect_change_password_without_new_password_is_a_400_not_a_500() {
    let app = spawn_app().await;
    let login = app.signed_up("peggy").await;
    let cases = [
        (json!({ "oldPassword": PASSWORD }), vec!["newPassword"]),
        (json!({}), vec!["oldPassword", "newPassword"]),
        (
            json!({ "oldPassword": PASSWORD, "newPassword": "x".repeat(73) }),
            vec!["newPassword"],
        ),
        (
            json!({ "oldPassword": PASSWORD, "newPassword": "short" }),
            vec!["newPassword"],
        ),
        (
            json!({ "oldPassword": { "$gt": "" }, "newPassword": ["a"] }),
            vec!["oldPassword", "newPassword"],
        ),
        (
            json!({ "oldPassword": "not my password", "newPassword": "long enough now" }),
            vec!["oldPassword"],
        ),
    ];
    for (body, expected) in cases {
        let res = change_password(&app, &login, body.clone()).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(error_fields(&body_of(res).await), expected, "{body}");
    }
    app.login("peggy").await;
}

#[tokio::test]
async fn original_defect_email_is_lowercased_on_update_too() {
    let app = spawn_app().await;
    let login = app.signed_up("quinn").await;
    let res = update_account(
        &app,
        &login,
        json!({ "fullName": "  Quinn Q. ", "email": "Quinn@New.Example" }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = body_of(res).await;
    assert_eq!(body["data"]["fullName"], "Quinn Q.");
    assert_eq!(body["data"]["email"], "quinn@new.example");
    assert!(
        body["data"].get("refreshToken").is_none(),
        "original defect: refresh token in update responses"
    );

    let res = update_account(&app, &login, json!({ "fullName": "Only Name" })).await;
    let body = body_of(res).await;
    assert_eq!(body["data"]["fullName"], "Only Name");
    assert_eq!(body["data"]["email"], "quinn@new.example");
    let login = app
        .login_raw(json!({ "email": "QUINN@new.example", "password": PASSWORD }))
        .await;
    assert_eq!(login.status(), StatusCode::OK);
}

#[tokio::test]
async fn original_defect_duplicate_email_on_update_is_a_409_not_a_500() {
    let app = spawn_app().await;
    app.signed_up("rita").await;
    let login = app.signed_up("sam").await;
    let res = update_account(&app, &login, json!({ "email": "RITA@example.com" })).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_fields(&body_of(res).await), ["email"]);
}

#[tokio::test]
async fn update_account_refuses_bad_input() {
    let app = spawn_app().await;
    let login = app.signed_up("tina").await;
    let cases = [
        (json!({}), vec!["fullName"]),
        (json!({ "email": { "$gt": "" } }), vec!["email"]),
        (
            json!({ "fullName": "", "email": "nope" }),
            vec!["fullName", "email"],
        ),
        (json!({ "fullName": "x".repeat(101) }), vec!["fullName"]),
    ];
    for (body, expected) in cases {
        let res = update_account(&app, &login, body.clone()).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(error_fields(&body_of(res).await), expected, "{body}");
    }
    let res = app
        .client
        .patch(app.url("/users/update-account"))
        .json(&json!({ "fullName": "X" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn original_defect_replacing_the_avatar_deletes_the_old_file() {
    let app = spawn_app().await;
    let login = app.signed_up("uma").await;
    let old_url = login.user["avatar"].as_str().unwrap().to_owned();
    let res = upload(
        &app,
        &login,
        "/users/avatar",
        image_form("avatar", "new.jpg", JPEG.to_vec()),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = body_of(res).await;
    let new_url = body["data"]["avatar"].as_str().unwrap();
    assert!(new_url.ends_with(".jpg"));
    assert_eq!(
        app.client.get(new_url).send().await.unwrap().status(),
        StatusCode::OK
    );
    let gone = app.client.get(&old_url).send().await.unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    body_of(gone).await;
    assert_eq!(app.media_files().len(), 1);
    assert!(app.spool_files().is_empty());
}

#[tokio::test]
async fn cover_image_is_set_then_replaced() {
    let app = spawn_app().await;
    let login = app.signed_up("victor").await;
    let first = body_of(
        upload(
            &app,
            &login,
            "/users/cover-image",
            image_form("coverImage", "c.png", PNG.to_vec()),
        )
        .await,
    )
    .await;
    let first_url = first["data"]["coverImage"].as_str().unwrap().to_owned();
    assert!(first_url.contains("/media/covers/"));
    let second = body_of(
        upload(
            &app,
            &login,
            "/users/cover-image",
            image_form("coverImage", "c.png", PNG.to_vec()),
        )
        .await,
    )
    .await;
    assert_ne!(second["data"]["coverImage"].as_str().unwrap(), first_url);
    assert_eq!(
        app.media_files().len(),
        2,
        "one avatar and the current cover"
    );
}

#[tokio::test]
async fn image_updates_refuse_bad_files_and_strangers() {
    let app = spawn_app().await;
    let login = app.signed_up("wendy").await;
    let before = app.media_files();
    let text = image_form(
        "avatar",
        "avatar.png",
        b"plain text pretending to be an image".to_vec(),
    );
    assert_eq!(
        upload(&app, &login, "/users/avatar", text).await.status(),
        StatusCode::BAD_REQUEST
    );
    let wrong_field = image_form("coverImage", "c.png", PNG.to_vec());
    let res = upload(&app, &login, "/users/avatar", wrong_field).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    body_of(res).await;
    let no_file = reqwest::multipart::Form::new().text("note", "hello");
    let res = upload(&app, &login, "/users/cover-image", no_file).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_fields(&body_of(res).await), ["coverImage"]);
    let mut big = PNG.to_vec();
    big.resize(6 * 1024 * 1024, 0);
    let res = upload(
        &app,
        &login,
        "/users/avatar",
        image_form("avatar", "big.png", big),
    )
    .await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);

    let res = app
        .client
        .patch(app.url("/users/avatar"))
        .multipart(image_form("avatar", "a.png", PNG.to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    body_of(res).await;

    assert_eq!(app.media_files(), before);
    assert!(app.spool_files().is_empty());
}
