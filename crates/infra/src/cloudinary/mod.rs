//! Cloudinary as a `MediaStore`: signed uploads (chunked above a threshold, streamed from disk),
//! destroy, retries with backoff on transient failures only.
//!
//! Files of public videos, avatars and covers use Cloudinary's public delivery type (`upload`).
//! The files of a video that is not public move to `authenticated` delivery (the Upload API's
//! `rename` with `to_type`, which also invalidates the CDN's copies), whose URLs carry a
//! signature only this server can make: only the owner is ever given one. Such a URL does not
//! expire (that takes Cloudinary's token authentication, a paid add-on), but it stops working
//! when the video goes public and its files move back, and an old public URL stops working when
//! the video is hidden.

mod client;
mod direct;
mod signing;
mod store;

use std::time::Duration;

use reqwest::StatusCode;
use secrecy::SecretString;
use videotube_domain::media::MediaCategory;

pub use signing::{sign, SignatureAlgorithm};

#[derive(Debug, Clone)]
pub struct CloudinaryConfig {
    pub cloud_name: String,
    pub api_key: String,
    pub api_secret: SecretString,
    /// `https://api.cloudinary.com`; tests point it at a fake.
    pub api_base: String,
    /// Top folder of every asset, e.g. `videotube`.
    pub root_folder: String,
    pub signature_algorithm: SignatureAlgorithm,
    /// Files larger than this go up in chunks.
    pub chunk_threshold: u64,
    /// At least 5 MiB, as Cloudinary requires of every chunk but the last.
    pub chunk_size: u64,
    pub request_timeout: Duration,
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    pub backoff: Duration,
    /// The streaming profile (`auto`, `hd`, …) of the HLS stream Cloudinary makes of every
    /// video; `None`: no streams.
    pub streaming_profile: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("cloudinary answered {status}: {message}")]
pub struct CloudinaryError {
    pub status: StatusCode,
    pub message: String,
}

/// `CLOUDINARY_URL`: `cloudinary://<api_key>:<api_secret>@<cloud_name>`.
pub fn parse_cloudinary_url(url: &str) -> Option<(String, String, SecretString)> {
    let rest = url.trim().strip_prefix("cloudinary://")?;
    let (credentials, cloud_name) = rest.rsplit_once('@')?;
    let (api_key, api_secret) = credentials.split_once(':')?;
    let cloud_name = cloud_name.split(['/', '?']).next()?;
    if api_key.is_empty() || api_secret.is_empty() || cloud_name.is_empty() {
        return None;
    }
    Some((
        cloud_name.to_owned(),
        api_key.to_owned(),
        api_secret.to_owned().into(),
    ))
}

pub struct CloudinaryStore {
    config: CloudinaryConfig,
    http: reqwest::Client,
}

fn resource_type(category: MediaCategory) -> &'static str {
    match category {
        MediaCategory::Image => "image",
        MediaCategory::Video => "video",
        // Cloudinary keeps anything but images and videos as `raw` files, delivered as they are.
        MediaCategory::Document => "raw",
    }
}

#[cfg(test)]
pub(super) mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    pub(super) fn store() -> CloudinaryStore {
        CloudinaryStore::new(CloudinaryConfig {
            cloud_name: "demo".into(),
            api_key: "key".into(),
            api_secret: "abcd".to_owned().into(),
            api_base: "http://127.0.0.1:9".into(),
            root_folder: "videotube".into(),
            signature_algorithm: SignatureAlgorithm::Sha1,
            chunk_threshold: 1,
            chunk_size: 1,
            request_timeout: Duration::from_secs(1),
            max_attempts: 1,
            backoff: Duration::ZERO,
            streaming_profile: None,
        })
        .unwrap()
    }

    #[test]
    fn parses_cloudinary_urls() {
        let (cloud, key, secret) =
            parse_cloudinary_url("cloudinary://123456:abc-DEF@demo").unwrap();
        assert_eq!(
            (cloud.as_str(), key.as_str(), secret.expose_secret()),
            ("demo", "123456", "abc-DEF")
        );
        for bad in [
            "",
            "https://x",
            "cloudinary://key@demo",
            "cloudinary://:s@demo",
            "cloudinary://k:s@",
        ] {
            assert!(parse_cloudinary_url(bad).is_none(), "{bad}");
        }
    }
}
