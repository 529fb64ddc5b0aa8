//! The pacing state's store as the run's settings choose it: the state directory's file (the
//! API layer's default) or a PostgreSQL table shared by machines (`--pacing postgres://…`),
//! adapted here so that the API layer knows nothing of databases.

use std::sync::Arc;

use crate::api::pacing::{SharedState, pacing_alone};
use crate::warehouse::PacingTable;

type Failure = Box<dyn std::error::Error + Send + Sync>;

struct Table(PacingTable);

impl SharedState for Table {
    fn exchange(&self, change: &mut dyn FnMut(Option<&[u8]>) -> Vec<u8>) -> Result<(), Failure> {
        self.0.exchange(change)
    }

    fn read(&self) -> Result<Option<Vec<u8>>, Failure> {
        self.0.read()
    }

    fn describe(&self) -> String {
        format!(
            "PostgreSQL ({}, table {})",
            self.0.shown(),
            crate::warehouse::PACING_TABLE
        )
    }
}

/// The app's row of the pacing table at `url`, or `None` (after one notice) when the database
/// cannot be used: the run then paces alone rather than fail for its pacer.
pub(crate) fn postgres(url: &str, scope: &str) -> Option<Arc<dyn SharedState>> {
    match PacingTable::open(url, scope) {
        Ok(table) => Some(Arc::new(Table(table))),
        Err(e) => {
            pacing_alone(&crate::warehouse::redact_url(url), &format!("{e:#}"));
            None
        }
    }
}
