//! Asynchronous report tasks: `report task create|status|download|cancel` and
//! `report run --async` (create, poll with backoff, download, and write the same columns,
//! order and values as the synchronous path).

use std::collections::BTreeMap;
use std::io::{Seek, Write};
use std::time::Duration;

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};

use super::args::ReportArgs;
use super::plan::{self, Account, Plan};
use crate::api::Client;
use crate::api::report::{TaskRecord, Window};
use crate::api::task_poll::PollSchedule;
use crate::cli::context::Context;
use crate::cli::errors::{CliError, usage};

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

pub struct AsyncOptions {
    pub many_accounts: bool,
    pub wait_timeout: Duration,
    pub poll_first: Duration,
    pub dash_as_empty: bool,
    pub with_account_info: bool,
}

/// Tasks this run created and has not yet written out. They keep running at TikTok whatever
/// happens here, so when a signal stops the run they are named, with the command that fetches
/// them.
static UNFINISHED: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());

fn unfinished() -> std::sync::MutexGuard<'static, Vec<(String, String)>> {
    UNFINISHED.lock().unwrap_or_else(|p| p.into_inner())
}

/// One line per task this run left running at TikTok.
pub fn unfinished_tasks() -> Vec<String> {
    unfinished()
        .iter()
        .map(|(advertiser, task_id)| {
            format!(
                "report task {task_id} (advertiser {advertiser}) keeps running at TikTok: fetch it \
                 with `tiktok-ads report task download --advertiser {advertiser} {task_id}`"
            )
        })
        .collect()
}

/// TikTok allows about one task creation per second per app.
const CREATE_SPACING: Duration = Duration::from_secs(1);

pub async fn run(ctx: &Context, command: TaskCommand) -> Result<()> {
    match command {
        TaskCommand::Create(args) => create(ctx, args).await,
        TaskCommand::Status(args) => status(ctx, args).await,
        TaskCommand::Download(args) => download(ctx, args).await,
        TaskCommand::Cancel(args) => cancel(ctx, args).await,
    }
}

async fn create(ctx: &Context, args: CreateArgs) -> Result<()> {
    let plan = plan::build(&args.report)?;
    let advertisers =
        super::run::advertisers(ctx, args.report.all_advertisers, args.report.bc.as_deref())
            .await?;
    let [advertiser] = advertisers.as_slice() else {
        return Err(usage(
            "report task create takes one --advertiser (use `report run --async` for several)",
        ));
    };
    let accounts = super::account_facts(ctx, &plan, &advertisers, false).await?;
    let window = task_window(ctx, &plan, advertiser, &accounts)?;
    let (client, _) = ctx.authed_client().await?;
    let task_id = create_task(&client, &plan, advertiser, window).await?;
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
    let mut out = ctx.destination()?;
    writeln!(out, "{task_id}")?;
    out.commit()
}

/// The whole date range of a task (async reports have no span limit).
fn task_window(
    ctx: &Context,
    plan: &Plan,
    advertiser: &str,
    accounts: &BTreeMap<String, Account>,
) -> Result<Option<Window>> {
    let dates = announced_dates(ctx, plan, advertiser, accounts)?;
    Ok(plan::whole_range(&dates.windows))
}

/// The account's dates, with what was adjusted said on stderr.
fn announced_dates(
    ctx: &Context,
    plan: &Plan,
    advertiser: &str,
    accounts: &BTreeMap<String, Account>,
) -> Result<plan::AccountDates> {
    let utc_today = chrono::Utc::now().date_naive();
    let dates = plan::dates_for(plan, advertiser, accounts.get(advertiser), utc_today)?;
    for note in &dates.notes {
        ctx.notice(&format!("advertiser {advertiser}: {note}"));
    }
    Ok(dates)
}

async fn create_task(
    client: &Client,
    plan: &Plan,
    advertiser: &str,
    window: Option<Window>,
) -> Result<String> {
    let body = plan.spec.task_body(advertiser, window);
    client.create_report_task(&body).await.map_err(|e| {
        let allowlist = matches!(e.code(), Some(40001 | 40118 | 40125));
        let error = anyhow::Error::new(e);
        if allowlist {
            error.context(
                "asynchronous reports need the app to be allowlisted by TikTok (apply in the developer \
                 portal); until then run the report without --async",
            )
        } else {
            error
        }
    })
}

fn advertiser(ctx: &Context) -> Result<String> {
    ctx.advertiser_id()
}

