//! Client-side pacing, so the tool spends TikTok's request quota fully and fairly without
//! tripping it: every request waits for its endpoint's next slot in a sliding log shared by
//! every tiktok-ads process of the same app (see `schedule` for the rules, `store` for the
//! sharing, `limits` for TikTok's published limits).

mod compact;
mod limits;
mod schedule;
mod store;

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use limits::{EndpointLimit, Limits, Window, endpoint_key, parse_rate};
pub use schedule::Standing;
use store::Store;
pub use store::{SharedState, pacing_alone};

/// Wall-clock milliseconds since the Unix epoch: the time processes share.
pub trait Clock: Send + Sync {
    fn now_ms(&self) -> u64;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0)
    }
}

#[derive(Clone)]
pub struct PacerOptions {
    pub limits: Limits,
    /// The file shared by the app's processes; `None` paces this process alone.
    pub shared_state: Option<PathBuf>,
    /// A store shared beyond this machine (a database), used instead of the file.
    pub shared_store: Option<Arc<dyn SharedState>>,
    pub clock: Arc<dyn Clock>,
    /// How many requests are waiting for quota right now (for a progress line).
    pub waiting: Arc<AtomicUsize>,
    /// How long an endpoint pauses after a rate-limit answer without `Retry-After` (at most
    /// its shortest window).
    pub pause: Duration,
}

impl PacerOptions {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            shared_state: None,
            shared_store: None,
            clock: Arc::new(SystemClock),
            waiting: Arc::default(),
            pause: Duration::from_secs(1),
        }
    }
}

impl std::fmt::Debug for PacerOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PacerOptions")
            .field("limits", &self.limits)
            .field("shared_state", &self.shared_state)
            .finish_non_exhaustive()
    }
}

pub struct Pacer {
    limits: Limits,
    store: Store,
    clock: Arc<dyn Clock>,
    waiting: Arc<AtomicUsize>,
    pause: Duration,
    /// Who this process is in the shared state, to share the limit fairly among processes.
    client: u64,
    /// Endpoints whose daily quota was said to be nearly used.
    warned: Mutex<Vec<String>>,
    /// The endpoints the last claim found below their full rate.
    slowed: Mutex<HashSet<String>>,
    /// Slots claimed in a batch and not used yet, per endpoint (see `State::batch`).
    ahead: Mutex<HashMap<String, VecDeque<u64>>>,
}

/// How long after its time a slot claimed ahead may still be used (see `State::batch`).
const STALE_MS: u64 = 10;

