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

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::multipart::{Form, Part};
use reqwest::{Response, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use videotube_domain::media::{
    DirectUploadReport, MediaCategory, MediaFolder, Stored, StoredMedia, UploadGrant, UploadedFile,
};
use videotube_domain::ports::{DirectUploadError, DirectUploads, MediaStore, MediaStoreError};
use videotube_domain::{BoxError, Id};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureAlgorithm {
    Sha1,
    Sha256,
}

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

/// Cloudinary's request signature: the parameters (all but file, cloud_name, resource_type and
/// api_key) sorted by name, joined as `k=v` with `&`, the secret appended, hashed, in hex.
pub fn sign(
    params: &BTreeMap<&str, String>,
    secret: &str,
    algorithm: SignatureAlgorithm,
) -> String {
    let mut payload = params
        .iter()
        .filter(|(k, _)| !matches!(**k, "file" | "cloud_name" | "resource_type" | "api_key"))
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    payload.push_str(secret);
    match algorithm {
        SignatureAlgorithm::Sha1 => hex::encode(Sha1::digest(payload.as_bytes())),
        SignatureAlgorithm::Sha256 => hex::encode(Sha256::digest(payload.as_bytes())),
    }
}

pub struct CloudinaryStore {
    config: CloudinaryConfig,
    http: reqwest::Client,
}

#[derive(Debug, Deserialize)]
struct UploadResult {
    secure_url: String,
    public_id: String,
    resource_type: String,
    /// Seconds, for videos.
    duration: Option<f64>,
}

/// What `rename` answers about the asset in its new place.
#[derive(Debug, Deserialize)]
struct RenameResult {
    public_id: String,
    version: u64,
    format: String,
    secure_url: String,
}

#[derive(Debug, Deserialize)]
struct DestroyResult {
    result: String,
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: ErrorMessage,
}

#[derive(Debug, Deserialize)]
struct ErrorMessage {
    message: String,
}

/// The delivery type anyone may fetch.
const PUBLIC_DELIVERY: &str = "upload";
/// The delivery type whose URLs must be signed with the API secret.
const SIGNED_DELIVERY: &str = "authenticated";

/// The delivery type named in a delivery URL (`https://res.cloudinary.com/<cloud>/<resource
/// type>/<type>/…`): `upload` unless it says `authenticated`, as for every URL the original
/// backend stored.
fn delivery_type(url: &str) -> &'static str {
    let named = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split('/').nth(3));
    if named == Some(SIGNED_DELIVERY) {
        SIGNED_DELIVERY
    } else {
        PUBLIC_DELIVERY
    }
}

fn resource_type(category: MediaCategory) -> &'static str {
    match category {
        MediaCategory::Image => "image",
        MediaCategory::Video => "video",
    }
}

impl CloudinaryStore {
    pub fn new(config: CloudinaryConfig) -> Result<Self, BoxError> {
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(config.request_timeout.min(Duration::from_secs(10)))
            .build()?;
        Ok(Self { config, http })
    }

    fn endpoint(&self, resource_type: &str, action: &str) -> String {
        format!(
            "{}/v1_1/{}/{resource_type}/{action}",
            self.config.api_base.trim_end_matches('/'),
            self.config.cloud_name
        )
    }

    /// An `authenticated` delivery URL, signed as Cloudinary's SDKs sign one (`sign_url`):
    /// `s--<signature>--`, the first 8 characters of the URL-safe base64 digest of what follows
    /// the version (here `<public id>.<format>`) with the API secret appended.
    fn signed_url(
        &self,
        resource_type: &str,
        public_id: &str,
        format: &str,
        version: u64,
    ) -> String {
        use base64::Engine as _;
        let signed = format!(
            "{public_id}.{format}{}",
            self.config.api_secret.expose_secret()
        );
        let digest = match self.config.signature_algorithm {
            SignatureAlgorithm::Sha1 => Sha1::digest(signed.as_bytes()).to_vec(),
            SignatureAlgorithm::Sha256 => Sha256::digest(signed.as_bytes()).to_vec(),
        };
        let signature = base64::engine::general_purpose::URL_SAFE.encode(digest);
        format!(
            "https://res.cloudinary.com/{}/{resource_type}/{SIGNED_DELIVERY}/s--{}--/v{version}/{public_id}.{format}",
            self.config.cloud_name,
            &signature[..8],
        )
    }

