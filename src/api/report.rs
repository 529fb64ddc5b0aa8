//! Reports: the synchronous `/report/integrated/get/` (paged, span-limited) and the
//! asynchronous `/report/task/*` endpoints (REFERENCE 9).

use chrono::{Duration as Days, NaiveDate};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::client::{Auth, Client, Request};
use super::error::ApiError;
use super::query::Query;
use super::report_page::{self, Columns, ReportPage};
use super::retry::Replay;

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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

    /// The query of one synchronous page.
    pub fn page_query(&self, advertiser_id: &str, window: Option<Window>, page: u64) -> Query {
        let mut query = Query::new()
            .param("advertiser_id", advertiser_id)
            .param("report_type", &self.report_type);
        if self.uses_service_type() {
            query = query.param("service_type", "AUCTION");
        }
        if let Some(level) = &self.data_level {
            query = query.param("data_level", level);
        }
        query = query
            .json("dimensions", &self.dimensions)
            .json("metrics", &self.metrics);
        match window {
            Some(w) if !self.lifetime => {
                query = query.param("start_date", w.start).param("end_date", w.end)
            }
            _ => query = query.param("query_lifetime", "true"),
        }
        if !self.filtering.is_empty() {
            query = query.json("filtering", &self.filtering);
        }
        if let Some(field) = &self.order_field {
            query = query.param("order_field", field);
            query = query.param("order_type", self.order_type.as_deref().unwrap_or("DESC"));
        }
        query.param("page", page).param("page_size", self.page_size)
    }

    /// The body of an async task: same meaning, no date-span limit, field names as headers.
    pub fn task_body(&self, advertiser_id: &str, window: Option<Window>) -> Value {
        let mut body = json!({
            "advertiser_id": advertiser_id,
            "report_type": self.report_type,
            "dimensions": self.dimensions,
            "metrics": self.metrics,
            "output_format": "CSV_STRING",
            "enable_report_title_translation": false,
        });
        if self.uses_service_type() {
            body["service_type"] = json!("AUCTION");
        }
        if let Some(level) = &self.data_level {
            body["data_level"] = json!(level);
        }
        match window {
            Some(w) if !self.lifetime => {
                body["start_date"] = json!(w.start.to_string());
                body["end_date"] = json!(w.end.to_string());
            }
            _ => body["query_lifetime"] = json!(true),
        }
        if !self.filtering.is_empty() {
            body["filtering"] = json!(self.filtering);
        }
        if let Some(field) = &self.order_field {
            body["order_field"] = json!(field);
            body["order_type"] = json!(self.order_type.as_deref().unwrap_or("DESC"));
        }
        body
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

/// What `/report/task/download/` answered.
pub enum TaskDownload {
    /// The CSV itself (output format `CSV_STRING`), to be streamed.
    Csv(super::client::FileStream),
    /// A pre-signed URL (output formats `CSV_DOWNLOAD` / `XLSX_DOWNLOAD`), valid for an hour.
    Url { url: String, file_name: String },
}

impl Client {
    /// One page of a synchronous report, decoded into `columns` order.
    pub async fn report_page(
        &self,
        spec: &ReportSpec,
        columns: &Columns,
        advertiser_id: &str,
        window: Option<Window>,
        page: u64,
    ) -> Result<ReportPage, ApiError> {
        let query = spec.page_query(advertiser_id, window, page);
        let request = Request {
            method: &Method::GET,
            path: INTEGRATED_PATH,
            query: Some(&query),
            body: None,
            auth: Auth::Token,
            replay: Replay::Safe,
        };
        self.call_with(&request, |status, headers, bytes| {
            report_page::decode(INTEGRATED_PATH, status, headers, bytes, columns)
        })
        .await
    }

    pub async fn create_report_task(&self, body: &Value) -> Result<String, ApiError> {
        #[derive(Deserialize)]
        struct Created {
            #[serde(deserialize_with = "super::ids::string_or_number")]
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

    /// Starts the download of a finished task: the CSV stream itself, or its URL.
    pub async fn download_report_task(
        &self,
        advertiser_id: &str,
        task_id: &str,
    ) -> Result<TaskDownload, ApiError> {
        let query = Query::new()
            .param("advertiser_id", advertiser_id)
            .param("task_id", task_id);
        match self.get_stream(TASK_DOWNLOAD_PATH, &query).await? {
            super::client::Streamed::Body(response) => Ok(TaskDownload::Csv(response)),
            super::client::Streamed::Envelope(envelope) => {
                #[derive(Deserialize)]
                struct Link {
                    #[serde(default)]
                    download_url: String,
                    #[serde(default)]
                    file_name: String,
                }
                let link: Link = envelope.data(TASK_DOWNLOAD_PATH)?;
                if link.download_url.is_empty() {
                    return Err(ApiError::Decode {
                        endpoint: TASK_DOWNLOAD_PATH.into(),
                        detail: format!(
                            "neither a CSV nor a download URL (request_id {})",
                            envelope.request_id
                        ),
                    });
                }
                Ok(TaskDownload::Url {
                    url: link.download_url,
                    file_name: link.file_name,
                })
            }
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
    fn filters_are_double_encoded() {
        let f = Filter::list("ad_status", "IN", &["STATUS_ALL".to_string()]);
        assert_eq!(
            serde_json::to_string(&[f]).unwrap(),
            r#"[{"field_name":"ad_status","filter_type":"IN","filter_value":"[\"STATUS_ALL\"]"}]"#
        );
    }
}
