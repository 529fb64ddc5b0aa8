//! What a round of polling costs against the app's quota: one request per 1,000 entities per
//! level and account, each level on its own endpoint. A watch keeps to half of each endpoint's
//! quota, so a `report run` or `report sync` beside it keeps at least its fair share.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::api::pacing::{EndpointLimit, Limits};

use super::level::Level;

/// The share of each endpoint's quota a watch may use.
pub const WATCH_SHARE: f64 = 0.5;

/// Requests of one round per level: ⌈entities/1000⌉ per account (at least one), from the
/// entity counts of each account (`None`: not known yet, one page assumed).
pub fn requests_per_round(
    levels: &[Level],
    counts: &[Option<BTreeMap<Level, usize>>],
) -> BTreeMap<Level, u64> {
    levels
        .iter()
        .map(|level| {
            let total = counts
                .iter()
                .map(|account| {
                    let n = account
                        .as_ref()
                        .and_then(|c| c.get(level).copied())
                        .unwrap_or(0);
                    n.div_ceil(crate::api::entity::PAGE_SIZE_MAX as usize)
                        .max(1) as u64
                })
                .sum();
            (*level, total)
        })
        .collect()
}

/// The shortest interval at which `requests` a round on an endpoint stay within the watch's
/// share of `limit` in every window.
pub fn shortest_interval(requests: u64, limit: &EndpointLimit) -> Duration {
    let mut shortest = Duration::ZERO;
    for window in &limit.windows {
        let allowed = (window.count as f64 * WATCH_SHARE).max(1.0);
        let needed = window.period.mul_f64(requests as f64 / allowed);
        shortest = shortest.max(needed);
    }
    let per_day = (limit.per_day as f64 * WATCH_SHARE).max(1.0);
    shortest.max(Duration::from_secs(86_400).mul_f64(requests as f64 / per_day))
}

/// The shortest interval over every level watched.
pub fn shortest_for(requests: &BTreeMap<Level, u64>, limits: &Limits) -> Duration {
    requests
        .iter()
        .map(|(level, n)| shortest_interval(*n, limits.for_path(level.resource().get_path)))
        .max()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_round_costs_a_request_per_thousand_entities_per_level_and_account() {
        let counts = vec![
            Some(BTreeMap::from([(Level::Ad, 2_500), (Level::Campaign, 3)])),
            Some(BTreeMap::from([(Level::Ad, 1_000), (Level::Campaign, 0)])),
            None,
        ];
        let requests = requests_per_round(&[Level::Campaign, Level::Ad], &counts);
        assert_eq!(requests[&Level::Campaign], 3);
        assert_eq!(requests[&Level::Ad], 3 + 1 + 1);
    }

    #[test]
    fn the_interval_keeps_within_half_of_every_window() {
        // 10 a second and 600 a minute: half is 5 and 300.
        let basic = EndpointLimit::new(10, 600, 864_000);
        assert_eq!(shortest_interval(5, &basic), Duration::from_secs(1));
        assert_eq!(shortest_interval(600, &basic), Duration::from_secs(120));
        let sandbox = EndpointLimit::new(1, 30, 1_000);
        // 1,000 a day, half of it: 3 requests a round need 8m38.4s.
        assert_eq!(
            shortest_interval(3, &sandbox),
            Duration::from_secs_f64(86_400.0 * 3.0 / 500.0)
        );
    }
}
