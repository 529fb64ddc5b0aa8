//! Ad accounts, Business Center, regions, and `/campaign|adgroup|ad/get|create|update|
//! status/update/`, checked as TikTok checks them: required fields, enums, budgets, parents
//! that exist, `fields` and `filtering` keys of each object, page bounds.

use std::collections::HashMap;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::Uri;
use axum::response::Response;
use chrono::NaiveDateTime;
use serde_json::{Map, Value, json};

use super::answer::{envelope, error, invalid, ok};
use super::auth::check_advertiser;
use super::params::{Checked, Params};
use super::world::{
    APP_ADVERTISERS, BC_ID, Grant, SeedAccount, World, account, ad_defaults, adgroup_defaults,
    new_campaign, overlay,
};
use super::{Mock, body_params};
use crate::catalog;

/// What differs between campaigns, ad groups and ads.
struct Kind {
    name: &'static str,
    id: &'static str,
    ids_key: &'static str,
    noun: &'static str,
    fields: &'static [&'static str],
    filters: &'static [&'static str],
}

const COMMON_FILTERS: &[&str] = &[
    "primary_status",
    "secondary_status",
    "objective_type",
    "buying_types",
    "optimization_goal",
    "creation_filter_start_time",
    "creation_filter_end_time",
    "split_test_enabled",
    "campaign_system_origins",
    "campaign_automation_type",
    "campaign_ids",
];

const KINDS: &[Kind] = &[
    Kind {
        name: "campaign",
        id: "campaign_id",
        ids_key: "campaign_ids",
        noun: "Campaign",
        fields: catalog::CAMPAIGN_FIELDS,
        filters: &[
            "campaign_name",
            "campaign_type",
            "is_smart_performance_campaign",
            "campaign_product_source",
            "sales_destination",
            "creative_campaign_type",
        ],
    },
    Kind {
        name: "adgroup",
        id: "adgroup_id",
        ids_key: "adgroup_ids",
        noun: "Ad group",
        fields: catalog::ADGROUP_FIELDS,
        filters: &[
            "adgroup_ids",
            "adgroup_name",
            "promotion_type",
            "bid_strategy",
            "creative_material_mode",
            "billing_events",
        ],
    },
    Kind {
        name: "ad",
        id: "ad_id",
        ids_key: "ad_ids",
        noun: "Ad",
        fields: catalog::AD_FIELDS,
        filters: &[
            "adgroup_ids",
            "ad_ids",
            "ad_name",
            "creative_material_mode",
            "destination",
            "modified_after",
        ],
    },
];

const PRIMARY_STATUSES: &[&str] = &[
    "STATUS_ALL",
    "STATUS_NOT_DELETE",
    "STATUS_DELETE",
    "STATUS_DELIVERY_OK",
    "STATUS_DISABLE",
    "STATUS_NOT_DELIVERY",
    "STATUS_TIME_DONE",
    "STATUS_RF_CLOSED",
    "STATUS_FROZEN",
    "STATUS_DELIVERY_PARTIAL",
];

const TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";
const MAX_NAME_CHARS: usize = 512;
const MIN_CAMPAIGN_BUDGET: f64 = 50.0;
const MIN_ADGROUP_DAILY_BUDGET: f64 = 20.0;
const FILTER_IDS_MAX: usize = 100;
const STATUS_IDS_MAX: usize = 20;

/// The kind an endpoint path is about (`/campaign/get/` → campaigns).
fn kind_of(path: &str) -> &'static Kind {
    let first = path
        .trim_start_matches("/open_api/v1.3")
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    KINDS.iter().find(|k| k.name == first).unwrap_or(&KINDS[0])
}

fn text<'a>(map: &'a Map<String, Value>, key: &str) -> &'a str {
    map.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn now() -> String {
    chrono::Utc::now().format(TIME_FORMAT).to_string()
}

/// The advertiser of a request: required, and granted to the token.
fn advertiser(params: &Params, grant: &Grant) -> Checked<String> {
    let id = params.required_id("advertiser_id")?;
    check_advertiser(grant, &id)?;
    Ok(id)
}

/// A name: required, at most 512 characters, no emoji.
fn name(params: &Params, key: &str) -> Checked<String> {
    let value = params.required_text(key)?;
    if value.chars().count() > MAX_NAME_CHARS {
        return Err(invalid(key, "Length must be at most 512 characters."));
    }
    if value
        .chars()
        .any(|c| ('\u{1F000}'..='\u{1FAFF}').contains(&c))
    {
        return Err(invalid(key, "Emoji are not allowed."));
    }
    Ok(value)
}

