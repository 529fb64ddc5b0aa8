//! Until TikTok can use a video: a fresh upload is only an ID until TikTok has transcoded it
//! (30 s to 5 min, REFERENCE 15.1). The library's info endpoint lists a processed video with
//! its duration and size; it leaves out videos it cannot use for ads, so one it listed and then
//! dropped failed transcoding.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::api::{ApiError, Client};
use crate::poll::PollSchedule;

/// Longest wait between two checks of a video's state.
const MAX_POLL: Duration = Duration::from_secs(10);

/// Where a video stands.
#[derive(Debug, Clone, PartialEq)]
pub enum VideoState {
    /// Processed: usable in an ad. Holds what TikTok lists about it.
    Ready(Map<String, Value>),
    /// Listed, but without its duration yet.
    Processing,
    /// Not listed (yet): TikTok may not have taken it in, or the ID is not of this account.
    NotListed,
    /// Listed once, then no longer: TikTok could not process it.
    Failed,
}

impl VideoState {
    pub fn is_final(&self) -> bool {
        matches!(self, VideoState::Ready(_) | VideoState::Failed)
    }

    /// A word for the state, for progress and result rows.
    pub fn word(&self) -> &'static str {
        match self {
            VideoState::Ready(_) => "ready",
            VideoState::Processing => "processing",
            VideoState::NotListed => "not listed",
            VideoState::Failed => "failed",
        }
    }
}

/// The states of a set of videos, updated from each listing.
#[derive(Debug, Clone)]
pub struct Watch {
    states: BTreeMap<String, VideoState>,
}

impl Watch {
    pub fn new(video_ids: &[String]) -> Self {
        Self {
            states: video_ids
                .iter()
                .map(|id| (id.clone(), VideoState::NotListed))
                .collect(),
        }
    }

    /// Takes in what the info endpoint listed now (for the videos not yet final).
    pub fn observe(&mut self, listed: Vec<Map<String, Value>>) {
        let mut by_id: BTreeMap<String, Map<String, Value>> = listed
            .into_iter()
            .filter_map(|item| Some((id_of(&item)?, item)))
            .collect();
        for (id, state) in &mut self.states {
            if state.is_final() {
                continue;
            }
            *state = match by_id.remove(id) {
                Some(item) if processed(&item) => VideoState::Ready(item),
                Some(_) => VideoState::Processing,
                None if *state == VideoState::Processing => VideoState::Failed,
                None => VideoState::NotListed,
            };
        }
    }

    /// The videos still to check.
    pub fn pending(&self) -> Vec<String> {
        self.states
            .iter()
            .filter(|(_, s)| !s.is_final())
            .map(|(id, _)| id.clone())
            .collect()
    }

    pub fn states(&self) -> &BTreeMap<String, VideoState> {
        &self.states
    }

    pub fn into_states(self) -> BTreeMap<String, VideoState> {
        self.states
    }

    /// How many are ready, of how many.
    pub fn ready_count(&self) -> (usize, usize) {
        let ready = self
            .states
            .values()
            .filter(|s| matches!(s, VideoState::Ready(_)))
            .count();
        (ready, self.states.len())
    }
}

/// A video TikTok has processed shows its duration (and size).
fn processed(item: &Map<String, Value>) -> bool {
    let positive = |field: &str| match item.get(field) {
        Some(Value::Number(n)) => n.as_f64().is_some_and(|v| v > 0.0),
        Some(Value::String(s)) => s.parse::<f64>().is_ok_and(|v| v > 0.0),
        _ => false,
    };
    positive("duration") && (positive("width") || positive("size"))
}

fn id_of(item: &Map<String, Value>) -> Option<String> {
    match item.get("video_id")? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// How to wait.
#[derive(Debug, Clone)]
pub struct WaitOptions {
    /// The first wait between checks (doubling, up to 10 s).
    pub poll_first: Duration,
    /// How long to wait in all.
    pub timeout: Duration,
}

/// Checks the videos in batches of 60 until each is ready or failed, or `timeout` has passed;
/// the states then (those still processing or not listed are not final). `on_check` is told
/// the states after every check.
pub async fn wait_until_ready(
    client: &Client,
    advertiser: &str,
    video_ids: &[String],
    options: &WaitOptions,
    on_check: &(dyn Fn(&Watch) + Send + Sync),
) -> Result<BTreeMap<String, VideoState>, ApiError> {
    let started = tokio::time::Instant::now();
    let mut schedule = PollSchedule::new(options.poll_first, options.timeout).capped(MAX_POLL);
    let mut watch = Watch::new(video_ids);
    loop {
        let pending = watch.pending();
        if pending.is_empty() {
            return Ok(watch.into_states());
        }
        let listed = client.files().videos(advertiser, &pending).await?;
        watch.observe(listed);
        on_check(&watch);
        if watch.pending().is_empty() {
            return Ok(watch.into_states());
        }
        match schedule.after_check(started.elapsed()) {
            Some(wait) => tokio::time::sleep(wait).await,
            None => return Ok(watch.into_states()),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn item(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn a_video_is_ready_with_its_duration_and_failed_when_dropped_after_being_listed() {
        let ids: Vec<String> = ["v1", "v2", "v3"].map(String::from).to_vec();
        let mut watch = Watch::new(&ids);
        watch.observe(vec![
            item(json!({"video_id": "v1"})),
            item(json!({"video_id": "v2"})),
        ]);
        assert_eq!(watch.states()["v1"], VideoState::Processing);
        assert_eq!(watch.states()["v3"], VideoState::NotListed);
        let ready = item(json!({"video_id": "v1", "duration": 10.033, "width": 720, "size": "1"}));
        watch.observe(vec![
            ready.clone(),
            item(json!({"video_id": "v3", "duration": "0"})),
        ]);
        assert_eq!(watch.states()["v1"], VideoState::Ready(ready));
        assert_eq!(
            watch.states()["v2"],
            VideoState::Failed,
            "listed, then dropped"
        );
        assert_eq!(
            watch.states()["v3"],
            VideoState::Processing,
            "a zero duration is not yet"
        );
        assert_eq!(watch.pending(), ["v3"]);
        assert_eq!(watch.ready_count(), (1, 3));
    }
}
