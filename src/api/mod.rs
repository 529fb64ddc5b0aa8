//! The typed client for TikTok's Marketing API v1.3, in two parts: the transport core
//! ([`transport`]: the one request path, envelope, errors, retries, pacing, paging, host
//! checks) and one module per resource, each building its requests and decoding its answers on
//! top of that core. Knows nothing of terminals, output formats or profiles.

pub mod transport;

pub mod ad;
pub mod adgroup;
pub mod advertiser;
pub mod bc;
pub mod campaign;
pub mod entity;
pub mod oauth;
pub mod report;
pub mod rules;
pub mod tool;
pub mod user;

pub use transport::client::{Auth, Client, ClientOptions, Method, Request};
pub use transport::error::ApiError;
pub use transport::query::Query;
pub use transport::retry::{Replay, RetryPolicy};
pub use transport::{host, ids, pacing, paging};

impl Client {
    /// `/report/integrated/get/` and `/report/task/*`.
    pub fn reports(&self) -> report::Reports<'_> {
        report::Reports::new(self)
    }
}

/// Production host of the API and of the advertiser consent page.
pub const PRODUCTION_HOST: &str = "https://business-api.tiktok.com";
/// Sandbox host (tokens are made in the developer portal; no consent page).
pub const SANDBOX_HOST: &str = "https://sandbox-ads.tiktok.com";
