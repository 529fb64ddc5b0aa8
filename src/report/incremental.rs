//! `report sync` as a library: keeps a store (a database: see `warehouse`) current with a
//! report. Each advertiser is pulled from the day after its last synced day — less
//! `lookback` days, for TikTok's late attribution — or from `since` on its first sync, to
//! yesterday in its own time zone; the windows go through the paged pipeline into the store's
//! sink, one transaction per window. The store is reached through [`SyncTarget`], so this
//! layer knows no database.

use std::collections::BTreeMap;

use anyhow::{Context as _, Result};
use chrono::{Duration as Days, NaiveDate};

use super::entities;
use super::error::ReportError;
use super::observer::Observer;
use super::plan::{self, Breakdown, Plan, PlanRequest, Planned, PlannedAccount};
use super::sink::RowSink;
use super::window::split_windows;
use crate::accounts::AccountFacts;
use crate::api::Client;

/// Days before today a first sync starts without `since`.
pub const FIRST_SYNC_DAYS: i64 = 30;

/// How far the sync of one table has come for one advertiser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Synced {
    pub table: String,
    pub advertiser: String,
    /// The first day ever synced (a lookback never reaches before it).
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub synced_at: String,
}

/// What a sync is asked to do, besides the report itself.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// First day of an advertiser's first sync (default: [`FIRST_SYNC_DAYS`] ago).
    pub since: Option<NaiveDate>,
    /// Days before the last synced day pulled again.
    pub lookback: u32,
    /// Also keep the accounts' campaigns, ad groups and ads.
    pub with_entities: bool,
    /// Deleted entities are kept too (the report's own filter says so for its rows).
    pub include_deleted: bool,
    /// Requests in flight at once.
    pub concurrency: usize,
}

/// Where a sync's rows go and how far each account got. Its methods may block (a database
/// driver): they are called off the async runtime.
pub trait SyncTarget: Send + 'static {
    type Sink: RowSink;

    /// Each advertiser's progress in the report's table.
    fn synced(&self) -> &BTreeMap<String, Synced>;

    /// Keeps an account's entity snapshot, whole or not at all.
    fn store_entities(
        &mut self,
        advertiser: &str,
        snapshot: &entities::Snapshot,
        synced_at: &str,
    ) -> Result<()>;

    /// Where the report's rows go, stamped with `synced_at`.
    fn into_sink(self, synced_at: String) -> Result<Self::Sink>;
}

/// The report a sync keeps, checked: days (or hours), over dates decided per account later.
pub fn plan(request: &PlanRequest) -> Result<Plan, ReportError> {
    if request.breakdown == Breakdown::None {
        return Err(ReportError::Invalid(
            "report sync keeps days (or hours): use --by day or --by hour, not none".into(),
        ));
    }
    // The dates are each account's own, decided when it is planned: any day checks the rest.
    let placeholder = chrono::Utc::now().date_naive() - Days::days(1);
    let request = PlanRequest {
        start: Some(placeholder),
        end: Some(placeholder),
        last: None,
        yesterday: false,
        lifetime: false,
        ..request.clone()
    };
    plan::build(&request)
}

/// The days to pull for one account: from the day after its last synced day, less `lookback`
/// days (or from `since`, or [`FIRST_SYNC_DAYS`] ago, on its first sync), to yesterday in its
/// zone. `None`: nothing to pull.
pub fn sync_range(
    since: Option<NaiveDate>,
    lookback: u32,
    synced: Option<&Synced>,
    today: NaiveDate,
) -> Option<(NaiveDate, NaiveDate)> {
    let end = today - Days::days(1);
    // `since` is for an account's first sync only, so that it can stay in a cron line.
    let start = match synced {
        Some(p) => (p.last_day + Days::days(1) - Days::days(i64::from(lookback))).max(p.first_day),
        None => since.unwrap_or(today - Days::days(FIRST_SYNC_DAYS)),
    };
    (start <= end).then_some((start, end))
}

/// Each advertiser's windows: from where its sync stands to yesterday in its own time zone.
/// An account whose zone TikTok did not give fails on its own (nothing is guessed); an
/// account already up to date has nothing to pull (said through `observer`).
pub fn plan_accounts(
    plan: &Plan,
    options: &SyncOptions,
    advertisers: &[String],
    facts: &BTreeMap<String, AccountFacts>,
    synced: &BTreeMap<String, Synced>,
    observer: &dyn Observer,
) -> Planned {
    let mut planned = Planned {
        accounts: Vec::new(),
        failures: Vec::new(),
        advertisers: advertisers.len(),
    };
    for advertiser in advertisers {
        let zone = facts.get(advertiser).and_then(|f| f.timezone.as_deref());
        let Some(today) = zone.and_then(plan::today_in) else {
            let why = zone.map_or_else(
                || "TikTok's /advertiser/info/ did not give it".to_string(),
                |z| format!("TikTok names it {z:?}"),
            );
            planned.fail(
                advertiser,
                ReportError::AccountFacts(format!(
                    "the time zone of advertiser {advertiser} is unknown ({why}): a sync runs to \
                     yesterday in the account's own zone, so nothing was pulled rather than the \
                     wrong days; the next run catches up"
                ))
                .into(),
            );
            continue;
        };
        match sync_range(
            options.since,
            options.lookback,
            synced.get(advertiser),
            today,
        ) {
            Some((start, end)) => planned.accounts.push(PlannedAccount {
                advertiser: advertiser.clone(),
                windows: split_windows(start, end, plan.spec.max_span_days())
                    .into_iter()
                    .map(Some)
                    .collect(),
            }),
            None => observer.note(&format!(
                "advertiser {advertiser}: up to date (synced to {}, yesterday in its time zone)",
                today - Days::days(1)
            )),
        }
    }
    planned
}