fn time(params: &Params, key: &str) -> Checked<Option<String>> {
    match params.text(key)? {
        Some(t) if NaiveDateTime::parse_from_str(&t, TIME_FORMAT).is_err() => Err(invalid(
            key,
            "Invalid datetime: use YYYY-MM-DD HH:MM:SS (UTC+0).",
        )),
        other => Ok(other),
    }
}

/// Items of `list` within `allowed`.
fn choices(params: &Params, key: &str, allowed: &[&str]) -> Checked<Option<Vec<String>>> {
    let list = params.list(key)?;
    if let Some(bad) = list
        .iter()
        .flatten()
        .find(|v| !allowed.contains(&v.as_str()))
    {
        return Err(invalid(
            key,
            &format!("{bad} is not one of: {}.", allowed.join(", ")),
        ));
    }
    Ok(list)
}

/// An existing (not deleted) object of `kind` in `advertiser`, or 40007.
fn live(world: &World, kind: &Kind, id: &str, advertiser: &str) -> Checked<Map<String, Value>> {
    world
        .find(kind.name, id)
        .filter(|e| text(e, "advertiser_id") == advertiser)
        .filter(|e| text(e, "operation_status") != "DELETE")
        .cloned()
        .ok_or_else(|| error(40007, &format!("{} {id} does not exist.", kind.noun)))
}

fn kind_named(name: &str) -> &'static Kind {
    KINDS.iter().find(|k| k.name == name).unwrap_or(&KINDS[0])
}

pub(super) async fn list(
    State(mock): State<Mock>,
    Extension(grant): Extension<Grant>,
    uri: Uri,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    match list_page(&mock, &grant, kind_of(uri.path()), &Params::Query(q)) {
        Ok(r) | Err(r) => r,
    }
}

fn list_page(mock: &Mock, grant: &Grant, kind: &Kind, params: &Params) -> Checked<Response> {
    let advertiser = advertiser(params, grant)?;
    let fields = params.list("fields")?;
    if let Some(unknown) = fields
        .iter()
        .flatten()
        .find(|f| !kind.fields.contains(&f.as_str()))
    {
        return Err(invalid("fields", &format!("Unknown field: {unknown}.")));
    }
    let drop_nulls = params
        .list("exclude_field_types_in_response")?
        .is_some_and(|types| types.iter().any(|t| t == "NULL_FIELD"));
    let filtering = Params::Body(params.object("filtering")?.unwrap_or_default());
    if let Params::Body(map) = &filtering
        && let Some(unknown) = map
            .keys()
            .find(|k| !COMMON_FILTERS.contains(&k.as_str()) && !kind.filters.contains(&k.as_str()))
    {
        return Err(invalid("filtering", &format!("Unknown field: {unknown}.")));
    }
    let mut id_filters = Vec::new();
    for key in ["campaign_ids", "adgroup_ids", "ad_ids"] {
        if let Some(ids) = filtering.list(key)? {
            if ids.len() > FILTER_IDS_MAX {
                return Err(error(
                    40011,
                    &format!("filtering.{key}: at most {FILTER_IDS_MAX} IDs per request."),
                ));
            }
            id_filters.push((&key[..key.len() - 1], ids));
        }
    }
    let status = filtering
        .choice("primary_status", PRIMARY_STATUSES)?
        .unwrap_or_else(|| "STATUS_NOT_DELETE".into());
    let secondary = filtering.text("secondary_status")?;
    let objective = filtering.choice(
        "objective_type",
        &[catalog::OBJECTIVES, catalog::LEGACY_OBJECTIVES].concat(),
    )?;
    let name_filter = filtering.text(&format!("{}_name", kind.name))?;
    let created_from = time(&filtering, "creation_filter_start_time")?;
    let created_to = time(&filtering, "creation_filter_end_time")?;
    let (page, size) = params.paging(1000)?;

    let world = mock.world();
    let mut items: Vec<&Map<String, Value>> = world
        .all(kind.name)
        .iter()
        .filter(|e| text(e, "advertiser_id") == advertiser)
        .filter(|e| {
            let operation = text(e, "operation_status");
            let deleted = operation == "DELETE";
            match status.as_str() {
                "STATUS_ALL" => true,
                "STATUS_DELETE" => deleted,
                "STATUS_DISABLE" => operation == "DISABLE",
                "STATUS_DELIVERY_OK" => operation == "ENABLE",
                "STATUS_NOT_DELIVERY" => !deleted && operation != "ENABLE",
                "STATUS_NOT_DELETE" => !deleted,
                _ => false,
            }
        })
        .filter(|e| {
            secondary
                .as_deref()
                .is_none_or(|s| s.ends_with("_STATUS_ALL") || text(e, "secondary_status") == s)
        })
        .filter(|e| {
            id_filters
                .iter()
                .all(|(field, ids)| ids.iter().any(|id| id == text(e, field)))
        })
        .filter(|e| {
            name_filter.as_deref().is_none_or(|n| {
                text(e, &format!("{}_name", kind.name))
                    .to_lowercase()
                    .contains(&n.to_lowercase())
            })
        })
        .filter(|e| {
            objective.as_deref().is_none_or(|o| {
                let own = campaign_of(&world, e)
                    .map(|c| text(c, "objective_type").to_string())
                    .unwrap_or_default();
                own == o
                    || matches!(
                        (own.as_str(), o),
                        ("WEB_CONVERSIONS", "CONVERSIONS") | ("CONVERSIONS", "WEB_CONVERSIONS")
                    )
            })
        })
        .filter(|e| {
            let created = text(e, "create_time");
            created_from.as_deref().is_none_or(|f| created >= f)
                && created_to.as_deref().is_none_or(|t| created <= t)
        })
        .collect();
    // Newest first, as TikTok lists them (by ID, descending).
    items.sort_by(|a, b| {
        let id = |e: &Map<String, Value>| text(e, kind.id).parse::<u64>().unwrap_or(0);
        id(b).cmp(&id(a))
    });
    let total = items.len() as u64;
    let list: Vec<Value> = items
        .into_iter()
        .skip(((page - 1) * size) as usize)
        .take(size as usize)
        .map(|e| {
            let mut shown: Map<String, Value> = match &fields {
                Some(fields) if !fields.is_empty() => fields
                    .iter()
                    .filter_map(|f| e.get(f).map(|v| (f.clone(), v.clone())))
                    .collect(),
                _ => e.clone(),
            };
            if drop_nulls {
                shown.retain(|_, v| !v.is_null());
            }
            Value::Object(shown)
        })
        .collect();
    Ok(ok(
        json!({"list": list, "page_info": page_info(page, size, total)}),
    ))
}

