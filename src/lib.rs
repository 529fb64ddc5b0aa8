//! tiktok-ads: a command-line client for the TikTok Business (Marketing) API v1.3, and the
//! library under it.
//!
//! What the library offers: [`api`] (a typed client: one request path with pacing, retries,
//! envelope and paging checks, and one handle per resource), [`report`] (plan, fetch and sink
//! reports — synchronously, as asynchronous tasks, or incrementally into a store), [`warehouse`]
//! (SQLite and PostgreSQL as stores of `report sync`), [`accounts`] (which ad accounts a token
//! reaches, their time zones and currencies), [`output`] (streaming CSV/JSON/NDJSON/table
//! writers, atomic files) and [`mock`] (a local simulator of the API). The rest serves the
//! `tiktok-ads` binary.
//!
//! # Layers
//!
//! Layers depend downward only. Each row names a layer (a module, or a part of one) and what
//! it may import from this crate; an import of anything else, or of a crate it may not use, is
//! refused by `tests/integration/layers.rs`, which reads `src/`, takes its rules from this
//! table and names the file and line that breaks one. Tests inside a module (`#[cfg(test)]`)
//! may reach further; `main.rs` is the binary and may use the whole library.
//!
//! | layer | what it holds | may import | may not use |
//! |---|---|---|---|
//! | `exit` | failures → exit codes and hints, in one place | `api`, `auth`, `cli`, `output`, `redact`, `report`, `warehouse` | |
//! | `cli` | clap, one module per command group: orchestration only | `accounts`, `api`, `auth`, `catalog`, `config`, `creative`, `fsutil`, `mock`, `output`, `redact`, `report`, `signals`, `warehouse`, `watch`, `bulk`, `rules`, `audience` | `reqwest`, `rusqlite`, `postgres` |
//! | `warehouse` | stores report rows and entity snapshots; fetches nothing | `report`, `catalog`, `fsutil`, `redact` | `reqwest`, `clap`, `indicatif` |
//! | `creative` | media files checked, uploaded once per account, waited for | `api`, `fsutil`, `poll`, `redact` | `reqwest`, `rusqlite`, `postgres`, `clap`, `indicatif` |
//! | `audience` | customer IDs normalised, hashed and prepared on this machine | `api`, `fsutil`, `poll`, `redact` | `reqwest`, `rusqlite`, `postgres`, `clap`, `indicatif` |
//! | `bulk` | bulk changes planned against the live state, applied, journaled, undone | `accounts`, `api`, `fsutil`, `redact`, `report`, `watch` | `reqwest`, `rusqlite`, `postgres`, `clap`, `indicatif` |
//! | `rules` | rules read, checked, evaluated against reports into bulk plans | `accounts`, `api`, `bulk`, `catalog`, `report`, `watch` | `reqwest`, `rusqlite`, `postgres`, `clap`, `indicatif` |
//! | `watch` | entities polled, compared with the last snapshot, changes as events | `api`, `fsutil`, `redact` | `reqwest`, `rusqlite`, `postgres`, `clap`, `indicatif` |
//! | `report` | plans, fetches and concludes every report | `api`, `accounts`, `catalog`, `fsutil`, `poll`, `redact` | `reqwest`, `rusqlite`, `postgres`, `clap`, `indicatif` |
//! | `auth` | token stores and the login flow | `api`, `config`, `fsutil`, `redact` | `clap`, `indicatif` |
//! | `config` | profiles, environments and their hosts, directories | `api`, `catalog`, `fsutil` | `reqwest`, `clap` |
//! | `accounts` | the ad accounts a token reaches, their zones and currencies | `api` | `clap`, `indicatif` |
//! | `api` | one module per resource, over the transport core | `api::transport`, `catalog`, `fsutil`, `redact` | `rusqlite`, `postgres`, `clap`, `indicatif`, `tabled` |
//! | `api::transport` | the one request path: hosts, envelope, errors, retries, pacing, paging | `fsutil`, `redact` | `rusqlite`, `postgres`, `clap`, `indicatif`, `tabled` |
//! | `mock` | the simulator, independent of the client | `catalog`, `fsutil`, `redact` | `clap`, `indicatif` |
//! | `output` | every byte for stdout, stderr or `-o` | `fsutil`, `redact` | `reqwest` |
//! | `logging` | diagnostics on stderr | `redact` | |
//! | `catalog` | TikTok's vocabulary | | |
//! | `fsutil` | atomic owner-only files and their locks | | |
//! | `redact` | secrets masked, control characters escaped | | |
//! | `signals` | the signals that stop a run | | |
//! | `poll` | how long to wait between checks of something running | | |
//! | `env_file` | `.env` | | |

// The simulator builds TikTok's large objects with `json!`.
#![recursion_limit = "256"]
#![forbid(unsafe_code)]

pub mod accounts;
pub mod api;
pub mod audience;
pub(crate) mod auth;
pub mod bulk;
pub(crate) mod catalog;
#[doc(hidden)]
pub mod cli;
pub(crate) mod config;
pub mod creative;
#[doc(hidden)]
pub mod env_file;
#[doc(hidden)]
pub mod exit;
mod fsutil;
#[doc(hidden)]
pub mod logging;
pub mod mock;
pub mod output;
mod poll;
#[doc(hidden)]
pub mod redact;
pub mod report;
pub mod rules;
#[doc(hidden)]
pub mod signals;
pub mod warehouse;
pub mod watch;
