//! Requests to Cloudinary: signed, retried with backoff while the failure is transient, and
//! their answers parsed (errors kept for the log).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use reqwest::multipart::{Form, Part};
use reqwest::{Response, StatusCode};
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use videotube_domain::ports::MediaStoreError;
use videotube_domain::BoxError;

use super::*;

#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: ErrorMessage,
}

#[derive(Debug, Deserialize)]
struct ErrorMessage {
    message: String,
}

impl CloudinaryStore {
    pub fn new(config: CloudinaryConfig) -> Result<Self, BoxError> {
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(config.request_timeout.min(Duration::from_secs(10)))
            .build()?;
        Ok(Self { config, http })
    }

    pub(super) fn endpoint(&self, resource_type: &str, action: &str) -> String {
        format!(
            "{}/v1_1/{}/{resource_type}/{action}",
            self.config.api_base.trim_end_matches('/'),
            self.config.cloud_name
        )
    }

    /// Sends the request `build` makes, again with backoff while the failure is transient
    /// (network, timeout, 420, 429, 5xx); other answers come back as they are. Each attempt
    /// builds its request anew, because a streamed file body can be sent only once.
    pub(super) async fn send<F, Fut>(
        &self,
        what: &str,
        build: F,
    ) -> Result<Response, MediaStoreError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<reqwest::RequestBuilder, MediaStoreError>>,
    {
        let attempts = self.config.max_attempts.max(1);
        let mut delay = self.config.backoff;
        for n in 1..attempts {
            match build().await?.send().await {
                Ok(res) if !is_transient(res.status()) => return Ok(res),
                Ok(res) => {
                    tracing::warn!(status = %res.status(), attempt = n, "cloudinary {what}: retrying")
                }
                Err(err) => {
                    tracing::warn!(error = %err, attempt = n, "cloudinary {what}: retrying")
                }
            }
            tokio::time::sleep(delay).await;
            delay *= 2;
        }
        // The last attempt's answer is the answer, transient or not.
        build()
            .await?
            .send()
            .await
            .map_err(|err| MediaStoreError::Unavailable(Box::new(err)))
    }
}

fn is_transient(status: StatusCode) -> bool {
    status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS || status.as_u16() == 420
}

pub(super) fn form_with_file(params: &BTreeMap<&'static str, String>, file: Part) -> Form {
    params
        .iter()
        .fold(Form::new(), |form, (k, v)| form.text(*k, v.clone()))
        .part("file", file)
}

/// `len` bytes of the file from `offset`, streamed (never read whole into memory).
pub(super) async fn file_part(path: &Path, offset: u64, len: u64) -> Result<Part, MediaStoreError> {
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
pub(super) async fn parse<T: serde::de::DeserializeOwned>(
    res: Response,
) -> Result<T, MediaStoreError> {
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
