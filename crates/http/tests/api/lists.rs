//! Lists answered as plain arrays (the routes the original left as TODO): their default size,
//! `X-Total-Count` and `Link`, keyset paging through `next`, and what browsers may read.

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{body_of, error_fields, listed, spawn_app, spawn_app_with, Listed, Login};
use crate::videos::ready_video;

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["_id"].as_str().unwrap().to_owned())
        .collect()
}

async fn follow(app: &crate::helpers::TestApp, login: &Login, url: &str) -> Listed {
    listed(
        app.client
            .get(url)
            .bearer_auth(&login.access)
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn without_paging_a_list_answers_its_first_100_newest_first_and_links_on() {
    let app = spawn_app().await;
    let author = app.signed_up("prolific").await;
    for n in 0..101 {
        let res = app
            .post_json_authed(
                "/tweets",
                &author.access,
                json!({ "content": format!("tweet {n}") }),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let path = format!("/tweets/user/{}", author.user["_id"].as_str().unwrap());
    let first = listed(app.get_authed(&path, &author.access).await).await;
    assert_eq!(first.items.len(), 100, "the first 100 by default");
    assert_eq!(first.total, 101);
    assert_eq!(first.items[0]["content"], "tweet 100", "newest first");
    let url = app.url(&path);
    assert_eq!(first.links["first"], format!("{url}?page=1&limit=100"));
    assert_eq!(first.links["last"], format!("{url}?page=2&limit=100"));
    assert!(!first.links.contains_key("prev"));
    assert!(first.links["next"].starts_with(&format!("{url}?cursor=")));

    let rest = follow(&app, &author, &first.links["next"]).await;
    assert_eq!(rest.items.len(), 1);
    assert_eq!(rest.items[0]["content"], "tweet 0");
    let seen: HashSet<String> = ids(&first.items)
        .into_iter()
        .chain(ids(&rest.items))
        .collect();
    assert_eq!(seen.len(), 101, "every tweet once");
    assert!(!rest.links.contains_key("next"), "a short page is the last");
}

#[tokio::test]
async fn the_history_pages_by_cursor_and_counts_every_entry() {
    let app = spawn_app().await;
    let viewer = app.signed_up("binger").await;
    let mut watched = Vec::new();
    for title in ["One", "Two", "Three"] {
        let id = ready_video(&app, &viewer, title).await;
        let res = app
            .get_authed(&format!("/videos/{id}"), &viewer.access)
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        watched.push(id);
    }
    let page = listed(
        app.get_authed("/users/history?limit=2", &viewer.access)
            .await,
    )
    .await;
    assert_eq!(page.total, 3);
    assert_eq!(ids(&page.items), [watched[2].clone(), watched[1].clone()]);
    let rest = follow(&app, &viewer, &page.links["next"]).await;
    assert_eq!(ids(&rest.items), [watched[0].clone()]);
    assert_eq!(rest.total, 3);
}

#[tokio::test]
async fn cursors_are_checked_like_any_parameter() {
    let app = spawn_app().await;
    let login = app.signed_up("checker").await;
    let channel = login.user["_id"].as_str().unwrap();
    let res = app
        .get_authed(
            &format!("/subscriptions/c/{channel}?cursor=zz"),
            &login.access,
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_fields(&body_of(res).await), ["cursor"]);
    let cursor = "74313730303030303030303030307e303132333435363738396162636465663031323334353637";
    for (query, field) in [
        (format!("page=2&cursor={cursor}"), "page"),
        ("limit=101".to_owned(), "limit"),
        ("page=101".to_owned(), "page"),
    ] {
        let res = app
            .get_authed(&format!("/dashboard/videos?{query}"), &login.access)
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(error_fields(&body_of(res).await), [field], "{query}");
    }
}

#[tokio::test]
async fn browsers_may_read_the_total_and_the_links() {
    let app = spawn_app_with(&[("CORS_ORIGIN", "https://app.example")]).await;
    let login = app.signed_up("browser").await;
    let res = app
        .client
        .get(app.url("/likes/videos"))
        .header("origin", "https://app.example")
        .bearer_auth(&login.access)
        .send()
        .await
        .unwrap();
    let exposed = res.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for header in ["x-total-count", "link"] {
        assert!(exposed.contains(header), "{exposed}");
    }
}
