//! Comments and comment likes.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use videotube_infra::mongo::bson::{doc, Document};

use crate::helpers::{body_of, error_fields, spawn_app, Login, TestApp};
use crate::videos::ready_video;

const ABSENT: &str = "0123456789abcdef01234567";

async fn comment(app: &TestApp, login: &Login, video: &str, content: &str) -> String {
    let res = app
        .post_json_authed(
            &format!("/comments/{video}"),
            &login.access,
            json!({ "content": content }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    body_of(res).await["data"]["_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn list(app: &TestApp, viewer: &Login, video: &str, query: &str) -> Value {
    let res = app
        .get_authed(&format!("/comments/{video}{query}"), &viewer.access)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    body_of(res).await["data"].clone()
}

async fn toggle_like(app: &TestApp, login: &Login, comment: &str) -> reqwest::Response {
    app.send(
        Method::POST,
        &format!("/likes/toggle/c/{comment}"),
        &login.access,
    )
    .await
}

#[tokio::test]
async fn comments_are_listed_newest_first_with_owners_and_likes() {
    let app = spawn_app().await;
    let creator = app.signed_up("creator_c").await;
    let viewer = app.signed_up("viewer_c").await;
    let video = ready_video(&app, &creator, "Commented").await;
    let first = comment(&app, &viewer, &video, "  first!  ").await;
    comment(&app, &creator, &video, "thanks for watching").await;

    let liked = toggle_like(&app, &creator, &first).await;
    assert_eq!(
        body_of(liked).await["data"],
        json!({ "isLiked": true, "likesCount": 1 })
    );

    let page = list(&app, &viewer, &video, "").await;
    assert_eq!(page["totalDocs"], 2);
    let docs = page["docs"].as_array().unwrap();
    assert_eq!(docs[0]["content"], "thanks for watching");
    assert_eq!(docs[0]["owner"]["username"], "creator_c");
    assert_eq!(docs[1]["content"], "first!", "trimmed");
    assert_eq!(docs[1]["owner"]["username"], "viewer_c");
    assert_eq!(docs[1]["video"], video);
    assert_eq!(
        (docs[1]["likesCount"].clone(), docs[1]["isLiked"].clone()),
        (json!(1), json!(false)),
        "liked by the creator, not by this viewer"
    );
    let as_creator = list(&app, &creator, &video, "?page=2&limit=1").await;
    assert_eq!(as_creator["docs"][0]["isLiked"], true);
    assert_eq!(as_creator["hasPrevPage"], true);
    assert_eq!(as_creator["totalPages"], 2);

    let unliked = toggle_like(&app, &creator, &first).await;
    assert_eq!(
        body_of(unliked).await["data"],
        json!({ "isLiked": false, "likesCount": 0 })
    );
}

#[tokio::test]
async fn only_the_owner_edits_or_deletes_a_comment_and_deleting_removes_its_likes() {
    let app = spawn_app().await;
    let creator = app.signed_up("creator_e").await;
    let author = app.signed_up("author_e").await;
    let video = ready_video(&app, &creator, "Edited").await;
    let id = comment(&app, &author, &video, "original").await;
    let path = format!("/comments/c/{id}");
    toggle_like(&app, &creator, &id).await;

    // Not even the video's owner may change someone else's comment.
    let res = app
        .send_json(
            Method::PATCH,
            &path,
            &creator.access,
            json!({ "content": "hijacked" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    body_of(res).await;
    let res = app.send(Method::DELETE, &path, &creator.access).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let res = app
        .send_json(
            Method::PATCH,
            &path,
            &author.access,
            json!({ "content": " edited " }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let edited = body_of(res).await["data"].clone();
    assert_eq!(edited["content"], "edited");
    assert_eq!(edited["owner"]["_id"], author.user["_id"]);

    let res = app.send(Method::DELETE, &path, &author.access).await;
    assert_eq!(res.status(), StatusCode::OK);
    body_of(res).await;
    assert_eq!(list(&app, &creator, &video, "").await["totalDocs"], 0);
    assert_eq!(
        app.send(Method::DELETE, &path, &author.access)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        toggle_like(&app, &creator, &id).await.status(),
        StatusCode::NOT_FOUND
    );
    let likes = app
        .db
        .collection::<Document>("likes")
        .count_documents(doc! { "target": format!("comment:{id}") })
        .await
        .unwrap();
    assert_eq!(likes, 0, "the comment's likes went with it");
}

#[tokio::test]
async fn a_comment_on_a_video_hidden_since_cannot_be_edited_but_can_be_deleted() {
    let app = spawn_app().await;
    let creator = app.signed_up("creator_h").await;
    let author = app.signed_up("author_h").await;
    let video = ready_video(&app, &creator, "Soon hidden").await;
    let id = comment(&app, &author, &video, "said in public").await;
    let res = app
        .send(
            Method::PATCH,
            &format!("/videos/toggle/publish/{video}"),
            &creator.access,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    let path = format!("/comments/c/{id}");
    let res = app
        .send_json(
            Method::PATCH,
            &path,
            &author.access,
            json!({ "content": "edited in the dark" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    body_of(res).await;
    let stored = app
        .db
        .collection::<Document>("comments")
        .find_one(doc! {})
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.get_str("content").unwrap(), "said in public");
    let res = app.send(Method::DELETE, &path, &author.access).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn bad_input_and_unknown_or_hidden_videos_are_refused() {
    let app = spawn_app().await;
    let creator = app.signed_up("creator_b").await;
    let other = app.signed_up("other_b").await;
    let video = ready_video(&app, &creator, "Strict").await;
    let path = format!("/comments/{video}");

    for body in [
        json!({}),
        json!({ "content": "" }),
        json!({ "content": "   " }),
        json!({ "content": "x".repeat(1001) }),
        json!({ "content": { "$gt": "" } }),
        json!({ "content": 42 }),
        json!({ "content": ["a"] }),
    ] {
        let res = app
            .post_json_authed(&path, &other.access, body.clone())
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(error_fields(&body_of(res).await), ["content"], "{body}");
    }
    let longest = json!({ "content": "é".repeat(1000) });
    let res = app.post_json_authed(&path, &other.access, longest).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = app
        .client
        .post(app.url(&path))
        .bearer_auth(&other.access)
        .header("content-type", "application/json")
        .body("[1, 2]")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    body_of(res).await;

    let ok = json!({ "content": "hello" });
    for (path, status, field) in [
        (
            "/comments/nope".to_owned(),
            StatusCode::BAD_REQUEST,
            Some("videoId"),
        ),
        (format!("/comments/{ABSENT}"), StatusCode::NOT_FOUND, None),
    ] {
        let res = app.post_json_authed(&path, &other.access, ok.clone()).await;
        assert_eq!(res.status(), status, "{path}");
        let body = body_of(res).await;
        if let Some(field) = field {
            assert_eq!(error_fields(&body), [field]);
        }
        let res = app.get_authed(&path, &other.access).await;
        assert_eq!(res.status(), status, "{path}");
    }
    for (method, path, status) in [
        (
            Method::PATCH,
            "/comments/c/nope".to_owned(),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::PATCH,
            format!("/comments/c/{ABSENT}"),
            StatusCode::NOT_FOUND,
        ),
        (
            Method::DELETE,
            "/comments/c/nope".to_owned(),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::DELETE,
            format!("/comments/c/{ABSENT}"),
            StatusCode::NOT_FOUND,
        ),
        (
            Method::POST,
            "/likes/toggle/c/nope".to_owned(),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            format!("/likes/toggle/c/{ABSENT}"),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let res = app
            .send_json(method.clone(), &path, &other.access, ok.clone())
            .await;
        assert_eq!(res.status(), status, "{method} {path}");
        body_of(res).await;
    }
    let res = app
        .client
        .get(app.url(&path))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // A hidden video's comments are as invisible as the video, to everyone but its owner.
    let id = comment(&app, &other, &video, "seen before it was hidden").await;
    app.send(
        Method::PATCH,
        &format!("/videos/toggle/publish/{video}"),
        &creator.access,
    )
    .await;
    for res in [
        app.get_authed(&path, &other.access).await,
        app.post_json_authed(&path, &other.access, ok.clone()).await,
        toggle_like(&app, &other, &id).await,
    ] {
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        body_of(res).await;
    }
    assert_eq!(list(&app, &creator, &video, "").await["totalDocs"], 2);
}

#[tokio::test]
async fn twenty_concurrent_comment_like_toggles_leave_at_most_one_like() {
    let app = spawn_app().await;
    let creator = app.signed_up("creator_r").await;
    let fan = app.signed_up("fan_r").await;
    let video = ready_video(&app, &creator, "Raced").await;
    let id = comment(&app, &creator, &video, "like me").await;
    let toggles =
        futures_util::future::join_all((0..20).map(|_| toggle_like(&app, &fan, &id))).await;
    assert!(toggles.iter().all(|r| r.status() == StatusCode::OK));
    for toggle in toggles {
        let answer = body_of(toggle).await["data"].clone();
        let liked = answer["isLiked"].as_bool().unwrap();
        assert_eq!(answer["likesCount"], u64::from(liked), "{answer}");
    }
    let likes = app
        .db
        .collection::<Document>("likes")
        .count_documents(doc! { "target": format!("comment:{id}") })
        .await
        .unwrap();
    assert!(likes <= 1, "{likes} likes");
    let listed = list(&app, &fan, &video, "").await["docs"][0].clone();
    assert_eq!(listed["likesCount"], likes);
    assert_eq!(listed["isLiked"], likes == 1);
}
