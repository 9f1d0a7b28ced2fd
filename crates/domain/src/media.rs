use std::path::PathBuf;

/// A file type recognised by its content (magic bytes), never by its name or declared type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    Jpeg,
    Png,
    Webp,
    Gif,
}

/// A family of media types a field may accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaCategory {
    Image,
}

impl MediaType {
    pub const ALL: [MediaType; 4] = [
        MediaType::Jpeg,
        MediaType::Png,
        MediaType::Webp,
        MediaType::Gif,
    ];

    pub fn from_mime(mime: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.mime() == mime)
    }

    pub fn mime(self) -> &'static str {
        match self {
            MediaType::Jpeg => "image/jpeg",
            MediaType::Png => "image/png",
            MediaType::Webp => "image/webp",
            MediaType::Gif => "image/gif",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            MediaType::Jpeg => "jpg",
            MediaType::Png => "png",
            MediaType::Webp => "webp",
            MediaType::Gif => "gif",
        }
    }

    pub fn category(self) -> MediaCategory {
        match self {
            MediaType::Jpeg | MediaType::Png | MediaType::Webp | MediaType::Gif => {
                MediaCategory::Image
            }
        }
    }
}

impl MediaCategory {
    pub fn describe(self) -> &'static str {
        match self {
            MediaCategory::Image => "an image (JPEG, PNG, WebP or GIF)",
        }
    }
}

/// A received file, already checked for size and type, waiting in the upload spool.
/// Whoever spooled it owns the file and removes it; a store only reads it or moves it away.
#[derive(Debug, Clone)]
pub struct UploadedFile {
    pub path: PathBuf,
    pub media_type: MediaType,
    pub size: u64,
}

/// Where a media store put a file: the public URL clients see and the id to delete it by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMedia {
    pub url: String,
    pub asset_id: String,
}

/// The two images on a user's profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileImage {
    Avatar,
    CoverImage,
}

impl ProfileImage {
    pub fn folder(self) -> MediaFolder {
        match self {
            ProfileImage::Avatar => MediaFolder::Avatars,
            ProfileImage::CoverImage => MediaFolder::CoverImages,
        }
    }
}

/// Folders that keep each kind of asset apart in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaFolder {
    Avatars,
    CoverImages,
}

impl MediaFolder {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaFolder::Avatars => "avatars",
            MediaFolder::CoverImages => "covers",
        }
    }
}
