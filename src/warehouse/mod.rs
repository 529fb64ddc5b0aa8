//! Keeping a database of TikTok reports current (`report sync`): where it is ([`Destination`]),
//! the table a report shape goes to ([`TableShape`]), the per-account progress (`report::incremental::Synced`),
//! and the databases themselves (SQLite, PostgreSQL) behind one [`Warehouse`] interface that a
//! writer thread drives ([`sink::DbSink`]), one transaction per report window.

pub(crate) mod entities;
pub mod error;
pub(crate) mod postgres;
pub mod sink;
pub(crate) mod sqlite;
pub mod target;

pub use error::{PartlyCommitted, WarehouseError};

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Result;

use crate::catalog::{self, MetricKind};
use crate::report::incremental::Synced;
use crate::report::{Plan, Window};

/// Where a sync writes.
#[derive(Clone, PartialEq, Eq)]
pub enum Destination {
    Sqlite(PathBuf),
    /// A `postgres://` or `postgresql://` URL (its password is never printed).
    Postgres(String),
}

/// The file `report sync` writes to without `--into`.
pub const DEFAULT_SQLITE: &str = "tiktok-ads.db";

impl Destination {
    pub fn parse(text: &str) -> Result<Self, String> {
        if let Some(path) = text.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err("sqlite: needs a file path (sqlite:tiktok-ads.db)".into());
            }
            return Ok(Destination::Sqlite(PathBuf::from(path)));
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(Destination::Postgres(text.to_string()));
        }
        Err(format!(
            "--into {:?} is not sqlite:PATH or postgres://USER@HOST/DB",
            redact_url(text)
        ))
    }

    /// Whether the URL carries a password (visible in `ps`).
    pub fn has_password(&self) -> bool {
        matches!(self, Destination::Postgres(url)
            if url::Url::parse(url).is_ok_and(|u| u.password().is_some()))
    }

    /// For messages: a PostgreSQL URL without its password.
    pub fn shown(&self) -> String {
        match self {
            Destination::Sqlite(path) => format!("sqlite:{}", path.display()),
            Destination::Postgres(url) => redact_url(url),
        }
    }
}

// Shown without its password wherever it is printed with `{:?}` (clap, logs).
impl std::fmt::Debug for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown())
    }
}

/// A URL with any password replaced by `***`.
pub fn redact_url(text: &str) -> String {
    match url::Url::parse(text) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        Ok(url) => url.to_string(),
        Err(_) => text
            .split_once('@')
            .map_or_else(|| text.to_string(), |(_, host)| format!("***@{host}")),
    }
}

/// How a column is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// An ID or a breakdown value: text, part of the key.
    Key,
    /// `stat_time_day`: a date, part of the key.
    Day,
    /// `stat_time_hour`: a timestamp, part of the key.
    Hour,
    /// A number exactly as TikTok wrote it (NUMERIC in PostgreSQL, TEXT in SQLite).
    Number,
    /// Text (attribute metrics such as `campaign_name`).
    Text,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub kind: ColumnKind,
}

/// The table one report shape goes to: key columns (advertiser, ID, time, breakdowns), then
/// one column per metric, then `synced_at`.
#[derive(Debug, Clone)]
pub struct TableShape {
    pub name: String,
    pub key: Vec<Column>,
    pub metrics: Vec<Column>,
    /// Where each data column of the report (the plan's order) goes: its index in
    /// `key` then `metrics` order; `advertiser_id` comes from the unit when it is not a data
    /// column.
    pub advertiser_from_unit: bool,
}

/// The state table: per table and advertiser, the last day synced and when.
pub const STATE_TABLE: &str = "tiktok_sync_state";

