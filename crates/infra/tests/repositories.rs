//! The MongoDB repositories against a real server (TEST_MONGODB_URI; `scripts/test` provides
//! one), each test in a fresh database.

use std::time::Duration;

use bson::doc;
use chrono::{TimeDelta, Utc};
use videotube_domain::comment::CommentContent;
use videotube_domain::error::UniqueField;
use videotube_domain::like::LikeTarget;
use videotube_domain::media::{MediaType, ProfileImage, StoredMedia, UploadedFile};
use videotube_domain::page::PageRequest;
use videotube_domain::playlist::{PlaylistChanges, PlaylistDescription, PlaylistName};
use videotube_domain::ports::{
    CommentRepository, DatabaseProbe, LikeRepository, MediaJobRepository, PlaylistRepository,
    SessionRepository, UserRepository, VideoRepository, WatchHistoryRepository,
};
use videotube_domain::session::{RefreshRotation, Rotation, Session};
use videotube_domain::user::{AccountChanges, NewUser};
use videotube_domain::values::{Email, FullName, LoginId, PasswordHash, Username};
use videotube_domain::video::{Description, JobLease, MediaJob, Title, Video, VideoStatus};
use videotube_domain::{Id, RepoError};
use videotube_infra::mongo::{
    self, MongoCommentRepository, MongoLikeRepository, MongoMediaJobRepository,
    MongoPlaylistRepository, MongoSessionRepository, MongoUserRepository, MongoVideoRepository,
    MongoWatchHistoryRepository, Store,
};

async fn fresh_database() -> Store {
    let uri = std::env::var("TEST_MONGODB_URI").expect(
        "TEST_MONGODB_URI is not set: run the tests with scripts/test, which provides a database",
    );
    let name = format!("test_{}", uuid::Uuid::new_v4().simple());
    let db = mongo::connect(&uri, &name, Duration::from_secs(5))
        .await
        .unwrap();
    mongo::ensure_indexes(&db).await.unwrap();
    Store::new(db, Duration::from_secs(5))
}

fn new_user(username: &str, email: &str) -> NewUser {
    NewUser {
        username: Username::parse(username).unwrap(),
        email: Email::parse(email).unwrap(),
        full_name: FullName::parse("Test User").unwrap(),
        avatar: StoredMedia {
            url: "/media/avatars/a.png".into(),
            asset_id: "avatars/a.png".into(),
        },
        cover_image: None,
        password_hash: PasswordHash::new("$2b$04$hash".into()),
        created_at: Utc::now(),
    }
}

#[tokio::test]
async fn users_round_trip_and_are_found_by_login() {
    let db = fresh_database().await;
    let users = MongoUserRepository::new(&db);
    let created = users
        .insert(new_user("ada", "ada@example.com"))
        .await
        .unwrap();
    let by_id = users.find_by_id(created.id).await.unwrap().unwrap();
    assert_eq!(by_id.username.as_str(), "ada");
    assert_eq!(by_id.avatar.asset_id, "avatars/a.png");
    assert_eq!(by_id.password_hash.expose(), "$2b$04$hash");
    let by_email = users
        .find_by_login(&LoginId::Email(Email::parse("ADA@example.com").unwrap()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_email.id, created.id);
    let nobody = LoginId::Username(Username::parse("nobody").unwrap());
    assert!(users.find_by_login(&nobody).await.unwrap().is_none());
    let unknown: Id = "0123456789abcdef01234567".parse().unwrap();
    assert!(users.find_by_id(unknown).await.unwrap().is_none());
}

#[tokio::test]
async fn unique_indexes_turn_duplicates_into_named_conflicts() {
    let db = fresh_database().await;
    mongo::ensure_indexes(&db)
        .await
        .expect("creating the indexes twice is fine");
    let users = MongoUserRepository::new(&db);
    users
        .insert(new_user("ada", "ada@example.com"))
        .await
        .unwrap();
    let bob = users
        .insert(new_user("bob", "bob@example.com"))
        .await
        .unwrap();

    let err = users
        .insert(new_user("ada", "other@example.com"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, RepoError::Duplicate(UniqueField::Username)),
        "{err:?}"
    );
    let err = users
        .insert(new_user("other", "ada@example.com"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, RepoError::Duplicate(UniqueField::Email)),
        "{err:?} {:?}",
        std::error::Error::source(&err)
    );

    let taking_adas_email = AccountChanges {
        full_name: None,
        email: Some(Email::parse("ada@example.com").unwrap()),
    };
    let err = users
        .update_account(bob.id, &taking_adas_email)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RepoError::Duplicate(UniqueField::Email)),
        "{err:?} {:?}",
        std::error::Error::source(&err)
    );

    // The duplicate value names the other field: classified by the index, not the message text.
    users
        .insert(new_user("email", "username@example.com"))
        .await
        .unwrap();
    let lookalike = AccountChanges {
        full_name: None,
        email: Some(Email::parse("username@example.com").unwrap()),
    };
    let err = users.update_account(bob.id, &lookalike).await.unwrap_err();
    assert!(
        matches!(err, RepoError::Duplicate(UniqueField::Email)),
        "{err:?} {:?}",
        std::error::Error::source(&err)
    );
    let err = users
        .insert(new_user("username", "email@example.com"))
        .await
        .map(drop);
    assert!(err.is_ok(), "no clash: {err:?}");
    let err = users
        .insert(new_user("email", "fresh@example.com"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, RepoError::Duplicate(UniqueField::Username)),
        "{err:?}"
    );

    let ada = Username::parse("ada").unwrap();
    let free = Email::parse("free@example.com").unwrap();
    assert_eq!(users.taken(&ada, &free).await.unwrap(), (true, false));
    let bob_email = Email::parse("bob@example.com").unwrap();
    assert_eq!(users.taken(&ada, &bob_email).await.unwrap(), (true, true));
}

