//! `report sync`: keeps a database (SQLite file or PostgreSQL) current with a report — each
//! advertiser from the day after its last synced day (or `--since`) to yesterday in its own
//! time zone, the last `--lookback` days again for late attribution, one transaction per window.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use anyhow::{Context as _, Result};
use chrono::{Duration as Days, NaiveDate};
use clap::Args;

use super::args::ShapeArgs;
use super::progress::CliObserver;
use crate::cli::context::Context;
use crate::cli::errors::usage;
use crate::report::plan::{self, Plan, Planned, PlannedAccount};
use crate::report::sink::Failure;
use crate::report::split_windows;
use crate::report::{Breakdown, sync};
use crate::warehouse::sink::{Committed, DbSink};
use crate::warehouse::{self, Destination, Progress, TableShape, entities};

/// Days before today a first sync starts without `--since`.
const FIRST_SYNC_DAYS: i64 = 30;

#[derive(Debug, Args)]
pub struct SyncArgs {
    #[command(flatten)]
    pub what: ShapeArgs,
    /// Where to: sqlite:PATH or postgres://USER@HOST/DB (password from PGPASSWORD or
    /// ~/.pgpass, never in the URL on a shared machine). Default: sqlite:tiktok-ads.db.
    #[arg(long, value_name = "DEST", value_parser = Destination::parse)]
    pub into: Option<Destination>,
    /// The table's name (default: from level and breakdown, e.g. tiktok_ad_daily).
    #[arg(long, value_name = "NAME")]
    pub table: Option<String>,
    /// First day of an advertiser's first sync (default: 30 days ago); later runs go on from
    /// where the last one ended.
    #[arg(long, value_name = "DATE", value_parser = super::args::parse_date)]
    pub since: Option<NaiveDate>,
    /// Days before the last synced day pulled again, for TikTok's late attribution.
    #[arg(long, default_value_t = 3, value_name = "DAYS",
          value_parser = clap::value_parser!(u32).range(0..=365))]
    pub lookback: u32,
    /// Leave deleted campaigns, ad groups and ads out (their spend is real: kept by default).
    #[arg(long)]
    pub exclude_deleted: bool,
    /// Also upsert the campaigns, ad groups and ads (IDs, names, statuses, budgets) into
    /// tiktok_campaigns, tiktok_adgroups and tiktok_ads.
    #[arg(long)]
    pub with_entities: bool,
    /// Print what would be pulled per advertiser and exit without calling the API.
    #[arg(long, conflicts_with = "status")]
    pub explain: bool,
    /// List, per table and advertiser, the last day synced and when.
    #[arg(long)]
    pub status: bool,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 4, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=16))]
    pub concurrency: u32,
}

impl SyncArgs {
    fn destination(&self) -> Destination {
        self.into
            .clone()
            .unwrap_or_else(|| Destination::Sqlite(warehouse::DEFAULT_SQLITE.into()))
    }
}

