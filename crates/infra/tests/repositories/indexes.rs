//! A database someone else started: index set-up on the Node backend's Mongoose indexes, its
//! duplicates, an index on our keys with other options; what `migrate` makes of its emails.

use std::time::Duration;

use bson::{doc, oid::ObjectId, Document};
use futures_util::TryStreamExt;
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

#[tokio::test]
async fn migrate_lowercases_emails_but_lists_those_that_would_collide() {
    let db = empty_database().await;
    let users = db.collection::<Document>("users");
    for email in ["Ada@Example.com", "ada@example.com", "Bob@Example.com"] {
        users
            .insert_one(doc! { "username": email.to_lowercase().replace('@', "."), "email": email })
            .await
            .unwrap();
    }
    let quiet = |_: &str| {};
    let changes = mongo::migrate::migrate(&db, true, &quiet).await.unwrap();
    let lowercased = changes
        .iter()
        .find(|c| c.what == "lowercase emails")
        .unwrap();
    assert_eq!(lowercased.documents, 1);
    assert_eq!(lowercased.notes.len(), 1);
    assert!(
        lowercased.notes[0].starts_with("Ada@Example.com"),
        "{:?}",
        lowercased.notes
    );
    let mut emails: Vec<String> = users
        .find(doc! {})
        .await
        .unwrap()
        .try_collect::<Vec<Document>>()
        .await
        .unwrap()
        .iter()
        .map(|u| u.get_str("email").unwrap().to_owned())
        .collect();
    emails.sort();
    assert_eq!(
        emails,
        ["Ada@Example.com", "ada@example.com", "bob@example.com"]
    );
    let again = mongo::migrate::migrate(&db, true, &quiet).await.unwrap();
    let lowercased = again.iter().find(|c| c.what == "lowercase emails").unwrap();
    assert_eq!(lowercased.documents, 0, "nothing more to do");
    assert_eq!(
        lowercased.notes.len(),
        1,
        "and the collision is still reported"
    );
}

/// A run killed between dropping a collection and renaming its converted copy into its place
/// leaves the copy alone; the next run puts it in place. A copy left beside its collection (a
/// run killed while copying) is made again.
#[tokio::test]
async fn migrate_finishes_a_swap_a_killed_run_left_half_done() {
    let db = empty_database().await;
    let user = ObjectId::new();
    let like = doc! { "_id": ObjectId::new(), "likedBy": user, "tweet": ObjectId::new() };
    let mut converted = like.clone();
    converted.insert(
        "target",
        format!("tweet:{}", like.get_object_id("tweet").unwrap()),
    );
    db.collection::<Document>("likes__migrating")
        .insert_one(&converted)
        .await
        .unwrap();
    let subscription = doc! { "subscriber": user, "channel": ObjectId::new() };
    db.collection::<Document>("subscriptions")
        .insert_many([subscription.clone(), subscription])
        .await
        .unwrap();
    db.collection::<Document>("subscriptions__migrating")
        .insert_one(doc! { "half": "a copy" })
        .await
        .unwrap();
    let quiet = |_: &str| {};
    mongo::migrate::migrate(&db, true, &quiet).await.unwrap();
    let likes: Vec<Document> = db
        .collection::<Document>("likes")
        .find(doc! {})
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(likes, [converted]);
    let subscriptions = db.collection::<Document>("subscriptions");
    assert_eq!(subscriptions.count_documents(doc! {}).await.unwrap(), 1);
    assert_eq!(
        subscriptions
            .count_documents(doc! { "half": { "$exists": true } })
            .await
            .unwrap(),
        0
    );
    let names = db.list_collection_names().await.unwrap();
    assert!(
        !names.iter().any(|n| n.ends_with("__migrating")),
        "{names:?}"
    );
}