#[tokio::test]
async fn updates_return_the_new_document() {
    let db = fresh_database().await;
    let users = MongoUserRepository::new(&db);
    let user = users
        .insert(new_user("cara", "cara@example.com"))
        .await
        .unwrap();
    let cover = StoredMedia {
        url: "/media/covers/c.png".into(),
        asset_id: "covers/c.png".into(),
    };
    let updated = users
        .set_image(user.id, ProfileImage::CoverImage, &cover)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.cover_image, Some(cover));
    assert!(updated.updated_at >= user.updated_at);
    let changes = AccountChanges {
        full_name: Some(FullName::parse("Cara C").unwrap()),
        email: None,
    };
    let updated = users
        .update_account(user.id, &changes)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.full_name.as_str(), "Cara C");
    assert_eq!(updated.email.as_str(), "cara@example.com");
    assert!(users
        .set_password(user.id, &PasswordHash::new("$2b$04$new".into()))
        .await
        .unwrap());
    let gone: Id = "0123456789abcdef01234567".parse().unwrap();
    assert!(users
        .set_image(gone, ProfileImage::Avatar, &updated.avatar)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn documents_of_the_original_backend_load() {
    let db = fresh_database().await;
    let now = bson::DateTime::now();
    let oid = bson::oid::ObjectId::new();
    db.collection::<bson::Document>("users")
        .insert_one(doc! {
            "_id": oid, "username": "legacy-user", "email": "legacy@example.com",
            "fullName": "Legacy", "avatar": "https://res.cloudinary.com/demo/a.png",
            "coverImage": "", "password": "$2b$10$x", "watchHistory": [],
            "refreshToken": "old", "createdAt": now, "updatedAt": now, "__v": 0,
        })
        .await
        .unwrap();
    let user = MongoUserRepository::new(&db)
        .find_by_id(Id::from_bytes(oid.bytes()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.username.as_str(), "legacy-user");
    assert_eq!(user.cover_image, None);
    assert_eq!(user.avatar.asset_id, "");
}

fn session(repo: &MongoSessionRepository, user_id: Id, expires_in: TimeDelta) -> Session {
    let now = Utc::now();
    Session {
        id: repo.next_id(),
        user_id,
        expires_at: now + expires_in,
        revoked: false,
        created_at: now,
    }
}

fn rotation<'a>(s: &Session, presented: &'a str, next: &'a str, grace: u64) -> RefreshRotation<'a> {
    let now = Utc::now();
    RefreshRotation {
        session: s.id,
        user: s.user_id,
        presented,
        next,
        next_expires_at: now + TimeDelta::days(1),
        now,
        grace: Duration::from_secs(grace),
    }
}

#[tokio::test]
async fn one_of_parallel_rotations_wins_and_one_more_is_let_through_by_the_grace() {
    let db = fresh_database().await;
    let sessions = MongoSessionRepository::new(&db);
    let user: Id = "0123456789abcdef01234567".parse().unwrap();
    for (grace, expected) in [
        (10, [Rotation::Rotated, Rotation::RotatedInGrace]),
        (0, [Rotation::Rotated, Rotation::Reused]),
    ] {
        let s = session(&sessions, user, TimeDelta::days(1));
        // Fingerprints of distinct tokens: unique across sessions.
        let first = format!("first-{grace}");
        sessions.insert(&s, &first).await.unwrap();
        let nexts: Vec<String> = (0..6).map(|i| format!("next-{grace}-{i}")).collect();
        let outcomes = futures_util::future::join_all(
            nexts
                .iter()
                .map(|next| sessions.rotate(rotation(&s, &first, next, grace))),
        )
        .await;
        let mut outcomes: Vec<Rotation> = outcomes.into_iter().map(Result::unwrap).collect();
        let count = |o: Rotation| outcomes.iter().filter(|x| **x == o).count();
        assert_eq!(count(expected[0]), 1, "grace {grace}: {outcomes:?}");
        assert_eq!(
            count(expected[1]),
            if grace == 0 { 5 } else { 1 },
            "{outcomes:?}"
        );
        outcomes.retain(|o| !expected.contains(o));
        assert!(
            outcomes.iter().all(|o| *o == Rotation::Reused),
            "{outcomes:?}"
        );
    }
}

#[tokio::test]
async fn a_rotation_survives_losing_its_session_write_and_the_sweep_repairs_it() {
    let db = fresh_database().await;
    let sessions = MongoSessionRepository::new(&db);
    let raw = db.collection::<bson::Document>("sessions");
    let user: Id = "0123456789abcdef01234567".parse().unwrap();
    let s = session(&sessions, user, TimeDelta::days(1));
    sessions.insert(&s, "t0").await.unwrap();
    let as_first_written = raw
        .find_one(doc! { "_id": bson::oid::ObjectId::from_bytes(s.id.bytes()) })
        .await
        .unwrap()
        .unwrap();
    let lose_session_write = || async {
        raw.replace_one(
            doc! { "_id": as_first_written.get_object_id("_id").unwrap() },
            as_first_written.clone(),
        )
        .await
        .unwrap();
    };

    assert_eq!(
        sessions.rotate(rotation(&s, "t0", "t1", 0)).await.unwrap(),
        Rotation::Rotated
    );
    // The process died after spending t0, before the session recorded t1.
    lose_session_write().await;
    assert_eq!(
        sessions.rotate(rotation(&s, "t0", "x", 0)).await.unwrap(),
        Rotation::Reused
    );
    assert_eq!(
        sessions.rotate(rotation(&s, "t1", "t2", 0)).await.unwrap(),
        Rotation::Rotated
    );
    lose_session_write().await;
    assert_eq!(
        sessions.rotate(rotation(&s, "t2", "t3", 0)).await.unwrap(),
        Rotation::Rotated
    );
    lose_session_write().await;

    // An hour later the sweep moves the session past the spent records and deletes them.
    let spent = db.collection::<bson::Document>("refresh_token_uses");
    let an_hour_ago = bson::DateTime::from_chrono(Utc::now() - TimeDelta::minutes(61));
    spent
        .update_many(doc! {}, doc! { "$set": { "usedAt": an_hour_ago } })
        .await
        .unwrap();
    sessions.sweep(Utc::now()).await.unwrap();
    assert_eq!(spent.count_documents(doc! {}).await.unwrap(), 0);
    assert_eq!(
        sessions.rotate(rotation(&s, "t3", "t4", 0)).await.unwrap(),
        Rotation::Rotated
    );
    assert_eq!(
        sessions.rotate(rotation(&s, "t1", "x", 0)).await.unwrap(),
        Rotation::Reused
    );
    // Fresh records stay: a parallel refresh may still be following them.
    sessions.sweep(Utc::now()).await.unwrap();
    assert_eq!(spent.count_documents(doc! {}).await.unwrap(), 1);
}

#[tokio::test]
async fn revoked_expired_and_foreign_sessions_are_gone() {
    let db = fresh_database().await;
    let sessions = MongoSessionRepository::new(&db);
    let user: Id = "0123456789abcdef01234567".parse().unwrap();
    let s = session(&sessions, user, TimeDelta::days(1));
    sessions.insert(&s, "t0").await.unwrap();
    let stranger = Session {
        user_id: "0123456789abcdef01234568".parse().unwrap(),
        ..s.clone()
    };
    assert_eq!(
        sessions
            .rotate(rotation(&stranger, "t0", "x", 10))
            .await
            .unwrap(),
        Rotation::Gone
    );
    let mut late = rotation(&s, "t0", "x", 10);
    late.now += TimeDelta::days(2);
    assert_eq!(sessions.rotate(late).await.unwrap(), Rotation::Gone);
    let unknown = Session {
        id: sessions.next_id(),
        ..s.clone()
    };
    assert_eq!(
        sessions
            .rotate(rotation(&unknown, "t0", "x", 10))
            .await
            .unwrap(),
        Rotation::Gone
    );
    sessions.revoke(s.id).await.unwrap();
    assert_eq!(
        sessions.rotate(rotation(&s, "t0", "x", 10)).await.unwrap(),
        Rotation::Gone
    );
    assert!(sessions.find(s.id).await.unwrap().unwrap().revoked);
}

#[tokio::test]
async fn revoke_others_keeps_one_and_the_sweep_deletes_the_dead() {
    let db = fresh_database().await;
    let sessions = MongoSessionRepository::new(&db);
    let user: Id = "0123456789abcdef01234567".parse().unwrap();
    let other_user: Id = "0123456789abcdef01234568".parse().unwrap();
    let keep = session(&sessions, user, TimeDelta::days(1));
    let drop_me = session(&sessions, user, TimeDelta::days(1));
    let expired = session(&sessions, user, TimeDelta::seconds(-5));
    let someone_elses = session(&sessions, other_user, TimeDelta::days(1));
    for s in [&keep, &drop_me, &expired, &someone_elses] {
        sessions.insert(s, "t0").await.unwrap();
    }
    sessions.revoke_others(user, keep.id).await.unwrap();
    assert!(!sessions.find(keep.id).await.unwrap().unwrap().revoked);
    assert!(sessions.find(drop_me.id).await.unwrap().unwrap().revoked);
    assert!(
        !sessions
            .find(someone_elses.id)
            .await
            .unwrap()
            .unwrap()
            .revoked
    );

    // Revoked sessions expire as they are revoked (a second ago at most, by the time of the sweep).
    sessions
        .sweep(Utc::now() + TimeDelta::seconds(1))
        .await
        .unwrap();
    assert!(sessions.find(keep.id).await.unwrap().is_some());
    assert!(sessions.find(drop_me.id).await.unwrap().is_none());
    assert!(sessions.find(expired.id).await.unwrap().is_none());
    assert!(sessions.find(someone_elses.id).await.unwrap().is_some());
}

#[tokio::test]
async fn an_unreachable_server_is_unavailable_not_an_internal_error() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let db = mongo::connect(
        &format!("mongodb://127.0.0.1:{port}"),
        "nowhere",
        Duration::from_millis(300),
    )
    .await
    .unwrap();
    let store = Store::new(db, Duration::from_secs(5));
    assert!(matches!(
        DatabaseProbe::ping(&store).await,
        Err(RepoError::Unavailable(_))
    ));
    let users = MongoUserRepository::new(&store);
    let err = users
        .find_by_id("0123456789abcdef01234567".parse().unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, RepoError::Unavailable(_)), "{err:?}");
}

