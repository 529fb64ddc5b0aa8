//! Business Center: the BCs a token's user belongs to and the ad accounts under one (REFERENCE 4).

use futures_util::Stream;
use serde_json::{Map, Value};

use super::client::Client;
use super::error::ApiError;
use super::paging::Page;
use super::query::Query;

pub const BC_GET_PATH: &str = "/bc/get/";
pub const BC_ASSET_PATH: &str = "/bc/asset/get/";
/// Largest `page_size` of both endpoints.
pub const PAGE_SIZE: u32 = 50;

impl Client {
    /// Every Business Center the token's user belongs to, page by page.
    pub fn business_centers(
        &self,
    ) -> impl Stream<Item = Result<Page<Map<String, Value>>, ApiError>> + '_ {
        self.pages(BC_GET_PATH, Query::new(), Some(PAGE_SIZE))
    }

    /// Every ad account under a Business Center, page by page.
    pub fn bc_advertisers(
        &self,
        bc_id: &str,
    ) -> impl Stream<Item = Result<Page<Map<String, Value>>, ApiError>> + '_ {
        let query = Query::new()
            .param("bc_id", bc_id)
            .param("asset_type", "ADVERTISER");
        self.pages(BC_ASSET_PATH, query, Some(PAGE_SIZE))
    }
}
