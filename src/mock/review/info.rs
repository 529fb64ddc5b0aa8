//! `GET /ad/review_info/` and `GET /adgroup/review_info/` in their two shapes (REFERENCE 16.3):
//! ads keyed by ad ID; ad groups keyed by ad group ID, with their ads nested two levels. They
//! answer from the same reviews that move `secondary_status`, with one documented lie kept: an
//! ad still in review reads as approved (`ALL_AVAILABLE`), so only the status tells.

use std::collections::HashMap;

use axum::Extension;
use axum::extract::{Query, State};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::{Outcome, Verdict};
use crate::mock::Mock;
use crate::mock::answer::{invalid, ok};
use crate::mock::auth::advertiser;
use crate::mock::params::{Checked, Params};
use crate::mock::world::{Grant, World};

/// Ad group IDs per call (documented); the ad endpoint's limit is not, so it takes more.
const ADGROUP_IDS_MAX: usize = 20;
const AD_IDS_MAX: usize = 100;

pub(in crate::mock) async fn ads(
    State(mock): State<Mock>,
    Extension(grant): Extension<Grant>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    answer(
        &mock,
        &grant,
        q,
        ("ad_ids", AD_IDS_MAX),
        |world, advertiser, ids| {
            let map: Map<String, Value> = ids
                .iter()
                .filter_map(|id| own(world, "ad", id, advertiser))
                .map(|ad| (text(ad, "ad_id").to_string(), ad_review(world, ad)))
                .collect();
            json!({ "ad_review_map": map })
        },
    )
}

pub(in crate::mock) async fn adgroups(
    State(mock): State<Mock>,
    Extension(grant): Extension<Grant>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    answer(
        &mock,
        &grant,
        q,
        ("adgroup_ids", ADGROUP_IDS_MAX),
        |world, advertiser, ids| {
            let (mut groups, mut ads) = (Map::new(), Map::new());
            for group in ids
                .iter()
                .filter_map(|id| own(world, "adgroup", id, advertiser))
            {
                let id = text(group, "adgroup_id");
                let reviews: Map<String, Value> = world
                    .all("ad")
                    .iter()
                    .filter(|ad| {
                        text(ad, "adgroup_id") == id && text(ad, "operation_status") != "DELETE"
                    })
                    .map(|ad| (text(ad, "ad_id").to_string(), ad_review(world, ad)))
                    .collect();
                groups.insert(id.to_string(), adgroup_review(world, id, &reviews));
                ads.insert(id.to_string(), Value::Object(reviews));
            }
            json!({ "ad_group_review_map": groups, "ad_review_map": ads })
        },
    )
}

/// The checks both endpoints make (the account, 1 to `max` IDs under `key`), the reviews due
/// ended, then `data` from the world.
fn answer(
    mock: &Mock,
    grant: &Grant,
    query: HashMap<String, String>,
    (key, max): (&str, usize),
    data: impl FnOnce(&World, &str, Vec<String>) -> Value,
) -> Response {
    let params = Params::Query(query);
    let checked = advertiser(&params, grant).and_then(|a| Ok((a, ids(&params, key, max)?)));
    match checked {
        Ok((advertiser, ids)) => {
            mock.settle();
            ok(data(&mock.world(), &advertiser, ids))
        }
        Err(refused) => refused,
    }
}

fn ids(params: &Params, key: &str, max: usize) -> Checked<Vec<String>> {
    match params.list(key)? {
        Some(ids) if !ids.is_empty() && ids.len() <= max => Ok(ids),
        Some(_) => Err(invalid(
            key,
            &format!("Between 1 and {max} IDs per request."),
        )),
        None => Err(invalid(key, "Missing data for required field.")),
    }
}

fn text<'a>(map: &'a Map<String, Value>, key: &str) -> &'a str {
    map.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// An object of the account (IDs of other accounts are left out of the answer).
fn own<'w>(
    world: &'w World,
    kind: &str,
    id: &str,
    advertiser: &str,
) -> Option<&'w Map<String, Value>> {
    world
        .find(kind, id)
        .filter(|e| text(e, "advertiser_id") == advertiser)
}

/// What the rejection applies to: the ad's text, and its video or first image.
fn contents(ad: &Map<String, Value>) -> Vec<Value> {
    let mut contents =
        vec![json!({"content_type": "MODE_STRING", "text_content": ad.get("ad_text")})];
    if let Some(video) = ad.get("video_id").and_then(Value::as_str) {
        contents.push(json!({"content_type": "MODE_VIDEO", "video_content": {"video_id": video}}));
    } else if let Some(image) = ad
        .get("image_ids")
        .and_then(Value::as_array)
        .and_then(|ids| ids.first())
    {
        contents.push(json!({"content_type": "MODE_IMAGE", "image_content": {"image_id": image}}));
    }
    contents
}

fn reject_info(verdict: &Verdict, contents: Vec<Value>) -> Vec<Value> {
    if verdict.outcome == Outcome::Approve {
        return Vec::new();
    }
    contents
        .into_iter()
        .take(if verdict.outcome == Outcome::Partial {
            1
        } else {
            2
        })
        .map(|content| {
            json!({
                "content_info": content, "reasons": verdict.reasons,
                "suggestion": verdict.suggestion, "forbidden_ages": [],
                "forbidden_locations": verdict.locations,
                "forbidden_placements": verdict.placements,
            })
        })
        .collect()
}

fn ad_review(world: &World, ad: &Map<String, Value>) -> Value {
    let approved = Verdict::approved();
    let verdict = world.reviews.result(text(ad, "ad_id")).unwrap_or(&approved);
    let status = match verdict.outcome {
        Outcome::Approve => "ALL_AVAILABLE",
        Outcome::Partial => "PART_AVAILABLE",
        Outcome::Reject => "UNAVAILABLE",
    };
    json!({
        "ad_id": text(ad, "ad_id"), "is_approved": verdict.outcome != Outcome::Reject,
        "review_status": status, "appeal_status": null, "last_audit_time": null,
        "forbidden_ages": [], "forbidden_locations": verdict.locations,
        "forbidden_placements": verdict.placements, "forbidden_operation_systems": [],
        "reject_info": reject_info(verdict, contents(ad)),
    })
}

fn adgroup_review(world: &World, id: &str, ads: &Map<String, Value>) -> Value {
    let own = world
        .reviews
        .result(id)
        .filter(|v| v.outcome != Outcome::Approve);
    let deliverable = ads
        .values()
        .filter(|r| r["review_status"] != "UNAVAILABLE")
        .count();
    let status = match own {
        Some(v) if v.outcome == Outcome::Reject => "UNAVAILABLE",
        Some(_) => "PART_AVAILABLE",
        None if deliverable == ads.len() => "ALL_AVAILABLE",
        None if deliverable == 0 => "UNAVAILABLE",
        None => "PART_AVAILABLE",
    };
    let rejected_ads = deliverable < ads.len();
    json!({
        "adgroup_id": id, "is_approved": status != "UNAVAILABLE", "review_status": status,
        "appeal_status": "NOT_APPEALED",
        "last_audit_time": own.and_then(|v| v.decided_at.clone()),
        "forbidden_ages": [], "forbidden_locations": own.map(|v| v.locations.clone()).unwrap_or_default(),
        "forbidden_placements": own.map(|v| v.placements.clone()).unwrap_or_default(),
        "forbidden_operation_systems": [], "contain_rejected_ads": rejected_ads,
        "reject_info": own.map(|v| reject_info(v, vec![json!({"content_type": "MODE_STRING", "text_content": null})])).unwrap_or_default(),
    })
}
