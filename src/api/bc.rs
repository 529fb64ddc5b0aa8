//! Business Center: the BCs a token's user belongs to and the ad accounts under one (REFERENCE 4).

use futures_util::{Stream, TryStreamExt};
use serde_json::{Map, Value};

use super::transport::client::Client;
use super::transport::error::ApiError;
use super::transport::paging::Page;
use super::transport::query::Query;

pub const BC_GET_PATH: &str = "/bc/get/";
pub const BC_ASSET_PATH: &str = "/bc/asset/get/";
/// Largest `page_size` of both endpoints.
pub const PAGE_SIZE: u32 = 50;

/// `/bc/get/` and `/bc/asset/get/`, from [`Client::business_centers`].
#[derive(Clone, Copy)]
pub struct BusinessCenters<'c> {
    pub(super) client: &'c Client,
}

impl<'c> BusinessCenters<'c> {
    /// Every Business Center the token's user belongs to, page by page.
    pub fn list(self) -> impl Stream<Item = Result<Page<Map<String, Value>>, ApiError>> + 'c {
        self.client
            .pages(BC_GET_PATH, Query::new(), Some(PAGE_SIZE))
    }

    /// Every ad account under a Business Center, page by page.
    pub fn advertisers(
        self,
        bc_id: &str,
    ) -> impl Stream<Item = Result<Page<Map<String, Value>>, ApiError>> + 'c {
        let query = Query::new()
            .param("bc_id", bc_id)
            .param("asset_type", "ADVERTISER");
        self.client.pages(BC_ASSET_PATH, query, Some(PAGE_SIZE))
    }

    /// Every ad account under a Business Center as records: TikTok's `asset_id` and
    /// `asset_name` as `advertiser_id` and `advertiser_name`, the rest as sent.
    pub async fn advertiser_records(
        &self,
        bc_id: &str,
    ) -> Result<Vec<Map<String, Value>>, ApiError> {
        let mut all = Vec::new();
        let pages = self.advertisers(bc_id);
        futures_util::pin_mut!(pages);
        while let Some(page) = pages.try_next().await? {
            for mut item in page.list {
                for (from, to) in [
                    ("asset_id", "advertiser_id"),
                    ("asset_name", "advertiser_name"),
                ] {
                    if let Some(v) = item.remove(from) {
                        item.insert(to.into(), v);
                    }
                }
                all.push(item);
            }
        }
        Ok(all)
    }
}
