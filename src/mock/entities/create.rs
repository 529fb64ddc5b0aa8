//! `/campaign|adgroup|ad/create/`: required fields, enums, budgets and parents that exist, an
//! idempotency key for campaigns, and the new objects with their statuses and times.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::{
    Kind, MAX_NAME_CHARS, MIN_ADGROUP_DAILY_BUDGET, MIN_CAMPAIGN_BUDGET, kind_named, live, name,
    now, text, time, write_request,
};
use crate::catalog;
use crate::mock::Mock;
use crate::mock::answer::{error, invalid, ok};
use crate::mock::params::{Checked, Params};
use crate::mock::world::{
    Grant, SeedAccount, World, account, ad_defaults, adgroup_defaults, new_campaign, overlay,
};

pub(in crate::mock) async fn create(
    State(mock): State<Mock>,
    Extension(grant): Extension<Grant>,
    uri: Uri,
    body: Bytes,
) -> Response {
    write_request(&grant, &uri, &body, |kind, params, advertiser| {
        let key = match params.text("request_id")? {
            Some(k) if k.parse::<i64>().is_err() => {
                return Err(invalid(
                    "request_id",
                    "Must be a 64-bit integer as a string.",
                ));
            }
            other => other,
        };
        let review_ms = mock
            .gate
            .faults()
            .ad_review_ms
            .unwrap_or(crate::mock::review::AD_REVIEW_MS);
        mock.change(|world| {
            if let Some(key) = &key
                && let Some(existing) = world.idempotency.get(&format!("{}:{key}", kind.name))
            {
                return Err(error(
                    40050,
                    &format!(
                        "Duplicated request: request_id {key} already created {} {existing}.",
                        kind.name
                    ),
                ));
            }
            let answer = match kind.name {
                "campaign" => create_campaign(world, &params, &advertiser),
                "adgroup" => create_adgroup(world, &params, &advertiser),
                _ => create_ads(world, &params, &advertiser, review_ms),
            }?;
            if let Some(key) = key {
                world
                    .idempotency
                    .insert(format!("{}:{key}", kind.name), answer.0.clone());
            }
            Ok(answer.1)
        })
        .map(ok)
    })
}

