//! Adapters from VideoTube's domain ports to the outside world: MongoDB repositories, bcrypt,
//! JWT, the local media store, throttles and ffmpeg.

pub mod cloudinary;
pub mod ffmpeg;
pub mod jwt;
pub mod local_store;
pub mod media_links;
pub mod mongo;
pub mod password;
pub mod throttle;
pub mod worker;

pub use jwt::JwtCodec;
pub use local_store::LocalMediaStore;
pub use password::BcryptHasher;

/// 128 random bits in hex: a stored file's name, which nothing a client sees can lead to.
pub(crate) fn unguessable_name() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// Removes a file, or a directory with everything in it.
pub(crate) async fn remove_path(path: &std::path::Path) -> std::io::Result<()> {
    match tokio::fs::symlink_metadata(path).await {
        Ok(found) if found.is_dir() => tokio::fs::remove_dir_all(path).await,
        _ => tokio::fs::remove_file(path).await,
    }
}
