//! The security review's findings, kept: headers, throttles, token signatures and key rotation,
//! multipart limits.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::multipart::Form;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

use crate::helpers::{
    body_of, image_form, spawn_app, spawn_app_with, RegisterForm, TestApp, ACCESS_SECRET, PNG,
};

fn assert_security_headers(res: &reqwest::Response, what: &str) {
    let header = |name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(header("x-frame-options"), "DENY", "{what}");
    assert_eq!(header("referrer-policy"), "no-referrer", "{what}");
    assert!(
        header("content-security-policy").contains("default-src 'none'"),
        "{what}"
    );
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let app = spawn_app().await;
    let login = app.signed_up("headers").await;
    for (path, status) in [
        ("/healthcheck", StatusCode::OK),
        ("/nope", StatusCode::NOT_FOUND),
        ("/users/current-user", StatusCode::UNAUTHORIZED),
    ] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), status);
        assert_security_headers(&res, path);
        assert_eq!(res.headers()["cache-control"], "no-store", "{path}");
    }
    let res = app.get_authed("/users/current-user", &login.access).await;
    assert_security_headers(&res, "an authenticated answer");
    let avatar = login.user["avatar"].as_str().unwrap();
    let res = app.client.get(avatar).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_security_headers(&res, "a media file");
    let caching = res.headers()["cache-control"].to_str().unwrap();
    assert!(
        caching.contains("max-age"),
        "media keep their caching: {caching}"
    );
}

#[tokio::test]
async fn register_and_refresh_are_limited_per_client() {
    let app = spawn_app_with(&[
        ("APP_AUTH__REGISTER_PER_IP__BURST", "2"),
        ("APP_AUTH__REGISTER_PER_IP__REFILL_SECONDS", "3600"),
        ("APP_AUTH__REFRESH_PER_IP__BURST", "2"),
        ("APP_AUTH__REFRESH_PER_IP__REFILL_SECONDS", "3600"),
    ])
    .await;
    let first = app.signed_up("first_client").await;
    app.signed_up("second_client").await;
    let res = app.register(RegisterForm::new("third_client")).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait > 60, "{wait}");
    body_of(res).await;
    assert!(app.spool_files().is_empty());
    assert_eq!(
        app.media_files().len(),
        2,
        "no file stored for the refused one"
    );

    let mut refresh = first.refresh.clone();
    for _ in 0..2 {
        let res = app.refresh_with(&refresh).await;
        assert_eq!(res.status(), StatusCode::OK);
        refresh = body_of(res).await["data"]["refreshToken"]
            .as_str()
            .unwrap()
            .to_owned();
    }
    let res = app.refresh_with(&refresh).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    body_of(res).await;
}

/// Tokens are HS256 with the server's secret, pinned: another algorithm is refused even when
/// signed with the right secret, and an RS256 header never makes the server try a public key.
#[tokio::test]
async fn tokens_signed_any_other_way_are_refused() {
    let app = spawn_app().await;
    let login = app.signed_up("pinned").await;
    let claims: Value = {
        let payload = login.access.split('.').nth(1).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
    };
    let with = |algorithm: Algorithm| {
        let mut header = Header::new(algorithm);
        header.typ = Some("JWT".into());
        encode(
            &header,
            &claims,
            &EncodingKey::from_secret(ACCESS_SECRET.as_bytes()),
        )
        .unwrap()
    };
    let same_signature = login.access.split('.').nth(2).unwrap();
    let rs256 = format!(
        "{}.{}.{same_signature}",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","typ":"JWT"}"#),
        login.access.split('.').nth(1).unwrap(),
    );
    let none_upper = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"NONE","typ":"JWT"}"#),
        login.access.split('.').nth(1).unwrap(),
    );
    for (what, token) in [
        ("HS384 with the right secret", with(Algorithm::HS384)),
        ("HS512 with the right secret", with(Algorithm::HS512)),
        ("an RS256 header on an HS256 signature", rs256),
        ("alg NONE", none_upper),
    ] {
        let res = app.get_authed("/users/current-user", &token).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{what}");
    }
    let res = app.get_authed("/users/current-user", &login.access).await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "the genuine token still works"
    );
}

