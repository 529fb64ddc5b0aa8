//! `/campaign|adgroup|ad/get|create|update|status/update/` over the in-memory data.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::state::{account, paged};
use super::{Mock, body_json, error, json_param, ok};

struct Kind {
    name: &'static str,
    id: &'static str,
    name_field: &'static str,
    ids_key: &'static str,
    status_prefix: &'static str,
}

const KINDS: &[Kind] = &[
    Kind {
        name: "campaign",
        id: "campaign_id",
        name_field: "campaign_name",
        ids_key: "campaign_ids",
        status_prefix: "CAMPAIGN_STATUS_",
    },
    Kind {
        name: "adgroup",
        id: "adgroup_id",
        name_field: "adgroup_name",
        ids_key: "adgroup_ids",
        status_prefix: "ADGROUP_STATUS_",
    },
    Kind {
        name: "ad",
        id: "ad_id",
        name_field: "ad_name",
        ids_key: "ad_ids",
        status_prefix: "AD_STATUS_",
    },
];

fn kind(name: &str) -> Result<&'static Kind, Response> {
    KINDS
        .iter()
        .find(|k| k.name == name)
        .ok_or_else(|| (StatusCode::NOT_FOUND, "404 page not found").into_response())
}

fn known_advertiser(id: Option<&str>) -> Result<String, Response> {
    match id {
        Some(id) if account(id).is_some() => Ok(id.to_string()),
        Some(id) => Err(error(
            40001,
            &format!("No permission to operate advertiser {id}."),
        )),
        None => Err(error(40002, "advertiser_id is required.")),
    }
}

/// What every write handler starts with: the entity kind, the JSON body, a known advertiser.
fn write_prologue(
    kind_name: &str,
    body: &Bytes,
) -> Result<(&'static Kind, Map<String, Value>, String), Response> {
    let kind = kind(kind_name)?;
    let body = body_json(body)?;
    let advertiser = known_advertiser(body.get("advertiser_id").and_then(Value::as_str))?;
    Ok((kind, body, advertiser))
}

fn text<'a>(map: &'a Map<String, Value>, key: &str) -> &'a str {
    map.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn ids_of(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .or_else(|| v.as_u64().map(|n| n.to_string()))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string()
}

pub async fn list(
    State(mock): State<Mock>,
    Path(kind_name): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let kind = match kind(&kind_name) {
        Ok(k) => k,
        Err(e) => return e,
    };
    let advertiser = match known_advertiser(q.get("advertiser_id").map(String::as_str)) {
        Ok(a) => a,
        Err(e) => return e,
    };
    let filtering = match json_param(&q, "filtering") {
        Some(Value::Object(f)) => f,
        Some(_) => return error(40002, "filtering must be a JSON object."),
        None => Map::new(),
    };
    for key in ["campaign_ids", "adgroup_ids", "ad_ids"] {
        if ids_of(filtering.get(key)).len() > 100 {
            return error(40011, &format!("{key}: at most 100 IDs."));
        }
    }
    let fields: Option<Vec<String>> = json_param(&q, "fields").map(|f| ids_of(Some(&f)));
    let status = text(&filtering, "primary_status").to_string();
    let items: Vec<Value> = mock
        .state()
        .entities
        .get(kind.name)
        .map(|all| {
            all.iter()
                .filter(|e| text(e, "advertiser_id") == advertiser)
                .filter(|e| {
                    let deleted = text(e, "operation_status") == "DELETE";
                    match status.as_str() {
                        "STATUS_ALL" => true,
                        "STATUS_DELETE" => deleted,
                        "STATUS_DISABLE" => !deleted && text(e, "operation_status") == "DISABLE",
                        "STATUS_DELIVERY_OK" => !deleted && text(e, "operation_status") == "ENABLE",
                        "STATUS_NOT_DELIVERY" => {
                            !deleted && text(e, "operation_status") != "ENABLE"
                        }
                        _ => !deleted,
                    }
                })
                .filter(|e| {
                    ["campaign_ids", "adgroup_ids", "ad_ids"].iter().all(|key| {
                        let wanted = ids_of(filtering.get(*key));
                        let field = &key[..key.len() - 1];
                        wanted.is_empty() || wanted.iter().any(|w| w == text(e, field))
                    })
                })
                .filter(|e| {
                    filtering
                        .get(kind.name_field)
                        .and_then(Value::as_str)
                        .is_none_or(|n| {
                            text(e, kind.name_field)
                                .to_lowercase()
                                .contains(&n.to_lowercase())
                        })
                })
                .filter(|e| {
                    filtering
                        .get("objective_type")
                        .and_then(Value::as_str)
                        .is_none_or(|o| {
                            e.get("objective_type").is_none() || text(e, "objective_type") == o
                        })
                })
                .filter(|e| {
                    let created = text(e, "create_time");
                    filtering
                        .get("creation_filter_start_time")
                        .and_then(Value::as_str)
                        .is_none_or(|s| created >= s)
                        && filtering
                            .get("creation_filter_end_time")
                            .and_then(Value::as_str)
                            .is_none_or(|s| created <= s)
                })
                .map(|e| match &fields {
                    Some(fields) if !fields.is_empty() => Value::Object(
                        fields
                            .iter()
                            .filter_map(|f| e.get(f).map(|v| (f.clone(), v.clone())))
                            .collect(),
                    ),
                    _ => Value::Object(e.clone()),
                })
                .collect()
        })
        .unwrap_or_default();
    paged(items, &q, 1000)
}

