//! `report run`: every advertiser × window fetched page by page, a bounded number of requests
//! in flight, rows written in a fixed order as pages arrive, each window checked for
//! completeness, and one advertiser's failure kept from stopping the others.

use std::collections::HashSet;
use std::io::{BufRead, Seek, Write};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use anyhow::{Context as _, Result};
use futures_util::future;
use futures_util::stream::{self, BoxStream, StreamExt};
use tokio::sync::Semaphore;

use super::plan::{self, Account, Plan};
use crate::api::paging::{Next, PageCheck};
use crate::api::report::{ReportSpec, Window};
use crate::api::report_page::{Columns, ReportPage};
use crate::api::{ApiError, Client};
use crate::cli::context::Context;
use crate::cli::errors::CliError;
use crate::output::RecordWriter;

/// One request stream: an advertiser over one window.
#[derive(Debug, Clone)]
pub struct Unit {
    pub advertiser: usize,
    pub window: Option<Window>,
}

pub struct RunOptions {
    pub concurrency: usize,
    /// Several accounts may be asked for (`--all-advertisers`, `--bc`): an `advertiser_id`
    /// column even when the list turns out to hold one, so scripts see stable columns.
    pub many_accounts: bool,
    pub dash_as_empty: bool,
    pub with_account_info: bool,
}

/// Why an advertiser's data is not all there.
struct Failure {
    advertiser: String,
    window: Option<Window>,
    error: anyhow::Error,
}

/// Everything a spawned page fetch needs, cheap to clone.
#[derive(Clone)]
struct Fetcher {
    client: Client,
    spec: Arc<ReportSpec>,
    columns: Arc<Columns>,
    units: Arc<Vec<Unit>>,
    advertisers: Arc<Vec<String>>,
    permits: Arc<Semaphore>,
    failed: Arc<Mutex<HashSet<usize>>>,
    /// One page check per unit: pages are claimed there as they are decoded (on worker
    /// threads) and counted there in order.
    checks: Arc<Vec<Mutex<PageCheck>>>,
}

type Fetched = (usize, u64, Result<ReportPage, ApiError>);

/// A spawned page fetch that is cancelled when nobody waits for it any more (paging stopped
/// early: an empty or short page, a failed advertiser, an interrupted run).
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Fetcher {
    /// Starts fetching page `page` of unit `unit` on a worker thread (so pages decode in
    /// parallel) and resolves to it.
    fn fetch(&self, unit: usize, page: u64) -> impl Future<Output = Fetched> + Send + use<> {
        let this = self.clone();
        let mut task = AbortOnDrop(tokio::spawn(async move {
            let _permit = this.permits.acquire_owned().await;
            let u = &this.units[unit];
            if this.failed.lock().is_ok_and(|f| f.contains(&u.advertiser)) {
                // This advertiser has failed already: do not spend quota on it.
                return Ok(ReportPage::default());
            }
            let advertiser = &this.advertisers[u.advertiser];
            this.client
                .report_page(
                    &this.spec,
                    &this.columns,
                    advertiser,
                    u.window,
                    page,
                    &this.checks[unit],
                )
                .await
        }));
        async move {
            let result = (&mut task.0).await.unwrap_or_else(|e| {
                Err(ApiError::Decode {
                    endpoint: crate::api::report::INTEGRATED_PATH.into(),
                    detail: format!("page task failed: {e}"),
                })
            });
            (unit, page, result)
        }
    }

    /// Counts a page of a unit (in page order) and says whether to ask for the next.
    fn record(&self, unit: usize, page: u64, fetched: &ReportPage) -> Next {
        let mut check = self.checks[unit].lock().unwrap_or_else(|p| p.into_inner());
        check.record(
            page,
            &fetched.page_info,
            fetched.rows(),
            u64::from(self.spec.page_size),
        )
    }

    /// Every page of every unit, in unit then page order. A unit's pages stop at the first
    /// empty or short page, once its announced rows have come, or at its last page — whatever
    /// `total_page` claims.
    fn pages(&self, concurrency: usize) -> BoxStream<'static, Fetched> {
        let first_pages = {
            let this = self.clone();
            stream::iter(0..self.units.len())
                .map(move |u| this.fetch(u, 1))
                .buffered(concurrency)
        };
        let this = self.clone();
        first_pages
            .flat_map(move |(unit, page, result)| {
                let (next, last) = match &result {
                    Ok(first) => (
                        this.record(unit, page, first),
                        PageCheck::last_page(&first.page_info, u64::from(this.spec.page_size)),
                    ),
                    Err(_) => (Next::Done, 1),
                };
                let rest = if next == Next::More {
                    let fetcher = this.clone();
                    let counter = this.clone();
                    stream::iter(2..=last)
                        .map(move |p| fetcher.fetch(unit, p))
                        .buffered(concurrency)
                        .scan(false, move |done, item: Fetched| {
                            if *done {
                                return future::ready(None);
                            }
                            *done = match &item.2 {
                                Ok(page) => counter.record(unit, item.1, page) == Next::Done,
                                Err(_) => true,
                            };
                            future::ready(Some(item))
                        })
                        .boxed()
                } else {
                    stream::empty().boxed()
                };
                stream::once(future::ready((unit, page, result))).chain(rest)
            })
            .boxed()
    }
}

