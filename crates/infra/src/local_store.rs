use std::io;
use std::path::{Component, Path, PathBuf};

use async_trait::async_trait;
use videotube_domain::media::{
    plausible_duration, MediaCategory, MediaFolder, MediaType, Stored, StoredMedia, UploadedFile,
};
use videotube_domain::ports::{MediaStore, MediaStoreError};
use videotube_domain::BoxError;

/// Stores media as files under one directory, which the HTTP layer serves at `/media/`. Files get
/// a fresh random name unless the caller names them, so uploads with the same file name never
/// overwrite each other.
pub struct LocalMediaStore {
    root: PathBuf,
    public_base: String,
}

impl LocalMediaStore {
    /// `public_base` is where the directory is served: the server passes the path `/media`, so
    /// stored URLs do not name a host (answers make them absolute for whoever asks).
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

/// Deletes the package copies under `root` that a crash in `store_package` left behind
/// (`streams/<name>.partial-<id>` being made, `streams/<name>.old-<id>` being replaced), once
/// untouched for `idle`: another instance sharing the directory may be making one right now.
/// Answers how many went.
pub fn remove_abandoned_packages(root: &Path, idle: std::time::Duration) -> usize {
    let Ok(entries) = std::fs::read_dir(root.join(MediaFolder::Streams.as_str())) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some((_, aside)) = name.to_str().and_then(|name| name.rsplit_once('.')) else {
            continue;
        };
        let abandoned = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|modified| modified.elapsed().ok())
            .is_some_and(|untouched| untouched >= idle);
        if (aside.starts_with("partial-") || aside.starts_with("old-"))
            && abandoned
            && std::fs::remove_dir_all(entry.path()).is_ok()
        {
            removed += 1;
        }
    }
    removed
}

/// A video's length read from its container (MP4/QuickTime, WebM/Matroska), off the async
/// workers; `None`, with a warning, when the container does not say.
async fn probe_duration(path: PathBuf, media_type: MediaType) -> Option<f64> {
    let probe = tokio::task::spawn_blocking(move || read_duration(&path, media_type)).await;
    match probe {
        Ok(Ok(Some(seconds))) if plausible_duration(Some(seconds)).is_some() => Some(seconds),
        other => {
            tracing::warn!(?media_type, outcome = ?other.map(|r| r.map_err(|e| e.to_string())), "video duration unknown; recording 0");
            None
        }
    }
}

