//! What clients written for the Node backend expect of routing (issue 14).

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{body_of, listed, spawn_app, spawn_app_with, TestApp};

/// Express matches `/videos/` as `/videos` (non-strict routing, the original's default), and
/// front ends and Postman collections send both.
#[tokio::test]
async fn every_route_also_matches_with_a_trailing_slash() {
    let app = spawn_app().await;
    let ada = app.signed_up("ada").await;
    let tweet = app
        .post_json_authed("/tweets/", &ada.access, json!({ "content": "Hello" }))
        .await;
    assert_eq!(tweet.status(), StatusCode::CREATED);
    let playlist = app
        .post_json_authed(
            "/playlist/",
            &ada.access,
            json!({ "name": "Mine", "description": "All of it" }),
        )
        .await;
    assert_eq!(playlist.status(), StatusCode::CREATED);
    let id = body_of(playlist).await["data"]["_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let found = app
        .get_authed(&format!("/playlist/{id}/"), &ada.access)
        .await;
    assert_eq!(found.status(), StatusCode::OK);
    let videos = app.get_authed("/videos/?query=hello", &ada.access).await;
    assert_eq!(videos.status(), StatusCode::OK);
    // Reaches the upload's own checks (no file), not "Route not found".
    let publish = app.send(Method::POST, "/videos/", &ada.access).await;
    assert_eq!(publish.status(), StatusCode::BAD_REQUEST);
    let unknown = app.get_authed("/no-such-route/", &ada.access).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

/// The original reads the `accessToken` cookie before the `Authorization` header; front ends
/// written for it keep a stale header beside a fresh cookie. The first that verifies wins.
#[tokio::test]
async fn a_fresh_cookie_beside_a_stale_bearer_header_signs_in_and_the_other_way_round() {
    let app = spawn_app().await;
    let ada = app.signed_up("ada").await;
    let stale = app.signed_up("bob").await;
    let res = app.send(Method::POST, "/users/logout", &stale.access).await;
    assert_eq!(res.status(), StatusCode::OK);
    let me = |cookie: String, bearer: String| {
        app.client
            .get(app.url("/users/current-user"))
            .header("cookie", format!("accessToken={cookie}"))
            .header("authorization", format!("Bearer {bearer}"))
            .send()
    };
    for (cookie, bearer) in [
        (ada.access.clone(), stale.access.clone()),
        (stale.access.clone(), ada.access.clone()),
        (ada.access.clone(), "garbage".to_owned()),
        ("garbage".to_owned(), ada.access.clone()),
    ] {
        let res = me(cookie, bearer).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(body_of(res).await["data"]["username"], "ada");
    }
    let res = me(stale.access.clone(), "garbage".to_owned())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

/// The refresh token likewise: the cookie, then the body, the first that is a refresh token.
#[tokio::test]
async fn a_broken_refresh_cookie_beside_a_good_body_token_refreshes() {
    let app = spawn_app().await;
    let ada = app.signed_up("ada").await;
    let refresh = |cookie: &str, body: serde_json::Value| {
        app.client
            .post(app.url("/users/refresh-token"))
            .header("cookie", format!("refreshToken={cookie}"))
            .json(&body)
            .send()
    };
    let res = refresh("garbage", json!({ "refreshToken": ada.refresh }))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let next = body_of(res).await["data"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = refresh(&next, json!({ "refreshToken": "garbage" }))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "the cookie, when it is one");
    let res = refresh("garbage", json!({ "refreshToken": "garbage" }))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

/// HEAD on any GET route answers GET's status and headers without the body; `/media` too.
#[tokio::test]
async fn head_is_answered_wherever_get_is_without_a_body() {
    let app = spawn_app().await;
    let ada = app.signed_up("ada").await;
    let avatar = ada.user["avatar"].as_str().unwrap().to_owned();
    let urls = [
        app.url("/healthcheck"),
        app.url("/users/current-user"),
        app.url("/videos"),
        avatar,
    ];
    for url in urls {
        let get = app
            .client
            .get(&url)
            .bearer_auth(&ada.access)
            .send()
            .await
            .unwrap();
        let head = app
            .client
            .head(&url)
            .bearer_auth(&ada.access)
            .send()
            .await
            .unwrap();
        assert_eq!(head.status(), get.status(), "{url}");
        for name in ["content-type", "content-length"] {
            assert_eq!(
                head.headers().get(name),
                get.headers().get(name),
                "{url}: {name}"
            );
        }
        assert!(head.bytes().await.unwrap().is_empty(), "{url}");
    }
}

/// A list of a user who does not exist is a 404, as any absent id is, not an empty list; so is
/// taking out of the history a video that is not in it.
#[tokio::test]
async fn absent_parents_are_404_on_lists_and_deletes() {
    const ABSENT: &str = "0123456789abcdef01234567";
    let app = spawn_app().await;
    let ada = app.signed_up("ada").await;
    let id = ada.user["_id"].as_str().unwrap();
    let lists = |user: &str| {
        [
            format!("/playlist/user/{user}"),
            format!("/subscriptions/c/{user}"),
            format!("/subscriptions/u/{user}"),
            format!("/tweets/user/{user}"),
        ]
    };
    for path in lists(ABSENT) {
        let res = app.get_authed(&path, &ada.access).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
    for path in lists(id) {
        let res = app.get_authed(&path, &ada.access).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}: empty, but there");
    }
    let res = app
        .send(
            Method::DELETE,
            &format!("/users/history/{ABSENT}"),
            &ada.access,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

/// Front ends show `message` alone: it names the fields (`errors[]` still lists them one by one).
#[tokio::test]
async fn validation_messages_name_the_fields() {
    let app = spawn_app().await;
    let register = |form: reqwest::multipart::Form| {
        app.client
            .post(app.url("/users/register"))
            .multipart(form)
            .send()
    };
    let avatar = || {
        reqwest::multipart::Part::bytes(crate::helpers::PNG.to_vec())
            .file_name("a.png")
            .mime_str("image/png")
            .unwrap()
    };
    let form = reqwest::multipart::Form::new()
        .text("username", "ada")
        .text("email", "ada@example.com")
        .text("password", "long enough password")
        .part("avatar", avatar());
    let res = register(form).await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_of(res).await["message"], "fullName is required");
    let form = reqwest::multipart::Form::new()
        .text("username", "ada")
        .text("password", "long enough password")
        .part("avatar", avatar());
    let body = body_of(register(form).await.unwrap()).await;
    assert_eq!(body["message"], "fullName and email are required");
    assert_eq!(body["errors"].as_array().unwrap().len(), 2);
}

/// A player page shows "Liked" and "Subscribed" after a reload: the watch answer carries both,
/// with the counts.
#[tokio::test]
async fn the_watch_page_says_whether_the_viewer_likes_and_subscribes() {
    let app = spawn_app().await;
    let creator = app.signed_up("creator").await;
    let viewer = app.signed_up("viewer").await;
    let video = crate::videos::ready_video(&app, &creator, "Watched").await;
    let watch = || async {
        let res = app
            .get_authed(&format!("/videos/{video}"), &viewer.access)
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        body_of(res).await["data"].clone()
    };
    let page = watch().await;
    assert_eq!(
        (&page["likesCount"], &page["isLiked"]),
        (&json!(0), &json!(false))
    );
    assert_eq!(
        (
            &page["owner"]["subscribersCount"],
            &page["owner"]["isSubscribed"]
        ),
        (&json!(0), &json!(false))
    );
    assert_eq!(page["owner"]["username"], "creator");

    let liked = app
        .send(
            Method::POST,
            &format!("/likes/toggle/v/{video}"),
            &viewer.access,
        )
        .await;
    assert_eq!(liked.status(), StatusCode::OK);
    let channel = creator.user["_id"].as_str().unwrap();
    let subscribed = app
        .send(
            Method::POST,
            &format!("/subscriptions/c/{channel}"),
            &viewer.access,
        )
        .await;
    assert_eq!(subscribed.status(), StatusCode::OK);
    let page = watch().await;
    assert_eq!(
        (&page["likesCount"], &page["isLiked"]),
        (&json!(1), &json!(true))
    );
    assert_eq!(
        (
            &page["owner"]["subscribersCount"],
            &page["owner"]["isSubscribed"]
        ),
        (&json!(1), &json!(true))
    );
}

/// A front end puts what a write answers where the list item or the page was: a new comment must
/// show its author at once, an edited one keep its likes, an edited video its owner and counts.
#[tokio::test]
async fn writes_answer_the_object_as_its_list_and_detail_routes_show_it() {
    let app = spawn_app().await;
    let creator = app.signed_up("creator").await;
    let fan = app.signed_up("fan").await;
    let video = crate::videos::ready_video(&app, &creator, "Answered").await;
    let data = |res: reqwest::Response| async move {
        assert!(res.status().is_success(), "{}", res.status());
        body_of(res).await["data"].clone()
    };

    let comments = format!("/comments/{video}");
    let added = data(
        app.send_json(
            Method::POST,
            &comments,
            &fan.access,
            json!({ "content": "first" }),
        )
        .await,
    )
    .await;
    assert_eq!(added["owner"]["username"], "fan");
    assert_eq!(
        (&added["likesCount"], &added["isLiked"]),
        (&json!(0), &json!(false))
    );
    let listed_comment = |list: serde_json::Value| list["docs"][0].clone();
    let list = data(app.get_authed(&comments, &fan.access).await).await;
    assert_eq!(added, listed_comment(list));
    let comment = added["_id"].as_str().unwrap();
    data(
        app.send(
            Method::POST,
            &format!("/likes/toggle/c/{comment}"),
            &fan.access,
        )
        .await,
    )
    .await;
    let edited = data(
        app.send_json(
            Method::PATCH,
            &format!("/comments/c/{comment}"),
            &fan.access,
            json!({ "content": "edited" }),
        )
        .await,
    )
    .await;
    assert_eq!(
        (&edited["likesCount"], &edited["isLiked"]),
        (&json!(1), &json!(true))
    );
    let list = data(app.get_authed(&comments, &fan.access).await).await;
    assert_eq!(edited, listed_comment(list));

    let tweeted = data(
        app.post_json_authed("/tweets", &fan.access, json!({ "content": "hello" }))
            .await,
    )
    .await;
    assert_eq!(tweeted["ownerDetails"]["username"], "fan");
    let tweets = format!("/tweets/user/{}", fan.user["_id"].as_str().unwrap());
    let tweet = tweeted["_id"].as_str().unwrap();
    let retweeted = data(
        app.send_json(
            Method::PATCH,
            &format!("/tweets/{tweet}"),
            &fan.access,
            json!({ "content": "hello again" }),
        )
        .await,
    )
    .await;
    let items = listed(app.get_authed(&tweets, &fan.access).await)
        .await
        .items;
    assert_eq!(items, [retweeted]);

    // The video's writes answer its watch page (without counting a view).
    let page = data(
        app.get_authed(&format!("/videos/{video}"), &creator.access)
            .await,
    )
    .await;
    let toggled = data(
        app.send(
            Method::PATCH,
            &format!("/videos/toggle/publish/{video}"),
            &creator.access,
        )
        .await,
    )
    .await;
    assert_eq!(toggled["isPublished"], false);
    let updated = data(
        app.send_json(
            Method::PATCH,
            &format!("/videos/{video}"),
            &creator.access,
            json!({ "title": "Renamed" }),
        )
        .await,
    )
    .await;
    for answer in [&toggled, &updated] {
        assert_eq!(answer["owner"], page["owner"]);
        assert_eq!(answer["views"], page["views"]);
        assert_eq!(
            keys(answer),
            keys(&page),
            "the same fields as the watch page"
        );
    }
    let new = data(
        crate::videos::publish(
            &app,
            &fan,
            crate::videos::video_form(
                ("clip.mp4", crate::samples::mp4(1_000)),
                crate::helpers::PNG.to_vec(),
            ),
        )
        .await,
    )
    .await;
    assert_eq!(new["owner"]["username"], "fan");
    assert_eq!(keys(&new), keys(&page));
}

fn keys(object: &serde_json::Value) -> Vec<&String> {
    let mut keys: Vec<_> = object.as_object().unwrap().keys().collect();
    keys.sort();
    keys
}

/// A logged-out visitor browses the public catalogue; hidden videos and writes still need their
/// owner. `APP_AUTH__PUBLIC_READS=false` restores the original's login for every read.
#[tokio::test]
async fn logged_out_visitors_read_public_data_and_nothing_more() {
    let app = spawn_app().await;
    let creator = app.signed_up("creator").await;
    let video = crate::videos::ready_video(&app, &creator, "Public").await;
    let hidden = crate::videos::ready_video(&app, &creator, "Hidden").await;
    let toggled = app
        .send(
            Method::PATCH,
            &format!("/videos/toggle/publish/{hidden}"),
            &creator.access,
        )
        .await;
    assert_eq!(toggled.status(), StatusCode::OK);
    let channel = creator.user["_id"].as_str().unwrap().to_owned();
    let comment = app
        .send_json(
            Method::POST,
            &format!("/comments/{video}"),
            &creator.access,
            json!({ "content": "pinned" }),
        )
        .await;
    assert_eq!(comment.status(), StatusCode::CREATED);
    let tweet = app
        .post_json_authed("/tweets", &creator.access, json!({ "content": "hi" }))
        .await;
    assert_eq!(tweet.status(), StatusCode::CREATED);
    let playlist = app
        .post_json_authed("/playlist", &creator.access, json!({ "name": "Best" }))
        .await;
    let playlist = body_of(playlist).await["data"]["_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let added = app
        .send(
            Method::PATCH,
            &format!("/playlist/add/{hidden}/{playlist}"),
            &creator.access,
        )
        .await;
    assert_eq!(added.status(), StatusCode::OK);

    let anonymous = |app: &TestApp, path: String| {
        let request = app.client.get(app.url(&path));
        async move { request.send().await.unwrap() }
    };
    let read = |path: String| {
        let app = &app;
        async move {
            let res = anonymous(app, path.clone()).await;
            assert_eq!(res.status(), StatusCode::OK, "{path}");
            body_of(res).await["data"].clone()
        }
    };
    let catalogue = read("/videos".into()).await;
    let titles: Vec<_> = catalogue["docs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["title"].clone())
        .collect();
    assert_eq!(titles, [json!("Public")], "hidden videos stay hidden");
    let page = read(format!("/videos/{video}")).await;
    assert_eq!(
        (&page["isLiked"], &page["owner"]["isSubscribed"]),
        (&json!(false), &json!(false))
    );
    let again = read(format!("/videos/{video}")).await;
    assert_eq!(
        again["views"], page["views"],
        "an anonymous load counts no view"
    );
    let res = anonymous(&app, format!("/videos/{hidden}")).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let profile = read("/users/c/creator".into()).await;
    assert_eq!(profile["isSubscribed"], false);
    let comments = read(format!("/comments/{video}")).await;
    assert_eq!(comments["docs"][0]["content"], "pinned");
    assert_eq!(
        read(format!("/tweets/user/{channel}")).await[0]["content"],
        "hi"
    );
    assert_eq!(
        read(format!("/playlist/user/{channel}")).await[0]["totalVideos"],
        0
    );
    assert_eq!(
        read(format!("/playlist/{playlist}")).await["videos"],
        json!([])
    );

    // Writes, and reads of one's own data, still need a login; a token sent that does not
    // verify is 401 rather than a stranger's view, so that a front end refreshes it.
    let res = app
        .client
        .post(app.url(&format!("/comments/{video}")))
        .json(&json!({ "content": "drive-by" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    for path in [
        "/users/current-user".to_owned(),
        "/users/history".into(),
        "/likes/videos".into(),
    ] {
        assert_eq!(
            anonymous(&app, path.clone()).await.status(),
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
    }
    let res = app.get_authed("/videos", "tampered.token.value").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    let closed = spawn_app_with(&[("APP_AUTH__PUBLIC_READS", "false")]).await;
    let owner = closed.signed_up("owner").await;
    let id = owner.user["_id"].as_str().unwrap();
    for path in [
        "/videos".to_owned(),
        format!("/videos/{video}"),
        "/users/c/owner".into(),
        format!("/comments/{video}"),
        format!("/tweets/user/{id}"),
        format!("/playlist/user/{id}"),
        format!("/playlist/{playlist}"),
    ] {
        let res = anonymous(&closed, path.clone()).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
}
