//! A window written in parts: its days split over connections (each part copied and merged by
//! a server process of its own, a transaction each), committed in day order with the progress
//! of the days they hold.

use std::io::Write;
use std::sync::mpsc::{Receiver, SyncSender};
use std::thread::JoinHandle;

use anyhow::{Context as _, Result, bail};
use postgres::Client;

use super::Postgres;
use super::copy::COPY_PIECE;
use crate::report::Window;
use crate::warehouse::{ColumnKind, Counts, PartlyCommitted, STATE_TABLE, TableShape, quote};

/// Connections a window's days are spread over. PostgreSQL runs a statement on one core, and
/// a re-sync that rewrites every row is that one process's work: two halves of a window, each
/// copied and merged by a server process of its own, take about half the time (each half is a
/// transaction of its own, committed in day order with its progress).
pub(super) const CONNECTIONS: usize = 2;

/// A window's transactions, one per part, in day order.
pub(super) struct OpenWindow {
    pub(super) parts: Vec<Part>,
    /// Where a row's day is, and the first day (`YYYY-MM-DD`) of each part after the first:
    /// a row goes to the last part whose first day it has reached.
    pub(super) split: Option<(usize, Vec<String>)>,
    pub(super) kinds: Vec<ColumnKind>,
}

/// Some days of a window and their transaction. Their rows, in COPY text format, stream to a
/// thread that holds a connection and one COPY open until the window ends, so PostgreSQL works
/// while rows still arrive: straight into the table when it holds none of those days yet, else
/// into a temporary table that one upsert merges at the end.
pub(super) struct Part {
    pub(super) days: Option<Window>,
    pub(super) sender: Option<SyncSender<Vec<u8>>>,
    pub(super) worker: Option<JoinHandle<Worked>>,
    pub(super) buffer: Vec<u8>,
    pub(super) rows: u64,
}

/// What a part's thread hands back: its connection (the transaction still open) and the rows
/// it inserted and updated.
pub(super) type Worked = (Client, Result<(u64, u64)>);

/// A part of a window whose thread has ended: its connection back, its transaction open, and
/// what its rows did.
pub(super) struct Ended {
    pub(super) days: Option<Window>,
    pub(super) client: Client,
    pub(super) written: Result<Counts>,
}

/// `days` in `parts` runs of consecutive days, as even as whole days allow.
pub(super) fn split_days(days: Window, parts: usize) -> Vec<Option<Window>> {
    let total = (days.end - days.start).num_days() + 1;
    let parts = (parts.max(1) as i64).min(total);
    let mut start = days.start;
    (0..parts)
        .map(|i| {
            let length = total / parts + i64::from(i < total % parts);
            let end = start + chrono::Days::new(length as u64 - 1);
            let window = Window { start, end };
            start = end + chrono::Days::new(1);
            Some(window)
        })
        .collect()
}

/// Records the progress over `days` and commits a part's transaction.
pub(super) fn commit_part(
    client: &mut Client,
    shape: &TableShape,
    advertiser: &str,
    days: Option<Window>,
    synced_at: &str,
) -> Result<()> {
    if let Some(days) = days {
        client.execute(
            &format!(
                "INSERT INTO {STATE_TABLE} (table_name, advertiser_id, first_day, last_day, \
                 synced_at) VALUES ($1, $2, $3::text::date, $4::text::date, \
                 $5::text::timestamptz) ON CONFLICT (table_name, advertiser_id) DO UPDATE SET \
                 first_day = least({STATE_TABLE}.first_day, EXCLUDED.first_day), \
                 last_day = greatest({STATE_TABLE}.last_day, EXCLUDED.last_day), \
                 synced_at = EXCLUDED.synced_at"
            ),
            &[
                &shape.name,
                &advertiser,
                &days.start.to_string(),
                &days.end.to_string(),
                &synced_at,
            ],
        )?;
    }
    client.batch_execute("COMMIT")?;
    Ok(())
}

/// The thread of one part: opens its transaction, chooses where the rows go, copies every
/// piece it is handed until the window ends, merges them, and hands the connection back.
pub(super) fn write_part(
    mut client: Client,
    shape: &TableShape,
    advertiser: &str,
    days: Option<Window>,
    columns: &str,
    pieces: &Receiver<Vec<u8>>,
) -> Worked {
    let result = (|| -> Result<(u64, u64)> {
        client.batch_execute("BEGIN")?;
        let direct = match days {
            Some(days) => holds_nothing(&mut client, shape, advertiser, days)?,
            None => false,
        };
        let target = if direct {
            quote(&shape.name)
        } else {
            client.batch_execute(&format!(
                "CREATE TEMP TABLE tiktok_staging (LIKE {} INCLUDING DEFAULTS) ON COMMIT DROP",
                quote(&shape.name)
            ))?;
            "tiktok_staging".to_string()
        };
        let mut writer = client.copy_in(&format!("COPY {target} ({columns}) FROM STDIN"))?;
        let mut complete = false;
        for piece in pieces {
            if piece.is_empty() {
                complete = true;
                break;
            }
            writer.write_all(&piece)?;
        }
        if !complete {
            // Dropping the writer cancels the COPY; the transaction is rolled back.
            drop(writer);
            bail!("the window was abandoned");
        }
        let copied = writer.finish()?;
        if direct {
            Ok((copied, 0))
        } else {
            merge(&mut client, shape, columns)
        }
    })()
    .with_context(|| match days {
        Some(days) => format!("writing {days} of advertiser {advertiser} to PostgreSQL"),
        None => format!("writing advertiser {advertiser}'s rows to PostgreSQL"),
    });
    (client, result)
}

