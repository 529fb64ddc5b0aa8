//! Reports: the synchronous `/report/integrated/get/` (paged, span-limited) and the
//! asynchronous `/report/task/*` endpoints (REFERENCE 9).

mod csv_check;
mod decode;

pub use csv_check::CsvShape;
pub use decode::{Columns, ReportPage, THROTTLE_HEADER};

use chrono::{Duration as Days, NaiveDate};
use serde::{Deserialize, Serialize};
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

pub const HOUR: &str = "stat_time_hour";
pub const DAY: &str = "stat_time_day";

/// One `filtering` entry of a report: `filter_value` is itself a JSON string (REFERENCE 9.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    pub field_name: String,
    pub filter_type: String,
    pub filter_value: String,
}

impl Filter {
    /// `field IN [values]` (or `NOT_IN`), with the list JSON-encoded into the value string.
    pub fn list(field: &str, filter_type: &str, values: &[String]) -> Self {
        Self {
            field_name: field.to_string(),
            filter_type: filter_type.to_string(),
            filter_value: serde_json::to_string(values).unwrap_or_else(|_| "[]".into()),
        }
    }
}

/// What a report asks for, independent of account, dates and page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReportSpec {
    pub report_type: String,
    pub data_level: Option<String>,
    pub dimensions: Vec<String>,
    pub metrics: Vec<String>,
    pub filtering: Vec<Filter>,
    pub order_field: Option<String>,
    pub order_type: Option<String>,
    pub page_size: u32,
    /// `query_lifetime`: the whole history, no dates.
    pub lifetime: bool,
}

/// An inclusive date range in the ad account's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl std::fmt::Display for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

impl ReportSpec {
    /// Whether rows are broken down by day or hour.
    pub fn has_time_breakdown(&self) -> bool {
        self.dimensions.iter().any(|d| d == DAY || d == HOUR)
    }

    /// Longest span one synchronous request may cover (REFERENCE 9.1).
    pub fn max_span_days(&self) -> i64 {
        if self.dimensions.iter().any(|d| d == HOUR) {
            1
        } else if self.dimensions.iter().any(|d| d == DAY) {
            30
        } else {
            365
        }
    }

    fn uses_service_type(&self) -> bool {
        matches!(self.report_type.as_str(), "BASIC" | "AUDIENCE")
    }

    /// The fields of a request for `advertiser_id` over `window`, in order: one list for both
    /// forms, the synchronous query and the asynchronous task's body.
    fn fields(&self, advertiser_id: &str, window: Option<Window>) -> Vec<(&'static str, Value)> {
        let mut fields = vec![
            ("advertiser_id", json!(advertiser_id)),
            ("report_type", json!(self.report_type)),
        ];
        if self.uses_service_type() {
            fields.push(("service_type", json!("AUCTION")));
        }
        if let Some(level) = &self.data_level {
            fields.push(("data_level", json!(level)));
        }
        fields.push(("dimensions", json!(self.dimensions)));
        fields.push(("metrics", json!(self.metrics)));
        match window {
            Some(w) if !self.lifetime => {
                fields.push(("start_date", json!(w.start.to_string())));
                fields.push(("end_date", json!(w.end.to_string())));
            }
            _ => fields.push(("query_lifetime", json!(true))),
        }
        if !self.filtering.is_empty() {
            fields.push(("filtering", json!(self.filtering)));
        }
        if let Some(field) = &self.order_field {
            fields.push(("order_field", json!(field)));
            fields.push((
                "order_type",
                json!(self.order_type.as_deref().unwrap_or("DESC")),
            ));
        }
        fields
    }

    /// The query of one synchronous page: scalars plain, arrays and objects JSON-encoded.
    pub fn page_query(&self, advertiser_id: &str, window: Option<Window>, page: u64) -> Query {
        self.fields(advertiser_id, window)
            .into_iter()
            .fold(Query::new(), |query, (key, value)| match value {
                Value::String(text) => query.param(key, text),
                Value::Array(_) | Value::Object(_) => query.json(key, &value),
                other => query.param(key, other),
            })
            .param("page", page)
            .param("page_size", self.page_size)
    }