/// Counts a request as waiting while it waits (also when the wait is cancelled).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl Pacer {
    pub fn new(options: PacerOptions) -> Self {
        let store = match (options.shared_store, options.shared_state) {
            (Some(shared), _) => Store::shared(shared),
            (None, Some(path)) => Store::file(path),
            (None, None) => Store::memory(),
        };
        Self {
            limits: options.limits,
            store,
            clock: options.clock,
            waiting: options.waiting,
            pause: options.pause,
            client: rand::random(),
            warned: Mutex::new(Vec::new()),
            slowed: Mutex::new(HashSet::new()),
            ahead: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for the next slot of the endpoint at `path`.
    pub async fn ready(&self, path: &str) {
        let now = self.clock.now_ms();
        let (at, rate) = self.claim(path, now);
        self.wait_until(path, at, now, rate).await;
    }

    /// The slot of the next request to the endpoint at `path`: one claimed ahead, or the
    /// first of a batch claimed now (with the endpoint's rate as the claim found it).
    fn claim(&self, path: &str, now: u64) -> (u64, Option<usize>) {
        let key = endpoint_key(path);
        let limit = self.limits.for_path(path);
        // Held until the batch claimed below is in: requests on other threads take its slots
        // then, instead of claiming batches of their own and the one stored last replacing
        // the others (slots claimed and never used hold the quota from everyone).
        let mut ahead = lock(&self.ahead);
        let mut stale = Vec::new();
        if let Some(slots) = ahead.get_mut(&key) {
            // A slot is recorded at the time it was claimed for: one used much later would be
            // a send the shared log places in the past (a window that has room for it on
            // paper only). Such slots are given back and a batch claimed afresh.
            match slots.front() {
                Some(&at) if at + STALE_MS >= now => {
                    slots.pop_front();
                    return (at, None);
                }
                _ => stale.extend(slots.drain(..)),
            }
        }
        let (mut slots, rate, (today, per_day), slowed) = self.store.update(|state| {
            state.release(&key, self.client, &stale);
            state.forget_idle(now);
            let batch = state.batch(&key, limit, self.client);
            let slots: VecDeque<u64> = (0..batch)
                .map(|_| state.claim(&key, limit, now, self.client))
                .collect();
            let slowed = state.slowed(&key);
            (
                slots,
                state.rate(&key, limit),
                state.daily(&key, limit),
                slowed,
            )
        });
        let at = slots.pop_front().unwrap_or(now);
        if !slots.is_empty() {
            ahead.insert(key.clone(), slots);
        }
        drop(ahead);
        {
            let mut known = lock(&self.slowed);
            if slowed {
                known.insert(key.clone());
            } else {
                known.remove(&key);
            }
        }
        self.warn_near_daily_quota(path, today, per_day);
        (at, Some(rate))
    }

    /// Waits from `now` until slot `at`.
    async fn wait_until(&self, path: &str, at: u64, now: u64, rate: Option<usize>) {
        let wait = at.saturating_sub(now);
        if wait > 0 {
            let rate = rate.map_or_else(String::new, |r| format!("{r} a second now; "));
            tracing::debug!("pacing {path}: {rate}waiting {wait} ms for quota");
            self.waiting.fetch_add(1, Ordering::Relaxed);
            let _waiting = Waiting(&self.waiting);
            tokio::time::sleep(Duration::from_millis(wait)).await;
        }
    }

    /// This process will send `more` requests to the endpoint at `path` (besides those it
    /// already waited for), so the processes sharing the quota keep no part of it for this one
    /// beyond them.
    pub fn expect(&self, path: &str, more: u64) {
        let key = endpoint_key(path);
        self.store
            .update(|state| state.expect(&key, self.client, more));
    }

    /// TikTok said the endpoint is asked too often: slow down, and wait `retry_after` if given.
    pub fn rejected(&self, path: &str, retry_after: Option<Duration>) {
        let key = endpoint_key(path);
        let limit = self.limits.for_path(path);
        let now = self.clock.now_ms();
        // Slots claimed ahead were claimed at the rate just refused: given back to the log,
        // where, left unused, they would hold the quota from everyone.
        let unused: Vec<u64> = lock(&self.ahead)
            .remove(&key)
            .map(Vec::from)
            .unwrap_or_default();
        let rate = self.store.update(|state| {
            state.release(&key, self.client, &unused);
            state.rejected(&key, limit, now, retry_after, self.pause);
            state.rate(&key, limit)
        });
        lock(&self.slowed).insert(key.clone());
        tracing::debug!("pacing {path}: rate-limited by TikTok; now {rate} a second");
    }

    pub fn succeeded(&self, path: &str) {
        let key = endpoint_key(path);
        // At its full rate (as the last claim found it) a success changes nothing: the shared
        // state is not touched, which halves its cost per request.
        if !lock(&self.slowed).contains(&key) {
            return;
        }
        let limit = self.limits.for_path(path);
        self.store.update(|state| state.succeeded(&key, limit));
    }

    /// Whether a request is waiting for quota right now.
    pub fn is_waiting(&self) -> bool {
        self.waiting.load(Ordering::Relaxed) > 0
    }

    /// Where the pacing state is kept (a file, a database, or this process alone), and
    /// whether it is shared with other processes.
    pub fn store(&self) -> (String, bool) {
        (self.store.describe(), self.store.is_shared())
    }

    /// Where each endpoint of the app stands (as every process of the app has used it).
    pub fn standings(&self) -> Vec<Standing> {
        self.store.read().standings(self.clock.now_ms())
    }

    fn warn_near_daily_quota(&self, path: &str, today: u64, per_day: u64) {
        if per_day == u64::MAX || today.saturating_mul(10) < per_day.saturating_mul(9) {
            return;
        }
        let mut warned = self.warned.lock().unwrap_or_else(|p| p.into_inner());
        if !warned.iter().any(|p| p == path) {
            warned.push(path.to_string());
            tracing::warn!(
                "{path}: {today} of TikTok's {per_day} requests a day for this app are used; \
                 past the quota TikTok refuses until 00:00 UTC"
            );
        }
    }
}

/// A shared state file's bytes holding one claim at `at_ms` for the endpoint at `path`: what
/// a process that crashed with a claim far ahead leaves behind (for tests of the binary).
#[doc(hidden)]
pub fn state_with_claim(path: &str, at_ms: u64) -> Vec<u8> {
    let mut state = schedule::State::default();
    let limit = EndpointLimit::one_window(10, Duration::from_secs(1));
    state.claim(&endpoint_key(path), &limit, at_ms, 1);
    store::encode(&state).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Milliseconds on tokio's clock, which tests pause and advance.
    struct TokioClock(tokio::time::Instant);

    impl Clock for TokioClock {
        fn now_ms(&self) -> u64 {
            self.0.elapsed().as_millis() as u64 + 1_700_000_000_000
        }
    }

    fn pacer(limit: EndpointLimit) -> Arc<Pacer> {
        let mut options = PacerOptions::new(Limits::all(limit));
        options.clock = Arc::new(TokioClock(tokio::time::Instant::now()));
        Arc::new(Pacer::new(options))
    }

    /// Sends `n` requests at once through `pacer`; returns when each went (ms from the start).
    async fn send_all(pacer: &Arc<Pacer>, n: usize) -> Vec<u64> {
        let start = tokio::time::Instant::now();
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                let pacer = pacer.clone();
                tokio::spawn(async move {
                    pacer.ready("/report/integrated/get/").await;
                    start.elapsed().as_millis() as u64
                })
            })
            .collect();
        let mut times = Vec::new();
        for task in tasks {
            times.push(task.await.unwrap());
        }
        times.sort_unstable();
        times
    }

    fn busiest(times: &[u64], period: u64) -> usize {
        times
            .iter()
            .map(|&s| times.iter().filter(|&&t| t >= s && t < s + period).count())
            .max()
            .unwrap_or(0)
    }

    #[tokio::test(start_paused = true)]
    async fn requests_wait_their_turn_on_a_paused_clock() {
        let pacer = pacer(EndpointLimit::one_window(10, Duration::from_secs(1)));
        let times = send_all(&pacer, 35).await;
        assert_eq!(busiest(&times, 1000), 10);
        assert_eq!(
            *times.last().unwrap(),
            3 * 1020,
            "three windows after the first"
        );
        assert!(!pacer.is_waiting());
    }

    #[tokio::test(start_paused = true)]
    async fn a_rejection_slows_the_endpoint_and_success_restores_it() {
        let pacer = pacer(EndpointLimit::one_window(10, Duration::from_secs(1)));
        pacer.rejected("/report/integrated/get/", Some(Duration::from_secs(3)));
        let times = send_all(&pacer, 10).await;
        assert!(times[0] >= 3000, "Retry-After honoured: {times:?}");
        assert!(busiest(&times, 1000) <= 5, "half the rate: {times:?}");
        for _ in 0..100 {
            pacer.succeeded("/report/integrated/get/");
        }
        let later = send_all(&pacer, 30).await;
        assert_eq!(busiest(&later, 1000), 10, "back to the limit, not above");
    }

    /// A shared store in memory that counts its changes.
    #[derive(Default)]
    struct CountingStore {
        bytes: Mutex<Option<Vec<u8>>>,
        changes: AtomicUsize,
    }

    impl SharedState for CountingStore {
        fn exchange(
            &self,
            change: &mut dyn FnMut(Option<&[u8]>) -> Vec<u8>,
        ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
            let mut bytes = lock(&self.bytes);
            *bytes = Some(change(bytes.as_deref()));
            self.changes.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
        fn read(&self) -> Result<Option<Vec<u8>>, Box<dyn std::error::Error + Send + Sync>> {
            Ok(lock(&self.bytes).clone())
        }
        fn describe(&self) -> String {
            "memory".into()
        }
    }

    const PATH: &str = "/report/integrated/get/";

    /// A pacer over a counting shared store that sent one request and then said it has
    /// `more` to send (as a report does once its first page told its page count).
    async fn counted(limit: EndpointLimit, more: u64) -> (Arc<Pacer>, Arc<CountingStore>) {
        let store = Arc::new(CountingStore::default());
        let mut options = PacerOptions::new(Limits::all(limit));
        options.clock = Arc::new(TokioClock(tokio::time::Instant::now()));
        options.shared_store = Some(store.clone());
        let pacer = Arc::new(Pacer::new(options));
        pacer.ready(PATH).await;
        pacer.expect(PATH, more);
        store.changes.store(0, Ordering::Relaxed);
        (pacer, store)
    }

    fn claimed_ahead(pacer: &Pacer) -> usize {
        lock(&pacer.ahead).values().map(VecDeque::len).sum()
    }

    #[tokio::test(start_paused = true)]
    async fn at_a_high_rate_slots_are_claimed_ten_at_a_time_and_the_limit_still_holds() {
        let limit = EndpointLimit::one_window(1000, Duration::from_secs(1));
        let (pacer, store) = counted(limit.clone(), 2499).await;
        let times = send_all(&pacer, 2499).await;
        let changes = store.changes.load(Ordering::Relaxed);
        assert_eq!(
            changes, 250,
            "one change of the shared state per ten requests"
        );
        assert!(busiest(&times, 1000) <= 1000, "{}", busiest(&times, 1000));
        assert_eq!(*times.last().unwrap(), 2 * 1020, "the limit used fully");
        assert_eq!(claimed_ahead(&pacer), 0, "every slot claimed was used");

        // No more claimed than announced: a batch stops at what the process still wants.
        let (pacer, store) = counted(limit, 14).await;
        send_all(&pacer, 14).await;
        assert_eq!(store.changes.load(Ordering::Relaxed), 2, "ten, then four");
        assert_eq!(claimed_ahead(&pacer), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn at_tiktoks_usual_rates_each_request_claims_its_own_slot() {
        for (count, period) in [(10, 1), (50, 10), (100, 1)] {
            let limit = EndpointLimit::one_window(count, Duration::from_secs(period));
            let (pacer, store) = counted(limit, 40).await;
            send_all(&pacer, 40).await;
            assert_eq!(
                store.changes.load(Ordering::Relaxed),
                40,
                "{count} per {period} s"
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn no_slot_claimed_ahead_is_lost_when_requests_on_several_threads_claim_at_once() {
        let store = Arc::new(CountingStore::default());
        let mut options = PacerOptions::new(Limits::all(EndpointLimit::one_window(
            1_000_000,
            Duration::from_secs(1),
        )));
        options.shared_store = Some(store.clone());
        let pacer = Arc::new(Pacer::new(options));
        pacer.ready(PATH).await;
        let more = 4000;
        pacer.expect(PATH, more);
        let tasks: Vec<_> = (0..more)
            .map(|_| {
                let pacer = pacer.clone();
                tokio::spawn(async move { pacer.ready(PATH).await })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let state = store::decode(&store.read().unwrap().unwrap()).unwrap();
        let limit = pacer.limits.for_path(PATH);
        let (claimed, _) = state.daily(&endpoint_key(PATH), limit);
        assert_eq!(
            claimed,
            1 + more + claimed_ahead(&pacer) as u64,
            "every slot claimed was used or is still held"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn slots_claimed_ahead_and_left_unused_too_long_are_claimed_afresh() {
        let limit = EndpointLimit::one_window(1000, Duration::from_secs(1));
        let (pacer, store) = counted(limit, 100).await;
        pacer.ready(PATH).await;
        assert_eq!(claimed_ahead(&pacer), 9);
        tokio::time::advance(Duration::from_millis(STALE_MS)).await;
        pacer.ready(PATH).await;
        assert_eq!(
            store.changes.load(Ordering::Relaxed),
            1,
            "still fresh enough"
        );
        assert_eq!(claimed_ahead(&pacer), 8);
        tokio::time::advance(Duration::from_millis(STALE_MS + 1)).await;
        pacer.ready(PATH).await;
        assert_eq!(
            store.changes.load(Ordering::Relaxed),
            2,
            "a new batch, claimed now"
        );
        assert_eq!(claimed_ahead(&pacer), 9);
        // The eight slots let go left the shared log: it holds the sends made and the nine
        // slots now claimed ahead, nothing more.
        let state = store::decode(&store.read().unwrap().unwrap()).unwrap();
        let (claimed, _) = state.daily(&endpoint_key(PATH), pacer.limits.for_path(PATH));
        assert_eq!(claimed, 3 + 1 + 9, "{claimed} claims recorded");
    }

    #[tokio::test(start_paused = true)]
    async fn a_rejection_drops_the_slots_claimed_ahead() {
        let limit = EndpointLimit::one_window(1000, Duration::from_secs(1));
        let (pacer, store) = counted(limit, 100).await;
        pacer.ready(PATH).await;
        assert_eq!(claimed_ahead(&pacer), 9);
        pacer.rejected(PATH, None);
        assert_eq!(claimed_ahead(&pacer), 0);
        let state = store::decode(&store.read().unwrap().unwrap()).unwrap();
        let (claimed, _) = state.daily(&endpoint_key(PATH), pacer.limits.for_path(PATH));
        assert_eq!(claimed, 2, "only the two sends made stay in the shared log");
        let before = store.changes.load(Ordering::Relaxed);
        pacer.ready(PATH).await;
        assert_eq!(
            store.changes.load(Ordering::Relaxed),
            before + 1,
            "claimed afresh"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_success_at_full_rate_leaves_the_shared_file_alone() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("state/pacing.json");
        let mut options = PacerOptions::new(Limits::all(EndpointLimit::one_window(
            10,
            Duration::from_secs(1),
        )));
        options.clock = Arc::new(TokioClock(tokio::time::Instant::now()));
        options.shared_state = Some(file.clone());
        let pacer = Pacer::new(options);
        let path = "/report/integrated/get/";
        pacer.ready(path).await;
        assert!(file.exists(), "the claim is shared");
        std::fs::remove_file(&file).unwrap();
        pacer.succeeded(path);
        assert!(!file.exists(), "a success at full rate touches nothing");
        pacer.rejected(path, None);
        assert!(
            file.exists(),
            "a removed state file is made again, not written unlinked"
        );
        std::fs::remove_file(&file).unwrap();
        pacer.succeeded(path);
        assert!(
            file.exists(),
            "below full rate, successes count in the shared state"
        );
    }
}
