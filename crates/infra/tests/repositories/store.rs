//! The store itself: an unreachable server and the time limit.

use std::time::Duration;

use videotube_domain::ports::{DatabaseProbe, SessionRepository, UserRepository};
use videotube_domain::values::{LoginId, Username};
use videotube_domain::RepoError;
use videotube_infra::mongo::{self, MongoSessionRepository, MongoUserRepository, Store};

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
