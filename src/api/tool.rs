//! Helper endpoints under `/tool/`: location IDs for ad group targeting.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::transport::client::Client;
use super::transport::error::ApiError;
use super::transport::query::Query;

pub const REGION_PATH: &str = "/tool/region/";

pub const LEVEL_RANGES: &[&str] = &["ALL", "TO_COUNTRY", "TO_PROVINCE", "TO_CITY", "TO_DISTRICT"];

#[derive(Deserialize)]
struct Regions {
    #[serde(default)]
    region_info: Vec<Map<String, Value>>,
}

pub struct RegionQuery<'a> {
    pub advertiser_id: &'a str,
    pub placements: &'a [String],
    pub objective_type: &'a str,
    pub level_range: Option<&'a str>,
    pub language: Option<&'a str>,
}

/// `/tool/*`, from [`Client::tools`].
#[derive(Clone, Copy)]
pub struct Tools<'c> {
    pub(super) client: &'c Client,
}

impl<'c> Tools<'c> {
    /// Locations that can be targeted for this placement and objective.
    pub async fn regions(&self, q: &RegionQuery<'_>) -> Result<Vec<Map<String, Value>>, ApiError> {
        let mut query = Query::new()
            .param("advertiser_id", q.advertiser_id)
            .json("placements", &q.placements)
            .param("objective_type", q.objective_type);
        if let Some(level) = q.level_range {
            query = query.param("level_range", level);
        }
        if let Some(language) = q.language {
            query = query.param("language", language);
        }
        let regions: Regions = self.client.get(REGION_PATH, &query).await?;
        Ok(regions.region_info)
    }
}
