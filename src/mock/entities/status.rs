//! `/campaign|adgroup|ad/status/update/`: on, off and delete, at most 20 IDs, with partial
//! success where TikTok allows it.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use serde_json::{Value, json};

use super::{Kind, STATUS_IDS_MAX, now, text, write_request};
use crate::mock::Mock;
use crate::mock::answer::{envelope, error, invalid, ok};
use crate::mock::world::Grant;

pub(in crate::mock) async fn set_status(
    State(mock): State<Mock>,
    Extension(grant): Extension<Grant>,
    uri: Uri,
    body: Bytes,
) -> Response {
    write_request(&grant, &uri, &body, |kind, params, advertiser| {
        let ids = params.list(kind.ids_key)?.unwrap_or_default();
        if ids.is_empty() || ids.len() > STATUS_IDS_MAX {
            return Err(invalid(kind.ids_key, "Between 1 and 20 IDs per request."));
        }
        let operation =
            params.required_choice("operation_status", &["ENABLE", "DISABLE", "DELETE"])?;
        let partial = params.boolean("allow_partial_success")?.unwrap_or(false);
        let (changed, errors) = mock.change(|world| {
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
            // Ad groups switched on beyond the account's active ad group quota are refused.
            if kind.name == "adgroup" && operation == "ENABLE" {
                let (total, mut used) = world.adgroup_quota(&advertiser);
                changed.retain(|id| {
                    let already = world
                        .find("adgroup", id)
                        .is_some_and(|g| text(g, "operation_status") == "ENABLE");
                    if already || used < total {
                        used += u64::from(!already);
                        true
                    } else {
                        errors.push(json!({kind.id: id, "error_message":
                            "The ad account has reached its quota of active ad groups."}));
                        false
                    }
                });
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
        })?;
        Ok(answer(kind, &operation, changed, errors))
    })
}

/// The answer: the IDs changed (with each campaign's new status) and, with partial success,
/// the ones that were not.
fn answer(kind: &Kind, operation: &str, changed: Vec<String>, errors: Vec<Value>) -> Response {
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