    /// The body of an async task: the same fields (no date-span limit), CSV with field names
    /// as headers.
    pub fn task_body(&self, advertiser_id: &str, window: Option<Window>) -> Value {
        let mut body: serde_json::Map<String, Value> = self
            .fields(advertiser_id, window)
            .into_iter()
            .map(|(key, value)| (key.to_string(), value))
            .collect();
        body.insert("output_format".into(), json!("CSV_STRING"));
        body.insert("enable_report_title_translation".into(), json!(false));
        Value::Object(body)
    }
}

/// Splits `start..=end` into the fewest windows of at most `max_days` days, in date order.
pub fn split_windows(start: NaiveDate, end: NaiveDate, max_days: i64) -> Vec<Window> {
    let mut windows = Vec::new();
    let mut from = start;
    while from <= end {
        let to = (from + Days::days(max_days.max(1) - 1)).min(end);
        windows.push(Window {
            start: from,
            end: to,
        });
        from = to + Days::days(1);
    }
    windows
}

#[derive(Debug, Clone, Deserialize)]
pub struct TaskStatus {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub message: String,
}

/// How often a task's download is fetched again when it does not prove whole.
pub const DOWNLOAD_ATTEMPTS: u32 = 3;

/// What a task was asked for, kept by whoever created it, so that its download can later be
/// checked against TikTok's own row count.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskRecord {
    pub advertiser_id: String,
    pub spec: ReportSpec,
    pub window: Option<Window>,
}