async fn status(ctx: &Context, args: TaskArgs) -> Result<()> {
    let advertiser = advertiser(ctx)?;
    let (client, _) = ctx.authed_client().await?;
    let status = client
        .report_task_status(&advertiser, &args.task_id)
        .await?;
    let mut out = ctx.destination()?;
    writeln!(out, "{}", status.status)?;
    out.commit()?;
    check_final(&args.task_id, &status.status, &status.message)
}

/// FAILED and CANCELED are failures (exit 4) carrying TikTok's message.
fn check_final(task_id: &str, status: &str, message: &str) -> Result<()> {
    match status {
        "FAILED" | "CANCELED" => Err(CliError::TaskFailed(format!(
            "report task {task_id} is {status}{}",
            if message.is_empty() {
                String::new()
            } else {
                format!(": {message}")
            }
        ))
        .into()),
        _ => Ok(()),
    }
}

/// `report task download`: the CSV exactly as TikTok made it, but only once it is proven
/// whole (strict CSV, and TikTok's row count when this machine created the task).
async fn download(ctx: &Context, args: TaskArgs) -> Result<()> {
    let advertiser = advertiser(ctx)?;
    let (client, _) = ctx.authed_client().await?;
    let expected = match super::task_record::load(&args.task_id) {
        Some(record) if record.advertiser_id == advertiser => {
            client
                .report_row_count(&record.spec, &advertiser, record.window)
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

/// A finished task's CSV into `spool`, proven whole (rewound, ready to read). A task that has
/// no output yet is looked up, so the error says whether it is still running, failed or was
/// canceled.
async fn fetch_csv(
    client: &Client,
    advertiser: &str,
    task_id: &str,
    expected: Option<u64>,
    spool: &mut std::fs::File,
) -> Result<()> {
    let error = match client
        .fetch_task_csv(advertiser, task_id, expected, spool)
        .await
    {
        Ok(_) => return Ok(()),
        Err(e) => e,
    };
    if error.code() != Some(40201) {
        return Err(error.into());
    }
    // Why there is no output: still running, failed or canceled (when TikTok says).
    let state = match client.report_task_status(advertiser, task_id).await {
        Ok(status) => {
            check_final(task_id, &status.status, &status.message)?;
            status.status
        }
        Err(e) => {
            tracing::debug!("the status of task {task_id} could not be read: {e}");
            String::new()
        }
    };
    Err(anyhow::Error::new(error).context(format!(
        "task {task_id} {} has no output yet: check `tiktok-ads report task status \
         --advertiser {advertiser} {task_id}`",
        if state.is_empty() {
            "has not finished and".to_string()
        } else {
            format!("is {state} and")
        }
    )))
}

async fn cancel(ctx: &Context, args: TaskArgs) -> Result<()> {
    let advertiser = advertiser(ctx)?;
    let (client, _) = ctx.authed_client().await?;
    let status = client
        .cancel_report_task(&advertiser, &args.task_id)
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

/// `report run --async`: one task per advertiser, then the same output as the sync path.
pub async fn run_async(
    ctx: &Context,
    plan: &Plan,
    advertisers: Vec<String>,
    accounts: &BTreeMap<String, Account>,
    options: &AsyncOptions,
) -> Result<()> {
    let (client, _) = ctx.authed_client().await?;
    let prefix = plan::prefix_columns(
        plan,
        advertisers.len() > 1 || options.many_accounts,
        options.with_account_info,
    );
    let mut tasks: Vec<(String, String, Option<Window>, Vec<Window>)> = Vec::new();
    let mut failures: Vec<(String, anyhow::Error)> = Vec::new();
    let mut created_any = false;
    for advertiser in &advertisers {
        let planned = plan::checked_lead_cells(&prefix, advertiser, accounts.get(advertiser))
            .and_then(|_| async_jobs(ctx, plan, advertiser, accounts));
        let jobs = match planned {
            Ok(jobs) => jobs,
            Err(e) if advertisers.len() == 1 => return Err(e),
            Err(e) => {
                failures.push((advertiser.clone(), e));
                continue;
            }
        };
        for (window, partitions) in jobs {
            if created_any {
                tokio::time::sleep(CREATE_SPACING.min(options.poll_first)).await;
            }
            created_any = true;
            match create_task(&client, plan, advertiser, window).await {
                Ok(task_id) => {
                    tracing::info!("advertiser {advertiser}: report task {task_id} created");
                    unfinished().push((advertiser.clone(), task_id.clone()));
                    tasks.push((advertiser.clone(), task_id, window, partitions));
                }
                Err(e) if advertisers.len() == 1 => return Err(e),
                Err(e) => {
                    failures.push((advertiser.clone(), e));
                    break;
                }
            }
        }
    }

    let columns: Vec<String> = prefix.iter().chain(&plan.data_columns).cloned().collect();
    let mut writer = ctx.record_writer(columns)?;
    let spinner = ctx.progress();
    // Every task of an account is downloaded (spooled to temp files: memory stays flat) before
    // any of its rows is written, so a failed account leaves nothing behind.
    let mut index = 0;
    while index < tasks.len() {
        let advertiser = tasks[index].0.clone();
        let count = tasks[index..]
            .iter()
            .take_while(|t| t.0 == advertiser)
            .count();
        let own = &tasks[index..index + count];
        index += count;
        if failures.iter().any(|(failed, _)| *failed == advertiser) {
            continue;
        }
        let result = async {
            let mut spools = Vec::with_capacity(own.len());
            for (_, task_id, window, partitions) in own {
                wait_for(&client, &advertiser, task_id, options, &spinner).await?;
                let expected = client
                    .report_row_count(&plan.spec, &advertiser, *window)
                    .await?;
                let mut spool = tempfile::tempfile().context("creating a temporary file")?;
                fetch_csv(&client, &advertiser, task_id, expected, &mut spool).await?;
                unfinished().retain(|(_, id)| id != task_id);
                spools.push((spool, partitions));
            }
            let lead = plan::lead_cells(&prefix, &advertiser, accounts.get(&advertiser));
            let copy = Copy {
                data_columns: &plan.data_columns,
                lead: &lead,
                dash_as_empty: options.dash_as_empty,
            };
            for (mut spool, partitions) in spools {
                if partitions.len() > 1 {
                    // The synchronous path writes window after window; so does this.
                    for window in partitions {
                        spool.rewind()?;
                        copy.rows(spool.try_clone()?, Some(*window), &mut writer)?;
                    }
                } else {
                    spool.rewind()?;
                    copy.rows(spool, None, &mut writer)?;
                }
            }
            anyhow::Ok(())
        }
        .await;
        if let Err(e) = result {
            if advertisers.len() == 1 {
                return Err(e);
            }
            failures.push((advertiser, e));
        }
    }
    spinner.finish_and_clear();
    if failures.is_empty() {
        ctx.finish(writer)?;
        return Ok(());
    }
    for (advertiser, error) in &failures {
        ctx.say(&format!("error: advertiser {advertiser}: {error:#}"));
    }
    if failures.len() < advertisers.len() {
        ctx.finish(writer)?;
        return Err(CliError::Partial(format!(
            "{} of {} advertisers failed; the output holds the others",
            failures.len(),
            advertisers.len()
        ))
        .into());
    }
    Err(failures
        .into_iter()
        .next()
        .map(|(_, e)| e)
        .unwrap_or_else(|| anyhow::anyhow!("the report failed")))
}

/// Polls until the task is done: waits `poll_first`, then twice as long each time (at most a
/// minute between checks), for `wait_timeout` in all; a task still running then keeps running
/// at TikTok, and the error says how to fetch it later.
async fn wait_for(
    client: &Client,
    advertiser: &str,
    task_id: &str,
    options: &AsyncOptions,
    spinner: &indicatif::ProgressBar,
) -> Result<()> {
    let started = tokio::time::Instant::now();
    let mut schedule = PollSchedule::new(options.poll_first, options.wait_timeout);
    loop {
        let status = client.report_task_status(advertiser, task_id).await?;
        spinner.set_message(format!(
            "report task {task_id} (advertiser {advertiser}): {} · {} s",
            status.status,
            started.elapsed().as_secs()
        ));
        match status.status.as_str() {
            "SUCCESS" => return Ok(()),
            "FAILED" | "CANCELED" => return check_final(task_id, &status.status, &status.message),
            _ => {}
        }
        match schedule.after_check(started.elapsed()) {
            Some(wait) => tokio::time::sleep(wait).await,
            None => {
                return Err(CliError::TaskStillRunning(format!(
                    "report task {task_id} is still {} after {} s (--wait-timeout); it keeps \
                     running at TikTok: fetch it later with `tiktok-ads report task download \
                     --advertiser {advertiser} {task_id}`",
                    status.status,
                    options.wait_timeout.as_secs()
                ))
                .into());
            }
        }
    }
}

/// Copies an async CSV into the writer with the sync path's columns, order and values: columns
/// are matched by name (extra ones dropped, missing ones empty), dates written as the sync
/// endpoint writes them; with `window`, only the rows of that date range.
struct Copy<'a> {
    data_columns: &'a [String],
    lead: &'a [Option<String>],
    dash_as_empty: bool,
}

impl Copy<'_> {
    fn rows(
        &self,
        csv_file: std::fs::File,
        window: Option<Window>,
        writer: &mut crate::output::RecordWriter,
    ) -> Result<()> {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(false)
            .from_reader(std::io::BufReader::new(csv_file));
        let headers = reader
            .headers()
            .context("reading the report's header row")?
            .clone();
        let positions: Vec<Option<usize>> = self
            .data_columns
            .iter()
            .map(|c| {
                headers
                    .iter()
                    .position(|h| h.trim().trim_start_matches('\u{feff}') == c)
            })
            .collect();
        let time_column = self
            .data_columns
            .iter()
            .position(|c| c == crate::api::report::DAY || c == crate::api::report::HOUR);
        let mut record = csv::StringRecord::new();
        let mut normalized: Vec<Option<String>> = Vec::with_capacity(self.data_columns.len());
        while reader
            .read_record(&mut record)
            .context("reading the report")?
        {
            normalized.clear();
            for (column, position) in self.data_columns.iter().zip(&positions) {
                let value = position.and_then(|p| record.get(p));
                normalized.push(value.map(|v| normalize(column, v, self.dash_as_empty)));
            }
            if let (Some(window), Some(t)) = (window, time_column) {
                let day = normalized[t]
                    .as_deref()
                    .and_then(|v| v.get(..10))
                    .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
                if day.is_some_and(|d| d < window.start || d > window.end) {
                    continue;
                }
            }
            let cells = self
                .lead
                .iter()
                .map(|c| c.as_deref())
                .chain(normalized.iter().map(|c| c.as_deref()));
            writer.write_cells(cells)?;
        }
        Ok(())
    }
}

/// The tasks of one account: with a time breakdown, one task for the whole range whose rows
/// are then written window by window like the synchronous path; without one, a task per
/// synchronous window, so the totals cover the same days.
fn async_jobs(
    ctx: &Context,
    plan: &Plan,
    advertiser: &str,
    accounts: &BTreeMap<String, Account>,
) -> Result<Vec<(Option<Window>, Vec<Window>)>> {
    let dates = announced_dates(ctx, plan, advertiser, accounts)?;
    let windows: Vec<Window> = dates.windows.iter().flatten().copied().collect();
    Ok(if windows.is_empty() {
        vec![(None, Vec::new())]
    } else if plan.spec.has_time_breakdown() {
        vec![(plan::whole_range(&dates.windows), windows)]
    } else {
        windows.iter().map(|w| (Some(*w), Vec::new())).collect()
    })
}

/// The async CSV writes `2025-01-31` where the sync JSON writes `2025-01-31 00:00:00`.
fn normalize(column: &str, value: &str, dash_as_empty: bool) -> String {
    match (column, value.len()) {
        (crate::api::report::DAY, 10) => format!("{value} 00:00:00"),
        (crate::api::report::HOUR, 13) => format!("{value}:00:00"),
        (_, _) if dash_as_empty && value == "-" => String::new(),
        _ => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_and_canceled_tasks_are_failures() {
        assert!(check_final("1", "SUCCESS", "").is_ok());
        assert!(check_final("1", "PROCESSING", "").is_ok());
        let failed = check_final("1", "FAILED", "bad combination").unwrap_err();
        assert!(failed.to_string().contains("FAILED: bad combination"));
        assert_eq!(crate::exit::code_for(&failed), crate::exit::API_REJECTED);
        assert!(check_final("1", "CANCELED", "").is_err());
    }

    #[test]
    fn dates_are_spelled_like_the_sync_endpoint() {
        assert_eq!(
            normalize("stat_time_day", "2025-01-31", false),
            "2025-01-31 00:00:00"
        );
        assert_eq!(
            normalize("stat_time_day", "2025-01-31 00:00:00", false),
            "2025-01-31 00:00:00"
        );
        assert_eq!(
            normalize("stat_time_hour", "2025-01-31 13", false),
            "2025-01-31 13:00:00"
        );
        assert_eq!(normalize("ctr", "-", false), "-");
        assert_eq!(normalize("ctr", "-", true), "");
        assert_eq!(normalize("spend", "98.410", false), "98.410");
    }
}