#[tokio::test]
async fn an_operation_over_the_time_limit_is_unavailable() {
    // A server that accepts connections and never answers: only the limit ends the operations.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let _held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            open.push(socket);
        }
    });
    let db = mongo::connect(
        &format!("mongodb://127.0.0.1:{port}"),
        "silent",
        Duration::from_secs(30),
    )
    .await
    .unwrap();
    let store = Store::new(db, Duration::from_millis(200));
    let started = std::time::Instant::now();
    let err = MongoUserRepository::new(&store)
        .find_by_login(&LoginId::Username(Username::parse("ada").unwrap()))
        .await
        .unwrap_err();
    assert!(matches!(err, RepoError::Unavailable(_)), "{err:?}");
    let err = MongoSessionRepository::new(&store)
        .revoke("0123456789abcdef01234567".parse().unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(err, RepoError::Unavailable(_)),
        "writes too: {err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

fn processing_video(videos: &MongoVideoRepository, owner: Id) -> Video {
    let now = Utc::now();
    Video {
        id: videos.next_id(),
        owner,
        title: Title::parse("Processing").unwrap(),
        description: Description::parse("soon").unwrap(),
        video_file: None,
        thumbnail: None,
        duration_seconds: 0.0,
        views: 0,
        is_published: true,
        status: VideoStatus::Processing,
        failure_reason: None,
        created_at: now,
        updated_at: now,
    }
}

fn job(jobs: &MongoMediaJobRepository, spool: &std::path::Path) -> MediaJob {
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
        thumbnail: file("t.png", MediaType::Png),
        attempts: 0,
        created_at: Utc::now(),
    }
}

