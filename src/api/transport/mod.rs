//! The transport core: the one request path every call takes (`client`), where requests may
//! go (`host`, `http`), the envelope reader, typed errors, retries, pacing and checked paging.
//! Resource modules (`api::campaign`, `api::report`, ...) build requests and decode answers
//! on top of it; nothing here knows a resource.

pub(crate) mod client;
pub(crate) mod envelope;
pub(crate) mod error;
pub(crate) mod form;
pub(crate) mod host;
pub(crate) mod http;
pub(crate) mod ids;
pub mod pacing;
pub(crate) mod paging;
pub(crate) mod query;
pub(crate) mod retry;