pub async fn sync_report(ctx: &Context, args: SyncArgs) -> Result<()> {
    let destination = args.destination();
    if destination.has_password() {
        ctx.notice(
            "note: a password in --into shows in `ps` to every user of this machine and in shell \
             history: prefer PGPASSWORD or ~/.pgpass (0600)",
        );
    }
    if args.status {
        return status(ctx, &destination).await;
    }
    let (plan, shape) = plan_table(&args)?;
    if args.explain {
        return explain(ctx, &args, &destination, &plan, &shape).await;
    }
    let advertisers =
        super::advertisers(ctx, args.what.all_advertisers, args.what.bc.as_deref()).await?;
    let (mut store, progress) = {
        let destination = destination.clone();
        let shape = shape.clone();
        let with_entities = args.with_entities;
        blocking(move || {
            let mut store = warehouse::open(&destination)?;
            store.prepare(&shape)?;
            if with_entities {
                entities::prepare(store.as_mut())?;
            }
            let progress = store.progress(&shape.name)?;
            Ok((store, progress))
        })
        .await?
    };
    let (client, _) = ctx.authed_client().await?;
    let facts = crate::accounts::facts(&client, &advertisers)
        .await
        .context("reading the accounts' time zones from /advertiser/info/ (a sync runs to yesterday in each account's own zone)")?;
    let mut planned = plan_sync(ctx, &args, &plan, &advertisers, &facts, &progress);
    let synced_at = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let mut entity_counts = BTreeMap::new();
    if args.with_entities {
        let include_deleted = !args.exclude_deleted;
        for advertiser in &advertisers {
            let stored = match entities::fetch(&client, advertiser, include_deleted).await {
                Ok(fetched) => {
                    let (synced_at, advertiser) = (synced_at.clone(), advertiser.clone());
                    let (returned, counts) = blocking(move || {
                        let counts =
                            entities::store(store.as_mut(), &advertiser, &fetched, &synced_at);
                        Ok((store, counts))
                    })
                    .await?;
                    store = returned;
                    counts
                }
                Err(error) => Err(error),
            };
            match stored {
                Ok(counts) => {
                    for (table, c) in counts {
                        entity_counts
                            .entry(table)
                            .or_insert_with(warehouse::Counts::default)
                            .add(c);
                    }
                }
                // Its report waits for the next run too: the account is caught up whole.
                Err(error) => {
                    planned.accounts.retain(|a| &a.advertiser != advertiser);
                    planned.failures.push(Failure {
                        advertiser: advertiser.clone(),
                        window: None,
                        error: error.context("syncing its campaigns, ad groups and ads"),
                    });
                }
            }
        }
    }
    let observer = CliObserver::new(ctx);
    let committed = Arc::new(Mutex::new(Committed::default()));
    let sink = DbSink::start(store, shape.clone(), synced_at, committed.clone())?;
    let concurrency = args.concurrency as usize;
    let result = sync::run_sync(&client, &plan, planned, sink, &observer, concurrency).await;
    drop(observer);
    let committed = committed.lock().unwrap_or_else(|p| p.into_inner()).clone();
    ctx.notice(&summary(&shape.name, &committed, &entity_counts));
    result.map(|_| ())
}

/// Each advertiser's windows: from where its sync stands to yesterday in its own time zone.
/// An account whose zone TikTok did not give fails on its own (nothing is guessed); an
/// account already up to date has nothing to pull.
fn plan_sync(
    ctx: &Context,
    args: &SyncArgs,
    plan: &Plan,
    advertisers: &[String],
    facts: &BTreeMap<String, crate::accounts::AccountFacts>,
    progress: &BTreeMap<String, Progress>,
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
            planned.failures.push(Failure {
                advertiser: advertiser.clone(),
                window: None,
                error: crate::report::ReportError::AccountFacts(format!(
                    "the time zone of advertiser {advertiser} is unknown ({why}): a sync runs to \
                     yesterday in the account's own zone, so nothing was pulled rather than the \
                     wrong days; the next run catches up"
                ))
                .into(),
            });
            continue;
        };
        match sync_range(args.since, args.lookback, progress.get(advertiser), today) {
            Some((start, end)) => planned.accounts.push(PlannedAccount {
                advertiser: advertiser.clone(),
                windows: split_windows(start, end, plan.spec.max_span_days())
                    .into_iter()
                    .map(Some)
                    .collect(),
            }),
            None => ctx.notice(&format!(
                "advertiser {advertiser}: up to date (synced to {}, yesterday in its time zone)",
                today - Days::days(1)
            )),
        }
    }
    planned
}

/// The days to pull for one account: from the day after its last synced day, less
/// `--lookback` days (or from `--since`, or 30 days ago, on its first sync), to yesterday in
/// its zone. `None`: nothing to pull.
fn sync_range(
    since: Option<NaiveDate>,
    lookback: u32,
    progress: Option<&Progress>,
    today: NaiveDate,
) -> Option<(NaiveDate, NaiveDate)> {
    let end = today - Days::days(1);
    // --since is for an account's first sync only, so that it can stay in a cron line.
    let start = match progress {
        Some(p) => (p.last_day + Days::days(1) - Days::days(i64::from(lookback))).max(p.first_day),
        None => since.unwrap_or(today - Days::days(FIRST_SYNC_DAYS)),
    };
    (start <= end).then_some((start, end))
}

