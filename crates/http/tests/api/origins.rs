//! Media URLs of the local store follow the host a client used: stored as paths, made absolute
//! per request (from `PUBLIC_URL`, else the request's own host, through trusted proxies only).

use reqwest::StatusCode;
use videotube_infra::mongo::bson::{doc, Document};

use crate::helpers::{body_of, spawn_app, spawn_app_with, Login, TestApp};

async fn avatar(app: &TestApp, login: &Login, headers: &[(&str, &str)]) -> String {
    let mut request = app
        .client
        .get(app.url("/users/current-user"))
        .bearer_auth(&login.access);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let body = body_of(request.send().await.unwrap()).await;
    body["data"]["avatar"].as_str().unwrap().to_owned()
}

async fn stored_avatar(app: &TestApp, username: &str) -> String {
    let user = app
        .db
        .collection::<Document>("users")
        .find_one(doc! { "username": username })
        .await
        .unwrap()
        .unwrap();
    user.get_str("avatar").unwrap().to_owned()
}

#[tokio::test]
async fn media_urls_follow_the_host_the_client_used_and_are_stored_as_paths() {
    let app = spawn_app().await;
    let login = app.signed_up("wanderer").await;
    let stored = stored_avatar(&app, "wanderer").await;
    assert!(stored.starts_with("/media/avatars/"), "{stored}");

    let port = app.address.rsplit(':').next().unwrap();
    let host = format!("localhost:{port}");
    let url = avatar(&app, &login, &[("host", &host)]).await;
    assert_eq!(url, format!("http://{host}{stored}"));
    let served = app.client.get(&url).send().await.unwrap();
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(
        avatar(&app, &login, &[]).await,
        format!("{}{stored}", app.address)
    );
    // Lists carry them too.
    let channel = body_of(app.get_authed("/users/c/wanderer", &login.access).await).await;
    assert_eq!(
        channel["data"]["avatar"],
        format!("{}{stored}", app.address)
    );
}

#[tokio::test]
async fn urls_stored_absolute_by_earlier_versions_follow_a_moved_server() {
    let app = spawn_app().await;
    let login = app.signed_up("settler").await;
    let path = stored_avatar(&app, "settler").await;
    // As an earlier version stored it, on the port it ran at then.
    app.db
        .collection::<Document>("users")
        .update_one(
            doc! { "username": "settler" },
            doc! { "$set": { "avatar": format!("http://127.0.0.1:1{path}") } },
        )
        .await
        .unwrap();
    let url = avatar(&app, &login, &[]).await;
    assert_eq!(url, format!("{}{path}", app.address));
    let served = app.client.get(&url).send().await.unwrap();
    assert_eq!(served.status(), StatusCode::OK);

    // Anything else absolute (Cloudinary's) is shown as stored.
    let cloudinary = "https://res.cloudinary.com/demo/image/upload/v1/avatars/a.png";
    app.db
        .collection::<Document>("users")
        .update_one(
            doc! { "username": "settler" },
            doc! { "$set": { "avatar": cloudinary } },
        )
        .await
        .unwrap();
    assert_eq!(avatar(&app, &login, &[]).await, cloudinary);
}

#[tokio::test]
async fn forwarded_headers_count_only_from_trusted_proxies() {
    let forwarded = [
        ("x-forwarded-proto", "https"),
        ("x-forwarded-host", "tube.example"),
    ];
    let untrusting = spawn_app().await;
    let login = untrusting.signed_up("spoofer").await;
    let url = avatar(&untrusting, &login, &forwarded).await;
    assert!(
        url.starts_with(&format!("{}/media/", untrusting.address)),
        "{url}"
    );

    let behind_proxy =
        spawn_app_with(&[("APP_APPLICATION__TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1")]).await;
    let login = behind_proxy.signed_up("proxied").await;
    let url = avatar(&behind_proxy, &login, &forwarded).await;
    assert!(url.starts_with("https://tube.example/media/"), "{url}");
    let url = avatar(
        &behind_proxy,
        &login,
        &[(
            "forwarded",
            "for=192.0.2.1;proto=https;host=\"tube.example:8443\"",
        )],
    )
    .await;
    assert!(url.starts_with("https://tube.example:8443/media/"), "{url}");
}

#[tokio::test]
async fn a_public_url_wins_over_the_request() {
    let app = spawn_app_with(&[("PUBLIC_URL", "https://cdn.example/tube/")]).await;
    let login = app.signed_up("published").await;
    let url = avatar(&app, &login, &[("host", "elsewhere.example")]).await;
    assert!(
        url.starts_with("https://cdn.example/tube/media/avatars/"),
        "{url}"
    );
}

#[tokio::test]
async fn an_unparsable_trusted_proxy_refuses_to_start() {
    let mut env = std::collections::HashMap::new();
    env.insert(
        "APP_APPLICATION__TRUSTED_PROXIES".to_owned(),
        "10.0.0.0/8, proxy.internal".to_owned(),
    );
    env.insert("ACCESS_TOKEN_SECRET".to_owned(), "a".repeat(40));
    env.insert("REFRESH_TOKEN_SECRET".to_owned(), "b".repeat(40));
    let error = videotube_http::config::Settings::load(&env).unwrap_err();
    assert!(error.to_string().contains("proxy.internal"), "{error}");
}