pub async fn create(
    State(mock): State<Mock>,
    Path(kind_name): Path<String>,
    body: Bytes,
) -> Response {
    let (kind, body, advertiser) = match write_prologue(&kind_name, &body) {
        Ok(parts) => parts,
        Err(e) => return e,
    };
    let mut state = mock.state();
    let key = text(&body, "request_id").to_string();
    if !key.is_empty()
        && let Some(id) = state.idempotency.get(&key).cloned()
        && let Some(existing) = state
            .entities
            .get(kind.name)
            .and_then(|all| all.iter().find(|e| text(e, kind.id) == id))
    {
        return ok(Value::Object(existing.clone()));
    }
    let parent = |state: &super::MockState, parent_kind: &str, field: &str| {
        state
            .entities
            .get(parent_kind)
            .and_then(|all| {
                all.iter().find(|e| {
                    text(e, field) == text(&body, field) && text(e, "operation_status") != "DELETE"
                })
            })
            .cloned()
    };
    let objects: Vec<Map<String, Value>> = match kind.name {
        "campaign" => {
            if text(&body, "campaign_name").is_empty() || text(&body, "objective_type").is_empty() {
                return error(40002, "campaign_name and objective_type are required.");
            }
            vec![body.clone()]
        }
        "adgroup" => {
            let Some(campaign) = parent(&state, "campaign", "campaign_id") else {
                return error(40007, "The campaign does not exist.");
            };
            if text(&body, "adgroup_name").is_empty() {
                return error(40002, "adgroup_name is required.");
            }
            let mut object = body.clone();
            object.insert(
                "campaign_name".into(),
                campaign
                    .get("campaign_name")
                    .cloned()
                    .unwrap_or(Value::Null),
            );
            vec![object]
        }
        _ => {
            let Some(adgroup) = parent(&state, "adgroup", "adgroup_id") else {
                return error(40007, "The ad group does not exist.");
            };
            let creatives = body
                .get("creatives")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if creatives.is_empty() || creatives.len() > 20 {
                return error(40002, "creatives: 1 to 20 are required.");
            }
            creatives
                .into_iter()
                .filter_map(|c| c.as_object().cloned())
                .map(|mut c| {
                    c.insert("advertiser_id".into(), json!(advertiser));
                    c.insert(
                        "adgroup_id".into(),
                        adgroup.get("adgroup_id").cloned().unwrap_or(Value::Null),
                    );
                    c.insert(
                        "campaign_id".into(),
                        adgroup.get("campaign_id").cloned().unwrap_or(Value::Null),
                    );
                    c
                })
                .collect()
        }
    };
    let mut created = Vec::new();
    for mut object in objects {
        object.remove("request_id");
        let id = state.new_id();
        object.insert(kind.id.into(), json!(id));
        object.entry("operation_status").or_insert(json!("ENABLE"));
        let status = if text(&object, "operation_status") == "DISABLE" {
            "DISABLE"
        } else {
            "ENABLE"
        };
        object.insert(
            "secondary_status".into(),
            json!(format!("{}{status}", kind.status_prefix)),
        );
        object.insert("create_time".into(), json!(now()));
        object.insert("modify_time".into(), json!(now()));
        if !key.is_empty() {
            state.idempotency.insert(key.clone(), id.clone());
        }
        state
            .entities
            .entry(kind.name)
            .or_default()
            .push(object.clone());
        created.push(object);
    }
    match kind.name {
        "ad" => ok(
            json!({"ad_ids": created.iter().map(|c| c["ad_id"].clone()).collect::<Vec<_>>(),
                          "need_audit": false, "creatives": created}),
        ),
        _ => ok(Value::Object(
            created.into_iter().next().unwrap_or_default(),
        )),
    }
}

