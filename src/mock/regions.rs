//! `/tool/region/`: a few location IDs for ad group targeting.

use std::collections::HashMap;

use axum::Extension;
use axum::extract::Query;
use axum::response::Response;
use serde_json::json;

use super::answer::{invalid, ok};
use super::auth::advertiser;
use super::params::Params;
use super::world::Grant;
use crate::catalog;

pub(super) async fn regions(
    Extension(grant): Extension<Grant>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let params = Params::Query(q);
    let outcome = (|| {
        advertiser(&params, &grant)?;
        let placements = params.choices("placements", catalog::PLACEMENTS)?;
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