/// With several accounts, each account's rows wait in a temp file (JSON lines, so a missing
/// value stays distinct from an empty one) until the account is complete: a failed account
/// leaves nothing behind in the output, and memory stays flat.
struct AccountSpool {
    current: Option<(usize, std::io::BufWriter<std::fs::File>)>,
}

impl AccountSpool {
    fn write<'a>(
        &mut self,
        advertiser: usize,
        cells: impl Iterator<Item = Option<&'a str>>,
    ) -> Result<()> {
        if self.current.as_ref().is_none_or(|(a, _)| *a != advertiser) {
            let file = tempfile::tempfile().context("creating a temporary file")?;
            self.current = Some((advertiser, std::io::BufWriter::new(file)));
        }
        if let Some((_, out)) = self.current.as_mut() {
            serde_json::to_writer(&mut *out, &cells.collect::<Vec<_>>())?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }

    /// Copies the spooled account into the output, or drops it when the account failed.
    fn settle(&mut self, writer: &mut RecordWriter, failed: impl Fn(usize) -> bool) -> Result<()> {
        let Some((advertiser, out)) = self.current.take() else {
            return Ok(());
        };
        if failed(advertiser) {
            return Ok(());
        }
        let mut file = out.into_inner().map_err(|e| e.into_error())?;
        file.seek(std::io::SeekFrom::Start(0))?;
        for line in std::io::BufReader::new(file).lines() {
            let cells: Vec<Option<String>> = serde_json::from_str(&line?)?;
            writer.write_cells(cells.iter().map(|c| c.as_deref()))?;
        }
        writer.flush()
    }

    fn holds_other_than(&self, advertiser: usize) -> bool {
        self.current.as_ref().is_some_and(|(a, _)| *a != advertiser)
    }
}