fn page_info(page: u64, size: u64, total: u64) -> Value {
    json!({"page": page, "page_size": size, "total_number": total, "total_page": total.div_ceil(size)})
}

fn campaign_of<'a>(
    world: &'a World,
    object: &Map<String, Value>,
) -> Option<&'a Map<String, Value>> {
    world.find("campaign", text(object, "campaign_id"))
}

pub(super) async fn create(
    State(mock): State<Mock>,
    Extension(grant): Extension<Grant>,
    uri: Uri,
    body: Bytes,
) -> Response {
    let kind = kind_of(uri.path());
    let outcome = body_params(&body).and_then(|params| {
        let advertiser = advertiser(&params, &grant)?;
        let key = match params.text("request_id")? {
            Some(k) if k.parse::<i64>().is_err() => {
                return Err(invalid(
                    "request_id",
                    "Must be a 64-bit integer as a string.",
                ));
            }
            other => other,
        };
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
                _ => create_ads(world, &params, &advertiser),
            }?;
            if let Some(key) = key {
                world
                    .idempotency
                    .insert(format!("{}:{key}", kind.name), answer.0.clone());
            }
            Ok(answer.1)
        })
    });
    match outcome {
        Ok(data) => ok(data),
        Err(e) => e,
    }
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
    choices(params, "special_industries", catalog::SPECIAL_INDUSTRIES)?;
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
    let placements = choices(params, "placements", catalog::PLACEMENTS)?;
    if placement_type == "PLACEMENT_TYPE_NORMAL" && placements.as_ref().is_none_or(Vec::is_empty) {
        return Err(invalid(
            "placements",
            "Required when placement_type is PLACEMENT_TYPE_NORMAL.",
        ));
    }
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
    params.choice("gender", catalog::GENDERS)?;
    choices(params, "age_groups", catalog::AGE_GROUPS)?;
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

