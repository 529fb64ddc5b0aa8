//! tiktok-ads: a command-line client for the TikTok Business (Marketing) API v1.3.
//!
//! Layers depend downward only: `cli` → (`auth`, `output`, `config`) → `api`.

pub mod accounts;
pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod env_file;
pub mod exit;
mod fsutil;
pub mod logging;
pub mod mock;
pub mod output;
pub mod redact;
pub mod report;
pub mod signals;
