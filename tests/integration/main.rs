//! Black-box tests of the `tiktok-ads` binary against local servers that answer like TikTok.
//! One test binary (one link step) with a module per command group.

mod advertiser;
mod audience;
mod auth;
mod bulk;
mod config;
mod core;
mod creatives;
mod doctor;
mod edges;
mod entities;
mod escape;
mod first_hour;
mod generated;
mod layers;
mod library;
mod login;
mod mock_strict;
mod paper_cuts;
mod pg;
mod quota;
mod readme;
mod report_sync;
mod reports;
mod rules;
mod scenarios;
mod simulator;
mod simulator_control;
mod support;
mod terminal;
mod token_store;
mod watch;
