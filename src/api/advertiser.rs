//! `/advertiser/info/`: details of ad accounts (currency, time zone, status, ...).

pub use crate::catalog::ADVERTISER_INFO_FIELDS as INFO_FIELDS;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::transport::client::{Client, Request};
use super::transport::error::ApiError;
use super::transport::query::Query;

pub const INFO_PATH: &str = "/advertiser/info/";

/// How many IDs one `/advertiser/info/` call takes.
pub const INFO_BATCH: usize = 100;

#[derive(Deserialize)]
struct InfoList {
    list: Vec<Map<String, Value>>,
}

/// `/advertiser/info/`, from [`Client::advertisers`].
#[derive(Clone, Copy)]
pub struct Advertisers<'c> {
    pub(super) client: &'c Client,
}

impl<'c> Advertisers<'c> {
    /// Details of the given accounts, in batches of [`INFO_BATCH`], as TikTok sent them (field
    /// names and values untouched, so new fields pass through).
    pub async fn info(
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
                .client
                .call(&Request::get(INFO_PATH, &query))
                .await?
                .list_data(INFO_PATH)?;
            all.extend(info.list);
        }
        Ok(all)
    }
}
