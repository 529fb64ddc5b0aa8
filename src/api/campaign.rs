//! Campaigns: `/campaign/get|create|update|status/update/` and their rules (REFERENCE 5).

pub use crate::catalog::{LEGACY_OBJECTIVES, OBJECTIVES, SPECIAL_INDUSTRIES};
use serde_json::{Map, Value};

use super::entity::Resource;
use super::rules::{Amount, BUDGET_MODES, OPERATION_STATUSES, Problems};

pub static CAMPAIGN: Resource = Resource {
    noun: "campaign",
    get_path: "/campaign/get/",
    create_path: "/campaign/create/",
    update_path: "/campaign/update/",
    status_path: "/campaign/status/update/",
    id_field: "campaign_id",
    name_field: "campaign_name",
    ids_key: "campaign_ids",
    partial_success: false,
    idempotent_create: true,
};

pub use crate::catalog::CAMPAIGN_UPDATABLE as UPDATABLE;

/// Smallest daily or lifetime campaign budget, in USD.
pub const MIN_BUDGET_USD: f64 = 50.0;

pub fn validate_create(body: &Map<String, Value>, currency: Option<&str>) -> Vec<String> {
    let mut p = Problems::default();
    p.id(body, "advertiser_id", "--advertiser", true);
    p.name(body, "campaign_name", "--name");
    let objective = p.required_string(body, "objective_type", "--objective");
    p.one_of(body, "objective_type", OBJECTIVES);
    p.one_of(body, "operation_status", OPERATION_STATUSES);
    p.all_of(body, "special_industries", SPECIAL_INDUSTRIES);
    let mode = p.string(body, "budget_mode");
    p.one_of(body, "budget_mode", BUDGET_MODES);
    let budget = p.amount(body, "budget");
    match (objective, mode) {
        (Some("RF_REACH"), Some(m)) if m != "BUDGET_MODE_INFINITE" => {
            p.push("an RF_REACH campaign takes only --budget-mode infinite")
        }
        (Some("RF_REACH"), _) => {}
        (_, None) => {
            p.push("budget_mode is required (--budget-mode day|total|dynamic-daily|infinite)")
        }
        _ => {}
    }
    check_budget(&mut p, mode, budget, currency);
    if body.get("budget_optimize_on") == Some(&Value::Bool(true))
        && mode == Some("BUDGET_MODE_INFINITE")
    {
        p.push("a campaign with budget optimization (CBO) needs a daily or lifetime budget, not infinite");
    }
    p.into_vec()
}

pub fn validate_update(
    body: &Map<String, Value>,
    current: Option<&Map<String, Value>>,
    currency: Option<&str>,
) -> Vec<String> {
    let mut p = Problems::default();
    for field in body.keys() {
        if !["advertiser_id", "campaign_id"].contains(&field.as_str())
            && !UPDATABLE.contains(&field.as_str())
        {
            p.push(format!(
                "{field} cannot be changed after creation (campaign update takes {})",
                UPDATABLE.join(", ")
            ));
        }
    }
    if body.contains_key("campaign_name") {
        p.name(body, "campaign_name", "--name");
    }
    p.all_of(body, "special_industries", SPECIAL_INDUSTRIES);
    if let Amount::Given(budget) = p.amount(body, "budget") {
        let mode = current
            .and_then(|c| c.get("budget_mode"))
            .and_then(Value::as_str);
        if mode == Some("BUDGET_MODE_INFINITE") {
            p.push("this campaign has no budget limit (BUDGET_MODE_INFINITE); its budget cannot be set");
        } else {
            check_budget(&mut p, mode, Amount::Given(budget), currency);
        }
    }
    p.into_vec()
}

fn check_budget(p: &mut Problems, mode: Option<&str>, budget: Amount, currency: Option<&str>) {
    match (mode, budget) {
        (Some("BUDGET_MODE_INFINITE"), Amount::Given(_)) => {
            p.push("--budget does not go with --budget-mode infinite")
        }
        (Some(m), Amount::Missing) if m != "BUDGET_MODE_INFINITE" && BUDGET_MODES.contains(&m) => {
            p.push("budget is required with this budget mode (--budget)")
        }
        (_, Amount::Given(b)) if b <= 0.0 => p.push(format!("budget must be positive, not {b}")),
        (Some("BUDGET_MODE_DAY" | "BUDGET_MODE_TOTAL"), Amount::Given(b)) => {
            p.minimum_budget("the campaign budget", b, MIN_BUDGET_USD, currency)
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn a_good_campaign_passes() {
        let b = body(
            json!({"advertiser_id": "7301234567890123456", "campaign_name": "x",
            "objective_type": "TRAFFIC", "budget_mode": "BUDGET_MODE_DAY", "budget": 50.0}),
        );
        assert!(validate_create(&b, Some("USD")).is_empty());
    }

    #[test]
    fn every_problem_is_listed() {
        let b = body(
            json!({"advertiser_id": "7301234567890123456", "objective_type": "SALES",
            "budget_mode": "BUDGET_MODE_DAY", "budget": 10}),
        );
        let problems = validate_create(&b, Some("USD"));
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(
            problems
                .iter()
                .any(|p| p.contains("campaign_name is required"))
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("expected one of TRAFFIC"))
        );
        assert!(problems.iter().any(|p| p.contains("minimum of 50 USD")));
    }

    #[test]
    fn budget_mode_rules() {
        let b = body(
            json!({"advertiser_id": "1", "campaign_name": "x", "objective_type": "TRAFFIC",
            "budget_mode": "BUDGET_MODE_INFINITE", "budget": 100}),
        );
        assert!(validate_create(&b, None)[0].contains("does not go with"));
        let b = body(
            json!({"advertiser_id": "1", "campaign_name": "x", "objective_type": "TRAFFIC",
            "budget_mode": "BUDGET_MODE_TOTAL"}),
        );
        assert!(validate_create(&b, None)[0].contains("budget is required"));
    }

    #[test]
    fn only_updatable_fields_may_change() {
        let current = body(json!({"budget_mode": "BUDGET_MODE_DAY"}));
        let b = body(json!({"advertiser_id": "1", "campaign_id": "2", "objective_type": "REACH"}));
        assert!(validate_update(&b, None, None)[0].contains("cannot be changed"));
        let b = body(json!({"advertiser_id": "1", "campaign_id": "2", "budget": 40.0}));
        assert!(validate_update(&b, Some(&current), Some("USD"))[0].contains("minimum"));
        assert!(validate_update(&b, Some(&current), Some("JPY")).is_empty());
    }
}