/// The length the container states, as it states it (checked by the caller).
fn read_duration(path: &Path, media_type: MediaType) -> Result<Option<f64>, BoxError> {
    let file = std::fs::File::open(path)?;
    match media_type {
        MediaType::Mp4 | MediaType::QuickTime => {
            let size = file.metadata()?.len();
            let reader = mp4::Mp4Reader::read_header(std::io::BufReader::new(file), size)?;
            // Not `reader.duration()`: it divides by the file's timescale, which a hostile
            // file sets to 0 (a panic), and multiplies its duration, which can overflow.
            let mvhd = &reader.moov.mvhd;
            Ok((mvhd.timescale > 0).then(|| mvhd.duration as f64 / f64::from(mvhd.timescale)))
        }
        MediaType::Webm | MediaType::Matroska => Ok(matroska::Matroska::open(file)?
            .info
            .duration
            .map(|d| d.as_secs_f64())),
        _ => Ok(None),
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
        name: Option<&str>,
    ) -> Result<Stored, MediaStoreError> {
        let stem = match name {
            Some(name) => name.to_owned(),
            None => crate::unguessable_name(),
        };
        let asset_id = format!("{}/{stem}.{}", folder.as_str(), file.media_type.extension());
        let dest = self.path_of(&asset_id).ok_or_else(|| {
            MediaStoreError::Failed(format!("`{asset_id}` is not a plain relative name").into())
        })?;
        if let Some(parent) = dest.parent() {
            tokio::fs::create_dir_all(parent).await.map_err(failed)?;
        }
        // Link (instant, on one file system) or copy to a private name, then rename over the
        // destination: readers never see half a file, and storing a name again replaces it.
        let partial = dest.with_extension(format!("partial-{}", uuid::Uuid::new_v4().simple()));
        if tokio::fs::hard_link(&file.path, &partial).await.is_err() {
            if let Err(err) = tokio::fs::copy(&file.path, &partial).await {
                let _ = tokio::fs::remove_file(&partial).await;
                return Err(failed(err));
            }
        }
        let renamed = tokio::fs::rename(&partial, &dest).await;
        // Renaming a link onto another link of the same file does nothing and leaves `partial`
        // (POSIX), which happens when the same upload is stored under its name again.
        let _ = tokio::fs::remove_file(&partial).await;
        renamed.map_err(failed)?;
        let duration_seconds = match file.media_type.category() {
            MediaCategory::Video => probe_duration(dest.clone(), file.media_type).await,
            MediaCategory::Image | MediaCategory::Document => None,
        };
        Ok(Stored {
            media: StoredMedia {
                url: format!("{}/{asset_id}", self.public_base),
                asset_id,
            },
            duration_seconds,
        })
    }

    fn fresh_name(&self) -> String {
        crate::unguessable_name()
    }

    fn hosts_streams(&self) -> bool {
        true
    }

    /// Links (or copies) the package into a private directory, then renames it into place: a
    /// package is seen whole or not at all. One stored before under the name is moved aside
    /// first and deleted after.
    async fn store_package(
        &self,
        dir: &Path,
        files: &[PathBuf],
        name: &str,
    ) -> Result<StoredMedia, MediaStoreError> {
        let asset_id = format!("{}/{name}", MediaFolder::Streams.as_str());
        let (Some(dest), Some(master)) = (self.path_of(&asset_id), files.last()) else {
            return Err(MediaStoreError::Failed(
                format!("`{asset_id}` is not a plain relative name, or the package is empty")
                    .into(),
            ));
        };
        let aside =
            |what: &str| dest.with_extension(format!("{what}-{}", uuid::Uuid::new_v4().simple()));
        let partial = aside("partial");
        let copied = copy_package(dir, files, &partial).await;
        if let Err(err) = copied {
            let _ = tokio::fs::remove_dir_all(&partial).await;
            return Err(failed(err));
        }
        let old = aside("old");
        let had_one = tokio::fs::rename(&dest, &old).await.is_ok();
        let renamed = tokio::fs::rename(&partial, &dest).await;
        if renamed.is_err() {
            let _ = tokio::fs::remove_dir_all(&partial).await;
        }
        if had_one {
            let _ = tokio::fs::remove_dir_all(&old).await;
        }
        renamed.map_err(failed)?;
        Ok(StoredMedia {
            url: format!("{}/{asset_id}/{}", self.public_base, master.display()),
            asset_id,
        })
    }

    /// `/media` checks on every request whether the file's video is public, so a file never
    /// has to move.
    async fn set_public(
        &self,
        media: &StoredMedia,
        _public: bool,
    ) -> Result<StoredMedia, MediaStoreError> {
        Ok(media.clone())
    }

    async fn delete(&self, media: &StoredMedia) -> Result<(), MediaStoreError> {
        let Some(path) = self.path_of(&media.asset_id) else {
            // Not one of ours (e.g. a Cloudinary URL carried over from the original backend).
            tracing::warn!(asset = %media.asset_id, "not deleting an asset outside the media directory");
            return Ok(());
        };
        match crate::remove_path(&path).await {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(failed(err)),
        }
    }
}

