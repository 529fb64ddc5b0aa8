//! What campaigns, ad groups and ads have in common: the same list / get / create / update /
//! status endpoints with different names. Each resource module describes itself with a
//! [`Resource`]; the calls here are written once.

use futures_util::{Stream, TryStreamExt};
use serde_json::{Map, Value, json};

use super::transport::client::{Auth, Client, Request};
use super::transport::error::ApiError;
use super::transport::paging::Page;
use super::transport::query::Query;
use super::transport::retry::Replay;

/// Most IDs one `*_ids` filter takes.
pub const FILTER_IDS_MAX: usize = 100;
/// Most IDs one status update takes.
pub const STATUS_BATCH: usize = 20;
/// Largest `page_size` of the entity list endpoints.
pub const PAGE_SIZE_MAX: u32 = 1000;

/// How one kind of entity is named in TikTok's API.
#[derive(Debug)]
pub struct Resource {
    /// Singular noun used in messages (`campaign`, `ad group`, `ad`).
    pub noun: &'static str,
    pub get_path: &'static str,
    pub create_path: &'static str,
    pub update_path: &'static str,
    pub status_path: &'static str,
    /// `campaign_id`, `adgroup_id`, `ad_id`.
    pub id_field: &'static str,
    /// `campaign_name`, ...
    pub name_field: &'static str,
    /// The filtering key for IDs (`campaign_ids`, ...), also the key of status updates.
    pub ids_key: &'static str,
    /// Whether the status endpoint takes `allow_partial_success`.
    pub partial_success: bool,
    /// Whether create takes TikTok's `request_id` idempotency key.
    pub idempotent_create: bool,
}

/// What a status update did.
#[derive(Debug, Default)]
pub struct StatusOutcome {
    pub changed: Vec<String>,
    pub failed: Vec<(String, String)>,
}

/// The list / get / create / update / status endpoints of one kind of entity, from
/// [`Client::campaigns`], [`Client::adgroups`], [`Client::ads`] or [`Client::entities`].
#[derive(Clone, Copy)]
pub struct Entities<'c> {
    pub(super) client: &'c Client,
    pub(super) resource: &'static Resource,
}

impl<'c> Entities<'c> {
    /// Every page of entities matching `filtering`, lazily.
    pub fn list(
        self,
        advertiser_id: &str,
        filtering: &Map<String, Value>,
        fields: Option<&[String]>,
        page_size: u32,
    ) -> impl Stream<Item = Result<Page<Map<String, Value>>, ApiError>> + 'c {
        let mut query = Query::new().param("advertiser_id", advertiser_id);
        if !filtering.is_empty() {
            query = query.json("filtering", filtering);
        }
        if let Some(fields) = fields {
            query = query.json("fields", &fields);
        }
        self.client.pages(
            self.resource.get_path,
            query,
            Some(page_size.clamp(1, PAGE_SIZE_MAX)),
        )
    }

    /// One entity by ID; [`ApiError::NotFound`] when TikTok returns none.
    pub async fn get(&self, advertiser_id: &str, id: &str) -> Result<Map<String, Value>, ApiError> {
        let mut filtering = Map::new();
        filtering.insert(self.resource.ids_key.into(), json!([id]));
        let query = Query::new()
            .param("advertiser_id", advertiser_id)
            .json("filtering", &filtering);
        let pages = self
            .client
            .pages::<Map<String, Value>>(self.resource.get_path, query, Some(1));
        futures_util::pin_mut!(pages);
        let first = pages.try_next().await?;
        first
            .into_iter()
            .flat_map(|page| page.list)
            .find(|e| e.get(self.resource.id_field).and_then(Value::as_str) == Some(id))
            .ok_or_else(|| ApiError::NotFound {
                endpoint: self.resource.get_path.to_string(),
                what: format!("{} {id} in ad account {advertiser_id}", self.resource.noun),
            })
    }

    /// Creates an entity. Without an idempotency key a create that may have reached TikTok is
    /// not re-sent.
    pub async fn create(&self, body: &Value) -> Result<Value, ApiError> {
        let replay = if self.resource.idempotent_create && body.get("request_id").is_some() {
            Replay::Safe
        } else {
            Replay::Unsafe
        };
        self.client
            .post(self.resource.create_path, body, Auth::Token, replay)
            .await
    }

    /// Updates an entity; an update sets values, so sending it twice is harmless.
    pub async fn update(&self, body: &Value) -> Result<Value, ApiError> {
        self.client
            .post(self.resource.update_path, body, Auth::Token, Replay::Safe)
            .await
    }

    /// Sets `operation_status` (`ENABLE`, `DISABLE`, `DELETE`) of at most [`STATUS_BATCH`] IDs.
    pub async fn set_status(
        &self,
        advertiser_id: &str,
        ids: &[String],
        operation_status: &str,
    ) -> Result<StatusOutcome, ApiError> {
        let body = status_body(self.resource, advertiser_id, ids, operation_status);
        let response = self
            .client
            .call(&Request::post(
                self.resource.status_path,
                &body,
                Auth::Token,
                Replay::Safe,
            ))
            .await?;
        let data: Value = response.data(self.resource.status_path)?;
        Ok(status_outcome(self.resource, &data))
    }
}

/// The body of one status change (at most [`STATUS_BATCH`] IDs), as it is sent.
pub fn status_body(
    resource: &Resource,
    advertiser_id: &str,
    ids: &[String],
    operation_status: &str,
) -> Value {
    let mut body = json!({
        "advertiser_id": advertiser_id,
        resource.ids_key: ids,
        "operation_status": operation_status,
    });
    if resource.partial_success {
        body["allow_partial_success"] = json!(true);
    }
    body
}

fn status_outcome(resource: &Resource, data: &Value) -> StatusOutcome {
    let as_id = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let changed = data
        .get(resource.ids_key)
        .and_then(Value::as_array)
        .map(|ids| ids.iter().filter_map(as_id).collect())
        .unwrap_or_default();
    let failed = data
        .get("error_list")
        .and_then(Value::as_array)
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    let id = e.get(resource.id_field).and_then(as_id).unwrap_or_default();
                    let message = e
                        .get("error_message")
                        .and_then(Value::as_str)
                        .unwrap_or("failed")
                        .to_string();
                    (id, message)
                })
                .collect()
        })
        .unwrap_or_default();
    StatusOutcome { changed, failed }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_success_lists_failures() {
        let data = json!({
            "adgroup_ids": ["1812350123456789"],
            "status": "DISABLE",
            "error_list": [{"adgroup_id": "1812350123457123", "error_message": "deleted"}]
        });
        let outcome = status_outcome(&crate::api::adgroup::ADGROUP, &data);
        assert_eq!(outcome.changed, ["1812350123456789"]);
        assert_eq!(
            outcome.failed,
            [("1812350123457123".to_string(), "deleted".to_string())]
        );
    }
}
