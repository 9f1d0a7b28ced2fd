//! Videos and their media jobs: claims, leases, fencing, moved files.

use std::time::Duration;

use bson::doc;
use chrono::{TimeDelta, Utc};
use videotube_domain::media::{MediaFolder, MediaType, StoredMedia, UploadedFile};
use videotube_domain::ports::{MediaJobRepository, VideoRepository};
use videotube_domain::video::{
    Description, JobLease, MediaJob, ProcessedFiles, Title, Video, VideoStatus,
};
use videotube_domain::Id;
use videotube_infra::mongo::{MongoMediaJobRepository, MongoVideoRepository};

use crate::fresh_database;

pub(crate) fn processing_video(videos: &MongoVideoRepository, owner: Id) -> Video {
    let now = Utc::now();
    Video {
        id: videos.next_id(),
        owner,
        title: Title::parse("Processing").unwrap(),
        description: Description::parse("soon").unwrap(),
        video_file: None,
        thumbnail: None,
        stream: None,
        duration_seconds: 0.0,
        views: 0,
        is_published: true,
        status: VideoStatus::Processing,
        progress: None,
        failure_reason: None,
        created_at: now,
        updated_at: now,
    }
}

pub(crate) fn job(jobs: &MongoMediaJobRepository, spool: &std::path::Path) -> MediaJob {
    let file = |name: &str, media_type| UploadedFile {
        path: spool.join(name),
        media_type,
        size: 10,
    };
    MediaJob {
        id: jobs.next_id(),
        video_id: "0123456789abcdef01234567".parse().unwrap(),
        name: "0f1e2d3c4b5a69788796a5b4c3d2e1f0".to_owned(),
        video: file("v.mp4", MediaType::Mp4),
        thumbnail: Some(file("t.png", MediaType::Png)),
        attempts: 0,
        created_at: Utc::now(),
    }
}

/// A video published without a thumbnail queues a job without one, for the worker to make.
#[tokio::test]
async fn a_job_without_a_thumbnail_is_claimed_without_one() {
    let db = fresh_database().await;
    let jobs = MongoMediaJobRepository::new(&db, "spool");
    let queued = MediaJob {
        thumbnail: None,
        ..job(&jobs, std::path::Path::new("/spool/jobs"))
    };
    jobs.insert(&queued).await.unwrap();
    let claimed = jobs
        .claim_next(Utc::now(), Duration::from_secs(60))
        .await
        .unwrap()
        .expect("due");
    assert!(claimed.job.thumbnail.is_none());
    assert_eq!(claimed.job.video.path, queued.video.path);
}

#[tokio::test]
async fn a_job_goes_to_one_worker_and_is_taken_over_when_its_lease_expires() {
    let db = fresh_database().await;
    let jobs = MongoMediaJobRepository::new(&db, "spool");
    let queued = job(&jobs, std::path::Path::new("/spool/jobs"));
    jobs.insert(&queued).await.unwrap();
    let lease = Duration::from_secs(60);
    let now = Utc::now();

    let workers = (0..6).map(|_| jobs.claim_next(now, lease));
    let claimed: Vec<JobLease> = futures_util::future::join_all(workers)
        .await
        .into_iter()
        .filter_map(|r| r.unwrap())
        .collect();
    assert_eq!(claimed.len(), 1, "exactly one worker gets the job");
    let first = &claimed[0];
    assert_eq!((first.job.id, first.fence), (queued.id, 1));
    assert_eq!(first.job.video.path, queued.video.path);
    assert_eq!(
        first.job.thumbnail.as_ref().map(|t| t.media_type),
        Some(MediaType::Png)
    );
    assert!(
        jobs.claim_next(now, lease).await.unwrap().is_none(),
        "leased"
    );
    // A renewal pushes the lease on.
    let renewed_at = now + TimeDelta::seconds(50);
    assert!(jobs.renew(first, renewed_at, lease).await.unwrap());
    let after_first_lease = now + TimeDelta::seconds(61);
    assert!(jobs
        .claim_next(after_first_lease, lease)
        .await
        .unwrap()
        .is_none());

    let after_renewal = renewed_at + TimeDelta::seconds(61);
    let second = jobs
        .claim_next(after_renewal, lease)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (second.job.id, second.fence),
        (queued.id, 2),
        "a stalled worker's job is taken over, with a larger fence"
    );
    // The stalled worker wakes up: its writes are refused.
    assert!(!jobs.renew(first, after_renewal, lease).await.unwrap());
    assert!(!jobs
        .retry_later(first, 1, "late", after_renewal)
        .await
        .unwrap());
    assert!(!jobs.finish(first).await.unwrap());

    let retry_at = after_renewal + TimeDelta::seconds(30);
    assert!(jobs
        .retry_later(&second, 1, "store failed", retry_at)
        .await
        .unwrap());
    assert!(jobs
        .claim_next(after_renewal, lease)
        .await
        .unwrap()
        .is_none());
    let third = jobs.claim_next(retry_at, lease).await.unwrap().unwrap();
    assert_eq!((third.job.attempts, third.fence), (1, 3));

    assert!(jobs.finish(&third).await.unwrap());
    let much_later = retry_at + TimeDelta::days(1);
    assert!(jobs.claim_next(much_later, lease).await.unwrap().is_none());
}

