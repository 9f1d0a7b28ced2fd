use std::path::PathBuf;

/// A file type recognised by its content (magic bytes), never by its name or declared type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    Jpeg,
    Png,
    Webp,
    Gif,
    Mp4,
    QuickTime,
    Webm,
    Matroska,
    Pdf,
}

/// A family of media types a field may accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaCategory {
    Image,
    Video,
    /// Documents attached to videos.
    Document,
}

impl MediaType {
    pub const ALL: [MediaType; 9] = [
        MediaType::Jpeg,
        MediaType::Png,
        MediaType::Webp,
        MediaType::Gif,
        MediaType::Mp4,
        MediaType::QuickTime,
        MediaType::Webm,
        MediaType::Matroska,
        MediaType::Pdf,
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
            MediaType::Mp4 => "video/mp4",
            MediaType::QuickTime => "video/quicktime",
            MediaType::Webm => "video/webm",
            MediaType::Matroska => "video/x-matroska",
            MediaType::Pdf => "application/pdf",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            MediaType::Jpeg => "jpg",
            MediaType::Png => "png",
            MediaType::Webp => "webp",
            MediaType::Gif => "gif",
            MediaType::Mp4 => "mp4",
            MediaType::QuickTime => "mov",
            MediaType::Webm => "webm",
            MediaType::Matroska => "mkv",
            MediaType::Pdf => "pdf",
        }
    }

    pub fn category(self) -> MediaCategory {
        match self {
            MediaType::Jpeg | MediaType::Png | MediaType::Webp | MediaType::Gif => {
                MediaCategory::Image
            }
            MediaType::Mp4 | MediaType::QuickTime | MediaType::Webm | MediaType::Matroska => {
                MediaCategory::Video
            }
            MediaType::Pdf => MediaCategory::Document,
        }
    }
}

impl MediaCategory {
    pub fn describe(self) -> &'static str {
        match self {
            MediaCategory::Image => "an image (JPEG, PNG, WebP or GIF)",
            MediaCategory::Video => "a video (MP4, QuickTime, WebM or Matroska)",
            MediaCategory::Document => "a PDF document",
        }
    }
}

/// A received file, already checked for size and type, waiting in the upload spool.
/// Whoever spooled it owns the file and removes it; a store only reads it.
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

/// The longest a video may be believed to last. A store reads the length from the file, which
/// can claim anything (1.8e16 s has been seen); a length over this, or not positive and finite,
/// counts as unknown.
pub const MAX_VIDEO_SECONDS: f64 = 24.0 * 3600.0;

/// `seconds` when it is a length a video can have (see `MAX_VIDEO_SECONDS`).
pub fn plausible_duration(seconds: Option<f64>) -> Option<f64> {
    seconds.filter(|s| s.is_finite() && *s > 0.0 && *s <= MAX_VIDEO_SECONDS)
}

/// What storing a file gave: where it is, and for a video its length when the store could tell.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub media: StoredMedia,
    pub duration_seconds: Option<f64>,
}

/// What probing a video file found (ffprobe, in `videotube-infra`).
#[derive(Debug, Clone, PartialEq)]
pub struct VideoProbe {
    pub duration_seconds: Option<f64>,
    /// The first video stream; `None` for a file with sound or pictures only (an attached cover
    /// picture is not a video stream).
    pub video: Option<VideoStreamInfo>,
    /// The first audio stream's codec.
    pub audio_codec: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoStreamInfo {
    pub codec: String,
    /// As coded, before rotation.
    pub width: u32,
    pub height: u32,
    /// Degrees a player turns the picture (counter-clockwise), from the file's display matrix:
    /// a phone's portrait video is often coded landscape with a rotation of 90 or -90.
    pub rotation: i32,
}

impl VideoStreamInfo {
    /// Width and height as the video is shown, rotation applied.
    pub fn displayed_size(&self) -> (u32, u32) {
        if self.rotation.rem_euclid(180) == 90 {
            (self.height, self.width)
        } else {
            (self.width, self.height)
        }
    }
}

/// One rung of an adaptive-streaming ladder: H.264 video at this size and rate, AAC sound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendition {
    /// Its name in the package ("720p": the shorter side, whatever the orientation).
    pub name: String,
    /// Even, as H.264 in 4:2:0 needs.
    pub width: u32,
    pub height: u32,
    pub video_kbps: u32,
    pub audio_kbps: u32,
}

/// The rungs by their shorter side, highest first, with rates close to Apple's HLS authoring
/// figures for H.264.
const RUNGS: [(u32, u32, u32); 4] = [
    (1080, 5000, 128),
    (720, 2800, 128),
    (480, 1400, 96),
    (240, 400, 64),
];

