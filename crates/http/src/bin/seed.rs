//! Fills a database for benchmarks: 200 channels, 1,000 viewers, 20,000 videos, 100,000
//! subscriptions and 200,000 watch-history entries. Channel `channel000` has the most
//! subscribers (every viewer); every viewer has watched 200 videos. All passwords are
//! `benchmark-password`.
//!
//! Usage: MONGODB_URI=mongodb://127.0.0.1:27017 DB_NAME=videotube_bench videotube-seed
//! `SEED_VIDEOS` changes the number of videos (at least 200, not a multiple of 101).

use std::time::Duration;

use videotube_domain::ports::PasswordHasher;
use videotube_domain::values::NewPassword;
use videotube_domain::BoxError;
use videotube_infra::mongo;
use videotube_infra::mongo::bson::{doc, oid::ObjectId, DateTime, Document};
use videotube_infra::BcryptHasher;

const CHANNELS: usize = 200;
const VIEWERS: usize = 1_000;
const SUBSCRIPTIONS_PER_VIEWER: usize = 100;
const WATCHED_PER_VIEWER: usize = 200;
const BATCH: usize = 5_000;

/// A small deterministic generator, so every run seeds the same data.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let uri = std::env::var("MONGODB_URI").unwrap_or_else(|_| "mongodb://127.0.0.1:27017".into());
    let name = std::env::var("DB_NAME").unwrap_or_else(|_| "videotube_bench".into());
    let video_count: usize = match std::env::var("SEED_VIDEOS") {
        Ok(n) => n.parse()?,
        Err(_) => 20_000,
    };
    if video_count < WATCHED_PER_VIEWER || video_count.is_multiple_of(101) {
        return Err("SEED_VIDEOS must be at least 200 and not a multiple of 101".into());
    }
    let db = mongo::connect(&uri, &name, Duration::from_secs(10)).await?;
    db.drop().await?;
    mongo::ensure_indexes(&db).await?;

    let password =
        NewPassword::parse("benchmark-password".into(), "password").map_err(|e| e.to_string())?;
    let hash = BcryptHasher::new(10, 0)?.hash(&password).await?;
    let now = DateTime::now().timestamp_millis();
    let at = |minutes_ago: usize| DateTime::from_millis(now - minutes_ago as i64 * 60_000);
    let mut rng = Lcg(42);

    let user = |username: String, minutes_ago: usize| {
        doc! {
            "_id": ObjectId::new(), "email": format!("{username}@example.com"),
            "fullName": format!("{username} Seeded"), "username": username,
            "avatar": "http://localhost:8000/media/avatars/seed.png", "avatarAssetId": "avatars/seed.png",
            "password": hash.expose(), "createdAt": at(minutes_ago), "updatedAt": at(minutes_ago),
        }
    };
    let channels: Vec<Document> = (0..CHANNELS)
        .map(|i| user(format!("channel{i:03}"), 100_000 + i))
        .collect();
    let viewers: Vec<Document> = (0..VIEWERS)
        .map(|i| user(format!("viewer{i:04}"), 50_000 + i))
        .collect();
    let channel_ids: Vec<ObjectId> = channels
        .iter()
        .map(|d| d.get_object_id("_id").unwrap())
        .collect();
    let viewer_ids: Vec<ObjectId> = viewers
        .iter()
        .map(|d| d.get_object_id("_id").unwrap())
        .collect();
    insert(&db, "users", channels.into_iter().chain(viewers).collect()).await?;

    let videos: Vec<Document> = (0..video_count)
        .map(|i| {
            let id = ObjectId::new();
            doc! {
                "_id": id, "owner": channel_ids[i % CHANNELS],
                "title": format!("Video {i} about topic {}", i % 50),
                "description": format!("Seeded video number {i}"),
                "videoFile": format!("http://localhost:8000/media/videos/{id}.mp4"),
                "videoFileAssetId": format!("videos/{id}.mp4"),
                "thumbnail": format!("http://localhost:8000/media/thumbnails/{id}.png"),
                "thumbnailAssetId": format!("thumbnails/{id}.png"),
                "duration": (rng.next() % 3_600) as f64, "views": (rng.next() % 100_000) as i64,
                "isPublished": true, "status": "ready", "listed": true,
                "createdAt": at(video_count - i), "updatedAt": at(video_count - i),
            }
        })
        .collect();
    let video_ids: Vec<ObjectId> = videos
        .iter()
        .map(|d| d.get_object_id("_id").unwrap())
        .collect();
    insert(&db, "videos", videos).await?;

    // Every viewer follows channel000, then 99 other channels from a shuffled list.
    let mut subscriptions = Vec::with_capacity(VIEWERS * SUBSCRIPTIONS_PER_VIEWER);
    for (v, viewer) in viewer_ids.iter().enumerate() {
        let mut others: Vec<usize> = (1..CHANNELS).collect();
        for i in (1..others.len()).rev() {
            others.swap(i, rng.next() as usize % (i + 1));
        }
        for (k, channel) in std::iter::once(0)
            .chain(others)
            .take(SUBSCRIPTIONS_PER_VIEWER)
            .enumerate()
        {
            subscriptions.push(doc! {
                "_id": ObjectId::new(), "subscriber": viewer, "channel": channel_ids[channel],
                "createdAt": at(v * SUBSCRIPTIONS_PER_VIEWER + k),
            });
        }
    }
    insert(&db, "subscriptions", subscriptions).await?;

    // 200 distinct videos per viewer: a step coprime with the number of videos never repeats.
    let mut history = Vec::with_capacity(VIEWERS * WATCHED_PER_VIEWER);
    for (v, viewer) in viewer_ids.iter().enumerate() {
        for k in 0..WATCHED_PER_VIEWER {
            history.push(doc! {
                "user": viewer, "video": video_ids[(v * 37 + k * 101) % video_count], "watchedAt": at(k),
            });
        }
    }
    insert(&db, "watch_history", history).await?;
    println!("seeded {name}: {CHANNELS} channels, {VIEWERS} viewers, {video_count} videos, {} subscriptions, {} history entries",
        VIEWERS * SUBSCRIPTIONS_PER_VIEWER, VIEWERS * WATCHED_PER_VIEWER);
    Ok(())
}

async fn insert(
    db: &mongo::Database,
    collection: &str,
    docs: Vec<Document>,
) -> Result<(), mongo::DbError> {
    let collection = db.collection::<Document>(collection);
    for batch in docs.chunks(BATCH) {
        collection.insert_many(batch).await?;
    }
    Ok(())
}