impl Client {
    /// One page of a synchronous report, decoded into `columns` order and claimed in
    /// `check` (the page asked for, the same total as the first page, not a repeat) as it is
    /// decoded, so a page that fails the check is asked for again.
    pub async fn report_page(
        &self,
        spec: &ReportSpec,
        columns: &Columns,
        advertiser_id: &str,
        window: Option<Window>,
        page: u64,
        check: &std::sync::Mutex<PageCheck>,
    ) -> Result<ReportPage, ApiError> {
        let query = spec.page_query(advertiser_id, window, page);
        self.call_with(&Request::get(INTEGRATED_PATH, &query), |answer| {
            let decoded = decode::decode(INTEGRATED_PATH, answer, columns)?;
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

    /// TikTok's own count of a report's rows over `window`: the synchronous endpoint's
    /// `total_number`, from one single-row request per window it allows. `None` when it cannot
    /// be known: TikTok truncated the synchronous report (20,000+ ads), or refuses there a
    /// combination that only asynchronous reports take.
    pub async fn report_row_count(
        &self,
        spec: &ReportSpec,
        advertiser_id: &str,
        window: Option<Window>,
    ) -> Result<Option<u64>, ApiError> {
        let windows: Vec<Option<Window>> = match window {
            Some(w) if !spec.lifetime => split_windows(w.start, w.end, spec.max_span_days())
                .into_iter()
                .map(Some)
                .collect(),
            _ => vec![None],
        };
        let no_columns = Columns::new(Vec::new());
        let mut total = 0u64;
        for window in windows {
            let query = spec
                .page_query(advertiser_id, window, 1)
                .set("page_size", 1);
            let probe = self
                .call_with(&Request::get(INTEGRATED_PATH, &query), |answer| {
                    decode::decode(INTEGRATED_PATH, answer, &no_columns)
                })
                .await;
            match probe {
                Ok(page) if page.truncated.is_some() => return Ok(None),
                Ok(page) => total += page.page_info.total_number,
                Err(e) if !e.is_transient() && !e.is_auth() => {
                    tracing::info!("the row count of the report cannot be known: {e}");
                    return Ok(None);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(Some(total))
    }

    pub async fn create_report_task(&self, body: &Value) -> Result<String, ApiError> {
        #[derive(Deserialize)]
        struct Created {
            #[serde(deserialize_with = "crate::api::transport::ids::string_or_number")]
            task_id: String,
        }
        // A repeated create only makes a second task; nothing is lost or doubled.
        let created: Created = self
            .post(TASK_CREATE_PATH, body, Auth::Token, Replay::Safe)
            .await?;
        Ok(created.task_id)
    }

    pub async fn report_task_status(
        &self,
        advertiser_id: &str,
        task_id: &str,
    ) -> Result<TaskStatus, ApiError> {
        let query = Query::new()
            .param("advertiser_id", advertiser_id)
            .param("task_id", task_id);
        self.get(TASK_CHECK_PATH, &query).await
    }

    pub async fn cancel_report_task(
        &self,
        advertiser_id: &str,
        task_id: &str,
    ) -> Result<TaskStatus, ApiError> {
        let body = json!({"advertiser_id": advertiser_id, "task_id": task_id});
        self.post(TASK_CANCEL_PATH, &body, Auth::Token, Replay::Safe)
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
            let wait = self.retry_policy().base_delay * attempt;
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
            auth: Auth::None,
            replay: Replay::Safe,
        };
        match self.download(&presigned, file).await? {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn january_daily_is_thirty_days_then_one() {
        let w = split_windows(date("2025-01-01"), date("2025-01-31"), 30);
        assert_eq!(
            w,
            [
                Window {
                    start: date("2025-01-01"),
                    end: date("2025-01-30")
                },
                Window {
                    start: date("2025-01-31"),
                    end: date("2025-01-31")
                }
            ]
        );
    }

    #[test]
    fn hourly_is_one_day_each_and_aggregate_is_365() {
        assert_eq!(
            split_windows(date("2025-01-01"), date("2025-01-03"), 1).len(),
            3
        );
        // 2024 is a leap year: 366 days need two windows.
        let w = split_windows(date("2024-01-01"), date("2025-06-30"), 365);
        assert_eq!(w.len(), 2);
        assert_eq!((w[0].end - w[0].start).num_days() + 1, 365);
        assert_eq!(w[1].start, date("2024-12-31"));
        assert_eq!(w[1].end, date("2025-06-30"));
        assert!(split_windows(date("2025-01-02"), date("2025-01-01"), 30).is_empty());
    }

    #[test]
    fn the_query_and_the_task_body_carry_the_same_fields() {
        let spec = ReportSpec {
            report_type: "BASIC".into(),
            data_level: Some("AUCTION_AD".into()),
            dimensions: vec!["ad_id".into(), DAY.into()],
            metrics: vec!["spend".into()],
            filtering: vec![Filter::list("ad_status", "IN", &["STATUS_ALL".to_string()])],
            order_field: Some("spend".into()),
            order_type: None,
            page_size: 500,
            lifetime: false,
        };
        let window = Window {
            start: date("2025-01-01"),
            end: date("2025-01-30"),
        };
        let query = spec.page_query("7301234567890123456", Some(window), 2);
        let body = spec.task_body("7301234567890123456", Some(window));
        for (key, value) in body.as_object().unwrap() {
            if key == "output_format" || key == "enable_report_title_translation" {
                continue;
            }
            let in_query = query.get(key).unwrap_or_else(|| panic!("{key} missing"));
            match value {
                Value::String(text) => assert_eq!(in_query, text, "{key}"),
                other => assert_eq!(in_query, other.to_string(), "{key}"),
            }
        }
        assert_eq!(query.get("page"), Some("2"));
        assert_eq!(query.get("page_size"), Some("500"));
        assert_eq!(body["order_type"], "DESC");
        assert_eq!(body["enable_report_title_translation"], false);
    }

    #[test]
    fn filters_are_double_encoded() {
        let f = Filter::list("ad_status", "IN", &["STATUS_ALL".to_string()]);
        assert_eq!(
            serde_json::to_string(&[f]).unwrap(),
            r#"[{"field_name":"ad_status","filter_type":"IN","filter_value":"[\"STATUS_ALL\"]"}]"#
        );
    }
}
