//! Serving the local media store: ranges, headers, and no way out of the media directory.

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{body_of, spawn_app, TestApp, PNG};

/// A request sent byte for byte: HTTP clients normalise `..` away before sending.
async fn raw_get(app: &TestApp, target: &str) -> (u16, String) {
    let authority = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(authority).await.unwrap();
    let request =
        format!("GET {target} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response.split(' ').nth(1).unwrap().parse().unwrap();
    (status, response)
}

#[tokio::test]
async fn media_support_range_requests_and_long_caching() {
    let app = spawn_app().await;
    let login = app.signed_up("viewer").await;
    let avatar = login.user["avatar"].as_str().unwrap();

    let res = app
        .client
        .get(avatar)
        .header("range", "bytes=0-9")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        res.headers()["content-range"],
        format!("bytes 0-9/{}", PNG.len())
    );
    assert_eq!(res.headers()["content-type"], "image/png");
    assert_eq!(res.bytes().await.unwrap().as_ref(), &PNG[..10]);

    let res = app
        .client
        .get(avatar)
        .header("range", "bytes=60-")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(res.bytes().await.unwrap().as_ref(), &PNG[60..]);

    let res = app.client.get(avatar).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["accept-ranges"], "bytes");
    assert!(res.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    let etag = res.headers()["etag"].clone();
    let res = app
        .client
        .get(avatar)
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);

    let res = app
        .client
        .get(avatar)
        .header("range", "bytes=500-600")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::RANGE_NOT_SATISFIABLE);
}

