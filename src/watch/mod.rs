//! Watching entities (REFERENCE 16): TikTok sends no webhook when an ad is rejected or an ad
//! group runs out of budget, so the lists are polled cheaply ([`level`]), each poll compared
//! with the previous snapshot ([`diff`]) into events with a bucket for the delivery state
//! ([`bucket`]), the reasons of a rejection attached ([`reasons`]), and the snapshot kept
//! between runs under a lock per account ([`store`]).

pub mod bucket;
pub mod diff;
pub mod level;
pub mod quota;
pub mod reasons;
pub mod review;
pub mod store;

pub use bucket::Bucket;
pub use diff::{Event, EventKind};
pub use level::{Level, Snapshot};
