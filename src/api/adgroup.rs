//! Ad groups: `/adgroup/get|create|update|status/update/` and their rules (REFERENCE 6).

pub use crate::catalog::{
    AGE_GROUPS, BID_TYPES, BILLING_EVENTS, GENDERS, OPTIMIZATION_GOALS, PACINGS, PLACEMENT_TYPES,
    PLACEMENTS, PROMOTION_TYPES, SCHEDULE_TYPES,
};
use chrono::NaiveDateTime;
use serde_json::{Map, Value};

use super::entity::Resource;
use super::rules::{Amount, BUDGET_MODES, OPERATION_STATUSES, Problems};

pub static ADGROUP: Resource = Resource {
    noun: "ad group",
    get_path: "/adgroup/get/",
    create_path: "/adgroup/create/",
    update_path: "/adgroup/update/",
    status_path: "/adgroup/status/update/",
    id_field: "adgroup_id",
    name_field: "adgroup_name",
    ids_key: "adgroup_ids",
    partial_success: true,
    idempotent_create: true,
};

/// Fields fixed once an ad group exists.
pub const IMMUTABLE: &[&str] = &[
    "placement_type",
    "promotion_type",
    "billing_event",
    "campaign_id",
    "budget_mode",
];

/// Smallest daily ad group budget (and lifetime budget per scheduled day), in USD.
pub const MIN_DAILY_BUDGET_USD: f64 = 20.0;

pub fn validate_create(body: &Map<String, Value>, currency: Option<&str>) -> Vec<String> {
    let mut p = Problems::default();
    p.id(body, "advertiser_id", "--advertiser", true);
    p.id(body, "campaign_id", "--campaign", true);
    p.name(body, "adgroup_name", "--name");
    let mode = p.required_string(body, "budget_mode", "--budget-mode");
    p.one_of(body, "budget_mode", BUDGET_MODES);
    let schedule_type = p.required_string(body, "schedule_type", "--schedule-end or schedule_type");
    p.one_of(body, "schedule_type", SCHEDULE_TYPES);
    if body.get("schedule_start_time").is_none() {
        p.push("schedule_start_time is required (--schedule-start)");
    }
    let start = p.time(body, "schedule_start_time");
    let end = p.time(body, "schedule_end_time");
    p.required_string(body, "optimization_goal", "--optimization-goal");
    let billing = p.required_string(body, "billing_event", "--billing-event");
    p.one_of(body, "billing_event", BILLING_EVENTS);
    p.required_string(body, "pacing", "--pacing");
    p.one_of(body, "promotion_type", PROMOTION_TYPES);
    p.one_of(body, "placement_type", PLACEMENT_TYPES);
    p.one_of(body, "operation_status", OPERATION_STATUSES);
    check_delivery_enums(&mut p, body);

    if body.get("placement_type").and_then(Value::as_str) == Some("PLACEMENT_TYPE_NORMAL")
        && !non_empty_list(body, "placements")
    {
        p.push("placements are required with placement_type PLACEMENT_TYPE_NORMAL (--placements)");
    }
    if !non_empty_list(body, "location_ids") && !non_empty_list(body, "zipcode_ids") {
        p.push("at least one location is required (--location-ids; `tiktok-ads region list` finds them)");
    }
    if schedule_type == Some("SCHEDULE_START_END")
        && end.is_none()
        && body.get("schedule_end_time").is_none()
    {
        p.push("schedule_end_time is required with SCHEDULE_START_END (--schedule-end)");
    }
    if mode == Some("BUDGET_MODE_TOTAL") && schedule_type != Some("SCHEDULE_START_END") {
        p.push("a lifetime budget (--budget-mode total) needs an end time (--schedule-end)");
    }
    if let (Some(s), Some(e)) = (start, end)
        && e <= s
    {
        p.push("schedule_end_time must be after schedule_start_time");
    }
    let bid_type = body.get("bid_type").and_then(Value::as_str);
    if bid_type == Some("BID_TYPE_CUSTOM") {
        match billing {
            Some("OCPM") if body.get("conversion_bid_price").is_none() => {
                p.push("conversion_bid_price is required with BID_TYPE_CUSTOM and OCPM (--conversion-bid-price)")
            }
            Some("CPC" | "CPM" | "CPV") if body.get("bid_price").is_none() => {
                p.push("bid_price is required with BID_TYPE_CUSTOM (--bid-price)")
            }
            _ => {}
        }
    }
    let budget = p.amount(body, "budget");
    check_budget(&mut p, mode, budget, start, end, currency);
    for field in ["bid_price", "conversion_bid_price"] {
        if let Some(v) = p.number(body, field)
            && v <= 0.0
        {
            p.push(format!("{field} must be positive, not {v}"));
        }
    }
    p.into_vec()
}