    /// The signed form fields of a request, every one of them as text.
    fn signed(&self, mut params: BTreeMap<&'static str, String>) -> BTreeMap<&'static str, String> {
        params.insert("timestamp", chrono::Utc::now().timestamp().to_string());
        if self.config.signature_algorithm == SignatureAlgorithm::Sha256 {
            params.insert("signature_algorithm", "sha256".into());
        }
        let signature = sign(
            &params,
            self.config.api_secret.expose_secret(),
            self.config.signature_algorithm,
        );
        params.insert("signature", signature);
        params.insert("api_key", self.config.api_key.clone());
        params
    }

    /// Sends the request `build` makes, again with backoff while the failure is transient
    /// (network, timeout, 420, 429, 5xx); other answers come back as they are. Each attempt
    /// builds its request anew, because a streamed file body can be sent only once.
    async fn send<F, Fut>(&self, what: &str, build: F) -> Result<Response, MediaStoreError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<reqwest::RequestBuilder, MediaStoreError>>,
    {
        let attempts = self.config.max_attempts.max(1);
        let mut delay = self.config.backoff;
        for n in 1..=attempts {
            let last = n == attempts;
            match build().await?.send().await {
                Ok(res) if !is_transient(res.status()) || last => return Ok(res),
                Ok(res) => {
                    tracing::warn!(status = %res.status(), attempt = n, "cloudinary {what}: retrying")
                }
                Err(err) if last => return Err(MediaStoreError::Unavailable(Box::new(err))),
                Err(err) => {
                    tracing::warn!(error = %err, attempt = n, "cloudinary {what}: retrying")
                }
            }
            tokio::time::sleep(delay).await;
            delay *= 2;
        }
        unreachable!("the last attempt returns")
    }
}

fn is_transient(status: StatusCode) -> bool {
    status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS || status.as_u16() == 420
}

fn form_with_file(params: &BTreeMap<&'static str, String>, file: Part) -> Form {
    params
        .iter()
        .fold(Form::new(), |form, (k, v)| form.text(*k, v.clone()))
        .part("file", file)
}

/// `len` bytes of the file from `offset`, streamed (never read whole into memory).
async fn file_part(path: &Path, offset: u64, len: u64) -> Result<Part, MediaStoreError> {
    let mut file = tokio::fs::File::open(path).await.map_err(io_failed)?;
    file.seek(std::io::SeekFrom::Start(offset))
        .await
        .map_err(io_failed)?;
    let stream = tokio_util::io::ReaderStream::new(file.take(len));
    Ok(Part::stream_with_length(reqwest::Body::wrap_stream(stream), len).file_name("upload"))
}

fn io_failed(err: std::io::Error) -> MediaStoreError {
    MediaStoreError::Failed(Box::new(err))
}

/// Turns Cloudinary's answer into the result; its `{"error":{"message"}}` is kept for the log.
async fn parse<T: serde::de::DeserializeOwned>(res: Response) -> Result<T, MediaStoreError> {
    let status = res.status();
    let body = res
        .bytes()
        .await
        .map_err(|e| MediaStoreError::Unavailable(Box::new(e)))?;
    if status.is_success() {
        return serde_json::from_slice(&body).map_err(|e| MediaStoreError::Failed(Box::new(e)));
    }
    let message = serde_json::from_slice::<ErrorBody>(&body)
        .map(|b| b.error.message)
        .unwrap_or_else(|_| String::from_utf8_lossy(&body).chars().take(200).collect());
    tracing::error!(%status, %message, "cloudinary refused the request");
    let err = Box::new(CloudinaryError { status, message });
    Err(if is_transient(status) {
        MediaStoreError::Unavailable(err)
    } else {
        MediaStoreError::Failed(err)
    })
}

#[async_trait]
impl MediaStore for CloudinaryStore {
    async fn store(
        &self,
        file: &UploadedFile,
        folder: MediaFolder,
        name: Option<&str>,
    ) -> Result<Stored, MediaStoreError> {
        let resource_type = resource_type(file.media_type.category());
        let url = self.endpoint(resource_type, "upload");
        let name = match name {
            Some(name) => name.to_owned(),
            None => crate::unguessable_name(),
        };
        let public_id = format!("{}/{}/{name}", self.config.root_folder, folder.as_str());
        let params = self.signed(BTreeMap::from([
            ("public_id", public_id),
            ("overwrite", "true".to_owned()),
        ]));
        let response = if file.size <= self.config.chunk_threshold {
            self.send("upload", || async {
                let part = file_part(&file.path, 0, file.size).await?;
                Ok(self
                    .http
                    .post(&url)
                    .multipart(form_with_file(&params, part)))
            })
            .await?
        } else {
            self.upload_chunked(file, &params, &url).await?
        };
        let result: UploadResult = parse(response).await?;
        Ok(Stored {
            media: StoredMedia {
                url: result.secure_url,
                asset_id: format!("{}/{}", result.resource_type, result.public_id),
            },
            duration_seconds: result.duration,
        })
    }

