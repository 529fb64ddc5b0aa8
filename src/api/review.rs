//! Why an ad was rejected (REFERENCE 16.3): the review state of ads — review status, what
//! failed (placements, locations, ages, operating systems) and each reject reason with TikTok's
//! suggestion. Whether an ad is approved is decided together with its `secondary_status`: a
//! brand-new ad can read `ALL_AVAILABLE` before anyone has reviewed it.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::transport::client::{Client, Request};
use super::transport::error::ApiError;
use super::transport::query::Query;

pub const AD_REVIEW_PATH: &str = "/ad/review_info/";
pub const ADGROUP_REVIEW_PATH: &str = "/adgroup/review_info/";

/// IDs per `/ad/review_info/` call: the documented limit of the ad group endpoint, used for
/// ads too (their own limit is not documented).
pub const REVIEW_BATCH: usize = 20;

/// `/ad/review_info/`, from [`Client::reviews`].
#[derive(Clone, Copy)]
pub struct Reviews<'c> {
    pub(super) client: &'c Client,
}

impl Reviews<'_> {
    /// The review of each of `ad_ids` TikTok answered for, by ad ID, as TikTok sent it; in
    /// batches of [`REVIEW_BATCH`], reasons in English.
    pub async fn ads(
        &self,
        advertiser_id: &str,
        ad_ids: &[String],
    ) -> Result<BTreeMap<String, Map<String, Value>>, ApiError> {
        self.batched(
            AD_REVIEW_PATH,
            advertiser_id,
            ("ad_ids", ad_ids),
            "ad_review_map",
        )
        .await
    }

    /// The review of each of `adgroup_ids`, by ad group ID, as TikTok sent it (the ad group's
    /// own map; its ads are answered by [`ads`](Self::ads)); in batches of 20.
    pub async fn adgroups(
        &self,
        advertiser_id: &str,
        adgroup_ids: &[String],
    ) -> Result<BTreeMap<String, Map<String, Value>>, ApiError> {
        self.batched(
            ADGROUP_REVIEW_PATH,
            advertiser_id,
            ("adgroup_ids", adgroup_ids),
            "ad_group_review_map",
        )
        .await
    }

    /// One endpoint's reviews of `ids`, 20 a call, from the map `map_key` of each answer.
    async fn batched(
        &self,
        path: &str,
        advertiser_id: &str,
        (ids_key, ids): (&str, &[String]),
        map_key: &str,
    ) -> Result<BTreeMap<String, Map<String, Value>>, ApiError> {
        let mut all = BTreeMap::new();
        for chunk in ids.chunks(REVIEW_BATCH) {
            let query = Query::new()
                .param("advertiser_id", advertiser_id)
                .json(ids_key, &chunk)
                .param("lang", "en");
            let mut data: Map<String, Value> = self
                .client
                .call(&Request::get(path, &query))
                .await?
                .list_data(path)?;
            // A map TikTok leaves out or sends as null: nothing reviewed in this batch.
            if let Some(Value::Object(reviews)) = data.remove(map_key) {
                all.extend(reviews.into_iter().filter_map(|(id, review)| match review {
                    Value::Object(review) => Some((id, review)),
                    _ => None,
                }));
            }
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use wiremock::matchers::{method, path, query_param};
    use wiremock::{Mock, MockServer};

    use crate::api::testing::{client, envelope, fixture, query_list};

    #[tokio::test]
    async fn reviews_are_asked_twenty_at_a_time_and_keyed_by_ad() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/open_api/v1.3/ad/review_info/"))
            .and(query_param("lang", "en"))
            .respond_with(envelope(fixture("ad_review_info.json")["data"].clone()))
            .mount(&server)
            .await;
        let ids: Vec<String> = (0..21).map(|i| format!("18123609876{i:05}")).collect();
        let reviews = client(&server)
            .reviews()
            .ads("7301234567890123456", &ids)
            .await
            .unwrap();
        let requests = server.received_requests().await.unwrap();
        assert_eq!(query_list(&requests[0], "ad_ids").len(), 20);
        assert_eq!(query_list(&requests[1], "ad_ids").len(), 1);
        let rejected = &reviews["1812360987650011"];
        assert_eq!(rejected["review_status"], "UNAVAILABLE");
        assert_eq!(
            rejected["reject_info"][0]["suggestion"],
            "Remove absolute or unverifiable claims from the ad text and resubmit."
        );
        assert_eq!(reviews["1812360987654321"]["is_approved"], true);
    }

    #[tokio::test]
    async fn ad_group_reviews_are_keyed_by_ad_group_not_by_their_nested_ads() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/open_api/v1.3/adgroup/review_info/"))
            .respond_with(envelope(
                fixture("adgroup_review_info.json")["data"].clone(),
            ))
            .mount(&server)
            .await;
        let reviews = client(&server)
            .reviews()
            .adgroups("7301234567890123456", &["1812350123456789".to_string()])
            .await
            .unwrap();
        let requests = server.received_requests().await.unwrap();
        assert_eq!(
            query_list(&requests[0], "adgroup_ids"),
            ["1812350123456789"]
        );
        let keys: Vec<&String> = reviews.keys().collect();
        assert_eq!(
            keys,
            ["1812350123456789", "1812350123457123"],
            "ad groups, not ads"
        );
        assert_eq!(reviews["1812350123457123"]["review_status"], "UNAVAILABLE");
    }
}
