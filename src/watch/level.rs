//! The three levels watched and the cheap poll of each (REFERENCE 16.4): only the fields that
//! are compared, `STATUS_ALL` so that deletions show as `*_DELETE` rather than as rows that
//! vanish, 1,000 a page — ⌈N/1000⌉ requests per level and account.

use std::collections::BTreeMap;

use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::api::entity::{PAGE_SIZE_MAX, Resource};
use crate::api::{ApiError, Client};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Campaign,
    Adgroup,
    Ad,
}

/// The fields compared at every level (besides the ID, name and parents).
const COMPARED: [&str; 2] = ["operation_status", "secondary_status"];

impl Level {
    pub const ALL: [Level; 3] = [Level::Campaign, Level::Adgroup, Level::Ad];

    pub fn name(self) -> &'static str {
        match self {
            Level::Campaign => "campaign",
            Level::Adgroup => "adgroup",
            Level::Ad => "ad",
        }
    }

    pub fn parse(word: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.name() == word)
    }

    pub fn resource(self) -> &'static Resource {
        match self {
            Level::Campaign => &crate::api::campaign::CAMPAIGN,
            Level::Adgroup => &crate::api::adgroup::ADGROUP,
            Level::Ad => &crate::api::ad::AD,
        }
    }

    /// The IDs of the levels above.
    pub fn parents(self) -> &'static [&'static str] {
        match self {
            Level::Campaign => &[],
            Level::Adgroup => &["campaign_id"],
            Level::Ad => &["campaign_id", "adgroup_id"],
        }
    }

    /// The fields of a change event at this level besides the statuses and the name: budget,
    /// bid and schedule where the level has them.
    pub fn settings(self) -> &'static [&'static str] {
        match self {
            Level::Campaign => &["budget", "budget_mode"],
            Level::Adgroup => &[
                "budget",
                "budget_mode",
                "bid_price",
                "schedule_start_time",
                "schedule_end_time",
            ],
            Level::Ad => &[],
        }
    }

    /// Every field asked for.
    pub fn fields(self) -> Vec<String> {
        let resource = self.resource();
        [resource.id_field, resource.name_field]
            .into_iter()
            .chain(self.parents().iter().copied())
            .chain(COMPARED)
            .chain(self.settings().iter().copied())
            .chain(["modify_time"])
            .map(str::to_string)
            .collect()
    }

    /// Polls every entity of the level in the account; each kept with the fields asked for.
    pub async fn poll(
        self,
        client: &Client,
        advertiser_id: &str,
    ) -> Result<BTreeMap<String, Map<String, Value>>, ApiError> {
        let mut filtering = Map::new();
        filtering.insert("primary_status".into(), json!("STATUS_ALL"));
        let fields = self.fields();
        let pages = client.entities(self.resource()).list(
            advertiser_id,
            &filtering,
            Some(&fields),
            PAGE_SIZE_MAX,
        );
        futures_util::pin_mut!(pages);
        let id_field = self.resource().id_field;
        let mut all = BTreeMap::new();
        while let Some(page) = pages.try_next().await? {
            for item in page.list {
                let id = match item.get(id_field) {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Number(n)) => n.to_string(),
                    _ => continue,
                };
                let kept = item
                    .into_iter()
                    .filter(|(k, _)| fields.contains(k))
                    .collect();
                all.insert(id, kept);
            }
        }
        Ok(all)
    }
}

/// One account's entities at one moment, per level watched, by ID.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// RFC 3339, UTC.
    pub taken_at: String,
    pub levels: BTreeMap<Level, BTreeMap<String, Map<String, Value>>>,
}

impl Snapshot {
    /// Polls the levels of an account.
    pub async fn take(
        client: &Client,
        advertiser_id: &str,
        levels: &[Level],
    ) -> Result<Snapshot, ApiError> {
        let mut snapshot = Snapshot {
            taken_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            levels: BTreeMap::new(),
        };
        for level in levels {
            snapshot
                .levels
                .insert(*level, level.poll(client, advertiser_id).await?);
        }
        Ok(snapshot)
    }

    /// Whether any entity shows a `secondary_status` (the sandbox sends none).
    pub fn has_secondary_status(&self) -> bool {
        self.levels
            .values()
            .flat_map(|level| level.values())
            .any(|e| e.get("secondary_status").is_some_and(|v| !v.is_null()))
    }

    /// How many entities each level holds.
    pub fn counts(&self) -> BTreeMap<Level, usize> {
        self.levels.iter().map(|(l, e)| (*l, e.len())).collect()
    }
}
