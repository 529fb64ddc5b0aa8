//! The live state of the entities a bulk file or plan names: read by ID (100 a call), with
//! `STATUS_ALL` so a deleted entity is seen as deleted rather than missing, and the fields a
//! bulk change compares; the campaigns' budget optimisation (CBO) for ad groups; every entity
//! of an account for `bulk export`.

use std::collections::BTreeMap;

use futures_util::TryStreamExt;
use serde_json::{Map, Value, json};

use super::columns;
use crate::api::entity::{FILTER_IDS_MAX, PAGE_SIZE_MAX};
use crate::api::{ApiError, Client};
use crate::watch::Level;

/// Entities of one account by ID.
pub type Live = BTreeMap<String, Map<String, Value>>;

fn id_of(entity: &Map<String, Value>, field: &str) -> Option<String> {
    match entity.get(field)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

async fn list(
    client: &Client,
    level: Level,
    advertiser_id: &str,
    filtering: Map<String, Value>,
    fields: &[String],
) -> Result<Live, ApiError> {
    let resource = level.resource();
    let pages =
        client
            .entities(resource)
            .list(advertiser_id, &filtering, Some(fields), PAGE_SIZE_MAX);
    futures_util::pin_mut!(pages);
    let mut all = Live::new();
    while let Some(page) = pages.try_next().await? {
        for entity in page.list {
            if let Some(id) = id_of(&entity, resource.id_field) {
                all.insert(id, entity);
            }
        }
    }
    Ok(all)
}

/// The entities of `ids` in the account, deleted ones included; IDs it does not have are
/// absent.
pub async fn by_ids(
    client: &Client,
    level: Level,
    advertiser_id: &str,
    ids: &[String],
) -> Result<Live, ApiError> {
    let fields = columns::fetched(level);
    let mut all = Live::new();
    for chunk in ids.chunks(FILTER_IDS_MAX) {
        let mut filtering = Map::new();
        filtering.insert(level.resource().ids_key.into(), json!(chunk));
        filtering.insert("primary_status".into(), json!("STATUS_ALL"));
        all.extend(list(client, level, advertiser_id, filtering, &fields).await?);
    }
    Ok(all)
}

/// Every entity of the account that is not deleted.
pub async fn all(client: &Client, level: Level, advertiser_id: &str) -> Result<Live, ApiError> {
    list(
        client,
        level,
        advertiser_id,
        Map::new(),
        &columns::fetched(level),
    )
    .await
}

/// Whether each of the campaigns optimises its budget (CBO: its ad groups' budgets are locked).
pub async fn budget_optimized(
    client: &Client,
    advertiser_id: &str,
    campaign_ids: &[String],
) -> Result<BTreeMap<String, bool>, ApiError> {
    let fields = vec!["campaign_id".to_string(), "budget_optimize_on".to_string()];
    let mut all = BTreeMap::new();
    for chunk in campaign_ids.chunks(FILTER_IDS_MAX) {
        let mut filtering = Map::new();
        filtering.insert("campaign_ids".into(), json!(chunk));
        filtering.insert("primary_status".into(), json!("STATUS_ALL"));
        for (id, campaign) in
            list(client, Level::Campaign, advertiser_id, filtering, &fields).await?
        {
            all.insert(
                id,
                campaign.get("budget_optimize_on") == Some(&Value::Bool(true)),
            );
        }
    }
    Ok(all)
}
