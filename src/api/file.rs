//! The creative library of an ad account (REFERENCE 15): the images and videos ads are made
//! of — uploaded directly (small files) or in chunks through TikTok's file repository (big
//! ones), read back by ID, searched, their names checked, a video's suggested covers.

use futures_util::Stream;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::transport::client::{Auth, Client, Request};
use super::transport::error::ApiError;
use super::transport::form::{Form, PartSource};
use super::transport::ids::string_or_number;
use super::transport::paging::Page;
use super::transport::query::Query;
use super::transport::retry::Replay;

pub const IMAGE_INFO_PATH: &str = "/file/image/ad/info/";
pub const VIDEO_INFO_PATH: &str = "/file/video/ad/info/";
pub const IMAGE_UPLOAD_PATH: &str = "/file/image/ad/upload/";
pub const VIDEO_UPLOAD_PATH: &str = "/file/video/ad/upload/";
pub const IMAGE_SEARCH_PATH: &str = "/file/image/ad/search/";
pub const VIDEO_SEARCH_PATH: &str = "/file/video/ad/search/";
pub const START_PATH: &str = "/file/start/upload/";
pub const TRANSFER_PATH: &str = "/file/transfer/upload/";
pub const FINISH_PATH: &str = "/file/finish/upload/";
pub const NAME_CHECK_PATH: &str = "/file/name/check/";
pub const SUGGEST_COVER_PATH: &str = "/file/video/suggestcover/";

/// Most names one `/file/name/check/` call takes.
pub const NAME_CHECK_BATCH: usize = 20;
/// Largest `page_size` of the search endpoints.
pub const SEARCH_PAGE_SIZE: u32 = 100;

/// An image or a video: what the library holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    Image,
    Video,
}

impl MediaKind {
    /// `image`, `video`: the word of the file repository and of these docs.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Video => "video",
        }
    }

    /// The field its ID is in (`image_id`, `video_id`).
    pub fn id_field(self) -> &'static str {
        match self {
            MediaKind::Image => "image_id",
            MediaKind::Video => "video_id",
        }
    }

    fn upload_path(self) -> &'static str {
        match self {
            MediaKind::Image => IMAGE_UPLOAD_PATH,
            MediaKind::Video => VIDEO_UPLOAD_PATH,
        }
    }
}

/// What an upload made: the library's ID of the media, and its material ID when TikTok gives
/// it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    pub id: String,
    pub material_id: Option<String>,
}

/// The byte range TikTok wants next in a chunked upload, `[start, end)`; equal when it has
/// every byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct ChunkRange {
    pub start_offset: u64,
    pub end_offset: u64,
}

/// A chunked upload begun: its ID and the first range TikTok wants.
#[derive(Debug, Clone, Deserialize)]
pub struct ChunkedUpload {
    #[serde(deserialize_with = "string_or_number")]
    pub upload_id: String,
    #[serde(flatten)]
    pub next: ChunkRange,
}

/// Whether a name is free in the account's library.
#[derive(Debug, Clone, Deserialize)]
pub struct NameCheck {
    pub file_name: String,
    #[serde(default)]
    pub duplicate: bool,
    /// The material already holding the name.
    #[serde(
        default,
        deserialize_with = "super::transport::ids::opt_string_or_number"
    )]
    pub duplicate_material_id: Option<String>,
}

/// A cover TikTok suggests for a video: an image ID usable as the ad's cover.
#[derive(Debug, Clone, Deserialize)]
pub struct Cover {
    pub id: String,
    #[serde(default)]
    pub width: u32,
    #[serde(default)]
    pub height: u32,
}

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

impl<'c> Files<'c> {
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

    /// Uploads one file in a single request (`UPLOAD_BY_FILE`), with its MD5 for TikTok to
    /// check. A name is unique per account, so a request whose answer was lost and is sent
    /// again cannot make a second copy (TikTok refuses the name, 40911).
    pub async fn upload(
        &self,
        kind: MediaKind,
        advertiser_id: &str,
        name: &str,
        md5: &str,
        source: PartSource,
    ) -> Result<Uploaded, ApiError> {
        let (file_field, signature_field) = match kind {
            MediaKind::Image => ("image_file", "image_signature"),
            MediaKind::Video => ("video_file", "video_signature"),
        };
        let form = Form::new()
            .text("advertiser_id", advertiser_id)
            .text("upload_type", "UPLOAD_BY_FILE")
            .text("file_name", name)
            .text(signature_field, md5)
            .file(file_field, name, source);
        let path = kind.upload_path();
        let response = self
            .client
            .call(&Request::upload(path, &form, Replay::Safe))
            .await?;
        uploaded(kind, &response.data(path)?, path)
    }

