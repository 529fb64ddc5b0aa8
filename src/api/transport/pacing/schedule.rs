//! The pacing decisions, as plain data and arithmetic on milliseconds (so they can be shared
//! by processes through a file and tested with any clock):
//!
//! * a sliding log of send times per endpoint: a request may go only when fewer than `n`
//!   requests went in the last window (plus a small margin for network jitter) — never more
//!   than the limit in *any* window, unlike a token bucket whose full burst each period can
//!   pass twice the limit in a sliding one;
//! * a request takes the earliest free slot (a claim may lie in the future, a reservation, so
//!   waiting requests of this process and of others are served in turn, and no claim ever
//!   moves another);
//! * processes share fairly: each client (a process) that claimed lately may use at most its
//!   share of a window (the limit divided among the active clients), so one whose answers
//!   come back first cannot take the free slots of every window;
//! * the rate adapts: a rejection (40100, 40133, HTTP 429) halves the share of the limit in use
//!   (once per window) and holds sends back for the server's `Retry-After`; each window of
//!   successes gives one request a window back, up to the configured limit.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::limits::EndpointLimit;

/// The share of the limit in use is counted in thousandths.
const FULL: u32 = 1000;
/// A send this recent still counts its client as competing (its next claim is on its way).
const JUST_SENT_MS: u64 = 50;

/// The most slots one client claims in one change of the shared state.
const MAX_BATCH: u64 = 32;
/// Rejections are kept this long, for `doctor`.
const REJECTIONS_KEPT_MS: u64 = 10 * 60 * 1000;
const DAY_MS: u64 = 24 * 3600 * 1000;

/// Pacing of every endpoint of one app.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct State {
    #[serde(default)]
    endpoints: BTreeMap<String, Endpoint>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Endpoint {
    /// Claimed sends (time, client), ascending in time; the last may lie in the future.
    #[serde(default, with = "super::compact")]
    sends: VecDeque<Sent>,
    /// Share of the limit in use, in thousandths.
    #[serde(default = "full")]
    share: u32,
    /// Successes since the share last changed.
    #[serde(default)]
    successes: u32,
    /// No send before this (a server's `Retry-After`, or a window after a rejection).
    #[serde(default)]
    not_before: u64,
    /// When the share was last cut (once per window, however many rejections come at once).
    #[serde(default)]
    last_cut: Option<u64>,
    #[serde(default)]
    rejections: VecDeque<u64>,
    /// The UTC day (days since the epoch) `today` counts.
    #[serde(default)]
    day: u64,
    #[serde(default)]
    today: u64,
    /// Requests a client said it still has to send (see [`State::expect`]); a client not in
    /// here may want any number.
    #[serde(default)]
    wants: BTreeMap<u64, u64>,
    /// The rejections going on (none: the last answer was a success).
    #[serde(default)]
    streak: Option<Streak>,
    /// A limit TikTok enforces that the configured ones do not say, learnt from rejections.
    #[serde(default)]
    learned: Option<Learned>,
}

/// A limit learnt from TikTok's answers: at most `count` sends in any `period_ms`, believed
/// until `until` (then found again if it still holds, so a raised limit is used).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Learned {
    pub count: u32,
    pub period_ms: u64,
    pub until: u64,
}

/// One claimed send: when, and by which client.
#[derive(Debug, Clone, Copy)]
pub(super) struct Sent(pub(super) u64, pub(super) u64);

fn full() -> u32 {
    FULL
}

impl Default for Endpoint {
    fn default() -> Self {
        Self {
            sends: VecDeque::new(),
            share: FULL,
            successes: 0,
            not_before: 0,
            last_cut: None,
            rejections: VecDeque::new(),
            day: 0,
            today: 0,
            wants: BTreeMap::new(),
            streak: None,
            learned: None,
        }
    }
}

/// Rejections without a success between them.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Streak {
    /// When the first came.
    first: u64,
    /// TikTok said how long to wait (then the rejections say nothing of a window).
    told: bool,
    /// A limit was learnt from this streak already.
    learnt: bool,
}

