//! The transport core: the one request path every call takes (`client`), where requests may
//! go (`host`, `http`), the envelope reader, typed errors, retries, pacing and checked paging.
//! Resource modules (`api::campaign`, `api::report`, ...) build requests and decode answers
//! on top of it; nothing here knows a resource.

pub mod client;
pub(crate) mod envelope;
pub mod error;
pub mod host;
pub mod http;
pub mod ids;
pub mod pacing;
pub mod paging;
pub mod query;
pub mod retry;