/// Whether the table holds no row of `advertiser` in `days`: then the window's rows can go
/// straight in. The state table answers first (days outside what was ever synced); the table
/// itself confirms.
pub(super) fn holds_nothing(
    db: &mut Client,
    shape: &TableShape,
    advertiser: &str,
    days: Window,
) -> Result<bool> {
    let Some(time) = shape
        .key
        .iter()
        .find(|c| matches!(c.kind, ColumnKind::Day | ColumnKind::Hour))
    else {
        return Ok(false);
    };
    let synced = db.query_opt(
        &format!(
            "SELECT 1 FROM {STATE_TABLE} WHERE table_name = $1 AND advertiser_id = $2 \
             AND first_day <= $4::text::date AND last_day >= $3::text::date"
        ),
        &[
            &shape.name,
            &advertiser,
            &days.start.to_string(),
            &days.end.to_string(),
        ],
    )?;
    if synced.is_some() {
        return Ok(false);
    }
    let found = db.query_opt(
        &format!(
            "SELECT 1 FROM {} WHERE advertiser_id = $1 AND {time} >= $2::text::date \
             AND {time} < $3::text::date + 1 LIMIT 1",
            quote(&shape.name),
            time = quote(&time.name)
        ),
        &[&advertiser, &days.start.to_string(), &days.end.to_string()],
    )?;
    Ok(found.is_none())
}

