//! Playlists, liked videos, and what deleting a video takes with it.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use videotube_infra::mongo::bson::{doc, oid::ObjectId, DateTime, Document};

use crate::helpers::{body_of, error_fields, listed, spawn_app, Login, TestApp};
use crate::videos::ready_video;

const ABSENT: &str = "0123456789abcdef01234567";

async fn create(app: &TestApp, login: &Login, body: Value) -> Value {
    let res = app.post_json_authed("/playlist", &login.access, body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    body_of(res).await["data"].clone()
}

async fn change(app: &TestApp, login: &Login, op: &str, video: &str, playlist: &str) -> Value {
    let path = format!("/playlist/{op}/{video}/{playlist}");
    let res = app.send(Method::PATCH, &path, &login.access).await;
    assert_eq!(res.status(), StatusCode::OK, "{op}");
    body_of(res).await["data"].clone()
}

fn video_ids(playlist: &Value) -> Vec<&str> {
    playlist["videos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["_id"].as_str().unwrap())
        .collect()
}

fn id_of(value: &Value) -> String {
    value["_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_playlist_keeps_its_order_and_adding_or_removing_twice_changes_nothing() {
    let app = spawn_app().await;
    let curator = app.signed_up("curator").await;
    let creator = app.signed_up("creator_p").await;
    let first = ready_video(&app, &creator, "First").await;
    let second = ready_video(&app, &curator, "Second").await;
    let created = create(
        &app,
        &curator,
        json!({ "name": "  Favourites ", "description": "the best" }),
    )
    .await;
    assert_eq!(created["name"], "Favourites");
    assert_eq!(created["videos"], json!([]));
    assert_eq!(created["owner"], curator.user["_id"]);
    let playlist = id_of(&created);

    change(&app, &curator, "add", &second, &playlist).await;
    change(&app, &curator, "add", &first, &playlist).await;
    let again = change(&app, &curator, "add", &second, &playlist).await;
    assert_eq!(video_ids(&again), [second.as_str(), first.as_str()]);

    let fetched = body_of(
        app.get_authed(&format!("/playlist/{playlist}"), &creator.access)
            .await,
    )
    .await["data"]
        .clone();
    assert_eq!(video_ids(&fetched), [second.as_str(), first.as_str()]);
    assert_eq!(fetched["videos"][1]["owner"]["username"], "creator_p");
    assert_eq!(fetched["description"], "the best");

    let path = format!("/playlist/add/{first}/{playlist}");
    let racing = (0..10).map(|_| app.send(Method::PATCH, &path, &curator.access));
    let statuses: Vec<StatusCode> = futures_util::future::join_all(racing)
        .await
        .iter()
        .map(|r| r.status())
        .collect();
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    let entries = app
        .db
        .collection::<Document>("playlist_videos")
        .count_documents(doc! {})
        .await
        .unwrap();
    assert_eq!(entries, 2, "concurrent adds of one video leave one entry");

    let removed = change(&app, &curator, "remove", &second, &playlist).await;
    assert_eq!(video_ids(&removed), [first.as_str()]);
    let still = change(&app, &curator, "remove", &second, &playlist).await;
    assert_eq!(video_ids(&still), [first.as_str()]);

    let res = app
        .send_json(
            Method::PATCH,
            &format!("/playlist/{playlist}"),
            &curator.access,
            json!({ "description": "" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let updated = body_of(res).await["data"].clone();
    assert_eq!(
        (updated["name"].clone(), updated["description"].clone()),
        (json!("Favourites"), json!(""))
    );
    assert_eq!(video_ids(&updated), [first.as_str()]);
}

/// A well-known fork of the original checked that the caller owned the *video* before changing
/// a playlist: owners of playlists could not add others' videos, and anyone could add their own
/// videos to someone else's playlist.
#[tokio::test]
async fn a_playlist_holds_at_most_five_hundred_videos() {
    let app = spawn_app().await;
    let curator = app.signed_up("hoarder").await;
    let video = ready_video(&app, &curator, "One more").await;
    let playlist = id_of(&create(&app, &curator, json!({ "name": "Everything" })).await);
    // 500 entries written directly: the videos they name need not exist for the count.
    let playlist_id = ObjectId::parse_str(&playlist).unwrap();
    let entries: Vec<Document> = (0..500)
        .map(|i| doc! { "playlist": playlist_id, "video": ObjectId::new(), "addedAt": DateTime::from_millis(i) })
        .collect();
    app.db
        .collection::<Document>("playlist_videos")
        .insert_many(entries)
        .await
        .unwrap();
    let path = format!("/playlist/add/{video}/{playlist}");
    let res = app.send(Method::PATCH, &path, &curator.access).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(body_of(res).await["message"]
        .as_str()
        .unwrap()
        .contains("500"));
}

#[tokio::test]
async fn original_defect_playlist_changes_are_checked_against_the_playlist_owner() {
    let app = spawn_app().await;
    let curator = app.signed_up("curator_f").await;
    let creator = app.signed_up("creator_f").await;
    let video = ready_video(&app, &creator, "Someone else's").await;
    let playlist = id_of(&create(&app, &curator, json!({ "name": "Picks" })).await);

    let added = change(&app, &curator, "add", &video, &playlist).await;
    assert_eq!(video_ids(&added), [video.as_str()]);

    let own_video = ready_video(&app, &creator, "Self-promotion").await;
    for op in ["add", "remove"] {
        for target in [&own_video, &video] {
            let path = format!("/playlist/{op}/{target}/{playlist}");
            let res = app.send(Method::PATCH, &path, &creator.access).await;
            assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
            body_of(res).await;
        }
    }
    let path = format!("/playlist/{playlist}");
    let res = app
        .send_json(
            Method::PATCH,
            &path,
            &creator.access,
            json!({ "name": "Mine now" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app.send(Method::DELETE, &path, &creator.access).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let fetched = body_of(app.get_authed(&path, &curator.access).await).await["data"].clone();
    assert_eq!(fetched["name"], "Picks");
    assert_eq!(video_ids(&fetched), [video.as_str()]);
}

#[tokio::test]
async fn a_users_playlists_show_counts_and_the_first_visible_thumbnail() {
    let app = spawn_app().await;
    let curator = app.signed_up("curator_l").await;
    let viewer = app.signed_up("viewer_l").await;
    let hidden = ready_video(&app, &curator, "Hidden later").await;
    let shown = ready_video(&app, &curator, "Shown").await;
    let empty = id_of(&create(&app, &curator, json!({ "name": "Empty" })).await);
    let full = id_of(&create(&app, &curator, json!({ "name": "Full" })).await);
    change(&app, &curator, "add", &hidden, &full).await;
    change(&app, &curator, "add", &shown, &full).await;
    app.send(
        Method::PATCH,
        &format!("/videos/toggle/publish/{hidden}"),
        &curator.access,
    )
    .await;

    let path = format!("/playlist/user/{}", curator.user["_id"].as_str().unwrap());
    let list = |login: &Login| {
        let path = path.clone();
        let access = login.access.clone();
        let app = &app;
        async move { listed(app.get_authed(&path, &access).await).await }
    };
    let seen = list(&viewer).await;
    assert_eq!(seen.total, 2);
    let docs = &seen.items;
    assert_eq!(id_of(&docs[0]), full, "newest first");
    assert_eq!(docs[0]["totalVideos"], 1, "the hidden video is not counted");
    let thumbnail_of = |video: &str| {
        let app = &app;
        let access = curator.access.clone();
        let video = video.to_owned();
        async move {
            body_of(app.get_authed(&format!("/videos/{video}"), &access).await).await["data"]
                ["thumbnail"]
                .clone()
        }
    };
    assert_eq!(docs[0]["thumbnail"], thumbnail_of(&shown).await);
    assert_eq!(id_of(&docs[1]), empty);
    assert_eq!(
        (docs[1]["totalVideos"].clone(), docs[1]["thumbnail"].clone()),
        (json!(0), json!(""))
    );

    let own = list(&curator).await;
    assert_eq!(
        own.items[0]["totalVideos"], 2,
        "owners see their hidden videos"
    );
    // Signed for its owner (the signature's expiry moves with the clock).
    let unsigned = |url: &Value| {
        url.as_str()
            .unwrap()
            .split("&expires=")
            .next()
            .unwrap()
            .to_owned()
    };
    let own_thumbnail = &own.items[0]["thumbnail"];
    assert!(
        own_thumbnail.as_str().unwrap().contains("&signature="),
        "{own_thumbnail}"
    );
    assert_eq!(
        unsigned(own_thumbnail),
        unsigned(&thumbnail_of(&hidden).await)
    );
    let fetched = body_of(
        app.get_authed(&format!("/playlist/{full}"), &viewer.access)
            .await,
    )
    .await;
    assert_eq!(video_ids(&fetched["data"]), [shown.as_str()]);

    let paged = listed(
        app.get_authed(&format!("{path}?limit=1&page=2"), &viewer.access)
            .await,
    )
    .await;
    assert_eq!(id_of(&paged.items[0]), empty);
    let res = app.get_authed("/playlist/user/nope", &viewer.access).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = app
        .get_authed(&format!("/playlist/user/{ABSENT}"), &viewer.access)
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "no such user");
    let own = format!("/playlist/user/{}", viewer.user["_id"].as_str().unwrap());
    let res = app.get_authed(&own, &viewer.access).await;
    assert_eq!(listed(res).await.total, 0, "a user without playlists");
}

#[tokio::test]
async fn playlist_bodies_are_checked_by_field_and_nothing_is_written() {
    let app = spawn_app().await;
    let curator = app.signed_up("curator_b").await;
    let playlist = id_of(&create(&app, &curator, json!({ "name": "Valid" })).await);
    let long_name = "n".repeat(101);
    let long_description = "d".repeat(1001);
    let creations = [
        (json!({}), "name"),
        (json!({ "name": "  " }), "name"),
        (json!({ "name": long_name }), "name"),
        (json!({ "name": { "$gt": "" } }), "name"),
        (json!({ "name": 7 }), "name"),
        (
            json!({ "name": "ok", "description": long_description }),
            "description",
        ),
        (
            json!({ "name": "ok", "description": { "$ne": null } }),
            "description",
        ),
        (json!({ "description": "no name" }), "name"),
    ];
    for (body, field) in creations {
        let res = app
            .post_json_authed("/playlist", &curator.access, body.clone())
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(error_fields(&body_of(res).await), [field], "{body}");
    }
    let path = format!("/playlist/{playlist}");
    for body in [json!({}), json!({ "name": "" }), json!({ "name": ["x"] })] {
        let res = app
            .send_json(Method::PATCH, &path, &curator.access, body.clone())
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(error_fields(&body_of(res).await), ["name"], "{body}");
    }
    let count = app
        .db
        .collection::<Document>("playlists")
        .count_documents(doc! {})
        .await
        .unwrap();
    assert_eq!(count, 1, "no playlist written by a refused request");
}

#[tokio::test]
async fn malformed_ids_are_400_by_name_and_absent_ones_404() {
    let app = spawn_app().await;
    let curator = app.signed_up("curator_c").await;
    let video = ready_video(&app, &curator, "Valid").await;
    let playlist = id_of(&create(&app, &curator, json!({ "name": "Valid" })).await);
    // `{v}`, `{p}`: the video and playlist that exist; `{absent}`: an id that exists nowhere.
    let cases: [(Method, &str, u16, &[&str]); 10] = [
        (Method::GET, "/playlist/nope", 400, &["playlistId"]),
        (Method::GET, "/playlist/{absent}", 404, &[]),
        (Method::DELETE, "/playlist/nope", 400, &["playlistId"]),
        (Method::DELETE, "/playlist/{absent}", 404, &[]),
        (
            Method::PATCH,
            "/playlist/add/nope/bad",
            400,
            &["videoId", "playlistId"],
        ),
        (
            Method::PATCH,
            "/playlist/add/{v}/nope",
            400,
            &["playlistId"],
        ),
        (Method::PATCH, "/playlist/add/{absent}/{p}", 404, &[]),
        (Method::PATCH, "/playlist/add/{v}/{absent}", 404, &[]),
        (Method::PATCH, "/playlist/remove/{absent}/{p}", 404, &[]),
        (
            Method::PATCH,
            "/playlist/remove/nope/{p}",
            400,
            &["videoId"],
        ),
    ];
    for (method, path, status, fields) in cases {
        let path = path
            .replace("{v}", &video)
            .replace("{p}", &playlist)
            .replace("{absent}", ABSENT);
        let res = app
            .send_json(
                method.clone(),
                &path,
                &curator.access,
                json!({ "name": "x" }),
            )
            .await;
        assert_eq!(res.status().as_u16(), status, "{method} {path}");
        let body = body_of(res).await;
        if !fields.is_empty() {
            assert_eq!(error_fields(&body), fields, "{method} {path}");
        }
    }
    let path = format!("/playlist/{playlist}");
    let res = app.get_authed(&path, "not-a-token").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app.send(Method::DELETE, &path, &curator.access).await;
    assert_eq!(res.status(), StatusCode::OK);
    body_of(res).await;
    assert_eq!(
        app.get_authed(&path, &curator.access).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn someone_elses_hidden_video_cannot_be_added() {
    let app = spawn_app().await;
    let curator = app.signed_up("curator_d").await;
    let playlist = id_of(&create(&app, &curator, json!({ "name": "Valid" })).await);
    let other = app.signed_up("other_b").await;
    let secret = ready_video(&app, &other, "Secret").await;
    app.send(
        Method::PATCH,
        &format!("/videos/toggle/publish/{secret}"),
        &other.access,
    )
    .await;
    let res = app
        .send(
            Method::PATCH,
            &format!("/playlist/add/{secret}/{playlist}"),
            &curator.access,
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::NOT_FOUND,
        "it does not exist for the caller"
    );
    let entries = app
        .db
        .collection::<Document>("playlist_videos")
        .count_documents(doc! {})
        .await
        .unwrap();
    assert_eq!(entries, 0);
}

#[tokio::test]
async fn liked_videos_come_newest_first_without_hidden_or_deleted_ones() {
    let app = spawn_app().await;
    let creator = app.signed_up("creator_lv").await;
    let fan = app.signed_up("fan_lv").await;
    let mut videos = Vec::new();
    for title in ["One", "Two", "Three", "Four"] {
        let id = ready_video(&app, &creator, title).await;
        let res = app
            .send(Method::POST, &format!("/likes/toggle/v/{id}"), &fan.access)
            .await;
        assert_eq!(body_of(res).await["data"]["isLiked"], true);
        videos.push(id);
    }
    let liked = |query: &'static str| {
        let app = &app;
        let access = fan.access.clone();
        async move {
            listed(
                app.get_authed(&format!("/likes/videos{query}"), &access)
                    .await,
            )
            .await
        }
    };
    let page = liked("").await;
    assert_eq!(page.total, 4);
    assert_eq!(page.items[0]["_id"], videos[3].as_str());
    assert_eq!(page.items[0]["owner"]["username"], "creator_lv");

    app.send(
        Method::PATCH,
        &format!("/videos/toggle/publish/{}", videos[2]),
        &creator.access,
    )
    .await;
    let res = app
        .send(
            Method::DELETE,
            &format!("/videos/{}", videos[1]),
            &creator.access,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = liked("?limit=1&page=2").await;
    assert_eq!(page.total, 2, "{page:?}");
    assert!(page.links["last"].ends_with("page=2&limit=1"), "{page:?}");
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0]["_id"], videos[0].as_str());
    // By cursor: from the newest like on, past the hidden and the deleted video.
    let first = liked("?limit=1").await;
    assert_eq!(first.items[0]["_id"], videos[3].as_str());
    let follow = |url: String| {
        let app = &app;
        let access = fan.access.clone();
        async move {
            listed(
                app.client
                    .get(url)
                    .bearer_auth(access)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let second = follow(first.links["next"].clone()).await;
    assert_eq!(second.items.len(), 1, "{second:?}");
    assert_eq!(second.items[0]["_id"], videos[0].as_str());
    assert!(
        !second.links.contains_key("prev"),
        "no page number behind a cursor"
    );
    let end = follow(second.links["next"].clone()).await;
    assert!(end.items.is_empty() && !end.links.contains_key("next"));

    let res = app.get_authed("/likes/videos?limit=0", &fan.access).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_fields(&body_of(res).await), ["limit"]);
    let none = listed(app.get_authed("/likes/videos", &creator.access).await).await;
    assert!(none.items.is_empty());
}

#[tokio::test]
async fn deleting_a_video_removes_its_comments_their_likes_and_its_playlist_entries() {
    let app = spawn_app().await;
    let creator = app.signed_up("creator_d").await;
    let fan = app.signed_up("fan_d").await;
    let doomed = ready_video(&app, &creator, "Doomed").await;
    let kept = ready_video(&app, &creator, "Kept").await;
    let playlist = id_of(&create(&app, &fan, json!({ "name": "Mixed" })).await);
    let mut comments = Vec::new();
    for video in [&doomed, &kept] {
        change(&app, &fan, "add", video, &playlist).await;
        app.send(
            Method::POST,
            &format!("/likes/toggle/v/{video}"),
            &fan.access,
        )
        .await;
        let res = app
            .post_json_authed(
                &format!("/comments/{video}"),
                &fan.access,
                json!({ "content": "hi" }),
            )
            .await;
        let comment = id_of(&body_of(res).await["data"]);
        app.send(
            Method::POST,
            &format!("/likes/toggle/c/{comment}"),
            &creator.access,
        )
        .await;
        comments.push(comment);
    }

    let res = app
        .send(
            Method::DELETE,
            &format!("/videos/{doomed}"),
            &creator.access,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    body_of(res).await;

    let count = |collection: &'static str, filter: Document| {
        let db = app.db.clone();
        async move {
            db.collection::<Document>(collection)
                .count_documents(filter)
                .await
                .unwrap()
        }
    };
    let doomed_oid: videotube_infra::mongo::bson::oid::ObjectId = doomed.parse().unwrap();
    let kept_oid: videotube_infra::mongo::bson::oid::ObjectId = kept.parse().unwrap();
    assert_eq!(count("comments", doc! { "video": doomed_oid }).await, 0);
    assert_eq!(count("comments", doc! { "video": kept_oid }).await, 1);
    assert_eq!(
        count(
            "likes",
            doc! { "target": format!("comment:{}", comments[0]) }
        )
        .await,
        0
    );
    assert_eq!(
        count("likes", doc! { "target": format!("video:{doomed}") }).await,
        0
    );
    assert_eq!(
        count(
            "likes",
            doc! { "target": format!("comment:{}", comments[1]) }
        )
        .await,
        1
    );
    assert_eq!(
        count("likes", doc! { "target": format!("video:{kept}") }).await,
        1
    );
    assert_eq!(
        count("playlist_videos", doc! { "video": doomed_oid }).await,
        0
    );
    let fetched = body_of(
        app.get_authed(&format!("/playlist/{playlist}"), &fan.access)
            .await,
    )
    .await;
    assert_eq!(video_ids(&fetched["data"]), [kept.as_str()]);
    let res = app
        .get_authed(&format!("/comments/{doomed}"), &fan.access)
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}