/// `files` (plain relative paths) from `dir` into the new directory `to`.
async fn copy_package(dir: &Path, files: &[PathBuf], to: &Path) -> io::Result<()> {
    for file in files {
        let plain = file.components().all(|c| matches!(c, Component::Normal(_)));
        if !plain {
            return Err(io::Error::other(format!(
                "`{}` is not a plain relative name",
                file.display()
            )));
        }
        let dest = to.join(file);
        if let Some(parent) = dest.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        if tokio::fs::hard_link(dir.join(file), &dest).await.is_err() {
            tokio::fs::copy(dir.join(file), &dest).await?;
        }
    }
    Ok(())
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
            stored.push(
                store
                    .store(&file, MediaFolder::Avatars, None)
                    .await
                    .unwrap()
                    .media,
            );
            assert!(file.path.exists(), "the original stays with its owner");
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
    async fn a_named_asset_is_replaced_not_duplicated() {
        let root = tempfile::tempdir().unwrap();
        let spool = tempfile::tempdir().unwrap();
        let store = LocalMediaStore::new(root.path().to_owned(), "/media");
        let path = spool.path().join("upload");
        std::fs::write(&path, b"GIF89a first").unwrap();
        let file = UploadedFile {
            path,
            media_type: MediaType::Gif,
            size: 12,
        };
        let first = store
            .store(&file, MediaFolder::Thumbnails, Some("job1"))
            .await
            .unwrap();
        let again = store
            .store(&file, MediaFolder::Thumbnails, Some("job1"))
            .await
            .unwrap();
        assert_eq!(first, again);
        assert_eq!(first.media.asset_id, "thumbnails/job1.gif");
        assert_eq!(
            std::fs::read_dir(root.path().join("thumbnails"))
                .unwrap()
                .count(),
            1
        );
        assert!(store
            .store(&file, MediaFolder::Thumbnails, Some("../escape"))
            .await
            .is_err());
    }

    #[tokio::test]
    async fn a_package_is_replaced_whole_and_deleted_whole() {
        let root = tempfile::tempdir().unwrap();
        let work = tempfile::tempdir().unwrap();
        let store = LocalMediaStore::new(root.path().to_owned(), "/media");
        let package = |segments: &[&str]| {
            let dir = work.path().join(format!("p{}", segments.len()));
            let mut files = Vec::new();
            for name in segments.iter().chain(&["index.m3u8"]) {
                let file = PathBuf::from("240p").join(name);
                std::fs::create_dir_all(dir.join("240p")).unwrap();
                std::fs::write(dir.join(&file), name.as_bytes()).unwrap();
                files.push(file);
            }
            std::fs::write(dir.join("master.m3u8"), b"#EXTM3U").unwrap();
            files.push(PathBuf::from("master.m3u8"));
            (dir, files)
        };
        let (dir, files) = package(&["a.ts", "b.ts"]);
        let first = store.store_package(&dir, &files, "job1").await.unwrap();
        assert_eq!(first.url, "/media/streams/job1/master.m3u8");
        assert_eq!(first.asset_id, "streams/job1");
        let (dir, files) = package(&["c.ts"]);
        store.store_package(&dir, &files, "job1").await.unwrap();
        let stored = root.path().join("streams/job1/240p");
        let mut names: Vec<_> = std::fs::read_dir(&stored)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["c.ts", "index.m3u8"],
            "nothing of the first package"
        );
        assert_eq!(
            std::fs::read_dir(root.path().join("streams"))
                .unwrap()
                .count(),
            1,
            "no partial or old copy left"
        );
        let escaping = [PathBuf::from("../outside")];
        assert!(store.store_package(&dir, &escaping, "job2").await.is_err());
        store.delete(&first).await.unwrap();
        assert!(!root.path().join("streams/job1").exists());
    }

    #[test]
    fn copies_a_crash_left_behind_are_removed_once_abandoned() {
        let root = tempfile::tempdir().unwrap();
        let streams = root.path().join("streams");
        for name in [
            "job1",
            "job1.partial-0a1b",
            "job2.old-2c3d",
            "job3.partial-4e5f",
        ] {
            std::fs::create_dir_all(streams.join(name).join("240p")).unwrap();
        }
        let hour = std::time::Duration::from_secs(3600);
        assert_eq!(
            remove_abandoned_packages(root.path(), hour),
            0,
            "fresh: maybe in the making"
        );
        assert_eq!(
            remove_abandoned_packages(root.path(), std::time::Duration::ZERO),
            3
        );
        let left: Vec<_> = std::fs::read_dir(&streams)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["job1"]);
    }

    #[allow(dead_code)]
    mod samples {
        include!("../tests/support/media_samples.rs");
    }

    #[test]
    fn hostile_lengths_neither_panic_nor_pass() {
        let spool = tempfile::tempdir().unwrap();
        let path = spool.path().join("v.mp4");
        std::fs::write(&path, samples::mp4_timed(0, 1_000)).unwrap();
        assert_eq!(
            read_duration(&path, MediaType::Mp4).unwrap(),
            None,
            "timescale 0"
        );
        std::fs::write(&path, samples::mp4_timed(1, u32::MAX)).unwrap();
        let claimed = read_duration(&path, MediaType::Mp4).unwrap();
        assert_eq!(plausible_duration(claimed), None, "{claimed:?}");
    }

    #[tokio::test]
    async fn reads_video_durations_from_the_container() {
        let root = tempfile::tempdir().unwrap();
        let spool = tempfile::tempdir().unwrap();
        let store = LocalMediaStore::new(root.path().to_owned(), "/media");
        let cases = [
            (MediaType::Mp4, samples::mp4(5_000)),
            (MediaType::QuickTime, samples::quicktime(2_500)),
            (MediaType::Webm, samples::webm(7_250.0)),
        ];
        for (media_type, bytes) in cases {
            let path = spool.path().join(format!("v.{}", media_type.extension()));
            std::fs::write(&path, &bytes).unwrap();
            let file = UploadedFile {
                path,
                media_type,
                size: bytes.len() as u64,
            };
            let stored = store.store(&file, MediaFolder::Videos, None).await.unwrap();
            let expected = match media_type {
                MediaType::Mp4 => 5.0,
                MediaType::QuickTime => 2.5,
                _ => 7.25,
            };
            assert_eq!(stored.duration_seconds, Some(expected), "{media_type:?}");
        }
        // Not a container the probe understands: stored all the same, duration unknown.
        let path = spool.path().join("broken.mp4");
        std::fs::write(&path, b"\0\0\0\x18ftypisom garbage").unwrap();
        let file = UploadedFile {
            path,
            media_type: MediaType::Mp4,
            size: 20,
        };
        assert_eq!(
            store
                .store(&file, MediaFolder::Videos, None)
                .await
                .unwrap()
                .duration_seconds,
            None
        );
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
