use std::fmt;

use crate::id::Id;
use crate::page::Cursor;

/// A liked video, and where its like stands in the user's likes (newest first: when it was
/// made, then its id), to go on from.
#[derive(Debug, Clone, PartialEq)]
pub struct LikedVideo {
    pub video: Id,
    pub position: Cursor,
}

/// What a like is for. Each like has exactly one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LikeTarget {
    Video(Id),
    Comment(Id),
    Tweet(Id),
}

impl LikeTarget {
    pub fn id(self) -> Id {
        match self {
            LikeTarget::Video(id) | LikeTarget::Comment(id) | LikeTarget::Tweet(id) => id,
        }
    }
}

/// `video:<id>`, `comment:<id>` or `tweet:<id>`: one string naming the target, the key likes are unique under.
impl fmt::Display for LikeTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LikeTarget::Video(id) => write!(f, "video:{id}"),
            LikeTarget::Comment(id) => write!(f, "comment:{id}"),
            LikeTarget::Tweet(id) => write!(f, "tweet:{id}"),
        }
    }
}