/// Fields of a create body kept on the object (what the object has a field for).
fn known_fields(params: &Params, kind: &Kind) -> Map<String, Value> {
    let Params::Body(body) = params else {
        return Map::new();
    };
    body.iter()
        .filter(|(k, v)| kind.fields.contains(&k.as_str()) && !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn currency_of(advertiser: &str) -> &'static str {
    account(advertiser).map_or("USD", |a: &SeedAccount| a.currency)
}

fn check_budget(params: &Params, mode: &str, minimum: f64, advertiser: &str) -> Checked<()> {
    let budget = params.number("budget")?;
    if mode == "BUDGET_MODE_INFINITE" {
        return Ok(());
    }
    match budget {
        None => Err(invalid(
            "budget",
            &format!("Required when budget_mode is {mode}."),
        )),
        Some(b) if b < minimum => Err(invalid(
            "budget",
            &format!(
                "The budget must be at least {minimum:.2} {}.",
                currency_of(advertiser)
            ),
        )),
        Some(_) => Ok(()),
    }
}

/// (the new ID, the answer's `data`)
type Created = (String, Value);

fn create_campaign(world: &mut World, params: &Params, advertiser: &str) -> Checked<Created> {
    name(params, "campaign_name")?;
    let objective = params.required_choice("objective_type", catalog::OBJECTIVES)?;
    let mode = if objective == "RF_REACH" {
        params
            .choice("budget_mode", &["BUDGET_MODE_INFINITE"])?
            .unwrap_or_else(|| "BUDGET_MODE_INFINITE".into())
    } else {
        params.required_choice("budget_mode", catalog::BUDGET_MODES)?
    };
    check_budget(params, &mode, MIN_CAMPAIGN_BUDGET, advertiser)?;
    let cbo = params.boolean("budget_optimize_on")?.unwrap_or(false);
    if cbo && mode == "BUDGET_MODE_INFINITE" {
        return Err(invalid(
            "budget_mode",
            "A campaign with budget optimization needs a daily or lifetime budget.",
        ));
    }
    let status = params
        .choice("operation_status", catalog::OPERATION_STATUSES)?
        .unwrap_or_else(|| "ENABLE".into());
    params.choices("special_industries", catalog::SPECIAL_INDUSTRIES)?;
    let id = world.new_id();
    let mut fields = known_fields(params, kind_named("campaign"));
    fields.insert("budget_mode".into(), json!(mode));
    fields.insert("budget_optimize_on".into(), json!(cbo));
    fields.insert("operation_status".into(), json!(status));
    fields.insert(
        "secondary_status".into(),
        json!(format!("CAMPAIGN_STATUS_{status}")),
    );
    if let Some(b) = params.number("budget")? {
        fields.insert("budget".into(), json!(b));
    }
    let object = new_campaign(&id, advertiser, &fields, &now());
    world.push("campaign", object.clone());
    Ok((id, Value::Object(object)))
}

fn create_adgroup(world: &mut World, params: &Params, advertiser: &str) -> Checked<Created> {
    let campaign_id = params.required_id("campaign_id")?;
    let campaign = live(world, kind_named("campaign"), &campaign_id, advertiser)?;
    let adgroup_name = name(params, "adgroup_name")?;
    let objective = text(&campaign, "objective_type");
    let (promotion, placement_type, placements) = check_placement(params, objective)?;
    let locations = params.list("location_ids")?.unwrap_or_default();
    let zipcodes = params.list("zipcode_ids")?.unwrap_or_default();
    if locations.is_empty() && zipcodes.is_empty() {
        return Err(invalid(
            "location_ids",
            "At least one of location_ids and zipcode_ids is required.",
        ));
    }
    let cbo = campaign.get("budget_optimize_on") == Some(&Value::Bool(true));
    let mode = params.required_choice(
        "budget_mode",
        &[
            "BUDGET_MODE_DAY",
            "BUDGET_MODE_TOTAL",
            "BUDGET_MODE_DYNAMIC_DAILY_BUDGET",
            "BUDGET_MODE_INFINITE",
        ],
    )?;
    if !cbo {
        check_budget(params, &mode, MIN_ADGROUP_DAILY_BUDGET, advertiser)?;
    }
    check_schedule(params, &mode)?;
    let bid_type = check_bidding(params)?;
    params.choice("gender", catalog::GENDERS)?;
    params.choices("age_groups", catalog::AGE_GROUPS)?;
    let status = params
        .choice("operation_status", catalog::OPERATION_STATUSES)?
        .unwrap_or_else(|| "ENABLE".into());
    let id = world.new_id();
    let mut object = adgroup_defaults(&campaign, &id, &adgroup_name);
    overlay(&mut object, &known_fields(params, kind_named("adgroup")));
    object.insert("placement_type".into(), json!(placement_type));
    if let Some(p) = placements {
        object.insert("placements".into(), json!(p));
    }
    object.insert("promotion_type".into(), json!(promotion));
    object.insert("bid_type".into(), json!(bid_type));
    object.insert("operation_status".into(), json!(status));
    object.insert(
        "secondary_status".into(),
        json!(if status == "ENABLE" {
            "ADGROUP_STATUS_NOT_START"
        } else {
            "ADGROUP_STATUS_DISABLE"
        }),
    );
    if cbo {
        object.insert("budget_mode".into(), json!("BUDGET_MODE_INFINITE"));
        object.insert("budget".into(), json!(0.0));
    }
    let stamp = now();
    object.insert("create_time".into(), json!(stamp));
    object.insert("modify_time".into(), json!(stamp));
    world.push("adgroup", object.clone());
    Ok((id, Value::Object(object)))
}

/// Promotion type (required unless the objective is reach, video views or engagement),
/// placement type and placements (required for the normal placement type).
fn check_placement(
    params: &Params,
    objective: &str,
) -> Checked<(Option<String>, String, Option<Vec<String>>)> {
    let promotion = params.choice("promotion_type", catalog::PROMOTION_TYPES)?;
    if promotion.is_none() && !matches!(objective, "REACH" | "VIDEO_VIEWS" | "ENGAGEMENT") {
        return Err(invalid(
            "promotion_type",
            &format!("Required for a campaign with objective {objective}."),
        ));
    }
    let placement_type = params
        .choice("placement_type", catalog::PLACEMENT_TYPES)?
        .unwrap_or_else(|| "PLACEMENT_TYPE_NORMAL".into());
    let placements = params.choices("placements", catalog::PLACEMENTS)?;
    if placement_type == "PLACEMENT_TYPE_NORMAL" && placements.as_ref().is_none_or(Vec::is_empty) {
        return Err(invalid(
            "placements",
            "Required when placement_type is PLACEMENT_TYPE_NORMAL.",
        ));
    }
    Ok((promotion, placement_type, placements))
}

/// The schedule type, a start, and an end after it where the schedule (or a lifetime budget)
/// needs one.
fn check_schedule(params: &Params, mode: &str) -> Checked<()> {
    let schedule = params.required_choice("schedule_type", catalog::SCHEDULE_TYPES)?;
    if mode == "BUDGET_MODE_TOTAL" && schedule != "SCHEDULE_START_END" {
        return Err(invalid(
            "schedule_type",
            "A lifetime budget needs SCHEDULE_START_END.",
        ));
    }
    let start = time(params, "schedule_start_time")?
        .ok_or_else(|| invalid("schedule_start_time", "Missing data for required field."))?;
    let end = time(params, "schedule_end_time")?;
    if schedule == "SCHEDULE_START_END" {
        match &end {
            None => {
                return Err(invalid(
                    "schedule_end_time",
                    "Required when schedule_type is SCHEDULE_START_END.",
                ));
            }
            Some(end) if *end <= start => {
                return Err(invalid(
                    "schedule_end_time",
                    "Must be later than schedule_start_time.",
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Optimization goal, billing event, pacing, and a positive bid for a custom bid type; the
/// bid type.
fn check_bidding(params: &Params) -> Checked<String> {
    params.required_choice("optimization_goal", catalog::OPTIMIZATION_GOALS)?;
    let billing = params.required_choice("billing_event", catalog::BILLING_EVENTS)?;
    params.required_choice("pacing", catalog::PACINGS)?;
    let bid_type = params
        .choice("bid_type", catalog::BID_TYPES)?
        .unwrap_or_else(|| "BID_TYPE_NO_BID".into());
    if bid_type == "BID_TYPE_CUSTOM" {
        let (key, needed) = if billing == "OCPM" {
            (
                "conversion_bid_price",
                params.number("conversion_bid_price")?,
            )
        } else {
            ("bid_price", params.number("bid_price")?)
        };
        if needed.is_none_or(|b| b <= 0.0) {
            return Err(invalid(key, "Required for BID_TYPE_CUSTOM."));
        }
    }
    Ok(bid_type)
}

/// The checked fields of one creative.
fn creative(value: &Value, index: usize) -> Checked<Map<String, Value>> {
    let Value::Object(map) = value else {
        return Err(invalid(
            &format!("creatives[{index}]"),
            "Not a valid JSON object.",
        ));
    };
    let c = Params::Body(map.clone());
    let field = |f: &str| format!("creatives[{index}].{f}");
    let rename = |e: Response| e;
    let format = c
        .required_choice("ad_format", catalog::AD_FORMATS)
        .map_err(|_| {
            invalid(
                &field("ad_format"),
                &format!("Must be one of: {}.", catalog::AD_FORMATS.join(", ")),
            )
        })?;
    if let Some(name) = c.text("ad_name").map_err(rename)?
        && name.chars().count() > MAX_NAME_CHARS
    {
        return Err(invalid(
            &field("ad_name"),
            "Length must be at most 512 characters.",
        ));
    }
    c.required_choice("identity_type", catalog::IDENTITY_TYPES)
        .map_err(|_| {
            invalid(
                &field("identity_type"),
                "Missing or not a valid identity type.",
            )
        })?;
    c.required_text("identity_id")
        .map_err(|_| invalid(&field("identity_id"), "Missing data for required field."))?;
    match format.as_str() {
        "SINGLE_VIDEO" if c.text("video_id").ok().flatten().is_none() => {
            return Err(invalid(
                &field("video_id"),
                "Required for SINGLE_VIDEO ads.",
            ));
        }
        "SINGLE_IMAGE" | "CAROUSEL_ADS"
            if c.list("image_ids")
                .ok()
                .flatten()
                .is_none_or(|l| l.is_empty()) =>
        {
            return Err(invalid(&field("image_ids"), "Required for image ads."));
        }
        _ => {}
    }
    match c.text("ad_text").ok().flatten() {
        Some(t) if !t.trim().is_empty() && t.chars().count() <= 100 => {}
        Some(_) => {
            return Err(invalid(
                &field("ad_text"),
                "Length must be 1 to 100 characters.",
            ));
        }
        None if c.text("tiktok_item_id").ok().flatten().is_none() => {
            return Err(invalid(
                &field("ad_text"),
                "Missing data for required field.",
            ));
        }
        None => {}
    }
    c.choice("operation_status", catalog::OPERATION_STATUSES)
        .map_err(|_| invalid(&field("operation_status"), "Must be ENABLE or DISABLE."))?;
    Ok(map.clone())
}

/// New ads go into review for `review_ms`.
fn create_ads(
    world: &mut World,
    params: &Params,
    advertiser: &str,
    review_ms: u64,
) -> Checked<Created> {
    let adgroup_id = params.required_id("adgroup_id")?;
    let adgroup = live(world, kind_named("adgroup"), &adgroup_id, advertiser)?;
    let creatives = match params.json("creatives") {
        Some(Value::Array(list)) if !list.is_empty() && list.len() <= 20 => list,
        Some(Value::Array(_)) => {
            return Err(invalid(
                "creatives",
                "Between 1 and 20 creatives per request.",
            ));
        }
        _ => return Err(invalid("creatives", "Missing data for required field.")),
    };
    let checked: Vec<Map<String, Value>> = creatives
        .iter()
        .enumerate()
        .map(|(i, c)| creative(c, i))
        .collect::<Checked<_>>()?;
    let mut created = Vec::new();
    for fields in checked {
        let id = world.new_id();
        let mut object = ad_defaults(&adgroup, &id);
        let known: Map<String, Value> = fields
            .into_iter()
            .filter(|(k, v)| catalog::AD_FIELDS.contains(&k.as_str()) && !v.is_null())
            .collect();
        overlay(&mut object, &known);
        if text(&object, "ad_name").is_empty() {
            object.insert("ad_name".into(), json!(format!("Ad {id}")));
        }
        let status = text(&object, "operation_status").to_string();
        object.insert(
            "secondary_status".into(),
            json!(if status == "DISABLE" {
                "AD_STATUS_DISABLE"
            } else {
                "AD_STATUS_AUDIT"
            }),
        );
        let stamp = now();
        object.insert("create_time".into(), json!(stamp));
        object.insert("modify_time".into(), json!(stamp));
        world.push("ad", object.clone());
        world.submit_for_review(&id, review_ms);
        created.push(object);
    }
    let ids: Vec<Value> = created.iter().map(|c| c["ad_id"].clone()).collect();
    let first = ids
        .first()
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    Ok((
        first,
        json!({"ad_ids": ids, "need_audit": true, "creatives": created}),
    ))
}
