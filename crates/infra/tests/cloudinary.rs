//! The Cloudinary store against a local fake (wiremock) that checks what the real API checks:
//! the api key, the signature over the sorted parameters, the multipart fields and the chunk
//! headers of a chunked upload.

use std::io::Write;
use std::time::Duration;

use videotube_domain::media::{MediaFolder, MediaType, StoredMedia, UploadedFile};
use videotube_domain::ports::{MediaStore, MediaStoreError};
use videotube_infra::cloudinary::{CloudinaryConfig, CloudinaryStore, SignatureAlgorithm};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[path = "support/fake_cloudinary.rs"]
mod fake_cloudinary;

use fake_cloudinary::{
    delivery_signature_holds, Chunk, FakeAdmin, FakeDestroy, FakeRename, FakeUpload, API_KEY,
    SECRET, STREAM_TRANSFORMATION,
};

fn config(server: &MockServer) -> CloudinaryConfig {
    CloudinaryConfig {
        cloud_name: "demo".into(),
        api_key: API_KEY.into(),
        api_secret: SECRET.to_owned().into(),
        api_base: server.uri(),
        root_folder: "videotube".into(),
        signature_algorithm: SignatureAlgorithm::Sha1,
        chunk_threshold: 20 * 1024 * 1024,
        chunk_size: 20 * 1024 * 1024,
        request_timeout: Duration::from_secs(5),
        max_attempts: 3,
        backoff: Duration::from_millis(10),
        streaming_profile: Some("auto".into()),
    }
}

fn png_file(dir: &tempfile::TempDir, size: usize) -> UploadedFile {
    let path = dir.path().join("upload.png");
    let mut file = std::fs::File::create(&path).unwrap();
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend((0..size - 8).map(|i| (i % 251) as u8));
    file.write_all(&bytes).unwrap();
    UploadedFile {
        path,
        media_type: MediaType::Png,
        size: size as u64,
    }
}

#[tokio::test]
async fn a_small_file_is_one_signed_upload() {
    let server = MockServer::start().await;
    let fake = FakeUpload::default();
    Mock::given(method("POST"))
        .and(path("/v1_1/demo/image/upload"))
        .respond_with(fake.clone())
        .expect(1)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let file = png_file(&dir, 4096);
    let store = CloudinaryStore::new(config(&server)).unwrap();
    let stored = store
        .store(&file, MediaFolder::Avatars, None)
        .await
        .unwrap();

    let received = fake.received.lock().unwrap();
    let (fields, chunk) = &received[0];
    let public_id = &fields["public_id"];
    assert!(public_id.starts_with("videotube/avatars/"), "{public_id}");
    assert!(fields["timestamp"].parse::<i64>().is_ok());
    assert!(chunk.range.is_empty() && chunk.upload_id.is_empty());
    assert_eq!(chunk.bytes, std::fs::read(&file.path).unwrap());
    assert_eq!(stored.media.asset_id, format!("image/{public_id}"));
    assert_eq!(fields["overwrite"], "true");
    assert!(stored
        .media
        .url
        .starts_with("https://res.cloudinary.com/demo/image/upload/"));
    assert!(file.path.exists(), "the spooled file belongs to the caller");
}

#[tokio::test]
async fn a_45_mb_file_goes_up_in_ordered_chunks_of_one_upload() {
    let server = MockServer::start().await;
    let fake = FakeUpload::default();
    Mock::given(method("POST"))
        .and(path("/v1_1/demo/image/upload"))
        .respond_with(fake.clone())
        .expect(3)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let size = 45_000_000;
    let file = png_file(&dir, size);
    let store = CloudinaryStore::new(config(&server)).unwrap();
    store
        .store(&file, MediaFolder::Avatars, None)
        .await
        .unwrap();

    let received = fake.received.lock().unwrap();
    let chunks: Vec<&Chunk> = received.iter().map(|(_, c)| c).collect();
    let mib20 = 20 * 1024 * 1024;
    let ranges: Vec<&str> = chunks.iter().map(|c| c.range.as_str()).collect();
    assert_eq!(
        ranges,
        [
            format!("bytes 0-{}/{size}", mib20 - 1),
            format!("bytes {mib20}-{}/{size}", 2 * mib20 - 1),
            format!("bytes {}-{}/{size}", 2 * mib20, size - 1),
        ]
    );
    assert!(!chunks[0].upload_id.is_empty());
    assert!(chunks.iter().all(|c| c.upload_id == chunks[0].upload_id));
    let public_ids: Vec<&String> = received.iter().map(|(f, _)| &f["public_id"]).collect();
    assert!(public_ids.iter().all(|p| *p == public_ids[0]));
    let reassembled: Vec<u8> = chunks
        .iter()
        .flat_map(|c| c.bytes.iter().copied())
        .collect();
    assert!(
        reassembled == std::fs::read(&file.path).unwrap(),
        "the chunks add up to the file"
    );
}