/// The report plan and the table it goes to.
fn plan_table(args: &SyncArgs) -> Result<(Plan, TableShape)> {
    if args.what.breakdown == Breakdown::None {
        return Err(usage(
            "report sync keeps days (or hours): use --by day or --by hour, not none",
        ));
    }
    let mut request = args.what.request();
    let placeholder = chrono::Utc::now().date_naive() - Days::days(1);
    request.start = Some(placeholder);
    request.end = Some(placeholder);
    request.include_deleted = !args.exclude_deleted;
    let plan = plan::build(&request)?;
    let dimension_count = plan.spec.dimensions.len();
    let breakdowns: Vec<String> = plan.spec.dimensions[2..].to_vec();
    let name = match &args.table {
        Some(name) => name.trim().to_string(),
        None => warehouse::table_name(
            args.what.level.id_dimension().trim_end_matches("_id"),
            args.what.breakdown == Breakdown::Hour,
            &breakdowns,
        ),
    };
    if !warehouse::valid_identifier(&name) {
        return Err(usage(format!(
            "--table {name:?} is not a table name: lower-case letters, digits and _, at most 63"
        )));
    }
    if let Some(bad) = plan
        .data_columns
        .iter()
        .find(|c| !warehouse::valid_identifier(c))
    {
        return Err(usage(format!(
            "{bad:?} cannot be a column name (lower-case letters, digits and _)"
        )));
    }
    let metric_count = plan.data_columns.len() - dimension_count;
    let shape = TableShape::new(name, &plan.data_columns, metric_count);
    Ok((plan, shape))
}

/// Runs database work off the async runtime (the PostgreSQL driver blocks on a runtime of
/// its own, which may not run inside this one).
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .context("the database task stopped")?
}

/// `--status`: per table and advertiser, the last day synced and when.
async fn status(ctx: &Context, destination: &Destination) -> Result<()> {
    let progress = {
        let destination = destination.clone();
        blocking(move || warehouse::read_progress(&destination)).await?
    };
    if progress.is_empty() {
        ctx.notice(&format!(
            "{} holds no sync yet: run `tiktok-ads report sync --into {}`",
            destination.shown(),
            destination.shown()
        ));
    }
    let columns = [
        "table",
        "advertiser_id",
        "first_day",
        "last_day",
        "synced_at",
    ]
    .map(str::to_string)
    .to_vec();
    let mut writer = ctx.record_writer(columns)?;
    for p in &progress {
        let (first, last) = (p.first_day.to_string(), p.last_day.to_string());
        writer.write_cells(
            [
                Some(p.table.as_str()),
                Some(p.advertiser.as_str()),
                Some(first.as_str()),
                Some(last.as_str()),
                Some(p.synced_at.as_str()),
            ]
            .into_iter(),
        )?;
    }
    writer.finish()?;
    Ok(())
}