/// The renditions for a source shown `width`×`height`: the rungs no larger than it (scaling up
/// adds bytes, not detail), its aspect ratio kept; a source under the lowest rung gets one
/// rendition of its own size.
pub fn hls_ladder(width: u32, height: u32) -> Vec<Rendition> {
    let even = |x: u64| (x.max(2) / 2 * 2) as u32;
    let (short, long) = (width.min(height).max(2), width.max(height).max(2));
    let sized = |lines: u32, video_kbps, audio_kbps| {
        let other = even(u64::from(long) * u64::from(lines) / u64::from(short));
        let (w, h) = if width >= height {
            (other, even(lines.into()))
        } else {
            (even(lines.into()), other)
        };
        Rendition {
            name: format!("{lines}p"),
            width: w,
            height: h,
            video_kbps,
            audio_kbps,
        }
    };
    let ladder: Vec<Rendition> = RUNGS
        .iter()
        .filter(|(lines, _, _)| *lines <= short)
        .map(|&(lines, video, audio)| sized(lines, video, audio))
        .collect();
    if ladder.is_empty() {
        let (_, video, audio) = RUNGS[RUNGS.len() - 1];
        vec![sized(short, video, audio)]
    } else {
        ladder
    }
}

/// What a client may upload straight to the media store (a Cloudinary signed upload), signed by
/// the server for a folder of the server's choosing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadGrant {
    pub cloud_name: String,
    pub api_key: String,
    pub timestamp: i64,
    pub signature: String,
    pub folder: String,
    pub resource_type: &'static str,
}

/// What the media store answered a client's direct upload, as the client reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectUploadReport {
    pub public_id: String,
    pub version: String,
    pub signature: String,
    pub secure_url: String,
    pub resource_type: String,
    pub duration_seconds: Option<f64>,
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
    Videos,
    Thumbnails,
    /// HLS packages: a directory per video (`streams/<name>/master.m3u8`, a playlist and
    /// segments per rendition).
    Streams,
    /// Documents attached to videos.
    Attachments,
}

impl MediaFolder {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaFolder::Avatars => "avatars",
            MediaFolder::CoverImages => "covers",
            MediaFolder::Videos => "videos",
            MediaFolder::Thumbnails => "thumbnails",
            MediaFolder::Streams => "streams",
            MediaFolder::Attachments => "attachments",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [
            MediaFolder::Avatars,
            MediaFolder::CoverImages,
            MediaFolder::Videos,
            MediaFolder::Thumbnails,
            MediaFolder::Streams,
            MediaFolder::Attachments,
        ]
        .into_iter()
        .find(|folder| folder.as_str() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ladder_stops_at_the_source_and_keeps_its_shape() {
        let sizes = |ladder: Vec<Rendition>| {
            ladder
                .into_iter()
                .map(|r| (r.name, r.width, r.height))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            sizes(hls_ladder(1280, 720)),
            [
                ("720p".into(), 1280, 720),
                ("480p".into(), 852, 480),
                ("240p".into(), 426, 240)
            ]
        );
        // Portrait: the rung names the width.
        assert_eq!(
            sizes(hls_ladder(1080, 1920))[0],
            ("1080p".into(), 1080, 1920)
        );
        assert_eq!(hls_ladder(3840, 2160).len(), 4, "nothing above 1080p");
        // Smaller than the lowest rung: its own size, made even.
        assert_eq!(sizes(hls_ladder(175, 121)), [("121p".into(), 174, 120)]);
        assert_eq!(sizes(hls_ladder(0, 0)), [("2p".into(), 2, 2)]);
    }

    #[test]
    fn a_quarter_turned_video_is_shown_with_width_and_height_swapped() {
        let stream = |rotation| VideoStreamInfo {
            codec: "h264".into(),
            width: 1920,
            height: 1080,
            rotation,
        };
        for rotation in [90, -90, 270, -270] {
            assert_eq!(
                stream(rotation).displayed_size(),
                (1080, 1920),
                "{rotation}"
            );
        }
        for rotation in [0, 180, -180] {
            assert_eq!(
                stream(rotation).displayed_size(),
                (1920, 1080),
                "{rotation}"
            );
        }
    }

    #[test]
    fn only_lengths_a_video_can_have_are_believed() {
        for claimed in [Some(5.0), Some(MAX_VIDEO_SECONDS)] {
            assert_eq!(plausible_duration(claimed), claimed);
        }
        for claimed in [
            None,
            Some(0.0),
            Some(-1.0),
            Some(f64::NAN),
            Some(f64::INFINITY),
            Some(1.8e16),
        ] {
            assert_eq!(plausible_duration(claimed), None, "{claimed:?}");
        }
    }
}