pub fn validate_update(
    body: &Map<String, Value>,
    current: Option<&Map<String, Value>>,
    currency: Option<&str>,
) -> Vec<String> {
    let mut p = Problems::default();
    if let Some(current) = current {
        for field in IMMUTABLE {
            if body.contains_key(*field) && body.get(*field) != current.get(*field) {
                p.push(format!("{field} cannot be changed after creation"));
            }
        }
    }
    if body.contains_key("adgroup_name") {
        p.name(body, "adgroup_name", "--name");
    }
    check_delivery_enums(&mut p, body);
    let merged_time = |p: &mut Problems, field: &str| {
        if body.contains_key(field) {
            p.time(body, field)
        } else {
            current
                .and_then(|c| c.get(field))
                .and_then(Value::as_str)
                .and_then(|t| NaiveDateTime::parse_from_str(t, super::rules::TIME_FORMAT).ok())
        }
    };
    let start = merged_time(&mut p, "schedule_start_time");
    let end = merged_time(&mut p, "schedule_end_time");
    if let (Some(s), Some(e)) = (start, end)
        && e <= s
    {
        p.push("schedule_end_time must be after schedule_start_time");
    }
    for field in ["bid_price", "conversion_bid_price"] {
        if let Some(v) = p.number(body, field)
            && v <= 0.0
        {
            p.push(format!("{field} must be positive, not {v}"));
        }
    }
    if let Amount::Given(budget) = p.amount(body, "budget") {
        let mode = current
            .and_then(|c| c.get("budget_mode"))
            .and_then(Value::as_str);
        if mode == Some("BUDGET_MODE_INFINITE") {
            p.push("this ad group has no budget of its own (its campaign optimizes the budget); change the campaign budget instead");
        } else {
            check_budget(&mut p, mode, Amount::Given(budget), start, end, currency);
        }
    }
    p.into_vec()
}

/// Enum fields that create and update both take.
fn check_delivery_enums(p: &mut Problems, body: &Map<String, Value>) {
    p.one_of(body, "pacing", PACINGS);
    p.one_of(body, "bid_type", BID_TYPES);
    p.one_of(body, "gender", GENDERS);
    p.all_of(body, "age_groups", AGE_GROUPS);
    p.all_of(body, "placements", PLACEMENTS);
    p.one_of(body, "optimization_goal", OPTIMIZATION_GOALS);
}

fn check_budget(
    p: &mut Problems,
    mode: Option<&str>,
    budget: Amount,
    start: Option<NaiveDateTime>,
    end: Option<NaiveDateTime>,
    currency: Option<&str>,
) {
    match (mode, budget) {
        (Some("BUDGET_MODE_INFINITE"), _) => {}
        (Some(_), Amount::Missing) => p.push("budget is required (--budget)"),
        (_, Amount::Given(b)) if b <= 0.0 => p.push(format!("budget must be positive, not {b}")),
        (Some("BUDGET_MODE_DAY" | "BUDGET_MODE_DYNAMIC_DAILY_BUDGET"), Amount::Given(b)) => p
            .minimum_budget(
                "the ad group daily budget",
                b,
                MIN_DAILY_BUDGET_USD,
                currency,
            ),
        (Some("BUDGET_MODE_TOTAL"), Amount::Given(b)) => {
            if let (Some(s), Some(e)) = (start, end) {
                let seconds = (e - s).num_seconds().max(1);
                let days = seconds.div_euclid(86_400) + i64::from(seconds % 86_400 != 0);
                #[allow(clippy::cast_precision_loss)]
                let minimum = MIN_DAILY_BUDGET_USD * days as f64;
                p.minimum_budget(
                    &format!("the ad group lifetime budget over {days} day(s)"),
                    b,
                    minimum,
                    currency,
                );
            }
        }
        _ => {}
    }
}

fn non_empty_list(body: &Map<String, Value>, field: &str) -> bool {
    body.get(field)
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn good() -> Map<String, Value> {
        json!({"advertiser_id": "7301234567890123456", "campaign_id": "1812345678909012",
            "adgroup_name": "US clicks", "promotion_type": "WEBSITE",
            "placement_type": "PLACEMENT_TYPE_NORMAL", "placements": ["PLACEMENT_TIKTOK"],
            "location_ids": ["6252001"], "budget_mode": "BUDGET_MODE_DAY", "budget": 20.0,
            "schedule_type": "SCHEDULE_START_END", "schedule_start_time": "2025-02-04 00:00:00",
            "schedule_end_time": "2025-02-28 23:59:59", "optimization_goal": "CLICK",
            "billing_event": "CPC", "bid_type": "BID_TYPE_NO_BID", "pacing": "PACING_MODE_SMOOTH"})
        .as_object()
        .unwrap()
        .clone()
    }

    #[test]
    fn the_reference_example_passes() {
        assert_eq!(validate_create(&good(), Some("USD")), Vec::<String>::new());
    }

    #[test]
    fn lifetime_minimum_scales_with_days() {
        let mut b = good();
        b.insert("budget_mode".into(), json!("BUDGET_MODE_TOTAL"));
        b.insert("budget".into(), json!(100.0));
        let problems = validate_create(&b, Some("USD"));
        assert!(
            problems[0].contains("over 25 day(s)") && problems[0].contains("500 USD"),
            "{problems:?}"
        );
    }

    #[test]
    fn schedule_and_bid_rules() {
        let mut b = good();
        b.insert("schedule_end_time".into(), json!("2025-02-01 00:00:00"));
        b.insert("bid_type".into(), json!("BID_TYPE_CUSTOM"));
        b.remove("placements");
        b.remove("location_ids");
        let problems = validate_create(&b, None);
        assert_eq!(problems.len(), 4, "{problems:?}");
    }
}
