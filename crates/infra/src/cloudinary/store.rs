//! Cloudinary as a `MediaStore`: uploads (chunked above a threshold), moves between delivery
//! types, destroy.

use std::collections::BTreeMap;

use async_trait::async_trait;
use reqwest::Response;
use serde::Deserialize;
use videotube_domain::media::{MediaFolder, Stored, StoredMedia, UploadedFile};
use videotube_domain::ports::{MediaStore, MediaStoreError};

use super::client::{file_part, form_with_file, parse};
use super::signing::{delivery_type, PUBLIC_DELIVERY, SIGNED_DELIVERY};
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
    format: String,
    secure_url: String,
}

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