/// Changing ACCESS_TOKEN_SECRET and REFRESH_TOKEN_SECRET signs everyone out: tokens signed with
/// the old keys are refused (sessions in the database cannot be resumed with them), logging in
/// again works. There is no overlap window (README, "Configuration").
#[tokio::test]
async fn rotating_the_signing_keys_signs_everyone_out() {
    let db_name = format!("test_{}", uuid::Uuid::new_v4().simple());
    let before = spawn_app_with(&[("DB_NAME", &db_name)]).await;
    let old = before.signed_up("rotated").await;
    let after = spawn_app_with(&[
        ("DB_NAME", &db_name),
        (
            "ACCESS_TOKEN_SECRET",
            "a-new-access-secret-after-the-rotation",
        ),
        (
            "REFRESH_TOKEN_SECRET",
            "a-new-refresh-secret-after-the-rotation",
        ),
    ])
    .await;
    assert_eq!(
        after.current_user_status(&old.access).await,
        StatusCode::UNAUTHORIZED
    );
    let res = after.refresh_with(&old.refresh).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    body_of(res).await;
    let new = after.login("rotated").await;
    assert_eq!(after.current_user_status(&new.access).await, StatusCode::OK);
    assert_eq!(
        before.current_user_status(&new.access).await,
        StatusCode::UNAUTHORIZED,
        "the old keys do not accept the new tokens either"
    );
}

