//! `list` and `get` of customer-file audiences.

use std::collections::HashMap;

use axum::Extension;
use axum::extract::{Query, State};
use axum::response::Response;
use serde_json::{Value, json};

use crate::mock::Mock;
use crate::mock::answer::{invalid, ok, paged};
use crate::mock::auth::advertiser;
use crate::mock::params::{Checked, Params};
use crate::mock::world::Grant;

pub(in crate::mock) async fn list(
    State(mock): State<Mock>,
    Extension(grant): Extension<Grant>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let answer = || -> Checked<Response> {
        let params = Params::Query(q);
        let advertiser = advertiser(&params, &grant)?;
        let (page, size) = params.paging(100)?;
        let world = mock.world();
        let now = world.reviews.now_ms();
        let items: Vec<Value> = world
            .dmp
            .audiences
            .iter()
            .rev()
            .filter(|(_, a)| a.seen_by(&advertiser))
            .map(|(id, a)| a.details(id, now, &advertiser))
            .collect();
        Ok(paged(items, page, size))
    };
    answer().unwrap_or_else(|e| e)
}

pub(in crate::mock) async fn get(
    State(mock): State<Mock>,
    Extension(grant): Extension<Grant>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let answer = || -> Checked<Response> {
        let params = Params::Query(q);
        let advertiser = advertiser(&params, &grant)?;
        let ids = match params.list("custom_audience_ids")? {
            Some(ids) if !ids.is_empty() && ids.len() <= 100 => ids,
            _ => return Err(invalid("custom_audience_ids", "Between 1 and 100 IDs.")),
        };
        let history = params.integer("history_size", 1, 100, 100)? as usize;
        let world = mock.world();
        let now = world.reviews.now_ms();
        let list: Vec<Value> = ids
            .iter()
            .filter_map(|id| {
                world
                    .dmp
                    .audiences
                    .get(id)
                    .filter(|a| a.seen_by(&advertiser))
                    .map(|a| {
                        json!({"audience_details": a.details(id, now, &advertiser),
                        "audience_history": a.history.iter().take(history).collect::<Vec<_>>()})
                    })
            })
            .collect();
        Ok(ok(json!({ "list": list })))
    };
    answer().unwrap_or_else(|e| e)
}
