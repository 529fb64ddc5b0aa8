//! When and how long to wait before trying a failed call again. Retries run on a time budget
//! as well as a count, because outages come in minutes, not in attempts: exponential backoff
//! whose waits are never below half their ceiling (so a burst of failures cannot be retried
//! in a near-zero loop), capped, the server's `Retry-After` honoured, and no new attempt once
//! the budget is spent.

use std::time::Duration;

use super::error::ApiError;

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Retries after the first attempt, at most.
    pub max_retries: u32,
    /// No retry starts after this long since the first attempt of a request.
    pub retry_for: Duration,
    /// Ceiling of the first wait; doubles on each retry. Each wait is between half the
    /// ceiling and the ceiling.
    pub base_delay: Duration,
    /// Highest ceiling of a computed wait.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 10,
            retry_for: Duration::from_secs(120),
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
        }
    }
}

/// Whether a request may be sent again after a failure that happened in transit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    /// Reads, and writes that are idempotent or carry TikTok's `request_id` idempotency key.
    Safe,
    /// Writes that could be applied twice (e.g. a create without an idempotency key).
    Unsafe,
}

/// Attempts a host that has not answered yet gets at most, and the time they may take.
const SHORT_RETRIES: u32 = 2;
const SHORT_BUDGET: Duration = Duration::from_secs(10);

impl RetryPolicy {
    /// The short budget — about three attempts or ten seconds, whichever ends first — for a
    /// host that has not answered once (a wrong name, no network) and for quick checks of the
    /// setup: a dead host is said within seconds. Never longer than this policy.
    pub fn short(&self) -> Self {
        Self {
            max_retries: self.max_retries.min(SHORT_RETRIES),
            retry_for: self.retry_for.min(SHORT_BUDGET),
            ..self.clone()
        }
    }

    /// The wait before retry number `retry` (0-based) of a request that started `elapsed` ago,
    /// or `None` when the error is final or the budget is spent.
    pub fn delay_for(&self, retry: u32, error: &ApiError, elapsed: Duration) -> Option<Duration> {
        if retry >= self.max_retries || !error.is_retryable() {
            return None;
        }
        let wait = match error.retry_after() {
            Some(hint) => hint,
            None => {
                let ceiling = self
                    .base_delay
                    .saturating_mul(2u32.saturating_pow(retry))
                    .min(self.max_delay);
                let half = ceiling / 2;
                let spread = u64::try_from((ceiling - half).as_millis()).unwrap_or(u64::MAX);
                half + Duration::from_millis(rand::random_range(0..=spread))
            }
        };
        (elapsed + wait <= self.retry_for).then_some(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttled() -> ApiError {
        ApiError::Api {
            code: 50000,
            message: String::new(),
            request_id: String::new(),
            endpoint: "/x/".into(),
        }
    }

    #[test]
    fn waits_stay_between_half_the_ceiling_and_the_ceiling() {
        let policy = RetryPolicy {
            max_retries: 10,
            retry_for: Duration::from_secs(3600),
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
        };
        for retry in 0..10 {
            let ceiling = Duration::from_millis((100u64 << retry).min(1000));
            for _ in 0..50 {
                let wait = policy
                    .delay_for(retry, &throttled(), Duration::ZERO)
                    .unwrap();
                assert!(wait <= ceiling && wait >= ceiling / 2, "{retry}: {wait:?}");
            }
        }
    }

    #[test]
    fn the_default_first_wait_is_at_least_half_a_second() {
        let policy = RetryPolicy::default();
        for _ in 0..50 {
            let wait = policy.delay_for(0, &throttled(), Duration::ZERO).unwrap();
            assert!(wait >= Duration::from_millis(500), "{wait:?}");
        }
    }

    #[test]
    fn stops_after_the_count_the_time_budget_and_on_final_errors() {
        let policy = RetryPolicy::default();
        assert!(policy.delay_for(10, &throttled(), Duration::ZERO).is_none());
        assert!(
            policy
                .delay_for(3, &throttled(), Duration::from_secs(119))
                .is_none(),
            "no retry may start after the budget"
        );
        let final_error = ApiError::Api {
            code: 40002,
            message: String::new(),
            request_id: String::new(),
            endpoint: "/x/".into(),
        };
        assert!(policy.delay_for(0, &final_error, Duration::ZERO).is_none());
    }

    #[test]
    fn retry_after_is_honoured() {
        let policy = RetryPolicy::default();
        let busy = |secs| ApiError::Http {
            status: 503,
            endpoint: "/x/".into(),
            body: String::new(),
            retry_after: Some(Duration::from_secs(secs)),
        };
        assert_eq!(
            policy.delay_for(0, &busy(7), Duration::ZERO),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            policy.delay_for(0, &busy(119), Duration::from_secs(5)),
            None
        );
    }
}
