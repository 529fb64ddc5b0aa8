//! SQLite (embedded, nothing to install): metrics as TEXT holding TikTok's exact decimal
//! strings, WAL journal, one transaction per window, and a lock file beside the database so
//! two syncs into it do not interleave.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension, params_from_iter};

use crate::report::Window;
use crate::report::incremental::Synced;

use super::{
    ColumnKind, Counts, Dialect, STATE_TABLE, TableShape, Upserted, Warehouse, WarehouseError,
    fit_table, quote,
};

pub(crate) struct Sqlite {
    connection: Connection,
    path: PathBuf,
    /// Held for the whole run: another sync into the same file is refused.
    _lock: crate::fsutil::FileLock,
    window: Counts,
    /// Per table prepared: insert-if-new, update-if-different.
    statements: BTreeMap<String, (String, String)>,
    /// The table of the open window.
    current: Option<String>,
}

impl Sqlite {
    pub(crate) fn open(path: &Path) -> Result<Self> {
        let lock_path = {
            let mut name = path.as_os_str().to_os_string();
            name.push(".sync-lock");
            PathBuf::from(name)
        };
        let unusable = |what: &str, e: &dyn std::fmt::Display| {
            WarehouseError::Unusable(format!(
                "cannot {what} the SQLite database {}: {e} (does its directory exist, and may this \
                 user write there? --into sqlite:PATH picks another file)",
                path.display()
            ))
        };
        let lock = crate::fsutil::try_lock(&lock_path)
            .map_err(|e| unusable("lock", &format!("{e:#}")))?
            .ok_or_else(|| {
                WarehouseError::Busy(format!(
                    "another tiktok-ads report sync is writing to {} (it holds {}): try again when it ends",
                    path.display(),
                    lock_path.display()
                ))
            })?;
        let connection = Connection::open(path).map_err(|e| unusable("open", &e))?;
        connection
            .busy_timeout(std::time::Duration::from_secs(30))
            .map_err(|e| unusable("open", &e))?;
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .and_then(|_| connection.pragma_update(None, "synchronous", "NORMAL"))
            // 16 MiB of page cache (the default is 2): a window's upserts stay in memory.
            .and_then(|_| connection.pragma_update(None, "cache_size", -16384))
            .map_err(|e| unusable("write to", &e))?;
        Ok(Self {
            connection,
            path: path.to_path_buf(),
            _lock: lock,
            window: Counts::default(),
            statements: BTreeMap::new(),
            current: None,
        })
    }

    /// A table's columns, and whether each is part of its primary key.
    fn columns_of(&self, table: &str) -> Result<Vec<(String, bool)>> {
        let mut statement = self
            .connection
            .prepare(&format!("PRAGMA table_info({})", quote(table)))?;
        let columns = statement
            .query_map([], |row| {
                Ok((row.get::<_, String>(1)?, row.get::<_, i64>(5)? > 0))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(columns)
    }
}

fn sql_type(kind: ColumnKind) -> &'static str {
    match kind {
        ColumnKind::Key | ColumnKind::Day | ColumnKind::Hour => "TEXT NOT NULL",
        ColumnKind::Number | ColumnKind::Text => "TEXT",
    }
}

impl Warehouse for Sqlite {
    fn prepare(&mut self, shape: &TableShape) -> Result<()> {
        let state = format!(
            "CREATE TABLE IF NOT EXISTS {STATE_TABLE} (table_name TEXT NOT NULL, \
             advertiser_id TEXT NOT NULL, first_day TEXT NOT NULL, last_day TEXT NOT NULL, \
             synced_at TEXT NOT NULL, \
             PRIMARY KEY (table_name, advertiser_id))"
        );
        self.connection.execute_batch(&state).map_err(|e| {
            WarehouseError::Unusable(format!(
                "cannot write to the SQLite database {}: {e}",
                self.path.display()
            ))
        })?;
        let existing = self.columns_of(&shape.name)?;
        let names: Vec<String> = existing.iter().map(|(name, _)| name.clone()).collect();
        let key: Vec<String> = existing
            .iter()
            .filter(|(_, in_key)| *in_key)
            .map(|(name, _)| name.clone())
            .collect();
        let dialect = Dialect {
            column_type: sql_type,
            timestamp: "TEXT",
            // Clustered on the key: one B-tree, rows in key order, no rowid beside it.
            table_options: " WITHOUT ROWID",
        };
        for statement in fit_table(shape, &names, &key, &dialect)? {
            self.connection.execute_batch(&statement)?;
        }
        let all: Vec<&str> = shape
            .key
            .iter()
            .chain(&shape.metrics)
            .map(|c| c.name.as_str())
            .collect();
        let placeholders: Vec<String> = (1..=all.len() + 1).map(|i| format!("?{i}")).collect();
        let insert = format!(
            "INSERT OR IGNORE INTO {} ({}, synced_at) VALUES ({})",
            quote(&shape.name),
            all.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", "),
            placeholders.join(", ")
        );
        let sets: Vec<String> = shape
            .metrics
            .iter()
            .enumerate()
            .map(|(i, m)| format!("{} = ?{}", quote(&m.name), shape.key.len() + i + 1))
            .chain(std::iter::once(format!("synced_at = ?{}", all.len() + 1)))
            .collect();
        let keys: Vec<String> = shape
            .key
            .iter()
            .enumerate()
            .map(|(i, k)| format!("{} = ?{}", quote(&k.name), i + 1))
            .collect();
        let differs: Vec<String> = shape
            .metrics
            .iter()
            .enumerate()
            .map(|(i, m)| format!("{} IS NOT ?{}", quote(&m.name), shape.key.len() + i + 1))
            .collect();
        let update = format!(
            "UPDATE {} SET {} WHERE {}{}",
            quote(&shape.name),
            sets.join(", "),
            keys.join(" AND "),
            if differs.is_empty() {
                " AND 0".to_string()
            } else {
                format!(" AND ({})", differs.join(" OR "))
            }
        );
        self.statements.insert(shape.name.clone(), (insert, update));
        Ok(())
    }

