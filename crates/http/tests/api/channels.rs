//! Channels and subscriptions.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{body_of, error_fields, listed, spawn_app, Login, TestApp};

async fn toggle(app: &TestApp, who: &Login, channel: &str) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/subscriptions/c/{channel}")))
        .bearer_auth(&who.access)
        .send()
        .await
        .unwrap()
}

fn id_of(login: &Login) -> String {
    login.user["_id"].as_str().unwrap().to_owned()
}

async fn profile(app: &TestApp, viewer: &Login, username: &str) -> Value {
    body_of(
        app.get_authed(&format!("/users/c/{username}"), &viewer.access)
            .await,
    )
    .await["data"]
        .clone()
}

fn usernames(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|u| u["username"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn subscribing_toggles_and_the_channel_counts_follow() {
    let app = spawn_app().await;
    let ann = app.signed_up("ann").await;
    let bob = app.signed_up("bob").await;
    let cat = app.signed_up("cat").await;

    let res = toggle(&app, &ann, &id_of(&bob)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        body_of(res).await["data"],
        json!({ "isSubscribed": true, "subscribed": true }),
        "both names the community's front ends read"
    );
    toggle(&app, &cat, &id_of(&bob)).await;
    toggle(&app, &bob, &id_of(&ann)).await;

    let channel = profile(&app, &ann, "bob").await;
    assert_eq!(channel["subscribersCount"], 2);
    assert_eq!(channel["channelsSubscribedToCount"], 1);
    assert_eq!(channel["isSubscribed"], true);
    assert_eq!(channel["username"], "bob");
    assert_eq!(channel["email"], "bob@example.com");
    assert_eq!(channel["coverImage"], "");
    assert!(channel["avatar"]
        .as_str()
        .unwrap()
        .contains("/media/avatars/"));

    let res = toggle(&app, &ann, &id_of(&bob)).await;
    assert_eq!(body_of(res).await["data"]["isSubscribed"], false);
    let channel = profile(&app, &ann, "BOB").await;
    assert_eq!(
        (
            channel["subscribersCount"].clone(),
            channel["isSubscribed"].clone()
        ),
        (1.into(), false.into())
    );
    let own = profile(&app, &bob, "bob").await;
    assert_eq!(own["isSubscribed"], false);
}

#[tokio::test]
async fn original_defect_subscription_lists_are_not_swapped() {
    let app = spawn_app().await;
    let star = app.signed_up("star").await;
    let first = app.signed_up("first").await;
    let second = app.signed_up("second").await;
    toggle(&app, &first, &id_of(&star)).await;
    toggle(&app, &second, &id_of(&star)).await;

    let subscribers = listed(
        app.get_authed(&format!("/subscriptions/c/{}", id_of(&star)), &first.access)
            .await,
    )
    .await;
    assert_eq!(
        usernames(&subscribers.items),
        ["second", "first"],
        "the channel's subscribers, newest first, as a plain array"
    );
    assert_eq!(subscribers.total, 2);
    assert_eq!(subscribers.items[0]["fullName"], "second Tester");

    let followed = listed(
        app.get_authed(
            &format!("/subscriptions/u/{}", id_of(&first)),
            &first.access,
        )
        .await,
    )
    .await;
    assert_eq!(
        usernames(&followed.items),
        ["star"],
        "the channels the user follows"
    );

    let paged = listed(
        app.get_authed(
            &format!("/subscriptions/c/{}?limit=1&page=2", id_of(&star)),
            &first.access,
        )
        .await,
    )
    .await;
    assert_eq!(usernames(&paged.items), ["first"]);
    assert_eq!(paged.total, 2);
    assert!(paged.links["prev"].ends_with("?page=1&limit=1"));
    assert!(paged.links["last"].ends_with("?page=2&limit=1"));
    // A full page goes on by cursor: past the last subscriber, nothing.
    let after_last = listed(
        app.client
            .get(&paged.links["next"])
            .bearer_auth(&first.access)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(after_last.items.is_empty());
    assert_eq!(after_last.total, 2);
}

#[tokio::test]
async fn twenty_concurrent_toggles_leave_at_most_one_subscription() {
    let app = spawn_app().await;
    let channel = app.signed_up("target").await;
    let fan = app.signed_up("clicker").await;
    let channel_id = id_of(&channel);
    let toggles = (0..20).map(|_| toggle(&app, &fan, &channel_id));
    let statuses: Vec<StatusCode> = futures_util::future::join_all(toggles)
        .await
        .iter()
        .map(|r| r.status())
        .collect();
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    let after = profile(&app, &fan, "target").await;
    let count = after["subscribersCount"].as_u64().unwrap();
    assert!(count <= 1, "{count} subscriptions");
    assert_eq!(after["isSubscribed"], count == 1);
    // And the next toggle flips that state cleanly.
    let flipped = body_of(toggle(&app, &fan, &channel_id).await).await;
    assert_eq!(flipped["data"]["isSubscribed"], count == 0);
}

#[tokio::test]
async fn bad_subscription_requests_are_refused() {
    let app = spawn_app().await;
    let me = app.signed_up("selfish").await;
    let res = toggle(&app, &me, &id_of(&me)).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_fields(&body_of(res).await), ["channelId"]);
    assert_eq!(
        toggle(&app, &me, "0123456789abcdef01234567").await.status(),
        StatusCode::NOT_FOUND
    );
    let res = toggle(&app, &me, "{\"$gt\":\"\"}").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    for path in [
        "/subscriptions/c/nope",
        "/subscriptions/u/nope",
        "/subscriptions/c/0123456789abcdef01234567?limit=0",
    ] {
        let res = app.get_authed(path, &me.access).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{path}");
        body_of(res).await;
    }
    let res = app.get_authed("/users/c/nobody", &me.access).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    body_of(res).await;
    // A name registration would refuse may belong to an account of the original backend.
    let res = app
        .get_authed("/users/c/no%20such%20name", &me.access)
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    body_of(res).await;
    let res = app.get_authed("/users/c/bell%07", &me.access).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = app.get_authed("/users/c/selfish", "not-a-token").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}
