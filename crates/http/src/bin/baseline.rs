//! The load benchmark's baseline (`scripts/bench-load`): the service calls a route makes, hence
//! the same database operations through the same driver, at a fixed concurrency, without HTTP.
//! The server cannot beat these figures; how close it comes is what its HTTP layer costs.
//! `bcrypt` measures the password verifications per second the machine's cores allow at the
//! configured cost, the ceiling for logins.
//!
//! Usage: videotube-baseline <current-user|videos|video|login|bcrypt> <concurrency> <seconds>
//! Configured like the server (MONGODB_URI, DB_NAME, APP_*); logs in as the seeded `viewer0001`.
//! Prints `<operation> concurrency=<n> ops/s=<x> p50=<ms> p99=<ms> p999=<ms>`.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use secrecy::ExposeSecret;
use videotube_domain::page::PageRequest;
use videotube_domain::ports::PasswordHasher;
use videotube_domain::values::{LoginId, NewPassword, Password, Username};
use videotube_domain::video::{VideoSearch, VideoSort};
use videotube_domain::BoxError;
use videotube_http::config::Settings;
use videotube_http::startup::Services;
use videotube_infra::{mongo, BcryptHasher, LocalMediaStore};

const USERNAME: &str = "viewer0001";
const PASSWORD: &str = "benchmark-password";
const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn login_id() -> LoginId {
    LoginId::Username(Username::parse(USERNAME).expect("a valid username"))
}

fn password() -> Password {
    Password::parse(PASSWORD.into(), "password").expect("a non-empty password")
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().collect();
    let [_, operation, concurrency, seconds] = args.as_slice() else {
        return Err("usage: videotube-baseline <operation> <concurrency> <seconds>".into());
    };
    let concurrency: usize = concurrency.parse()?;
    let duration = Duration::from_secs(seconds.parse()?);
    let env: HashMap<String, String> = std::env::vars().collect();
    let (_, settings) = Settings::load(&env)?;
    let db = mongo::connect(
        settings.database.uri.expose_secret(),
        &settings.database.name,
        Duration::from_secs(settings.database.timeout_seconds),
    )
    .await?;
    let media = Arc::new(LocalMediaStore::new(
        std::env::temp_dir(),
        "http://localhost/media",
    ));
    let jobs_dir = settings.media.upload_tmp_dir.join("jobs");
    std::fs::create_dir_all(&jobs_dir)?;
    let spool = videotube_http::startup::spool_identity(&jobs_dir)?;
    let services = Arc::new(Services::new(&settings, &db, media, None, None, &spool)?);

    let (viewer, tokens) = services.users.login(login_id(), password(), None).await?;
    let token: Arc<str> = tokens.access.token.expose_secret().into();
    let search = Arc::new(VideoSearch {
        text: None,
        sort: VideoSort::CreatedAt,
        descending: true,
        owner: None,
        viewer: Some(viewer.id),
        after: None,
    });
    let page = PageRequest::parse(Some("1"), Some("20")).map_err(|_| "page")?;
    let video = services
        .videos
        .list(&search, page)
        .await?
        .items
        .first()
        .ok_or("the database has no videos; seed it first")?
        .video
        .id;

    let latencies = match operation.as_str() {
        "current-user" => {
            run(concurrency, duration, move || {
                let (services, token) = (services.clone(), token.clone());
                async move {
                    let caller = services.users.authenticate(&token).await?;
                    services.users.current_user(caller).await.map(drop)
                }
            })
            .await?
        }
        "videos" => {
            run(concurrency, duration, move || {
                let (services, token, search) = (services.clone(), token.clone(), search.clone());
                async move {
                    services.users.authenticate(&token).await?;
                    services.videos.list(&search, page).await.map(drop)
                }
            })
            .await?
        }
        "video" => {
            run(concurrency, duration, move || {
                let (services, token) = (services.clone(), token.clone());
                async move {
                    let caller = services.users.authenticate(&token).await?;
                    services
                        .watching
                        .watch(Some(caller.user_id), video)
                        .await
                        .map(drop)
                }
            })
            .await?
        }
        "login" => {
            run(concurrency, duration, move || {
                let services = services.clone();
                async move {
                    let login = services.users.login(login_id(), password(), Some(CLIENT));
                    login.await.map(drop)
                }
            })
            .await?
        }
        "bcrypt" => {
            let hasher = Arc::new(BcryptHasher::new(
                settings.auth.bcrypt_cost,
                settings.auth.bcrypt_threads,
            )?);
            let hash = Arc::new(
                hasher
                    .hash(&NewPassword::parse(PASSWORD.into(), "password").map_err(|_| "pw")?)
                    .await?,
            );
            run(concurrency, duration, move || {
                let (hasher, hash) = (hasher.clone(), hash.clone());
                async move {
                    let ok = hasher.verify(&password(), Some(&hash)).await?;
                    assert!(ok, "the password verifies");
                    Ok::<_, BoxError>(())
                }
            })
            .await?
        }
        other => return Err(format!("unknown operation {other}").into()),
    };
    report(operation, concurrency, duration, latencies);
    Ok(())
}

/// `concurrency` loops calling `operation` until `duration` is over; every call's latency.
async fn run<F, Fut, E>(
    concurrency: usize,
    duration: Duration,
    operation: F,
) -> Result<Vec<Duration>, BoxError>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: std::fmt::Debug + Send + 'static,
{
    let operation = Arc::new(operation);
    let deadline = Instant::now() + duration;
    let loops: Vec<_> = (0..concurrency)
        .map(|_| {
            let operation = Arc::clone(&operation);
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let started = Instant::now();
                    operation().await.map_err(|e| format!("{e:?}"))?;
                    latencies.push(started.elapsed());
                }
                Ok::<_, String>(latencies)
            })
        })
        .collect();
    let mut all = Vec::new();
    for each in loops {
        all.extend(each.await??);
    }
    Ok(all)
}

fn report(operation: &str, concurrency: usize, duration: Duration, mut latencies: Vec<Duration>) {
    latencies.sort();
    let at = |q: f64| {
        let i = ((latencies.len() as f64 * q).ceil() as usize).saturating_sub(1);
        latencies.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "{operation} concurrency={concurrency} ops/s={:.1} p50={:.2}ms p99={:.2}ms p999={:.2}ms",
        latencies.len() as f64 / duration.as_secs_f64(),
        at(0.50),
        at(0.99),
        at(0.999),
    );
}
