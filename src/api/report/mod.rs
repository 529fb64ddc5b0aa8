//! Reports: the synchronous `/report/integrated/get/` (paged, span-limited) and the
//! asynchronous `/report/task/*` endpoints (REFERENCE 9).

mod csv_check;
mod decode;
mod scan;

pub use csv_check::CsvShape;
pub use decode::{Columns, PageBuffers, ReportPage, THROTTLE_HEADER};

use serde::Deserialize;
use serde_json::{Value, json};
use url::Url;

use crate::api::transport::client::{Auth, Client, Downloaded, Method, Request, Target};
use crate::api::transport::error::ApiError;
use crate::api::transport::paging::PageCheck;
use crate::api::transport::query::Query;
use crate::api::transport::retry::Replay;

pub const INTEGRATED_PATH: &str = "/report/integrated/get/";
pub const TASK_CREATE_PATH: &str = "/report/task/create/";
pub const TASK_CHECK_PATH: &str = "/report/task/check/";
pub const TASK_DOWNLOAD_PATH: &str = "/report/task/download/";
pub const TASK_CANCEL_PATH: &str = "/report/task/cancel/";

/// Largest `page_size` of the report endpoint.
pub const PAGE_SIZE_MAX: u32 = 1000;

#[derive(Debug, Clone, Deserialize)]
pub struct TaskStatus {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub message: String,
}

/// How often a task's download is fetched again when it does not prove whole.
pub const DOWNLOAD_ATTEMPTS: u32 = 3;

/// The report endpoints, from [`Client::reports`].
#[derive(Clone, Copy)]
pub struct Reports<'c> {
    pub(super) client: &'c Client,
}

impl<'c> Reports<'c> {
    /// One page of a synchronous report (`query` asks for page `page`), decoded into `columns`
    /// order (in buffers from `buffers`) and claimed in `check` (the page asked for, the same
    /// total as the first page, not a repeat) as it is decoded, so a page that fails the check
    /// is asked for again.
    pub async fn page(
        &self,
        query: &Query,
        columns: &Columns,
        buffers: &PageBuffers,
        page: u64,
        check: &std::sync::Mutex<PageCheck>,
    ) -> Result<ReportPage, ApiError> {
        let request = Request::get(INTEGRATED_PATH, query);
        self.client
            .call_with(&request, |answer| {
                let decoded = decode::decode(INTEGRATED_PATH, answer, columns, buffers)?;
                let mut check = check.lock().unwrap_or_else(|p| p.into_inner());
                check
                    .claim(
                        page,
                        &decoded.page_info,
                        decoded.rows(),
                        decoded.fingerprint(),
                    )
                    .map_err(|detail| ApiError::Inconsistent {
                        endpoint: INTEGRATED_PATH.to_string(),
                        detail: format!("{detail} (request_id {})", decoded.request_id),
                    })?;
                Ok(decoded)
            })
            .await
    }

    /// One page asked for its envelope and `page_info` alone (no row decoded): TikTok's
    /// `total_number` for the query, and whether it truncated the report.
    pub async fn probe(&self, query: &Query) -> Result<ReportPage, ApiError> {
        let no_columns = Columns::new(Vec::new());
        self.client
            .call_with(&Request::get(INTEGRATED_PATH, query), |answer| {
                decode::decode(
                    INTEGRATED_PATH,
                    answer,
                    &no_columns,
                    &PageBuffers::default(),
                )
            })
            .await
    }

    pub async fn create_task(&self, body: &Value) -> Result<String, ApiError> {
        #[derive(Deserialize)]
        struct Created {
            #[serde(deserialize_with = "crate::api::transport::ids::string_or_number")]
            task_id: String,
        }
        // A repeated create only makes a second task; nothing is lost or doubled.
        let created: Created = self
            .client
            .post(TASK_CREATE_PATH, body, Auth::Token, Replay::Safe)
            .await?;
        Ok(created.task_id)
    }

