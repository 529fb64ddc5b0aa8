//! Ads: `/ad/get|create|update|status/update/` and their rules (REFERENCE 7).

pub use crate::catalog::{AD_FORMATS, IDENTITY_TYPES};
use serde_json::{Map, Value};

use super::entity::Resource;
use super::rules::{OPERATION_STATUSES, Problems};

pub static AD: Resource = Resource {
    noun: "ad",
    get_path: "/ad/get/",
    create_path: "/ad/create/",
    update_path: "/ad/update/",
    status_path: "/ad/status/update/",
    id_field: "ad_id",
    name_field: "ad_name",
    ids_key: "ad_ids",
    partial_success: false,
    // `/ad/create/` has no idempotency key: a create that may have arrived is not re-sent.
    idempotent_create: false,
};

/// Most creatives one `/ad/create/` call takes.
pub const MAX_CREATIVES: usize = 20;

/// Creative fields `/ad/update/` can change with `patch_update: true`.
pub const PATCHABLE: &[&str] = &[
    "ad_name",
    "identity_type",
    "identity_id",
    "identity_authorized_bc_id",
    "video_id",
    "image_ids",
    "music_id",
    "tiktok_item_id",
    "ad_text",
];

/// Read-only fields of an ad object, dropped when a whole creative is sent back.
pub const READ_ONLY: &[&str] = &[
    "advertiser_id",
    "campaign_id",
    "campaign_name",
    "adgroup_id",
    "adgroup_name",
    "secondary_status",
    "create_time",
    "modify_time",
    "is_new_structure",
    "creative_authorized",
    "profile_image_url",
    "is_aco",
];

pub fn validate_create(body: &Map<String, Value>) -> Vec<String> {
    let mut p = Problems::default();
    p.id(body, "advertiser_id", "--advertiser", true);
    p.id(body, "adgroup_id", "--adgroup", true);
    match body.get("creatives") {
        Some(Value::Array(creatives)) if creatives.is_empty() => {
            p.push("creatives is empty: an ad needs at least one creative")
        }
        Some(Value::Array(creatives)) if creatives.len() > MAX_CREATIVES => p.push(format!(
            "{} creatives in one request; TikTok takes at most {MAX_CREATIVES}",
            creatives.len()
        )),
        Some(Value::Array(creatives)) => {
            for (i, creative) in creatives.iter().enumerate() {
                match creative.as_object() {
                    Some(c) => check_creative(&mut p, c, i),
                    None => p.push(format!("creatives[{i}] must be an object")),
                }
            }
        }
        Some(_) => p.push("creatives must be a list"),
        None => p.push("creatives is required (the creative flags or --from-file)"),
    }
    p.into_vec()
}

pub fn validate_update(
    body: &Map<String, Value>,
    _current: Option<&Map<String, Value>>,
    _currency: Option<&str>,
) -> Vec<String> {
    let mut p = Problems::default();
    if body.contains_key("ad_name") {
        p.name(body, "ad_name", "--name");
    }
    p.one_of(body, "identity_type", IDENTITY_TYPES);
    for field in ["ad_id", "adgroup_id", "ad_format"] {
        if body.contains_key(field) {
            p.push(format!("{field} cannot be changed with ad update"));
        }
    }
    p.into_vec()
}

fn check_creative(p: &mut Problems, creative: &Map<String, Value>, index: usize) {
    let mut inner = Problems::default();
    if creative.contains_key("ad_name") {
        inner.name(creative, "ad_name", "--name");
    }
    inner.required_string(creative, "ad_format", "--ad-format");
    inner.one_of(creative, "ad_format", AD_FORMATS);
    inner.required_string(creative, "identity_type", "--identity-type");
    inner.one_of(creative, "identity_type", IDENTITY_TYPES);
    inner.required_string(creative, "identity_id", "--identity-id");
    inner.one_of(creative, "operation_status", OPERATION_STATUSES);
    let has_media = ["video_id", "image_ids", "tiktok_item_id"]
        .iter()
        .any(|f| creative.get(*f).is_some_and(|v| !v.is_null()));
    if !has_media {
        inner.push("a video_id, image_ids or tiktok_item_id is required (--video-id / --image-id)");
    }
    for problem in inner.into_vec() {
        p.push(format!("creatives[{index}]: {problem}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn creatives_are_checked_one_by_one() {
        let body = json!({"advertiser_id": "1", "adgroup_id": "2", "creatives": [
            {"ad_format": "SINGLE_VIDEO", "identity_type": "CUSTOMIZED_USER", "identity_id": "3", "video_id": "v"},
            {"ad_format": "HOLOGRAM", "identity_type": "CUSTOMIZED_USER", "identity_id": "3"}
        ]});
        let problems = validate_create(body.as_object().unwrap());
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems.iter().all(|p| p.starts_with("creatives[1]")));
    }
}
