//! Asynchronous reports: tasks created (about one a second, TikTok's pace), polled until done,
//! their CSV downloaded and proven whole, and their rows handed to the sink with the columns,
//! order and values of the synchronous report — so `--async` changes how, never what.

use std::io::Seek;
use std::time::Duration;

use anyhow::{Context as _, Result};

use super::error::ReportError;
use super::observer::{Observer, Progress};
use super::plan::{Plan, Planned, PlannedAccount, whole_range};
use super::sink::{RowSink, Run, Unit};
use super::spec::{DAY, HOUR, ReportSpec};
use super::window::{Window, split_windows};
use crate::api::{ApiError, Client};
use crate::poll::PollSchedule;

/// TikTok allows about one task creation per second per app.
pub const CREATE_SPACING: Duration = Duration::from_secs(1);

#[derive(Debug, Clone)]
pub struct AsyncOptions {
    /// How long to wait for each task, in all.
    pub wait_timeout: Duration,
    /// The first wait between status checks (it doubles up to a minute).
    pub poll_first: Duration,
}

/// Tasks this process created and has not yet written out. They keep running at TikTok
/// whatever happens here, so when a signal stops the run they can be named, with the command
/// that fetches them.
static UNFINISHED: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());

fn unfinished() -> std::sync::MutexGuard<'static, Vec<(String, String)>> {
    UNFINISHED.lock().unwrap_or_else(|p| p.into_inner())
}

/// One line per task this process left running at TikTok.
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

