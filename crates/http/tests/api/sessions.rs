use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{encode, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{json, Value};
use videotube_infra::mongo::bson::{doc, Document};

use crate::helpers::{body_of, error_fields, spawn_app, spawn_app_with, ACCESS_SECRET, PASSWORD};

fn set_cookies(res: &reqwest::Response) -> Vec<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

fn cookie_value<'a>(cookies: &'a [String], name: &str) -> &'a str {
    let cookie = cookies
        .iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap();
    cookie[name.len() + 1..].split(';').next().unwrap()
}

#[tokio::test]
async fn login_by_username_or_email_returns_tokens_and_sets_cookies() {
    let app = spawn_app().await;
    app.signed_up("carol").await;
    for body in [
        json!({ "username": "CAROL", "password": PASSWORD }),
        json!({ "email": "Carol@Example.com", "password": PASSWORD }),
    ] {
        let res = app.login_raw(body).await;
        assert_eq!(res.status(), StatusCode::OK);
        let cookies = set_cookies(&res);
        let body = body_of(res).await;
        assert_eq!(body["data"]["user"]["username"], "carol");
        let access = body["data"]["accessToken"].as_str().unwrap();
        let refresh = body["data"]["refreshToken"].as_str().unwrap();
        assert_eq!(cookie_value(&cookies, "accessToken"), access);
        assert_eq!(cookie_value(&cookies, "refreshToken"), refresh);
        for cookie in &cookies {
            assert!(cookie.contains("HttpOnly"), "{cookie}");
            assert!(
                cookie.contains("SameSite=Lax"),
                "original defect: cookies had no SameSite: {cookie}"
            );
            assert!(cookie.contains("Path=/"), "{cookie}");
            assert!(
                !cookie.contains("Secure"),
                "the local profile serves plain http: {cookie}"
            );
        }
        assert!(cookies
            .iter()
            .any(|c| c.starts_with("accessToken=") && c.contains("Max-Age=900")));
        assert!(cookies
            .iter()
            .any(|c| c.starts_with("refreshToken=") && c.contains("Max-Age=864000")));
    }
}

#[tokio::test]
async fn original_defect_cookies_carry_samesite_as_configured() {
    let app = spawn_app_with(&[("COOKIE_SAME_SITE", "none")]).await;
    app.signed_up("crosssite").await;
    let res = app
        .login_raw(json!({ "username": "crosssite", "password": PASSWORD }))
        .await;
    for cookie in set_cookies(&res) {
        assert!(
            cookie.contains("SameSite=None") && cookie.contains("Secure"),
            "{cookie}"
        );
    }
}

#[tokio::test]
async fn wrong_passwords_and_unknown_users_get_the_same_401() {
    let app = spawn_app().await;
    app.signed_up("dave").await;
    let wrong = body_of(
        app.login_raw(json!({ "username": "dave", "password": "not the password" }))
            .await,
    )
    .await;
    let unknown = body_of(
        app.login_raw(json!({ "username": "nobody", "password": "not the password" }))
            .await,
    )
    .await;
    assert_eq!(wrong["statusCode"], 401);
    assert_eq!(wrong, unknown);
}

#[tokio::test]
async fn login_refuses_operator_objects_and_missing_fields() {
    let app = spawn_app().await;
    app.signed_up("erin").await;
    let cases = [
        (
            json!({ "username": { "$gt": "" }, "password": { "$gt": "" } }),
            vec!["username", "password"],
        ),
        (
            json!({ "email": { "$ne": null }, "password": PASSWORD }),
            vec!["email"],
        ),
        (json!({ "username": "erin" }), vec!["password"]),
        (json!({ "password": PASSWORD }), vec!["username"]),
        (
            json!({ "username": 42, "password": true }),
            vec!["username", "password"],
        ),
        (
            json!({ "username": "erin", "password": "" }),
            vec!["password"],
        ),
    ];
    for (body, expected) in cases {
        let res = app.login_raw(body.clone()).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(error_fields(&body_of(res).await), expected, "{body}");
    }
    // Fields in order are not fields: serde would read an array into the body's struct.
    let res = app.login_raw(json!(["erin", null, PASSWORD])).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    body_of(res).await;
}

