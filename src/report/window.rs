//! The date windows of a report: inclusive ranges of days in an ad account's own time zone,
//! no longer than one request may cover.

use chrono::{Duration as Days, NaiveDate};
use serde::{Deserialize, Serialize};

/// An inclusive date range in the ad account's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl std::fmt::Display for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// Splits `start..=end` into the fewest windows of at most `max_days` days, in date order.
pub fn split_windows(start: NaiveDate, end: NaiveDate, max_days: i64) -> Vec<Window> {
    let mut windows = Vec::new();
    let mut from = start;
    while from <= end {
        let to = (from + Days::days(max_days.max(1) - 1)).min(end);
        windows.push(Window {
            start: from,
            end: to,
        });
        from = to + Days::days(1);
    }
    windows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn january_daily_is_thirty_days_then_one() {
        let w = split_windows(date("2025-01-01"), date("2025-01-31"), 30);
        assert_eq!(
            w,
            [
                Window {
                    start: date("2025-01-01"),
                    end: date("2025-01-30")
                },
                Window {
                    start: date("2025-01-31"),
                    end: date("2025-01-31")
                }
            ]
        );
    }

    #[test]
    fn hourly_is_one_day_each_and_aggregate_is_365() {
        assert_eq!(
            split_windows(date("2025-01-01"), date("2025-01-03"), 1).len(),
            3
        );
        // 2024 is a leap year: 366 days need two windows.
        let w = split_windows(date("2024-01-01"), date("2025-06-30"), 365);
        assert_eq!(w.len(), 2);
        assert_eq!((w[0].end - w[0].start).num_days() + 1, 365);
        assert_eq!(w[1].start, date("2024-12-31"));
        assert_eq!(w[1].end, date("2025-06-30"));
        assert!(split_windows(date("2025-01-02"), date("2025-01-01"), 30).is_empty());
    }
}