/// How long a learnt limit is believed.
const LEARNED_FOR_MS: u64 = 3600 * 1000;
/// The windows a learnt limit is rounded to (TikTok's are whole seconds and minutes).
const ROUND_PERIODS_S: &[u64] = &[2, 3, 5, 10, 15, 20, 30, 60, 120, 180, 300, 600];
/// Of the sends a learnt window took, this share is used (room for clocks and latency).
const LEARNED_USE_PERCENT: u64 = 98;

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// The shortest of the configured windows, in ms.
fn shortest_window(limit: &EndpointLimit) -> u64 {
    limit
        .windows
        .iter()
        .map(|w| millis(w.period))
        .min()
        .unwrap_or(1000)
}

/// Room left for network jitter between our clock and the server's count.
fn margin(period: Duration) -> u64 {
    (millis(period) / 50).min(100)
}

/// Requests allowed in a window at `share` thousandths of the limit (at least one).
fn allowed(count: u32, share: u32) -> usize {
    ((u64::from(count) * u64::from(share) / u64::from(FULL)).max(1)) as usize
}

/// Where one endpoint stands, for `doctor` and `-v`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub endpoint: String,
    /// Sends in the last minute.
    pub last_minute: usize,
    /// Rejections in the last ten minutes.
    pub rejected: usize,
    /// Sends today (UTC).
    pub today: u64,
    /// Share of the limit in use, in thousandths.
    pub share: u32,
    /// A limit learnt from TikTok's rejections, while it is believed: (count, period in s).
    pub learned: Option<(u32, u64)>,
}

impl State {
    /// Claims the earliest slot at or after `now` for endpoint `key` on behalf of `client`:
    /// the time to send at. A slot is free when, with it, no window (of any layer) holds more
    /// than the limit, and the client holds no more than its share of it.
    pub(super) fn claim(&mut self, key: &str, limit: &EndpointLimit, now: u64, client: u64) -> u64 {
        let endpoint = self.endpoints.entry(key.to_string()).or_default();
        endpoint.prune(limit, now);
        let start = now.max(endpoint.not_before);
        // Clients with a claim still to come (or just sent): those competing for slots now,
        // among whom the limit is shared. A client that is done competes no more.
        let recent = JUST_SENT_MS;
        let mut active: Vec<u64> = endpoint
            .sends
            .iter()
            .filter(|sent| sent.0 + recent >= now)
            .map(|sent| sent.1)
            .collect();
        active.push(client);
        active.sort_unstable();
        active.dedup();
        let all: Vec<u64> = endpoint.sends.iter().map(|sent| sent.0).collect();
        // This client first, then the others competing.
        active.sort_by_key(|&c| c != client);
        let competing: Vec<Competing> = active
            .iter()
            .map(|&c| Competing {
                times: endpoint
                    .sends
                    .iter()
                    .filter(|sent| sent.1 == c)
                    .map(|sent| sent.0)
                    .collect(),
                wants: endpoint.wants.get(&c).copied(),
            })
            .collect();
        let learned = endpoint
            .learned
            .filter(|l| l.until > now)
            .map(|l| (Duration::from_millis(l.period_ms), l.count));
        let rules: Vec<(u64, usize)> = limit
            .windows
            .iter()
            .map(|w| (w.period, w.count))
            .chain(learned)
            .map(|(period, count)| {
                (
                    millis(period) + margin(period),
                    allowed(count, endpoint.share),
                )
            })
            .collect();
        let free = |t: u64| {
            rules
                .iter()
                .all(|&(period, n)| fits(&all, t, period, n) && fair(&competing, t, period, n))
        };
        // Where a slot can open: now (the common case, tried first), or when some send leaves
        // some window.
        let at = if free(start) {
            start
        } else {
            earliest(&rules, &all, start, free)
        };
        let position = endpoint.sends.partition_point(|sent| sent.0 <= at);
        endpoint.sends.insert(position, Sent(at, client));
        let day = at / DAY_MS;
        if endpoint.day != day {
            endpoint.day = day;
            endpoint.today = 0;
        }
        endpoint.today += 1;
        if let Some(wants) = endpoint.wants.get_mut(&client) {
            *wants = wants.saturating_sub(1);
        }
        at
    }

