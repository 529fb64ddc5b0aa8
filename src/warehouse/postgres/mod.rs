//! PostgreSQL: metrics as NUMERIC (exact), days as DATE, hours as TIMESTAMP; each window goes
//! through COPY into a temporary table and one upsert; a session advisory lock keeps two syncs
//! into one database apart. The password comes from the URL, `PGPASSWORD` or `~/.pgpass`, and
//! is never printed.

mod connect;
pub(crate) use connect::connect;
mod copy;
mod parts;

use self::copy::{COMPLETE, COPY_PIECE, PIECES_WAITING, copy_field};
use self::parts::{OpenWindow, Part, split_days, write_part};

use std::sync::mpsc::sync_channel;

use anyhow::{Context as _, Result, bail};
use chrono::NaiveDate;
use postgres::{Client, Config};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::report::Window;
use crate::report::incremental::Synced;

use super::{
    ColumnKind, Counts, Dialect, STATE_TABLE, TableShape, Upserted, Warehouse, fit_table, quote,
};

pub(crate) struct Postgres {
    /// The connection that holds the sync lock: there until dropped, except while a window's
    /// first part uses it.
    client: Option<Client>,
    /// Further connections for a window's later days, opened on the first window that spans
    /// days.
    helpers: Vec<Client>,
    /// Whether helpers were asked for (once a run: a server that refuses them is not asked
    /// again, and the run goes on over one connection).
    helpers_tried: bool,
    config: Config,
    tls: MakeRustlsConnect,
    /// The open window, if any.
    open: Option<OpenWindow>,
}

fn sql_type(kind: ColumnKind) -> &'static str {
    match kind {
        ColumnKind::Key => "TEXT NOT NULL",
        ColumnKind::Day => "DATE NOT NULL",
        ColumnKind::Hour => "TIMESTAMP NOT NULL",
        ColumnKind::Number => "NUMERIC",
        ColumnKind::Text => "TEXT",
    }
}

impl Postgres {
    /// The connection, for statements of their own (`watch --into`).
    pub(crate) fn connection(&mut self) -> Result<&mut Client> {
        self.db()
    }

    fn db(&mut self) -> Result<&mut Client> {
        self.client
            .as_mut()
            .ok_or_else(|| anyhow::anyhow!("the PostgreSQL connection is closed"))
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // The driver closes its connection on a runtime of its own, which cannot start on a
        // thread that drives this process's runtime: close them on a thread of its own then.
        if tokio::runtime::Handle::try_current().is_ok() {
            let clients: Vec<Client> = self
                .client
                .take()
                .into_iter()
                .chain(self.helpers.drain(..))
                .collect();
            let _ = std::thread::spawn(move || drop(clients)).join();
        }
    }
}