fn create_ads(world: &mut World, params: &Params, advertiser: &str) -> Checked<Created> {
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

/// Fields `/X/update/` may change, per kind; anything else given with a different value is
/// refused.
fn updatable(kind: &str) -> &'static [&'static str] {
    match kind {
        "campaign" => crate::catalog::CAMPAIGN_UPDATABLE,
        "adgroup" => crate::catalog::ADGROUP_UPDATABLE,
        _ => crate::catalog::AD_UPDATABLE,
    }
}

/// Applies `changes` to `object`: only fields the kind may change; a fixed field may be sent
/// back unchanged (a whole object), not changed.
fn apply_update(
    kind: &Kind,
    object: &mut Map<String, Value>,
    changes: &Map<String, Value>,
) -> Checked<()> {
    let allowed = updatable(kind.name);
    for (key, value) in changes {
        if matches!(
            key.as_str(),
            "advertiser_id" | "patch_update" | "request_id"
        ) || key == kind.id
        {
            continue;
        }
        if allowed.contains(&key.as_str()) {
            if key == "budget" {
                let budget = value
                    .as_f64()
                    .ok_or_else(|| invalid("budget", "Not a valid number."))?;
                let minimum = if kind.name == "campaign" {
                    MIN_CAMPAIGN_BUDGET
                } else {
                    MIN_ADGROUP_DAILY_BUDGET
                };
                if object.get("budget_mode").and_then(Value::as_str) != Some("BUDGET_MODE_INFINITE")
                    && budget < minimum
                {
                    return Err(invalid(
                        "budget",
                        &format!("The budget must be at least {minimum:.2}."),
                    ));
                }
            }
            if key.ends_with("_name") {
                name(&Params::Body(changes.clone()), key)?;
            }
            object.insert(key.clone(), value.clone());
        } else if kind.fields.contains(&key.as_str())
            && object.get(key).is_some_and(|current| current != value)
            && !value.is_null()
        {
            return Err(invalid(key, "This field cannot be changed once created."));
        }
    }
    object.insert("modify_time".into(), json!(now()));
    Ok(())
}

pub(super) async fn update(
    State(mock): State<Mock>,
    Extension(grant): Extension<Grant>,
    uri: Uri,
    body: Bytes,
) -> Response {
    let kind = kind_of(uri.path());
    let outcome = body_params(&body).and_then(|params| {
        let advertiser = advertiser(&params, &grant)?;
        let Params::Body(body) = &params else {
            return Err(invalid("body", "The request body must be a JSON object."));
        };
        let changes: Vec<Map<String, Value>> = if kind.name == "ad" {
            match params.json("creatives") {
                Some(Value::Array(list)) if !list.is_empty() && list.len() <= 20 => list
                    .into_iter()
                    .map(|c| match c {
                        Value::Object(m) => Ok(m),
                        _ => Err(invalid("creatives", "Not a valid list of objects.")),
                    })
                    .collect::<Checked<_>>()?,
                _ => {
                    return Err(invalid(
                        "creatives",
                        "Between 1 and 20 creatives per request.",
                    ));
                }
            }
        } else {
            vec![body.clone()]
        };
        mock.change(|world| {
            let mut updated = Vec::new();
            for change in &changes {
                let id = Params::Body(change.clone()).required_id(kind.id)?;
                let mut object = live(world, kind, &id, &advertiser)?;
                apply_update(kind, &mut object, change)?;
                if let Some(slot) = world
                    .entities
                    .get_mut(kind.name)
                    .and_then(|all| all.iter_mut().find(|e| text(e, kind.id) == id))
                {
                    *slot = object.clone();
                }
                updated.push(object);
            }
            Ok(updated)
        })
    });
    match outcome {
        Ok(updated) if kind.name == "ad" => ok(json!({
            "ad_ids": updated.iter().map(|c| c["ad_id"].clone()).collect::<Vec<_>>(),
            "creatives": updated
        })),
        Ok(updated) => ok(updated
            .into_iter()
            .next()
            .map(Value::Object)
            .unwrap_or_default()),
        Err(e) => e,
    }
}