    /// Client `client` gives back the slots it claimed for endpoint `key` at `times` and will
    /// not use: they leave the log (as if never claimed) and count as wanted again.
    pub(super) fn release(&mut self, key: &str, client: u64, times: &[u64]) {
        let Some(endpoint) = self.endpoints.get_mut(key) else {
            return;
        };
        let mut released = 0;
        for &time in times {
            if let Some(i) = endpoint
                .sends
                .iter()
                .position(|sent| sent.0 == time && sent.1 == client)
            {
                endpoint.sends.remove(i);
                released += 1;
            }
        }
        endpoint.today = endpoint.today.saturating_sub(released);
        if let Some(wants) = endpoint.wants.get_mut(&client) {
            *wants += released;
        }
    }

    /// Client `client` has `more` requests for endpoint `key` to send after those it claimed
    /// (a report that learnt its page count): no part of the quota is then kept for it beyond
    /// them, so a client near its end does not hold back the others.
    pub(super) fn expect(&mut self, key: &str, client: u64, more: u64) {
        let endpoint = self.endpoints.entry(key.to_string()).or_default();
        *endpoint.wants.entry(client).or_default() += more;
    }

    /// How many slots client `client` may claim at once for endpoint `key`: the slots its
    /// share allows in 10 ms, half the margin kept on a second-long window (claims of one batch
    /// carry the time they were claimed at, and are sent within that span or given back), and
    /// no more than the client said it still wants. One at TikTok's usual rates (10 a second), ten at
    /// 1,000 a second: one read and write of the shared state for ten requests, not each.
    pub(super) fn batch(&self, key: &str, limit: &EndpointLimit, client: u64) -> usize {
        let Some(endpoint) = self.endpoints.get(key) else {
            return 1;
        };
        let Some(wants) = endpoint.wants.get(&client) else {
            return 1;
        };
        // A limit learnt from rejections counts too, believed or not any more.
        let learned = endpoint.learned.map(|l| (l.count, l.period_ms));
        let per_10ms = limit
            .windows
            .iter()
            .map(|w| (w.count, millis(w.period)))
            .chain(learned)
            .map(|(count, ms)| allowed(count, endpoint.share) as u64 * 10 / ms.max(1))
            .min()
            .unwrap_or(0);
        usize::try_from(per_10ms.min(*wants).clamp(1, MAX_BATCH)).unwrap_or(1)
    }

    /// A rejection for being too frequent: the share in use is halved (once per window) and
    /// sends wait for `retry_after`, or `pause` (at most a window).
    pub(super) fn rejected(
        &mut self,
        key: &str,
        limit: &EndpointLimit,
        now: u64,
        retry_after: Option<Duration>,
        pause: Duration,
    ) {
        let shortest = shortest_window(limit);
        let endpoint = self.endpoints.entry(key.to_string()).or_default();
        if endpoint
            .last_cut
            .is_none_or(|cut| now.saturating_sub(cut) >= shortest)
        {
            endpoint.share = (endpoint.share / 2).max(1);
            endpoint.last_cut = Some(now);
        }
        endpoint.successes = 0;
        let streak = endpoint.streak.get_or_insert(Streak {
            first: now,
            told: false,
            learnt: false,
        });
        streak.told |= retry_after.is_some();
        // Still refused after a pause of a window: not a request that came a little early,
        // but a limit over a longer window than those configured.
        let streak = *streak;
        if !streak.told
            && !streak.learnt
            && now.saturating_sub(streak.first) >= shortest
            && let Some(learned) = endpoint.learn(limit, streak.first, now)
        {
            tracing::debug!(
                "pacing {key}: TikTok allows about {} requests in any {} s (learnt from its \
                 rejections)",
                learned.count,
                learned.period_ms / 1000
            );
            endpoint.learned = Some(learned);
            // The learnt window holds the pace now, not a cut share.
            endpoint.share = FULL;
            if let Some(streak) = endpoint.streak.as_mut() {
                streak.learnt = true;
            }
        }
        let wait = retry_after
            .map(millis)
            .unwrap_or_else(|| millis(pause).min(shortest));
        endpoint.not_before = endpoint.not_before.max(now + wait);
        endpoint.rejections.push_back(now);
    }

    /// A success: after a window's worth of them, one more request a window, up to the limit.
    pub(super) fn succeeded(&mut self, key: &str, limit: &EndpointLimit) {
        let endpoint = self.endpoints.entry(key.to_string()).or_default();
        endpoint.streak = None;
        if endpoint.share >= FULL {
            return;
        }
        endpoint.successes += 1;
        let first = limit.windows.first().map_or(1, |w| w.count.max(1));
        if endpoint.successes as usize >= allowed(first, endpoint.share) {
            endpoint.share = (endpoint.share + FULL / first).min(FULL);
            endpoint.successes = 0;
        }
    }

