//! `report sync`: keeps a database (SQLite file or PostgreSQL) current with a report — each
//! advertiser from the day after its last synced day (or `--since`) to yesterday in its own
//! time zone, the last `--lookback` days again for late attribution, one transaction per window.

use std::fmt::Write as _;

use anyhow::{Context as _, Result};
use chrono::NaiveDate;
use clap::Args;

use super::args::ShapeArgs;
use super::progress::CliObserver;
use crate::cli::context::Context;
use crate::report::incremental::{self, SyncOptions};
use crate::warehouse::sink::Committed;
use crate::warehouse::target::SyncInto;
use crate::warehouse::{self, Destination, TableShape};

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

pub(crate) async fn sync_report(ctx: &Context, args: SyncArgs) -> Result<()> {
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
    let mut request = args.what.request();
    request.include_deleted = !args.exclude_deleted;
    let plan = incremental::plan(&request)?;
    let shape = TableShape::for_report(&plan, args.table.as_deref())?;
    if args.explain {
        return super::explain::sync_plan(ctx, &args, &destination, &plan, &shape).await;
    }
    let advertisers =
        super::advertisers(ctx, args.what.all_advertisers, args.what.bc.as_deref()).await?;
    let table = shape.name.clone();
    let target = {
        let destination = destination.clone();
        let with_entities = args.with_entities;
        blocking(move || SyncInto::open(&destination, shape, with_entities)).await?
    };
    let committed = target.committed();
    crate::cli::stopped::record(crate::cli::stopped::Done::Synced(committed.clone()));
    let (client, _) = ctx.authed_client().await?;
    let options = SyncOptions {
        since: args.since,
        lookback: args.lookback,
        with_entities: args.with_entities,
        include_deleted: !args.exclude_deleted,
        concurrency: args.concurrency as usize,
    };
    let observer = CliObserver::new(ctx);
    let result = incremental::run(&client, &plan, &options, &advertisers, target, &observer).await;
    drop(observer);
    let committed = committed.lock().unwrap_or_else(|p| p.into_inner()).clone();
    ctx.notice(&summary(&table, &committed));
    result.map(|_| ())
}

/// Runs database work off the async runtime (the PostgreSQL driver blocks on a runtime of
/// its own, which may not run inside this one).
pub(super) async fn blocking<T: Send + 'static>(
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

/// The end-of-run summary: rows inserted / updated / unchanged per table, days covered.
fn summary(table: &str, committed: &Committed) -> String {
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
    for (name, c) in &committed.entities {
        let _ = write!(
            text,
            "\n{name}: {} inserted, {} updated, {} unchanged",
            c.inserted, c.updated, c.unchanged
        );
    }
    text
}
