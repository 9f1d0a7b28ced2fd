//! Resumable uploads: a video's file arriving in pieces, over as many requests as it takes (the
//! tus protocol's state; the protocol itself is the HTTP layer's).

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::id::Id;
use crate::video::{Description, Title};

/// An upload under way: what it will publish, and how much of its file has arrived.
#[derive(Debug, Clone, PartialEq)]
pub struct ResumableUpload {
    pub id: Id,
    pub owner: Id,
    pub title: Title,
    pub description: Description,
    /// The whole file's size, declared when the upload began.
    pub length: u64,
    /// The bytes received and kept so far: the next piece starts here.
    pub offset: u64,
    /// Where the bytes are, in the spool named `spool` (`spool_identity`): only instances that
    /// share that spool can take the next piece.
    pub path: PathBuf,
    pub spool: String,
    pub created_at: DateTime<Utc>,
    /// Unfinished past this, the upload is dropped; each piece received moves it on.
    pub expires_at: DateTime<Utc>,
    /// The video published from it, once the last byte arrived.
    pub video_id: Option<Id>,
}

impl ResumableUpload {
    pub fn is_complete(&self) -> bool {
        self.offset == self.length
    }

    /// Expired unfinished uploads are gone for their owner too, before the sweep removes them.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.video_id.is_none() && self.expires_at <= now
    }
}
