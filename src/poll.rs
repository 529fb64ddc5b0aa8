//! How long to wait between checks of something running at TikTok (a report task, a video
//! being transcoded): a first wait, doubling up to a minute (or a lower cap), and never past the caller's deadline — the last wait is cut short
//! to end exactly at it, so "wait 2 s" waits 2 s, not 0 and not 5.

use std::time::Duration;

/// Longest wait between two checks.
pub(crate) const MAX_POLL: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub(crate) struct PollSchedule {
    next: Duration,
    deadline: Duration,
    max: Duration,
}

impl PollSchedule {
    pub(crate) fn new(first: Duration, deadline: Duration) -> Self {
        Self {
            next: first,
            deadline,
            max: MAX_POLL,
        }
    }

    /// Waits of at most `max` between checks.
    pub(crate) fn capped(mut self, max: Duration) -> Self {
        self.max = max;
        self
    }

    /// After a check that found the task still running `elapsed` after the start: how long
    /// to wait before the next check, or `None` when the deadline has come.
    pub(crate) fn after_check(&mut self, elapsed: Duration) -> Option<Duration> {
        let left = self
            .deadline
            .checked_sub(elapsed)
            .filter(|d| !d.is_zero())?;
        let wait = self.next.min(self.max).min(left);
        self.next = (self.next * 2).min(self.max);
        Some(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_a_minute_and_stop_at_the_deadline() {
        let mut poll = PollSchedule::new(Duration::from_secs(5), Duration::from_secs(1800));
        let mut elapsed = Duration::ZERO;
        let mut waits = Vec::new();
        while let Some(wait) = poll.after_check(elapsed) {
            waits.push(wait.as_secs());
            elapsed += wait;
        }
        assert_eq!(&waits[..6], [5, 10, 20, 40, 60, 60]);
        assert_eq!(
            elapsed,
            Duration::from_secs(1800),
            "the last wait ends at the deadline"
        );
    }

    #[test]
    fn a_cap_holds_the_waits_down() {
        let mut poll = PollSchedule::new(Duration::from_secs(2), Duration::from_secs(60))
            .capped(Duration::from_secs(10));
        let waits: Vec<u64> = (0..5)
            .scan(Duration::ZERO, |elapsed, _| {
                let wait = poll.after_check(*elapsed)?;
                *elapsed += wait;
                Some(wait.as_secs())
            })
            .collect();
        assert_eq!(waits, [2, 4, 8, 10, 10]);
    }

    #[test]
    fn a_short_deadline_is_waited_out_not_skipped() {
        let mut poll = PollSchedule::new(Duration::from_secs(5), Duration::from_secs(2));
        assert_eq!(
            poll.after_check(Duration::from_millis(10)),
            Some(Duration::from_millis(1990))
        );
        assert_eq!(poll.after_check(Duration::from_secs(2)), None);
    }
}
