//! VideoTube's domain: the value types parsed at the boundary, the models, the ports that
//! adapters implement (repositories, media store, hashing, tokens, throttling) and the services
//! that hold the business rules. It depends on no web framework, database driver or HTTP client,
//! so another Rust crate can reuse it with its own adapters.

pub mod attachment;
pub mod comment;
pub mod error;
pub mod id;
pub mod like;
pub mod media;
pub mod ownership;
pub mod page;
pub mod playlist;
pub mod ports;
pub mod resumable;
pub mod services;
pub mod session;
mod text;
pub mod tweet;
pub mod user;
pub mod values;
pub mod video;

pub use error::{BoxError, Error, FieldError, RepoError};
pub use id::Id;