impl Warehouse for Postgres {
    fn prepare(&mut self, shape: &TableShape) -> Result<()> {
        self.db()?.batch_execute(&format!(
            "CREATE TABLE IF NOT EXISTS {STATE_TABLE} (table_name TEXT NOT NULL, \
             advertiser_id TEXT NOT NULL, first_day DATE NOT NULL, last_day DATE NOT NULL, \
             synced_at TIMESTAMPTZ NOT NULL, \
             PRIMARY KEY (table_name, advertiser_id))"
        ))?;
        let existing: Vec<String> = self
            .db()?
            .query(
                "SELECT column_name FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1",
                &[&shape.name],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let key: Vec<String> = if existing.is_empty() {
            Vec::new()
        } else {
            self.db()?
                .query(
                    "SELECT a.attname::text FROM pg_index i JOIN pg_attribute a \
                     ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) \
                     WHERE i.indrelid = (quote_ident(current_schema()) || '.' || quote_ident($1))::regclass \
                     AND i.indisprimary",
                    &[&shape.name],
                )?
                .iter()
                .map(|r| r.get(0))
                .collect()
        };
        let dialect = Dialect {
            column_type: sql_type,
            timestamp: "TIMESTAMPTZ",
            // Every sync rewrites the lookback days: with half of each page free, PostgreSQL
            // writes a row's new version beside the old one and leaves the primary key alone
            // (a HOT update): rewriting every row then takes about half as long, and the table
            // does not grow, for twice the disk.
            table_options: " WITH (fillfactor = 50)",
        };
        for statement in fit_table(shape, &existing, &key, &dialect)? {
            self.db()?.batch_execute(&statement)?;
        }
        Ok(())
    }

    fn all_progress(&mut self) -> Result<Vec<Synced>> {
        let exists: bool = self
            .db()?
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&STATE_TABLE])?
            .get(0);
        if !exists {
            return Ok(Vec::new());
        }
        let rows = self.db()?.query(
            &format!(
                "SELECT table_name, advertiser_id, first_day::text, last_day::text, \
                 to_char(synced_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM {STATE_TABLE} \
                 ORDER BY table_name, advertiser_id"
            ),
            &[],
        )?;
        rows.iter()
            .map(|r| {
                let date = |i: usize| {
                    r.get::<_, String>(i)
                        .parse::<NaiveDate>()
                        .context("a day that is not a date")
                };
                Ok(Synced {
                    table: r.get(0),
                    advertiser: r.get(1),
                    first_day: date(2)?,
                    last_day: date(3)?,
                    synced_at: r.get(4),
                })
            })
            .collect()
    }

    fn begin_window(
        &mut self,
        shape: &TableShape,
        advertiser: &str,
        days: Option<Window>,
    ) -> Result<()> {
        let columns: Vec<String> = shape
            .key
            .iter()
            .chain(&shape.metrics)
            .map(|c| quote(&c.name))
            .chain(std::iter::once("synced_at".to_string()))
            .collect();
        let columns = columns.join(", ");
        let day_at = shape.key.iter().position(|c| c.kind == ColumnKind::Day);
        let spread = match (days, day_at) {
            (Some(days), Some(_)) if days.end > days.start => {
                self.open_helpers();
                split_days(days, 1 + self.helpers.len())
            }
            _ => vec![days],
        };
        let mut clients = Vec::with_capacity(spread.len());
        clients.extend(self.client.take());
        if clients.is_empty() {
            bail!("the PostgreSQL connection is closed");
        }
        clients.extend(self.helpers.drain(..spread.len() - 1));
        let mut parts = Vec::with_capacity(spread.len());
        for (client, part_days) in clients.into_iter().zip(&spread) {
            let (sender, receiver) = sync_channel::<Vec<u8>>(PIECES_WAITING);
            let (shape, advertiser, columns, part_days) = (
                shape.clone(),
                advertiser.to_string(),
                columns.clone(),
                *part_days,
            );
            let worker = std::thread::Builder::new()
                .name("postgres-copy".into())
                .spawn(move || {
                    write_part(client, &shape, &advertiser, part_days, &columns, &receiver)
                })?;
            parts.push(Part {
                days: part_days,
                sender: Some(sender),
                worker: Some(worker),
                buffer: Vec::with_capacity(COPY_PIECE + (16 << 10)),
                rows: 0,
            });
        }
        let split = day_at.filter(|_| spread.len() > 1).map(|at| {
            let firsts = spread[1..]
                .iter()
                .flatten()
                .map(|d| d.start.to_string())
                .collect();
            (at, firsts)
        });
        self.open = Some(OpenWindow {
            parts,
            split,
            kinds: shape
                .key
                .iter()
                .chain(&shape.metrics)
                .map(|c| c.kind)
                .collect(),
        });
        Ok(())
    }

    fn upsert(&mut self, values: &[Option<&str>], synced_at: &str) -> Result<Upserted> {
        let Some(open) = self.open.as_mut() else {
            bail!("no window is open");
        };
        let at = match &open.split {
            Some((day_at, firsts)) => values.get(*day_at).copied().flatten().map_or(0, |day| {
                firsts.iter().take_while(|f| day >= f.as_str()).count()
            }),
            None => 0,
        };
        let Some(part) = open.parts.get_mut(at) else {
            bail!("no part of the window holds this row");
        };
        for (value, &kind) in values.iter().zip(&open.kinds) {
            copy_field(&mut part.buffer, *value, kind)?;
            part.buffer.push(b'\t');
        }
        copy_field(&mut part.buffer, Some(synced_at), ColumnKind::Text)?;
        part.buffer.push(b'\n');
        part.rows += 1;
        if part.buffer.len() >= COPY_PIECE {
            self.hand_over(at)?;
        }
        // What happened to it is known when the window's upsert runs.
        Ok(Upserted::Unchanged)
    }

    fn finish_window(
        &mut self,
        shape: &TableShape,
        advertiser: &str,
        _days: Option<Window>,
        synced_at: &str,
    ) -> Result<Counts> {
        for at in 0..self.open.as_ref().map_or(0, |o| o.parts.len()) {
            self.hand_over(at)?;
        }
        let Some(open) = self.open.take() else {
            bail!("no window is open");
        };
        for part in &open.parts {
            // A part whose thread stopped says why when it is joined.
            let _ = part.sender.as_ref().map(|s| s.send(COMPLETE));
        }
        let ended = self.end_parts(open);
        self.commit_parts(shape, advertiser, ended, synced_at)
    }

    fn abandon_window(&mut self) -> Result<()> {
        if let Some(open) = self.open.take() {
            // Whatever the COPYs did, the transactions are rolled back.
            let ended = self.end_parts(open);
            self.roll_back(ended.into_iter().map(|e| e.client));
        }
        if self.client.is_none() {
            bail!("the PostgreSQL connection is closed");
        }
        Ok(())
    }
}