    /// Turns a finished chunked upload (its `file_id`) into library media
    /// (`UPLOAD_BY_FILE_ID`).
    pub async fn bind(
        &self,
        kind: MediaKind,
        advertiser_id: &str,
        name: &str,
        file_id: &str,
    ) -> Result<Uploaded, ApiError> {
        let body = json!({
            "advertiser_id": advertiser_id,
            "upload_type": "UPLOAD_BY_FILE_ID",
            "file_id": file_id,
            "file_name": name,
        });
        let path = kind.upload_path();
        let data: Value = self
            .client
            .post(path, &body, Auth::Token, Replay::Safe)
            .await?;
        uploaded(kind, &data, path)
    }

    /// Begins a chunked upload of `size` bytes.
    pub async fn start_chunked(
        &self,
        kind: MediaKind,
        advertiser_id: &str,
        name: &str,
        size: u64,
    ) -> Result<ChunkedUpload, ApiError> {
        let body = json!({
            "advertiser_id": advertiser_id,
            "size": size,
            "content_type": kind.as_str(),
            "name": name,
        });
        self.client
            .post(START_PATH, &body, Auth::Token, Replay::Safe)
            .await
    }

    /// Sends one chunk at `start_offset`, with its MD5; the range TikTok wants next. Sending a
    /// chunk again at the same offset is harmless.
    pub async fn transfer_chunk(
        &self,
        advertiser_id: &str,
        upload_id: &str,
        start_offset: u64,
        md5: &str,
        source: PartSource,
    ) -> Result<ChunkRange, ApiError> {
        let form = Form::new()
            .text("advertiser_id", advertiser_id)
            .text("upload_id", upload_id)
            .text("start_offset", start_offset.to_string())
            .text("signature", md5)
            .file("file", "chunk", source);
        let response = self
            .client
            .call(&Request::upload(TRANSFER_PATH, &form, Replay::Safe))
            .await?;
        response.data(TRANSFER_PATH)
    }

    /// Ends a chunked upload: the `file_id` (valid 24 h) to bind.
    pub async fn finish_chunked(
        &self,
        advertiser_id: &str,
        upload_id: &str,
    ) -> Result<String, ApiError> {
        #[derive(Deserialize)]
        struct Finished {
            #[serde(deserialize_with = "string_or_number")]
            file_id: String,
        }
        let body = json!({"advertiser_id": advertiser_id, "upload_id": upload_id});
        let finished: Finished = self
            .client
            .post(FINISH_PATH, &body, Auth::Token, Replay::Safe)
            .await?;
        Ok(finished.file_id)
    }

    /// Whether each name is free among the account's images or videos, in batches of
    /// [`NAME_CHECK_BATCH`].
    pub async fn check_names(
        &self,
        kind: MediaKind,
        advertiser_id: &str,
        names: &[String],
    ) -> Result<Vec<NameCheck>, ApiError> {
        #[derive(Deserialize)]
        struct Checked {
            #[serde(default)]
            batch_results: Vec<NameCheck>,
        }
        let file_type = kind.as_str().to_ascii_uppercase();
        let mut all = Vec::with_capacity(names.len());
        for chunk in names.chunks(NAME_CHECK_BATCH) {
            let files: Vec<Value> = chunk
                .iter()
                .map(|name| json!({"file_name": name, "file_type": file_type}))
                .collect();
            let query = Query::new()
                .param("advertiser_id", advertiser_id)
                .json("files", &files);
            let checked: Checked = self.client.get(NAME_CHECK_PATH, &query).await?;
            all.extend(checked.batch_results);
        }
        Ok(all)
    }