#[tokio::test]
async fn multipart_forms_are_bounded_in_parts_and_field_size() {
    let app = spawn_app().await;
    let mut many = image_form("avatar", "a.png", PNG.to_vec());
    for i in 0..40 {
        many = many.text(format!("extra{i}"), "x");
    }
    let res = app
        .client
        .post(app.url("/users/register"))
        .multipart(many)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(body_of(res).await["message"]
        .as_str()
        .unwrap()
        .contains("at most"));

    let huge = Form::new().text("fullName", "x".repeat(70 * 1024)).part(
        "avatar",
        reqwest::multipart::Part::bytes(PNG.to_vec())
            .file_name("a.png")
            .mime_str("image/png")
            .unwrap(),
    );
    let res = app
        .client
        .post(app.url("/users/register"))
        .multipart(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let message = body_of(res).await["message"].as_str().unwrap().to_owned();
    assert_eq!(message, "fullName is too long");
    assert!(app.spool_files().is_empty());
    assert!(app.media_files().is_empty());
    let json_ok = app
        .post_json(
            "/users/login",
            json!({ "username": "nobody", "password": "x" }),
        )
        .await;
    assert_eq!(
        json_ok.status(),
        StatusCode::UNAUTHORIZED,
        "the app still answers"
    );
}

/// Sends `body` whole (its length declared) to `path` as multipart with boundary `XyZ`, and
/// reads the answer's status line, waiting at most `patience`.
async fn raw_multipart(
    app: &TestApp,
    method: &str,
    path: &str,
    access: Option<&str>,
    body: &[u8],
    patience: Duration,
) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let auth = access
        .map(|a| format!("Authorization: Bearer {a}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "{method} /api/v1{path} HTTP/1.1\r\nHost: {address}\r\n{auth}\
         Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut answer = vec![0; 1024];
    let read = tokio::time::timeout(patience, stream.read(&mut answer)).await;
    let n = read.ok()?.ok()?;
    Some(
        String::from_utf8_lossy(&answer[..n])
            .lines()
            .next()?
            .to_owned(),
    )
}

#[tokio::test]
async fn a_multipart_body_without_its_closing_delimiter_is_a_400_and_leaves_no_file() {
    let app = spawn_app().await;
    let login = app.signed_up("truncator").await;
    let unclosed_file = |field: &str, name: &str, bytes: &[u8]| {
        let mut body = format!(
            "--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nCut\r\n\
             --XyZ\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
        body
    };
    let mp4 = crate::samples::mp4(1_000);
    let access = Some(login.access.as_str());
    let cases: [(&str, &str, Option<&str>, Vec<u8>); 5] = [
        (
            "POST",
            "/videos",
            access,
            unclosed_file("videoFile", "v.mp4", &mp4),
        ),
        (
            "POST",
            "/users/register",
            None,
            unclosed_file("avatar", "a.png", PNG),
        ),
        (
            "PATCH",
            "/users/avatar",
            access,
            unclosed_file("avatar", "a.png", PNG),
        ),
        // Cut inside a part's headers, and a body that is a lone delimiter.
        (
            "POST",
            "/videos",
            access,
            b"--XyZ\r\nContent-Disposition: form-da".to_vec(),
        ),
        ("POST", "/videos", access, b"--XyZ\r\n".to_vec()),
    ];
    for (method, path, access, body) in cases {
        let started = std::time::Instant::now();
        let patience = Duration::from_secs(10);
        let status = raw_multipart(&app, method, path, access, &body, patience).await;
        let status = status.unwrap_or_else(|| panic!("{path}: no answer within 10 s"));
        assert!(status.contains(" 400 "), "{path}: {status}");
        let took = started.elapsed();
        assert!(took < Duration::from_secs(2), "{path}: {took:?}");
    }
    assert!(app.spool_becomes(true).await, "{:?}", app.spool_files());
    let media = app.media_files();
    assert!(!media.iter().any(|f| f.contains("video")), "{media:?}");
}

#[tokio::test]
async fn cookie_writes_from_other_sites_are_refused_once_cookies_go_cross_site() {
    let app = spawn_app_with(&[
        ("COOKIE_SAME_SITE", "none"),
        ("CORS_ORIGIN", "https://app.example"),
    ])
    .await;
    let login = app.signed_up("forgery_target").await;
    let cookie = format!("accessToken={}", login.access);
    let tweet = |headers: Vec<(&'static str, String)>| {
        let mut request = app
            .client
            .post(app.url("/tweets"))
            .json(&json!({ "content": "written by whom?" }));
        for (name, value) in headers {
            request = request.header(name, value);
        }
        async move { request.send().await.unwrap() }
    };
    let with_cookie = |extra: &[(&'static str, &str)]| {
        let mut headers = vec![("cookie", cookie.clone())];
        headers.extend(extra.iter().map(|(n, v)| (*n, (*v).to_owned())));
        headers
    };

    for refused in [
        with_cookie(&[("origin", "https://evil.example")]),
        with_cookie(&[("origin", "null")]),
        with_cookie(&[("sec-fetch-site", "cross-site")]),
    ] {
        let res = tweet(refused.clone()).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{refused:?}");
        body_of(res).await;
    }
    for allowed in [
        with_cookie(&[("origin", "https://app.example")]),
        with_cookie(&[("origin", app.address.as_str())]),
        with_cookie(&[("sec-fetch-site", "same-origin")]),
        // Not a browser: no Origin, no Sec-Fetch-Site.
        with_cookie(&[]),
        // A Bearer token is never attached by another site.
        vec![
            ("authorization", format!("Bearer {}", login.access)),
            ("origin", "https://evil.example".to_owned()),
        ],
    ] {
        let res = tweet(allowed.clone()).await;
        assert_eq!(res.status(), StatusCode::CREATED, "{allowed:?}");
    }
    // Reading is not a write.
    let res = app
        .client
        .get(app.url("/users/current-user"))
        .header("cookie", &cookie)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // Nor may another site rotate the refresh token the cookie holds.
    let res = app
        .client
        .post(app.url("/users/refresh-token"))
        .header("cookie", format!("refreshToken={}", login.refresh))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let tweets = app
        .get_authed(
            &format!("/tweets/user/{}", login.user["_id"].as_str().unwrap()),
            &login.access,
        )
        .await;
    assert_eq!(
        tweets.headers()["x-total-count"],
        "5",
        "only the allowed writes landed"
    );
}

#[tokio::test]
async fn lookalike_emails_and_invisible_text_are_refused() {
    let app = spawn_app().await;
    let login = app.signed_up("original").await;
    for (email, what) in [
        ("origin\u{0430}l@example.com", "a Cyrillic letter"),
        ("orig\u{200D}inal@example.com", "a zero-width joiner"),
        ("\u{FF4F}riginal@example.com", "a fullwidth letter"),
    ] {
        let mut form = RegisterForm::new("lookalike");
        form.email = email.to_owned();
        let res = app.register(form).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{what}");
        assert_eq!(
            crate::helpers::error_fields(&body_of(res).await),
            ["email"],
            "{what}"
        );
    }
    let mut form = RegisterForm::new("invisible");
    form.full_name = "\u{200B}\u{200B}\u{2060}".to_owned();
    let res = app.register(form).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        crate::helpers::error_fields(&body_of(res).await),
        ["fullName"]
    );
    assert!(app.spool_files().is_empty());

    let res = app
        .post_json_authed(
            "/tweets",
            &login.access,
            json!({ "content": "\u{200B}\u{200B}" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        crate::helpers::error_fields(&body_of(res).await),
        ["content"]
    );
    let res = app
        .send_json(
            reqwest::Method::PATCH,
            "/users/update-account",
            &login.access,
            json!({ "fullName": "\u{202E}\u{FEFF}" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn stored_file_names_are_128_random_bits_not_ids() {
    let app = spawn_app().await;
    let login = app.signed_up("namer").await;
    let id = crate::videos::ready_video(&app, &login, "Named").await;
    let video = body_of(
        app.get_authed(&format!("/videos/{id}"), &login.access)
            .await,
    )
    .await;
    let name_of = |url: &str| {
        let file = url.rsplit('/').next().unwrap();
        file.split('.').next().unwrap().to_owned()
    };
    for url in [
        video["data"]["videoFile"].as_str().unwrap(),
        video["data"]["thumbnail"].as_str().unwrap(),
        login.user["avatar"].as_str().unwrap(),
    ] {
        let name = name_of(url);
        assert_eq!(name.len(), 32, "{url}");
        assert!(name.bytes().all(|b| b.is_ascii_hexdigit()), "{url}");
        // Not the ObjectId of anything (24 hex digits) a client could bracket by time.
        let path = url.split('?').next().unwrap();
        assert!(!path.contains(&id), "{url}");
    }
}