/// Syncs `advertisers` into `target`: their time zones, the windows each needs, their
/// entities when asked (an account whose entities fail waits for the next run whole), then
/// every window through the paged pipeline into the target's sink. Ends as a report run
/// does: the rows kept, or why not (some accounts failing is [`ReportError::Incomplete`]).
pub async fn run<T: SyncTarget>(
    client: &Client,
    plan: &Plan,
    options: &SyncOptions,
    advertisers: &[String],
    mut target: T,
    observer: &dyn Observer,
) -> Result<u64> {
    let facts = crate::accounts::facts(client, advertisers)
        .await
        .context("reading the accounts' time zones from /advertiser/info/ (a sync runs to yesterday in each account's own zone)")?;
    let mut planned = plan_accounts(
        plan,
        options,
        advertisers,
        &facts,
        target.synced(),
        observer,
    );
    let synced_at = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    if options.with_entities {
        for advertiser in advertisers {
            let stored = match entities::fetch(client, advertiser, options.include_deleted).await {
                Ok(snapshot) => {
                    let (synced_at, advertiser) = (synced_at.clone(), advertiser.clone());
                    let (returned, stored) = off_runtime(move || {
                        let stored = target.store_entities(&advertiser, &snapshot, &synced_at);
                        Ok((target, stored))
                    })
                    .await?;
                    target = returned;
                    stored
                }
                Err(error) => Err(error),
            };
            if let Err(error) = stored {
                // Its report waits for the next run too: the account is caught up whole.
                planned.fail(
                    advertiser,
                    error.context("syncing its campaigns, ad groups and ads"),
                );
            }
        }
    }
    let sink = target.into_sink(synced_at)?;
    super::paged::run(client, plan, planned, sink, observer, options.concurrency).await
}

/// Runs store work off the async runtime (a database driver may block on a runtime of its
/// own, which may not run inside this one).
async fn off_runtime<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .context("the database task stopped")?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn synced(first: &str, last: &str) -> Synced {
        Synced {
            table: "tiktok_ad_daily".into(),
            advertiser: "1".into(),
            first_day: day(first),
            last_day: day(last),
            synced_at: String::new(),
        }
    }

    #[test]
    fn a_sync_resumes_after_the_last_day_less_the_lookback_and_never_before_the_first() {
        let today = day("2026-12-01");
        // First sync: 30 days ago, or --since.
        assert_eq!(
            sync_range(None, 3, None, today),
            Some((day("2026-11-01"), day("2026-11-30")))
        );
        let since = Some(day("2026-06-01"));
        assert_eq!(
            sync_range(since, 3, None, today).map(|r| r.0),
            Some(day("2026-06-01"))
        );
        // Later: --since no longer counts; the last 3 days are pulled again.
        let p = synced("2026-06-01", "2026-11-28");
        assert_eq!(
            sync_range(since, 3, Some(&p), today),
            Some((day("2026-11-26"), day("2026-11-30")))
        );
        // Never before the first day synced.
        let young = synced("2026-11-27", "2026-11-27");
        assert_eq!(
            sync_range(None, 5, Some(&young), today).map(|r| r.0),
            Some(day("2026-11-27"))
        );
        // Up to date, no lookback: nothing to pull.
        let done = synced("2026-11-01", "2026-11-30");
        assert_eq!(sync_range(None, 0, Some(&done), today), None);
        assert_eq!(
            sync_range(None, 1, Some(&done), today),
            Some((day("2026-11-30"), day("2026-11-30")))
        );
    }

    #[test]
    fn a_sync_keeps_days_or_hours_not_totals() {
        let totals = PlanRequest {
            breakdown: Breakdown::None,
            ..PlanRequest::default()
        };
        assert!(matches!(plan(&totals), Err(ReportError::Invalid(_))));
        let hourly = PlanRequest {
            breakdown: Breakdown::Hour,
            last: Some(7),
            ..PlanRequest::default()
        };
        assert_eq!(plan(&hourly).unwrap().spec.max_span_days(), 1);
    }
}
