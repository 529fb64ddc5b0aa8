//! Client-side pacing: a token bucket per endpoint so the tool never trips TikTok's
//! per-app, per-endpoint limits (10 QPS at the basic tier) on its own.

use std::num::NonZeroU32;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

pub struct Pacer {
    limiter: DefaultKeyedRateLimiter<String>,
}

impl Pacer {
    /// `per_second` requests per second on each endpoint, with a burst of the same size.
    pub fn new(per_second: NonZeroU32) -> Self {
        Self {
            limiter: RateLimiter::keyed(Quota::per_second(per_second)),
        }
    }

    /// Waits until the bucket of `endpoint` has a token.
    pub async fn ready(&self, endpoint: &str) {
        self.limiter.until_key_ready(&endpoint.to_string()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_per_endpoint() {
        let pacer = Pacer::new(NonZeroU32::new(2).unwrap());
        let a = "/campaign/get/".to_string();
        let b = "/ad/get/".to_string();
        assert!(pacer.limiter.check_key(&a).is_ok());
        assert!(pacer.limiter.check_key(&a).is_ok());
        assert!(
            pacer.limiter.check_key(&a).is_err(),
            "third call in the same second"
        );
        assert!(
            pacer.limiter.check_key(&b).is_ok(),
            "another endpoint has its own bucket"
        );
    }
}
