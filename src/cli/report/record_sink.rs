//! Report rows into the output layer's record writers: the report library's [`RowSink`],
//! adapted to CSV, JSON, NDJSON and tables.

use std::collections::BTreeMap;
use std::io::{BufRead, Seek, Write};

use anyhow::{Context as _, Result};

use crate::output::RecordWriter;
use crate::report::sink::{RowSink, Unit};

/// Rows into a record writer (CSV, JSON, NDJSON, table), prefixed by the account's columns.
/// With several accounts, each account's rows wait in a temporary file (JSON lines: a missing
/// value stays distinct from an empty one) until the account is complete, so a failed account
/// leaves nothing in the output and memory stays flat.
pub(crate) struct RecordSink {
    writer: RecordWriter,
    leads: BTreeMap<String, Vec<Option<String>>>,
    spool: Option<Spool>,
    dash_as_empty: bool,
}

struct Spool {
    current: Option<(String, std::io::BufWriter<std::fs::File>)>,
}

impl RecordSink {
    /// `leads`: each account's prefix cells; `spool`: whether several accounts may share the
    /// output; `dash_as_empty`: TikTok's `"-"` written as an empty cell.
    pub(crate) fn new(
        writer: RecordWriter,
        leads: BTreeMap<String, Vec<Option<String>>>,
        spool: bool,
        dash_as_empty: bool,
    ) -> Self {
        Self {
            writer,
            leads,
            spool: spool.then_some(Spool { current: None }),
            dash_as_empty,
        }
    }
}

impl RowSink for RecordSink {
    fn row(&mut self, unit: &Unit<'_>, cells: &[Option<&str>]) -> Result<()> {
        let lead = self
            .leads
            .get(unit.advertiser)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let dash_as_empty = self.dash_as_empty;
        let row = lead
            .iter()
            .map(|c| c.as_deref())
            .chain(cells.iter().map(|c| match c {
                Some("-") if dash_as_empty => Some(""),
                other => *other,
            }));
        match self.spool.as_mut() {
            Some(spool) => spool.write(unit.advertiser, row),
            None => self.writer.write_cells(row),
        }
    }

    fn account_done(&mut self, advertiser: &str, complete: bool) -> Result<()> {
        let Some(spool) = self.spool.as_mut() else {
            return Ok(());
        };
        match spool.current.take() {
            Some((held, out)) if held == advertiser && complete => {
                let mut file = out.into_inner().map_err(|e| e.into_error())?;
                file.seek(std::io::SeekFrom::Start(0))?;
                for line in std::io::BufReader::new(file).lines() {
                    let cells: Vec<Option<String>> = serde_json::from_str(&line?)?;
                    self.writer
                        .write_cells(cells.iter().map(|c| c.as_deref()))?;
                }
                self.writer.flush()
            }
            // A failed account's spool is dropped with its temporary file.
            _ => Ok(()),
        }
    }

    fn flush(&mut self) -> Result<()> {
        self.writer.flush()
    }

    fn commit(self) -> Result<u64> {
        self.writer.finish()
    }
}

impl Spool {
    fn write<'a>(
        &mut self,
        advertiser: &str,
        cells: impl Iterator<Item = Option<&'a str>>,
    ) -> Result<()> {
        if self.current.as_ref().is_none_or(|(a, _)| a != advertiser) {
            let file = tempfile::tempfile().context("creating a temporary file")?;
            self.current = Some((advertiser.to_string(), std::io::BufWriter::new(file)));
        }
        if let Some((_, out)) = self.current.as_mut() {
            serde_json::to_writer(&mut *out, &cells.collect::<Vec<_>>())?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }
}
