//! Statuses that move on their own, as TikTok's do: a new ad stays in review for a while, then
//! delivers or is rejected (with reasons set in advance through `/_mock/review`); an ad group
//! runs out of budget on demand. Kept in the world (and its state file); settled lazily when
//! something reads the entities, against the simulator's clock, which the control API can move
//! forward. A settled review changes `secondary_status` only, never `modify_time`: TikTok's
//! own transitions are not edits (REFERENCE 16.4).

pub(super) mod control;
pub(super) mod info;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::world::World;

/// How long a new ad is in review unless `ad_review_ms` says otherwise.
pub(super) const AD_REVIEW_MS: u64 = 60_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum Outcome {
    Approve,
    Reject,
    Partial,
}

/// What a review decided, with what TikTok would say about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Verdict {
    pub outcome: Outcome,
    #[serde(default)]
    pub reasons: Vec<String>,
    #[serde(default)]
    pub suggestion: String,
    /// Country codes where it may not deliver.
    #[serde(default)]
    pub locations: Vec<String>,
    #[serde(default)]
    pub placements: Vec<String>,
    /// When it was decided (`YYYY-MM-DD HH:MM:SS`, UTC).
    #[serde(default)]
    pub decided_at: Option<String>,
}

impl Verdict {
    pub(super) fn approved() -> Self {
        Self {
            outcome: Outcome::Approve,
            reasons: Vec::new(),
            suggestion: String::new(),
            locations: Vec::new(),
            placements: Vec::new(),
            decided_at: None,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct Reviews {
    /// Ads in review → when their review ends (simulator milliseconds).
    pending: BTreeMap<String, u64>,
    /// Outcomes set in advance for ads, applied when their review ends.
    decided: BTreeMap<String, Verdict>,
    /// Outcomes for the next ads created, in order.
    next: VecDeque<Verdict>,
    /// The last verdict on each ad and ad group reviewed.
    results: BTreeMap<String, Verdict>,
    /// Ad groups whose budget is spent.
    out_of_budget: BTreeSet<String>,
    /// How far the simulator's clock runs ahead of the system's.
    clock_offset_ms: u64,
}

fn system_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

impl Reviews {
    pub(super) fn now_ms(&self) -> u64 {
        system_ms() + self.clock_offset_ms
    }

    /// The simulator's time, as TikTok writes times.
    pub(super) fn stamp(&self) -> String {
        chrono::DateTime::from_timestamp_millis(self.now_ms() as i64)
            .unwrap_or_default()
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    }

    pub(super) fn advance(&mut self, ms: u64) {
        self.clock_offset_ms = self.clock_offset_ms.saturating_add(ms);
    }

    pub(super) fn in_review(&self, ad_id: &str) -> bool {
        self.pending.contains_key(ad_id)
    }

    pub(super) fn result(&self, id: &str) -> Option<&Verdict> {
        self.results.get(id)
    }

    pub(super) fn is_out_of_budget(&self, adgroup_id: &str) -> bool {
        self.out_of_budget.contains(adgroup_id)
    }
}

impl World {
    /// A new ad goes into review for `review_ms`, with the next outcome queued (if any).
    pub(super) fn submit_for_review(&mut self, ad_id: &str, review_ms: u64) {
        let due = self.reviews.now_ms() + review_ms;
        self.reviews.pending.insert(ad_id.to_string(), due);
        if let Some(verdict) = self.reviews.next.pop_front() {
            self.reviews.decided.insert(ad_id.to_string(), verdict);
        }
    }

    /// Ends every review whose time has come; whether anything changed.
    pub(super) fn settle_reviews(&mut self) -> bool {
        let now = self.reviews.now_ms();
        let due: Vec<String> = self
            .reviews
            .pending
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in &due {
            self.reviews.pending.remove(id);
            let verdict = self
                .reviews
                .decided
                .remove(id)
                .unwrap_or_else(Verdict::approved);
            self.record_verdict("ad", id, verdict);
        }
        !due.is_empty()
    }

    /// Sets the verdict on an ad (its review, if any, ends now) or an ad group.
    pub(super) fn record_verdict(&mut self, kind: &str, id: &str, mut verdict: Verdict) {
        if kind == "ad" {
            self.reviews.pending.remove(id);
            self.reviews.decided.remove(id);
        }
        verdict.decided_at = Some(self.reviews.stamp());
        self.reviews.results.insert(id.to_string(), verdict);
        self.refresh_secondary(kind, id);
    }

    /// An outcome for an ad still in review (applied when its review ends).
    pub(super) fn decide(&mut self, ad_id: &str, verdict: Verdict) {
        self.reviews.decided.insert(ad_id.to_string(), verdict);
    }

    pub(super) fn queue_verdicts(&mut self, verdict: Verdict, count: usize) {
        self.reviews
            .next
            .extend(std::iter::repeat_n(verdict, count));
    }

    /// Marks an ad group's budget spent (or not) and moves it and its ads accordingly.
    pub(super) fn set_out_of_budget(&mut self, adgroup_id: &str, spent: bool) {
        if spent {
            self.reviews.out_of_budget.insert(adgroup_id.to_string());
        } else {
            self.reviews.out_of_budget.remove(adgroup_id);
        }
        self.refresh_secondary("adgroup", adgroup_id);
        let ads: Vec<String> = self
            .all("ad")
            .iter()
            .filter(|a| a.get("adgroup_id").and_then(Value::as_str) == Some(adgroup_id))
            .filter_map(|a| a.get("ad_id").and_then(Value::as_str).map(str::to_string))
            .collect();
        for ad in ads {
            self.refresh_secondary("ad", &ad);
        }
    }

    /// The `secondary_status` of an object that is switched on, from its review and budget.
    pub(super) fn enabled_secondary(&self, kind: &str, id: &str) -> String {
        let outcome = self.reviews.result(id).map(|v| v.outcome);
        match kind {
            "campaign" => "CAMPAIGN_STATUS_ENABLE".into(),
            "adgroup" if outcome == Some(Outcome::Reject) => "ADGROUP_STATUS_AUDIT_DENY".into(),
            "adgroup" if self.reviews.is_out_of_budget(id) => "ADGROUP_STATUS_BUDGET_EXCEED".into(),
            "adgroup" => "ADGROUP_STATUS_DELIVERY_OK".into(),
            _ if self.reviews.in_review(id) => "AD_STATUS_AUDIT".into(),
            _ if outcome == Some(Outcome::Reject) => "AD_STATUS_AUDIT_DENY".into(),
            _ if self
                .find("ad", id)
                .and_then(|ad| ad.get("adgroup_id").and_then(Value::as_str))
                .is_some_and(|group| self.reviews.is_out_of_budget(group)) =>
            {
                "AD_STATUS_BUDGET_EXCEED".into()
            }
            _ if outcome == Some(Outcome::Partial) => "AD_STATUS_PARTIAL_AUDIT_DELIVERY_OK".into(),
            _ => "AD_STATUS_DELIVERY_OK".into(),
        }
    }

    /// Recomputes the `secondary_status` of an object that is switched on (switched off and
    /// deleted ones keep theirs); `modify_time` stays.
    fn refresh_secondary(&mut self, kind: &str, id: &str) {
        let secondary = self.enabled_secondary(kind, id);
        if let Some(object) = self.find_mut(kind, id)
            && object.get("operation_status").and_then(Value::as_str) == Some("ENABLE")
        {
            object.insert("secondary_status".into(), json!(secondary));
        }
    }
}
