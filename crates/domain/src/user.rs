use chrono::{DateTime, Utc};

use crate::id::Id;
use crate::media::StoredMedia;
use crate::values::{Email, FullName, PasswordHash, Username};

/// A registered user, as stored. Not serialisable: the HTTP layer picks what clients may see, so
/// the password hash cannot end up in a response by accident.
#[derive(Debug, Clone)]
pub struct User {
    pub id: Id,
    pub username: Username,
    pub email: Email,
    pub full_name: FullName,
    pub avatar: StoredMedia,
    pub cover_image: Option<StoredMedia>,
    pub password_hash: PasswordHash,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A user about to be inserted; the repository assigns the id.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: Username,
    pub email: Email,
    pub full_name: FullName,
    pub avatar: StoredMedia,
    pub cover_image: Option<StoredMedia>,
    pub password_hash: PasswordHash,
    pub created_at: DateTime<Utc>,
}

/// How a user appears beside their content: `{_id, fullName, username, avatar}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSummary {
    pub id: Id,
    pub username: Username,
    pub full_name: FullName,
    pub avatar_url: String,
}

/// The account fields a user may change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct AccountChanges {
    pub full_name: Option<FullName>,
    pub email: Option<Email>,
}