    fn all_progress(&mut self) -> Result<Vec<Synced>> {
        progress_in(&self.connection)
    }

    fn begin_window(
        &mut self,
        shape: &TableShape,
        _advertiser: &str,
        _days: Option<Window>,
    ) -> Result<()> {
        if !self.statements.contains_key(&shape.name) {
            bail!("table {} was not prepared", shape.name);
        }
        self.current = Some(shape.name.clone());
        self.window = Counts::default();
        self.connection.execute_batch("BEGIN IMMEDIATE")?;
        Ok(())
    }

    fn upsert(&mut self, values: &[Option<&str>], synced_at: &str) -> Result<Upserted> {
        let Some((insert, update)) = self
            .current
            .as_ref()
            .and_then(|table| self.statements.get(table))
        else {
            bail!("no window is open");
        };
        let parameters = values
            .iter()
            .copied()
            .chain(std::iter::once(Some(synced_at)));
        let inserted = self
            .connection
            .prepare_cached(insert)?
            .execute(params_from_iter(parameters.clone()))?;
        let outcome = if inserted > 0 {
            self.window.inserted += 1;
            Upserted::Inserted
        } else if self
            .connection
            .prepare_cached(update)?
            .execute(params_from_iter(parameters))?
            > 0
        {
            self.window.updated += 1;
            Upserted::Updated
        } else {
            self.window.unchanged += 1;
            Upserted::Unchanged
        };
        Ok(outcome)
    }

    fn finish_window(
        &mut self,
        shape: &TableShape,
        advertiser: &str,
        days: Option<Window>,
        synced_at: &str,
    ) -> Result<Counts> {
        if let Some(days) = days {
            self.connection.execute(
                &format!(
                    "INSERT INTO {STATE_TABLE} (table_name, advertiser_id, first_day, last_day, \
                 synced_at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (table_name, advertiser_id) \
                 DO UPDATE SET first_day = min(first_day, excluded.first_day), \
                 last_day = max(last_day, excluded.last_day), synced_at = excluded.synced_at"
                ),
                [
                    &shape.name,
                    advertiser,
                    &days.start.to_string(),
                    &days.end.to_string(),
                    synced_at,
                ],
            )?;
        }
        self.connection.execute_batch("COMMIT")?;
        Ok(std::mem::take(&mut self.window))
    }

    fn abandon_window(&mut self) -> Result<()> {
        if !self.connection.is_autocommit() {
            self.connection.execute_batch("ROLLBACK")?;
        }
        self.window = Counts::default();
        Ok(())
    }
}

/// The state table's rows.
fn progress_in(connection: &Connection) -> Result<Vec<Synced>> {
    let exists: Option<String> = connection
        .query_row(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [STATE_TABLE],
            |row| row.get(0),
        )
        .optional()?;
    if exists.is_none() {
        return Ok(Vec::new());
    }
    let mut statement = connection.prepare(&format!(
        "SELECT table_name, advertiser_id, first_day, last_day, synced_at FROM {STATE_TABLE} \
         ORDER BY table_name, advertiser_id"
    ))?;
    let rows = statement
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(table, advertiser, first, last, synced_at)| {
            let date = |day: &str| {
                day.parse::<NaiveDate>()
                    .with_context(|| format!("{STATE_TABLE} holds a day that is not a date: {day}"))
            };
            Ok(Synced {
                table,
                advertiser,
                first_day: date(&first)?,
                last_day: date(&last)?,
                synced_at,
            })
        })
        .collect()
}

/// Every table's progress in the database at `path`, read only (nothing is created; a
/// running sync does not block it).
pub(crate) fn read_progress(path: &Path) -> Result<Vec<Synced>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let connection = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| {
            WarehouseError::Unusable(format!(
                "cannot read the SQLite database {}: {e}",
                path.display()
            ))
        })?;
    connection.busy_timeout(std::time::Duration::from_secs(30))?;
    progress_in(&connection)
}
