//! What a report asks for, independent of account, dates and page, and how one request of it
//! is written: the query of a synchronous page and the body of an asynchronous task carry the
//! same fields (REFERENCE 9.1, 9.5).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::window::Window;
use crate::api::Query;

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

/// What a task was asked for, kept by whoever created it, so that its download can later be
/// checked against TikTok's own row count.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskRecord {
    pub advertiser_id: String,
    pub spec: ReportSpec,
    pub window: Option<Window>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> chrono::NaiveDate {
        s.parse().unwrap()
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
