//! PDF attachments on videos (`/videos/:videoId/attachments`, issue 18): added by the owner
//! through the upload module, listed to whoever may see the video, served as downloads that
//! follow the video's visibility, and gone with the video.

use reqwest::multipart::{Form, Part};
use reqwest::{Method, Response, StatusCode};
use serde_json::Value;
use videotube_infra::mongo::bson::{doc, Document};

use crate::helpers::{body_of, error_fields, spawn_app, spawn_app_with, Login, TestApp, PNG};
use crate::samples;
use crate::videos::{publish, settled, video_form};

/// A PDF as far as anything checks: its `%PDF-` signature, then `len` bytes in all.
fn pdf(len: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n".to_vec();
    bytes.resize(len, b' ');
    bytes
}

fn attachment_form(name: &str, bytes: Vec<u8>, title: Option<&str>) -> Form {
    let form = Form::new().part(
        "file",
        Part::bytes(bytes)
            .file_name(name.to_owned())
            .mime_str("application/pdf")
            .unwrap(),
    );
    match title {
        Some(title) => form.text("title", title.to_owned()),
        None => form,
    }
}

/// A ready, published video of `owner`'s; answers its id.
async fn video_of(app: &TestApp, owner: &Login) -> String {
    let res = publish(
        app,
        owner,
        video_form(("clip.mp4", samples::mp4(1_000)), PNG.to_vec()),
    )
    .await;
    let id = body_of(res).await["data"]["_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(settled(app, owner, &id).await["status"], "ready");
    id
}

async fn attach(app: &TestApp, access: &str, video: &str, form: Form) -> Response {
    app.client
        .post(app.url(&format!("/videos/{video}/attachments")))
        .bearer_auth(access)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn attachments_of(app: &TestApp, access: Option<&str>, video: &str) -> Response {
    let mut req = app
        .client
        .get(app.url(&format!("/videos/{video}/attachments")));
    if let Some(access) = access {
        req = req.bearer_auth(access);
    }
    req.send().await.unwrap()
}

async fn stored_attachments(app: &TestApp) -> u64 {
    app.db
        .collection::<Document>("attachments")
        .count_documents(doc! {})
        .await
        .unwrap()
}

fn attachment_files(app: &TestApp) -> Vec<String> {
    let mut files = app.media_files();
    files.retain(|f| f.starts_with("attachments/"));
    files
}

#[tokio::test]
async fn an_owner_attaches_pdfs_that_anyone_who_sees_the_video_can_download() {
    let app = spawn_app().await;
    let owner = app.signed_up("lecturer").await;
    let video = video_of(&app, &owner).await;
    let slides = pdf(5_000);

    let res = attach(
        &app,
        &owner.access,
        &video,
        attachment_form("Week 1 slides.pdf", slides.clone(), None),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let first = body_of(res).await["data"].clone();
    assert_eq!(
        first["title"], "Week 1 slides",
        "named after its file: {first}"
    );
    assert_eq!(first["size"], 5_000);
    assert!(first["_id"].as_str().unwrap().len() == 24 && first["createdAt"].is_string());
    let url = first["url"].as_str().unwrap().to_owned();
    assert!(
        url.starts_with(&format!("{}/media/attachments/", app.address)),
        "{url}"
    );
    assert!(url.contains(".pdf?video="), "{url}");
    let res = attach(
        &app,
        &owner.access,
        &video,
        attachment_form("notes.pdf", pdf(300), Some("  Reading list  ")),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(body_of(res).await["data"]["title"], "Reading list");

    let listed = body_of(attachments_of(&app, None, &video).await).await;
    let titles: Vec<&str> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        ["Week 1 slides", "Reading list"],
        "oldest first, to anyone"
    );

    let download = app.client.get(&url).send().await.unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    let header = |name: &str| download.headers()[name].to_str().unwrap().to_owned();
    assert_eq!(header("content-type"), "application/pdf");
    assert!(
        header("content-disposition").starts_with("attachment"),
        "{}",
        header("content-disposition")
    );
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(download.bytes().await.unwrap(), slides);

    let id = first["_id"].as_str().unwrap();
    let res = app
        .send(
            Method::DELETE,
            &format!("/videos/{video}/attachments/{id}"),
            &owner.access,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        body_of(attachments_of(&app, None, &video).await).await["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        app.client.get(&url).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(attachment_files(&app).len(), 1, "its file is deleted");
    let again = app
        .send(
            Method::DELETE,
            &format!("/videos/{video}/attachments/{id}"),
            &owner.access,
        )
        .await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_uploads_are_clear_4xx_and_leave_nothing_behind() {
    let app = spawn_app_with(&[("APP_MEDIA__DOCUMENT_MAX_BYTES", "10000")]).await;
    let owner = app.signed_up("careful").await;
    let video = video_of(&app, &owner).await;
    let before = app.media_files().len();
    let mut png = PNG.to_vec();
    png.resize(2000, 0);
    let cases: Vec<(Form, StatusCode, Vec<&str>)> = vec![
        // A PNG named, and declared, as a PDF.
        (
            attachment_form("slides.pdf", png, None),
            StatusCode::BAD_REQUEST,
            vec!["file"],
        ),
        (
            attachment_form("script.pdf", b"<script>alert(1)</script>".repeat(10), None),
            StatusCode::BAD_REQUEST,
            vec!["file"],
        ),
        (
            attachment_form("big.pdf", pdf(10_001), None),
            StatusCode::PAYLOAD_TOO_LARGE,
            vec!["file"],
        ),
        (
            attachment_form("empty.pdf", Vec::new(), None),
            StatusCode::BAD_REQUEST,
            vec!["file"],
        ),
        (
            Form::new().text("title", "No file"),
            StatusCode::BAD_REQUEST,
            vec!["file"],
        ),
        (
            attachment_form("long.pdf", pdf(500), Some(&"x".repeat(201))),
            StatusCode::BAD_REQUEST,
            vec!["title"],
        ),
        (
            attachment_form("blank.pdf", pdf(500), Some(" \u{200b} ")),
            StatusCode::BAD_REQUEST,
            vec!["title"],
        ),
        (
            Form::new().part("thumbnail", Part::bytes(pdf(500)).file_name("x.pdf")),
            StatusCode::BAD_REQUEST,
            vec![],
        ),
    ];
    for (form, status, fields) in cases {
        let res = attach(&app, &owner.access, &video, form).await;
        assert_eq!(res.status(), status, "{fields:?}");
        let body = body_of(res).await;
        if !fields.is_empty() {
            assert_eq!(error_fields(&body), fields, "{body}");
        }
    }
    // Not multipart at all, and multipart that breaks off.
    let json = app
        .client
        .post(app.url(&format!("/videos/{video}/attachments")))
        .bearer_auth(&owner.access)
        .json(&serde_json::json!({ "file": { "$gt": "" }, "title": ["x"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), StatusCode::BAD_REQUEST);
    body_of(json).await;
    let broken = app
        .client
        .post(app.url(&format!("/videos/{video}/attachments")))
        .bearer_auth(&owner.access)
        .header("content-type", "multipart/form-data; boundary=XYZ")
        .body("--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n%PDF-1.4 and then nothing")
        .send()
        .await
        .unwrap();
    assert_eq!(broken.status(), StatusCode::BAD_REQUEST);
    body_of(broken).await;

    for (path, field) in [
        ("/videos/nope/attachments", "videoId"),
        (&format!("/videos/{video}/attachments/nope"), "attachmentId"),
    ] {
        let method = if field == "videoId" {
            Method::GET
        } else {
            Method::DELETE
        };
        let res = app.send(method, path, &owner.access).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(error_fields(&body_of(res).await), [field]);
    }
    for token in ["", "not-a-jwt", &format!("{}x", owner.access)] {
        let res = attach(
            &app,
            token,
            &video,
            attachment_form("a.pdf", pdf(500), None),
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{token:?}");
    }
    let missing = "0123456789abcdef01234567";
    let res = attach(
        &app,
        &owner.access,
        missing,
        attachment_form("a.pdf", pdf(500), None),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        attachments_of(&app, None, missing).await.status(),
        StatusCode::NOT_FOUND
    );

    assert!(app.spool_becomes(true).await, "{:?}", app.spool_files());
    assert_eq!(stored_attachments(&app).await, 0);
    assert_eq!(app.media_files().len(), before, "no file stored");
}

#[tokio::test]
async fn attachments_are_the_owners_to_change_and_follow_the_videos_visibility() {
    let app = spawn_app().await;
    let owner = app.signed_up("author").await;
    let stranger = app.signed_up("stranger").await;
    let video = video_of(&app, &owner).await;
    let other_video = video_of(&app, &owner).await;
    let res = attach(
        &app,
        &owner.access,
        &video,
        attachment_form("notes.pdf", pdf(800), None),
    )
    .await;
    let attachment = body_of(res).await["data"].clone();
    let id = attachment["_id"].as_str().unwrap();

    let res = attach(
        &app,
        &stranger.access,
        &video,
        attachment_form("spam.pdf", pdf(800), None),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    body_of(res).await;
    let res = app
        .send(
            Method::DELETE,
            &format!("/videos/{video}/attachments/{id}"),
            &stranger.access,
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .send(
            Method::DELETE,
            &format!("/videos/{other_video}/attachments/{id}"),
            &owner.access,
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::NOT_FOUND,
        "not that video's attachment"
    );

    // Hidden: the list is the owner's alone, and the file is served only through their link.
    let res = app
        .send(
            Method::PATCH,
            &format!("/videos/toggle/publish/{video}"),
            &owner.access,
        )
        .await;
    assert_eq!(body_of(res).await["data"]["isPublished"], false);
    assert_eq!(
        attachments_of(&app, None, &video).await.status(),
        StatusCode::NOT_FOUND
    );
    let res = attachments_of(&app, Some(&stranger.access), &video).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let listed = body_of(attachments_of(&app, Some(&owner.access), &video).await).await;
    let signed = listed["data"][0]["url"].as_str().unwrap().to_owned();
    assert!(signed.contains("signature="), "{signed}");
    assert_eq!(
        app.client.get(&signed).send().await.unwrap().status(),
        StatusCode::OK
    );
    let unsigned = attachment["url"].as_str().unwrap();
    assert_eq!(
        app.client.get(unsigned).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let bare = unsigned.split('?').next().unwrap();
    assert_eq!(
        app.client.get(bare).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_video_takes_twenty_attachments_even_when_they_race() {
    let app = spawn_app().await;
    let owner = app.signed_up("prolific").await;
    let video = video_of(&app, &owner).await;
    for n in 0..18 {
        let res = attach(
            &app,
            &owner.access,
            &video,
            attachment_form(&format!("{n}.pdf"), pdf(100), None),
        )
        .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let racing = (0..4).map(|n| {
        attach(
            &app,
            &owner.access,
            &video,
            attachment_form(&format!("race{n}.pdf"), pdf(100), None),
        )
    });
    let statuses: Vec<StatusCode> = futures_util::future::join_all(racing)
        .await
        .iter()
        .map(Response::status)
        .collect();
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    assert_eq!(created, 2, "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
    let res = attach(
        &app,
        &owner.access,
        &video,
        attachment_form("one-more.pdf", pdf(100), None),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let body: Value = body_of(res).await;
    assert!(body["message"].as_str().unwrap().contains("20"), "{body}");
    assert_eq!(stored_attachments(&app).await, 20);
    assert_eq!(
        attachment_files(&app).len(),
        20,
        "refused files are not kept"
    );
    assert!(app.spool_becomes(true).await);
}

#[tokio::test]
async fn deleting_a_video_deletes_its_attachments_and_their_files() {
    let app = spawn_app().await;
    let owner = app.signed_up("tidy").await;
    let video = video_of(&app, &owner).await;
    let kept = video_of(&app, &owner).await;
    for (on, name) in [(&video, "a.pdf"), (&video, "b.pdf"), (&kept, "c.pdf")] {
        let res = attach(
            &app,
            &owner.access,
            on,
            attachment_form(name, pdf(100), None),
        )
        .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let res = app
        .send(Method::DELETE, &format!("/videos/{video}"), &owner.access)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(stored_attachments(&app).await, 1);
    assert_eq!(attachment_files(&app).len(), 1);
    let listed = body_of(attachments_of(&app, None, &kept).await).await;
    assert_eq!(listed["data"][0]["title"], "c");
}
