//! `/campaign|adgroup|ad/update/`: only the fields each kind may change; a fixed field may be
//! sent back unchanged (a whole object), not changed.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::{
    Kind, MIN_ADGROUP_DAILY_BUDGET, MIN_CAMPAIGN_BUDGET, live, name, now, text, write_request,
};
use crate::catalog;
use crate::mock::Mock;
use crate::mock::answer::{invalid, ok};
use crate::mock::params::{Checked, Params};
use crate::mock::world::Grant;

/// Fields `/X/update/` may change, per kind; anything else given with a different value is
/// refused.
fn updatable(kind: &str) -> &'static [&'static str] {
    match kind {
        "campaign" => catalog::CAMPAIGN_UPDATABLE,
        "adgroup" => catalog::ADGROUP_UPDATABLE,
        _ => catalog::AD_UPDATABLE,
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

pub(in crate::mock) async fn update(
    State(mock): State<Mock>,
    Extension(grant): Extension<Grant>,
    uri: Uri,
    body: Bytes,
) -> Response {
    write_request(&grant, &uri, &body, |kind, params, advertiser| {
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
        let updated = mock.change(|world| {
            let mut updated = Vec::new();
            for change in &changes {
                let id = Params::Body(change.clone()).required_id(kind.id)?;
                let mut object = live(world, kind, &id, &advertiser)?;
                let new_budget = change.get("budget").and_then(Value::as_f64);
                if let Some(budget) = new_budget.filter(|_| kind.name != "ad")
                    && object.get("budget").and_then(Value::as_f64) != Some(budget)
                {
                    super::budget::check_new_budget(world, kind.name, &object, budget, "budget")?;
                }
                apply_update(kind, &mut object, change)?;
                if let Some(slot) = world
                    .entities
                    .get_mut(kind.name)
                    .and_then(|all| all.iter_mut().find(|e| text(e, kind.id) == id))
                {
                    *slot = object.clone();
                }
                if kind.name == "adgroup" && change.contains_key("budget") {
                    world.set_out_of_budget(&id, false);
                }
                updated.push(object);
            }
            Ok(updated)
        })?;
        Ok(ok(if kind.name == "ad" {
            json!({
                "ad_ids": updated.iter().map(|c| c["ad_id"].clone()).collect::<Vec<_>>(),
                "creatives": updated
            })
        } else {
            updated
                .into_iter()
                .next()
                .map(Value::Object)
                .unwrap_or_default()
        }))
    })
}
