//! The `videotube` binary itself: configuration from the environment, refusal to start in
//! production with development secrets, and a graceful exit on SIGTERM.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::database_uri;

fn videotube(vars: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_videotube"));
    command
        .env_clear()
        .envs(vars.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn wait_for_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the server did not exit within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn production_refuses_to_start_with_development_secrets() {
    let output = videotube(&[("APP_ENVIRONMENT", "production"), ("PORT", "0")])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let log = String::from_utf8_lossy(&output.stdout);
    assert!(log.contains("ACCESS_TOKEN_SECRET is not set"), "{log}");
}

#[tokio::test]
async fn sigterm_stops_the_server_gracefully() {
    stops_gracefully_on("-TERM").await;
}

#[tokio::test]
async fn sigint_stops_the_server_gracefully_too() {
    stops_gracefully_on("-INT").await;
}

async fn stops_gracefully_on(signal: &str) {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let media = tempfile::tempdir().unwrap();
    let db_name = format!("test_{}", uuid::Uuid::new_v4().simple());
    let mut child = videotube(&[
        ("PORT", &port.to_string()),
        ("MONGODB_URI", &database_uri()),
        ("DB_NAME", &db_name),
        (
            "MEDIA_DIR",
            &media.path().join("media").display().to_string(),
        ),
        (
            "UPLOAD_TMP_DIR",
            &media.path().join("spool").display().to_string(),
        ),
    ])
    .spawn()
    .unwrap();

    let health = format!("http://127.0.0.1:{port}/api/v1/healthcheck");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(res) = client.get(&health).send().await {
            assert_eq!(res.status(), reqwest::StatusCode::OK);
            break;
        }
        assert!(Instant::now() < deadline, "the server did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let killed = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = wait_for_exit(&mut child, Duration::from_secs(20));
    let mut log = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut log).unwrap();
    assert!(status.success(), "{status:?}: {log}");
    assert!(log.contains("finishing requests in flight"), "{log}");
    assert!(!log.contains("forced shutdown"), "{log}");
}
