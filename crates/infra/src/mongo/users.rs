use std::time::Duration;

use async_trait::async_trait;
use bson::oid::ObjectId;
use bson::{doc, Document};
use mongodb::options::ReturnDocument;
use mongodb::Collection;
use serde::{Deserialize, Serialize};
use videotube_domain::error::UniqueField;
use videotube_domain::media::{ProfileImage, StoredMedia};
use videotube_domain::ports::UserRepository;
use videotube_domain::user::{AccountChanges, NewUser, User, UserSummary};
use videotube_domain::values::{Email, FullName, LoginId, PasswordHash, Username};
use videotube_domain::{Id, RepoError};

use super::legacy::MediaField;
use super::{find_all, id, media_path, oid, to_bson_time, Store, Within, USERS};

/// A user as stored. Field names follow the original backend's schema (`fullName`, `avatar` as a
/// URL, `password` as the bcrypt hash), so its data carries over; the asset ids sit beside the URLs.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct UserDoc {
    #[serde(rename = "_id")]
    id: ObjectId,
    username: String,
    email: String,
    full_name: String,
    #[serde(default)]
    avatar: MediaField,
    #[serde(default)]
    avatar_asset_id: String,
    // The original stored "" for a missing cover image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cover_image: Option<MediaField>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cover_image_asset_id: Option<String>,
    password: String,
    created_at: bson::DateTime,
    updated_at: bson::DateTime,
}

impl From<UserDoc> for User {
    fn from(doc: UserDoc) -> Self {
        let cover_image = doc
            .cover_image
            .and_then(|field| field.into_media(doc.cover_image_asset_id));
        User {
            id: id(doc.id),
            username: Username::from_stored(doc.username),
            email: Email::from_stored(doc.email),
            full_name: FullName::from_stored(doc.full_name),
            avatar: doc
                .avatar
                .into_media(Some(doc.avatar_asset_id))
                .unwrap_or_else(|| StoredMedia {
                    url: String::new(),
                    asset_id: String::new(),
                }),
            cover_image,
            password_hash: PasswordHash::new(doc.password),
            created_at: doc.created_at.to_chrono(),
            updated_at: doc.updated_at.to_chrono(),
        }
    }
}

pub struct MongoUserRepository {
    limit: Duration,
    users: Collection<UserDoc>,
}

impl MongoUserRepository {
    pub fn new(store: &Store) -> Self {
        Self {
            limit: store.limit,
            users: store.collection(USERS),
        }
    }

    /// FerretDB's duplicate-key message does not name the index (MongoDB's does): ask which of
    /// the two values is taken.
    async fn name_duplicate(&self, username: &Username, email: &Email) -> RepoError {
        match self.taken(username, email).await {
            Ok((true, _)) => RepoError::Duplicate(UniqueField::Username),
            Ok((false, true)) => RepoError::Duplicate(UniqueField::Email),
            Ok((false, false)) => RepoError::Duplicate(UniqueField::Unknown),
            Err(err) => err,
        }
    }

    async fn update(&self, id: Id, set: Document) -> Result<Option<User>, RepoError> {
        let mut set = set;
        set.insert("updatedAt", bson::DateTime::now());
        self.users
            .find_one_and_update(doc! { "_id": oid(id) }, doc! { "$set": set })
            .max_time(self.limit)
            .return_document(ReturnDocument::After)
            .within(self.limit)
            .await
            .map(|found| found.map(User::from))
    }
}

impl UserDoc {
    pub(super) fn new(id: ObjectId, user: &NewUser) -> Self {
        let created_at = to_bson_time(user.created_at);
        UserDoc {
            id,
            username: user.username.as_str().to_owned(),
            email: user.email.as_str().to_owned(),
            full_name: user.full_name.as_str().to_owned(),
            avatar: MediaField::url(&user.avatar.url),
            avatar_asset_id: user.avatar.asset_id.clone(),
            cover_image: user.cover_image.as_ref().map(|c| MediaField::url(&c.url)),
            cover_image_asset_id: user.cover_image.as_ref().map(|c| c.asset_id.clone()),
            password: user.password_hash.expose().to_owned(),
            created_at,
            updated_at: created_at,
        }
    }
}

#[async_trait]
impl UserRepository for MongoUserRepository {
    #[tracing::instrument(name = "users.insert", skip_all)]
    async fn insert(&self, user: NewUser) -> Result<User, RepoError> {
        let doc = UserDoc::new(ObjectId::new(), &user);
        match self.users.insert_one(&doc).within(self.limit).await {
            Ok(_) => Ok(doc.into()),
            Err(RepoError::Duplicate(UniqueField::Unknown)) => {
                Err(self.name_duplicate(&user.username, &user.email).await)
            }
            Err(err) => Err(err),
        }
    }