pub(super) async fn set_status(
    State(mock): State<Mock>,
    Extension(grant): Extension<Grant>,
    uri: Uri,
    body: Bytes,
) -> Response {
    let kind = kind_of(uri.path());
    let outcome = body_params(&body).and_then(|params| {
        let advertiser = advertiser(&params, &grant)?;
        let ids = params.list(kind.ids_key)?.unwrap_or_default();
        if ids.is_empty() || ids.len() > STATUS_IDS_MAX {
            return Err(invalid(kind.ids_key, "Between 1 and 20 IDs per request."));
        }
        let operation =
            params.required_choice("operation_status", &["ENABLE", "DISABLE", "DELETE"])?;
        let partial = params.boolean("allow_partial_success")?.unwrap_or(false);
        mock.change(|world| {
            let (mut changed, mut errors) = (Vec::new(), Vec::new());
            for id in &ids {
                match world
                    .find(kind.name, id)
                    .filter(|e| text(e, "advertiser_id") == advertiser)
                {
                    Some(e) if text(e, "operation_status") != "DELETE" => changed.push(id.clone()),
                    Some(_) => errors.push(json!({kind.id: id, "error_message": format!(
                        "The {} has been deleted and its status cannot be changed.", kind.noun.to_lowercase())})),
                    None => errors.push(json!({kind.id: id, "error_message": format!(
                        "{} {id} does not exist.", kind.noun)})),
                }
            }
            // Without partial success one bad ID changes nothing.
            if !errors.is_empty() && !partial {
                let message = errors[0]["error_message"].as_str().unwrap_or("failed").to_string();
                return Err(error(40002, &message));
            }
            let stamp = now();
            for id in &changed {
                world.set_status(kind.name, id, &operation, &stamp);
            }
            Ok((changed, errors))
        })
    });
    let (changed, errors) = match outcome {
        Ok(parts) => parts,
        Err(e) => return e,
    };
    let operation = match body_params(&body).and_then(|p| p.required_text("operation_status")) {
        Ok(o) => o,
        Err(e) => return e,
    };
    let mut data = json!({kind.ids_key: changed, "status": operation});
    match kind.name {
        "campaign" => {
            data["campaign_list"] = json!(changed
                .iter()
                .map(|id| json!({"campaign_id": id, "status": operation, "postback_window_mode": null}))
                .collect::<Vec<_>>());
        }
        "ad" => data["aco_ad_ids"] = json!([]),
        _ => {}
    }
    if errors.is_empty() {
        ok(data)
    } else {
        data["error_list"] = json!(errors);
        envelope(20001, "Partial success", data)
    }
}

pub(super) async fn advertiser_info(
    Extension(grant): Extension<Grant>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let params = Params::Query(q);
    let outcome = (|| {
        let ids = params
            .list("advertiser_ids")?
            .ok_or_else(|| invalid("advertiser_ids", "Missing data for required field."))?;
        if ids.is_empty() || ids.len() > 100 {
            return Err(invalid(
                "advertiser_ids",
                "Between 1 and 100 IDs per request.",
            ));
        }
        let fields = params.list("fields")?;
        if let Some(unknown) = fields
            .iter()
            .flatten()
            .find(|f| !catalog::ADVERTISER_INFO_FIELDS.contains(&f.as_str()))
        {
            return Err(invalid("fields", &format!("Unknown field: {unknown}.")));
        }
        let mut list = Vec::new();
        for id in &ids {
            check_advertiser(&grant, id)?;
            let Some(a) = account(id) else {
                return Err(error(40300, &format!("Advertiser {id} does not exist.")));
            };
            let full = advertiser_object(a);
            list.push(match &fields {
                Some(fields) if !fields.is_empty() => {
                    let mut chosen: Map<String, Value> = fields
                        .iter()
                        .filter_map(|f| full.get(f).map(|v| (f.clone(), v.clone())))
                        .collect();
                    chosen.insert("advertiser_id".into(), json!(a.id));
                    Value::Object(chosen)
                }
                _ => Value::Object(full),
            });
        }
        Ok(json!({ "list": list }))
    })();
    match outcome {
        Ok(data) => ok(data),
        Err(e) => e,
    }
}

