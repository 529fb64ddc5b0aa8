//! The synchronous report: every account × window fetched page by page from
//! `/report/integrated/get/`, a bounded number of requests in flight, pages decoded on worker
//! threads, rows handed to the sink in a fixed order as pages arrive, each window checked for
//! completeness, and one account's failure kept from stopping the others.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use anyhow::Result;
use futures_util::future;
use futures_util::stream::{self, BoxStream, StreamExt};
use tokio::sync::Semaphore;

use super::duplicates::{Reread, RowKeys};
use super::error::ReportError;
use super::observer::{Observer, Progress};
use super::plan::{Plan, Planned, PlannedAccount};
use super::sink::{RowSink, Run, Unit};
use super::spec::ReportSpec;
use super::window::Window;
use crate::api::paging::{Next, PageCheck};
use crate::api::report::{Columns, PageBuffers, ReportPage};
use crate::api::{ApiError, Client};

/// Requests in flight at once, by default.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// How a window read again after a repeat came.
enum ReadAgain {
    /// Every row, none twice: the window is complete.
    Whole,
    /// A key came twice again: the repeat persists.
    Repeated,
    Failed(anyhow::Error),
}

/// One request stream: an account (by index) over one window.
#[derive(Debug, Clone, Copy)]
struct UnitIndex {
    account: usize,
    window: Option<Window>,
}

/// Everything a spawned page fetch needs, cheap to clone.
#[derive(Clone)]
struct Fetcher {
    client: Client,
    spec: Arc<ReportSpec>,
    columns: Arc<Columns>,
    /// Pages handed on give their buffers back here for the next.
    buffers: Arc<PageBuffers>,
    units: Arc<Vec<UnitIndex>>,
    accounts: Arc<Vec<String>>,
    permits: Arc<Semaphore>,
    failed: Arc<Mutex<HashSet<usize>>>,
    /// One page check per unit: pages are claimed there as they are decoded (on worker
    /// threads) and counted there in order.
    checks: Arc<Vec<Mutex<PageCheck>>>,
}

type Fetched = (usize, u64, Result<ReportPage, ApiError>);

