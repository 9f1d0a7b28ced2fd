use chrono::{DateTime, Utc};

use crate::error::FieldError;
use crate::id::Id;
use crate::text::bounded;

/// 1 to 100 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaylistName(String);

/// Up to 1000 characters after trimming; may be empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlaylistDescription(String);

impl PlaylistName {
    pub const FIELD: &'static str = "name";

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        bounded(raw, Self::FIELD, 1..=100).map(PlaylistName)
    }

    pub fn from_stored(value: String) -> Self {
        PlaylistName(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl PlaylistDescription {
    pub const FIELD: &'static str = "description";

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        bounded(raw, Self::FIELD, 0..=1000).map(PlaylistDescription)
    }

    pub fn from_stored(value: String) -> Self {
        PlaylistDescription(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A playlist's own fields; its videos are entries of their own (see `PlaylistRepository`).
#[derive(Debug, Clone)]
pub struct Playlist {
    pub id: Id,
    pub owner: Id,
    pub name: PlaylistName,
    pub description: PlaylistDescription,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What an update changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct PlaylistChanges {
    pub name: Option<PlaylistName>,
    pub description: Option<PlaylistDescription>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_required_and_descriptions_optional() {
        assert_eq!(PlaylistName::parse(" Mix ").unwrap().as_str(), "Mix");
        assert!(PlaylistName::parse(" ").is_err());
        assert!(PlaylistName::parse(&"n".repeat(101)).is_err());
        assert_eq!(PlaylistDescription::parse("  ").unwrap().as_str(), "");
        assert!(PlaylistDescription::parse(&"d".repeat(1000)).is_ok());
        assert!(PlaylistDescription::parse(&"d".repeat(1001)).is_err());
    }
}