    fn fresh_name(&self) -> String {
        crate::unguessable_name()
    }

    async fn delete(&self, media: &StoredMedia) -> Result<(), MediaStoreError> {
        let Some((resource_type, public_id)) = media.asset_id.split_once('/') else {
            tracing::warn!(asset = %media.asset_id, "not a Cloudinary asset id; nothing to delete");
            return Ok(());
        };
        let url = self.endpoint(resource_type, "destroy");
        let params = self.signed(BTreeMap::from([
            ("public_id", public_id.to_owned()),
            ("type", delivery_type(&media.url).to_owned()),
            ("invalidate", "true".into()),
        ]));
        let res = self
            .send("destroy", || async {
                Ok(self.http.post(&url).form(&params))
            })
            .await?;
        let result: DestroyResult = parse(res).await?;
        match result.result.as_str() {
            "ok" | "not found" => Ok(()),
            other => Err(MediaStoreError::Failed(
                format!("destroy answered `{other}`").into(),
            )),
        }
    }

    async fn set_public(
        &self,
        media: &StoredMedia,
        public: bool,
    ) -> Result<StoredMedia, MediaStoreError> {
        let from = delivery_type(&media.url);
        let to = if public {
            PUBLIC_DELIVERY
        } else {
            SIGNED_DELIVERY
        };
        if from == to {
            return Ok(media.clone());
        }
        let Some((resource_type, public_id)) = media.asset_id.split_once('/') else {
            tracing::warn!(asset = %media.asset_id, "not a Cloudinary asset id; its delivery stays as it is");
            return Ok(media.clone());
        };
        let url = self.endpoint(resource_type, "rename");
        let params = self.signed(BTreeMap::from([
            ("from_public_id", public_id.to_owned()),
            ("to_public_id", public_id.to_owned()),
            ("type", from.to_owned()),
            ("to_type", to.to_owned()),
            ("invalidate", "true".into()),
        ]));
        let res = self
            .send("rename", || async {
                Ok(self.http.post(&url).form(&params))
            })
            .await?;
        let moved: RenameResult = parse(res).await?;
        let url = if public {
            moved.secure_url
        } else {
            self.signed_url(
                resource_type,
                &moved.public_id,
                &moved.format,
                moved.version,
            )
        };
        Ok(StoredMedia {
            url,
            asset_id: media.asset_id.clone(),
        })
    }
}

impl CloudinaryStore {
    /// Cloudinary's chunked upload: every chunk is a signed request to the same URL with one
    /// `X-Unique-Upload-Id` and its `Content-Range`; the last is sent after all others succeeded,
    /// and its answer describes the whole asset.
    async fn upload_chunked(
        &self,
        file: &UploadedFile,
        params: &BTreeMap<&'static str, String>,
        url: &str,
    ) -> Result<Response, MediaStoreError> {
        let upload_id = uuid::Uuid::new_v4().simple().to_string();
        let chunk = self.config.chunk_size.max(5 * 1024 * 1024);
        let total = file.size;
        let mut start = 0;
        loop {
            let end = (start + chunk).min(total);
            let len = end - start;
            let range = format!("bytes {start}-{}/{total}", end - 1);
            let response = self
                .send("chunk", || async {
                    let part = file_part(&file.path, start, len).await?;
                    Ok(self
                        .http
                        .post(url)
                        .header("X-Unique-Upload-Id", &upload_id)
                        .header("Content-Range", &range)
                        .multipart(form_with_file(params, part)))
                })
                .await?;
            if end == total || !response.status().is_success() {
                return Ok(response);
            }
            start = end;
        }
    }
}

impl CloudinaryStore {
    fn user_folder(&self, owner: Id) -> String {
        format!("{}/users/{owner}", self.config.root_folder)
    }
}

impl DirectUploads for CloudinaryStore {
    fn grant(&self, owner: Id, kind: MediaCategory) -> UploadGrant {
        let timestamp = chrono::Utc::now().timestamp();
        let folder = self.user_folder(owner);
        let params = BTreeMap::from([
            ("folder", folder.clone()),
            ("timestamp", timestamp.to_string()),
        ]);
        UploadGrant {
            cloud_name: self.config.cloud_name.clone(),
            api_key: self.config.api_key.clone(),
            timestamp,
            signature: sign(
                &params,
                self.config.api_secret.expose_secret(),
                self.config.signature_algorithm,
            ),
            folder,
            resource_type: resource_type(kind),
        }
    }