    /// Whether endpoint `key` runs below its full rate (a success then counts towards it).
    pub(super) fn slowed(&self, key: &str) -> bool {
        self.endpoints
            .get(key)
            .is_some_and(|e| e.share < FULL || e.streak.is_some())
    }

    /// The limit learnt for endpoint `key`, while it is believed.
    #[cfg(test)]
    pub(super) fn learned(&self, key: &str, now: u64) -> Option<Learned> {
        self.endpoints
            .get(key)
            .and_then(|e| e.learned)
            .filter(|l| l.until > now)
    }

    /// The requests a second endpoint `key` is allowed now (what `-v` shows).
    pub(super) fn rate(&self, key: &str, limit: &EndpointLimit) -> usize {
        let share = self.endpoints.get(key).map_or(FULL, |e| e.share);
        limit.windows.first().map_or(1, |w| allowed(w.count, share))
    }

    /// How much of today's quota endpoint `key` has used, as (sent, quota).
    pub(super) fn daily(&self, key: &str, limit: &EndpointLimit) -> (u64, u64) {
        let today = self.endpoints.get(key).map_or(0, |e| e.today);
        (today, limit.per_day)
    }

    /// Where each endpoint stands at `now`.
    pub(super) fn standings(&self, now: u64) -> Vec<Standing> {
        self.endpoints
            .iter()
            .map(|(key, e)| Standing {
                endpoint: key.clone(),
                last_minute: e
                    .sends
                    .iter()
                    .filter(|sent| sent.0 <= now && now - sent.0 < 60_000)
                    .count(),
                rejected: e
                    .rejections
                    .iter()
                    .filter(|&&t| now.saturating_sub(t) < REJECTIONS_KEPT_MS)
                    .count(),
                today: if e.day == now / DAY_MS { e.today } else { 0 },
                share: e.share,
                learned: e
                    .learned
                    .filter(|l| l.until > now)
                    .map(|l| (l.count, l.period_ms / 1000)),
            })
            .collect()
    }

    /// Drops what no longer matters: old sends and rejections, and endpoints idle for a day
    /// (so a state left by a killed process expires on its own).
    pub(super) fn forget_idle(&mut self, now: u64) {
        self.endpoints.retain(|_, e| {
            let last = e.sends.back().map_or(0, |sent| sent.0).max(e.not_before);
            now.saturating_sub(last) < DAY_MS
        });
    }
}

/// The earliest time after `start` at which a slot is `free`: slots open only when some send
/// leaves some window.
fn earliest(rules: &[(u64, usize)], all: &[u64], start: u64, free: impl Fn(u64) -> bool) -> u64 {
    let mut candidates: Vec<u64> = rules
        .iter()
        .flat_map(|&(period, _)| all.iter().map(move |&t| t + period))
        .filter(|&t| t > start)
        .collect();
    candidates.sort_unstable();
    candidates.dedup();
    candidates.into_iter().find(|&t| free(t)).unwrap_or(start)
}

/// A client competing for an endpoint's slots: its sends, and how many more it wants if it said.
struct Competing {
    times: Vec<u64>,
    wants: Option<u64>,
}

/// Whether a send at `t` keeps the first of `competing` (this client) within its fair part of
/// the window ending at `t`. The window's quota is divided among the competing clients by
/// water-filling: each gets an equal part, or what it still wants when that is less, and the
/// rest goes to the others. A part is its owner's; a slot beyond one's own part is taken only
/// when the window keeps room for every other client's unused part. So the client whose answers
/// come first cannot squeeze the others, and a slot nobody else wants is not left unused.
fn fair(competing: &[Competing], t: u64, period: u64, n: usize) -> bool {
    let mine = &competing[0].times;
    if competing.iter().any(|c| c.wants.is_none()) {
        // Without every client's demand, each one's part is an equal share (rounded up).
        return fits(mine, t, period, n.div_ceil(competing.len()));
    }
    let counts: Vec<usize> = competing
        .iter()
        .map(|c| in_window(&c.times, t, period))
        .collect();
    let demands: Vec<usize> = competing
        .iter()
        .zip(&counts)
        .map(|(c, &count)| {
            c.wants.map_or(usize::MAX, |more| {
                count.saturating_add(usize::try_from(more).unwrap_or(usize::MAX))
            })
        })
        .collect();
    let parts = water_fill(&demands, n);
    if fits(mine, t, period, parts[0]) {
        return true;
    }
    let reserved: usize = parts
        .iter()
        .zip(&counts)
        .skip(1)
        .map(|(&part, &count)| part.saturating_sub(count))
        .sum();
    let used: usize = counts.iter().sum();
    used + reserved < n
}

