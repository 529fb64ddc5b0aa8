//! `/bc/get/` and `/bc/asset/get/`: the one Business Center and the ad accounts it owns.

use std::collections::HashMap;

use axum::extract::Query;
use axum::response::Response;
use serde_json::json;

use super::answer::{error, invalid, paged};
use super::params::Params;
use super::world::BC_ID;

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

pub(super) async fn bc_assets(
    axum::extract::State(mock): axum::extract::State<super::Mock>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
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
            mock.world()
                .accounts()
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
