//! Fills a database for benchmarks: 200 channels, 1,000 viewers, 20,000 videos, 100,000
//! subscriptions and 200,000 watch-history entries. Channel `channel000` has the most
//! subscribers (every viewer); every viewer has watched 200 videos. All passwords are
//! `benchmark-password`.
//!
//! Usage: MONGODB_URI=mongodb://127.0.0.1:27017 DB_NAME=videotube_bench videotube-seed
//! `SEED_VIDEOS` changes the number of videos (at least 200, not a multiple of 101).

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use videotube_domain::media::StoredMedia;
use videotube_domain::ports::PasswordHasher;
use videotube_domain::user::NewUser;
use videotube_domain::values::{Email, FullName, NewPassword, PasswordHash, Username};
use videotube_domain::video::{Description, Title, Video, VideoStatus};
use videotube_domain::{BoxError, Id};
use videotube_infra::mongo::{self, bson::oid::ObjectId, seed};
use videotube_infra::BcryptHasher;

const CHANNELS: usize = 200;
const VIEWERS: usize = 1_000;
const SUBSCRIPTIONS_PER_VIEWER: usize = 100;
const WATCHED_PER_VIEWER: usize = 200;

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

fn invalid(error: videotube_domain::FieldError) -> String {
    error.to_string()
}

fn new_id() -> Id {
    Id::from_bytes(ObjectId::new().bytes())
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
    let now = Utc::now();
    let at = |minutes_ago: usize| -> DateTime<Utc> { now - TimeDelta::minutes(minutes_ago as i64) };
    let mut rng = Lcg(42);

    let user = |username: String, minutes_ago: usize| -> Result<(Id, NewUser), BoxError> {
        Ok((
            new_id(),
            NewUser {
                email: Email::parse(&format!("{username}@example.com")).map_err(invalid)?,
                full_name: FullName::parse(&format!("{username} Seeded")).map_err(invalid)?,
                username: Username::parse(&username).map_err(invalid)?,
                avatar: StoredMedia {
                    url: "/media/avatars/seed.png".into(),
                    asset_id: "avatars/seed.png".into(),
                },
                cover_image: None,
                password_hash: PasswordHash::new(hash.expose().to_owned()),
                created_at: at(minutes_ago),
            },
        ))
    };
    let channels = (0..CHANNELS)
        .map(|i| user(format!("channel{i:03}"), 100_000 + i))
        .collect::<Result<Vec<_>, _>>()?;
    let viewers = (0..VIEWERS)
        .map(|i| user(format!("viewer{i:04}"), 50_000 + i))
        .collect::<Result<Vec<_>, _>>()?;
    let channel_ids: Vec<Id> = channels.iter().map(|(id, _)| *id).collect();
    let viewer_ids: Vec<Id> = viewers.iter().map(|(id, _)| *id).collect();
    seed::insert_users(&db, &channels).await?;
    seed::insert_users(&db, &viewers).await?;

    let mut videos = Vec::with_capacity(video_count);
    for i in 0..video_count {
        let id = new_id();
        let file = |folder: &str, extension: &str| StoredMedia {
            url: format!("/media/{folder}/{id}.{extension}"),
            asset_id: format!("{folder}/{id}.{extension}"),
        };
        videos.push(Video {
            id,
            owner: channel_ids[i % CHANNELS],
            title: Title::parse(&format!("Video {i} about topic {}", i % 50)).map_err(invalid)?,
            description: Description::parse(&format!("Seeded video number {i}"))
                .map_err(invalid)?,
            video_file: Some(file("videos", "mp4")),
            thumbnail: Some(file("thumbnails", "png")),
            stream: None,
            duration_seconds: (rng.next() % 3_600) as f64,
            views: rng.next() % 100_000,
            is_published: true,
            status: VideoStatus::Ready,
            progress: None,
            failure_reason: None,
            created_at: at(video_count - i),
            updated_at: at(video_count - i),
        });
    }
    let video_ids: Vec<Id> = videos.iter().map(|v| v.id).collect();
    seed::insert_videos(&db, &videos).await?;

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
            subscriptions.push((
                *viewer,
                channel_ids[channel],
                at(v * SUBSCRIPTIONS_PER_VIEWER + k),
            ));
        }
    }
    seed::insert_subscriptions(&db, &subscriptions).await?;

    // 200 distinct videos per viewer: a step coprime with the number of videos never repeats.
    let mut history = Vec::with_capacity(VIEWERS * WATCHED_PER_VIEWER);
    for (v, viewer) in viewer_ids.iter().enumerate() {
        for k in 0..WATCHED_PER_VIEWER {
            history.push((*viewer, video_ids[(v * 37 + k * 101) % video_count], at(k)));
        }
    }
    seed::insert_history(&db, &history).await?;
    println!("seeded {name}: {CHANNELS} channels, {VIEWERS} viewers, {video_count} videos, {} subscriptions, {} history entries",
        VIEWERS * SUBSCRIPTIONS_PER_VIEWER, VIEWERS * WATCHED_PER_VIEWER);
    Ok(())
}