#[tokio::test]
async fn ranges_answer_what_was_asked_or_the_whole_file() {
    let app = spawn_app().await;
    let login = app.signed_up("seeker").await;
    let avatar = login.user["avatar"].as_str().unwrap();
    let get = |headers: &[(&'static str, String)]| {
        let mut request = app.client.get(avatar);
        for (name, value) in headers {
            request = request.header(*name, value.clone());
        }
        async move { request.send().await.unwrap() }
    };
    let full = get(&[]).await;
    let (etag, modified) = (
        full.headers()["etag"].to_str().unwrap().to_owned(),
        full.headers()["last-modified"].to_str().unwrap().to_owned(),
    );
    let range = ("range", "bytes=0-9".to_owned());

    // A range past the end is clamped, and still a range.
    let res = get(&[("range", "bytes=0-99999999".to_owned())]).await;
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    let whole = format!("bytes 0-{}/{}", PNG.len() - 1, PNG.len());
    assert_eq!(res.headers()["content-range"], whole.as_str());
    assert_eq!(res.bytes().await.unwrap().as_ref(), PNG);

    // Several ranges: the whole file, not the first range alone.
    let res = get(&[("range", "bytes=0-1,4-5".to_owned())]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().get("content-range").is_none());
    assert_eq!(res.bytes().await.unwrap().as_ref(), PNG);

    // If-Range: the range while the file is the one named, else the whole file.
    for (validator, ranged) in [
        (etag.clone(), true),
        (modified, true),
        ("\"someone-elses\"".to_owned(), false),
        (format!("W/{etag}"), false),
        ("Thu, 01 Jan 1970 00:00:00 GMT".to_owned(), false),
    ] {
        let res = get(&[range.clone(), ("if-range", validator.clone())]).await;
        let (status, body) = if ranged {
            (StatusCode::PARTIAL_CONTENT, &PNG[..10])
        } else {
            (StatusCode::OK, PNG)
        };
        assert_eq!(res.status(), status, "{validator}");
        assert_eq!(res.headers()["etag"], etag.as_str(), "{validator}");
        assert_eq!(res.bytes().await.unwrap().as_ref(), body, "{validator}");
    }
}

#[tokio::test]
async fn nothing_outside_the_media_directory_is_served() {
    let app = spawn_app().await;
    app.signed_up("guarded").await;
    // A secret beside the media directory, and a link to it from inside.
    let secret = app.spool_dir.path().join("secret.txt");
    std::fs::write(&secret, "top secret").unwrap();
    std::os::unix::fs::symlink(&secret, app.media_dir.path().join("avatars/link.png")).unwrap();
    let spool_name = app
        .spool_dir
        .path()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();

    let attempts = [
        format!("/media/../{spool_name}/secret.txt"),
        format!("/media/%2e%2e/{spool_name}/secret.txt"),
        format!("/media/%2e%2e%2f{spool_name}%2fsecret.txt"),
        format!("/media/avatars/../../{spool_name}/secret.txt"),
        format!("/media/avatars/%2e%2e%2f%2e%2e%2f{spool_name}%2fsecret.txt"),
        format!("/media/{}", secret.display()),
        format!(
            "/media/%2f{}",
            secret.display().to_string().trim_start_matches('/')
        ),
        "/media//etc/passwd".to_owned(),
        "/media/..%5c..%5cetc%5cpasswd".to_owned(),
        "/media/avatars/link.png".to_owned(),
        "/media/avatars".to_owned(),
        "/media/".to_owned(),
    ];
    for target in attempts {
        let (status, response) = raw_get(&app, &target).await;
        assert!((400..500).contains(&status), "{target} answered {status}");
        assert!(!response.contains("top secret"), "{target} leaked the file");
        assert!(!response.contains("root:"), "{target} leaked /etc/passwd");
    }
    let res = app
        .client
        .get(format!("{}/media/avatars/none.png", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    body_of(res).await;
}

#[tokio::test]
async fn files_of_videos_that_are_not_public_are_for_their_owner_alone() {
    let app = crate::helpers::spawn_app().await;
    let creator = app.signed_up("private_eye").await;
    let video = crate::videos::ready_video(&app, &creator, "Soon private").await;
    let files = || {
        let app = &app;
        let path = format!("/videos/{video}");
        let access = creator.access.clone();
        async move {
            let body = body_of(app.get_authed(&path, &access).await).await;
            let url = |field: &str| body["data"][field].as_str().unwrap().to_owned();
            (url("videoFile"), url("thumbnail"))
        }
    };
    let fetch = |url: String| {
        let client = app.client.clone();
        async move { client.get(url).send().await.unwrap() }
    };
    let (public_file, public_thumbnail) = files().await;
    // The URL names its video, looked up by id before the file is served.
    assert!(
        public_file.ends_with(&format!("?video={video}")),
        "{public_file}"
    );
    let res = fetch(public_file.clone()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "public, no-cache");
    let path = public_file.split_once('?').unwrap().0.to_owned();
    assert_eq!(
        fetch(path.clone()).await.status(),
        StatusCode::OK,
        "without it too"
    );
    let other = crate::videos::ready_video(&app, &creator, "Another").await;
    let misnamed = fetch(format!("{path}?video={other}")).await;
    assert_eq!(
        misnamed.status(),
        StatusCode::NOT_FOUND,
        "a video that does not hold it"
    );

    let res = app
        .send(
            reqwest::Method::PATCH,
            &format!("/videos/toggle/publish/{video}"),
            &creator.access,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    for url in [&public_file, &public_thumbnail, &path] {
        assert_eq!(
            fetch(url.clone()).await.status(),
            StatusCode::NOT_FOUND,
            "{url}"
        );
    }
    let (signed_file, signed_thumbnail) = files().await;
    assert!(
        signed_file.starts_with(&format!("{public_file}&expires=")),
        "{signed_file}"
    );
    let res = fetch(signed_file.clone()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "private, no-store");
    assert_eq!(
        fetch(signed_thumbnail.clone()).await.status(),
        StatusCode::OK
    );
    // A signature is for its own path, as given.
    let (_, thumbnail_query) = signed_thumbnail.split_once('?').unwrap();
    let borrowed = format!("{path}?{thumbnail_query}");
    assert_eq!(fetch(borrowed).await.status(), StatusCode::NOT_FOUND);
    let tampered = signed_file.replace("signature=", "signature=00");
    assert_eq!(fetch(tampered).await.status(), StatusCode::NOT_FOUND);
    // A file no video holds (a job still storing it) is nobody's to fetch.
    std::fs::write(app.media_dir.path().join("videos/orphan.mp4"), b"data").unwrap();
    let orphan = format!("{}/media/videos/orphan.mp4", app.address);
    assert_eq!(fetch(orphan).await.status(), StatusCode::NOT_FOUND);
    // And a link runs out: one signed with the app's key an hour ago.
    let links = videotube_infra::media_links::MediaLinks::new(
        &app.settings.auth.access_token_secret,
        std::time::Duration::from_secs(60),
    );
    let stored = path.strip_prefix(&app.address).unwrap();
    let an_hour_ago = chrono::Utc::now() - chrono::TimeDelta::hours(1);
    let expired = format!("{public_file}&{}", links.sign(stored, an_hour_ago));
    assert_eq!(fetch(expired).await.status(), StatusCode::NOT_FOUND);
    let fresh = format!("{public_file}&{}", links.sign(stored, chrono::Utc::now()));
    assert_eq!(
        fetch(fresh).await.status(),
        StatusCode::OK,
        "the same link, in time"
    );
    // Published again, the plain URL works again.
    app.send(
        reqwest::Method::PATCH,
        &format!("/videos/toggle/publish/{video}"),
        &creator.access,
    )
    .await;
    assert_eq!(fetch(public_file).await.status(), StatusCode::OK);
}