#[tokio::test]
async fn a_job_goes_to_one_worker_and_is_taken_over_when_its_lease_expires() {
    let db = fresh_database().await;
    let jobs = MongoMediaJobRepository::new(&db);
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
    assert_eq!(first.job.thumbnail.media_type, MediaType::Png);
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
    let jobs = MongoMediaJobRepository::new(&db);
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
    assert!(videos
        .mark_ready(video.id, 2, &media("new.mp4"), &media("new.png"), 3.0)
        .await
        .unwrap());
    assert!(
        !videos
            .mark_ready(video.id, 1, &media("stale.mp4"), &media("stale.png"), 9.0)
            .await
            .unwrap(),
        "an older claim's result is refused"
    );
    assert!(!videos.mark_failed(video.id, 1, "stale").await.unwrap());
    let stored = videos.find_by_id(video.id).await.unwrap().unwrap();
    assert_eq!(stored.video_file.unwrap().asset_id, "new.mp4");
    assert_eq!(stored.status, VideoStatus::Ready);
    assert!(videos
        .mark_failed(video.id, 3, "later claim")
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
    assert!(videos
        .mark_ready(video.id, 1, &media("public.mp4"), &media("public.png"), 3.0)
        .await
        .unwrap());
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

#[tokio::test]
async fn a_view_counts_once_per_window_whatever_the_history_says() {
    let db = fresh_database().await;
    let history = MongoWatchHistoryRepository::new(&db);
    let (user, video): (Id, Id) = (
        "0123456789abcdef01234561".parse().unwrap(),
        "0123456789abcdef01234562".parse().unwrap(),
    );
    let window = Duration::from_secs(30 * 60);
    // A minute before a window-long bucket ends, so that the next watches cross into the next.
    let t0 = chrono::DateTime::from_timestamp(1_800 * 1_000_000 - 60, 0).unwrap();
    let at = |minutes: i64| t0 + TimeDelta::minutes(minutes);
    let watch = |minutes| history.record_watch(user, video, at(minutes), window);

    let parallel = futures_util::future::join_all((0..5).map(|_| watch(0))).await;
    let counted = parallel
        .into_iter()
        .filter(|r| *r.as_ref().unwrap())
        .count();
    assert_eq!(counted, 1, "parallel watches count once");
    assert!(!watch(2).await.unwrap(), "next bucket, same window");
    history.clear(user).await.unwrap();
    assert!(
        !watch(20).await.unwrap(),
        "clearing the history does not reset the window"
    );
    assert!(
        watch(31).await.unwrap(),
        "a later view counts after clearing the history"
    );
    assert_eq!(
        history
            .page(user, PageRequest::default(), None)
            .await
            .unwrap()
            .items,
        [video]
    );
    assert!(!watch(40).await.unwrap());

    let views = db.collection::<bson::Document>("view_claims");
    history.sweep(at(61), window).await.unwrap();
    assert_eq!(
        views.count_documents(doc! {}).await.unwrap(),
        1,
        "the view at 31 is kept"
    );
    history.sweep(at(62), window).await.unwrap();
    assert_eq!(views.count_documents(doc! {}).await.unwrap(), 0);
}

#[tokio::test]
async fn likes_are_unique_per_target_and_counted_in_one_query() {
    let db = fresh_database().await;
    let likes = MongoLikeRepository::new(&db);
    let (ann, bob, owner): (Id, Id, Id) = (
        "0123456789abcdef01234561".parse().unwrap(),
        "0123456789abcdef01234562".parse().unwrap(),
        "0123456789abcdef01234563".parse().unwrap(),
    );
    let video = LikeTarget::Video("0123456789abcdef01234564".parse().unwrap());
    let tweet = LikeTarget::Tweet("0123456789abcdef01234564".parse().unwrap());
    let comment = LikeTarget::Comment("0123456789abcdef01234564".parse().unwrap());
    let now = Utc::now();
    assert!(likes.like(ann, video, owner, now).await.unwrap());
    assert!(
        !likes.like(ann, video, owner, now).await.unwrap(),
        "one like per user and target"
    );
    assert!(likes.like(bob, video, owner, now).await.unwrap());
    assert!(
        likes.like(ann, tweet, owner, now).await.unwrap(),
        "same id, other kind of target"
    );
    assert!(likes.like(bob, comment, owner, now).await.unwrap());

    let counts = likes.counts(&[video, tweet, comment]).await.unwrap();
    assert_eq!(
        (counts[&video], counts[&tweet], counts[&comment]),
        (2, 1, 1)
    );
    assert_eq!(
        likes
            .liked_among(bob, &[video, tweet, comment])
            .await
            .unwrap(),
        [video, comment].into()
    );
    assert_eq!(
        likes.channel_total(owner).await.unwrap(),
        2,
        "video likes only"
    );

    likes.remove_targets(&[video, comment]).await.unwrap();
    assert!(!likes.is_liked(ann, video).await.unwrap());
    assert!(!likes.is_liked(bob, comment).await.unwrap());
    assert!(likes.is_liked(ann, tweet).await.unwrap());
    assert!(likes.unlike(ann, tweet).await.unwrap());
    assert!(!likes.unlike(ann, tweet).await.unwrap());
}

#[tokio::test]
async fn liked_videos_come_most_recent_first_without_other_targets() {
    let db = fresh_database().await;
    let likes = MongoLikeRepository::new(&db);
    let (fan, owner): (Id, Id) = (
        "0123456789abcdef01234561".parse().unwrap(),
        "0123456789abcdef01234562".parse().unwrap(),
    );
    let videos: Vec<Id> = (0..3)
        .map(|i| format!("0123456789abcdef0123457{i}").parse().unwrap())
        .collect();
    let start = Utc::now();
    for (i, video) in videos.iter().enumerate() {
        let at = start + TimeDelta::seconds(i as i64);
        likes
            .like(fan, LikeTarget::Video(*video), owner, at)
            .await
            .unwrap();
    }
    // A like made in the same millisecond as another: the id breaks the tie.
    let same_time = "0123456789abcdef01234579".parse().unwrap();
    likes
        .like(fan, LikeTarget::Video(same_time), owner, start)
        .await
        .unwrap();
    let tweet = LikeTarget::Tweet(videos[0]);
    likes.like(fan, tweet, owner, start).await.unwrap();
    let mut walked = Vec::new();
    let mut after = None;
    loop {
        let batch = likes.liked_videos(fan, after.as_ref(), 2).await.unwrap();
        let Some(last) = batch.last() else { break };
        after = Some(last.position.clone());
        walked.extend(batch.iter().map(|l| l.video));
    }
    assert_eq!(walked, [videos[2], videos[1], same_time, videos[0]]);
    assert_eq!(likes.count_liked_videos(fan).await.unwrap(), 4);
    assert!(likes
        .liked_videos(owner, None, 10)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn comments_page_newest_first_and_go_with_their_video() {
    let db = fresh_database().await;
    let comments = MongoCommentRepository::new(&db);
    let (video, other_video, author): (Id, Id, Id) = (
        "0123456789abcdef01234561".parse().unwrap(),
        "0123456789abcdef01234562".parse().unwrap(),
        "0123456789abcdef01234563".parse().unwrap(),
    );
    let start = Utc::now();
    let mut written = Vec::new();
    for i in 0..3 {
        let content = CommentContent::parse(&format!("comment {i}")).unwrap();
        let at = start + TimeDelta::seconds(i);
        written.push(comments.insert(video, author, &content, at).await.unwrap());
    }
    let elsewhere = CommentContent::parse("elsewhere").unwrap();
    let kept = comments
        .insert(other_video, author, &elsewhere, start)
        .await
        .unwrap();

    let page = PageRequest::parse(Some("1"), Some("2")).unwrap();
    let first = comments.by_video(video, page, None).await.unwrap();
    assert_eq!(first.total, 3);
    let contents: Vec<&str> = first.items.iter().map(|c| c.content.as_str()).collect();
    assert_eq!(contents, ["comment 2", "comment 1"]);
    // Keyset: from after the last one shown. A comment added meanwhile at the same time sorts
    // before it (its id is larger), so it neither shifts nor repeats on the next page.
    let same_time = CommentContent::parse("same time as comment 1").unwrap();
    let tie = comments
        .insert(video, author, &same_time, written[1].created_at)
        .await
        .unwrap();
    let next = comments
        .by_video(video, page, first.next.as_ref())
        .await
        .unwrap();
    let ids: Vec<Id> = next.items.iter().map(|c| c.id).collect();
    assert_eq!(ids, [written[0].id]);
    assert_eq!(next.total, 4);
    comments.delete(tie.id).await.unwrap();

    let edited = CommentContent::parse("edited").unwrap();
    let updated = comments
        .update_content(written[0].id, &edited)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.content.as_str(), "edited");
    assert!(updated.updated_at >= updated.created_at);
    assert!(comments.delete(written[0].id).await.unwrap());
    assert!(!comments.delete(written[0].id).await.unwrap());
    assert!(comments.find_by_id(written[0].id).await.unwrap().is_none());

    assert_eq!(comments.ids_of_video(video, 1).await.unwrap().len(), 1);
    let mut ids = comments.ids_of_video(video, 10).await.unwrap();
    ids.sort();
    let mut expected = vec![written[1].id, written[2].id];
    expected.sort();
    assert_eq!(ids, expected);
    comments.delete_many(&ids).await.unwrap();
    assert!(comments.ids_of_video(video, 10).await.unwrap().is_empty());
    assert!(comments.find_by_id(kept.id).await.unwrap().is_some());
}

#[tokio::test]
async fn playlist_entries_are_unique_ordered_and_cleaned_up() {
    let db = fresh_database().await;
    let playlists = MongoPlaylistRepository::new(&db);
    let owner: Id = "0123456789abcdef01234561".parse().unwrap();
    let videos: Vec<Id> = (0..3)
        .map(|i| format!("0123456789abcdef0123457{i}").parse().unwrap())
        .collect();
    let name = PlaylistName::parse("Mix").unwrap();
    let start = Utc::now();
    let mix = playlists
        .insert(owner, &name, &PlaylistDescription::default(), start)
        .await
        .unwrap();
    let other = playlists
        .insert(owner, &name, &PlaylistDescription::default(), start)
        .await
        .unwrap();
    for (i, video) in videos.iter().enumerate().rev() {
        let at = start + TimeDelta::seconds(3 - i as i64);
        assert!(playlists.add_video(mix.id, *video, at).await.unwrap());
    }
    let later = start + TimeDelta::seconds(10);
    assert!(
        !playlists.add_video(mix.id, videos[2], later).await.unwrap(),
        "added once; keeps its place"
    );
    assert!(playlists
        .add_video(other.id, videos[1], later)
        .await
        .unwrap());
    let entries = playlists.videos_of(&[mix.id, other.id]).await.unwrap();
    assert_eq!(entries[&mix.id], [videos[2], videos[1], videos[0]]);
    assert_eq!(entries[&other.id], [videos[1]]);

    assert!(playlists.remove_video(mix.id, videos[2]).await.unwrap());
    assert!(!playlists.remove_video(mix.id, videos[2]).await.unwrap());
    playlists.remove_video_everywhere(videos[1]).await.unwrap();
    let entries = playlists.videos_of(&[mix.id, other.id]).await.unwrap();
    assert_eq!(entries[&mix.id], [videos[0]]);
    assert!(!entries.contains_key(&other.id));

    let renamed = PlaylistChanges {
        name: Some(PlaylistName::parse("Renamed").unwrap()),
        description: None,
    };
    let updated = playlists
        .update_details(mix.id, &renamed)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.name.as_str(), "Renamed");
    let page = PageRequest::parse(None, None).unwrap();
    assert_eq!(
        playlists.by_owner(owner, page, None).await.unwrap().total,
        2
    );

    assert!(playlists.delete(mix.id).await.unwrap());
    assert!(!playlists.delete(mix.id).await.unwrap());
    assert!(playlists.find_by_id(mix.id).await.unwrap().is_none());
    assert!(playlists.videos_of(&[mix.id]).await.unwrap().is_empty());
}
