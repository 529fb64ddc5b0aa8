//! Bulk changes as a library: export the live state of campaigns, ad groups or ads as a file
//! ([`columns`], [`live`]), read the edited file ([`sheet`]), plan the changes against the live
//! state with every check TikTok would make and the user's guards ([`plan`], [`checks`],
//! [`spend`]), apply them in TikTok's batches and confirm each by reading it back, with a
//! journal of what changed ([`apply`], [`journal`]), and undo a journal (its reversal planned like any file).

pub mod apply;
pub mod checks;
pub mod columns;
pub mod journal;
pub mod live;
pub mod plan;
pub mod sheet;
pub mod spend;
