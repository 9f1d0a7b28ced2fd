use chrono::{DateTime, Utc};

use crate::error::FieldError;
use crate::id::Id;
use crate::text::bounded;

/// 1 to 1000 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentContent(String);

impl CommentContent {
    pub const FIELD: &'static str = "content";

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        bounded(raw, Self::FIELD, 1..=1000).map(CommentContent)
    }

    pub fn from_stored(value: String) -> Self {
        CommentContent(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone)]
pub struct Comment {
    pub id: Id,
    pub video: Id,
    pub owner: Id,
    pub content: CommentContent,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_trimmed_and_bounded_in_characters() {
        assert_eq!(CommentContent::parse(" nice ").unwrap().as_str(), "nice");
        assert!(CommentContent::parse("\n\t ").is_err());
        assert!(CommentContent::parse(&"ü".repeat(1000)).is_ok());
        assert!(CommentContent::parse(&"x".repeat(1001)).is_err());
    }
}
