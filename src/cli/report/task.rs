//! `report task create|status|download|cancel`: asynchronous report tasks one step at a time
//! (`report run --async` does them all; both over `crate::report::tasks`).

use std::io::Write;

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};

use super::args::ReportArgs;
use super::progress::CliObserver;
use crate::cli::context::Context;
use crate::cli::errors::usage;
use crate::report::plan;
use crate::report::spec::TaskRecord;
use crate::report::tasks::{check_final, create_task, fetch_csv};

#[derive(Debug, Subcommand)]
pub enum TaskCommand {
    /// Create a task with the same flags as `report run` (no date-span limit); prints its ID.
    Create(CreateArgs),
    /// Print the task's status: QUEUING, PROCESSING, SUCCESS, FAILED or CANCELED.
    Status(TaskArgs),
    /// Stream the finished task's CSV to stdout or -o FILE.
    Download(TaskArgs),
    /// Cancel a queued or running task.
    Cancel(TaskArgs),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    pub report: ReportArgs,
}

#[derive(Debug, Args)]
pub struct TaskArgs {
    /// The task ID printed by `report task create`.
    #[arg(value_name = "TASK")]
    pub task_id: String,
}

pub(crate) async fn run(ctx: &Context, command: TaskCommand) -> Result<()> {
    match command {
        TaskCommand::Create(args) => create(ctx, args).await,
        TaskCommand::Status(args) => status(ctx, args).await,
        TaskCommand::Download(args) => download(ctx, args).await,
        TaskCommand::Cancel(args) => cancel(ctx, args).await,
    }
}

/// One task for the whole range (async reports have no span limit), remembered on this
/// machine so that its download can be counted against TikTok.
async fn create(ctx: &Context, args: CreateArgs) -> Result<()> {
    let plan = plan::build(&args.report.request())?;
    let advertiser = ctx.settings.advertiser_id().map_err(|_| {
        usage("report task create takes one --advertiser (use `report run --async` for several)")
    })?;
    let advertisers = vec![advertiser.clone()];
    let facts = super::account_facts(ctx, &plan, &advertisers, false).await?;
    let today = chrono::Utc::now().date_naive();
    let observer = CliObserver::new(ctx);
    let dates = plan::dates_for(&plan, &advertiser, facts.get(&advertiser), today)?;
    for note in &dates.notes {
        crate::report::Observer::note(&observer, &format!("advertiser {advertiser}: {note}"));
    }
    let window = plan::whole_range(&dates.windows);
    let (client, _) = ctx.authed_client().await?;
    let task_id = create_task(&client, &plan.spec, &advertiser, window).await?;
    let record = TaskRecord {
        advertiser_id: advertiser.clone(),
        spec: plan.spec.clone(),
        window,
    };
    if let Err(e) = super::task_record::save(&task_id, &record) {
        ctx.notice(&format!(
            "note: could not remember task {task_id} ({e:#}): its download will be checked as CSV \
             but not against TikTok's row count"
        ));
    }
    ctx.write_text(&format!("{task_id}\n"))
}

async fn status(ctx: &Context, args: TaskArgs) -> Result<()> {
    let advertiser = ctx.settings.advertiser_id()?;
    let (client, _) = ctx.authed_client().await?;
    let status = client
        .reports()
        .task_status(&advertiser, &args.task_id)
        .await?;
    ctx.write_text(&format!("{}\n", status.status))?;
    Ok(check_final(&args.task_id, &status.status, &status.message)?)
}

/// The CSV exactly as TikTok made it, but only once it is proven whole (strict CSV, and
/// TikTok's row count when this machine created the task).
async fn download(ctx: &Context, args: TaskArgs) -> Result<()> {
    let advertiser = ctx.settings.advertiser_id()?;
    let (client, _) = ctx.authed_client().await?;
    let expected = match super::task_record::load(&args.task_id) {
        Some(record) if record.advertiser_id == advertiser => {
            crate::report::tasks::row_count(&client, &record.spec, &advertiser, record.window)
                .await?
        }
        _ => {
            ctx.notice(&format!(
                "note: task {} was not created on this machine: its download is checked as CSV, \
                 not against TikTok's row count",
                args.task_id
            ));
            None
        }
    };
    let mut spool = tempfile::tempfile().context("creating a temporary file")?;
    fetch_csv(&client, &advertiser, &args.task_id, expected, &mut spool).await?;
    let mut out = ctx.destination()?;
    std::io::copy(&mut spool, &mut out).context("writing the report")?;
    out.commit()
}

async fn cancel(ctx: &Context, args: TaskArgs) -> Result<()> {
    let advertiser = ctx.settings.advertiser_id()?;
    let (client, _) = ctx.authed_client().await?;
    let status = client
        .reports()
        .cancel_task(&advertiser, &args.task_id)
        .await?;
    let mut out = ctx.destination()?;
    writeln!(
        out,
        "{}",
        if status.status.is_empty() {
            "CANCELED"
        } else {
            &status.status
        }
    )?;
    out.commit()
}