fn advertiser_object(a: &SeedAccount) -> Map<String, Value> {
    match json!({
        "advertiser_id": a.id, "name": a.name, "status": "STATUS_ENABLE", "role": "ROLE_ADVERTISER",
        "currency": a.currency, "timezone": a.timezone, "display_timezone": a.timezone,
        "balance": 1000.0, "create_time": 1_672_531_200, "company": a.company, "country": a.country,
        "industry": "291905", "address": "1 Demo Street", "language": "en", "description": "",
        "rejection_reason": "", "contacter": "D***o", "email": "d***@example.invalid",
        "cellphone_number": "+1***0000", "telephone_number": "", "license_no": "",
        "license_url": "", "advertiser_account_type": "AUCTION", "owner_bc_id": BC_ID,
    }) {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

pub(super) async fn bc_get(Query(q): Query<HashMap<String, String>>) -> Response {
    let params = Params::Query(q);
    let outcome = (|| {
        let (page, size) = params.paging(50)?;
        let wanted = params.id("bc_id")?;
        params.choice("scene", &["SINGLE_ACCOUNT", "TIERED_ACCOUNT"])?;
        let bc = json!({"bc_info": {"bc_id": BC_ID, "name": "Demo Agency BC", "company": "Demo Agency",
            "currency": "USD", "registered_area": "US", "status": "ENABLE", "timezone": "Etc/GMT",
            "type": "AGENCY", "verification_status": "VERIFIED"},
            "user_role": "ADMIN", "ext_user_role": {"finance_role": "MANAGER"}});
        let all = if wanted.as_deref().is_none_or(|w| w == BC_ID) {
            vec![bc]
        } else {
            Vec::new()
        };
        Ok(paged(all, page, size))
    })();
    outcome.unwrap_or_else(|e| e)
}

fn paged(items: Vec<Value>, page: u64, size: u64) -> Response {
    let total = items.len() as u64;
    let list: Vec<Value> = items
        .into_iter()
        .skip(((page - 1) * size) as usize)
        .take(size as usize)
        .collect();
    ok(json!({"list": list, "page_info": page_info(page, size, total)}))
}

pub(super) async fn bc_assets(Query(q): Query<HashMap<String, String>>) -> Response {
    let params = Params::Query(q);
    let outcome = (|| {
        let bc = params.required_id("bc_id")?;
        let asset_type = params.required_choice(
            "asset_type",
            &[
                "ADVERTISER",
                "CATALOG",
                "TIKTOK_SHOP",
                "PIXEL",
                "LEAD",
                "TT_ACCOUNT",
                "MANAGED_BUSINESS_ACCOUNT",
            ],
        )?;
        let (page, size) = params.paging(50)?;
        if let Some(filtering) = params.object("filtering")?
            && let Some(unknown) = filtering
                .keys()
                .find(|k| !["keyword", "user_id", "user_email"].contains(&k.as_str()))
        {
            return Err(invalid("filtering", &format!("Unknown field: {unknown}.")));
        }
        if bc != BC_ID {
            return Err(error(
                40001,
                &format!("No permission to operate Business Center {bc}."),
            ));
        }
        let items = if asset_type == "ADVERTISER" {
            APP_ADVERTISERS
                .iter()
                .map(|a| json!({"asset_id": a.id, "asset_name": a.name, "asset_type": "ADVERTISER",
                    "advertiser_status": "STATUS_ENABLE", "advertiser_account_type": "AUCTION",
                    "advertiser_role": "ADMIN", "relation_type": "OWNER_BC", "relation_status": "BOUND"}))
                .collect()
        } else {
            Vec::new()
        };
        Ok(paged(items, page, size))
    })();
    outcome.unwrap_or_else(|e| e)
}

pub(super) async fn regions(
    Extension(grant): Extension<Grant>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let params = Params::Query(q);
    let outcome = (|| {
        advertiser(&params, &grant)?;
        let placements = choices(&params, "placements", catalog::PLACEMENTS)?;
        if placements.is_none_or(|p| p.is_empty()) {
            return Err(invalid("placements", "Missing data for required field."));
        }
        params.choice(
            "objective_type",
            &[catalog::OBJECTIVES, catalog::LEGACY_OBJECTIVES].concat(),
        )?;
        params.choice(
            "level_range",
            &["ALL", "TO_COUNTRY", "TO_PROVINCE", "TO_CITY", "TO_DISTRICT"],
        )?;
        Ok(ok(json!({"region_list": ["US", "DE"], "region_info": [
            {"location_id": "6252001", "name": "United States", "parent_id": "0", "region_code": "US",
             "country_code": "US", "next_level_ids": ["5332921"], "area_type": "ADMIN", "level": "COUNTRY",
             "support_below_18": true},
            {"location_id": "5332921", "name": "California", "parent_id": "6252001", "region_code": "US-CA",
             "country_code": "US", "next_level_ids": [], "area_type": "ADMIN", "level": "PROVINCE",
             "support_below_18": true},
            {"location_id": "2921044", "name": "Germany", "parent_id": "0", "region_code": "DE",
             "country_code": "DE", "next_level_ids": [], "area_type": "ADMIN", "level": "COUNTRY",
             "support_below_18": false}]})))
    })();
    outcome.unwrap_or_else(|e| e)
}
