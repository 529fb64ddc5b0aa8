//! The review state of ads or ad groups, as rows: one per piece of content TikTok rejected
//! (or one for the entity when nothing was), with its reasons and TikTok's suggestion.
//! "Approved" is decided with `secondary_status` as well as the review (REFERENCE 16.3: a new
//! ad can read `ALL_AVAILABLE` before anyone has reviewed it).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::bucket::Bucket;
use super::level::Level;
use crate::api::{ApiError, Client};

/// The columns of a review row.
pub const COLUMNS: [&str; 17] = [
    "advertiser_id",
    "level",
    "id",
    "name",
    "operation_status",
    "secondary_status",
    "decision",
    "review_status",
    "forbidden_placements",
    "forbidden_locations",
    "forbidden_ages",
    "forbidden_operation_systems",
    "content_type",
    "content",
    "reasons",
    "suggestion",
    "last_audit_time",
];

/// Approved, in review, rejected or partly approved: the status first, the review after.
pub fn decision(
    secondary_status: Option<&str>,
    review: Option<&Map<String, Value>>,
) -> &'static str {
    match secondary_status.map(Bucket::of) {
        Some(Bucket::InReview) => return "in_review",
        Some(Bucket::Rejected) => return "rejected",
        Some(Bucket::PartlyRejected) => return "partly_approved",
        _ => {}
    }
    match review
        .and_then(|r| r.get("review_status"))
        .and_then(Value::as_str)
    {
        Some("ALL_AVAILABLE") => "approved",
        Some("PART_AVAILABLE") => "partly_approved",
        Some("UNAVAILABLE") => "rejected",
        _ => "unknown",
    }
}

/// Whether an entity's status calls for its review: in review, rejected or partly approved
/// (only the last two with `rejected_only`).
pub fn wanted(secondary_status: Option<&str>, rejected_only: bool) -> bool {
    match secondary_status.map(Bucket::of) {
        Some(Bucket::Rejected | Bucket::PartlyRejected) => true,
        Some(Bucket::InReview) => !rejected_only,
        _ => false,
    }
}

fn joined(value: Option<&Value>) -> Value {
    match value.and_then(Value::as_array) {
        Some(items) if !items.is_empty() => Value::String(
            items
                .iter()
                .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join(","),
        ),
        _ => Value::Null,
    }
}

/// What a reject entry applies to: the text, or the image, video or music ID.
fn content(info: &Map<String, Value>) -> (Value, Value) {
    let Some(content) = info.get("content_info").and_then(Value::as_object) else {
        return (Value::Null, Value::Null);
    };
    let kind = content.get("content_type").cloned().unwrap_or(Value::Null);
    let what = content
        .get("text_content")
        .filter(|v| !v.is_null())
        .cloned()
        .or_else(|| {
            content
                .get("image_content")
                .and_then(|c| c.get("image_id"))
                .cloned()
        })
        .or_else(|| {
            content
                .get("video_content")
                .and_then(|c| c.get("video_id"))
                .cloned()
        })
        .or_else(|| {
            content
                .get("carousel_music_content")
                .and_then(|c| c.get("music_id"))
                .cloned()
        })
        .unwrap_or(Value::Null);
    (kind, what)
}

/// The rows of one entity.
pub fn rows(
    advertiser_id: &str,
    level: Level,
    entity: &Map<String, Value>,
    review: Option<&Map<String, Value>>,
) -> Vec<Map<String, Value>> {
    let resource = level.resource();
    let secondary = entity.get("secondary_status").and_then(Value::as_str);
    let base = |review: Option<&Map<String, Value>>| -> Map<String, Value> {
        let field = |k: &str| review.and_then(|r| r.get(k));
        let mut row = Map::new();
        row.insert("advertiser_id".into(), json!(advertiser_id));
        row.insert("level".into(), json!(level.name()));
        row.insert(
            "id".into(),
            entity.get(resource.id_field).cloned().unwrap_or_default(),
        );
        row.insert(
            "name".into(),
            entity.get(resource.name_field).cloned().unwrap_or_default(),
        );
        row.insert(
            "operation_status".into(),
            entity.get("operation_status").cloned().unwrap_or_default(),
        );
        row.insert("secondary_status".into(), json!(secondary));
        row.insert("decision".into(), json!(decision(secondary, review)));
        row.insert(
            "review_status".into(),
            field("review_status").cloned().unwrap_or_default(),
        );
        for list in [
            "forbidden_placements",
            "forbidden_locations",
            "forbidden_ages",
            "forbidden_operation_systems",
        ] {
            row.insert(list.into(), joined(field(list)));
        }
        row.insert(
            "last_audit_time".into(),
            field("last_audit_time").cloned().unwrap_or_default(),
        );
        row
    };
    let infos: Vec<&Map<String, Value>> = review
        .and_then(|r| r.get("reject_info"))
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Value::as_object).collect())
        .unwrap_or_default();
    if infos.is_empty() {
        let mut row = base(review);
        for column in ["content_type", "content", "reasons", "suggestion"] {
            row.insert(column.into(), Value::Null);
        }
        return vec![order(row)];
    }
    infos
        .into_iter()
        .map(|info| {
            let mut row = base(review);
            let (kind, what) = content(info);
            row.insert("content_type".into(), kind);
            row.insert("content".into(), what);
            let reasons: Vec<&str> = info
                .get("reasons")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            row.insert("reasons".into(), json!(reasons.join("; ")));
            row.insert(
                "suggestion".into(),
                info.get("suggestion").cloned().unwrap_or_default(),
            );
            // The entry's own lists are narrower than the entity's: they win when given.
            for list in [
                "forbidden_placements",
                "forbidden_locations",
                "forbidden_ages",
            ] {
                if let Value::String(s) = joined(info.get(list)) {
                    row.insert(list.into(), Value::String(s));
                }
            }
            order(row)
        })
        .collect()
}