    /// Every page of the account's images or videos matching `filtering`, newest first as
    /// TikTok lists them.
    pub fn search(
        self,
        kind: MediaKind,
        advertiser_id: &str,
        filtering: &Map<String, Value>,
    ) -> impl Stream<Item = Result<Page<Map<String, Value>>, ApiError>> + 'c {
        let mut query = Query::new().param("advertiser_id", advertiser_id);
        if !filtering.is_empty() {
            query = query.json("filtering", filtering);
        }
        let path = match kind {
            MediaKind::Image => IMAGE_SEARCH_PATH,
            MediaKind::Video => VIDEO_SEARCH_PATH,
        };
        self.client.pages(path, query, Some(SEARCH_PAGE_SIZE))
    }

    /// The covers TikTok suggests for a processed video.
    pub async fn suggest_covers(
        &self,
        advertiser_id: &str,
        video_id: &str,
    ) -> Result<Vec<Cover>, ApiError> {
        #[derive(Deserialize)]
        struct Covers {
            #[serde(default)]
            list: Vec<Cover>,
        }
        let query = Query::new()
            .param("advertiser_id", advertiser_id)
            .param("video_id", video_id)
            .param("poster_number", 1);
        let covers: Covers = self.client.get(SUGGEST_COVER_PATH, &query).await?;
        Ok(covers.list)
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

/// The ID an upload answer holds: an image object, or a list holding one video object.
fn uploaded(kind: MediaKind, data: &Value, path: &str) -> Result<Uploaded, ApiError> {
    let object = match data {
        Value::Array(list) => list.first(),
        other => Some(other),
    };
    let text = |field: &str| {
        object
            .and_then(|o| o.get(field))
            .and_then(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .filter(|s| !s.is_empty())
    };
    let id = text(kind.id_field()).ok_or_else(|| ApiError::Decode {
        endpoint: path.to_string(),
        detail: format!("an upload answer without its {}", kind.id_field()),
    })?;
    Ok(Uploaded {
        id,
        material_id: text("material_id"),
    })
}

#[cfg(test)]
mod tests {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer};

    use serde_json::{Value, json};

    use super::{MediaKind, PartSource};
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

    /// The text of a multipart body's part `name`.
    fn part(body: &str, name: &str) -> Option<String> {
        let start = body.find(&format!("name=\"{name}\""))?;
        let rest = &body[start..];
        let value = &rest[rest.find("\r\n\r\n")? + 4..];
        Some(value[..value.find("\r\n--")?].to_string())
    }

    #[tokio::test]
    async fn an_upload_sends_the_file_and_its_md5_as_multipart() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/open_api/v1.3/file/video/ad/upload/"))
            .respond_with(envelope(
                fixture("file_video_ad_upload.json")["data"].clone(),
            ))
            .mount(&server)
            .await;
        let uploaded = client(&server)
            .files()
            .upload(
                MediaKind::Video,
                "7301234567890123456",
                "spring.mp4",
                "5d41402abc4b2a76b9719d911017c592",
                PartSource::Bytes(bytes::Bytes::from_static(b"hello")),
            )
            .await
            .unwrap();
        assert_eq!(uploaded.id, "v10033g50000cexamplevideoid1");
        assert_eq!(uploaded.material_id.as_deref(), Some("7467000000000000202"));
        let request = &server.received_requests().await.unwrap()[0];
        let content_type = request.headers["content-type"].to_str().unwrap();
        assert!(
            content_type.starts_with("multipart/form-data"),
            "{content_type}"
        );
        let body = String::from_utf8_lossy(&request.body);
        assert_eq!(
            part(&body, "upload_type").as_deref(),
            Some("UPLOAD_BY_FILE")
        );
        assert_eq!(
            part(&body, "video_signature").as_deref(),
            Some("5d41402abc4b2a76b9719d911017c592")
        );
        assert_eq!(part(&body, "video_file").as_deref(), Some("hello"));
        assert!(body.contains("filename=\"spring.mp4\""), "{body}");
    }

    #[tokio::test]
    async fn a_chunk_is_read_from_disk_again_for_each_attempt() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/open_api/v1.3/file/transfer/upload/"))
            .respond_with(wiremock::ResponseTemplate::new(503))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/open_api/v1.3/file/transfer/upload/"))
            .respond_with(envelope(
                fixture("file_transfer_upload_last.json")["data"].clone(),
            ))
            .mount(&server)
            .await;
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), b"0123456789").unwrap();
        let source = PartSource::Range {
            path: file.path().to_path_buf(),
            offset: 4,
            len: 3,
        };
        let next = client(&server)
            .files()
            .transfer_chunk("7301234567890123456", "77", 4, "abc", source)
            .await
            .unwrap();
        assert_eq!(next.start_offset, next.end_offset, "every byte received");
        let requests = server.received_requests().await.unwrap();
        assert_eq!(requests.len(), 2);
        for request in &requests {
            let body = String::from_utf8_lossy(&request.body);
            assert_eq!(part(&body, "file").as_deref(), Some("456"));
            assert_eq!(part(&body, "start_offset").as_deref(), Some("4"));
            assert_eq!(part(&body, "upload_id").as_deref(), Some("77"));
        }
    }

    #[tokio::test]
    async fn names_are_checked_twenty_at_a_time() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/open_api/v1.3/file/name/check/"))
            .respond_with(envelope(
                fixture("file_name_check_batch.json")["data"].clone(),
            ))
            .mount(&server)
            .await;
        let names: Vec<String> = (0..21).map(|i| format!("n{i}.mp4")).collect();
        let checked = client(&server)
            .files()
            .check_names(MediaKind::Video, "7301234567890123456", &names)
            .await
            .unwrap();
        assert_eq!(checked.len(), 4, "two answers of two");
        assert!(checked[0].duplicate);
        assert_eq!(
            checked[0].duplicate_material_id.as_deref(),
            Some("7467000000000000202")
        );
        let requests = server.received_requests().await.unwrap();
        let files: Vec<Value> = requests
            .iter()
            .map(|r| {
                let (_, v) = r.url.query_pairs().find(|(k, _)| k == "files").unwrap();
                serde_json::from_str(&v).unwrap()
            })
            .collect();
        assert_eq!(files[0].as_array().unwrap().len(), 20);
        assert_eq!(
            files[1][0],
            json!({"file_name": "n20.mp4", "file_type": "VIDEO"})
        );
    }
}
