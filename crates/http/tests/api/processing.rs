//! Video processing with Debian's ffmpeg (issue 17): every published video is probed before it
//! is stored, and one published without a thumbnail gets a frame of it. `scripts/test` installs
//! ffmpeg when it is missing.

use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine;
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::binary::start_videotube;
use crate::faults::Server;
use crate::helpers::{body_of, database_uri, spawn_app_with, spawn_app_with_worker, TestApp, PNG};
use crate::videos::{publish, settled, video_form};

const FFMPEG_NEEDED: &str = "ffmpeg is needed: scripts/test installs it (scripts/lib/packages.sh)";

/// What ffmpeg writes from lavfi sources with `args`, as an MP4.
fn encoded(args: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.mp4");
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-y"])
        .args(args)
        .args(["-f", "mp4"])
        .arg(&out)
        .status()
        .expect(FFMPEG_NEEDED);
    assert!(status.success(), "ffmpeg {args:?}");
    std::fs::read(out).unwrap()
}

/// Two seconds of 320x240 H.264 with AAC sound.
fn clip() -> Vec<u8> {
    clip_of("320x240")
}

/// Two seconds of H.264 of this size with AAC sound.
fn clip_of(size: &str) -> Vec<u8> {
    clip_lasting(size, 2)
}

fn clip_lasting(size: &str, seconds: u32) -> Vec<u8> {
    encoded(&[
        "-f",
        "lavfi",
        "-i",
        &format!("testsrc=size={size}:rate=25:duration={seconds}"),
        "-f",
        "lavfi",
        "-i",
        &format!("sine=duration={seconds}"),
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
    ])
}

/// `video` with its picture marked to be shown turned a quarter (as phones record portrait).
fn turned(video: Vec<u8>) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let (source, out) = (dir.path().join("in.mp4"), dir.path().join("out.mp4"));
    std::fs::write(&source, video).unwrap();
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-y", "-i"])
        .arg(&source)
        .args(["-c", "copy", "-metadata:s:v:0", "rotate=90", "-f", "mp4"])
        .arg(&out)
        .status()
        .expect(FFMPEG_NEEDED);
    assert!(status.success());
    std::fs::read(out).unwrap()
}

fn processing_app() -> impl std::future::Future<Output = TestApp> {
    spawn_app_with(&[("APP_MEDIA__FFMPEG", "ffmpeg")])
}

/// Publishes `video` and runs its job; answers the video as its owner sees it.
async fn published(app: &TestApp, video: Vec<u8>) -> Value {
    published_with(app, video_form(("clip.mp4", video), PNG.to_vec())).await
}

