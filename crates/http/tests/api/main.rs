//! Integration tests: each test starts the real application on port 0 against its own fresh
//! database on the server named by TEST_MONGODB_URI (`scripts/test` provides one).

mod account;
mod attachments;
mod binary;
mod catalogue;
mod channels;
mod clients;
mod cloudinary;
mod comments;
mod dashboard;
mod direct_uploads;
mod docs;
// Test doubles shared with the infra crate's tests.
#[path = "../../../infra/tests/support/fake_cloudinary.rs"]
mod fake_cloudinary;
#[allow(dead_code)]
#[path = "../../../infra/tests/support/media_samples.rs"]
mod samples;

mod envelope;
mod faults;
mod health;
mod helpers;
mod legacy;
mod lists;
mod media;
mod node_fixture;
mod openapi;
mod ops;
mod origins;
mod playlists;
mod processing;
mod query_shapes;
mod register;
mod resumable;
mod security;
mod sessions;
mod slow_clients;
mod tweets;
mod videos;
