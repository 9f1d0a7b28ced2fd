//! Browsing: listing and searching videos, watching (views and history), and the owner's
//! changes (update, publish toggle, delete).

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use std::time::Duration;

use videotube_infra::mongo::bson::{doc, oid::ObjectId, DateTime};
use videotube_infra::mongo::{self, Database};

use crate::helpers::{
    body_of, database_uri, error_fields, image_form, spawn_app, spawn_app_with, Login, TestApp,
    JPEG, PNG,
};
use crate::samples;
use crate::videos::{publish, settled, video_form};

/// Publishes a ready video with this title and returns its id.
async fn ready_video(app: &TestApp, login: &Login, title: &str) -> String {
    let form =
        video_form(("clip.mp4", samples::mp4(1_000)), PNG.to_vec()).text("title", title.to_owned());
    let body = body_of(publish(app, login, form).await).await;
    let id = body["data"]["_id"].as_str().unwrap().to_owned();
    assert_eq!(settled(app, login, &id).await["status"], "ready");
    id
}

async fn list(app: &TestApp, login: &Login, query: &str) -> reqwest::Response {
    app.get_authed(&format!("/videos{query}"), &login.access)
        .await
}

fn titles(page: &Value) -> Vec<String> {
    page["docs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["title"].as_str().unwrap().to_owned())
        .collect()
}

async fn history(app: &TestApp, login: &Login) -> Vec<String> {
    let body = body_of(app.get_authed("/users/history", &login.access).await).await;
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["title"].as_str().unwrap().to_owned())
        .collect()
}

