//! tiktok-ads: a command-line client for the TikTok Business (Marketing) API v1.3, and the
//! library under it.
//!
//! What the library offers: [`api`] (a typed client: one request path with pacing, retries,
//! envelope and paging checks), [`report`] (plan, fetch and sink reports, synchronously or as
//! asynchronous tasks), [`accounts`] (which ad accounts a token reaches, their time zones and
//! currencies), [`output`] (streaming CSV/JSON/NDJSON/table writers, atomic files) and [`mock`]
//! (a local simulator of the API). The rest serves the `tiktok-ads` binary.
//!
//! Layers depend downward only: `cli` → (`auth`, `report`, `accounts`, `output`, `config`) →
//! `api`.

// The simulator builds TikTok's large objects with `json!`.
#![recursion_limit = "256"]

pub mod accounts;
pub mod api;
pub(crate) mod auth;
pub mod catalog;
pub mod cli;
pub(crate) mod config;
pub mod env_file;
pub mod exit;
mod fsutil;
pub mod logging;
pub mod mock;
pub mod output;
pub mod redact;
pub mod report;
pub mod signals;
pub mod warehouse;
