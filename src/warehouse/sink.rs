//! Report rows into a database: [`DbSink`] is the [`RowSink`] of `report sync`. Rows go, in
//! batches, to a writer thread that owns the database connection, so fetching and decoding
//! pages never waits for the disk and the database never waits for the network. Each report
//! window is one transaction that also records the account's progress: a window is in the
//! database whole, with its progress, or not at all.

use std::collections::BTreeMap;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use anyhow::{Result, anyhow};
use chrono::NaiveDate;

use super::{Counts, PartlyCommitted, TableShape, Warehouse};
use crate::report::Window;
use crate::report::sink::{RowSink, Unit};

/// Rows a batch holds before it goes to the writer (also sent at the end of every page).
const BATCH_ROWS: usize = 2048;

/// Batches in flight to the writer: enough to keep it busy, few enough to keep memory flat.
const BATCHES_IN_FLIGHT: usize = 8;

enum Message {
    /// Rows of one unit (an advertiser over a window).
    Rows {
        advertiser: String,
        window: Option<Window>,
        rows: Batch,
    },
    /// The unit's rows are all there: commit them with the account's progress.
    UnitComplete {
        advertiser: String,
        window: Option<Window>,
    },
    /// The account failed: its open window (if any) is dropped.
    AccountFailed,
}

/// Rows in the table's column order, their text in one buffer (a few allocations a batch,
/// not one a cell).
#[derive(Debug, Default)]
struct Batch {
    text: String,
    /// Each value's span in `text`; `None` for NULL.
    values: Vec<Option<(u32, u32)>>,
    rows: usize,
}

impl Batch {
    fn push(&mut self, value: Option<&str>) {
        self.values.push(value.map(|v| {
            let start = self.text.len() as u32;
            self.text.push_str(v);
            (start, self.text.len() as u32)
        }));
    }

    fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Each row's values, `width` of them.
    fn for_each_row(
        &self,
        width: usize,
        mut row: impl FnMut(&[Option<&str>]) -> Result<()>,
    ) -> Result<()> {
        let mut values: Vec<Option<&str>> = Vec::with_capacity(width);
        for spans in self.values.chunks(width.max(1)) {
            values.clear();
            values.extend(spans.iter().map(|span| {
                span.and_then(|(start, end)| self.text.get(start as usize..end as usize))
            }));
            row(&values)?;
        }
        Ok(())
    }
}

/// What a sync has committed so far, per advertiser: rows and days, and the entity tables'
/// rows.
#[derive(Debug, Clone, Default)]
pub struct Committed {
    pub counts: Counts,
    /// Per advertiser, the first and last day of the windows committed.
    pub days: BTreeMap<String, (NaiveDate, NaiveDate)>,
    pub windows: u64,
    /// Per entity table, what happened to its rows.
    pub entities: BTreeMap<String, Counts>,
}

/// The report sink of `report sync`.
pub struct DbSink {
    sender: Option<SyncSender<Message>>,
    writer: Option<JoinHandle<Result<Box<dyn Warehouse>>>>,
    shape: Arc<TableShape>,
    batch: Batch,
    /// The unit the batch's rows belong to.
    unit: (String, Option<Window>),
    committed: Arc<Mutex<Committed>>,
}

impl DbSink {
    /// Starts the writer thread on a prepared `warehouse`; `committed` fills as windows commit
    /// (also when the run fails later).
    pub fn start(
        warehouse: Box<dyn Warehouse>,
        shape: TableShape,
        synced_at: String,
        committed: Arc<Mutex<Committed>>,
    ) -> Result<Self> {
        let shape = Arc::new(shape);
        let (sender, receiver) = sync_channel(BATCHES_IN_FLIGHT);
        let writer = {
            let shape = shape.clone();
            let committed = committed.clone();
            std::thread::Builder::new()
                .name("report-sync-writer".into())
                .spawn(move || write_all(warehouse, &shape, &synced_at, &receiver, &committed))?
        };
        Ok(Self {
            sender: Some(sender),
            writer: Some(writer),
            shape,
            batch: Batch::default(),
            unit: (String::new(), None),
            committed,
        })
    }

    fn send(&mut self, message: Message) -> Result<()> {
        let sent = self.sender.as_ref().map(|s| s.send(message));
        match sent {
            Some(Ok(())) => Ok(()),
            // The writer stopped: its error says why.
            _ => Err(self
                .join()
                .err()
                .unwrap_or_else(|| anyhow!("the database writer stopped"))),
        }
    }

