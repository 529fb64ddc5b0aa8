//! Waiting for TikTok to finish matching audiences (24–48 h, REFERENCE 18.5): their details
//! asked for with a growing wait between checks (from the first wait, doubling to an hour), until
//! none is calculating or the deadline has come.

use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use super::status::status;
use crate::api::{ApiError, Client};
use crate::poll::PollSchedule;

/// The longest wait between two checks.
pub const MAX_WAIT_BETWEEN: Duration = Duration::from_secs(3600);

/// The details of each audience once none is calculating, or at the deadline (then some are).
pub async fn until_matched(
    client: &Client,
    advertiser: &str,
    ids: &[String],
    first: Duration,
    deadline: Duration,
) -> Result<Vec<Map<String, Value>>, ApiError> {
    let started = Instant::now();
    let mut schedule = PollSchedule::new(first, deadline).capped(MAX_WAIT_BETWEEN);
    loop {
        let found = client.audiences().get(advertiser, ids, 1).await?;
        let details: Vec<Map<String, Value>> = found
            .iter()
            .filter_map(|a| {
                a.get("audience_details")
                    .and_then(Value::as_object)
                    .cloned()
            })
            .collect();
        let now = chrono::Utc::now().naive_utc();
        let calculating = details.iter().any(|d| status(d, now) == "calculating");
        if !calculating {
            return Ok(details);
        }
        match schedule.after_check(started.elapsed()) {
            Some(wait) => tokio::time::sleep(wait).await,
            None => return Ok(details),
        }
    }
}
