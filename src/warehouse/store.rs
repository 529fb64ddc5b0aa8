//! What every database a sync writes to does, behind one interface: fit a table, read how far
//! each account got, and write a window of rows as one transaction with its progress.

use std::collections::BTreeMap;

use anyhow::Result;

use super::TableShape;
use crate::report::Window;
use crate::report::incremental::Synced;

/// The state table: per table and advertiser, the last day synced and when.
pub const STATE_TABLE: &str = "tiktok_sync_state";

/// What happened to the rows of a run, per table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

impl Counts {
    pub fn add(&mut self, other: Counts) {
        self.inserted += other.inserted;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
    }
}

/// What one upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    Inserted,
    Updated,
    Unchanged,
}

/// A database a sync writes to. Used from one thread; every window is one transaction.
pub trait Warehouse: Send {
    /// Creates the table and the state table when missing, adds columns for new metrics, and
    /// refuses a table of another shape (never dropping anything).
    fn prepare(&mut self, shape: &TableShape) -> Result<()>;

    /// Each advertiser's progress in `table`.
    fn progress(&mut self, table: &str) -> Result<BTreeMap<String, Synced>> {
        Ok(self
            .all_progress()?
            .into_iter()
            .filter(|p| p.table == table)
            .map(|p| (p.advertiser.clone(), p))
            .collect())
    }

    /// Every table's progress (`report sync --status`).
    fn all_progress(&mut self) -> Result<Vec<Synced>>;

    /// Opens the transaction of `advertiser`'s rows over `days` (none: a table without days).
    fn begin_window(
        &mut self,
        shape: &TableShape,
        advertiser: &str,
        days: Option<Window>,
    ) -> Result<()>;

    /// Inserts or updates one row (values in `key` then `metrics` order).
    fn upsert(&mut self, values: &[Option<&str>], synced_at: &str) -> Result<Upserted>;

    /// Records `advertiser`'s progress over `days` (none for tables without days, such as
    /// entities) and commits the window.
    fn finish_window(
        &mut self,
        shape: &TableShape,
        advertiser: &str,
        days: Option<Window>,
        synced_at: &str,
    ) -> Result<Counts>;

    /// Drops the window's changes.
    fn abandon_window(&mut self) -> Result<()>;
}