fn order(mut row: Map<String, Value>) -> Map<String, Value> {
    COLUMNS
        .iter()
        .map(|c| (c.to_string(), row.remove(*c).unwrap_or(Value::Null)))
        .collect()
}

/// The review rows of one account: of `ids` (those of the account), or of every entity whose
/// status is in review, rejected or partly approved — found with the cheap listing, with
/// review info asked only for those.
pub async fn account_rows(
    client: &Client,
    advertiser_id: &str,
    level: Level,
    ids: Option<&[String]>,
    rejected_only: bool,
) -> Result<Vec<Map<String, Value>>, ApiError> {
    let entities: BTreeMap<String, Map<String, Value>> = level
        .poll(client, advertiser_id)
        .await?
        .into_iter()
        .filter(|(id, entity)| {
            let status = entity.get("secondary_status").and_then(Value::as_str);
            match ids {
                Some(ids) => ids.contains(id) && (!rejected_only || wanted(status, true)),
                None => wanted(status, rejected_only),
            }
        })
        .collect();
    let wanted_ids: Vec<String> = entities.keys().cloned().collect();
    if wanted_ids.is_empty() {
        return Ok(Vec::new());
    }
    let reviews = match level {
        Level::Adgroup => {
            client
                .reviews()
                .adgroups(advertiser_id, &wanted_ids)
                .await?
        }
        _ => client.reviews().ads(advertiser_id, &wanted_ids).await?,
    };
    Ok(entities
        .iter()
        .flat_map(|(id, entity)| rows(advertiser_id, level, entity, reviews.get(id)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ad_still_in_review_is_not_approved_whatever_the_review_says() {
        let review = json!({"review_status": "ALL_AVAILABLE", "is_approved": true});
        let review = review.as_object();
        assert_eq!(decision(Some("AD_STATUS_AUDIT"), review), "in_review");
        assert_eq!(decision(Some("AD_STATUS_DELIVERY_OK"), review), "approved");
        assert_eq!(decision(Some("AD_STATUS_AUDIT_DENY"), None), "rejected");
        assert_eq!(decision(None, None), "unknown");
    }

    #[test]
    fn each_rejected_piece_of_content_is_a_row_with_its_reason_and_suggestion() {
        let review = json!({
            "review_status": "UNAVAILABLE", "forbidden_locations": ["US"],
            "reject_info": [
                {"content_info": {"content_type": "MODE_STRING", "text_content": "Run twice as fast"},
                 "reasons": ["Exaggerated claims", "Unverifiable"], "suggestion": "Remove the claim."},
                {"content_info": {"content_type": "MODE_VIDEO", "video_content": {"video_id": "v1"}},
                 "reasons": ["Before and after"], "suggestion": "Cut it.", "forbidden_placements": ["PLACEMENT_TIKTOK"]},
            ]
        });
        let ad = json!({"ad_id": "1", "ad_name": "a", "secondary_status": "AD_STATUS_AUDIT_DENY"});
        let rows = rows("7", Level::Ad, ad.as_object().unwrap(), review.as_object());
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["content"], "Run twice as fast");
        assert_eq!(rows[0]["reasons"], "Exaggerated claims; Unverifiable");
        assert_eq!(rows[0]["forbidden_locations"], "US");
        assert_eq!(rows[1]["content_type"], "MODE_VIDEO");
        assert_eq!(rows[1]["content"], "v1");
        assert_eq!(rows[1]["forbidden_placements"], "PLACEMENT_TIKTOK");
        assert_eq!(rows[1]["decision"], "rejected");
        assert_eq!(
            rows[0].keys().collect::<Vec<_>>(),
            COLUMNS.iter().collect::<Vec<_>>()
        );
    }
}