/// A spawned page fetch that is cancelled when nobody waits for it any more (paging stopped
/// early: an empty or short page, a failed account, an interrupted run).
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl Fetcher {
    fn is_failed(&self, account: usize) -> bool {
        lock(&self.failed).contains(&account)
    }

    /// Starts fetching page `page` of unit `unit` on a worker thread (so pages decode in
    /// parallel) and resolves to it.
    fn fetch(&self, unit: usize, page: u64) -> impl Future<Output = Fetched> + Send + use<> {
        let this = self.clone();
        let mut task = AbortOnDrop(tokio::spawn(async move {
            let _permit = this.permits.clone().acquire_owned().await;
            let u = this.units[unit];
            if this.is_failed(u.account) {
                // This account has failed already: do not spend quota on it.
                return Ok(ReportPage::default());
            }
            let query = this
                .spec
                .page_query(&this.accounts[u.account], u.window, page);
            this.client
                .reports()
                .page(
                    &query,
                    &this.columns,
                    &this.buffers,
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
        lock(&self.checks[unit]).record(
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
                    this.client
                        .expect_requests(crate::api::report::INTEGRATED_PATH, last - 1);
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

/// Runs the planned accounts through `/report/integrated/get/` into `sink` and concludes:
/// the rows kept, or why not (see [`Run::conclude`]).
pub async fn run(
    client: &Client,
    plan: &Plan,
    planned: Planned,
    sink: impl RowSink,
    observer: &dyn Observer,
    concurrency: usize,
) -> Result<u64> {
    let (accounts, mut run) = Run::start(planned, sink, observer);
    let fetcher = Fetcher::new(client, plan, accounts, concurrency);
    let mut progress = Progress {
        windows: fetcher.units.len(),
        ..Progress::default()
    };
    // Every window's first page; the rest is said once a first page tells how many.
    client.expect_requests(
        crate::api::report::INTEGRATED_PATH,
        fetcher.units.len() as u64,
    );
    let mut pages = fetcher.pages(concurrency.max(1));
    let mut current: Option<usize> = None;
    let dimensions = plan.spec.dimensions.len().min(plan.data_columns.len());
    let mut keys = RowKeys::new(plan.data_columns[..dimensions].to_vec());
    while let Some((unit_index, _page, result)) = pages.next().await {
        let unit = fetcher.units[unit_index];
        if let Some(done) = current.filter(|&c| c != unit_index) {
            fetcher
                .end_unit(done, Some(unit.account), &mut keys, &mut run)
                .await?;
            progress.windows_done += 1;
            show(&mut progress, client, observer);
        }
        current = Some(unit_index);
        if fetcher.is_failed(unit.account) {
            continue;
        }
        let page = match result {
            Ok(page) if page.truncated.is_none() => page,
            Ok(page) => {
                let error = truncated(&page.truncated.unwrap_or_default());
                fetcher.fail(&mut run, unit, error.into());
                continue;
            }
            Err(e) => {
                fetcher.fail(&mut run, unit, e.into());
                continue;
            }
        };
        fetcher.hand_over(unit, &page, &mut keys, &mut run.sink)?;
        progress.rows += page.rows() as u64;
        fetcher.buffers.give_back(page);
        show(&mut progress, client, observer);
    }
    if let Some(done) = current {
        fetcher.end_unit(done, None, &mut keys, &mut run).await?;
        progress.windows_done += 1;
        show(&mut progress, client, observer);
    }
    run.conclude()
}

/// TikTok said (`X-Tt-Ads-Throttle`) that it cut the report short.
fn truncated(header: &str) -> ReportError {
    ReportError::Incomplete(format!(
        "TikTok truncated this report (X-Tt-Ads-Throttle: {header}): accounts with 20,000+ ads \
         get only the newest 20,000; narrow it with --filter campaign_ids=... or use --async"
    ))
}

/// The client's counts of requests and retries, with the run's own, to the observer.
fn show(progress: &mut Progress, client: &Client, observer: &dyn Observer) {
    let stats = client.stats();
    progress.requests = stats.requests.load(Ordering::Relaxed);
    progress.retries = stats.retries.load(Ordering::Relaxed);
    observer.progress(progress);
}

impl Fetcher {
    /// The fetcher of `accounts`' windows: one unit each, in account then date order.
    fn new(
        client: &Client,
        plan: &Plan,
        accounts: Vec<PlannedAccount>,
        concurrency: usize,
    ) -> Self {
        let units: Vec<UnitIndex> = accounts
            .iter()
            .enumerate()
            .flat_map(|(account, a)| {
                a.windows
                    .iter()
                    .map(move |&window| UnitIndex { account, window })
            })
            .collect();
        Self {
            client: client.clone(),
            spec: Arc::new(plan.spec.clone()),
            columns: Arc::new(Columns::new(plan.data_columns.clone())),
            buffers: Arc::default(),
            checks: Arc::new((0..units.len()).map(|_| Mutex::default()).collect()),
            units: Arc::new(units),
            accounts: Arc::new(accounts.into_iter().map(|a| a.advertiser).collect()),
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            failed: Arc::new(Mutex::new(HashSet::new())),
        }
    }

    /// The unit's account fails (its other units are fetched no more).
    fn fail(&self, run: &mut Run<'_, impl RowSink>, unit: UnitIndex, error: anyhow::Error) {
        lock(&self.failed).insert(unit.account);
        run.fail(&self.accounts[unit.account], unit.window, error);
    }

    /// A page's rows, in order, to the sink.
    fn hand_over(
        &self,
        unit: UnitIndex,
        page: &ReportPage,
        keys: &mut RowKeys,
        sink: &mut impl RowSink,
    ) -> Result<()> {
        let key = Unit {
            advertiser: &self.accounts[unit.account],
            window: unit.window,
        };
        let mut cells = Vec::with_capacity(self.columns.len());
        for i in 0..page.rows() {
            cells.clear();
            cells.extend(page.row(i));
            if keys.add(&cells) {
                sink.row(&key, &cells)?;
            }
        }
        keys.page_done();
        sink.flush()
    }

    /// The unit's pages are all in: it is complete if they add up to TikTok's count with no
    /// row twice, else its account fails. A repeat caught as it came (not handed on) has the
    /// window read once more, taking only the rows that did not go out. When the next unit is
    /// another account's (`next_account`), or there is none, the account is done.
    async fn end_unit(
        &self,
        unit_index: usize,
        next_account: Option<usize>,
        keys: &mut RowKeys,
        run: &mut Run<'_, impl RowSink>,
    ) -> Result<()> {
        let unit = self.units[unit_index];
        let finished = keys.finish();
        if !self.is_failed(unit.account) {
            let counted = lock(&self.checks[unit_index]).finish();
            let incomplete = |why: String| Some(ReportError::Incomplete(why).into());
            let problem: Option<anyhow::Error> = match (counted, finished.repeated) {
                (Ok(()), None) => None,
                (Ok(()), Some(repeated)) if !repeated.handed_on => {
                    match self
                        .read_again(unit_index, keys, finished.handed_on, &mut run.sink)
                        .await?
                    {
                        ReadAgain::Whole => None,
                        ReadAgain::Repeated => incomplete(repeated.reason(true)),
                        ReadAgain::Failed(e) => Some(e),
                    }
                }
                (Ok(()), Some(repeated)) => incomplete(repeated.reason(false)),
                (Err(shortfall), _) => incomplete(shortfall.reason("")),
            };
            match problem {
                None => run.sink.unit_complete(&Unit {
                    advertiser: &self.accounts[unit.account],
                    window: unit.window,
                })?,
                Some(problem) => self.fail(run, unit, problem),
            }
        }
        if next_account != Some(unit.account) {
            let advertiser = &self.accounts[unit.account];
            run.sink
                .account_done(advertiser, !self.is_failed(unit.account))?;
        }
        Ok(())
    }

    /// Reads the unit's window again from its first page (through the one request path, one
    /// page at a time: this is rare), handing on only the rows whose keys did not go out the
    /// first time.
    async fn read_again(
        &self,
        unit_index: usize,
        keys: &RowKeys,
        handed_on: Vec<u64>,
        sink: &mut impl RowSink,
    ) -> Result<ReadAgain> {
        let unit = self.units[unit_index];
        let key = Unit {
            advertiser: &self.accounts[unit.account],
            window: unit.window,
        };
        tracing::info!(
            "a row came twice in the window {:?} of advertiser {}: reading it again",
            unit.window,
            key.advertiser
        );
        let check = Mutex::new(PageCheck::default());
        let mut again = Reread::new(handed_on);
        let mut page_number = 1;
        loop {
            let query = self
                .spec
                .page_query(key.advertiser, unit.window, page_number);
            let page = match self
                .client
                .reports()
                .page(&query, &self.columns, &self.buffers, page_number, &check)
                .await
            {
                Ok(page) => match &page.truncated {
                    None => page,
                    Some(header) => return Ok(ReadAgain::Failed(truncated(header).into())),
                },
                Err(e) => return Ok(ReadAgain::Failed(e.into())),
            };
            let mut cells = Vec::with_capacity(self.columns.len());
            for i in 0..page.rows() {
                cells.clear();
                cells.extend(page.row(i));
                if again.take(keys.hash(&cells)) {
                    sink.row(&key, &cells)?;
                }
            }
            sink.flush()?;
            let next = lock(&check).record(
                page_number,
                &page.page_info,
                page.rows(),
                u64::from(self.spec.page_size),
            );
            if next == Next::Done {
                break;
            }
            page_number += 1;
        }
        if again.repeats() {
            return Ok(ReadAgain::Repeated);
        }
        Ok(match lock(&check).finish() {
            Ok(()) => ReadAgain::Whole,
            Err(shortfall) => ReadAgain::Failed(
                ReportError::Incomplete(shortfall.reason(" when the window was read again")).into(),
            ),
        })
    }
}