    #[tracing::instrument(name = "users.find_by_id", skip_all)]
    async fn find_by_id(&self, id: Id) -> Result<Option<User>, RepoError> {
        let found = self
            .users
            .find_one(doc! { "_id": oid(id) })
            .max_time(self.limit)
            .within(self.limit)
            .await?;
        Ok(found.map(User::from))
    }

    #[tracing::instrument(name = "users.find_by_login", skip_all)]
    async fn find_by_login(&self, login: &LoginId) -> Result<Option<User>, RepoError> {
        let email = match login {
            LoginId::Username(username) => {
                let found = self
                    .users
                    .find_one(doc! { "username": username.as_str() })
                    .max_time(self.limit)
                    .within(self.limit)
                    .await?;
                return Ok(found.map(User::from));
            }
            LoginId::Email(email) => email.as_str(),
        };
        // As typed (the original kept the case) or lowercase (what this server stores). Both
        // exist when two Node-era accounts differ in case only (the migration merges neither):
        // the address as typed is the one meant.
        let found = find_all(
            self.users
                .find(doc! { "email": { "$in": [email, email.to_ascii_lowercase()] } })
                .limit(2),
            self.limit,
        )
        .await?;
        let exact = found.iter().position(|user| user.email == email);
        Ok(found.into_iter().nth(exact.unwrap_or(0)).map(User::from))
    }

    #[tracing::instrument(name = "users.taken", skip_all)]
    async fn taken(&self, username: &Username, email: &Email) -> Result<(bool, bool), RepoError> {
        let projection = doc! { "username": 1, "email": 1 };
        let mut cursor = self
            .users
            .clone_with_type::<Document>()
            .find(
                doc! { "$or": [ { "username": username.as_str() }, { "email": email.as_str() } ] },
            )
            .projection(projection)
            .limit(2)
            .max_time(self.limit)
            .within(self.limit)
            .await?;
        let (mut username_taken, mut email_taken) = (false, false);
        while cursor.advance().within(self.limit).await? {
            let found = cursor
                .deserialize_current()
                .map_err(|e| RepoError::Other(Box::new(e)))?;
            username_taken |= found.get_str("username") == Ok(username.as_str());
            email_taken |= found.get_str("email") == Ok(email.as_str());
        }
        Ok((username_taken, email_taken))
    }

    #[tracing::instrument(name = "users.summaries", skip_all)]
    async fn summaries(&self, ids: &[Id]) -> Result<Vec<UserSummary>, RepoError> {
        let ids: Vec<ObjectId> = ids.iter().copied().map(oid).collect();
        let found: Vec<Document> = find_all(
            self.users
                .clone_with_type::<Document>()
                .find(doc! { "_id": { "$in": ids } })
                .projection(doc! { "username": 1, "fullName": 1, "avatar": 1 }),
            self.limit,
        )
        .await?;
        Ok(found
            .into_iter()
            .filter_map(|d| {
                Some(UserSummary {
                    id: id(d.get_object_id("_id").ok()?),
                    username: Username::from_stored(d.get_str("username").ok()?.to_owned()),
                    full_name: FullName::from_stored(
                        d.get_str("fullName").unwrap_or_default().to_owned(),
                    ),
                    avatar_url: media_path(MediaField::read(d.get("avatar")).url),
                })
            })
            .collect())
    }

    #[tracing::instrument(name = "users.update_account", skip_all)]
    async fn update_account(
        &self,
        id: Id,
        changes: &AccountChanges,
    ) -> Result<Option<User>, RepoError> {
        let mut set = Document::new();
        if let Some(full_name) = &changes.full_name {
            set.insert("fullName", full_name.as_str());
        }
        if let Some(email) = &changes.email {
            set.insert("email", email.as_str());
        }
        self.update(id, set).await
    }

    #[tracing::instrument(name = "users.set_password", skip_all)]
    async fn set_password(&self, id: Id, hash: &PasswordHash) -> Result<bool, RepoError> {
        Ok(self
            .update(id, doc! { "password": hash.expose() })
            .await?
            .is_some())
    }

    #[tracing::instrument(name = "users.set_image", skip_all)]
    async fn set_image(
        &self,
        id: Id,
        image: ProfileImage,
        media: &StoredMedia,
    ) -> Result<Option<User>, RepoError> {
        let (url_field, asset_field) = match image {
            ProfileImage::Avatar => ("avatar", "avatarAssetId"),
            ProfileImage::CoverImage => ("coverImage", "coverImageAssetId"),
        };
        self.update(
            id,
            doc! { url_field: &media.url, asset_field: &media.asset_id },
        )
        .await
    }
}