impl TableShape {
    /// The shape of a report whose data columns are `data_columns` (dimensions, then
    /// `metric_count` metrics).
    pub fn new(name: String, data_columns: &[String], metric_count: usize) -> Self {
        let dimension_count = data_columns.len() - metric_count;
        let mut key = Vec::new();
        let advertiser_from_unit = !data_columns[..dimension_count]
            .iter()
            .any(|d| d == "advertiser_id");
        if advertiser_from_unit {
            key.push(Column {
                name: "advertiser_id".into(),
                kind: ColumnKind::Key,
            });
        }
        for d in &data_columns[..dimension_count] {
            key.push(Column {
                name: d.clone(),
                kind: match d.as_str() {
                    "stat_time_day" => ColumnKind::Day,
                    "stat_time_hour" => ColumnKind::Hour,
                    _ => ColumnKind::Key,
                },
            });
        }
        let metrics = data_columns[dimension_count..]
            .iter()
            .map(|m| Column {
                name: m.clone(),
                kind: match catalog::metric(m) {
                    Some(MetricKind::Attribute(_)) | None => ColumnKind::Text,
                    Some(_) => ColumnKind::Number,
                },
            })
            .collect();
        Self {
            name,
            key,
            metrics,
            advertiser_from_unit,
        }
    }

