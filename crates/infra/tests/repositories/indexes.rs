//! Index set-up on a database someone else started: the Node backend's Mongoose indexes, its
//! duplicates, an index on our keys with other options.

use std::time::Duration;

use bson::{doc, oid::ObjectId, Document};
use mongodb::options::IndexOptions;
use mongodb::IndexModel;
use videotube_infra::mongo::{self, PrepareError};

/// A database with nothing in it yet, not even our indexes.
async fn empty_database() -> mongo::Database {
    let uri = std::env::var("TEST_MONGODB_URI").expect("TEST_MONGODB_URI is set");
    let name = format!("test_{}", uuid::Uuid::new_v4().simple());
    mongo::connect(&uri, &name, Duration::from_secs(5))
        .await
        .unwrap()
}

async fn mongoose_index(db: &mongo::Database, collection: &str, field: &str, unique: bool) {
    let options = IndexOptions::builder()
        .name(format!("{field}_1"))
        .unique(unique.then_some(true))
        .build();
    db.collection::<Document>(collection)
        .create_index(
            IndexModel::builder()
                .keys(doc! { field: 1 })
                .options(options)
                .build(),
        )
        .await
        .unwrap();
}

async fn index_names(db: &mongo::Database, collection: &str) -> Vec<String> {
    let mut names = db
        .collection::<Document>(collection)
        .list_index_names()
        .await
        .unwrap();
    names.sort();
    names
}

#[tokio::test]
async fn the_node_backends_indexes_are_taken_for_ours_by_their_keys() {
    let db = empty_database().await;
    // What Mongoose leaves from the original's user schema.
    mongoose_index(&db, "users", "username", true).await;
    mongoose_index(&db, "users", "email", true).await;
    mongoose_index(&db, "users", "fullName", false).await;
    mongo::ensure_indexes(&db)
        .await
        .expect("an index with our keys and options is ours, whatever its name");
    assert_eq!(
        index_names(&db, "users").await,
        ["_id_", "email_1", "fullName_1", "username_1"]
    );
    mongo::ensure_indexes(&db).await.expect("and again");
}

#[tokio::test]
async fn duplicates_that_forbid_a_unique_index_are_named_with_what_to_do() {
    let db = empty_database().await;
    let (subscriber, channel) = (ObjectId::new(), ObjectId::new());
    let subscriptions = db.collection::<Document>("subscriptions");
    for _ in 0..2 {
        subscriptions
            .insert_one(doc! { "subscriber": subscriber, "channel": channel })
            .await
            .unwrap();
    }
    let err = mongo::ensure_indexes(&db).await.unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(
            err,
            PrepareError::Duplicates {
                collection: "subscriptions",
                index: "subscriber_channel_unique",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(message.contains("subscriber, channel"), "{message}");
    assert!(message.contains("videotube migrate --apply"), "{message}");
    assert!(!message.contains("reachable"), "{message}");
}

#[tokio::test]
async fn an_index_on_our_keys_with_other_options_is_a_conflict_named_with_its_fix() {
    let db = empty_database().await;
    mongoose_index(&db, "users", "username", false).await;
    let err = mongo::ensure_indexes(&db).await.unwrap_err();
    assert!(
        matches!(
            &err,
            PrepareError::Conflicting { collection: "users", existing, .. } if existing == "username_1"
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains(r#"db.users.dropIndex("username_1")"#),
        "{err}"
    );
}

#[tokio::test]
async fn an_unreachable_server_is_said_to_be_unreachable() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let uri = format!("mongodb://127.0.0.1:{port}/?serverSelectionTimeoutMS=300");
    let db = mongo::connect(&uri, "nowhere", Duration::from_millis(300))
        .await
        .unwrap();
    let err = mongo::ensure_indexes(&db).await.unwrap_err();
    assert!(matches!(err, PrepareError::Unreachable(_)), "{err:?}");
}