#[tokio::test]
async fn thirty_rapid_bad_logins_are_throttled_with_retry_after() {
    let app = spawn_app().await;
    app.signed_up("frank").await;
    let mut throttled = 0;
    for _ in 0..30 {
        let res = app
            .login_raw(json!({ "username": "frank", "password": "guess-guess" }))
            .await;
        match res.status() {
            StatusCode::UNAUTHORIZED => {}
            StatusCode::TOO_MANY_REQUESTS => {
                let wait: u64 = res.headers()["retry-after"]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!(wait >= 1);
                body_of(res).await;
                throttled += 1;
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert!(
        throttled >= 15,
        "only {throttled} of 30 attempts were throttled"
    );
    // The right password is throttled too while the account cools down.
    let res = app
        .login_raw(json!({ "username": "frank", "password": PASSWORD }))
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn an_account_has_one_login_budget_whether_named_by_username_or_email() {
    let app = spawn_app_with(&[
        ("APP_AUTH__LOGIN_PER_ACCOUNT__BURST", "4"),
        ("APP_AUTH__LOGIN_PER_ACCOUNT__REFILL_SECONDS", "3600"),
    ])
    .await;
    // Signing up logs in once: one attempt of four.
    app.signed_up("hedy").await;
    for _ in 0..3 {
        let res = app
            .login_raw(json!({ "username": "hedy", "password": "guess-guess" }))
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    for by in [
        json!({ "email": "hedy@example.com", "password": "guess-guess" }),
        json!({ "email": "HEDY@example.com", "password": PASSWORD }),
        json!({ "username": "HEDY", "password": PASSWORD }),
    ] {
        let res = app.login_raw(by.clone()).await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "{by}");
    }
    // Unknown names have budgets of their own, by their normalised form.
    for _ in 0..4 {
        let res = app
            .login_raw(json!({ "username": "Nobody", "password": "guess-guess" }))
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = app
        .login_raw(json!({ "username": "nobody", "password": "guess-guess" }))
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_access_token_works_as_cookie_and_as_bearer() {
    let app = spawn_app().await;
    let login = app.signed_up("grace").await;
    let res = app.get_authed("/users/current-user", &login.access).await;
    assert_eq!(body_of(res).await["data"]["username"], "grace");
    let res = app
        .client
        .get(app.url("/users/current-user"))
        .header("cookie", format!("accessToken={}", login.access))
        .send()
        .await
        .unwrap();
    assert_eq!(body_of(res).await["data"]["username"], "grace");
}

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

#[tokio::test]
async fn tampered_expired_unsigned_and_misused_tokens_are_401() {
    let app = spawn_app().await;
    let login = app.signed_up("heidi").await;
    let claims = claims_of(&login.access);

    let mut tampered_claims = claims.clone();
    tampered_claims["sub"] = json!("000000000000000000000000");
    let parts: Vec<&str> = login.access.split('.').collect();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(tampered_claims.to_string()),
        parts[2]
    );

    let mut expired_claims = claims.clone();
    expired_claims["exp"] = json!(chrono::Utc::now().timestamp() - 10);
    let expired = encode(
        &Header::default(),
        &expired_claims,
        &EncodingKey::from_secret(ACCESS_SECRET.as_bytes()),
    )
    .unwrap();

    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );

    for token in [
        tampered.as_str(),
        expired.as_str(),
        unsigned.as_str(),
        login.refresh.as_str(),
        "garbage",
        "",
    ] {
        let res = app.get_authed("/users/current-user", token).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{token}");
        body_of(res).await;
    }
    let res = app
        .client
        .get(app.url("/users/current-user"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn original_defect_refresh_rotates_and_sends_the_new_token() {
    let app = spawn_app().await;
    let login = app.signed_up("ivan").await;
    let res = app
        .client
        .post(app.url("/users/refresh-token"))
        .header("cookie", format!("refreshToken={}", login.refresh))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cookies = set_cookies(&res);
    let body = body_of(res).await;
    let new_refresh = body["data"]["refreshToken"].as_str().unwrap().to_owned();
    let new_access = body["data"]["accessToken"].as_str().unwrap().to_owned();
    assert_ne!(new_refresh, login.refresh);
    assert_eq!(cookie_value(&cookies, "refreshToken"), new_refresh);
    assert_eq!(cookie_value(&cookies, "accessToken"), new_access);
    assert_eq!(app.current_user_status(&new_access).await, StatusCode::OK);

    // The rotated token keeps working for the next refresh, through the body this time.
    let res = app.refresh_with(&new_refresh).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn reusing_a_replaced_refresh_token_revokes_the_session() {
    let app = spawn_app_with(&[("REFRESH_REUSE_GRACE_SECONDS", "0")]).await;
    let login = app.signed_up("judy").await;
    let rotated = body_of(app.refresh_with(&login.refresh).await).await;
    let new_refresh = rotated["data"]["refreshToken"].as_str().unwrap();
    let new_access = rotated["data"]["accessToken"].as_str().unwrap();

    let res = app.refresh_with(&login.refresh).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    body_of(res).await;
    // The thief's copy and the owner's current tokens are all dead now.
    assert_eq!(
        app.refresh_with(new_refresh).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.current_user_status(new_access).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.current_user_status(&login.access).await,
        StatusCode::UNAUTHORIZED
    );
    // Another login is a new session and works.
    let again = app.login("judy").await;
    assert_eq!(app.current_user_status(&again.access).await, StatusCode::OK);
}

#[tokio::test]
async fn a_refresh_whose_session_write_was_lost_still_hands_out_a_working_token() {
    let app = spawn_app_with(&[("REFRESH_REUSE_GRACE_SECONDS", "0")]).await;
    let login = app.signed_up("lena").await;
    let sessions = app.db.collection::<Document>("sessions");
    let before = sessions.find_one(doc! {}).await.unwrap().unwrap();
    let rotated = body_of(app.refresh_with(&login.refresh).await).await;
    let next = rotated["data"]["refreshToken"].as_str().unwrap();
    // As if the process had died between spending the token and updating its session.
    sessions
        .replace_one(
            doc! { "_id": before.get_object_id("_id").unwrap() },
            before.clone(),
        )
        .await
        .unwrap();
    let res = app.refresh_with(next).await;
    assert_eq!(res.status(), StatusCode::OK, "{}", body_of(res).await);
    assert_eq!(
        app.refresh_with(&login.refresh).await.status(),
        StatusCode::UNAUTHORIZED,
        "the spent token is still spent"
    );
}

#[tokio::test]
async fn the_sweep_deletes_sessions_that_ended() {
    let app = spawn_app().await;
    let login = app.signed_up("mona").await;
    let sessions = app.db.collection::<Document>("sessions");
    let res = app
        .send(reqwest::Method::POST, "/users/logout", &login.access)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(sessions.count_documents(doc! {}).await.unwrap(), 1);
    // What the sweeper runs; through the app's database proxy, so that the sweeps' queries
    // also go through the index check.
    app.services.users.sweep_sessions().await.unwrap();
    app.services.watching.sweep_view_records().await.unwrap();
    assert_eq!(
        sessions.count_documents(doc! {}).await.unwrap(),
        0,
        "the revoked session was swept"
    );
    let again = app.login("mona").await;
    assert_eq!(app.current_user_status(&again.access).await, StatusCode::OK);
}

#[tokio::test]
async fn parallel_refreshes_within_the_grace_both_succeed_once() {
    let app = spawn_app().await;
    let login = app.signed_up("ken").await;
    let (a, b) = tokio::join!(
        app.refresh_with(&login.refresh),
        app.refresh_with(&login.refresh)
    );
    assert_eq!((a.status(), b.status()), (StatusCode::OK, StatusCode::OK));
    let b = body_of(b).await;
    assert_eq!(
        app.current_user_status(b["data"]["accessToken"].as_str().unwrap())
            .await,
        StatusCode::OK
    );

    // Accepted once more, not forever: the third use of the original token is theft.
    let res = app.refresh_with(&login.refresh).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn refresh_refuses_missing_garbage_and_access_tokens() {
    let app = spawn_app().await;
    let login = app.signed_up("leo").await;
    let no_token = app
        .client
        .post(app.url("/users/refresh-token"))
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), StatusCode::UNAUTHORIZED);
    body_of(no_token).await;
    for token in ["garbage", login.access.as_str()] {
        assert_eq!(
            app.refresh_with(token).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let res = app
        .post_json(
            "/users/refresh-token",
            json!({ "refreshToken": { "$gt": "" } }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_fields(&body_of(res).await), ["refreshToken"]);
    let res = app
        .client
        .post(app.url("/users/refresh-token"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    body_of(res).await;
}

#[tokio::test]
async fn original_defect_logout_revokes_the_tokens_and_clears_cookies() {
    let app = spawn_app().await;
    let login = app.signed_up("mallory").await;
    let res = app
        .client
        .post(app.url("/users/logout"))
        .bearer_auth(&login.access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cookies = set_cookies(&res);
    for name in ["accessToken", "refreshToken"] {
        assert_eq!(cookie_value(&cookies, name), "");
    }
    assert!(cookies.iter().all(|c| c.contains("Max-Age=0")));
    body_of(res).await;
    assert_eq!(
        app.current_user_status(&login.access).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.refresh_with(&login.refresh).await.status(),
        StatusCode::UNAUTHORIZED
    );

    let res = app
        .client
        .post(app.url("/users/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}