/// Divides `n` among `demands`: equal parts, less to those wanting less; what does not divide
/// evenly goes one each to those wanting more, the first first (each client counts itself
/// first).
fn water_fill(demands: &[usize], n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..demands.len()).collect();
    order.sort_by_key(|&i| demands[i]);
    let mut parts = vec![0; demands.len()];
    let mut left = n;
    for (done, &i) in order.iter().enumerate() {
        let part = demands[i].min(left / (demands.len() - done));
        parts[i] = part;
        left -= part;
    }
    for (part, &demand) in parts.iter_mut().zip(demands) {
        if left > 0 && *part < demand {
            *part += 1;
            left -= 1;
        }
    }
    parts
}

/// Sends among `times` (sorted) in the window `(end - period, end]`.
fn in_window(times: &[u64], end: u64, period: u64) -> usize {
    let from = times.partition_point(|&x| x + period <= end);
    let to = times.partition_point(|&x| x <= end);
    to - from
}

/// Whether one more send at `t` keeps every window of `period` among `times` (sorted) at no
/// more than `n` sends: the window ending at `t`, and those ending at the later sends it would
/// fall in.
fn fits(times: &[u64], t: u64, period: u64, n: usize) -> bool {
    let count = |end: u64| in_window(times, end, period);
    if count(t) >= n {
        return false;
    }
    let later = times.partition_point(|&x| x <= t);
    times[later..]
        .iter()
        .take_while(|&&s| s < t + period)
        .all(|&s| count(s) < n)
}

impl Endpoint {
    /// What a streak of rejections that began at `first` says: the sends accepted until then
    /// filled a window longer than the span they cover (from the oldest send kept), so the
    /// limit is about that many sends in the next whole window above that span. Sending at that
    /// pace, a window still too short is met by the next streak, which learns a longer one.
    fn learn(&self, limit: &EndpointLimit, first: u64, now: u64) -> Option<Learned> {
        let shortest = shortest_window(limit);
        let oldest = self.sends.front()?.0;
        let span = first.saturating_sub(oldest);
        let period_ms = ROUND_PERIODS_S
            .iter()
            .map(|s| s * 1000)
            .find(|&p| p > span)
            .unwrap_or_else(|| (span / 1000 + 1) * 1000);
        if period_ms <= shortest {
            return None;
        }
        let sent = self.sends.iter().filter(|sent| sent.0 <= first).count() as u64;
        // The sends in flight when the first rejection came are answered within a window of
        // it: those refused then were among the sends counted.
        let refused = self
            .rejections
            .iter()
            .filter(|&&t| t >= first && t < first + shortest)
            .count() as u64;
        let accepted = sent.saturating_sub(refused);
        let count = u32::try_from(accepted * LEARNED_USE_PERCENT / 100).ok()?;
        if count == 0 {
            return None;
        }
        Some(Learned {
            count,
            period_ms,
            until: now + LEARNED_FOR_MS,
        })
    }

