//! Users: round trips, unique indexes by name, updates, documents of the original backend.

use bson::doc;
use videotube_domain::error::UniqueField;
use videotube_domain::media::{ProfileImage, StoredMedia};
use videotube_domain::ports::UserRepository;
use videotube_domain::user::AccountChanges;
use videotube_domain::values::{Email, FullName, LoginId, PasswordHash, Username};
use videotube_domain::{Id, RepoError};
use videotube_infra::mongo::{self, MongoUserRepository};

use crate::{fresh_database, new_user};

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

/// Two Node-era accounts whose emails differ in case only (the migration lowercases neither):
/// each logs in with its email as stored, whichever the database happens to return first.
#[tokio::test]
async fn an_email_as_stored_wins_over_another_accounts_lowercase_one() {
    let db = fresh_database().await;
    let raw = db.collection::<bson::Document>("users");
    for (username, email) in [("lower", "ada@example.com"), ("mixed", "Ada@Example.com")] {
        raw.insert_one(doc! {
            "username": username, "email": email, "fullName": username,
            "avatar": "http://res.cloudinary.com/demo/image/upload/v1/a.png", "password": "$2b$04$hash",
            "createdAt": bson::DateTime::now(), "updatedAt": bson::DateTime::now(),
        })
        .await
        .unwrap();
    }
    let users = MongoUserRepository::new(&db);
    for (typed, owner) in [("Ada@Example.com", "mixed"), ("ada@example.com", "lower")] {
        let login = LoginId::Email(Email::for_login(typed).unwrap());
        let found = users.find_by_login(&login).await.unwrap().unwrap();
        assert_eq!(found.username.as_str(), owner, "{typed}");
    }
}
