//! The entity snapshot of `report sync --with-entities`: every campaign, ad group and ad of an
//! account (deleted ones too, by default) with the fields a report row is joined to — IDs,
//! parents, names, statuses, budgets. Fetched here; a store (the warehouse) keeps it.

use anyhow::Result;
use futures_util::TryStreamExt;
use serde_json::{Map, Value, json};

use crate::api::Client;
use crate::api::entity::{PAGE_SIZE_MAX, Resource};

/// One level of the snapshot: the resource listed, its parents' ID fields and the fields kept
/// (besides the IDs, and the statuses and times every level keeps).
pub struct SnapshotLevel {
    pub resource: &'static Resource,
    pub parents: &'static [&'static str],
    pub fields: &'static [&'static str],
}

/// Kept at every level, after its own fields.
const TIMES_AND_STATUS: [&str; 4] = [
    "operation_status",
    "secondary_status",
    "create_time",
    "modify_time",
];

/// Campaigns, ad groups and ads, in that order.
pub static LEVELS: [SnapshotLevel; 3] = [
    SnapshotLevel {
        resource: &crate::api::campaign::CAMPAIGN,
        parents: &[],
        fields: &["campaign_name", "objective_type", "budget_mode", "budget"],
    },
    SnapshotLevel {
        resource: &crate::api::adgroup::ADGROUP,
        parents: &["campaign_id"],
        fields: &[
            "adgroup_name",
            "optimization_goal",
            "budget_mode",
            "budget",
            "bid_price",
        ],
    },
    SnapshotLevel {
        resource: &crate::api::ad::AD,
        parents: &["campaign_id", "adgroup_id"],
        fields: &["ad_name", "ad_format"],
    },
];

impl SnapshotLevel {
    /// `campaign_id`, `adgroup_id`, `ad_id`.
    pub fn id_field(&self) -> &'static str {
        self.resource.id_field
    }

    /// Its own fields, then the statuses and times (what follows the IDs in a row).
    pub fn kept(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.fields.iter().copied().chain(TIMES_AND_STATUS)
    }

    /// Every field asked for: the ID, the parents' IDs, then [`kept`](Self::kept).
    pub fn field_names(&self) -> Vec<String> {
        std::iter::once(self.resource.id_field)
            .chain(self.parents.iter().copied())
            .chain(self.kept())
            .map(str::to_string)
            .collect()
    }
}

/// An account's entities: per level of [`LEVELS`], the rows — the advertiser, then every
/// field of [`SnapshotLevel::field_names`] as stored (see [`stored`]).
pub struct Snapshot {
    pub rows: Vec<Vec<Vec<Option<String>>>>,
}

/// A field as stored: strings as TikTok wrote them, numbers in their JSON form, lists and
/// objects as JSON text, null and absent as none.
pub fn stored(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Null => None,
        Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}

/// Lists every campaign, ad group and ad of `advertiser` (deleted ones too with
/// `include_deleted`).
pub async fn fetch(client: &Client, advertiser: &str, include_deleted: bool) -> Result<Snapshot> {
    let mut filtering = Map::new();
    if include_deleted {
        filtering.insert("primary_status".into(), json!("STATUS_ALL"));
    }
    let mut rows = Vec::new();
    for level in &LEVELS {
        let fields = level.field_names();
        let pages = client.entities(level.resource).list(
            advertiser,
            &filtering,
            Some(&fields),
            PAGE_SIZE_MAX,
        );
        futures_util::pin_mut!(pages);
        let mut level_rows = Vec::new();
        while let Some(page) = pages.try_next().await? {
            for record in page.list {
                let values: Vec<Option<String>> = std::iter::once(Some(advertiser.to_string()))
                    .chain(fields.iter().map(|f| stored(record.get(f))))
                    .collect();
                if values[1].is_none() {
                    anyhow::bail!(
                        "TikTok listed a {} without its {}",
                        level.resource.noun,
                        level.resource.id_field
                    );
                }
                level_rows.push(values);
            }
        }
        rows.push(level_rows);
    }
    Ok(Snapshot { rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_stored_as_tiktok_wrote_them() {
        assert_eq!(stored(Some(&json!("1812"))), Some("1812".into()));
        assert_eq!(stored(Some(&json!(50.5))), Some("50.5".into()));
        assert_eq!(
            stored(Some(&json!(["A", "B"]))),
            Some("[\"A\",\"B\"]".into())
        );
        assert_eq!(stored(Some(&Value::Null)), None);
        assert_eq!(stored(None), None);
        assert_eq!(
            LEVELS[2].field_names()[..3],
            ["ad_id", "campaign_id", "adgroup_id"]
        );
    }
}
