//! Where a report's rows go, and how a run ends. Both ways of fetching a report (synchronous
//! pages, asynchronous tasks) hand rows to one [`RowSink`] in the same order — account by
//! account, window by window — and end through one [`conclude`]: a complete run commits the
//! sink; a run where some accounts failed keeps the complete accounts, drops every row of the
//! failed ones and fails as incomplete; a run where nothing is complete leaves nothing.

use std::collections::HashSet;

use anyhow::Result;

use super::error::ReportError;
use super::observer::Observer;
use super::plan::{Planned, PlannedAccount};
use super::window::Window;

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

/// A run under way: where rows go, what has failed so far, and who hears of it. Both ways of
/// fetching a report start from the planned accounts and end through [`Run::conclude`].
pub(crate) struct Run<'a, S: RowSink> {
    pub(crate) sink: S,
    failures: Vec<Failure>,
    advertisers: usize,
    observer: &'a dyn Observer,
}

impl<'a, S: RowSink> Run<'a, S> {
    /// A run of `planned` into `sink`: the accounts to fetch, and the run whose first failures
    /// are those of planning.
    pub(crate) fn start(
        planned: Planned,
        sink: S,
        observer: &'a dyn Observer,
    ) -> (Vec<PlannedAccount>, Self) {
        let run = Self {
            sink,
            failures: planned.failures,
            advertisers: planned.advertisers,
            observer,
        };
        (planned.accounts, run)
    }

    /// Whether the run covers one account alone (its failure is the run's, at once).
    pub(crate) fn single(&self) -> bool {
        self.advertisers == 1
    }

    /// Part of `advertiser`'s data (a window, or all of it) cannot be had: the run goes on.
    pub(crate) fn fail(&mut self, advertiser: &str, window: Option<Window>, error: anyhow::Error) {
        self.failures.push(Failure {
            advertiser: advertiser.to_string(),
            window,
            error,
        });
    }

    /// Ends the run (see [`conclude`]).
    pub(crate) fn conclude(self) -> Result<u64> {
        conclude(self.sink, self.failures, self.advertisers, self.observer)
    }
}

/// Ends a run: commits a complete one; with some accounts failed, commits the others and
/// fails as incomplete (the failures said through `observer`); with nothing complete, drops
/// the sink (no output file is left) and fails with the first failure.
fn conclude(
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
