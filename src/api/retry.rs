//! When and how long to wait before trying a failed call again: exponential backoff with full
//! jitter (a random wait between zero and the exponential ceiling), bounded, and the server's
//! `Retry-After` honoured when it sends one.

use std::time::Duration;

use super::error::ApiError;

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Retries after the first attempt (so `max_retries + 1` attempts in all).
    pub max_retries: u32,
    /// Ceiling of the first wait; doubles on each retry.
    pub base_delay: Duration,
    /// No single wait is longer than this.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 4,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
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

impl RetryPolicy {
    /// The wait before retry number `retry` (0-based), or `None` when the error is final.
    pub fn delay_for(&self, retry: u32, error: &ApiError) -> Option<Duration> {
        if retry >= self.max_retries || !error.is_retryable() {
            return None;
        }
        if let Some(hint) = error.retry_after() {
            return Some(hint.min(self.max_delay));
        }
        let ceiling = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(retry))
            .min(self.max_delay);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Some(Duration::from_millis(rand::random_range(0..=millis)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttled() -> ApiError {
        ApiError::Api {
            code: 40100,
            message: String::new(),
            request_id: String::new(),
            endpoint: "/x/".into(),
        }
    }

    #[test]
    fn waits_stay_under_the_exponential_ceiling() {
        let policy = RetryPolicy {
            max_retries: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
        };
        for retry in 0..10 {
            let ceiling = (100u64 << retry).min(1000);
            for _ in 0..50 {
                let wait = policy.delay_for(retry, &throttled()).unwrap();
                assert!(wait <= Duration::from_millis(ceiling), "{retry}: {wait:?}");
            }
        }
    }

    #[test]
    fn stops_after_the_budget_and_on_final_errors() {
        let policy = RetryPolicy::default();
        assert!(policy.delay_for(4, &throttled()).is_none());
        let final_error = ApiError::Api {
            code: 40002,
            message: String::new(),
            request_id: String::new(),
            endpoint: "/x/".into(),
        };
        assert!(policy.delay_for(0, &final_error).is_none());
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let policy = RetryPolicy::default();
        let busy = |secs| ApiError::Http {
            status: 503,
            endpoint: "/x/".into(),
            body: String::new(),
            retry_after: Some(Duration::from_secs(secs)),
        };
        assert_eq!(policy.delay_for(0, &busy(7)), Some(Duration::from_secs(7)));
        assert_eq!(
            policy.delay_for(0, &busy(600)),
            Some(Duration::from_secs(60))
        );
    }
}
