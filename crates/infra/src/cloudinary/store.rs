//! Cloudinary as a `MediaStore`: uploads (chunked above a threshold), moves between delivery
//! types, destroy.

use std::collections::BTreeMap;

use async_trait::async_trait;
use reqwest::Response;
use secrecy::ExposeSecret;
use serde::Deserialize;
use videotube_domain::media::{MediaCategory, MediaFolder, Stored, StoredMedia, UploadedFile};
use videotube_domain::ports::{MediaStore, MediaStoreError};

use super::client::{file_part, form_with_file, parse};
use super::signing::{delivery_type, in_public_delivery, PUBLIC_DELIVERY, SIGNED_DELIVERY};
use super::*;

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
    /// Absent for raw files, whose public id is their whole name.
    #[serde(default)]
    format: String,
    secure_url: String,
}

/// The Admin API's description of an asset: what matters here is its derived assets.
#[derive(Debug, Deserialize)]
struct ResourceDetails {
    #[serde(default)]
    derived: Vec<DerivedAsset>,
}

#[derive(Debug, Deserialize)]
struct DerivedAsset {
    transformation: String,
    format: String,
    secure_url: String,
}

/// Separates a video's asset id from the transformation in the asset id of its stream: no
/// Cloudinary public id contains `#`.
const DERIVED_MARK: char = '#';

#[derive(Debug, Deserialize)]
struct DestroyResult {
    result: String,
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
        let mut name = match name {
            Some(name) => name.to_owned(),
            None => crate::unguessable_name(),
        };
        if file.media_type.category() == MediaCategory::Document {
            // A raw file's public id is its whole name: delivered with its extension, a PDF
            // opens as one.
            name = format!("{name}.{}", file.media_type.extension());
        }
        let public_id = format!("{}/{}/{name}", self.config.root_folder, folder.as_str());
        let mut params =
            BTreeMap::from([("public_id", public_id), ("overwrite", "true".to_owned())]);
        if let (MediaFolder::Videos, Some(stream)) = (folder, self.stream_transformation()) {
            // Made in the background: Cloudinary refuses eager video transformations made while
            // the upload waits, above a size.
            params.insert("eager", stream);
            params.insert("eager_async", "true".to_owned());
        }
        let params = self.signed(params);
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
        if media.asset_id.contains(DERIVED_MARK) {
            // A stream, destroyed with its video (`destroy` takes the derived assets along).
            return Ok(());
        }
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

    fn makes_streams(&self) -> bool {
        self.config.streaming_profile.is_some()
    }

    /// Asks the Admin API for the video's derived assets (`GET resources/video/<type>/<id>`,
    /// basic auth): the stream is there once Cloudinary has made it. Its URL is recorded in its
    /// public form, whatever the video's delivery is now: it is shown only while the video is
    /// public, when the video's file, and the stream derived from it, are in public delivery.
    async fn made_stream(
        &self,
        video: &StoredMedia,
    ) -> Result<Option<StoredMedia>, MediaStoreError> {
        let Some(transformation) = self.stream_transformation() else {
            return Ok(None);
        };
        let Some((resource_type, public_id)) = video.asset_id.split_once('/') else {
            return Ok(None);
        };
        let url = format!(
            "{}/v1_1/{}/resources/{resource_type}/{}/{public_id}",
            self.config.api_base.trim_end_matches('/'),
            self.config.cloud_name,
            delivery_type(&video.url),
        );
        let res = self
            .send("resource details", || async {
                Ok(self.http.get(&url).basic_auth(
                    &self.config.api_key,
                    Some(self.config.api_secret.expose_secret()),
                ))
            })
            .await?;
        let details: ResourceDetails = parse(res).await?;
        Ok(details
            .derived
            .into_iter()
            // The Admin API names the transformation with its format (`sp_auto/m3u8`), as it was
            // asked for; taken without it too.
            .find(|derived| {
                derived.format == "m3u8"
                    && derived.transformation.trim_end_matches("/m3u8")
                        == transformation.trim_end_matches("/m3u8")
            })
            .map(|derived| StoredMedia {
                url: in_public_delivery(&derived.secure_url),
                asset_id: format!("{}{DERIVED_MARK}{transformation}", video.asset_id),
            }))
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
            let name = match moved.format.as_str() {
                "" => moved.public_id,
                format => format!("{}.{format}", moved.public_id),
            };
            self.signed_url(resource_type, &name, moved.version)
        };
        Ok(StoredMedia {
            url,
            asset_id: media.asset_id.clone(),
        })
    }
}

impl CloudinaryStore {
    /// The eager transformation that makes a video's HLS stream, if streams are made.
    fn stream_transformation(&self) -> Option<String> {
        let profile = self.config.streaming_profile.as_deref()?;
        Some(format!("sp_{profile}/m3u8"))
    }

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
