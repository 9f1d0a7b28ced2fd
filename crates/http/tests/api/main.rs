//! Integration tests: each test starts the real application on port 0 against its own fresh
//! database on the server named by TEST_MONGODB_URI (`scripts/test` provides one).

mod account;
mod binary;
mod cloudinary;
mod envelope;
mod health;
mod media;
mod helpers;
mod register;
mod sessions;
