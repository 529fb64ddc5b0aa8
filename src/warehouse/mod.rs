//! Keeping a database of TikTok reports current (`report sync`): where it is
//! ([`Destination`]), the table a report goes to ([`TableShape`]), and the databases themselves
//! (SQLite, PostgreSQL) behind one [`Warehouse`] interface that a writer thread drives
//! ([`sink::DbSink`]), one transaction per report window. The report layer drives a sync
//! through [`target::SyncInto`]; nothing here fetches anything.

pub mod audience_records;
pub mod daily_sums;
mod destination;
pub(crate) mod entities;
pub mod error;
mod pacing_table;
pub(crate) mod postgres;
mod shape;
pub mod sink;
mod sql;
pub(crate) mod sqlite;
mod store;
pub mod target;
pub mod watch_tables;

pub use destination::{DEFAULT_SQLITE, Destination, redact_url};
pub use error::{PartlyCommitted, WarehouseError};
pub use pacing_table::{PACING_TABLE, PacingTable};
pub use shape::{Column, ColumnKind, TableShape, table_name, valid_identifier};
pub(crate) use sql::{Dialect, fit_table, quote};
pub use store::{Counts, STATE_TABLE, Upserted, Warehouse};

use anyhow::Result;

use crate::report::incremental::Synced;

/// Opens the destination to write, taking its sync lock (another sync into it is refused,
/// not joined).
pub fn open(destination: &Destination) -> Result<Box<dyn Warehouse>> {
    match destination {
        Destination::Sqlite(path) => Ok(Box::new(sqlite::Sqlite::open(path)?)),
        Destination::Postgres(url) => Ok(Box::new(postgres::Postgres::open(url, true)?)),
    }
}

/// Every table's progress, read without the sync lock (a running sync does not block it) and
/// without creating anything: a database that does not exist yet has none.
pub fn read_progress(destination: &Destination) -> Result<Vec<Synced>> {
    match destination {
        Destination::Sqlite(path) => sqlite::read_progress(path),
        Destination::Postgres(url) => postgres::Postgres::open(url, false)?.all_progress(),
    }
}