/// `--explain`: per advertiser, what would be pulled — days judged in UTC here (the account's
/// own zone is read from TikTok only when run).
async fn explain(
    ctx: &Context,
    args: &SyncArgs,
    destination: &Destination,
    plan: &Plan,
    shape: &TableShape,
) -> Result<()> {
    let progress: BTreeMap<String, Progress> = {
        let destination = destination.clone();
        let table = shape.name.clone();
        blocking(move || {
            Ok(warehouse::read_progress(&destination)?
                .into_iter()
                .filter(|p| p.table == table)
                .map(|p| (p.advertiser.clone(), p))
                .collect())
        })
        .await?
    };
    // Every account of a token or BC is listed only at run time: those synced before are in
    // the state; any other starts as a first sync.
    let advertisers: Vec<String> = if args.what.many_accounts() {
        progress.keys().cloned().collect()
    } else if ctx.global.advertiser.is_empty() {
        ctx.profile.advertiser_id.clone().into_iter().collect()
    } else {
        ctx.global.advertiser.clone()
    };
    let today = chrono::Utc::now().date_naive();
    let spec = &plan.spec;
    let mut out = String::new();
    writeln!(out, "Sync plan (nothing was sent):")?;
    writeln!(
        out,
        "  into         {} table {}",
        destination.shown(),
        shape.name
    )?;
    let key: Vec<&str> = shape.key.iter().map(|c| c.name.as_str()).collect();
    writeln!(out, "  key          {}", key.join(", "))?;
    writeln!(out, "  metrics      {}", spec.metrics.join(", "))?;
    writeln!(
        out,
        "  deleted      {}",
        if args.exclude_deleted {
            "left out (--exclude-deleted)"
        } else {
            "included (their spend is real spend)"
        }
    )?;
    if args.what.many_accounts() {
        let whose = match &args.what.bc {
            Some(bc) => format!("Business Center {bc}"),
            None => "the token".to_string(),
        };
        let first = sync_range(args.since, args.lookback, None, today);
        writeln!(
            out,
            "  advertisers  every ad account of {whose} (listed at run time); those synced \
             before are below, any other is a first sync{}",
            first.map_or(String::new(), |(start, end)| format!(" ({start} to {end})"))
        )?;
    }
    if advertisers.is_empty() && !args.what.many_accounts() {
        writeln!(out, "  advertisers  none given (--advertiser)")?;
    }
    let mut total = 0usize;
    for advertiser in &advertisers {
        match sync_range(args.since, args.lookback, progress.get(advertiser), today) {
            Some((start, end)) => {
                let windows = split_windows(start, end, spec.max_span_days());
                total += windows.len();
                let since = progress.get(advertiser).map_or_else(
                    || "first sync".to_string(),
                    |p| format!("synced to {}, {} days again", p.last_day, args.lookback),
                );
                writeln!(
                    out,
                    "  {advertiser}  {start} to {end} ({since}): {} window{}, at least {} request{}",
                    windows.len(),
                    if windows.len() == 1 { "" } else { "s" },
                    windows.len(),
                    if windows.len() == 1 { "" } else { "s" },
                )?;
            }
            None => writeln!(out, "  {advertiser}  up to date")?,
        }
    }
    writeln!(
        out,
        "  requests     at least {total} report requests{} (one more per extra page of {} rows) + 1 \
         /advertiser/info/ per 100 accounts{}",
        if args.what.many_accounts() {
            " for the accounts above, plus one a window for each account not synced yet"
        } else {
            ""
        },
        spec.page_size,
        if args.with_entities {
            " + the campaign, ad group and ad lists"
        } else {
            ""
        }
    )?;
    writeln!(
        out,
        "  dates        judged in UTC here; in each account's own time zone when run"
    )?;
    ctx.write_text(&out)
}

/// The end-of-run summary: rows inserted / updated / unchanged per table, days covered.
fn summary(
    table: &str,
    committed: &Committed,
    entities: &BTreeMap<String, warehouse::Counts>,
) -> String {
    let mut text = String::new();
    let c = committed.counts;
    let _ = write!(
        text,
        "{table}: {} inserted, {} updated, {} unchanged ({} window{} committed)",
        c.inserted,
        c.updated,
        c.unchanged,
        committed.windows,
        if committed.windows == 1 { "" } else { "s" }
    );
    for (advertiser, (first, last)) in &committed.days {
        let _ = write!(text, "\n  advertiser {advertiser}: {first} to {last}");
    }
    for (name, c) in entities {
        let _ = write!(
            text,
            "\n{name}: {} inserted, {} updated, {} unchanged",
            c.inserted, c.updated, c.unchanged
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn synced(first: &str, last: &str) -> Progress {
        Progress {
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
}
