//! Where a report's rows go, and how a run ends. Both ways of fetching a report (synchronous
//! pages, asynchronous tasks) hand rows to one [`RowSink`] in the same order — account by
//! account, window by window — and end through one [`conclude`]: a complete run commits the
//! sink; a run where some accounts failed keeps the complete accounts, drops every row of the
//! failed ones and fails as incomplete; a run where nothing is complete leaves nothing.

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, Seek, Write};

use anyhow::{Context as _, Result};

use super::error::ReportError;
use super::observer::Observer;
use super::plan::Plan;
use super::window::Window;
use crate::accounts::AccountFacts;
use crate::output::RecordWriter;

/// One part of a run: an advertiser over one window (`None`: the lifetime).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unit<'a> {
    pub advertiser: &'a str,
    pub window: Option<Window>,
}

/// Where rows go. Calls come in order: the rows of a unit, then `unit_complete` once they add
/// up to TikTok's count; after an account's last unit, `account_done` (also for a failed account,
/// whose rows must then not stay). `commit` ends a run whose output is to be kept.
pub trait RowSink {
    /// One row: the plan's data columns, in order (`None`: TikTok sent no value).
    fn row(&mut self, unit: &Unit<'_>, cells: &[Option<&str>]) -> Result<()>;

    /// Every row of `unit` has arrived and they add up.
    fn unit_complete(&mut self, _unit: &Unit<'_>) -> Result<()> {
        Ok(())
    }

    /// All of the account's units are complete (`true`), or the account failed (`false`).
    fn account_done(&mut self, advertiser: &str, complete: bool) -> Result<()>;

    /// A page of rows has been handed over: a good moment to let readers downstream see them.
    fn flush(&mut self) -> Result<()> {
        Ok(())
    }

    /// Keeps the output; returns the rows kept.
    fn commit(self) -> Result<u64>;
}

/// Why part of a run's data is not there.
pub struct Failure {
    pub advertiser: String,
    pub window: Option<Window>,
    pub error: anyhow::Error,
}

impl Failure {
    /// The error, saying where.
    pub fn located(self) -> anyhow::Error {
        let window = self.window.map(|w| format!(" ({w})")).unwrap_or_default();
        self.error
            .context(format!("advertiser {}{window}", self.advertiser))
    }
}

/// Ends a run: commits a complete one; with some accounts failed, commits the others and
/// fails as incomplete (the failures said through `observer`); with nothing complete, drops
/// the sink (no output file is left) and fails with the first failure.
pub fn conclude(
    sink: impl RowSink,
    failures: Vec<Failure>,
    advertisers: usize,
    observer: &dyn Observer,
) -> Result<u64> {
    if failures.is_empty() {
        let rows = sink.commit()?;
        observer.committed(rows);
        return Ok(rows);
    }
    let failed: HashSet<String> = failures.iter().map(|f| f.advertiser.clone()).collect();
    if failed.len() < advertisers {
        let mut names: Vec<String> = failed.into_iter().collect();
        names.sort();
        let count = names.len();
        for failure in failures {
            observer.error(&format!("error: {:#}", failure.located()));
        }
        // The other accounts are complete: keep their rows, but never report success.
        let rows = sink.commit()?;
        observer.committed(rows);
        return Err(ReportError::Incomplete(format!(
            "{count} of {advertisers} advertisers failed ({}); the output holds the others, \
             complete, and nothing of the failed ones",
            names.join(", ")
        ))
        .into());
    }
    drop(sink);
    let mut failures = failures.into_iter();
    let first = failures.next().map(Failure::located);
    for other in failures {
        observer.error(&format!("error: {:#}", other.located()));
    }
    Err(first.unwrap_or_else(|| anyhow::anyhow!("the report failed")))
}

/// Columns written before the report's own: `advertiser_id` when several accounts may be in
/// one output (unless it is already a dimension), `currency,timezone` with account info.
pub fn prefix_columns(plan: &Plan, many_accounts: bool, with_account_info: bool) -> Vec<String> {
    let mut prefix = Vec::new();
    if (many_accounts || with_account_info)
        && !plan.data_columns.iter().any(|c| c == "advertiser_id")
    {
        prefix.push("advertiser_id".to_string());
    }
    if with_account_info {
        prefix.extend(["currency".to_string(), "timezone".to_string()]);
    }
    prefix
}

/// The values of the prefix columns for one account; an account whose currency or time zone
/// TikTok did not give fails rather than print empty cells.
pub fn lead_cells(
    prefix: &[String],
    advertiser: &str,
    account: Option<&AccountFacts>,
) -> Result<Vec<Option<String>>, ReportError> {
    let cells: Vec<Option<String>> = prefix
        .iter()
        .map(|c| match c.as_str() {
            "advertiser_id" => Some(advertiser.to_string()),
            "currency" => account.and_then(|a| a.currency.clone()),
            _ => account.and_then(|a| a.timezone.clone()),
        })
        .collect();
    if let Some((missing, _)) = prefix.iter().zip(&cells).find(|(_, cell)| cell.is_none()) {
        return Err(ReportError::AccountFacts(format!(
            "the {missing} of advertiser {advertiser} is unknown (TikTok's /advertiser/info/ did not \
             give it), so --with-account-info cannot fill its column: try again"
        )));
    }
    Ok(cells)
}

/// Rows into a record writer (CSV, JSON, NDJSON, table), prefixed by the account's columns.
/// With several accounts, each account's rows wait in a temporary file (JSON lines: a missing
/// value stays distinct from an empty one) until the account is complete, so a failed account
/// leaves nothing in the output and memory stays flat.
pub struct RecordSink {
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
    pub fn new(
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

    /// The writer, for whoever ends the output (and may say where it went).
    pub fn into_writer(self) -> RecordWriter {
        self.writer
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