pub async fn run(
    ctx: &Context,
    plan: &Plan,
    advertisers: Vec<String>,
    accounts: &std::collections::BTreeMap<String, Account>,
    options: &RunOptions,
) -> Result<()> {
    let (client, _) = ctx.authed_client().await?;
    let mut failures: Vec<Failure> = Vec::new();
    let mut units = Vec::new();
    let prefix = plan::prefix_columns(
        plan,
        advertisers.len() > 1 || options.many_accounts,
        options.with_account_info,
    );
    let utc_today = chrono::Utc::now().date_naive();
    for (index, advertiser) in advertisers.iter().enumerate() {
        let account = accounts.get(advertiser);
        let planned = plan::dates_for(plan, advertiser, account, utc_today).and_then(|dates| {
            plan::checked_lead_cells(&prefix, advertiser, account).map(|_| dates)
        });
        match planned {
            Ok(dates) => {
                for note in dates.notes {
                    ctx.notice(&format!("advertiser {advertiser}: {note}"));
                }
                units.extend(dates.windows.into_iter().map(|window| Unit {
                    advertiser: index,
                    window,
                }));
            }
            Err(error) if advertisers.len() == 1 => return Err(error),
            Err(error) => failures.push(Failure {
                advertiser: advertiser.clone(),
                window: None,
                error,
            }),
        }
    }

    let columns: Vec<String> = prefix.iter().chain(&plan.data_columns).cloned().collect();
    let mut writer = ctx.record_writer(columns)?;

    let units_len = units.len();
    let fetcher = Fetcher {
        client: client.clone(),
        spec: Arc::new(plan.spec.clone()),
        columns: Arc::new(Columns::new(plan.data_columns.clone())),
        units: Arc::new(units),
        advertisers: Arc::new(advertisers.clone()),
        permits: Arc::new(Semaphore::new(options.concurrency)),
        failed: Arc::new(Mutex::new(HashSet::new())),
        checks: Arc::new((0..units_len).map(|_| Mutex::default()).collect()),
    };
    let progress = Progress::new(ctx, fetcher.units.len());
    let mut spool = (advertisers.len() > 1).then_some(AccountSpool { current: None });
    let mut pages = fetcher.pages(options.concurrency);
    let mut current: Option<usize> = None;
    let mut rows_written = 0u64;
    let fail = |failures: &mut Vec<Failure>, unit: &Unit, error: anyhow::Error| {
        if let Ok(mut failed) = fetcher.failed.lock() {
            failed.insert(unit.advertiser);
        }
        failures.push(Failure {
            advertiser: advertisers[unit.advertiser].clone(),
            window: unit.window,
            error,
        });
    };
    let is_failed =
        |advertiser: usize| fetcher.failed.lock().is_ok_and(|f| f.contains(&advertiser));

    while let Some((unit_index, _page, result)) = pages.next().await {
        let unit = &fetcher.units[unit_index];
        if current.is_some_and(|c| c != unit_index)
            && let Some(done) = current.take()
        {
            finish_unit(&fetcher, done, &mut failures, &fail, &is_failed);
            progress.unit_done(&client);
        }
        current = Some(unit_index);
        if is_failed(unit.advertiser) {
            continue;
        }
        let page = match result {
            Ok(page) => page,
            Err(e) => {
                fail(&mut failures, unit, anyhow::Error::new(e));
                continue;
            }
        };
        if let Some(header) = &page.truncated {
            let error = CliError::Partial(format!(
                "TikTok truncated this report (X-Tt-Ads-Throttle: {header}): accounts with 20,000+ ads \
                 get only the newest 20,000; narrow it with --filter campaign_ids=... or use --async"
            ));
            fail(&mut failures, unit, error.into());
            continue;
        }
        let advertiser = &advertisers[unit.advertiser];
        let lead = plan::lead_cells(&prefix, advertiser, accounts.get(advertiser));
        if let Some(spool) = spool.as_mut()
            && spool.holds_other_than(unit.advertiser)
        {
            spool.settle(&mut writer, is_failed)?;
        }
        for i in 0..page.rows() {
            let cells = lead
                .iter()
                .map(|c| c.as_deref())
                .chain(page.row(i).map(|c| match c {
                    Some("-") if options.dash_as_empty => Some(""),
                    other => other,
                }));
            match spool.as_mut() {
                Some(spool) => spool.write(unit.advertiser, cells)?,
                None => writer.write_cells(cells)?,
            }
        }
        rows_written += page.rows() as u64;
        writer.flush()?;
        progress.page(rows_written, &client);
    }
    if let Some(done) = current.take() {
        finish_unit(&fetcher, done, &mut failures, &fail, &is_failed);
        progress.unit_done(&client);
    }
    if let Some(spool) = spool.as_mut() {
        spool.settle(&mut writer, is_failed)?;
    }
    progress.finish(&client);
    conclude(ctx, writer, failures, advertisers.len())
}

/// A unit whose rows do not add up to what TikTok announced fails its advertiser.
fn finish_unit(
    fetcher: &Fetcher,
    unit_index: usize,
    failures: &mut Vec<Failure>,
    fail: &impl Fn(&mut Vec<Failure>, &Unit, anyhow::Error),
    is_failed: &impl Fn(usize) -> bool,
) {
    let unit = &fetcher.units[unit_index];
    if is_failed(unit.advertiser) {
        return;
    }
    let outcome = fetcher.checks[unit_index]
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .finish();
    if let Err(shortfall) = outcome {
        let error = CliError::Partial(format!(
            "TikTok announced {} rows but sent {}: the data is incomplete",
            shortfall.announced, shortfall.received
        ));
        fail(failures, unit, error.into());
    }
}