/// Creates a task for `window` (or the lifetime); a refusal for lack of the allowlist says so.
pub async fn create_task(
    client: &Client,
    spec: &ReportSpec,
    advertiser: &str,
    window: Option<Window>,
) -> Result<String> {
    let body = spec.task_body(advertiser, window);
    client.reports().create_task(&body).await.map_err(|e| {
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

/// TikTok's own count of a report's rows over `window`: the synchronous endpoint's
/// `total_number`, from one single-row request per window it allows. `None` when it cannot be
/// known: TikTok truncated the synchronous report (20,000+ ads), or refuses there a
/// combination that only asynchronous reports take.
pub async fn row_count(
    client: &Client,
    spec: &ReportSpec,
    advertiser_id: &str,
    window: Option<Window>,
) -> Result<Option<u64>, ApiError> {
    let windows: Vec<Option<Window>> = match window {
        Some(w) if !spec.lifetime => split_windows(w.start, w.end, spec.max_span_days())
            .into_iter()
            .map(Some)
            .collect(),
        _ => vec![None],
    };
    let mut total = 0u64;
    for window in windows {
        let query = spec
            .page_query(advertiser_id, window, 1)
            .set("page_size", 1);
        match client.reports().probe(&query).await {
            Ok(page) if page.truncated.is_some() => return Ok(None),
            Ok(page) => total += page.page_info.total_number,
            Err(e) if !e.is_transient() && !e.is_auth() => {
                tracing::info!("the row count of the report cannot be known: {e}");
                return Ok(None);
            }
            Err(e) => return Err(e),
        }
    }
    Ok(Some(total))
}

/// FAILED and CANCELED are failures carrying TikTok's message.
pub fn check_final(task_id: &str, status: &str, message: &str) -> Result<(), ReportError> {
    match status {
        "FAILED" | "CANCELED" => Err(ReportError::TaskFailed(format!(
            "report task {task_id} is {status}{}",
            if message.is_empty() {
                String::new()
            } else {
                format!(": {message}")
            }
        ))),
        _ => Ok(()),
    }
}

/// Polls until the task is done: waits `poll_first`, then twice as long each time (at most a
/// minute between checks), for `wait_timeout` in all; a task still running then keeps running
/// at TikTok, and the error says how to fetch it later.
pub async fn wait_for(
    client: &Client,
    advertiser: &str,
    task_id: &str,
    options: &AsyncOptions,
    observer: &dyn Observer,
) -> Result<()> {
    let started = tokio::time::Instant::now();
    let mut schedule = PollSchedule::new(options.poll_first, options.wait_timeout);
    loop {
        let status = client.reports().task_status(advertiser, task_id).await?;
        observer.progress(&Progress {
            waiting: Some(format!(
                "report task {task_id} (advertiser {advertiser}): {} · {} s",
                status.status,
                started.elapsed().as_secs()
            )),
            ..Progress::default()
        });
        if status.status == "SUCCESS" {
            return Ok(());
        }
        check_final(task_id, &status.status, &status.message)?;
        match schedule.after_check(started.elapsed()) {
            Some(wait) => tokio::time::sleep(wait).await,
            None => {
                return Err(ReportError::TaskStillRunning(format!(
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

/// A finished task's CSV into `spool`, proven whole (rewound, ready to read). A task that has
/// no output yet is looked up, so the error says whether it is still running, failed or was
/// canceled.
pub async fn fetch_csv(
    client: &Client,
    advertiser: &str,
    task_id: &str,
    expected: Option<u64>,
    spool: &mut std::fs::File,
) -> Result<()> {
    let error = match client
        .reports()
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
    let state = match client.reports().task_status(advertiser, task_id).await {
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

/// The tasks of one account: with a time breakdown, one task for the whole range whose rows
/// are then handed over window by window like the synchronous path; without one, a task per
/// synchronous window, so the totals cover the same days.
pub fn jobs(plan: &Plan, windows: &[Option<Window>]) -> Vec<(Option<Window>, Vec<Window>)> {
    let dated: Vec<Window> = windows.iter().flatten().copied().collect();
    if dated.is_empty() {
        vec![(None, Vec::new())]
    } else if plan.spec.has_time_breakdown() {
        vec![(whole_range(windows), dated)]
    } else {
        dated.iter().map(|w| (Some(*w), Vec::new())).collect()
    }
}

/// A task made for one account: its ID, the range it covers, and the synchronous windows its
/// rows are handed over in (several with a time breakdown).
type Task = (String, Option<Window>, Vec<Window>);

/// `report run --async`: tasks for every planned account, then the same rows as the
/// synchronous path into `sink`, and the same conclusion.
pub async fn run(
    client: &Client,
    plan: &Plan,
    planned: Planned,
    sink: impl RowSink,
    observer: &dyn Observer,
    options: &AsyncOptions,
) -> Result<u64> {
    let (accounts, mut run) = Run::start(planned, sink, observer);
    let created = create_all(client, plan, &accounts, &mut run, options).await?;
    // Every task of an account is downloaded (spooled to temp files: memory stays flat) and
    // proven whole before any of its rows goes to the sink.
    for (advertiser, tasks) in &created {
        let spools = download_all(client, plan, advertiser, tasks, options, observer).await;
        match spools {
            Ok(spools) => write_account(plan, advertiser, spools, &mut run.sink)?,
            Err(e) if run.single() => return Err(e),
            Err(error) => {
                run.fail(advertiser, None, error);
                run.sink.account_done(advertiser, false)?;
            }
        }
    }
    run.conclude()
}

/// Every account's tasks, created about a second apart; an account whose task cannot be made
/// fails whole (its other tasks are not waited for), and alone it fails the run.
async fn create_all(
    client: &Client,
    plan: &Plan,
    accounts: &[PlannedAccount],
    run: &mut Run<'_, impl RowSink>,
    options: &AsyncOptions,
) -> Result<Vec<(String, Vec<Task>)>> {
    let mut created: Vec<(String, Vec<Task>)> = Vec::new();
    let mut created_any = false;
    for account in accounts {
        let mut own = Vec::new();
        for (window, partitions) in jobs(plan, &account.windows) {
            if created_any {
                tokio::time::sleep(CREATE_SPACING.min(options.poll_first)).await;
            }
            created_any = true;
            match create_task(client, &plan.spec, &account.advertiser, window).await {
                Ok(task_id) => {
                    tracing::info!(
                        "advertiser {}: report task {task_id} created",
                        account.advertiser
                    );
                    unfinished().push((account.advertiser.clone(), task_id.clone()));
                    own.push((task_id, window, partitions));
                }
                Err(e) if run.single() => return Err(e),
                Err(error) => {
                    run.fail(&account.advertiser, window, error);
                    own.clear();
                    break;
                }
            }
        }
        if !own.is_empty() {
            created.push((account.advertiser.clone(), own));
        }
    }
    Ok(created)
}

/// Each of an account's tasks waited for and its CSV downloaded, proven to hold TikTok's count
/// of rows: the spools with the windows they cover.
async fn download_all<'t>(
    client: &Client,
    plan: &Plan,
    advertiser: &str,
    tasks: &'t [Task],
    options: &AsyncOptions,
    observer: &dyn Observer,
) -> Result<Vec<(std::fs::File, Option<Window>, &'t [Window])>> {
    let mut spools = Vec::with_capacity(tasks.len());
    for (task_id, window, partitions) in tasks {
        wait_for(client, advertiser, task_id, options, observer).await?;
        let expected = row_count(client, &plan.spec, advertiser, *window).await?;
        let mut spool = tempfile::tempfile().context("creating a temporary file")?;
        fetch_csv(client, advertiser, task_id, expected, &mut spool).await?;
        unfinished().retain(|(_, id)| id != task_id);
        spools.push((spool, *window, partitions.as_slice()));
    }
    Ok(spools)
}

/// An account's rows to the sink, window after window as the synchronous path hands them over.
fn write_account(
    plan: &Plan,
    advertiser: &str,
    spools: Vec<(std::fs::File, Option<Window>, &[Window])>,
    sink: &mut impl RowSink,
) -> Result<()> {
    for (mut spool, window, partitions) in spools {
        if partitions.len() > 1 {
            for part in partitions {
                spool.rewind()?;
                let unit = Unit {
                    advertiser,
                    window: Some(*part),
                };
                copy_rows(spool.try_clone()?, &plan.data_columns, &unit, sink)?;
            }
        } else {
            spool.rewind()?;
            let unit = Unit {
                advertiser,
                window: partitions.first().copied().or(window),
            };
            copy_rows(spool, &plan.data_columns, &unit, sink)?;
        }
    }
    sink.account_done(advertiser, true)
}

/// Hands a task's CSV to the sink in the synchronous path's columns, order and values: columns
/// matched by name (extra ones dropped, missing ones empty), days spelled as the synchronous
/// endpoint spells them, and with a dated unit only the rows of its window.
fn copy_rows(
    csv_file: std::fs::File,
    data_columns: &[String],
    unit: &Unit<'_>,
    sink: &mut impl RowSink,
) -> Result<()> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(std::io::BufReader::new(csv_file));
    let headers = reader
        .headers()
        .context("reading the report's header row")?
        .clone();
    let positions: Vec<Option<usize>> = data_columns
        .iter()
        .map(|c| {
            headers
                .iter()
                .position(|h| h.trim().trim_start_matches('\u{feff}') == c)
        })
        .collect();
    let time_column = data_columns.iter().position(|c| c == DAY || c == HOUR);
    let mut record = csv::StringRecord::new();
    let mut normalized: Vec<Option<String>> = Vec::with_capacity(data_columns.len());
    while reader
        .read_record(&mut record)
        .context("reading the report")?
    {
        normalized.clear();
        for (column, position) in data_columns.iter().zip(&positions) {
            let value = position.and_then(|p| record.get(p));
            normalized.push(value.map(|v| spell_like_sync(column, v)));
        }
        if let (Some(window), Some(t)) = (unit.window, time_column) {
            let day = normalized[t]
                .as_deref()
                .and_then(|v| v.get(..10))
                .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
            if day.is_some_and(|d| d < window.start || d > window.end) {
                continue;
            }
        }
        let cells: Vec<Option<&str>> = normalized.iter().map(|c| c.as_deref()).collect();
        sink.row(unit, &cells)?;
    }
    sink.unit_complete(unit)?;
    sink.flush()
}

/// The async CSV writes `2025-01-31` where the sync JSON writes `2025-01-31 00:00:00`, and
/// names a country where it writes its code.
fn spell_like_sync(column: &str, value: &str) -> String {
    match (column, value.len()) {
        (DAY, 10) => format!("{value} 00:00:00"),
        (HOUR, 13) => format!("{value}:00:00"),
        ("country_code", _) => super::country::spelled_as_code(value),
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
        assert!(check_final("1", "CANCELED", "").is_err());
    }

    #[test]
    fn dates_are_spelled_like_the_sync_endpoint() {
        assert_eq!(
            spell_like_sync("stat_time_day", "2025-01-31"),
            "2025-01-31 00:00:00"
        );
        assert_eq!(
            spell_like_sync("stat_time_day", "2025-01-31 00:00:00"),
            "2025-01-31 00:00:00"
        );
        assert_eq!(
            spell_like_sync("stat_time_hour", "2025-01-31 13"),
            "2025-01-31 13:00:00"
        );
        assert_eq!(spell_like_sync("spend", "98.410"), "98.410");
    }
}
