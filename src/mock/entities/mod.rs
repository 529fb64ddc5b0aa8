//! Campaigns, ad groups and ads: `/campaign|adgroup|ad/get|create|update|status/update/`,
//! checked as TikTok checks them. What the three kinds share is here; one file per endpoint.

mod budget;
mod create;
mod list;
mod status;
mod update;

pub(in crate::mock) use budget::{quota as adgroup_quota, update as budget_update};
pub(in crate::mock) use create::create;
pub(in crate::mock) use list::list;
pub(in crate::mock) use status::set_status;
pub(in crate::mock) use update::update;

use axum::body::Bytes;
use axum::http::Uri;
use axum::response::Response;
use chrono::NaiveDateTime;
use serde_json::{Map, Value};

use super::answer::{error, invalid};
use super::auth::advertiser;
use super::body_params;
use super::params::{Checked, Params};
use super::world::{Grant, World};
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

/// What a write to campaigns, ad groups or ads starts with: the kind its path names, the
/// parameters of its body and the advertiser they are for (granted to the token); the answer
/// is what `then` makes of them.
fn write_request(
    grant: &Grant,
    uri: &Uri,
    body: &Bytes,
    then: impl FnOnce(&'static Kind, Params, String) -> Checked<Response>,
) -> Response {
    let kind = kind_of(uri.path());
    let outcome = body_params(body).and_then(|params| {
        let advertiser = advertiser(&params, grant)?;
        then(kind, params, advertiser)
    });
    outcome.unwrap_or_else(|e| e)
}

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

fn campaign_of<'a>(
    world: &'a World,
    object: &Map<String, Value>,
) -> Option<&'a Map<String, Value>> {
    world.find("campaign", text(object, "campaign_id"))
}
