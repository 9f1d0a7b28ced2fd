//! Resumable uploads' state: offsets moved only from where they are, completion, expiry by spool.

use chrono::{TimeDelta, Utc};
use videotube_domain::ports::ResumableUploadRepository;
use videotube_domain::resumable::ResumableUpload;
use videotube_domain::video::{Description, Title};
use videotube_domain::Id;
use videotube_infra::mongo::MongoResumableUploadRepository;

use crate::fresh_database;

fn upload(
    uploads: &MongoResumableUploadRepository,
    spool: &str,
    expires_in: TimeDelta,
) -> ResumableUpload {
    let id = uploads.next_id();
    let now = Utc::now();
    ResumableUpload {
        id,
        owner: "0123456789abcdef01234567".parse().unwrap(),
        title: Title::parse("Long one").unwrap(),
        description: Description::parse("in pieces").unwrap(),
        length: 1000,
        offset: 0,
        path: format!("/spool/jobs/resumable/{id}.upload").into(),
        spool: spool.to_owned(),
        created_at: now,
        expires_at: now + expires_in,
        video_id: None,
    }
}

#[tokio::test]
async fn an_upload_moves_on_only_from_where_it_is_and_completes_once() {
    let db = fresh_database().await;
    let uploads = MongoResumableUploadRepository::new(&db);
    let new = upload(&uploads, "a", TimeDelta::hours(1));
    uploads.insert(&new).await.unwrap();
    let found = uploads.find(new.id).await.unwrap().unwrap();
    // Stored to the millisecond.
    assert_eq!(
        found.expires_at.timestamp_millis(),
        new.expires_at.timestamp_millis()
    );
    assert_eq!(
        ResumableUpload {
            created_at: new.created_at,
            expires_at: new.expires_at,
            ..found
        },
        new
    );

    let later = Utc::now() + TimeDelta::hours(2);
    assert!(uploads.advance(new.id, 0, 400, later).await.unwrap());
    assert!(
        !uploads.advance(new.id, 0, 300, later).await.unwrap(),
        "a request that saw the old offset is refused"
    );
    assert!(uploads.advance(new.id, 400, 1000, later).await.unwrap());
    let video: Id = "89abcdef0123456789abcdef".parse().unwrap();
    assert!(uploads.complete(new.id, video, later).await.unwrap());
    assert!(!uploads.complete(new.id, video, later).await.unwrap());
    assert!(
        !uploads.advance(new.id, 1000, 1000, later).await.unwrap(),
        "a finished upload takes no more"
    );
    let done = uploads.find(new.id).await.unwrap().unwrap();
    assert_eq!((done.offset, done.video_id), (1000, Some(video)));
    assert!(done.is_complete());

    assert!(uploads.remove(new.id).await.unwrap());
    assert!(!uploads.remove(new.id).await.unwrap());
    assert_eq!(uploads.find(new.id).await.unwrap(), None);
}

#[tokio::test]
async fn expired_uploads_are_found_by_spool_oldest_first() {
    let db = fresh_database().await;
    let uploads = MongoResumableUploadRepository::new(&db);
    let older = upload(&uploads, "a", TimeDelta::minutes(-10));
    let old = upload(&uploads, "a", TimeDelta::minutes(-5));
    let elsewhere = upload(&uploads, "b", TimeDelta::minutes(-5));
    let live = upload(&uploads, "a", TimeDelta::minutes(5));
    for upload in [&old, &older, &elsewhere, &live] {
        uploads.insert(upload).await.unwrap();
    }
    let expired = uploads.expired("a", Utc::now(), 10).await.unwrap();
    let ids: Vec<Id> = expired.iter().map(|u| u.id).collect();
    assert_eq!(ids, [older.id, old.id]);
    let first = uploads.expired("a", Utc::now(), 1).await.unwrap();
    assert_eq!(first.len(), 1);
}