    fn verify(
        &self,
        owner: Id,
        kind: MediaCategory,
        report: &DirectUploadReport,
    ) -> Result<Stored, DirectUploadError> {
        // Cloudinary signs its answer with `public_id` and `version`, like a request.
        let params = BTreeMap::from([
            ("public_id", report.public_id.clone()),
            ("version", report.version.clone()),
        ]);
        let expected = sign(
            &params,
            self.config.api_secret.expose_secret(),
            self.config.signature_algorithm,
        );
        if !constant_time_eq(
            expected.as_bytes(),
            report.signature.to_ascii_lowercase().as_bytes(),
        ) {
            return Err(DirectUploadError::BadSignature);
        }
        let in_folder = report
            .public_id
            .strip_prefix(&self.user_folder(owner))
            .is_some_and(|rest| rest.starts_with('/') && !rest.contains(".."));
        if !in_folder {
            return Err(DirectUploadError::ForeignFolder);
        }
        let expected_type = resource_type(kind);
        if report.resource_type != expected_type {
            return Err(DirectUploadError::WrongKind(match kind {
                MediaCategory::Image => "an image",
                MediaCategory::Video => "a video",
            }));
        }
        let delivery = format!(
            "https://res.cloudinary.com/{}/{expected_type}/upload/",
            self.config.cloud_name
        );
        if !report.secure_url.starts_with(&delivery)
            || !report.secure_url.contains(&report.public_id)
        {
            return Err(DirectUploadError::ForeignUrl);
        }
        Ok(Stored {
            media: StoredMedia {
                url: report.secure_url.clone(),
                asset_id: format!("{expected_type}/{}", report.public_id),
            },
            duration_seconds: report
                .duration_seconds
                .filter(|d| d.is_finite() && *d >= 0.0),
        })
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_the_published_test_vector() {
        let params = BTreeMap::from([
            ("eager", "w_400,h_300,c_pad|w_260,h_200,c_crop".to_owned()),
            ("public_id", "sample_image".to_owned()),
            ("timestamp", "1315060510".to_owned()),
            // Never signed:
            ("api_key", "1234".to_owned()),
            ("file", "x".to_owned()),
        ]);
        assert_eq!(
            sign(&params, "abcd", SignatureAlgorithm::Sha1),
            "bfd09f95f331f558cbd1320e67aa8d488770583e"
        );
        assert_eq!(sign(&params, "abcd", SignatureAlgorithm::Sha256).len(), 64);
    }

    fn store() -> CloudinaryStore {
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
        })
        .unwrap()
    }

