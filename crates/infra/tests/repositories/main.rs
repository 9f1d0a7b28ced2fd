//! The MongoDB repositories against a real server (TEST_MONGODB_URI; `scripts/test` provides
//! one), each test in a fresh database.

use std::time::Duration;

use chrono::Utc;
use videotube_domain::media::StoredMedia;
use videotube_domain::user::NewUser;
use videotube_domain::values::{Email, FullName, PasswordHash, Username};
use videotube_infra::mongo::{self, Store};

mod attachments;
mod comments;
mod history;
mod indexes;
mod likes;
mod playlists;
mod resumable;
mod sessions;
mod store;
mod throttles;
mod users;
mod videos;

pub(crate) async fn fresh_database() -> Store {
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

pub(crate) fn new_user(username: &str, email: &str) -> NewUser {
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