    fn send_batch(&mut self) -> Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.batch);
        let (advertiser, window) = self.unit.clone();
        self.send(Message::Rows {
            advertiser,
            window,
            rows,
        })
    }

    /// Ends the writer and hands the database back.
    fn join(&mut self) -> Result<Box<dyn Warehouse>> {
        self.sender = None;
        match self.writer.take() {
            Some(writer) => writer
                .join()
                .map_err(|_| anyhow!("the database writer panicked"))?,
            None => Err(anyhow!("the database writer has already stopped")),
        }
    }

    /// Commits what is complete, stops the writer and hands the database back (for the entity
    /// tables, say).
    pub fn finish(mut self) -> Result<Box<dyn Warehouse>> {
        self.send_batch()?;
        self.join()
    }
}

impl Drop for DbSink {
    fn drop(&mut self) {
        // A run that is not committed: the open window is dropped, committed ones stay.
        if self.writer.is_some() {
            let _ = self.send(Message::AccountFailed);
            let _ = self.join();
        }
    }
}

impl RowSink for DbSink {
    fn row(&mut self, unit: &Unit<'_>, cells: &[Option<&str>]) -> Result<()> {
        if self.unit.0 != unit.advertiser || self.unit.1 != unit.window {
            self.send_batch()?;
            self.unit = (unit.advertiser.to_string(), unit.window);
        }
        let batch = &mut self.batch;
        self.shape
            .row_values(unit.advertiser, cells, |v| batch.push(v));
        batch.rows += 1;
        if batch.rows >= BATCH_ROWS {
            self.send_batch()?;
        }
        Ok(())
    }

    fn unit_complete(&mut self, unit: &Unit<'_>) -> Result<()> {
        self.send_batch()?;
        self.send(Message::UnitComplete {
            advertiser: unit.advertiser.to_string(),
            window: unit.window,
        })
    }

    fn account_done(&mut self, _advertiser: &str, complete: bool) -> Result<()> {
        self.send_batch()?;
        if complete {
            Ok(())
        } else {
            // Earlier windows of the account are committed with its progress; the next run
            // resumes after them.
            self.batch = Batch::default();
            self.send(Message::AccountFailed)
        }
    }

    fn flush(&mut self) -> Result<()> {
        self.send_batch()
    }

    fn commit(self) -> Result<u64> {
        let committed = self.committed.clone();
        self.finish()?;
        let counts = lock(&committed).counts;
        Ok(counts.inserted + counts.updated + counts.unchanged)
    }
}

/// The writer thread: windows in, one transaction each.
fn write_all(
    mut warehouse: Box<dyn Warehouse>,
    shape: &TableShape,
    synced_at: &str,
    receiver: &Receiver<Message>,
    committed: &Mutex<Committed>,
) -> Result<Box<dyn Warehouse>> {
    let mut open = false;
    for message in receiver {
        match message {
            Message::Rows {
                advertiser,
                window,
                rows,
            } => {
                if !open {
                    warehouse.begin_window(shape, &advertiser, window)?;
                    open = true;
                }
                let width = shape.key.len() + shape.metrics.len();
                rows.for_each_row(width, |values| {
                    warehouse.upsert(values, synced_at).map(|_| ())
                })?;
            }
            Message::UnitComplete { advertiser, window } => {
                if !open {
                    warehouse.begin_window(shape, &advertiser, window)?;
                }
                let finished = warehouse.finish_window(shape, &advertiser, window, synced_at);
                open = false;
                match finished {
                    Ok(counts) => record(committed, advertiser, counts, window, true),
                    Err(error) => {
                        // Its earlier days may be in (PostgreSQL writes a window in parts).
                        if let Some(part) = error.downcast_ref::<PartlyCommitted>() {
                            record(committed, advertiser, part.counts, Some(part.days), false);
                        }
                        return Err(error);
                    }
                }
            }
            Message::AccountFailed => {
                if open {
                    warehouse.abandon_window()?;
                    open = false;
                }
            }
        }
    }
    if open {
        warehouse.abandon_window()?;
    }
    Ok(warehouse)
}

/// A committed window (`whole`) or the committed part of one in the run's totals.
fn record(
    committed: &Mutex<Committed>,
    advertiser: String,
    counts: Counts,
    days: Option<Window>,
    whole: bool,
) {
    let mut committed = lock(committed);
    committed.counts.add(counts);
    committed.windows += u64::from(whole);
    if let Some(w) = days {
        let days = committed.days.entry(advertiser).or_insert((w.start, w.end));
        days.0 = days.0.min(w.start);
        days.1 = days.1.max(w.end);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
