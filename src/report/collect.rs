//! A small report held in memory: the rows of every account, each with its advertiser, for
//! callers that decide from the numbers (`bulk` checks budgets against spend, `rules` evaluates
//! conditions) rather than write them out. Complete or failed, like every report: an account
//! whose rows do not add up fails the whole collection.

use std::collections::BTreeMap;

use anyhow::Result;
use chrono::NaiveDate;

use super::observer::Silent;
use super::paged;
use super::plan::{self, PlanRequest};
use super::sink::{RowSink, Unit};
use crate::accounts::AccountFacts;
use crate::api::Client;

/// A row with its advertiser.
pub type Row = (String, Vec<Option<String>>);

/// The rows of a collected report: `columns` (dimensions then metrics, as asked), and per row
/// its advertiser and cells exactly as TikTok sent them.
#[derive(Debug, Default, Clone)]
pub struct Collected {
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
}

impl Collected {
    pub fn index(&self, column: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == column)
    }
}

/// Rows of complete accounts, handed over when the run commits (the run owns its sink).
struct Memory {
    rows: Vec<Row>,
    /// Rows of the account under way: kept only once the account is complete.
    pending: Vec<Row>,
    out: std::sync::Arc<std::sync::Mutex<Vec<Row>>>,
}

impl RowSink for Memory {
    fn row(&mut self, unit: &Unit<'_>, cells: &[Option<&str>]) -> Result<()> {
        self.pending.push((
            unit.advertiser.to_string(),
            cells.iter().map(|c| c.map(str::to_string)).collect(),
        ));
        Ok(())
    }

    fn account_done(&mut self, _advertiser: &str, complete: bool) -> Result<()> {
        if complete {
            self.rows.append(&mut self.pending);
        } else {
            self.pending.clear();
        }
        Ok(())
    }

    fn commit(self) -> Result<u64> {
        let n = self.rows.len() as u64;
        *self.out.lock().unwrap_or_else(|p| p.into_inner()) = self.rows;
        Ok(n)
    }
}

/// Runs `request` for `advertisers` (dates in each account's zone, from `facts`) and keeps
/// every row. `today` moves "today" for callers that judge it themselves (UTC date).
pub async fn collect(
    client: &Client,
    request: &PlanRequest,
    advertisers: &[String],
    facts: &BTreeMap<String, AccountFacts>,
    utc_today: NaiveDate,
) -> Result<Collected> {
    let plan = plan::build(request)?;
    let planned = plan::plan_accounts(&plan, advertisers, facts, false, utc_today, &Silent)?;
    if let Some(failure) = planned.failures.into_iter().next() {
        return Err(failure.located());
    }
    let planned = plan::Planned {
        accounts: planned.accounts,
        failures: Vec::new(),
        advertisers: planned.advertisers,
    };
    let shared = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = Memory {
        rows: Vec::new(),
        pending: Vec::new(),
        out: shared.clone(),
    };
    paged::run(client, &plan, planned, sink, &Silent, 2).await?;
    let rows = std::mem::take(&mut *shared.lock().unwrap_or_else(|p| p.into_inner()));
    Ok(Collected {
        columns: plan.data_columns.clone(),
        rows,
    })
}
