//! `/advertiser/info/`: details of ad accounts (currency, time zone, status, ...).

use serde::Deserialize;
use serde_json::{Map, Value};

use super::client::{Client, Request};
use super::error::ApiError;
use super::query::Query;

pub const INFO_PATH: &str = "/advertiser/info/";

/// How many IDs one `/advertiser/info/` call takes.
pub const INFO_BATCH: usize = 100;

/// Every field `/advertiser/info/` can return (REFERENCE 3), in a readable order.
pub const INFO_FIELDS: &[&str] = &[
    "advertiser_id",
    "name",
    "status",
    "role",
    "currency",
    "timezone",
    "display_timezone",
    "balance",
    "create_time",
    "company",
    "country",
    "industry",
    "address",
    "language",
    "description",
    "rejection_reason",
    "contacter",
    "email",
    "cellphone_number",
    "telephone_number",
    "license_no",
    "license_url",
    "advertiser_account_type",
    "owner_bc_id",
];

#[derive(Deserialize)]
struct InfoList {
    list: Vec<Map<String, Value>>,
}

impl Client {
    /// Details of the given accounts, in batches of [`INFO_BATCH`], as TikTok sent them (field
    /// names and values untouched, so new fields pass through).
    pub async fn advertiser_info(
        &self,
        advertiser_ids: &[String],
        fields: &[&str],
    ) -> Result<Vec<Map<String, Value>>, ApiError> {
        let mut all = Vec::with_capacity(advertiser_ids.len());
        for batch in advertiser_ids.chunks(INFO_BATCH) {
            let mut query = Query::new().json("advertiser_ids", &batch);
            if !fields.is_empty() {
                query = query.json("fields", &fields);
            }
            let info: InfoList = self
                .call(&Request::get(INFO_PATH, &query))
                .await?
                .list_data(INFO_PATH)?;
            all.extend(info.list);
        }
        Ok(all)
    }
}
