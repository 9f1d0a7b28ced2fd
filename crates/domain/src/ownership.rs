//! The one rule for changing something a user made: only its owner may.

use crate::comment::Comment;
use crate::error::Error;
use crate::playlist::Playlist;
use crate::tweet::Tweet;
use crate::video::Video;
use crate::Id;

/// Something a user owns and alone may change, and how a refusal reads.
pub trait Owned {
    const NOT_FOUND: &'static str;
    const NOT_OWNER: &'static str;
    fn owner(&self) -> Id;
}

/// `found` when `caller` owns it: a 404 when there is nothing, a 403 when it is someone else's.
pub fn owned_by<T: Owned>(found: Option<T>, caller: Id) -> Result<T, Error> {
    match found {
        None => Err(Error::NotFound(T::NOT_FOUND)),
        Some(thing) if thing.owner() != caller => Err(Error::Forbidden(T::NOT_OWNER)),
        Some(thing) => Ok(thing),
    }
}

macro_rules! owned {
    ($($kind:ty => $capitalised:literal, $name:literal);* $(;)?) => {$(
        impl Owned for $kind {
            const NOT_FOUND: &'static str = concat!($capitalised, " not found");
            const NOT_OWNER: &'static str = concat!("Only the ", $name, "'s owner may change it");
            fn owner(&self) -> Id {
                self.owner
            }
        }
    )*};
}

owned! {
    Comment => "Comment", "comment";
    Playlist => "Playlist", "playlist";
    Tweet => "Tweet", "tweet";
    Video => "Video", "video";
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Note {
        owner: Id,
    }

    impl Owned for Note {
        const NOT_FOUND: &'static str = "Note not found";
        const NOT_OWNER: &'static str = "Only the note's owner may change it";
        fn owner(&self) -> Id {
            self.owner
        }
    }

    #[test]
    fn only_the_owner_passes() {
        let (ada, bob) = (Id::from_bytes([1; 12]), Id::from_bytes([2; 12]));
        assert!(owned_by(Some(Note { owner: ada }), ada).is_ok());
        assert!(matches!(
            owned_by(Some(Note { owner: ada }), bob),
            Err(Error::Forbidden("Only the note's owner may change it"))
        ));
        assert!(matches!(
            owned_by::<Note>(None, ada),
            Err(Error::NotFound("Note not found"))
        ));
        assert_eq!(
            (<Video as Owned>::NOT_FOUND, <Video as Owned>::NOT_OWNER),
            ("Video not found", "Only the video's owner may change it")
        );
    }
}
