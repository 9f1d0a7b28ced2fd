//! Tweets and tweet likes.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{body_of, error_fields, listed, spawn_app, Listed, Login, TestApp};

async fn tweet(app: &TestApp, login: &Login, content: &str) -> String {
    let res = app
        .post_json_authed("/tweets", &login.access, json!({ "content": content }))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    body_of(res).await["data"]["_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn list(app: &TestApp, viewer: &Login, of: &Login, query: &str) -> Listed {
    let path = format!("/tweets/user/{}{query}", of.user["_id"].as_str().unwrap());
    listed(app.get_authed(&path, &viewer.access).await).await
}

#[tokio::test]
async fn tweets_are_listed_newest_first_with_likes() {
    let app = spawn_app().await;
    let author = app.signed_up("author").await;
    let reader = app.signed_up("reader").await;
    let first = tweet(&app, &author, "  first thought ").await;
    tweet(&app, &author, "second thought").await;

    let liked = app
        .post_json_authed(
            &format!("/likes/toggle/t/{first}"),
            &reader.access,
            json!({}),
        )
        .await;
    assert_eq!(
        body_of(liked).await["data"],
        json!({ "isLiked": true, "likesCount": 1 })
    );

    let page = list(&app, &reader, &author, "").await;
    let docs = &page.items;
    assert_eq!(page.total, 2);
    assert_eq!(docs[0]["content"], "second thought");
    assert_eq!(docs[1]["content"], "first thought");
    assert_eq!(
        (docs[1]["likesCount"].clone(), docs[1]["isLiked"].clone()),
        (json!(1), json!(true))
    );
    assert_eq!(
        (docs[0]["likesCount"].clone(), docs[0]["isLiked"].clone()),
        (json!(0), json!(false))
    );
    assert_eq!(docs[0]["ownerDetails"]["username"], "author");
    let mine = list(&app, &author, &author, "?limit=1&page=2").await;
    assert_eq!(mine.items[0]["isLiked"], false);
    assert!(mine.links["prev"].ends_with("?page=1&limit=1"));
}

#[tokio::test]
async fn only_the_owner_changes_a_tweet_and_bad_input_is_refused() {
    let app = spawn_app().await;
    let author = app.signed_up("owner_t").await;
    let other = app.signed_up("other_t").await;
    let id = tweet(&app, &author, "original").await;
    let path = format!("/tweets/{id}");

    let res = app
        .send_json(
            Method::PATCH,
            &path,
            &other.access,
            json!({ "content": "hijacked" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    body_of(res).await;
    let res = app
        .client
        .delete(app.url(&path))
        .bearer_auth(&other.access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let res = app
        .send_json(
            Method::PATCH,
            &path,
            &author.access,
            json!({ "content": "edited" }),
        )
        .await;
    assert_eq!(body_of(res).await["data"]["content"], "edited");

    for body in [
        json!({}),
        json!({ "content": "" }),
        json!({ "content": "x".repeat(281) }),
        json!({ "content": { "$gt": "" } }),
    ] {
        let res = app
            .post_json_authed("/tweets", &author.access, body.clone())
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(error_fields(&body_of(res).await), ["content"], "{body}");
    }
    let res = app
        .send_json(
            Method::PATCH,
            "/tweets/nope",
            &author.access,
            json!({ "content": "x" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = app
        .send_json(
            Method::PATCH,
            "/tweets/0123456789abcdef01234567",
            &author.access,
            json!({ "content": "x" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app
        .post_json_authed(
            "/likes/toggle/t/0123456789abcdef01234567",
            &author.access,
            json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app.get_authed("/tweets/user/nope", &author.access).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    let res = app
        .client
        .delete(app.url(&path))
        .bearer_auth(&author.access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(list(&app, &author, &author, "").await.total, 0);
    let res = app
        .client
        .delete(app.url(&path))
        .bearer_auth(&author.access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}