#[tokio::test]
async fn server_errors_are_retried_then_succeed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1_1/demo/image/upload"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1_1/demo/image/upload"))
        .respond_with(FakeUpload::default())
        .expect(1)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let store = CloudinaryStore::new(config(&server)).unwrap();
    store
        .store(&png_file(&dir, 1024), MediaFolder::CoverImages, None)
        .await
        .unwrap();
}

#[tokio::test]
async fn an_invalid_signature_is_not_retried_and_keeps_cloudinarys_message() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1_1/demo/image/upload"))
        .respond_with(FakeUpload::default())
        .expect(1)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let mut wrong = config(&server);
    wrong.api_secret = "not-the-secret".to_owned().into();
    let store = CloudinaryStore::new(wrong).unwrap();
    let err = store
        .store(&png_file(&dir, 1024), MediaFolder::Avatars, None)
        .await
        .unwrap_err();
    let MediaStoreError::Failed(cause) = err else {
        panic!("expected a final failure, got {err:?}")
    };
    assert!(cause.to_string().contains("Invalid Signature"), "{cause}");
}

#[tokio::test]
async fn a_hanging_cloudinary_times_out_after_the_retry_bound() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .expect(2)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let mut impatient = config(&server);
    impatient.request_timeout = Duration::from_millis(200);
    impatient.max_attempts = 2;
    let store = CloudinaryStore::new(impatient).unwrap();
    let started = std::time::Instant::now();
    let err = store
        .store(&png_file(&dir, 1024), MediaFolder::Avatars, None)
        .await
        .unwrap_err();
    assert!(matches!(err, MediaStoreError::Unavailable(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn destroy_treats_ok_and_not_found_as_done_and_uses_the_resource_type() {
    for (answer, succeeds) in [("ok", true), ("not found", true), ("error", false)] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v1_1/demo/video/destroy"))
            .respond_with(FakeDestroy::answering(answer))
            .expect(1)
            .mount(&server)
            .await;
        let store = CloudinaryStore::new(config(&server)).unwrap();
        let media = StoredMedia {
            url: "https://res.cloudinary.com/demo/video/upload/v1/videotube/videos/abc.mp4".into(),
            asset_id: "video/videotube/videos/abc".into(),
        };
        assert_eq!(store.delete(&media).await.is_ok(), succeeds, "{answer}");
    }
}

#[tokio::test]
async fn hiding_moves_an_asset_to_signed_delivery_and_publishing_moves_it_back() {
    let server = MockServer::start().await;
    let renames = FakeRename::default();
    let destroys = FakeDestroy::answering("ok");
    Mock::given(method("POST"))
        .and(path("/v1_1/demo/video/rename"))
        .respond_with(renames.clone())
        .expect(3)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1_1/demo/video/destroy"))
        .respond_with(destroys.clone())
        .expect(1)
        .mount(&server)
        .await;
    let store = CloudinaryStore::new(config(&server)).unwrap();
    let public = StoredMedia {
        url: "https://res.cloudinary.com/demo/video/upload/v1700000000/videotube/videos/abc.mp4"
            .into(),
        asset_id: "video/videotube/videos/abc".into(),
    };

    let hidden = store.set_public(&public, false).await.unwrap();
    assert_eq!(hidden.asset_id, public.asset_id);
    assert!(
        hidden
            .url
            .starts_with("https://res.cloudinary.com/demo/video/authenticated/s--")
            && hidden
                .url
                .ends_with("/v1700000001/videotube/videos/abc.mp4"),
        "{}",
        hidden.url
    );
    assert!(delivery_signature_holds(&hidden.url), "{}", hidden.url);
    let sent = renames.received.lock().unwrap()[0].clone();
    assert_eq!(sent["from_public_id"], "videotube/videos/abc");
    assert_eq!(sent["to_public_id"], "videotube/videos/abc");
    assert_eq!(sent["type"], "upload");
    assert_eq!(sent["to_type"], "authenticated");
    assert_eq!(
        sent["invalidate"], "true",
        "the CDN forgets the public copy"
    );

    assert_eq!(
        store.set_public(&hidden, false).await.unwrap(),
        hidden,
        "already hidden: nothing is sent"
    );

    let shown = store.set_public(&hidden, true).await.unwrap();
    assert_eq!(
        shown.url,
        "https://res.cloudinary.com/demo/video/upload/v1700000001/videotube/videos/abc.mp4"
    );
    assert_eq!(renames.received.lock().unwrap()[1]["type"], "authenticated");

    // A hidden asset is destroyed where it is: without `type` Cloudinary would look under
    // `upload`, answer "not found", and the file would stay for ever.
    let hidden = store.set_public(&shown, false).await.unwrap();
    store.delete(&hidden).await.unwrap();
    assert_eq!(
        destroys.received.lock().unwrap()[0]["type"],
        "authenticated"
    );
}

#[tokio::test]
async fn a_refused_move_is_an_error_not_a_silent_success() {
    let server = MockServer::start().await;
    let renames = FakeRename::default();
    renames
        .delivery
        .lock()
        .unwrap()
        .insert("videotube/videos/abc".into(), "authenticated".into());
    Mock::given(method("POST"))
        .and(path("/v1_1/demo/video/rename"))
        .respond_with(renames)
        .mount(&server)
        .await;
    let store = CloudinaryStore::new(config(&server)).unwrap();
    let stale = StoredMedia {
        url: "https://res.cloudinary.com/demo/video/upload/v1/videotube/videos/abc.mp4".into(),
        asset_id: "video/videotube/videos/abc".into(),
    };
    let err = store.set_public(&stale, false).await.unwrap_err();
    assert!(matches!(err, MediaStoreError::Failed(_)), "{err:?}");
}

#[tokio::test]
async fn videos_ask_for_a_signed_background_stream_and_other_files_do_not() {
    let server = MockServer::start().await;
    let fake = FakeUpload::default();
    Mock::given(method("POST"))
        .and(path("/v1_1/demo/video/upload"))
        .respond_with(fake.clone())
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1_1/demo/image/upload"))
        .respond_with(fake.clone())
        .expect(1)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let store = CloudinaryStore::new(config(&server)).unwrap();
    assert!(store.makes_streams());
    let video = UploadedFile {
        media_type: MediaType::Mp4,
        ..png_file(&dir, 4096)
    };
    store
        .store(&video, MediaFolder::Videos, None)
        .await
        .unwrap();
    store
        .store(&png_file(&dir, 4096), MediaFolder::Thumbnails, None)
        .await
        .unwrap();

    // The fake checked the signature over every field, `eager` and `eager_async` included.
    let received = fake.received.lock().unwrap();
    assert_eq!(received[0].0["eager"], STREAM_TRANSFORMATION);
    assert_eq!(received[0].0["eager_async"], "true");
    assert!(!received[1].0.contains_key("eager"), "{:?}", received[1].0);
}

#[tokio::test]
async fn a_videos_stream_is_found_once_cloudinary_has_made_it() {
    let server = MockServer::start().await;
    let admin = FakeAdmin::ready_after(2);
    Mock::given(method("GET"))
        .and(path(
            "/v1_1/demo/resources/video/upload/videotube/videos/abc",
        ))
        .respond_with(admin.clone())
        .expect(2)
        .mount(&server)
        .await;
    let store = CloudinaryStore::new(config(&server)).unwrap();
    let video = StoredMedia {
        url: "https://res.cloudinary.com/demo/video/upload/v1700000000/videotube/videos/abc.mp4"
            .into(),
        asset_id: "video/videotube/videos/abc".into(),
    };

    assert_eq!(
        store.made_stream(&video).await.unwrap(),
        None,
        "still being made"
    );
    let stream = store.made_stream(&video).await.unwrap().expect("made");
    assert_eq!(
        stream.url,
        "https://res.cloudinary.com/demo/video/upload/sp_auto/v1700000000/videotube/videos/abc.m3u8"
    );
    // Destroyed with its video: deleting it asks Cloudinary nothing (no destroy is mounted).
    store.delete(&stream).await.unwrap();
}

#[tokio::test]
async fn a_hidden_videos_stream_is_asked_for_where_the_video_is_and_recorded_public() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(
            "/v1_1/demo/resources/video/authenticated/videotube/videos/abc",
        ))
        .respond_with(FakeAdmin::ready_after(1))
        .expect(1)
        .mount(&server)
        .await;
    let store = CloudinaryStore::new(config(&server)).unwrap();
    let hidden = StoredMedia {
        url: "https://res.cloudinary.com/demo/video/authenticated/s--AbCd1234--/v1700000000/videotube/videos/abc.mp4".into(),
        asset_id: "video/videotube/videos/abc".into(),
    };
    let stream = store.made_stream(&hidden).await.unwrap().unwrap();
    assert_eq!(
        stream.url,
        "https://res.cloudinary.com/demo/video/upload/sp_auto/v1700000000/videotube/videos/abc.m3u8"
    );
}

