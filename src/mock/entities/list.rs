//! `/campaign|adgroup|ad/get/`: filtering, fields and pages, checked as TikTok checks them.

use std::collections::HashMap;

use axum::Extension;
use axum::extract::{Query, State};
use axum::http::Uri;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::{
    COMMON_FILTERS, FILTER_IDS_MAX, Kind, PRIMARY_STATUSES, campaign_of, kind_of, text, time,
};
use crate::catalog;
use crate::mock::Mock;
use crate::mock::answer::{error, invalid, ok, page_info};
use crate::mock::auth::advertiser;
use crate::mock::params::{Checked, Params};
use crate::mock::world::{Grant, World};

pub(in crate::mock) async fn list(
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
    let filter = ListFilter::read(kind, params)?;
    let (page, size) = params.paging(1000)?;
    mock.settle();
    let world = mock.world();
    let mut items: Vec<&Map<String, Value>> = world
        .all(kind.name)
        .iter()
        .filter(|e| text(e, "advertiser_id") == advertiser && filter.keeps(&world, kind, e))
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

/// What `filtering` keeps: a primary status (not deleted by default), a secondary status,
/// IDs, a name part, an objective, a creation time range.
struct ListFilter {
    ids: Vec<(&'static str, Vec<String>)>,
    status: String,
    secondary: Option<String>,
    objective: Option<String>,
    name: Option<String>,
    created_from: Option<String>,
    created_to: Option<String>,
}

impl ListFilter {
    fn read(kind: &Kind, params: &Params) -> Checked<Self> {
        let filtering = Params::Body(params.object("filtering")?.unwrap_or_default());
        if let Params::Body(map) = &filtering
            && let Some(unknown) = map.keys().find(|k| {
                !COMMON_FILTERS.contains(&k.as_str()) && !kind.filters.contains(&k.as_str())
            })
        {
            return Err(invalid("filtering", &format!("Unknown field: {unknown}.")));
        }
        let mut ids = Vec::new();
        for key in ["campaign_ids", "adgroup_ids", "ad_ids"] {
            if let Some(list) = filtering.list(key)? {
                if list.len() > FILTER_IDS_MAX {
                    return Err(error(
                        40011,
                        &format!("filtering.{key}: at most {FILTER_IDS_MAX} IDs per request."),
                    ));
                }
                ids.push((&key[..key.len() - 1], list));
            }
        }
        Ok(Self {
            ids,
            status: filtering
                .choice("primary_status", PRIMARY_STATUSES)?
                .unwrap_or_else(|| "STATUS_NOT_DELETE".into()),
            secondary: filtering.text("secondary_status")?,
            objective: filtering.choice(
                "objective_type",
                &[catalog::OBJECTIVES, catalog::LEGACY_OBJECTIVES].concat(),
            )?,
            name: filtering.text(&format!("{}_name", kind.name))?,
            created_from: time(&filtering, "creation_filter_start_time")?,
            created_to: time(&filtering, "creation_filter_end_time")?,
        })
    }

    fn keeps(&self, world: &World, kind: &Kind, e: &Map<String, Value>) -> bool {
        let operation = text(e, "operation_status");
        let deleted = operation == "DELETE";
        let status = match self.status.as_str() {
            "STATUS_ALL" => true,
            "STATUS_DELETE" => deleted,
            "STATUS_DISABLE" => operation == "DISABLE",
            "STATUS_DELIVERY_OK" => operation == "ENABLE",
            "STATUS_NOT_DELIVERY" => !deleted && operation != "ENABLE",
            "STATUS_NOT_DELETE" => !deleted,
            _ => false,
        };
        let secondary = self
            .secondary
            .as_deref()
            .is_none_or(|s| s.ends_with("_STATUS_ALL") || text(e, "secondary_status") == s);
        let ids = self
            .ids
            .iter()
            .all(|(field, ids)| ids.iter().any(|id| id == text(e, field)));
        let name = self.name.as_deref().is_none_or(|n| {
            text(e, &format!("{}_name", kind.name))
                .to_lowercase()
                .contains(&n.to_lowercase())
        });
        let objective = self.objective.as_deref().is_none_or(|o| {
            let own = campaign_of(world, e)
                .map(|c| text(c, "objective_type").to_string())
                .unwrap_or_default();
            own == o
                || matches!(
                    (own.as_str(), o),
                    ("WEB_CONVERSIONS", "CONVERSIONS") | ("CONVERSIONS", "WEB_CONVERSIONS")
                )
        });
        let created = text(e, "create_time");
        let in_time = self.created_from.as_deref().is_none_or(|f| created >= f)
            && self.created_to.as_deref().is_none_or(|t| created <= t);
        status && secondary && ids && name && objective && in_time
    }
}
