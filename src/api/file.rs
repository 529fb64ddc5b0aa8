//! The creative library of an ad account (REFERENCE 15): the images and videos ads are made
//! of, read back by ID — what an upload got, and whether the account still has it.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::transport::client::{Client, Request};
use super::transport::error::ApiError;
use super::transport::query::Query;

pub const IMAGE_INFO_PATH: &str = "/file/image/ad/info/";
pub const VIDEO_INFO_PATH: &str = "/file/video/ad/info/";

/// Most IDs one `/file/image/ad/info/` call takes.
pub const IMAGE_INFO_BATCH: usize = 100;
/// Most IDs one `/file/video/ad/info/` call takes.
pub const VIDEO_INFO_BATCH: usize = 60;

#[derive(Deserialize)]
struct InfoList {
    #[serde(default)]
    list: Vec<Map<String, Value>>,
}

/// `/file/*`, from [`Client::files`].
#[derive(Clone, Copy)]
pub struct Files<'c> {
    pub(super) client: &'c Client,
}

impl Files<'_> {
    /// The library's images among `image_ids`, as TikTok sent them, in batches of
    /// [`IMAGE_INFO_BATCH`]. An ID the account does not have is simply absent.
    pub async fn images(
        &self,
        advertiser_id: &str,
        image_ids: &[String],
    ) -> Result<Vec<Map<String, Value>>, ApiError> {
        self.info(
            IMAGE_INFO_PATH,
            "image_ids",
            IMAGE_INFO_BATCH,
            advertiser_id,
            image_ids,
        )
        .await
    }

    /// The library's videos among `video_ids`, as TikTok sent them, in batches of
    /// [`VIDEO_INFO_BATCH`]. TikTok leaves out IDs that cannot be used for ads.
    pub async fn videos(
        &self,
        advertiser_id: &str,
        video_ids: &[String],
    ) -> Result<Vec<Map<String, Value>>, ApiError> {
        self.info(
            VIDEO_INFO_PATH,
            "video_ids",
            VIDEO_INFO_BATCH,
            advertiser_id,
            video_ids,
        )
        .await
    }

    async fn info(
        &self,
        path: &str,
        key: &str,
        batch: usize,
        advertiser_id: &str,
        ids: &[String],
    ) -> Result<Vec<Map<String, Value>>, ApiError> {
        let mut all = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(batch) {
            let query = Query::new()
                .param("advertiser_id", advertiser_id)
                .json(key, &chunk);
            let info: InfoList = self
                .client
                .call(&Request::get(path, &query))
                .await?
                .list_data(path)?;
            all.extend(info.list);
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer};

    use crate::api::testing::{client, envelope, fixture, query_list};

    #[tokio::test]
    async fn ids_go_in_batches_and_every_answer_is_kept() {
        let server = MockServer::start().await;
        let images = fixture("file_image_ad_info.json")["data"].clone();
        Mock::given(method("GET"))
            .and(path("/open_api/v1.3/file/image/ad/info/"))
            .respond_with(envelope(images))
            .mount(&server)
            .await;
        let ids: Vec<String> = (0..150).map(|i| format!("image-{i}")).collect();
        let found = client(&server)
            .files()
            .images("7301234567890123456", &ids)
            .await
            .unwrap();
        let requests = server.received_requests().await.unwrap();
        let sizes: Vec<usize> = requests
            .iter()
            .map(|r| query_list(r, "image_ids").len())
            .collect();
        assert_eq!(sizes, [100, 50]);
        assert_eq!(query_list(&requests[1], "image_ids")[0], "image-100");
        assert_eq!(found.len(), 4, "two images from each answer");
        assert_eq!(found[0]["material_id"], "7467000000000000101");
    }

    #[tokio::test]
    async fn videos_go_sixty_at_a_time() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/open_api/v1.3/file/video/ad/info/"))
            .respond_with(envelope(fixture("file_video_ad_info.json")["data"].clone()))
            .mount(&server)
            .await;
        let ids: Vec<String> = (0..61).map(|i| format!("v{i}")).collect();
        client(&server)
            .files()
            .videos("7301234567890123456", &ids)
            .await
            .unwrap();
        let requests = server.received_requests().await.unwrap();
        assert_eq!(query_list(&requests[0], "video_ids").len(), 60);
        assert_eq!(query_list(&requests[1], "video_ids"), ["v60"]);
    }
}
