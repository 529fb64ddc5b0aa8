//! What a run stopped by a signal had already done, so that the message says it truly: rows
//! already on standard output (the output is incomplete), windows a sync committed (the next
//! run goes on from there), a simulator that was serving — or nothing at all, as for `-o FILE`,
//! whose temporary file is dropped.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::signals::Stop;
use crate::warehouse::sink::Committed;

/// What the running command has done that a stop cannot undo.
pub(crate) enum Done {
    /// Rows streamed to standard output so far.
    Rows(Arc<AtomicU64>),
    /// Windows a sync has committed so far.
    Synced(Arc<Mutex<Committed>>),
    /// The simulator, serving until stopped.
    Serving,
    /// Files uploaded so far by `creative upload` (each recorded as it was done).
    Uploads(Arc<AtomicU64>),
    /// Rounds `watch` has finished (each saved its snapshots).
    Watching(Arc<AtomicU64>),
}

static DONE: Mutex<Option<Done>> = Mutex::new(None);

/// Records what the command is doing that a stop leaves behind.
pub(crate) fn record(done: Done) {
    *DONE.lock().unwrap_or_else(|p| p.into_inner()) = Some(done);
}

/// The message of a run stopped by `stop`, after its work was dropped.
pub fn message(stop: Stop) -> String {
    let name = stop.name();
    let done = DONE.lock().unwrap_or_else(|p| p.into_inner());
    match &*done {
        Some(Done::Serving) => format!("stopped by {name}"),
        Some(Done::Rows(rows)) => match rows.load(Ordering::Relaxed) {
            0 => format!("stopped by {name}: nothing was written"),
            n => format!(
                "stopped by {name} after {} row{} on standard output: the output is incomplete",
                thousands(n),
                if n == 1 { "" } else { "s" }
            ),
        },
        Some(Done::Uploads(uploaded)) => format!(
            "stopped by {name} after {} upload{}: each is recorded, so a rerun skips it; an \
             unfinished upload in chunks resumes from the last chunk TikTok confirmed",
            thousands(uploaded.load(Ordering::Relaxed)),
            if uploaded.load(Ordering::Relaxed) == 1 {
                ""
            } else {
                "s"
            }
        ),
        Some(Done::Watching(rounds)) => format!(
            "stopped by {name} after {} round{}: every snapshot of a finished account is saved;              events of the account under way when stopped are reported again by the next run",
            thousands(rounds.load(Ordering::Relaxed)),
            if rounds.load(Ordering::Relaxed) == 1 {
                ""
            } else {
                "s"
            }
        ),
        Some(Done::Synced(committed)) => {
            let committed = committed.lock().unwrap_or_else(|p| p.into_inner());
            synced(name, &committed)
        }
        None => format!("stopped by {name}: nothing was written"),
    }
}

/// A stopped sync: the windows committed and each advertiser's last day in the database.
fn synced(name: &str, committed: &Committed) -> String {
    if committed.days.is_empty() {
        return format!(
            "stopped by {name}: nothing was committed; the next run starts where this one did"
        );
    }
    let mut text = format!(
        "stopped by {name}: {} window{} committed, up to",
        committed.windows,
        if committed.windows == 1 { "" } else { "s" }
    );
    for (i, (advertiser, (_, last))) in committed.days.iter().enumerate() {
        let _ = write!(
            text,
            "{} {last} for advertiser {advertiser}",
            if i == 0 { "" } else { "," }
        );
    }
    text.push_str("; the next run continues from there");
    text
}

/// `1440` as `1,440`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(thousands(7), "7");
        assert_eq!(thousands(1440), "1,440");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }

    #[test]
    fn a_sync_says_how_far_it_got() {
        let mut committed = Committed::default();
        assert!(synced("SIGINT", &committed).contains("nothing was committed"));
        let day = |d: &str| d.parse().unwrap();
        committed.windows = 3;
        committed
            .days
            .insert("7301".into(), (day("2026-01-01"), day("2026-03-31")));
        assert_eq!(
            synced("SIGINT", &committed),
            "stopped by SIGINT: 3 windows committed, up to 2026-03-31 for advertiser 7301; \
             the next run continues from there"
        );
    }
}
