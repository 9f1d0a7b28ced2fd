use chrono::{DateTime, Utc};

use crate::error::FieldError;
use crate::id::Id;
use crate::text::bounded;

/// 1 to 280 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TweetContent(String);

impl TweetContent {
    pub const FIELD: &'static str = "content";

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        bounded(raw, Self::FIELD, 1..=280).map(TweetContent)
    }

    pub fn from_stored(value: String) -> Self {
        TweetContent(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone)]
pub struct Tweet {
    pub id: Id,
    pub owner: Id,
    pub content: TweetContent,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_trimmed_and_bounded_in_characters() {
        assert_eq!(TweetContent::parse("  hello ").unwrap().as_str(), "hello");
        assert!(TweetContent::parse("   ").is_err());
        assert!(TweetContent::parse(&"é".repeat(280)).is_ok());
        assert!(TweetContent::parse(&"x".repeat(281)).is_err());
    }
}