async fn published_with(app: &TestApp, form: Form) -> Value {
    let login = app.signed_up("director").await;
    let res = publish(app, &login, form).await;
    let body = body_of(res).await;
    let id = body["data"]["_id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned();
    settled(app, &login, &id).await
}

#[tokio::test]
async fn a_real_video_is_probed_and_stored_with_its_length() {
    let app = processing_app().await;
    let video = published(&app, clip()).await;
    assert_eq!(video["status"], "ready", "{video}");
    let duration = video["duration"].as_f64().unwrap();
    assert!((duration - 2.0).abs() < 0.1, "{video}");
}

/// A file with sound only (here an MP4 holding one AAC track) is refused at its first
/// attempt, with the reason, and its spooled files are removed.
#[tokio::test]
async fn an_upload_without_a_video_stream_fails_at_once_with_the_reason() {
    let app = processing_app().await;
    let sound_only = encoded(&["-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac"]);
    let video = published(&app, sound_only).await;
    assert_eq!(video["status"], "failed", "{video}");
    let reason = video["failureReason"].as_str().unwrap();
    assert!(reason.contains("no video stream"), "{reason}");
    assert_eq!(
        app.db
            .collection::<videotube_infra::mongo::bson::Document>("media_jobs")
            .count_documents(videotube_infra::mongo::bson::doc! {})
            .await
            .unwrap(),
        0,
        "ended, not waiting for another attempt"
    );
    assert!(app.spool_files().is_empty(), "{:?}", app.spool_files());
}

/// A file that only starts like an MP4 is refused with what ffprobe found in it.
#[tokio::test]
async fn an_unreadable_file_fails_with_what_ffprobe_found() {
    let app = processing_app().await;
    let mut broken = clip()[..32].to_vec();
    broken.extend(std::iter::repeat_n(0x5a, 4096));
    let video = published(&app, broken).await;
    assert_eq!(video["status"], "failed", "{video}");
    let reason = video["failureReason"].as_str().unwrap();
    assert!(
        reason.starts_with("The file is not a video that can be played (moov atom not found"),
        "{reason}"
    );
    assert!(!reason.contains("file:"), "no server path: {reason}");
}

/// Without ffmpeg the server says so when it starts (it then stores videos unchecked, as the
/// apps of the other tests do).
#[tokio::test]
async fn a_missing_ffmpeg_is_reported_at_start_up() {
    let dirs = tempfile::tempdir().unwrap();
    let db_name = format!("test_{}", uuid::Uuid::new_v4().simple());
    let media = dirs.path().join("media").display().to_string();
    let spool = dirs.path().join("spool").display().to_string();
    let (mut server, _) = start_videotube(
        &[
            ("MONGODB_URI", &database_uri()),
            ("DB_NAME", &db_name),
            ("MEDIA_DIR", &media),
            ("UPLOAD_TMP_DIR", &spool),
            ("APP_MEDIA__FFMPEG", "/nonexistent/ffmpeg"),
        ],
        &dirs.path().join("server.log"),
    )
    .await;
    server.kill().unwrap();
    server.wait().unwrap();
    let log = std::fs::read_to_string(dirs.path().join("server.log")).unwrap();
    assert!(
        log.contains("ffmpeg was not found") && log.contains("/nonexistent/ffmpeg"),
        "{log}"
    );
}

/// The form of `POST /videos` without its thumbnail.
fn form_without_thumbnail(video: Vec<u8>) -> Form {
    Form::new()
        .text("title", "No picture")
        .text("description", "The server picks one")
        .part(
            "videoFile",
            Part::bytes(video)
                .file_name("clip.mp4")
                .mime_str("video/mp4")
                .unwrap(),
        )
}

/// A video published without a thumbnail gets a JPEG of a frame a little way in, stored like an
/// uploaded one; the frame's file leaves the spool with the job.
#[tokio::test]
async fn a_video_published_without_a_thumbnail_gets_a_frame_of_it() {
    let app = processing_app().await;
    let video = published_with(&app, form_without_thumbnail(clip())).await;
    assert_eq!(video["status"], "ready", "{video}");
    let thumbnail = video["thumbnail"].as_str().unwrap();
    let res = app.client.get(thumbnail).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{thumbnail}");
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    let picture = res.bytes().await.unwrap();
    assert_eq!(&picture[..3], &[0xff, 0xd8, 0xff], "a JPEG");
    assert!(app.spool_files().is_empty(), "{:?}", app.spool_files());
}

/// Without ffmpeg nothing can make a thumbnail: one must be uploaded, as in the original.
#[tokio::test]
async fn without_ffmpeg_a_video_needs_its_thumbnail() {
    let app = spawn_app_with(&[]).await;
    let login = app.signed_up("director").await;
    let res = publish(&app, &login, form_without_thumbnail(clip())).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body = body_of(res).await;
    assert_eq!(body["message"], "thumbnail is required", "{body}");
    assert_eq!(body["errors"][0]["field"], "thumbnail", "{body}");
    assert!(app.spool_files().is_empty(), "{:?}", app.spool_files());
}

/// A published video is transcoded to HLS: H.264/AAC renditions up to its own size, each a
/// playlist and MPEG-TS segments, under a master playlist served with the HLS types; the
/// package leaves the spool, is not served while the video is hidden, and goes with the video.
#[tokio::test]
async fn a_published_video_is_streamed_in_renditions_up_to_its_size() {
    let app = processing_app().await;
    let login = app.signed_up("streamer").await;
    let res = publish(
        &app,
        &login,
        video_form(("clip.mp4", clip_of("854x480")), PNG.to_vec()),
    )
    .await;
    let id = body_of(res).await["data"]["_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let video = settled(&app, &login, &id).await;
    assert_eq!(video["status"], "ready", "{video}");
    let master_url = video["hlsUrl"].as_str().expect("hlsUrl").to_owned();
    let get = |url: String| {
        let client = app.client.clone();
        async move {
            let res = client.get(&url).send().await.unwrap();
            let status = res.status();
            let kind = res
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned());
            (status, kind, res.bytes().await.unwrap())
        }
    };
    let (status, kind, master) = get(master_url.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(kind.as_deref(), Some("application/vnd.apple.mpegurl"));
    let master = String::from_utf8(master.to_vec()).unwrap();
    assert!(master.starts_with("#EXTM3U"), "{master}");
    for expected in ["RESOLUTION=854x480", "480p/index.m3u8", "240p/index.m3u8"] {
        assert!(master.contains(expected), "{expected} in {master}");
    }
    assert!(
        !master.contains("720p"),
        "nothing above the source: {master}"
    );

    // The renditions are fetched relative to the master playlist, without its query.
    let base = master_url
        .split('?')
        .next()
        .unwrap()
        .trim_end_matches("master.m3u8");
    let (status, kind, playlist) = get(format!("{base}240p/index.m3u8")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(kind.as_deref(), Some("application/vnd.apple.mpegurl"));
    let playlist = String::from_utf8(playlist.to_vec()).unwrap();
    let segment = playlist
        .lines()
        .find(|line| line.ends_with(".ts"))
        .unwrap_or_else(|| panic!("{playlist}"));
    let (status, kind, bytes) = get(format!("{base}240p/{segment}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(kind.as_deref(), Some("video/mp2t"));
    assert_eq!(bytes[0], 0x47, "an MPEG-TS sync byte");
    assert!(app.spool_files().is_empty(), "{:?}", app.spool_files());

    let toggle = app
        .client
        .patch(app.url(&format!("/videos/toggle/publish/{id}")))
        .bearer_auth(&login.access)
        .send()
        .await
        .unwrap();
    assert_eq!(toggle.status(), StatusCode::OK);
    let hidden = body_of(toggle).await["data"].clone();
    assert!(hidden.get("hlsUrl").is_none(), "{hidden}");
    assert_eq!(get(master_url.clone()).await.0, StatusCode::NOT_FOUND);

    let deleted = app
        .client
        .delete(app.url(&format!("/videos/{id}")))
        .bearer_auth(&login.access)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::OK);
    assert!(
        !app.media_dir
            .path()
            .join("streams")
            .read_dir()
            .unwrap()
            .any(|_| true),
        "the package went with the video"
    );
}

/// While a video transcodes, its owner sees how far it has got; the figure goes once it is
/// ready.
#[tokio::test]
async fn the_owner_sees_the_progress_of_a_transcode() {
    let app = spawn_app_with_worker(&[("APP_MEDIA__FFMPEG", "ffmpeg")]).await;
    let login = app.signed_up("patient").await;
    let res = publish(
        &app,
        &login,
        video_form(("clip.mp4", clip_lasting("854x480", 20)), PNG.to_vec()),
    )
    .await;
    let id = body_of(res).await["data"]["_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    let video = loop {
        let video = body_of(
            app.get_authed(&format!("/videos/{id}"), &login.access)
                .await,
        )
        .await["data"]
            .clone();
        match video["status"].as_str() {
            Some("processing") => {
                if let Some(progress) = video["progress"].as_u64() {
                    seen.push(progress);
                }
            }
            _ => break video,
        }
        assert!(Instant::now() < deadline, "still processing");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(video["status"], "ready", "{video}");
    assert!(video.get("progress").is_none(), "{video}");
    assert!(
        seen.iter().any(|p| (1..100).contains(p)),
        "progress seen: {seen:?}"
    );
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
}

/// A worker killed mid-transcode publishes nothing; the instance that takes the job over after
/// the lease transcodes again from the start, and the one package published is whole.
#[tokio::test]
async fn a_transcode_cut_short_by_a_crash_is_redone_whole_by_another_instance() {
    let shared = tempfile::tempdir().unwrap();
    let vars = vec![
        ("DB_NAME", format!("test_{}", uuid::Uuid::new_v4().simple())),
        (
            "MEDIA_DIR",
            shared.path().join("media").display().to_string(),
        ),
        (
            "UPLOAD_TMP_DIR",
            shared.path().join("spool").display().to_string(),
        ),
        ("PATH", std::env::var("PATH").unwrap_or_default()),
        ("APP_MEDIA__FFMPEG", "ffmpeg".into()),
        ("APP_MEDIA__JOB_POLL_SECONDS", "1".into()),
        ("APP_MEDIA__JOB_LEASE_SECONDS", "3".into()),
    ];
    let mut instances = vec![
        Server::start(&database_uri(), &vars).await,
        Server::start(&database_uri(), &vars).await,
    ];
    let client = reqwest::Client::new();
    let (token, _) = instances[0].signed_up(&client, "survivor").await;
    let form = video_form(("clip.mp4", clip_lasting("854x480", 20)), PNG.to_vec());
    let res = client
        .post(format!("{}/videos", instances[0].api))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let id = body_of(res).await["data"]["_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let video_of = |server: &Server| {
        let request = client
            .get(format!("{}/videos/{id}", server.api))
            .bearer_auth(&token);
        async move { body_of(request.send().await.unwrap()).await["data"].clone() }
    };

    // Kill whichever instance is transcoding, once it is under way.
    let deadline = Instant::now() + Duration::from_secs(60);
    while video_of(&instances[0]).await["progress"]
        .as_u64()
        .unwrap_or(0)
        == 0
    {
        assert!(Instant::now() < deadline, "the transcode never started");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let holder = instances
        .iter()
        .position(|server| {
            server
                .log()
                .lines()
                .any(|line| line.contains("job claimed") && line.contains(&id))
        })
        .expect("an instance claimed the job");
    instances.remove(holder).kill();
    let survivor = &instances[0];
    let video = loop {
        let video = video_of(survivor).await;
        if video["status"] != "processing" {
            break video;
        }
        assert!(Instant::now() < deadline, "never finished");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(video["status"], "ready", "{video}");

    let streams: Vec<String> = std::fs::read_dir(shared.path().join("media/streams"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(
        streams.len(),
        1,
        "one package, no partial copy: {streams:?}"
    );
    let master_url = video["hlsUrl"].as_str().unwrap();
    let master = client
        .get(master_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let base = master_url
        .split('?')
        .next()
        .unwrap()
        .trim_end_matches("master.m3u8");
    for rendition in ["480p", "240p"] {
        let playlist = client
            .get(format!("{base}{rendition}/index.m3u8"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(playlist.contains("#EXT-X-ENDLIST"), "{playlist}");
        let segments: Vec<&str> = playlist.lines().filter(|l| l.ends_with(".ts")).collect();
        assert!(segments.len() >= 5, "20 s in 4 s segments: {playlist}");
        for segment in segments {
            let res = client
                .get(format!("{base}{rendition}/{segment}"))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{rendition}/{segment}");
        }
    }
    assert!(master.contains("480p/index.m3u8"), "{master}");
    let left: Vec<_> = std::fs::read_dir(shared.path().join("spool/jobs"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|name| name != ".spool-id" && name != "resumable")
        .collect();
    assert!(left.is_empty(), "the spool is clean: {left:?}");
}

/// The player page: hls.js plays `source` muted and, once the video has played past 1 s,
/// posts to `/result` where it is, how many renditions it has, and the frame it shows as a PNG
/// (MSE's media come from the page's own origin, so the canvas may be read); or what went wrong.
fn player_page(source: &str) -> String {
    format!(
        r#"<!doctype html>
<html><body style="margin:0;background:#000">
<video id="video" muted autoplay playsinline width="854" height="480"></video>
<script src="/hls.min.js"></script>
<script>
const report = (what) => fetch("/result", {{ method: "POST", body: JSON.stringify(what) }});
const video = document.getElementById("video");
if (!Hls.isSupported()) report({{ error: "no Media Source Extensions" }});
const hls = new Hls();
hls.on(Hls.Events.ERROR, (_, data) => {{
  if (data.fatal) report({{ error: data.type + ": " + data.details }});
}});
let told = false;
video.addEventListener("timeupdate", () => {{
  if (!told && video.currentTime > 1) {{
    told = true;
    const canvas = document.createElement("canvas");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    report({{
      currentTime: video.currentTime,
      levels: hls.levels.length,
      frame: canvas.toDataURL("image/png"),
    }});
  }}
}});
hls.loadSource({source});
hls.attachMedia(video);
video.play().catch((e) => report({{ error: "play: " + e }}));
</script></body></html>"#,
        source = serde_json::to_string(source).unwrap()
    )
}

/// The stream plays in a browser: hls.js (npm) in headless Chromium plays a published video
/// past its first second, from a page on another origin (CORS); the frame it shows then is
/// saved as `target/hls-player.png`.
#[tokio::test]
async fn a_browser_plays_the_stream_with_hls_js() {
    let install = Command::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/hls-player/install"
    ))
    .output()
    .expect("scripts/hls-player/install runs");
    assert!(
        install.status.success(),
        "{}",
        String::from_utf8_lossy(&install.stderr)
    );
    let hls_js = std::fs::read(String::from_utf8(install.stdout).unwrap().trim()).unwrap();

    let page_server = MockServer::start().await;
    let app = spawn_app_with(&[
        ("APP_MEDIA__FFMPEG", "ffmpeg"),
        ("CORS_ORIGIN", &page_server.uri()),
    ])
    .await;
    let video = published(&app, clip_lasting("854x480", 6)).await;
    let source = video["hlsUrl"].as_str().expect("hlsUrl").to_owned();
    Mock::given(method("GET"))
        .and(path("/player.html"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(player_page(&source), "text/html; charset=utf-8"),
        )
        .mount(&page_server)
        .await;
    Mock::given(method("GET"))
        .and(path("/hls.min.js"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(hls_js, "text/javascript"))
        .mount(&page_server)
        .await;
    Mock::given(path("/result"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&page_server)
        .await;
    let page = format!("{}/player.html", page_server.uri());

    let profile = tempfile::tempdir().unwrap();
    let _browser = crate::docs::chromium_command(profile.path())
        .args([
            "--autoplay-policy=no-user-gesture-required",
            "--remote-debugging-port=0",
            &page,
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("Chromium starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    let result: Value = loop {
        let told = page_server.received_requests().await.unwrap_or_default();
        if let Some(request) = told.iter().find(|r| r.url.path() == "/result") {
            break serde_json::from_slice(&request.body).unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "the page never reported; it asked for {:?}",
            told.iter().map(|r| r.url.to_string()).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(result.get("error").is_none(), "{}", result["error"]);
    assert!(result["currentTime"].as_f64().unwrap() > 1.0);
    assert_eq!(result["levels"], 2, "480p and 240p");

    let frame = result["frame"].as_str().unwrap();
    let png = base64::engine::general_purpose::STANDARD
        .decode(frame.trim_start_matches("data:image/png;base64,"))
        .unwrap();
    let screenshot = crate::docs::target_dir().join("hls-player.png");
    std::fs::write(&screenshot, &png).unwrap();
    // A black or blank frame compresses to almost nothing; the test pattern does not.
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "{} bytes",
        png.len()
    );
}

/// A phone's portrait video, coded landscape and marked to be turned, is streamed upright: the
/// ladder follows the picture as shown.
#[tokio::test]
async fn a_turned_video_is_streamed_as_it_is_shown() {
    let app = processing_app().await;
    let video = published(&app, turned(clip_of("480x270"))).await;
    assert_eq!(video["status"], "ready", "{video}");
    let master = app
        .client
        .get(video["hlsUrl"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        master.contains("RESOLUTION=240x426"),
        "portrait 240p: {master}"
    );
}
