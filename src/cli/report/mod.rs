//! `report run` (synchronous, streamed, or `--async`) and `report task create|status|download|cancel`.

pub(crate) mod args;
pub(crate) mod db_sync;
mod explain;
pub(crate) mod progress;
pub(crate) mod record_sink;
pub(crate) mod task;
pub(crate) mod task_record;

use std::collections::BTreeMap;

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};

use self::args::ReportArgs;
use self::progress::CliObserver;
use self::record_sink::RecordSink;
use super::context::Context;
use crate::accounts::{self, AccountFacts};
use crate::report::columns;
use crate::report::paged;
use crate::report::plan::{self, Plan};
use crate::report::tasks::{self, AsyncOptions};

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Run a report and stream its rows (CSV when piped, -o FILE atomically).
    Run(RunArgs),
    /// Keep a database (SQLite file, PostgreSQL) current with a report: incremental,
    /// idempotent, resumable, late attribution re-pulled.
    Sync(db_sync::SyncArgs),
    /// Asynchronous report tasks (allowlisted apps): create, status, download, cancel.
    #[command(subcommand)]
    Task(task::TaskCommand),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub report: ReportArgs,
    /// Add currency and timezone columns (and advertiser_id) from /advertiser/info/.
    #[arg(long)]
    pub with_account_info: bool,
    /// Write TikTok's "-" (not applicable) as an empty cell.
    #[arg(long)]
    pub dash_as_empty: bool,
    /// Print the plan (windows, advertisers, requests) and exit without calling the API.
    #[arg(long)]
    pub explain: bool,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 4, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=16))]
    pub concurrency: u32,
    /// Use an asynchronous report task (no date-span limit, no 20,000-ad truncation).
    #[arg(long = "async")]
    pub use_async: bool,
    /// With --async: give up waiting after this many seconds.
    #[arg(long, default_value_t = 1800, value_name = "SECS")]
    pub wait_timeout: u64,
    /// With --async: first wait between status checks, in milliseconds (doubles up to 60 s).
    #[arg(long, default_value_t = 5000, hide = true)]
    pub poll_ms: u64,
}

pub(crate) async fn run(ctx: &Context, command: ReportCommand) -> Result<()> {
    match command {
        ReportCommand::Run(args) => run_report(ctx, args).await,
        ReportCommand::Sync(args) => db_sync::sync_report(ctx, args).await,
        ReportCommand::Task(command) => task::run(ctx, command).await,
    }
}

pub(crate) async fn run_report(ctx: &Context, args: RunArgs) -> Result<()> {
    let plan = plan::build(&args.report.request())?;
    if args.explain {
        return explain::run_plan(ctx, &plan, &args);
    }
    let advertisers = advertisers(
        ctx,
        args.report.what.all_advertisers,
        args.report.what.bc.as_deref(),
    )
    .await?;
    let facts = account_facts(ctx, &plan, &advertisers, args.with_account_info).await?;
    let observer = CliObserver::new(ctx);
    let today = chrono::Utc::now().date_naive();
    let planned = plan::plan_accounts(
        &plan,
        &advertisers,
        &facts,
        args.with_account_info,
        today,
        &observer,
    )?;
    let many_accounts =
        advertisers.len() > 1 || args.report.what.all_advertisers || args.report.what.bc.is_some();
    let prefix = columns::prefix_columns(&plan, many_accounts, args.with_account_info);
    let leads = planned
        .accounts
        .iter()
        .map(|a| {
            columns::lead_cells(&prefix, &a.advertiser, facts.get(&a.advertiser))
                .map(|cells| (a.advertiser.clone(), cells))
        })
        .collect::<Result<BTreeMap<_, _>, _>>()?;
    let columns: Vec<String> = prefix.iter().chain(&plan.data_columns).cloned().collect();
    let sink = RecordSink::new(
        ctx.record_writer(columns)?,
        leads,
        advertisers.len() > 1,
        args.dash_as_empty,
    );
    let (client, _) = ctx.authed_client().await?;
    if args.use_async {
        let options = AsyncOptions {
            wait_timeout: std::time::Duration::from_secs(args.wait_timeout),
            poll_first: std::time::Duration::from_millis(args.poll_ms),
        };
        tasks::run(&client, &plan, planned, sink, &observer, &options).await?;
    } else {
        let concurrency = args.concurrency as usize;
        paged::run(&client, &plan, planned, sink, &observer, concurrency).await?;
    }
    Ok(())
}

/// Time zone and currency of each account (one call per 100 accounts, retried like any
/// call), when the dates or `--with-account-info` need them; a failure is the run's failure
/// then, never a guess.
async fn account_facts(
    ctx: &Context,
    plan: &Plan,
    advertisers: &[String],
    with_account_info: bool,
) -> Result<BTreeMap<String, AccountFacts>> {
    let needed = with_account_info || plan::needs_time_zone(plan, chrono::Utc::now().date_naive());
    if !needed {
        return Ok(BTreeMap::new());
    }
    let (client, _) = ctx.authed_client().await?;
    accounts::facts(&client, advertisers).await.context(
        "reading the accounts' time zones and currencies from /advertiser/info/ (relative \
         dates are days in each account's own zone)",
    )
}

pub(super) use crate::cli::scope::advertisers;