#[tokio::test]
async fn a_claim_whose_second_write_is_lost_neither_strands_the_job_nor_lets_it_run_twice() {
    let db = fresh_database().await;
    let jobs = MongoMediaJobRepository::new(&db, "spool");
    let raw = db.collection::<bson::Document>("media_jobs");
    let queued = job(&jobs, std::path::Path::new("/spool/jobs"));
    jobs.insert(&queued).await.unwrap();
    let as_queued = raw.find_one(doc! {}).await.unwrap().unwrap();
    let lose_job_write = || async {
        raw.replace_one(
            doc! { "_id": as_queued.get_object_id("_id").unwrap() },
            as_queued.clone(),
        )
        .await
        .unwrap();
    };
    let lease = Duration::from_secs(60);
    let now = Utc::now();
    let first = jobs.claim_next(now, lease).await.unwrap().unwrap();
    // The process died after recording the claim, before noting it on the job.
    lose_job_write().await;
    assert!(
        jobs.claim_next(now, lease).await.unwrap().is_none(),
        "the claim still holds the job"
    );
    drop(first);
    let later = now + TimeDelta::seconds(61);
    let second = jobs.claim_next(later, lease).await.unwrap().unwrap();
    assert_eq!(
        second.fence, 2,
        "the job is claimable again once the lease ran out"
    );
    lose_job_write().await;
    let third = jobs
        .claim_next(later + TimeDelta::seconds(61), lease)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(third.fence, 3);
}

#[tokio::test]
async fn a_videos_job_writes_are_fenced() {
    let db = fresh_database().await;
    let videos = MongoVideoRepository::new(&db);
    let owner: Id = "0123456789abcdef01234567".parse().unwrap();
    let video = processing_video(&videos, owner);
    videos.insert(&video).await.unwrap();
    let media = |name: &str| StoredMedia {
        url: format!("/media/{name}"),
        asset_id: name.into(),
    };
    let files = |name: &str| ProcessedFiles {
        video_file: media(&format!("videos/{name}.mp4")),
        thumbnail: media(&format!("thumbnails/{name}.png")),
        stream: Some(media(&format!("streams/{name}"))),
    };
    assert!(videos.mark_progress(video.id, 2, 40).await.unwrap());
    assert!(!videos.mark_progress(video.id, 1, 90).await.unwrap());
    let running = videos.find_by_id(video.id).await.unwrap().unwrap();
    assert_eq!(running.progress, Some(40));
    assert!(videos
        .mark_ready(video.id, 2, &files("new"), 3.0)
        .await
        .unwrap());
    assert!(
        !videos
            .mark_ready(video.id, 1, &files("stale"), 9.0)
            .await
            .unwrap(),
        "an older claim's result is refused"
    );
    assert!(!videos.mark_failed(video.id, 1, "stale").await.unwrap());
    let stored = videos.find_by_id(video.id).await.unwrap().unwrap();
    assert_eq!(stored.video_file.unwrap().asset_id, "videos/new.mp4");
    assert_eq!(stored.stream.unwrap().asset_id, "streams/new");
    assert_eq!(stored.status, VideoStatus::Ready);
    let holder = videos
        .holding_file(MediaFolder::Streams, "streams/new")
        .await
        .unwrap();
    assert_eq!(holder.map(|v| v.id), Some(video.id));
    // The stream a store makes later comes with a later claim of the same job.
    let made = media("video/videotube/videos/new#sp_auto/m3u8");
    assert!(!videos.set_stream(video.id, 1, &made).await.unwrap());
    assert!(videos.set_stream(video.id, 3, &made).await.unwrap());
    let streamed = videos.find_by_id(video.id).await.unwrap().unwrap();
    assert_eq!(streamed.stream, Some(made));
    assert_eq!(streamed.status, VideoStatus::Ready);
    assert!(videos
        .mark_failed(video.id, 4, "later claim")
        .await
        .unwrap());
}

#[tokio::test]
async fn moved_files_are_recorded_only_while_the_video_is_as_seen() {
    let db = fresh_database().await;
    let videos = MongoVideoRepository::new(&db);
    let owner: Id = "0123456789abcdef01234567".parse().unwrap();
    let video = processing_video(&videos, owner);
    videos.insert(&video).await.unwrap();
    let media = |url: &str| StoredMedia {
        url: url.into(),
        asset_id: "video/videotube/videos/abc".into(),
    };
    let files = ProcessedFiles {
        video_file: media("public.mp4"),
        thumbnail: media("public.png"),
        stream: None,
    };
    assert!(videos.mark_ready(video.id, 1, &files, 3.0).await.unwrap());
    let seen = videos.find_by_id(video.id).await.unwrap().unwrap();
    let hidden = videos
        .set_published(video.id, false)
        .await
        .unwrap()
        .unwrap();

    let stale = videos
        .move_files(&seen, Some(&media("signed.mp4")), None)
        .await
        .unwrap();
    assert!(stale.is_none(), "the video was hidden since it was seen");

    let moved = videos
        .move_files(
            &hidden,
            Some(&media("signed.mp4")),
            Some(&media("signed.png")),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(moved.video_file, Some(media("signed.mp4")));
    assert_eq!(moved.thumbnail, Some(media("signed.png")));
    assert!(!moved.is_published);
    assert!(
        videos
            .move_files(&hidden, Some(&media("again.mp4")), None)
            .await
            .unwrap()
            .is_none(),
        "its files moved since it was seen"
    );
}