    /// The values of one row, handed to `value` in `key` then `metrics` order: days as
    /// `YYYY-MM-DD`, TikTok's `"-"` (and no value) as NULL for metrics, the exact text
    /// otherwise. Nothing is copied.
    pub fn row_values<'a>(
        &self,
        advertiser: &'a str,
        cells: &[Option<&'a str>],
        mut value: impl FnMut(Option<&'a str>),
    ) {
        if self.advertiser_from_unit {
            value(Some(advertiser));
        }
        let key_cells = self.key.len() - usize::from(self.advertiser_from_unit);
        for (cell, column) in cells
            .iter()
            .zip(&self.key[usize::from(self.advertiser_from_unit)..])
        {
            let text = cell.unwrap_or("-");
            value(Some(match column.kind {
                ColumnKind::Day => text.get(..10).unwrap_or(text),
                _ => text,
            }));
        }
        for cell in &cells[key_cells..] {
            value(match cell {
                None | Some("-") => None,
                Some(text) => Some(text),
            });
        }
    }
}

impl TableShape {
    /// The table a report plan's rows go to: `table`, or the name made from its level, time
    /// breakdown and other dimensions ([`table_name`]). Names that SQL would need quoted are
    /// refused, for the table and for every column.
    pub fn for_report(plan: &Plan, table: Option<&str>) -> Result<Self, WarehouseError> {
        let dimensions = &plan.spec.dimensions;
        let name = match table {
            Some(name) => name.trim().to_string(),
            None => table_name(
                dimensions[0].trim_end_matches("_id"),
                dimensions.iter().any(|d| d == "stat_time_hour"),
                dimensions.get(2..).unwrap_or_default(),
            ),
        };
        if !valid_identifier(&name) {
            return Err(WarehouseError::Shape(format!(
                "--table {name:?} is not a table name: lower-case letters, digits and _, at most 63"
            )));
        }
        if let Some(bad) = plan.data_columns.iter().find(|c| !valid_identifier(c)) {
            return Err(WarehouseError::Shape(format!(
                "{bad:?} cannot be a column name (lower-case letters, digits and _)"
            )));
        }
        let metric_count = plan.data_columns.len() - dimensions.len();
        Ok(Self::new(name, &plan.data_columns, metric_count))
    }
}

/// The table name of a report shape: `tiktok_<level>_<daily|hourly>`, then `_by_<dimension>`
/// for each breakdown.
pub fn table_name(level: &str, hourly: bool, breakdowns: &[String]) -> String {
    let mut name = format!("tiktok_{level}_{}", if hourly { "hourly" } else { "daily" });
    for b in breakdowns {
        name.push_str("_by_");
        name.push_str(b);
    }
    name
}

/// Whether a name is safe as an SQL identifier without quoting games.
pub fn valid_identifier(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

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

/// An SQL identifier, quoted.
pub(crate) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// How a database spells a table's columns.
pub(crate) struct Dialect {
    pub column_type: fn(ColumnKind) -> &'static str,
    /// The type of `synced_at`.
    pub timestamp: &'static str,
    /// After `CREATE TABLE (...)`.
    pub table_options: &'static str,
}

/// The statements that make a table fit `shape`, given the columns it has (none: it does not
/// exist) and its key: a `CREATE TABLE`, or an `ALTER TABLE ... ADD COLUMN` per new metric. A
/// table with another key is refused, with the fix; nothing is ever dropped.
pub(crate) fn fit_table(
    shape: &TableShape,
    existing: &[String],
    existing_key: &[String],
    dialect: &Dialect,
) -> Result<Vec<String>, WarehouseError> {
    let table = quote(&shape.name);
    let key_names: Vec<&str> = shape.key.iter().map(|c| c.name.as_str()).collect();
    if existing.is_empty() {
        let columns: Vec<String> = shape
            .key
            .iter()
            .chain(&shape.metrics)
            .map(|c| format!("{} {}", quote(&c.name), (dialect.column_type)(c.kind)))
            .chain(std::iter::once(format!(
                "synced_at {} NOT NULL",
                dialect.timestamp
            )))
            .collect();
        let key: Vec<String> = key_names.iter().map(|k| quote(k)).collect();
        return Ok(vec![format!(
            "CREATE TABLE {table} ({}, PRIMARY KEY ({})){}",
            columns.join(", "),
            key.join(", "),
            dialect.table_options
        )]);
    }
    let mut wanted = key_names.clone();
    let mut have: Vec<&str> = existing_key.iter().map(String::as_str).collect();
    wanted.sort_unstable();
    have.sort_unstable();
    if wanted != have {
        return Err(WarehouseError::Shape(format!(
            "table {} exists with another shape (key {}; this sync's is {}): nothing was \
             changed. Sync this report into another table with --table NAME, or rename the old \
             table yourself",
            shape.name,
            existing_key.join(", "),
            key_names.join(", ")
        )));
    }
    Ok(shape
        .metrics
        .iter()
        .filter(|m| !existing.contains(&m.name))
        .map(|m| {
            format!(
                "ALTER TABLE {table} ADD COLUMN {} {}",
                quote(&m.name),
                (dialect.column_type)(m.kind)
            )
        })
        .collect())
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_are_read_and_shown_without_passwords() {
        assert_eq!(
            Destination::parse("sqlite:data/t.db"),
            Ok(Destination::Sqlite("data/t.db".into()))
        );
        let pg = Destination::parse("postgres://ads:s3cret@db.example:5432/ads").unwrap();
        assert_eq!(pg.shown(), "postgres://ads:***@db.example:5432/ads");
        assert!(Destination::parse("mysql://x").is_err());
        assert!(!format!("{:?}", Destination::parse("ftp://u:s3cret@h")).contains("s3cret"));
        assert!(!format!("{pg:?}").contains("s3cret"));
        assert!(pg.has_password());
        assert!(
            !Destination::parse("postgres://ads@db/ads")
                .unwrap()
                .has_password()
        );
    }

    #[test]
    fn rows_keep_tiktoks_text_and_dashes_become_null() {
        let columns: Vec<String> = [
            "campaign_id",
            "stat_time_day",
            "spend",
            "campaign_name",
            "cpc",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let shape = TableShape::new("t".into(), &columns, 3);
        assert_eq!(shape.key.len(), 3, "advertiser, campaign, day");
        assert_eq!(shape.metrics[0].kind, ColumnKind::Number);
        assert_eq!(shape.metrics[1].kind, ColumnKind::Text);
        let mut values: Vec<Option<String>> = Vec::new();
        shape.row_values(
            "7300000000000000001",
            &[
                Some("1812"),
                Some("2025-03-01 00:00:00"),
                Some("0.10000000000000001"),
                Some("-"),
                None,
            ],
            |v| values.push(v.map(str::to_string)),
        );
        assert_eq!(
            values,
            [
                Some("7300000000000000001".into()),
                Some("1812".into()),
                Some("2025-03-01".into()),
                Some("0.10000000000000001".into()),
                None,
                None
            ]
        );
        assert_eq!(
            table_name("ad", false, &["country_code".into()]),
            "tiktok_ad_daily_by_country_code"
        );
        assert!(valid_identifier("tiktok_ad_daily") && !valid_identifier("x; drop table y"));
    }
}
