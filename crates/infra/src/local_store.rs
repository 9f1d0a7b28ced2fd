use std::io;
use std::path::{Component, Path, PathBuf};

use async_trait::async_trait;
use videotube_domain::media::{MediaFolder, StoredMedia, UploadedFile};
use videotube_domain::ports::{MediaStore, MediaStoreError};

/// Stores media as files under one directory, which the HTTP layer serves at `/media/`. Each file
/// gets a fresh random name, so uploads with the same name never overwrite each other.
pub struct LocalMediaStore {
    root: PathBuf,
    public_base: String,
}

impl LocalMediaStore {
    /// `public_base` is the URL the directory is served at, e.g. `http://localhost:8000/media`.
    pub fn new(root: PathBuf, public_base: &str) -> Self {
        Self {
            root,
            public_base: public_base.trim_end_matches('/').to_owned(),
        }
    }

    /// The file an asset id names, or `None` for an id that would reach outside the root.
    fn path_of(&self, asset_id: &str) -> Option<PathBuf> {
        let relative = Path::new(asset_id);
        let inside = relative
            .components()
            .all(|c| matches!(c, Component::Normal(_)));
        (inside && !asset_id.is_empty()).then(|| self.root.join(relative))
    }
}

fn failed(err: io::Error) -> MediaStoreError {
    MediaStoreError::Failed(Box::new(err))
}

#[async_trait]
impl MediaStore for LocalMediaStore {
    async fn store(
        &self,
        file: &UploadedFile,
        folder: MediaFolder,
    ) -> Result<StoredMedia, MediaStoreError> {
        let asset_id = format!(
            "{}/{}.{}",
            folder.as_str(),
            uuid::Uuid::new_v4().simple(),
            file.media_type.extension()
        );
        let dest = self.root.join(&asset_id);
        if let Some(parent) = dest.parent() {
            tokio::fs::create_dir_all(parent).await.map_err(failed)?;
        }
        // A rename is instant when the spool and the media directory share a file system;
        // otherwise copy (the spooled original is removed by its owner either way).
        if tokio::fs::rename(&file.path, &dest).await.is_err() {
            if let Err(err) = tokio::fs::copy(&file.path, &dest).await {
                let _ = tokio::fs::remove_file(&dest).await;
                return Err(failed(err));
            }
        }
        Ok(StoredMedia {
            url: format!("{}/{asset_id}", self.public_base),
            asset_id,
        })
    }

    async fn delete(&self, media: &StoredMedia) -> Result<(), MediaStoreError> {
        let Some(path) = self.path_of(&media.asset_id) else {
            // Not one of ours (e.g. a Cloudinary URL carried over from the original backend).
            tracing::warn!(asset = %media.asset_id, "not deleting an asset outside the media directory");
            return Ok(());
        };
        match tokio::fs::remove_file(path).await {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(failed(err)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use videotube_domain::media::MediaType;

    #[tokio::test]
    async fn stores_under_unique_names_and_deletes() {
        let root = tempfile::tempdir().unwrap();
        let spool = tempfile::tempdir().unwrap();
        let store = LocalMediaStore::new(root.path().to_owned(), "http://localhost:8000/media/");
        let mut stored = Vec::new();
        for _ in 0..2 {
            let path = spool.path().join("upload");
            std::fs::write(&path, b"\x89PNG same name").unwrap();
            let file = UploadedFile {
                path,
                media_type: MediaType::Png,
                size: 14,
            };
            stored.push(store.store(&file, MediaFolder::Avatars).await.unwrap());
        }
        assert_ne!(stored[0].asset_id, stored[1].asset_id);
        assert!(stored[0]
            .url
            .starts_with("http://localhost:8000/media/avatars/"));
        assert!(stored[0].url.ends_with(".png"));
        assert!(root.path().join(&stored[0].asset_id).exists());

        store.delete(&stored[0]).await.unwrap();
        assert!(!root.path().join(&stored[0].asset_id).exists());
        store
            .delete(&stored[0])
            .await
            .expect("deleting twice is fine");
    }

    #[tokio::test]
    async fn never_deletes_outside_its_root() {
        let outer = tempfile::tempdir().unwrap();
        let root = outer.path().join("media");
        std::fs::create_dir(&root).unwrap();
        let victim = outer.path().join("victim");
        std::fs::write(&victim, b"keep").unwrap();
        let store = LocalMediaStore::new(root, "/media");
        for asset_id in ["../victim", victim.to_str().unwrap(), ""] {
            let media = StoredMedia {
                url: String::new(),
                asset_id: asset_id.into(),
            };
            store.delete(&media).await.unwrap();
        }
        assert!(victim.exists());
    }
}
