//! The control calls that move statuses (routed under `/_mock/` by `control`):
//!
//! * `POST /_mock/review` `{"ad_ids": [...]}` | `{"adgroup_ids": [...]}` | `{"next": N}`, with
//!   `"outcome": "approve"|"reject"|"partial"` and optionally `"reasons": [...]`,
//!   `"suggestion"`, `"locations": [...]`, `"placements": [...]`, `"now": true` → the outcome
//!   of those ads' review (when it ends; at once with `now`, or for an ad not in review), of
//!   those ad groups (at once), or of the next N ads created
//! * `POST /_mock/clock` `{"advance_secs": N}` → the simulator's clock moves forward (reviews
//!   due by then end)
//! * `POST /_mock/budget` `{"adgroup_id", "spent": true|false}` → the ad group (and its ads)
//!   out of budget, or back
//! * `POST /_mock/quota` `{"advertiser_id", "total"}` → the account's active ad group quota
//! * `POST /_mock/change` `{"level": "campaign"|"adgroup"|"ad", "id", "fields": {...}}` → the
//!   entity changed as if in Ads Manager (`modify_time` updated)

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Outcome, Verdict};
use crate::mock::Mock;

type Answer = Result<Value, String>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReviewOrder {
    #[serde(default)]
    ad_ids: Vec<String>,
    #[serde(default)]
    adgroup_ids: Vec<String>,
    #[serde(default)]
    next: usize,
    outcome: Outcome,
    #[serde(default)]
    reasons: Vec<String>,
    #[serde(default)]
    suggestion: String,
    #[serde(default)]
    locations: Vec<String>,
    #[serde(default)]
    placements: Vec<String>,
    #[serde(default)]
    now: bool,
}

pub(in crate::mock) async fn review(State(mock): State<Mock>, body: axum::body::Bytes) -> Response {
    reply(
        serde_json::from_slice::<ReviewOrder>(&body)
            .map_err(|e| e.to_string())
            .and_then(|order| {
                let mut verdict = Verdict {
                    outcome: order.outcome,
                    reasons: order.reasons,
                    suggestion: order.suggestion,
                    locations: order.locations,
                    placements: order.placements,
                    decided_at: None,
                };
                if verdict.outcome != Outcome::Approve && verdict.reasons.is_empty() {
                    verdict.reasons =
                        vec!["Ad content does not meet the advertising policies".into()];
                }
                mock.change(|world| {
                for id in &order.ad_ids {
                    if world.find("ad", id).is_none() {
                        return Err(format!("no ad {id}"));
                    }
                }
                for id in &order.adgroup_ids {
                    if world.find("adgroup", id).is_none() {
                        return Err(format!("no ad group {id}"));
                    }
                }
                for id in &order.ad_ids {
                    if world.reviews.in_review(id) && !order.now {
                        world.decide(id, verdict.clone());
                    } else {
                        world.record_verdict("ad", id, verdict.clone());
                    }
                }
                for id in &order.adgroup_ids {
                    world.record_verdict("adgroup", id, verdict.clone());
                }
                world.queue_verdicts(verdict.clone(), order.next);
                Ok(json!({"ads": order.ad_ids, "adgroups": order.adgroup_ids, "next": order.next}))
            })
            }),
    )
}

pub(in crate::mock) async fn clock(State(mock): State<Mock>, body: axum::body::Bytes) -> Response {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Advance {
        advance_secs: u64,
    }
    reply(
        serde_json::from_slice::<Advance>(&body)
            .map_err(|e| e.to_string())
            .map(|a| {
                mock.change(|world| {
                    world.reviews.advance(a.advance_secs.saturating_mul(1000));
                    world.settle_reviews();
                    json!({"now": world.reviews.stamp()})
                })
            }),
    )
}

pub(in crate::mock) async fn budget(State(mock): State<Mock>, body: axum::body::Bytes) -> Response {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Spent {
        adgroup_id: String,
        spent: bool,
    }
    reply(
        serde_json::from_slice::<Spent>(&body)
            .map_err(|e| e.to_string())
            .and_then(|s| {
                mock.change(|world| {
                    if world.find("adgroup", &s.adgroup_id).is_none() {
                        return Err(format!("no ad group {}", s.adgroup_id));
                    }
                    world.set_out_of_budget(&s.adgroup_id, s.spent);
                    Ok(json!({"adgroup_id": s.adgroup_id, "spent": s.spent}))
                })
            }),
    )
}

pub(in crate::mock) async fn change(State(mock): State<Mock>, body: axum::body::Bytes) -> Response {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Change {
        level: String,
        id: String,
        fields: Map<String, Value>,
    }
    reply(
        serde_json::from_slice::<Change>(&body)
            .map_err(|e| e.to_string())
            .and_then(|c| {
                if !matches!(c.level.as_str(), "campaign" | "adgroup" | "ad") {
                    return Err("level is campaign, adgroup or ad".into());
                }
                mock.change(|world| world.change_from_outside(&c.level, &c.id, &c.fields))
            }),
    )
}

pub(in crate::mock) async fn quota(State(mock): State<Mock>, body: axum::body::Bytes) -> Response {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Quota {
        advertiser_id: String,
        total: u64,
    }
    reply(
        serde_json::from_slice::<Quota>(&body)
            .map_err(|e| e.to_string())
            .map(|q| {
                mock.change(|world| {
                    world
                        .adgroup_quotas
                        .insert(q.advertiser_id.clone(), q.total);
                    let (total, used) = world.adgroup_quota(&q.advertiser_id);
                    json!({"total_adgroup_quota": total, "used_adgroup_quota": used})
                })
            }),
    )
}

fn reply(answer: Answer) -> Response {
    match answer {
        Ok(value) => {
            crate::mock::answer::json_response(axum::http::StatusCode::OK, value.to_string())
        }
        Err(why) => crate::mock::answer::json_response(
            axum::http::StatusCode::BAD_REQUEST,
            json!({ "error": why }).to_string(),
        ),
    }
}
