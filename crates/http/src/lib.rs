//! VideoTube's HTTP API: actix-web routes over the domain services, the response envelope of the
//! original backend, and the server's start-up. Handlers only extract, parse into domain types,
//! call a service and map the result.

pub mod api;
pub mod auth;
mod bare_errors;
pub mod body;
pub mod config;
pub mod metrics;
pub mod middleware;
pub mod migrate;
pub mod openapi;
pub mod origin;
pub mod routes;
pub mod slow_clients;
pub mod startup;
pub mod telemetry;
pub mod upload;

pub use startup::Application;
