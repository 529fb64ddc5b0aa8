//! Custom audiences of an ad account (REFERENCE 18): customer-file audiences and lookalikes,
//! listed with their size (`cover_num`), validity and status.

use futures_util::Stream;
use serde_json::{Map, Value, json};

use super::transport::client::{Auth, Client, Request};
use super::transport::error::ApiError;
use super::transport::form::{Form, PartSource};
use super::transport::paging::Page;
use super::transport::query::Query;
use super::transport::retry::Replay;

pub const LIST_PATH: &str = "/dmp/custom_audience/list/";
pub const GET_PATH: &str = "/dmp/custom_audience/get/";
pub const UPLOAD_PATH: &str = "/dmp/custom_audience/file/upload/";
pub const CREATE_PATH: &str = "/dmp/custom_audience/create/";
pub const UPDATE_PATH: &str = "/dmp/custom_audience/update/";
pub const DELETE_PATH: &str = "/dmp/custom_audience/delete/";
pub const LOOKALIKE_PATH: &str = "/dmp/custom_audience/lookalike/create/";
pub const SHARE_PATH: &str = "/dmp/custom_audience/share/";

/// `file_paths` per create or update (TikTok recommends under 50).
pub const FILE_PATHS_PER_CALL: usize = 50;
/// Audience IDs per get or delete.
pub const IDS_PER_CALL: usize = 100;

/// What an update does with the files (always sent: TikTok takes a missing one as REPLACE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Append,
    Remove,
    Replace,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Append => "APPEND",
            Action::Remove => "REMOVE",
            Action::Replace => "REPLACE",
        }
    }
}

/// Largest `page_size` of the audience list.
pub const PAGE_SIZE_MAX: u32 = 100;

/// `/dmp/custom_audience/*`, from [`Client::audiences`].
#[derive(Clone, Copy)]
pub struct Audiences<'c> {
    pub(super) client: &'c Client,
}

impl<'c> Audiences<'c> {
    /// Every audience the account owns or was shared, page by page, as TikTok sent them.
    pub fn list(
        self,
        advertiser_id: &str,
    ) -> impl Stream<Item = Result<Page<Map<String, Value>>, ApiError>> + 'c {
        let query = Query::new().param("advertiser_id", advertiser_id);
        self.client.pages(LIST_PATH, query, Some(PAGE_SIZE_MAX))
    }

    /// Uploads one file of hashes (`name` ends in `.txt`); its `file_path`. Sending it again
    /// only makes another path, so an upload whose answer was lost is sent again.
    pub async fn upload(
        &self,
        advertiser_id: &str,
        name: &str,
        md5: &str,
        calculate_type: &str,
        source: PartSource,
    ) -> Result<String, ApiError> {
        let form = Form::new()
            .text("advertiser_id", advertiser_id)
            .text("file_signature", md5)
            .text("calculate_type", calculate_type)
            .file("file", name, source);
        let data: Value = self
            .client
            .call(&Request::upload(UPLOAD_PATH, &form, Replay::Safe))
            .await?
            .data(UPLOAD_PATH)?;
        text(&data, "file_path", UPLOAD_PATH)
    }

    /// Creates a customer-file audience of `file_paths` (at most 50); its ID. Not sent again
    /// after an answer was lost: a second create would make a twin.
    pub async fn create(
        &self,
        advertiser_id: &str,
        name: &str,
        calculate_type: &str,
        file_paths: &[String],
        retention_in_days: Option<u32>,
    ) -> Result<String, ApiError> {
        let mut body = json!({
            "advertiser_id": advertiser_id, "custom_audience_name": name,
            "calculate_type": calculate_type, "file_paths": file_paths,
        });
        if let Some(days) = retention_in_days {
            body["retention_in_days"] = json!(days);
        }
        let data: Value = self
            .client
            .post(CREATE_PATH, &body, Auth::Token, Replay::Unsafe)
            .await?;
        text(&data, "custom_audience_id", CREATE_PATH)
    }

    /// Appends, removes or replaces with `file_paths` (at most 50), the action always said.
    pub async fn update(
        &self,
        advertiser_id: &str,
        audience_id: &str,
        action: Action,
        file_paths: &[String],
    ) -> Result<(), ApiError> {
        let body = json!({
            "advertiser_id": advertiser_id, "custom_audience_id": audience_id,
            "action": action.name(), "file_paths": file_paths,
        });
        let _: Value = self
            .client
            .post(UPDATE_PATH, &body, Auth::Token, Replay::Safe)
            .await?;
        Ok(())
    }

    /// Each audience with its details and (up to `history` entries of) history, as sent.
    pub async fn get(
        &self,
        advertiser_id: &str,
        ids: &[String],
        history: u32,
    ) -> Result<Vec<Map<String, Value>>, ApiError> {
        let mut all = Vec::new();
        for chunk in ids.chunks(IDS_PER_CALL) {
            let query = Query::new()
                .param("advertiser_id", advertiser_id)
                .json("custom_audience_ids", &chunk)
                .param("history_size", history.clamp(1, 100).to_string());
            let data: Value = self
                .client
                .call(&Request::get(GET_PATH, &query))
                .await?
                .data(GET_PATH)?;
            all.extend(
                data.get("list")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|a| a.as_object().cloned()),
            );
        }
        Ok(all)
    }

    /// Creates a lookalike of `spec.source_audience_id`; its ID. Not sent again after an
    /// answer was lost (a twin).
    pub async fn lookalike(
        &self,
        advertiser_id: &str,
        name: &str,
        spec: &Value,
    ) -> Result<String, ApiError> {
        let body = json!({"advertiser_id": advertiser_id, "custom_audience_name": name, "lookalike_spec": spec});
        let data: Value = self
            .client
            .post(LOOKALIKE_PATH, &body, Auth::Token, Replay::Unsafe)
            .await?;
        text(&data, "custom_audience_id", LOOKALIKE_PATH)
    }

    /// Shares audiences (10 a call) with other ad accounts of the Business Center (10 a call).
    pub async fn share(
        &self,
        advertiser_id: &str,
        ids: &[String],
        to: &[String],
    ) -> Result<(), ApiError> {
        for audiences in ids.chunks(10) {
            for accounts in to.chunks(10) {
                let body = json!({"advertiser_id": advertiser_id, "custom_audience_ids": audiences,
                    "shared_advertiser_ids": accounts});
                let _: Value = self
                    .client
                    .post(SHARE_PATH, &body, Auth::Token, Replay::Safe)
                    .await?;
            }
        }
        Ok(())
    }

    pub async fn delete(&self, advertiser_id: &str, ids: &[String]) -> Result<(), ApiError> {
        for chunk in ids.chunks(IDS_PER_CALL) {
            let body = json!({"advertiser_id": advertiser_id, "custom_audience_ids": chunk});
            let _: Value = self
                .client
                .post(DELETE_PATH, &body, Auth::Token, Replay::Safe)
                .await?;
        }
        Ok(())
    }
}

