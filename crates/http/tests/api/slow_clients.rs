//! Slow clients (slowloris) are cut off by timeouts, and others are served meanwhile: the real
//! `videotube` binary, trickled at over raw sockets.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::faults::Server;
use crate::helpers::database_uri;

async fn slow_server() -> Server {
    Server::start(
        &database_uri(),
        &[
            ("APP_APPLICATION__HEAD_TIMEOUT_SECONDS", "1".into()),
            ("APP_APPLICATION__BODY_IDLE_TIMEOUT_SECONDS", "1".into()),
            ("APP_APPLICATION__BODY_RATE_GRACE_SECONDS", "2".into()),
            ("APP_APPLICATION__BODY_MIN_BYTES_PER_SECOND", "100".into()),
        ],
    )
    .await
}

/// Sends `head`, then the body one byte every `every` until the server answers or closes;
/// answers the status line and how long it took.
async fn trickle(port: u16, head: String, every: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        tokio::select! {
            read = stream.read(&mut buf) => match read {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            },
            _ = tokio::time::sleep(every) => {
                if stream.write_all(b" ").await.is_err() {
                    break;
                }
            }
        }
        assert!(started.elapsed() < Duration::from_secs(20), "never cut off");
    }
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer.lines().next().unwrap_or_default().to_owned();
    (status, started.elapsed())
}

fn json_head(port: u16, length: usize) -> String {
    format!(
        "POST /api/v1/users/login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n{{"
    )
}

#[tokio::test]
async fn body_trickles_are_cut_off_while_others_are_served() {
    let server = slow_server().await;
    let port = server.port;
    // Twenty clients trickle a byte every 300 ms: never idle for a second, but far under 100 B/s.
    let trickles: Vec<_> = (0..20)
        .map(|_| {
            tokio::spawn(trickle(
                port,
                json_head(port, 1000),
                Duration::from_millis(300),
            ))
        })
        .collect();
    // One sends its head and then nothing at all.
    let silent = tokio::spawn(trickle(
        port,
        json_head(port, 1000),
        Duration::from_secs(60),
    ));

    tokio::time::sleep(Duration::from_millis(500)).await;
    for _ in 0..10 {
        let started = Instant::now();
        let res = reqwest::get(format!("{}/healthcheck", server.api))
            .await
            .unwrap();
        assert!(res.status().is_success());
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    for trickle in trickles {
        let (status, took) = trickle.await.unwrap();
        assert!(status.contains("408"), "{status}");
        assert!(took < Duration::from_secs(6), "{took:?}");
    }
    let (status, took) = silent.await.unwrap();
    assert!(status.contains("408"), "{status}");
    assert!(took < Duration::from_secs(4), "{took:?}");
}

#[tokio::test]
async fn a_multipart_trickle_is_cut_off_and_leaves_no_file() {
    let server = slow_server().await;
    let port = server.port;
    let head = format!(
        "POST /api/v1/users/register HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: 100000\r\n\r\n\
         --XyZ\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"a.png\"\r\n\
         Content-Type: image/png\r\n\r\n\x7fPNG"
    );
    let (status, took) = trickle(port, head, Duration::from_millis(300)).await;
    assert!(status.contains("408"), "{status}");
    assert!(took < Duration::from_secs(6), "{took:?}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        server.spool_files().is_empty(),
        "{:?}",
        server.spool_files()
    );
}

#[tokio::test]
async fn a_request_head_that_never_ends_is_cut_off() {
    let server = slow_server().await;
    let port = server.port;
    let started = Instant::now();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream
        .write_all(b"GET /api/v1/healthcheck HTTP/1.1\r\nX-Slow: ")
        .await
        .unwrap();
    let mut answer = Vec::new();
    // The server answers 408 or simply closes; either way the read ends.
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
}
