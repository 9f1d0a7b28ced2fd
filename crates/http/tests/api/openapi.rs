//! The OpenAPI description against the router.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{spawn_app, spawn_app_with, TestApp};

const METHODS: [&str; 6] = ["get", "post", "put", "patch", "delete", "options"];

/// `(METHOD, path)` of every operation the spec describes.
fn documented(spec: &Value) -> BTreeSet<(String, String)> {
    spec["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect()
}

fn routed() -> BTreeSet<(String, String)> {
    videotube_http::routes::endpoints()
        .iter()
        .map(|e| (e.method.to_string(), format!("/api/v1{}", e.path)))
        .collect()
}

/// The path with its parameters filled in: ids that exist nowhere, a username.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| match segment {
            "{username}" => "nobody",
            s if s.starts_with('{') => "0123456789abcdef01234567",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

pub async fn served_spec(app: &TestApp) -> Value {
    let res = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

#[tokio::test]
async fn the_spec_describes_exactly_the_routes_the_router_serves() {
    let app = spawn_app().await;
    let spec = served_spec(&app).await;
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));

    let (documented, routed) = (documented(&spec), routed());
    let missing: Vec<_> = routed.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "routed but not in the spec: {missing:?}"
    );
    let phantom: Vec<_> = documented.difference(&routed).collect();
    assert!(
        phantom.is_empty(),
        "in the spec but not routed: {phantom:?}"
    );

    // The router really serves each of them: none is an unknown route or a wrong method.
    for (method, path) in &routed {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let res = app
            .client
            .request(method.clone(), format!("{}{}", app.address, concrete(path)))
            .send()
            .await
            .unwrap();
        let status = res.status();
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        // The reference page and its files, and tus discovery (headers alone), are the only
        // answers that are not the envelope.
        if !path.starts_with("/api/v1/docs") && status != StatusCode::NO_CONTENT {
            let body: Value = res.json().await.unwrap();
            assert_ne!(body["message"], "Route not found", "{method} {path}");
        }
    }
}

/// Each operation's security says what a request without a token gets: `[{}]` public, the
/// empty requirement beside the tokens readable anonymously (`APP_AUTH__PUBLIC_READS`, on by
/// default), tokens only 401. The served description follows the setting.
#[tokio::test]
async fn operations_the_spec_says_need_a_token_refuse_requests_without_one() {
    for (public_reads, anonymous_reads) in [("true", 8), ("false", 0)] {
        let app = spawn_app_with(&[("APP_AUTH__PUBLIC_READS", public_reads)]).await;
        let spec = served_spec(&app).await;
        let schemes = spec["components"]["securitySchemes"].as_object().unwrap();
        assert_eq!(schemes["bearerAuth"]["scheme"], "bearer");
        assert_eq!(schemes["cookieAuth"]["in"], "cookie");
        assert_eq!(schemes["cookieAuth"]["name"], "accessToken");

        let (mut secured, mut optional) = (0, 0);
        for (method, path) in documented(&spec) {
            let operation = &spec["paths"][&path][method.to_lowercase()];
            // An operation without its own `security` has the document's.
            let requirements = operation
                .get("security")
                .unwrap_or(&spec["security"])
                .as_array()
                .unwrap();
            let anonymous = requirements.contains(&serde_json::json!({}));
            assert!(
                operation["responses"]["500"]["content"]["application/json"].is_object(),
                "{method} {path} documents the error envelope"
            );
            if requirements.len() == 1 && anonymous {
                continue;
            }
            assert!(operation["responses"]["401"].is_object(), "{method} {path}");
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            let res = app
                .client
                .request(
                    method.clone(),
                    format!("{}{}", app.address, concrete(&path)),
                )
                .send()
                .await
                .unwrap();
            if anonymous {
                optional += 1;
                assert_ne!(res.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
                assert!(res.status().is_success() || res.status() == StatusCode::NOT_FOUND);
            } else {
                secured += 1;
                assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
            }
        }
        assert!(secured > 30, "{secured} secured operations");
        assert_eq!(optional, anonymous_reads, "public reads {public_reads}");
    }
}

/// The `data` schema of an operation's 200 answer, through the envelope's `$ref`.
fn data_schema<'a>(spec: &'a Value, path: &str) -> &'a Value {
    let envelope = &spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        ["schema"]["$ref"];
    let name = envelope.as_str().unwrap().rsplit('/').next().unwrap();
    &spec["components"]["schemas"][name]["properties"]["data"]
}

#[tokio::test]
async fn lists_are_described_as_arrays_with_paging_headers_or_as_pages() {
    let spec = served_spec(&spawn_app().await).await;
    for path in [
        "/api/v1/tweets/user/{userId}",
        "/api/v1/playlist/user/{userId}",
        "/api/v1/likes/videos",
        "/api/v1/dashboard/videos",
        "/api/v1/subscriptions/c/{channelId}",
        "/api/v1/subscriptions/u/{subscriberId}",
        "/api/v1/users/history",
    ] {
        assert_eq!(data_schema(&spec, path)["type"], "array", "{path}");
        let headers = &spec["paths"][path]["get"]["responses"]["200"]["headers"];
        for header in ["X-Total-Count", "Link"] {
            assert!(headers.get(header).is_some(), "{path} {header}");
        }
        let params = spec["paths"][path]["get"]["parameters"].to_string();
        assert!(params.contains("\"cursor\""), "{path}");
    }
    for path in ["/api/v1/videos", "/api/v1/comments/{videoId}"] {
        let properties = &data_schema(&spec, path)["properties"];
        for field in ["docs", "totalDocs", "nextCursor"] {
            assert!(properties.get(field).is_some(), "{path} {field}");
        }
    }
}