/// Merges the staged rows into the table: new keys inserted, changed rows updated, equal rows
/// left alone; (inserted, updated).
pub(super) fn merge(db: &mut Client, shape: &TableShape, columns: &str) -> Result<(u64, u64)> {
    let table = quote(&shape.name);
    let key: Vec<String> = shape.key.iter().map(|c| quote(&c.name)).collect();
    let metrics: Vec<String> = shape.metrics.iter().map(|c| quote(&c.name)).collect();
    let sets: Vec<String> = metrics
        .iter()
        .map(|m| format!("{m} = EXCLUDED.{m}"))
        .chain(std::iter::once(
            "synced_at = EXCLUDED.synced_at".to_string(),
        ))
        .collect();
    let differs = if metrics.is_empty() {
        "false".to_string()
    } else {
        let of = |prefix: &str| {
            metrics
                .iter()
                .map(|m| format!("{prefix}.{m}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!("({}) IS DISTINCT FROM ({})", of(&table), of("EXCLUDED"))
    };
    let row = db.query_one(
        &format!(
            "WITH written AS (INSERT INTO {table} ({columns}) SELECT {columns} FROM tiktok_staging \
             ON CONFLICT ({key}) DO UPDATE SET {sets} WHERE {differs} \
             RETURNING (xmax = 0) AS inserted) \
             SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM written",
            key = key.join(", "),
            sets = sets.join(", "),
        ),
        &[],
    )?;
    let count = |i: usize| row.get::<_, i64>(i).max(0) as u64;
    Ok((count(0), count(1)))
}

impl Postgres {
    /// Opens the helper connections, once a run; a server that refuses them (its connection
    /// limit reached, say) leaves the run on its one connection.
    pub(super) fn open_helpers(&mut self) {
        if self.helpers_tried {
            return;
        }
        self.helpers_tried = true;
        for _ in 1..CONNECTIONS {
            match self.config.connect(self.tls.clone()) {
                Ok(client) => self.helpers.push(client),
                Err(e) => {
                    tracing::debug!("a second PostgreSQL connection was refused ({e}): one it is");
                    break;
                }
            }
        }
    }

    /// Hands the rows waiting in part `at` of the open window to its thread; when that thread
    /// has stopped, ends the window and says why.
    pub(super) fn hand_over(&mut self, at: usize) -> Result<()> {
        let Some(part) = self.open.as_mut().and_then(|o| o.parts.get_mut(at)) else {
            return Ok(());
        };
        if part.buffer.is_empty() {
            return Ok(());
        }
        let piece = std::mem::replace(
            &mut part.buffer,
            Vec::with_capacity(COPY_PIECE + (16 << 10)),
        );
        let sent = part.sender.as_ref().map(|s| s.send(piece));
        if matches!(sent, Some(Ok(()))) {
            return Ok(());
        }
        let Some(open) = self.open.take() else {
            bail!("no window is open");
        };
        let mut ended = self.end_parts(open);
        let error = match ended.get_mut(at).map(|e| &mut e.written) {
            Some(written @ Err(_)) => std::mem::replace(written, Ok(Counts::default())).err(),
            _ => None,
        };
        self.roll_back(ended.into_iter().map(|e| e.client));
        Err(error.unwrap_or_else(|| anyhow::anyhow!("the COPY to PostgreSQL stopped")))
    }

    /// Ends every part's COPY and waits for its merge; the connections come back with their
    /// transactions open. A part whose thread panicked is gone, and says so.
    pub(super) fn end_parts(&mut self, open: OpenWindow) -> Vec<Ended> {
        let mut ended = Vec::with_capacity(open.parts.len());
        let mut parts = open.parts;
        for part in &mut parts {
            part.sender = None;
        }
        for part in parts {
            match part.worker.map(JoinHandle::join) {
                Some(Ok((client, written))) => ended.push(Ended {
                    days: part.days,
                    client,
                    written: written.map(|(inserted, updated)| Counts {
                        inserted,
                        updated,
                        unchanged: part.rows.saturating_sub(inserted + updated),
                    }),
                }),
                _ => tracing::debug!("a PostgreSQL COPY thread panicked"),
            }
        }
        ended
    }

    /// Commits the parts in day order, each with its progress: a part is committed only when
    /// every part wrote its rows and the parts before it are committed, so the progress never
    /// passes a day that is not in. What the whole window's rows did.
    pub(super) fn commit_parts(
        &mut self,
        shape: &TableShape,
        advertiser: &str,
        mut ended: Vec<Ended>,
        synced_at: &str,
    ) -> Result<Counts> {
        let mut totals = Counts::default();
        let mut failure = None;
        for part in &mut ended {
            match &mut part.written {
                Ok(counts) => totals.add(*counts),
                // The first error, whole (its type gives the exit code).
                written @ Err(_) if failure.is_none() => {
                    failure = std::mem::replace(written, Ok(Counts::default())).err();
                }
                Err(_) => {}
            }
        }
        let mut committed: Option<PartlyCommitted> = None;
        let mut pending = ended.into_iter();
        if failure.is_none() {
            for mut part in pending.by_ref() {
                match commit_part(&mut part.client, shape, advertiser, part.days, synced_at) {
                    Ok(()) => {
                        self.give_back(part.client);
                        if let (Some(days), Ok(counts)) = (part.days, part.written) {
                            let so_far = committed.get_or_insert(PartlyCommitted {
                                counts: Counts::default(),
                                days,
                            });
                            so_far.days.end = days.end;
                            so_far.counts.add(counts);
                        }
                    }
                    Err(e) => {
                        failure = Some(e);
                        self.roll_back(std::iter::once(part.client));
                        break;
                    }
                }
            }
        }
        self.roll_back(pending.map(|part| part.client));
        match (failure, committed) {
            (None, _) => Ok(totals),
            (Some(error), Some(committed)) => Err(error.context(committed)),
            (Some(error), None) => Err(error),
        }
    }

    /// Rolls the connections' transactions back and keeps them for the next window; a helper
    /// that cannot roll back is closed.
    pub(super) fn roll_back(&mut self, clients: impl Iterator<Item = Client>) {
        for mut client in clients {
            let rolled_back = client.batch_execute("ROLLBACK").is_ok();
            if rolled_back || self.client.is_none() {
                self.give_back(client);
            }
        }
    }

    /// A connection back from a window: the first is the one that holds the lock.
    pub(super) fn give_back(&mut self, client: Client) {
        if self.client.is_none() {
            self.client = Some(client);
        } else {
            self.helpers.push(client);
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(super) fn a_window_splits_into_runs_of_whole_days_in_order() {
        let day = |d: &str| d.parse::<chrono::NaiveDate>().unwrap();
        let window = |a: &str, b: &str| {
            Some(Window {
                start: day(a),
                end: day(b),
            })
        };
        let ten = Window {
            start: day("2026-11-01"),
            end: day("2026-11-10"),
        };
        assert_eq!(
            split_days(ten, 2),
            vec![
                window("2026-11-01", "2026-11-05"),
                window("2026-11-06", "2026-11-10")
            ]
        );
        let nine = Window {
            end: day("2026-11-09"),
            ..ten
        };
        assert_eq!(
            split_days(nine, 2),
            vec![
                window("2026-11-01", "2026-11-05"),
                window("2026-11-06", "2026-11-09")
            ]
        );
        // Never more parts than days, never an empty one.
        let two = Window {
            end: day("2026-11-02"),
            ..ten
        };
        assert_eq!(
            split_days(two, 3),
            vec![
                window("2026-11-01", "2026-11-01"),
                window("2026-11-02", "2026-11-02")
            ]
        );
        assert_eq!(split_days(ten, 1), vec![Some(ten)]);
    }
}
