//! Documents attached to a video (course notes, slides): PDFs, stored like every other file.

use chrono::{DateTime, Utc};

use crate::error::FieldError;
use crate::id::Id;
use crate::media::StoredMedia;
use crate::text::bounded;

/// A video carries at most this many attachments.
pub const MAX_ATTACHMENTS_PER_VIDEO: u32 = 20;

/// 1 to 200 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentTitle(String);

impl AttachmentTitle {
    pub const FIELD: &'static str = "title";

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        bounded(raw, Self::FIELD, 1..=200).map(AttachmentTitle)
    }

    /// The title an attachment sent without one gets: its file's name without the extension,
    /// or "Attachment" when that is no title.
    pub fn from_file_name(name: Option<&str>) -> Self {
        let stem = name
            .map(|name| name.rsplit(['/', '\\']).next().unwrap_or(name))
            .map(|name| name.rsplit_once('.').map_or(name, |(stem, _)| stem));
        stem.and_then(|stem| Self::parse(&stem.chars().take(200).collect::<String>()).ok())
            .unwrap_or_else(|| AttachmentTitle("Attachment".to_owned()))
    }

    pub fn from_stored(value: String) -> Self {
        AttachmentTitle(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    pub id: Id,
    pub video_id: Id,
    pub title: AttachmentTitle,
    pub file: StoredMedia,
    /// In bytes.
    pub size: u64,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_untitled_attachment_is_named_after_its_file() {
        for (name, title) in [
            (Some("Week 1 - slides.pdf"), "Week 1 - slides"),
            (Some("C:\\notes\\lecture.notes.pdf"), "lecture.notes"),
            (Some("../../etc/passwd"), "passwd"),
            (Some(".pdf"), "Attachment"),
            (Some("   "), "Attachment"),
            (None, "Attachment"),
        ] {
            assert_eq!(
                AttachmentTitle::from_file_name(name).as_str(),
                title,
                "{name:?}"
            );
        }
        let long = format!("{}.pdf", "x".repeat(300));
        assert_eq!(
            AttachmentTitle::from_file_name(Some(&long)).as_str().len(),
            200
        );
    }
}