    pub async fn task_status(
        &self,
        advertiser_id: &str,
        task_id: &str,
    ) -> Result<TaskStatus, ApiError> {
        let query = Query::new()
            .param("advertiser_id", advertiser_id)
            .param("task_id", task_id);
        self.client.get(TASK_CHECK_PATH, &query).await
    }

    pub async fn cancel_task(
        &self,
        advertiser_id: &str,
        task_id: &str,
    ) -> Result<TaskStatus, ApiError> {
        let body = json!({"advertiser_id": advertiser_id, "task_id": task_id});
        self.client
            .post(TASK_CANCEL_PATH, &body, Auth::Token, Replay::Safe)
            .await
    }

    /// A finished task's CSV, downloaded into `file` (from the answer itself or from the
    /// pre-signed URL it gives) and proven whole before it is handed back: strict CSV ending
    /// with a line break and, when `expected` is known, exactly that many rows. A download
    /// that fails the proof is fetched again; after [`DOWNLOAD_ATTEMPTS`] the error is
    /// [`ApiError::Inconsistent`] (a transient failure) and `file` holds nothing of use.
    pub async fn fetch_task_csv(
        &self,
        advertiser_id: &str,
        task_id: &str,
        expected: Option<u64>,
        file: &mut std::fs::File,
    ) -> Result<CsvShape, ApiError> {
        let mut attempt = 1;
        loop {
            self.download_task(advertiser_id, task_id, file).await?;
            let problem = match csv_check::check(file) {
                Ok(shape) if expected.is_none_or(|n| n == shape.rows) => return Ok(shape),
                Ok(shape) => format!(
                    "the download of task {task_id} holds {} rows where TikTok counts {}",
                    shape.rows,
                    expected.unwrap_or_default()
                ),
                Err(problem) => format!("task {task_id}: {problem}"),
            };
            let error = ApiError::Inconsistent {
                endpoint: TASK_DOWNLOAD_PATH.to_string(),
                detail: problem,
            };
            if attempt >= DOWNLOAD_ATTEMPTS {
                return Err(ApiError::RetriesExhausted {
                    attempts: attempt,
                    elapsed: std::time::Duration::ZERO,
                    last: Box::new(error),
                });
            }
            let wait = self.client.retry_policy().base_delay * attempt;
            tracing::info!(
                "downloading task {task_id} again in {} ms: {error}",
                wait.as_millis()
            );
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// One download of a task's output into `file`, following the pre-signed URL when the
    /// answer is one (fetched without the token).
    async fn download_task(
        &self,
        advertiser_id: &str,
        task_id: &str,
        file: &mut std::fs::File,
    ) -> Result<(), ApiError> {
        let query = Query::new()
            .param("advertiser_id", advertiser_id)
            .param("task_id", task_id);
        let envelope = match self
            .client
            .download(&Request::get(TASK_DOWNLOAD_PATH, &query), file)
            .await?
        {
            Downloaded::File(_) => return Ok(()),
            Downloaded::Envelope(envelope) => envelope,
        };
        #[derive(Deserialize)]
        struct Link {
            #[serde(default)]
            download_url: String,
        }
        let link: Link = envelope.data(TASK_DOWNLOAD_PATH)?;
        let url = Url::parse(&link.download_url).map_err(|e| ApiError::Decode {
            endpoint: TASK_DOWNLOAD_PATH.into(),
            detail: format!(
                "neither a CSV nor a usable download URL ({e}; request_id {})",
                envelope.request_id
            ),
        })?;
        let presigned = Request {
            method: Method::Get,
            target: Target::Presigned(&url),
            query: None,
            body: None,
            form: None,
            auth: Auth::None,
            replay: Replay::Safe,
        };
        match self.client.download(&presigned, file).await? {
            Downloaded::File(_) => Ok(()),
            Downloaded::Envelope(envelope) => Err(ApiError::Decode {
                endpoint: "download URL".into(),
                detail: format!(
                    "an envelope instead of the report (request_id {})",
                    envelope.request_id
                ),
            }),
        }
    }
}