pub async fn update(
    State(mock): State<Mock>,
    Path(kind_name): Path<String>,
    body: Bytes,
) -> Response {
    let (kind, body, _) = match write_prologue(&kind_name, &body) {
        Ok(parts) => parts,
        Err(e) => return e,
    };
    let changes: Vec<Map<String, Value>> = if kind.name == "ad" {
        body.get("creatives")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| c.as_object().cloned())
            .collect()
    } else {
        vec![body.clone()]
    };
    let mut state = mock.state();
    let mut updated = Vec::new();
    for change in changes {
        let id = text(&change, kind.id).to_string();
        let Some(object) = state.entities.get_mut(kind.name).and_then(|all| {
            all.iter_mut()
                .find(|e| text(e, kind.id) == id && text(e, "operation_status") != "DELETE")
        }) else {
            return error(40007, &format!("The {} {id} does not exist.", kind.name));
        };
        for (k, v) in change {
            if !matches!(k.as_str(), "advertiser_id" | "patch_update") {
                object.insert(k, v);
            }
        }
        object.insert("modify_time".into(), json!(now()));
        updated.push(object.clone());
    }
    match kind.name {
        "ad" => ok(
            json!({"ad_ids": updated.iter().map(|c| c["ad_id"].clone()).collect::<Vec<_>>(), "creatives": updated}),
        ),
        _ => ok(Value::Object(
            updated.into_iter().next().unwrap_or_default(),
        )),
    }
}

pub async fn set_status(
    State(mock): State<Mock>,
    Path(kind_name): Path<String>,
    body: Bytes,
) -> Response {
    let (kind, body, _) = match write_prologue(&kind_name, &body) {
        Ok(parts) => parts,
        Err(e) => return e,
    };
    let ids = ids_of(body.get(kind.ids_key));
    if ids.is_empty() || ids.len() > 20 {
        return error(40002, &format!("{}: 1 to 20 IDs.", kind.ids_key));
    }
    let operation = text(&body, "operation_status").to_string();
    if !matches!(operation.as_str(), "ENABLE" | "DISABLE" | "DELETE") {
        return error(40002, "operation_status must be ENABLE, DISABLE or DELETE.");
    }
    let partial = body.get("allow_partial_success") == Some(&Value::Bool(true));
    let mut state = mock.state();
    let all = state.entities.entry(kind.name).or_default();
    // Decide every ID first: without partial success one bad ID changes nothing.
    let (mut changed, mut errors) = (Vec::new(), Vec::new());
    for id in &ids {
        match all.iter().find(|e| text(e, kind.id) == id) {
            Some(e) if text(e, "operation_status") != "DELETE" => changed.push(id.clone()),
            Some(_) => errors.push(json!({kind.id: id, "error_message": format!("The {} has been deleted and its status cannot be changed.", kind.name)})),
            None => errors.push(json!({kind.id: id, "error_message": format!("The {} does not exist.", kind.name)})),
        }
    }
    if !errors.is_empty() && !partial {
        return error(
            40002,
            errors[0]["error_message"].as_str().unwrap_or("failed"),
        );
    }
    for e in all
        .iter_mut()
        .filter(|e| changed.iter().any(|id| id == text(e, kind.id)))
    {
        e.insert("operation_status".into(), json!(operation));
        e.insert(
            "secondary_status".into(),
            json!(format!("{}{operation}", kind.status_prefix)),
        );
    }
    let mut data = json!({kind.ids_key: changed, "status": operation});
    if !errors.is_empty() {
        data["error_list"] = json!(errors);
        return super::envelope(20001, "Partial success", data);
    }
    ok(data)
}
