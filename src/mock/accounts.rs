//! `/advertiser/info/`: the simulated ad accounts, as TikTok describes them.

use std::collections::HashMap;

use axum::Extension;
use axum::extract::Query;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::answer::{error, invalid, ok};
use super::auth::check_advertiser;
use super::params::Params;
use super::world::{BC_ID, Grant, SeedAccount, account};
use crate::catalog;

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