    fn report(owner: Id) -> DirectUploadReport {
        let public_id = format!("videotube/users/{owner}/clip");
        let signed = BTreeMap::from([
            ("public_id", public_id.clone()),
            ("version", "1700000000".to_owned()),
        ]);
        DirectUploadReport {
            signature: sign(&signed, "abcd", SignatureAlgorithm::Sha1),
            secure_url: format!(
                "https://res.cloudinary.com/demo/video/upload/v1700000000/{public_id}.mp4"
            ),
            public_id,
            version: "1700000000".into(),
            resource_type: "video".into(),
            duration_seconds: Some(42.0),
        }
    }

    #[test]
    fn grants_sign_the_callers_folder_and_timestamp() {
        let owner: Id = "65a1b2c3d4e5f60718293a4b".parse().unwrap();
        let grant = store().grant(owner, MediaCategory::Video);
        assert_eq!(grant.folder, format!("videotube/users/{owner}"));
        assert_eq!(grant.resource_type, "video");
        let signed = BTreeMap::from([
            ("folder", grant.folder.clone()),
            ("timestamp", grant.timestamp.to_string()),
        ]);
        assert_eq!(
            grant.signature,
            sign(&signed, "abcd", SignatureAlgorithm::Sha1)
        );
    }

    #[test]
    fn verifies_direct_uploads() {
        let store = store();
        let owner: Id = "65a1b2c3d4e5f60718293a4b".parse().unwrap();
        let other: Id = "65a1b2c3d4e5f60718293a4c".parse().unwrap();
        let stored = store
            .verify(owner, MediaCategory::Video, &report(owner))
            .unwrap();
        assert_eq!(
            stored.media.asset_id,
            format!("video/videotube/users/{owner}/clip")
        );
        assert_eq!(stored.duration_seconds, Some(42.0));

        let mut forged = report(owner);
        forged.signature = "0".repeat(40);
        assert_eq!(
            store.verify(owner, MediaCategory::Video, &forged),
            Err(DirectUploadError::BadSignature)
        );
        let mut tampered = report(owner);
        tampered.version = "1700000001".into();
        assert_eq!(
            store.verify(owner, MediaCategory::Video, &tampered),
            Err(DirectUploadError::BadSignature)
        );
        assert_eq!(
            store.verify(other, MediaCategory::Video, &report(owner)),
            Err(DirectUploadError::ForeignFolder)
        );
        assert!(matches!(
            store.verify(owner, MediaCategory::Image, &report(owner)),
            Err(DirectUploadError::WrongKind(_))
        ));
        let mut elsewhere = report(owner);
        elsewhere.secure_url = "https://evil.example/clip.mp4".into();
        assert_eq!(
            store.verify(owner, MediaCategory::Video, &elsewhere),
            Err(DirectUploadError::ForeignUrl)
        );
    }

    #[test]
    fn signs_delivery_urls_as_the_sdks_do() {
        // The SDKs' own test: `url("image.jpg", {version: 1234, sign_url: true})` with the API
        // secret `b` gives `s----SjmNDA--`.
        let mut config = store().config;
        config.api_secret = "b".to_owned().into();
        let store = CloudinaryStore::new(config).unwrap();
        assert_eq!(
            store.signed_url("image", "image", "jpg", 1234),
            "https://res.cloudinary.com/demo/image/authenticated/s----SjmNDA--/v1234/image.jpg"
        );
    }

    #[test]
    fn reads_the_delivery_type_from_urls() {
        for (url, expected) in [
            (
                "https://res.cloudinary.com/demo/video/upload/v1/a/b.mp4",
                "upload",
            ),
            (
                "https://res.cloudinary.com/demo/video/authenticated/s--x--/v1/b.mp4",
                "authenticated",
            ),
            (
                "http://res.cloudinary.com/demo/image/upload/b.png",
                "upload",
            ),
            ("/media/videos/b.mp4", "upload"),
            ("", "upload"),
        ] {
            assert_eq!(delivery_type(url), expected, "{url}");
        }
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
