//! The typed client for TikTok's Marketing API v1.3: one HTTP core (`client`) and one module
//! per resource. Knows nothing of terminals or output formats.

pub mod ad;
pub mod adgroup;
pub mod advertiser;
pub mod bc;
pub mod campaign;
pub mod client;
pub mod entity;
pub(crate) mod envelope;
pub mod error;
pub mod http;
pub mod ids;
pub mod oauth;
pub mod pacing;
pub mod paging;
pub mod query;
pub mod report;
pub mod report_csv;
pub mod report_page;
pub mod retry;
pub mod rules;
pub mod task_poll;
pub mod tool;
pub mod user;

pub use client::{Auth, Client, ClientOptions, Method, Request};
pub use error::ApiError;
pub use query::Query;
pub use retry::{Replay, RetryPolicy};

/// Production host of the API and of the advertiser consent page.
pub const PRODUCTION_HOST: &str = "https://business-api.tiktok.com";
/// Sandbox host (tokens are made in the developer portal; no consent page).
pub const SANDBOX_HOST: &str = "https://sandbox-ads.tiktok.com";