    fn prune(&mut self, limit: &EndpointLimit, now: u64) {
        let learned = self.learned.filter(|l| l.until > now).map_or(0, |l| {
            l.period_ms + margin(Duration::from_millis(l.period_ms))
        });
        let keep = limit
            .windows
            .iter()
            .map(|w| millis(w.period) + margin(w.period))
            .max()
            .unwrap_or(1000)
            .max(learned);
        while self.sends.front().is_some_and(|sent| sent.0 + keep < now) {
            self.sends.pop_front();
        }
        // Claims far beyond any queue this tool makes (ten windows ahead) were left by a process
        // that died with a wrong clock, or are garbage: they expire instead of holding everyone
        // back.
        while self
            .sends
            .back()
            .is_some_and(|sent| sent.0 > now + 10 * keep)
        {
            self.sends.pop_back();
        }
        if self.not_before > now + REJECTIONS_KEPT_MS {
            self.not_before = now;
        }
        self.wants
            .retain(|client, _| self.sends.iter().any(|sent| sent.1 == *client));
        while self
            .rejections
            .front()
            .is_some_and(|&t| now.saturating_sub(t) >= REJECTIONS_KEPT_MS)
        {
            self.rejections.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::pacing::limits::Window;

    const PAUSE: Duration = Duration::from_secs(1);

    fn ten_a_second() -> EndpointLimit {
        EndpointLimit::one_window(10, Duration::from_secs(1))
    }

    /// The most sends in any window of `period` ms among `times`.
    fn busiest(times: &[u64], period: u64) -> usize {
        times
            .iter()
            .map(|&start| {
                times
                    .iter()
                    .filter(|&&t| t >= start && t < start + period)
                    .count()
            })
            .max()
            .unwrap_or(0)
    }

    /// `wanted` requests of `clients` sharing the state (taking turns), four in flight each,
    /// each answered 50 ms after it is sent,
    /// against a server that accepts at most `count` in any `period_ms` (by arrival): the
    /// accepted rate as a share of the server's, the share of sends rejected, and the state.
    fn against_server(
        limit: &EndpointLimit,
        (count, period_ms): (usize, u64),
        wanted: usize,
        clients: u64,
    ) -> (f64, f64, State) {
        let mut state = State::default();
        let mut accepted: Vec<u64> = Vec::new();
        let (mut sent, mut rejected) = (0usize, 0usize);
        let mut in_flight: Vec<u64> = Vec::new();
        let mut now = 0;
        while accepted.len() < wanted {
            if in_flight.len() == 4 * clients as usize || accepted.len() + in_flight.len() >= wanted
            {
                in_flight.sort_unstable();
                let answer = in_flight.remove(0);
                now = now.max(answer);
                let arrived = answer - 50;
                let in_window = accepted
                    .iter()
                    .filter(|&&t| t <= arrived && t + period_ms > arrived)
                    .count();
                if in_window < count {
                    accepted.push(arrived);
                    state.succeeded("/x/", limit);
                } else {
                    rejected += 1;
                    state.rejected("/x/", limit, now, None, PAUSE);
                }
                continue;
            }
            // A claim may lie ahead (a reservation): the request waits for it while the clock
            // goes on with the answers of the others.
            let at = state.claim("/x/", limit, now, sent as u64 % clients + 1);
            sent += 1;
            in_flight.push(at + 50);
        }
        // The rate reached, from the first send to the last answer, against the server's.
        let elapsed = now.max(1) as f64;
        let allowed = count as f64 / period_ms as f64;
        (
            wanted as f64 / elapsed / allowed,
            rejected as f64 / sent as f64,
            state,
        )
    }

    #[test]
    fn a_window_it_was_not_told_is_learnt_from_the_rejections() {
        let configured = EndpointLimit::new(10, 600, u64::MAX);
        for clients in [1, 2] {
            for (server, wanted) in [((50, 10_000), 400), ((300, 60_000), 1_500)] {
                let (rate, rejected, state) = against_server(&configured, server, wanted, clients);
                let what = format!("{clients} client(s), {server:?}");
                assert!(
                    rate >= 0.8,
                    "{what}: {:.0} % of the allowed rate",
                    rate * 100.0
                );
                assert!(
                    rejected <= 0.05,
                    "{what}: {:.1} % rejected",
                    rejected * 100.0
                );
                // The 10-s window is the one the configured limits hide (a minute's worth
                // takes the configured per-second pace long enough to be found out anyway).
                if server.1 == 10_000 {
                    let learned = state.learned("/x/", 0).expect("a limit was learnt");
                    assert_eq!(learned.period_ms, server.1, "{what}: {learned:?}");
                    let shown = state.standings(0)[0].learned;
                    assert_eq!(shown, Some((learned.count, 10)), "doctor shows it");
                }
            }
            // Told the right limit, nothing is learnt and nearly nothing rejected.
            let (rate, rejected, state) = against_server(&configured, (10, 1_000), 600, clients);
            assert!(
                rate >= 0.95 && rejected <= 0.01,
                "{clients}: {rate} {rejected}"
            );
            assert!(state.learned("/x/", 0).is_none());
        }
    }

    #[test]
    fn never_more_than_the_limit_in_any_sliding_window() {
        let mut state = State::default();
        let limit = ten_a_second();
        // 100 requests asked for at once, then more trickling in.
        let mut times: Vec<u64> = (0..100).map(|_| state.claim("/x/", &limit, 0, 1)).collect();
        times.extend((0..50).map(|i| state.claim("/x/", &limit, 5_000 + i * 37, 1)));
        assert_eq!(busiest(&times, 1000), 10);
        // At full use: a window's worth goes at once, then one window per further ten.
        assert_eq!(times[9], 0);
        assert_eq!(times[10], 1020);
        assert_eq!(times[99], 9 * 1020);
        assert!(
            times.windows(2).all(|w| w[0] <= w[1]),
            "first come, first served"
        );
    }

    #[test]
    fn every_layer_holds_at_once() {
        let mut state = State::default();
        let limit = EndpointLimit {
            windows: vec![
                Window {
                    count: 10,
                    period: Duration::from_secs(1),
                },
                Window {
                    count: 30,
                    period: Duration::from_secs(60),
                },
            ],
            per_day: 1000,
        };
        let times: Vec<u64> = (0..90).map(|_| state.claim("/x/", &limit, 0, 1)).collect();
        assert!(busiest(&times, 1000) <= 10);
        assert!(busiest(&times, 60_000) <= 30);
        assert_eq!(state.daily("/x/", &limit), (90, 1000));
    }

    #[test]
    fn a_rejection_halves_the_rate_and_waits_out_retry_after() {
        let mut state = State::default();
        let limit = ten_a_second();
        state.claim("/x/", &limit, 0, 1);
        state.rejected("/x/", &limit, 100, Some(Duration::from_secs(5)), PAUSE);
        assert_eq!(state.rate("/x/", &limit), 5);
        let next = state.claim("/x/", &limit, 200, 1);
        assert!(next >= 5_100, "{next}: Retry-After honoured");
        // Four requests rejected together cut once, not four times.
        for _ in 0..3 {
            state.rejected("/x/", &limit, 150, None, PAUSE);
        }
        assert_eq!(state.rate("/x/", &limit), 5);
        let times: Vec<u64> = (0..20)
            .map(|_| state.claim("/x/", &limit, 6_000, 1))
            .collect();
        assert!(busiest(&times, 1000) <= 5);
    }

    #[test]
    fn the_rate_recovers_one_step_a_window_and_never_above_the_limit() {
        let mut state = State::default();
        let limit = ten_a_second();
        state.rejected("/x/", &limit, 0, None, PAUSE);
        state.rejected("/x/", &limit, 2_000, None, PAUSE);
        assert_eq!(state.rate("/x/", &limit), 2);
        let mut rates = vec![];
        for _ in 0..200 {
            state.succeeded("/x/", &limit);
            rates.push(state.rate("/x/", &limit));
        }
        assert!(rates.windows(2).all(|w| w[1] >= w[0] && w[1] - w[0] <= 1));
        assert_eq!(*rates.last().unwrap(), 10);
    }

    #[test]
    fn processes_sharing_a_state_are_served_in_turn() {
        // Two processes claim through one state: their slots interleave and the whole never
        // exceeds the limit.
        let mut state = State::default();
        let limit = ten_a_second();
        let mut a = vec![];
        let mut b = vec![];
        for i in 0..40 {
            a.push(state.claim("/x/", &limit, i * 10, 1));
            b.push(state.claim("/x/", &limit, i * 10 + 5, 2));
        }
        let mut all: Vec<u64> = a.iter().chain(&b).copied().collect();
        all.sort_unstable();
        assert_eq!(busiest(&all, 1000), 10);
        assert!(a.last().unwrap().abs_diff(*b.last().unwrap()) <= 1020);
    }

    #[test]
    fn a_client_whose_answers_come_first_cannot_take_every_free_slot() {
        // Two clients keep four requests in flight each; answers take 5 ms for client 1 and
        // 40 ms for client 2, and each claims again when an answer comes back. The faster one
        // must not take the free slots of every window: each gets about half.
        let mut state = State::default();
        let limit = ten_a_second();
        let latency = |client: u64| if client == 1 { 5 } else { 40 };
        // (time the answer comes back, client)
        let mut pending: Vec<(u64, u64)> = Vec::new();
        let mut sends = Vec::new();
        for client in [1, 2, 1, 2, 1, 2, 1, 2] {
            let at = state.claim("/x/", &limit, 0, client);
            sends.push((at, client));
            pending.push((at + latency(client), client));
        }
        while sends.len() < 200 {
            pending.sort_unstable();
            let (back, client) = pending.remove(0);
            let at = state.claim("/x/", &limit, back, client);
            sends.push((at, client));
            pending.push((at + latency(client), client));
        }
        let by = |c: u64| {
            sends
                .iter()
                .filter(|(at, who)| *who == c && *at < 10_000)
                .count()
        };
        let (one, two) = (by(1), by(2));
        assert!(
            one.abs_diff(two) * 5 <= one + two,
            "client 1: {one}, client 2: {two}"
        );
        let times: Vec<u64> = sends.iter().map(|s| s.0).collect();
        assert_eq!(busiest(&times, 1000), 10);
    }

    /// Clients `(start, latency)` each send `total` requests, `in_flight` at a time, claiming a
    /// slot whenever an answer comes back; with `say_demand` each says how many it has left
    /// after its first. Returns when each client's last answer came.
    fn compete(
        limit: &EndpointLimit,
        clients: &[(u64, u64)],
        total: usize,
        say_demand: bool,
    ) -> Vec<u64> {
        let in_flight = 4;
        let mut state = State::default();
        let mut claimed = vec![0; clients.len()];
        let mut ends = vec![0; clients.len()];
        // (when a client may claim, which)
        let mut events: Vec<(u64, usize)> = clients
            .iter()
            .enumerate()
            .flat_map(|(i, &(start, _))| std::iter::repeat_n((start, i), in_flight))
            .collect();
        while !events.is_empty() {
            events.sort_unstable();
            let (now, c) = events.remove(0);
            ends[c] = now;
            if claimed[c] < total {
                claimed[c] += 1;
                let at = state.claim("/x/", limit, now, c as u64);
                if say_demand && claimed[c] == 1 {
                    state.expect("/x/", c as u64, (total - 1) as u64);
                }
                events.push((at + clients[c].1, c));
            }
        }
        ends
    }

    #[test]
    fn clients_that_say_their_demand_finish_together_at_the_fastest_possible_time() {
        // Four processes of 60 requests started a few ms apart: the first window goes to the
        // first comers, and yet all end in the last window any client could end in.
        let clients = [(0, 5), (100, 10), (200, 20), (250, 5)];
        let ten_per_second = ten_a_second();
        let ends = compete(&ten_per_second, &clients, 60, true);
        // 240 requests: a full window at once, then 23 more windows.
        let last_window = 23 * 1020;
        assert!(
            ends.iter()
                .all(|&end| end >= last_window && end < last_window + 100),
            "{ends:?}"
        );
        let fifty_per_ten = EndpointLimit::one_window(50, Duration::from_secs(10));
        let ends = compete(
            &fifty_per_ten,
            &[(0, 5), (10, 5), (20, 5), (30, 5)],
            60,
            true,
        );
        assert!(ends.iter().all(|&end| end < 4 * 10_100 + 100), "{ends:?}");
        // Without their demand, a client near its end keeps its share a window: less even,
        // at most one window later.
        let ends = compete(&ten_per_second, &clients, 60, false);
        assert!(
            ends.iter().all(|&end| end < last_window + 1020 + 100),
            "{ends:?}"
        );
    }

    #[test]
    fn claims_left_far_ahead_by_a_dead_process_expire() {
        let mut state = State::default();
        let limit = ten_a_second();
        let an_hour = 3_600_000;
        for _ in 0..10 {
            state.claim("/x/", &limit, an_hour, 1);
        }
        assert_eq!(state.claim("/x/", &limit, 0, 1), 0);
    }

    #[test]
    fn idle_endpoints_expire() {
        let mut state = State::default();
        let limit = ten_a_second();
        state.claim("/x/", &limit, 0, 1);
        state.forget_idle(DAY_MS + 1);
        assert!(state.standings(DAY_MS + 1).is_empty());
    }
}
