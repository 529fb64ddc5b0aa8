//! Custom audiences of an ad account (REFERENCE 18): customer-file audiences and lookalikes,
//! listed with their size (`cover_num`), validity and status.

use futures_util::Stream;
use serde_json::{Map, Value};

use super::transport::client::Client;
use super::transport::error::ApiError;
use super::transport::paging::Page;
use super::transport::query::Query;

pub const LIST_PATH: &str = "/dmp/custom_audience/list/";

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