/// Commits or discards the output and turns failures into the right exit.
fn conclude(
    ctx: &Context,
    writer: RecordWriter,
    failures: Vec<Failure>,
    advertisers: usize,
) -> Result<()> {
    if failures.is_empty() {
        ctx.finish(writer)?;
        return Ok(());
    }
    let failed_accounts: HashSet<&str> = failures.iter().map(|f| f.advertiser.as_str()).collect();
    let with_where = |failure: Failure| {
        let window = failure
            .window
            .map(|w| format!(" ({w})"))
            .unwrap_or_default();
        failure
            .error
            .context(format!("advertiser {}{window}", failure.advertiser))
    };
    if failed_accounts.len() < advertisers {
        let count = failed_accounts.len();
        let names = failed_accounts
            .iter()
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
        for failure in failures {
            ctx.say(&format!("error: {:#}", with_where(failure)));
        }
        // The other accounts are complete: keep their rows, but never exit 0.
        ctx.finish(writer)?;
        return Err(CliError::Partial(format!(
            "{count} of {advertisers} advertisers failed ({names}); the output holds the others, \
             complete, and nothing of the failed ones"
        ))
        .into());
    }
    // Nothing complete: no output file is left behind. The first failure is the error; any
    // others are said before it.
    drop(writer);
    let mut failures = failures.into_iter();
    let first = failures.next().map(with_where);
    for other in failures {
        ctx.say(&format!("error: {:#}", with_where(other)));
    }
    Err(first.unwrap_or_else(|| anyhow::anyhow!("the report failed")))
}

/// A progress line on stderr when it is a terminal; nothing in cron.
struct Progress {
    bar: indicatif::ProgressBar,
    units: usize,
    done: std::sync::atomic::AtomicUsize,
    rows: std::sync::atomic::AtomicU64,
}

impl Progress {
    fn new(ctx: &Context, units: usize) -> Self {
        Self {
            bar: ctx.progress(),
            units,
            done: Default::default(),
            rows: Default::default(),
        }
    }

    fn unit_done(&self, client: &Client) {
        self.done.fetch_add(1, Ordering::Relaxed);
        self.draw(client);
    }

    fn page(&self, rows: u64, client: &Client) {
        self.rows.store(rows, Ordering::Relaxed);
        self.draw(client);
    }

    fn draw(&self, client: &Client) {
        if self.bar.is_hidden() {
            // Cron: nothing is drawn, so nothing is formatted per page either.
            return;
        }
        let stats = client.stats();
        self.bar.set_message(format!(
            "windows {}/{} · rows {} · requests {} · retries {}",
            self.done.load(Ordering::Relaxed),
            self.units,
            self.rows.load(Ordering::Relaxed),
            stats.requests.load(Ordering::Relaxed),
            stats.retries.load(Ordering::Relaxed)
        ));
    }

    /// Leaves the final count on the terminal (every window done).
    fn finish(&self, client: &Client) {
        self.draw(client);
        self.bar.finish();
    }
}

/// The IDs a run covers: `--bc`, `--all-advertisers`, else `--advertiser` (repeatable, comma list),
/// else the profile's default.
pub async fn advertisers(ctx: &Context, all: bool, bc: Option<&str>) -> Result<Vec<String>> {
    let mut ids: Vec<String> = if let Some(bc_id) = bc {
        let (client, _) = ctx.authed_client().await?;
        crate::cli::bc::bc_advertisers(&client, bc_id)
            .await?
            .iter()
            .filter_map(|a| {
                a.get("advertiser_id")
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_string)
            })
            .collect()
    } else if all {
        match ctx.app_credentials(false).await {
            Ok(app) => {
                let (client, _) = ctx.authed_client().await?;
                client
                    .authorized_advertisers(&app)
                    .await
                    .context("listing the ad accounts the token reaches")?
                    .into_iter()
                    .map(|a| a.advertiser_id)
                    .collect()
            }
            Err(e) => {
                let stored = ctx
                    .token()
                    .await?
                    .stored
                    .map(|s| s.advertiser_ids)
                    .unwrap_or_default();
                if stored.is_empty() {
                    return Err(
                        e.context("--all-advertisers lists the accounts with the app credentials")
                    );
                }
                ctx.notice("note: no app secret at hand: using the ad accounts recorded at login");
                stored
            }
        }
    } else if ctx.global.advertiser.is_empty() {
        vec![ctx.advertiser_id()?]
    } else {
        ctx.global.advertiser.clone()
    };
    let mut seen = HashSet::new();
    ids.retain(|id| seen.insert(id.clone()));
    if ids.is_empty() {
        return Err(crate::cli::errors::usage("no advertiser to report on"));
    }
    Ok(ids)
}