#[tokio::test]
async fn asking_for_a_stream_with_a_wrong_secret_is_an_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(FakeAdmin::ready_after(1))
        .mount(&server)
        .await;
    let store = CloudinaryStore::new(CloudinaryConfig {
        api_secret: "not-the-secret".to_owned().into(),
        ..config(&server)
    })
    .unwrap();
    let video = StoredMedia {
        url: "https://res.cloudinary.com/demo/video/upload/v1/videotube/videos/abc.mp4".into(),
        asset_id: "video/videotube/videos/abc".into(),
    };
    let err = store.made_stream(&video).await.unwrap_err();
    let MediaStoreError::Failed(cause) = err else {
        panic!("expected a final failure, got {err:?}")
    };
    assert!(cause.to_string().contains("Invalid credentials"), "{cause}");
}

#[tokio::test]
async fn without_a_streaming_profile_no_stream_is_asked_for() {
    let server = MockServer::start().await;
    let store = CloudinaryStore::new(CloudinaryConfig {
        streaming_profile: None,
        ..config(&server)
    })
    .unwrap();
    assert!(!store.makes_streams());
    let video = StoredMedia {
        url: "https://res.cloudinary.com/demo/video/upload/v1/videotube/videos/abc.mp4".into(),
        asset_id: "video/videotube/videos/abc".into(),
    };
    assert_eq!(store.made_stream(&video).await.unwrap(), None);
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_pdf_goes_up_as_a_raw_file_named_with_its_extension() {
    let server = MockServer::start().await;
    let fake = FakeUpload::default();
    Mock::given(method("POST"))
        .and(path("/v1_1/demo/raw/upload"))
        .respond_with(fake.clone())
        .expect(1)
        .mount(&server)
        .await;
    let destroys = FakeDestroy::answering("ok");
    Mock::given(method("POST"))
        .and(path("/v1_1/demo/raw/destroy"))
        .respond_with(destroys.clone())
        .expect(1)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let document = UploadedFile {
        media_type: MediaType::Pdf,
        ..png_file(&dir, 2048)
    };
    let store = CloudinaryStore::new(config(&server)).unwrap();
    let stored = store
        .store(&document, MediaFolder::Attachments, None)
        .await
        .unwrap();

    let public_id = fake.received.lock().unwrap()[0].0["public_id"].clone();
    assert!(
        public_id.starts_with("videotube/attachments/") && public_id.ends_with(".pdf"),
        "{public_id}"
    );
    assert_eq!(stored.media.asset_id, format!("raw/{public_id}"));
    assert!(stored
        .media
        .url
        .starts_with("https://res.cloudinary.com/demo/raw/upload/"));
    assert!(stored.media.url.ends_with(".pdf"), "{}", stored.media.url);
    assert_eq!(stored.duration_seconds, None);
    store.delete(&stored.media).await.unwrap();
    assert_eq!(destroys.received.lock().unwrap()[0]["public_id"], public_id);
}