fn text(data: &Value, key: &str, endpoint: &str) -> Result<String, ApiError> {
    match data.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        _ => Err(ApiError::Decode {
            endpoint: endpoint.to_string(),
            detail: format!("no {key} in {data}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use futures_util::TryStreamExt;
    use serde_json::{Value, json};
    use wiremock::matchers::{method, path, query_param};
    use wiremock::{Mock, MockServer};

    use crate::api::testing::{client, envelope, fixture};

    #[tokio::test]
    async fn every_page_of_audiences_is_listed() {
        let server = MockServer::start().await;
        // A full first page of 100 (the fixture's audiences, repeated), then one more.
        let known = fixture("dmp_custom_audience_list.json")["data"]["list"].clone();
        let known = known.as_array().unwrap();
        let list: Vec<Value> = known.iter().cycle().take(100).cloned().collect();
        let info =
            |page| json!({"page": page, "page_size": 100, "total_number": 101, "total_page": 2});
        let first = json!({"list": list, "page_info": info(1)});
        let second = json!({
            "list": [{"audience_id": "1823456789012399", "name": "Lookalike", "cover_num": 2000000}],
            "page_info": info(2)
        });
        for (page, data) in [("1", first), ("2", second)] {
            Mock::given(method("GET"))
                .and(path("/open_api/v1.3/dmp/custom_audience/list/"))
                .and(query_param("page", page))
                .respond_with(envelope(data))
                .mount(&server)
                .await;
        }
        let client = client(&server);
        let pages: Vec<_> = client
            .audiences()
            .list("7301234567890123456")
            .try_collect()
            .await
            .unwrap();
        let names: Vec<&Value> = pages
            .iter()
            .flat_map(|p| &p.list)
            .map(|a| &a["name"])
            .collect();
        assert_eq!(names.len(), 101);
        assert_eq!(names[0], &known[0]["name"]);
        assert_eq!(names[100], "Lookalike");
    }
}
