//! Video likes and the creator dashboard.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{body_of, error_fields, listed, spawn_app, Login, TestApp};
use crate::videos::ready_video;

async fn post(app: &TestApp, login: &Login, path: &str) -> reqwest::Response {
    app.send(Method::POST, path, &login.access).await
}

async fn stats(app: &TestApp, login: &Login) -> Value {
    body_of(app.get_authed("/dashboard/stats", &login.access).await).await["data"].clone()
}

#[tokio::test]
async fn a_new_channel_has_zeros_not_an_error() {
    let app = spawn_app().await;
    let newcomer = app.signed_up("newcomer").await;
    assert_eq!(
        stats(&app, &newcomer).await,
        json!({ "totalVideos": 0, "totalViews": 0, "totalSubscribers": 0, "totalLikes": 0 })
    );
    let videos = listed(app.get_authed("/dashboard/videos", &newcomer.access).await).await;
    assert!(videos.items.is_empty());
    assert_eq!(videos.total, 0);
    assert!(!videos.links.contains_key("next"));
}

#[tokio::test]
async fn likes_toggle_and_count() {
    let app = spawn_app().await;
    let creator = app.signed_up("likeable").await;
    let fan = app.signed_up("liker").await;
    let id = ready_video(&app, &creator, "Likeable").await;
    let path = format!("/likes/toggle/v/{id}");
    let liked = body_of(post(&app, &fan, &path).await).await["data"].clone();
    assert_eq!(liked, json!({ "isLiked": true, "likesCount": 1 }));
    let also = body_of(post(&app, &creator, &path).await).await["data"].clone();
    assert_eq!(also, json!({ "isLiked": true, "likesCount": 2 }));
    let unliked = body_of(post(&app, &fan, &path).await).await["data"].clone();
    assert_eq!(unliked, json!({ "isLiked": false, "likesCount": 1 }));

    let res = post(&app, &fan, "/likes/toggle/v/nope").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_fields(&body_of(res).await), ["videoId"]);
    let res = post(&app, &fan, "/likes/toggle/v/0123456789abcdef01234567").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // A hidden video cannot be liked by others.
    app.client
        .patch(app.url(&format!("/videos/toggle/publish/{id}")))
        .bearer_auth(&creator.access)
        .send()
        .await
        .unwrap();
    assert_eq!(
        post(&app, &fan, &path).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn twenty_concurrent_like_toggles_leave_at_most_one_like_and_a_matching_count() {
    let app = spawn_app().await;
    let creator = app.signed_up("racer_channel").await;
    let fan = app.signed_up("racer_fan").await;
    let id = ready_video(&app, &creator, "Contested").await;
    let path = format!("/likes/toggle/v/{id}");
    let toggles = futures_util::future::join_all((0..20).map(|_| post(&app, &fan, &path))).await;
    assert!(toggles.iter().all(|r| r.status() == StatusCode::OK));
    for toggle in toggles {
        // Each answer agrees with its own effect: the fan's like is counted when it says liked.
        let answer = body_of(toggle).await["data"].clone();
        let liked = answer["isLiked"].as_bool().unwrap();
        assert_eq!(answer["likesCount"], u64::from(liked), "{answer}");
    }
    let likes = stats(&app, &creator).await["totalLikes"].as_u64().unwrap();
    assert!(likes <= 1, "{likes} likes");
    let next = body_of(post(&app, &fan, &path).await).await["data"].clone();
    assert_eq!(
        next["isLiked"],
        likes == 0,
        "the next toggle flips the real state"
    );
    assert_eq!(next["likesCount"], if likes == 0 { 1 } else { 0 });
}

#[tokio::test]
async fn the_dashboard_adds_up_the_channel() {
    let app = spawn_app().await;
    let creator = app.signed_up("studio").await;
    let fan = app.signed_up("audience").await;
    let first = ready_video(&app, &creator, "First").await;
    let second = ready_video(&app, &creator, "Second").await;
    app.get_authed(&format!("/videos/{first}"), &fan.access)
        .await;
    post(&app, &fan, &format!("/likes/toggle/v/{first}")).await;
    post(
        &app,
        &fan,
        &format!("/subscriptions/c/{}", creator.user["_id"].as_str().unwrap()),
    )
    .await;
    app.client
        .patch(app.url(&format!("/videos/toggle/publish/{second}")))
        .bearer_auth(&creator.access)
        .send()
        .await
        .unwrap();

    // The owner's own views while waiting for each video count too: one each.
    assert_eq!(
        stats(&app, &creator).await,
        json!({ "totalVideos": 2, "totalViews": 3, "totalSubscribers": 1, "totalLikes": 1 })
    );
    let videos = listed(app.get_authed("/dashboard/videos", &creator.access).await).await;
    assert_eq!(videos.total, 2);
    let rows: Vec<(Value, Value, Value)> = videos
        .items
        .iter()
        .map(|v| {
            (
                v["title"].clone(),
                v["isPublished"].clone(),
                v["likesCount"].clone(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (json!("Second"), json!(false), json!(0)),
            (json!("First"), json!(true), json!(1))
        ],
        "every state, newest first, with like counts"
    );
    let res = app
        .get_authed("/dashboard/videos?limit=0", &creator.access)
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // Deleting a video takes its likes with it.
    app.client
        .request(Method::DELETE, app.url(&format!("/videos/{first}")))
        .bearer_auth(&creator.access)
        .send()
        .await
        .unwrap();
    let after = stats(&app, &creator).await;
    assert_eq!(
        (after["totalVideos"].clone(), after["totalLikes"].clone()),
        (json!(1), json!(0))
    );
    let res = app
        .client
        .get(app.url("/dashboard/stats"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}