async fn send(app: &TestApp, login: &Login, method: Method, path: &str) -> reqwest::Response {
    app.client
        .request(method, app.url(path))
        .bearer_auth(&login.access)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_catalogue_pages_through_videos_with_their_owners() {
    let app = spawn_app().await;
    let creator = app.signed_up("creator").await;
    let viewer = app.signed_up("viewer").await;
    for title in ["Alpha cat", "Beta (dog)", "Gamma .*"] {
        ready_video(&app, &creator, title).await;
    }

    let first = body_of(list(&app, &viewer, "?limit=2&sortBy=title&sortType=asc").await).await
        ["data"]
        .clone();
    assert_eq!(titles(&first), ["Alpha cat", "Beta (dog)"]);
    assert_eq!(
        (
            first["totalDocs"].clone(),
            first["totalPages"].clone(),
            first["page"].clone()
        ),
        (json!(3), json!(2), json!(1))
    );
    assert_eq!(
        (first["hasPrevPage"].clone(), first["hasNextPage"].clone()),
        (json!(false), json!(true))
    );
    assert_eq!(
        (first["prevPage"].clone(), first["nextPage"].clone()),
        (Value::Null, json!(2))
    );
    assert_eq!(first["pagingCounter"], 1);
    let owner = &first["docs"][0]["owner"];
    assert_eq!(owner["username"], "creator");
    assert_eq!(owner["_id"], creator.user["_id"]);
    assert_eq!(owner["fullName"], "creator Tester");
    assert!(owner["avatar"]
        .as_str()
        .unwrap()
        .contains("/media/avatars/"));

    let second = body_of(list(&app, &viewer, "?limit=2&page=2&sortBy=title&sortType=asc").await)
        .await["data"]
        .clone();
    assert_eq!(titles(&second), ["Gamma .*"]);
    assert_eq!(
        (second["prevPage"].clone(), second["nextPage"].clone()),
        (json!(1), Value::Null)
    );
    // The same pages by keyset, in every sort: `nextCursor` of one page starts the next.
    for (sort, expected) in [
        (
            "sortBy=title&sortType=asc",
            ["Alpha cat", "Beta (dog)", "Gamma .*"],
        ),
        (
            "sortBy=title&sortType=desc",
            ["Gamma .*", "Beta (dog)", "Alpha cat"],
        ),
        (
            "sortBy=createdAt&sortType=asc",
            ["Alpha cat", "Beta (dog)", "Gamma .*"],
        ),
        (
            "sortBy=views&sortType=desc",
            ["Gamma .*", "Beta (dog)", "Alpha cat"],
        ),
        (
            "sortBy=duration&sortType=asc",
            ["Alpha cat", "Beta (dog)", "Gamma .*"],
        ),
    ] {
        let first =
            body_of(list(&app, &viewer, &format!("?limit=2&{sort}")).await).await["data"].clone();
        let cursor = first["nextCursor"].as_str().unwrap();
        let rest = body_of(list(&app, &viewer, &format!("?limit=2&{sort}&cursor={cursor}")).await)
            .await["data"]
            .clone();
        let mut walked = titles(&first);
        walked.extend(titles(&rest));
        assert_eq!(walked, expected, "{sort}");
        assert_eq!(rest["nextCursor"], Value::Null, "{sort}: the last page");
    }
    for (query, field) in [("?cursor=zz", "cursor"), ("?cursor=00&page=2", "page")] {
        let res = list(&app, &viewer, query).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{query}");
        assert!(
            error_fields(&body_of(res).await).contains(&field.to_owned()),
            "{query}"
        );
    }

    let past_the_end = body_of(list(&app, &viewer, "?limit=2&page=9").await).await["data"].clone();
    assert!(titles(&past_the_end).is_empty());
    assert_eq!(past_the_end["hasNextPage"], false);

    let newest_first = body_of(list(&app, &viewer, "").await).await["data"].clone();
    assert_eq!(
        titles(&newest_first),
        ["Gamma .*", "Beta (dog)", "Alpha cat"]
    );
    let by_channel = format!("?userId={}", viewer.user["_id"].as_str().unwrap());
    assert!(titles(&body_of(list(&app, &viewer, &by_channel).await).await["data"]).is_empty());
}

#[tokio::test]
async fn the_original_backends_videos_are_listed_once_the_server_starts_on_its_database() {
    let name = format!("test_{}", uuid::Uuid::new_v4().simple());
    let db: Database = mongo::connect(&database_uri(), &name, Duration::from_secs(5))
        .await
        .unwrap();
    let owner = ObjectId::new();
    let now = DateTime::now();
    db.collection("users")
        .insert_one(doc! {
            "_id": owner, "username": "legacy", "email": "legacy@example.com",
            "fullName": "Legacy Channel", "avatar": "http://res.cloudinary.com/demo/a.png",
            "password": "$2b$10$abcdefghijklmnopqrstuuFzVv3Sx9ZrZ8m9u6kXcWm2yU7b7w5a2",
            "createdAt": now, "updatedAt": now, "__v": 0,
        })
        .await
        .unwrap();
    // As the original stores them: no `status`, no `listed`.
    let video = |title: &str, published: bool| {
        doc! {
            "videoFile": "http://res.cloudinary.com/demo/v.mp4",
            "thumbnail": "http://res.cloudinary.com/demo/t.png",
            "title": title, "description": "from before", "duration": 12.5, "views": 3,
            "isPublished": published, "owner": owner,
            "createdAt": now, "updatedAt": now, "__v": 0,
        }
    };
    db.collection("videos")
        .insert_many([video("Old but gold", true), video("Old draft", false)])
        .await
        .unwrap();

    let app = spawn_app_with(&[("DB_NAME", &name)]).await;
    let viewer = app.signed_up("newcomer").await;
    let page = body_of(list(&app, &viewer, "").await).await["data"].clone();
    assert_eq!(titles(&page), ["Old but gold"]);
    assert_eq!(page["docs"][0]["owner"]["username"], "legacy");
}

#[tokio::test]
async fn search_text_is_literal_and_sorting_is_limited_to_public_fields() {
    let app = spawn_app().await;
    let creator = app.signed_up("searcher").await;
    for title in ["Alpha cat", "Beta (dog)", "Gamma .*"] {
        ready_video(&app, &creator, title).await;
    }
    for (query, expected) in [
        ("?query=.*", vec!["Gamma .*"]),
        ("?query=(", vec!["Beta (dog)"]),
        ("?query=CAT", vec!["Alpha cat"]),
        ("?query=%5Bz-a%5D", vec![]),
        ("?query=phone", vec!["Gamma .*", "Beta (dog)", "Alpha cat"]),
    ] {
        let page = body_of(list(&app, &creator, query).await).await["data"].clone();
        assert_eq!(titles(&page), expected, "{query}");
    }
    for (query, field) in [
        ("?sortBy=password", "sortBy"),
        ("?sortType=sideways", "sortType"),
        ("?limit=0", "limit"),
        ("?limit=-1", "limit"),
        ("?limit=ten", "limit"),
        ("?limit=101", "limit"),
        ("?page=0", "page"),
        // Pages reach the first 10,000 videos; deeper ones would walk the index past all before.
        ("?page=1001", "page"),
        ("?limit=100&page=101", "page"),
        ("?userId=nope", "userId"),
        // A NUL byte is refused by MongoDB's regex engine (BadValue): a 400, not a 500.
        ("?query=cat%00", "query"),
        ("?query=%01", "query"),
    ] {
        let res = list(&app, &creator, query).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(error_fields(&body_of(res).await), [field], "{query}");
    }
    let res = list(&app, &creator, "?limit=0&sortBy=password&userId=nope").await;
    assert_eq!(
        error_fields(&body_of(res).await),
        ["limit", "sortBy", "userId"],
        "every problem is named at once"
    );
}

#[tokio::test]
async fn views_count_once_per_viewer_within_the_window() {
    let app = spawn_app().await;
    let creator = app.signed_up("popular").await;
    let fan = app.signed_up("fan").await;
    let other = app.signed_up("other").await;
    let id = ready_video(&app, &creator, "Watch me").await;
    let path = format!("/videos/{id}");
    let views = |body: Value| body["data"]["views"].as_u64().unwrap();
    // The owner watched it while waiting for it to be ready: that view counted already.
    let before = views(body_of(app.get_authed(&path, &creator.access).await).await);
    assert_eq!(before, 1);
    assert_eq!(
        views(body_of(app.get_authed(&path, &fan.access).await).await),
        2
    );
    assert_eq!(
        views(body_of(app.get_authed(&path, &fan.access).await).await),
        2
    );
    let parallel =
        futures_util::future::join_all((0..5).map(|_| app.get_authed(&path, &other.access))).await;
    assert!(parallel.iter().all(|r| r.status() == StatusCode::OK));
    let body = body_of(app.get_authed(&path, &fan.access).await).await;
    assert_eq!(views(body.clone()), 3, "one view each for three viewers");
    assert_eq!(body["data"]["owner"]["username"], "popular");
}

#[tokio::test]
async fn history_is_newest_first_and_can_be_edited() {
    let app = spawn_app().await;
    let creator = app.signed_up("channel").await;
    let viewer = app.signed_up("binger").await;
    let a = ready_video(&app, &creator, "A").await;
    let b = ready_video(&app, &creator, "B").await;
    let c = ready_video(&app, &creator, "C").await;
    for id in [&a, &b, &c, &a] {
        app.get_authed(&format!("/videos/{id}"), &viewer.access)
            .await;
    }
    assert_eq!(history(&app, &viewer).await, ["A", "C", "B"]);
    let paged = body_of(
        app.get_authed("/users/history?page=2&limit=2", &viewer.access)
            .await,
    )
    .await;
    assert_eq!(paged["data"][0]["title"], "B");
    assert_eq!(paged["data"][0]["owner"]["username"], "channel");

    // Unpublished videos drop out of others' history; deleted ones are gone from it.
    send(
        &app,
        &creator,
        Method::PATCH,
        &format!("/videos/toggle/publish/{c}"),
    )
    .await;
    send(&app, &creator, Method::DELETE, &format!("/videos/{b}")).await;
    assert_eq!(history(&app, &viewer).await, ["A"]);
    send(
        &app,
        &creator,
        Method::PATCH,
        &format!("/videos/toggle/publish/{c}"),
    )
    .await;
    assert_eq!(history(&app, &viewer).await, ["A", "C"]);

    let res = send(
        &app,
        &viewer,
        Method::DELETE,
        &format!("/users/history/{a}"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(history(&app, &viewer).await, ["C"]);
    send(&app, &viewer, Method::DELETE, "/users/history").await;
    assert!(history(&app, &viewer).await.is_empty());
    let res = send(&app, &viewer, Method::DELETE, "/users/history/bad-id").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = app
        .get_authed("/users/history?limit=500", &viewer.access)
        .await;
    assert_eq!(error_fields(&body_of(res).await), ["limit"]);
}

#[tokio::test]
async fn only_the_owner_may_change_a_video_and_hidden_ones_are_404_to_others() {
    let app = spawn_app().await;
    let owner = app.signed_up("proprietor").await;
    let stranger = app.signed_up("intruder").await;
    let id = ready_video(&app, &owner, "Mine").await;
    for (method, path) in [
        (Method::PATCH, format!("/videos/toggle/publish/{id}")),
        (Method::DELETE, format!("/videos/{id}")),
    ] {
        let res = send(&app, &stranger, method.clone(), &path).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{method} {path}");
        body_of(res).await;
        let res = send(
            &app,
            &owner,
            method.clone(),
            &path.replace(&id, "not-an-id"),
        )
        .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let res = send(
            &app,
            &owner,
            method,
            &path.replace(&id, "0123456789abcdef01234567"),
        )
        .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
    let res = app
        .send_json(
            Method::PATCH,
            &format!("/videos/{id}"),
            &stranger.access,
            json!({ "title": "Theirs" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let toggled = body_of(
        send(
            &app,
            &owner,
            Method::PATCH,
            &format!("/videos/toggle/publish/{id}"),
        )
        .await,
    )
    .await;
    assert_eq!(toggled["data"]["isPublished"], false);
    let res = app
        .get_authed(&format!("/videos/{id}"), &stranger.access)
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(titles(&body_of(list(&app, &stranger, "").await).await["data"]).is_empty());
    assert_eq!(
        titles(&body_of(list(&app, &owner, "").await).await["data"]),
        ["Mine"]
    );
    assert_eq!(
        app.get_authed(&format!("/videos/{id}"), &owner.access)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_owner_updates_details_and_replaces_the_thumbnail() {
    let app = spawn_app().await;
    let owner = app.signed_up("editor").await;
    let id = ready_video(&app, &owner, "Draft title").await;
    let path = format!("/videos/{id}");
    let res = app
        .send_json(
            Method::PATCH,
            &path,
            &owner.access,
            json!({ "title": "  Final title " }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let video = body_of(res).await["data"].clone();
    assert_eq!(video["title"], "Final title");
    assert_eq!(video["description"], "Shot on a phone");

    for body in [
        json!({}),
        json!({ "title": { "$gt": "" } }),
        json!({ "description": "" }),
    ] {
        let res = app
            .send_json(Method::PATCH, &path, &owner.access, body.clone())
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
        body_of(res).await;
    }

    let files_before = app.media_files();
    let old_thumbnail = video["thumbnail"].as_str().unwrap().to_owned();
    let form = image_form("thumbnail", "new.jpg", JPEG.to_vec()).text("description", "Recut");
    let res = app
        .client
        .patch(app.url(&path))
        .bearer_auth(&owner.access)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let video = body_of(res).await["data"].clone();
    assert_eq!(video["description"], "Recut");
    let thumbnail = video["thumbnail"].as_str().unwrap();
    assert!(thumbnail.contains(".jpg?video="), "{thumbnail}");
    assert_eq!(
        app.client
            .get(&old_thumbnail)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.media_files().len(),
        files_before.len(),
        "the old thumbnail was replaced"
    );
    assert!(app.spool_files().is_empty());
}

#[tokio::test]
async fn deleting_a_video_removes_it_and_its_files() {
    let app = spawn_app().await;
    let owner = app.signed_up("cleaner").await;
    let viewer = app.signed_up("watcher").await;
    let id = ready_video(&app, &owner, "Short-lived").await;
    app.get_authed(&format!("/videos/{id}"), &viewer.access)
        .await;
    let video = body_of(
        app.get_authed(&format!("/videos/{id}"), &owner.access)
            .await,
    )
    .await["data"]
        .clone();

    let res = send(&app, &owner, Method::DELETE, &format!("/videos/{id}")).await;
    assert_eq!(res.status(), StatusCode::OK);
    body_of(res).await;
    assert_eq!(
        app.get_authed(&format!("/videos/{id}"), &owner.access)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    for url in [&video["videoFile"], &video["thumbnail"]] {
        let res = app.client.get(url.as_str().unwrap()).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
    assert!(history(&app, &viewer).await.is_empty());
    assert_eq!(
        send(&app, &owner, Method::DELETE, &format!("/videos/{id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}
