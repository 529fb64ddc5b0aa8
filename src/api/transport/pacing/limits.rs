//! TikTok's request limits (REFERENCE 10.3): per developer app and per endpoint, counted per
//! second and per minute (and per day), with the documented defaults for the basic tier, the
//! endpoints that have their own, and the sandbox's.

use std::collections::BTreeMap;
use std::time::Duration;

/// At most `count` requests in any `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub count: u32,
    pub period: Duration,
}

/// The windows one endpoint must respect, and its daily quota.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointLimit {
    pub windows: Vec<Window>,
    pub per_day: u64,
}

impl EndpointLimit {
    /// `per_second` a second, `per_minute` a minute, `per_day` a day.
    pub fn new(per_second: u32, per_minute: u32, per_day: u64) -> Self {
        Self {
            windows: vec![
                Window {
                    count: per_second.max(1),
                    period: Duration::from_secs(1),
                },
                Window {
                    count: per_minute.max(1),
                    period: Duration::from_secs(60),
                },
            ],
            per_day,
        }
    }

    /// A limit of one window (the simulator's, in tests and the benchmark).
    pub fn one_window(count: u32, period: Duration) -> Self {
        Self {
            windows: vec![Window {
                count: count.max(1),
                period,
            }],
            per_day: u64::MAX,
        }
    }
}

impl std::fmt::Display for EndpointLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .windows
            .iter()
            .map(|w| match w.period.as_secs() {
                1 => format!("{} a second", w.count),
                60 => format!("{} a minute", w.count),
                s => format!("{} in any {s} s", w.count),
            })
            .collect();
        f.write_str(&parts.join(", "))
    }
}

/// Which limits apply to which endpoint.
#[derive(Debug, Clone)]
pub struct Limits {
    default: EndpointLimit,
    endpoints: BTreeMap<String, EndpointLimit>,
}

/// How an endpoint is named in settings: its path without the outer slashes, inner slashes as
/// underscores (`/report/integrated/get/` → `report_integrated_get`).
pub fn endpoint_key(path: &str) -> String {
    path.trim_matches('/').replace('/', "_")
}

impl Limits {
    /// The basic tier: 10 a second and 600 a minute per endpoint (864,000 a day); `/ad/create/`
    /// 5, 150 and 86,400; `/report/task/create/` 1 a second (and 4,500 a day).
    pub fn basic() -> Self {
        let mut endpoints = BTreeMap::new();
        endpoints.insert("ad_create".to_string(), EndpointLimit::new(5, 150, 86_400));
        endpoints.insert(
            "report_task_create".to_string(),
            EndpointLimit::new(1, 60, 4_500),
        );
        Self {
            default: EndpointLimit::new(10, 600, 864_000),
            endpoints,
        }
    }

    /// The sandbox: 1 a second, 30 a minute, 1,000 a day per endpoint.
    pub fn sandbox() -> Self {
        Self {
            default: EndpointLimit::new(1, 30, 1_000),
            endpoints: BTreeMap::new(),
        }
    }

    /// One limit for every endpoint.
    pub fn all(limit: EndpointLimit) -> Self {
        Self {
            default: limit,
            endpoints: BTreeMap::new(),
        }
    }

    /// Another limit for one endpoint (an app on a higher tier); its daily quota is kept.
    pub fn with_limit(mut self, key: &str, mut limit: EndpointLimit) -> Self {
        limit.per_day = self.for_key(key).per_day;
        self.endpoints.insert(key.to_string(), limit);
        self
    }

    pub fn for_path(&self, path: &str) -> &EndpointLimit {
        self.for_key(&endpoint_key(path))
    }

    fn for_key(&self, key: &str) -> &EndpointLimit {
        self.endpoints.get(key).unwrap_or(&self.default)
    }
}

/// A rate as users write it: `N` (N a second and 60 N a minute) or `N/P` with P a period such
/// as `10s` or `1m` (N in any such window).
pub fn parse_rate(text: &str) -> Result<EndpointLimit, String> {
    let bad = || {
        format!(
            "{text:?} is not a rate: expected N (requests a second) or N/PERIOD such as 50/10s or \
             600/1m"
        )
    };
    let text = text.trim();
    let (count, period) = match text.split_once('/') {
        None => {
            let n: u32 = text.parse().map_err(|_| bad())?;
            return (n > 0)
                .then(|| EndpointLimit::new(n, n.saturating_mul(60), u64::MAX))
                .ok_or_else(bad);
        }
        Some(parts) => parts,
    };
    let count: u32 = count.trim().parse().map_err(|_| bad())?;
    let period = period.trim();
    let (number, unit) = period.split_at(
        period
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(period.len()),
    );
    let number: u64 = if number.is_empty() {
        1
    } else {
        number.parse().map_err(|_| bad())?
    };
    let seconds = match unit {
        "s" | "" => number,
        "m" => number * 60,
        _ => return Err(bad()),
    };
    if count == 0 || seconds == 0 {
        return Err(bad());
    }
    Ok(EndpointLimit::one_window(
        count,
        Duration::from_secs(seconds),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_defaults_and_overrides() {
        let basic = Limits::basic();
        assert_eq!(basic.for_path("/campaign/get/").windows[0].count, 10);
        assert_eq!(basic.for_path("/campaign/get/").windows[1].count, 600);
        assert_eq!(basic.for_path("/ad/create/").windows[0].count, 5);
        assert_eq!(basic.for_path("/ad/create/").windows[1].count, 150);
        assert_eq!(basic.for_path("/report/task/create/").windows[0].count, 1);
        assert_eq!(Limits::sandbox().for_path("/ad/get/").windows[1].count, 30);
        let premium =
            Limits::basic().with_limit("report_integrated_get", parse_rate("30").unwrap());
        assert_eq!(
            premium.for_path("/report/integrated/get/").windows[0].count,
            30
        );
        assert_eq!(
            premium.for_path("/report/integrated/get/").windows[1].count,
            1800
        );
        assert_eq!(
            endpoint_key("/report/integrated/get/"),
            "report_integrated_get"
        );
    }

    #[test]
    fn rates_are_written_per_second_or_per_period() {
        assert_eq!(
            parse_rate("10").unwrap(),
            EndpointLimit::new(10, 600, u64::MAX)
        );
        assert_eq!(
            parse_rate("50/10s").unwrap(),
            EndpointLimit::one_window(50, Duration::from_secs(10))
        );
        assert_eq!(
            parse_rate("600/1m").unwrap(),
            EndpointLimit::one_window(600, Duration::from_secs(60))
        );
        for bad in ["0", "ten", "5/0s", "5/2h", "/s", ""] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
    }
}
