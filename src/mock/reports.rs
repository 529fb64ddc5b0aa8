//! `/report/integrated/get/` (paged, with TikTok's date-span limits and codes) and the async
//! `/report/task/*` endpoints. Numbers are made up but deterministic: the same query always
//! gives the same rows.

use std::collections::HashMap;
use std::fmt::Write as _;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{Duration as Days, NaiveDate};
use serde_json::{Map, Value, json};

use super::state::{Task, account};
use super::{Mock, body_json, error, json_param, ok};

/// Field name and value pairs of one row.
type Pairs = Vec<(String, String)>;

/// A report's rows, computed on demand (a million synthetic rows take no memory).
struct Rows {
    dimensions: Vec<String>,
    metrics: Vec<String>,
    entities: Vec<Map<String, Value>>,
    times: Vec<String>,
    synthetic: Option<u64>,
    start: NaiveDate,
    currency: &'static str,
}

impl Rows {
    fn len(&self) -> u64 {
        match self.synthetic {
            Some(n) => n,
            None => (self.entities.len() * self.times.len().max(1)) as u64,
        }
    }

    /// Row `i` as (dimension pairs, metric pairs).
    fn row(&self, i: u64, day_spelling_async: bool) -> (Pairs, Pairs) {
        let (id, name, entity, time) = match self.synthetic {
            Some(_) => {
                let day = self.start + Days::days((i % 30) as i64);
                (
                    (1_800_000_000_000_000_000u64 + i / 30).to_string(),
                    format!("Synthetic ad {}", i / 30),
                    None,
                    format!("{day} 00:00:00"),
                )
            }
            None => {
                let per = self.times.len().max(1) as u64;
                let entity = &self.entities[(i / per) as usize];
                let id_key = entity.keys().find(|k| {
                    k.ends_with("_id") && *k != "advertiser_id" && self.dimensions.contains(*k)
                });
                let id = id_key
                    .and_then(|k| entity.get(k))
                    .or_else(|| entity.get("advertiser_id"))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let time = self
                    .times
                    .get((i % per) as usize)
                    .cloned()
                    .unwrap_or_default();
                (id, String::new(), Some(entity), time)
            }
        };
        let seed = fnv(&format!("{id}|{time}"));
        let dims = self
            .dimensions
            .iter()
            .map(|d| {
                let value = match d.as_str() {
                    "stat_time_day" if day_spelling_async => {
                        time.get(..10).unwrap_or_default().to_string()
                    }
                    "stat_time_day" | "stat_time_hour" => time.clone(),
                    "advertiser_id" | "campaign_id" | "adgroup_id" | "ad_id" => entity
                        .and_then(|e| e.get(d.as_str()))
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .unwrap_or_else(|| id.clone()),
                    "country_code" => if seed.is_multiple_of(2) { "US" } else { "DE" }.to_string(),
                    _ => "-".to_string(),
                };
                (d.clone(), value)
            })
            .collect();
        let impressions = 1_000 + seed % 50_000;
        let clicks = impressions * (5 + seed % 20) / 1_000;
        let spend_cents = impressions * (150 + seed % 300) / 1_000;
        let conversions = clicks / (20 + seed % 30);
        let money = |cents: u64| format!("{}.{:02}", cents / 100, cents % 100);
        let ratio = |num: u64, den: u64, scale: u64| {
            (num * scale * 100)
                .checked_div(den)
                .map_or_else(|| "0.00".to_string(), money)
        };
        let metrics = self
            .metrics
            .iter()
            .map(|m| {
                let value = match m.as_str() {
                    "spend" | "billed_cost" | "cash_spend" => money(spend_cents),
                    "voucher_spend" => "0.00".to_string(),
                    "impressions" | "gross_impressions" => impressions.to_string(),
                    "reach" => (impressions * 8 / 10).to_string(),
                    "frequency" => "1.25".to_string(),
                    "clicks" => clicks.to_string(),
                    "ctr" => ratio(clicks, impressions, 100),
                    "cpc" => ratio(spend_cents, clicks * 100, 1),
                    "cpm" => ratio(spend_cents * 10, impressions, 1),
                    "conversion" | "result" => conversions.to_string(),
                    "cost_per_conversion" | "cost_per_result" => {
                        if conversions == 0 {
                            "-".to_string()
                        } else {
                            ratio(spend_cents, conversions * 100, 1)
                        }
                    }
                    "conversion_rate" | "result_rate" => ratio(conversions, clicks, 100),
                    "currency" => self.currency.to_string(),
                    "campaign_name" | "adgroup_name" | "ad_name" | "objective_type" => entity
                        .and_then(|e| e.get(m.as_str()))
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .unwrap_or_else(|| {
                            if name.is_empty() {
                                "-".into()
                            } else {
                                name.clone()
                            }
                        }),
                    _ => (seed % 997).to_string(),
                };
                (m.clone(), value)
            })
            .collect();
        (dims, metrics)
    }
}

fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

struct Ask {
    advertiser: String,
    dimensions: Vec<String>,
    metrics: Vec<String>,
    data_level: String,
    range: Option<(NaiveDate, NaiveDate)>,
    include_deleted: bool,
}

fn rows_for(mock: &Mock, ask: &Ask) -> Rows {
    let kind = match ask.data_level.as_str() {
        "AUCTION_ADGROUP" => Some("adgroup"),
        "AUCTION_AD" => Some("ad"),
        "AUCTION_ADVERTISER" => None,
        _ => Some("campaign"),
    };
    let entities: Vec<Map<String, Value>> = match kind {
        Some(kind) => mock
            .state()
            .entities
            .get(kind)
            .map(|all| {
                all.iter()
                    .filter(|e| {
                        e.get("advertiser_id").and_then(Value::as_str)
                            == Some(ask.advertiser.as_str())
                    })
                    .filter(|e| {
                        ask.include_deleted
                            || e.get("operation_status").and_then(Value::as_str) != Some("DELETE")
                    })
                    .cloned()
                    .collect()
            })
            .unwrap_or_default(),
        None => vec![Map::from_iter([(
            "advertiser_id".to_string(),
            json!(ask.advertiser),
        )])],
    };
    let mut times = Vec::new();
    if let Some((start, end)) = ask.range {
        let hourly = ask.dimensions.iter().any(|d| d == "stat_time_hour");
        let daily = ask.dimensions.iter().any(|d| d == "stat_time_day");
        let mut day = start;
        while day <= end && (hourly || daily) {
            if hourly {
                times.extend((0..24).map(|h| format!("{day} {h:02}:00:00")));
            } else {
                times.push(format!("{day} 00:00:00"));
            }
            day += Days::days(1);
        }
    }
    Rows {
        dimensions: ask.dimensions.clone(),
        metrics: ask.metrics.clone(),
        entities,
        times,
        synthetic: mock.options.rows,
        start: ask.range.map_or_else(
            || NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default(),
            |r| r.0,
        ),
        currency: account(&ask.advertiser).map_or("USD", |a| a.currency),
    }
}

/// Reads and checks what a report asks for; `span_limit` applies to the synchronous endpoint.
fn ask(get: impl Fn(&str) -> Option<Value>, span_limit: bool) -> Result<Ask, Response> {
    let text = |k: &str| {
        get(k).and_then(|v| {
            v.as_str()
                .map(str::to_string)
                .or_else(|| Some(v.to_string()).filter(|s| s != "null"))
        })
    };
    let advertiser = text("advertiser_id").unwrap_or_default();
    if account(&advertiser).is_none() {
        return Err(error(
            40001,
            &format!("No permission to operate advertiser {advertiser}."),
        ));
    }
    if text("report_type").is_none() {
        return Err(error(40002, "report_type is required."));
    }
    let list = |k: &str| -> Vec<String> {
        match get(k) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            Some(Value::String(s)) => serde_json::from_str::<Vec<String>>(&s).unwrap_or_default(),
            _ => Vec::new(),
        }
    };
    let dimensions = list("dimensions");
    if dimensions.is_empty() {
        return Err(error(40002, "dimensions is required."));
    }
    let mut metrics = list("metrics");
    if metrics.is_empty() {
        metrics = vec!["spend".into(), "impressions".into()];
    }
    let lifetime = matches!(text("query_lifetime").as_deref(), Some("true"));
    let range = if lifetime {
        None
    } else {
        let date = |k: &str| text(k).and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok());
        let (Some(start), Some(end)) = (date("start_date"), date("end_date")) else {
            return Err(error(
                40002,
                "start_date and end_date (YYYY-MM-DD) are required unless query_lifetime is true.",
            ));
        };
        if end < start {
            return Err(error(
                40002,
                "end_date must not be earlier than start_date.",
            ));
        }
        let days = (end - start).num_days() + 1;
        let limit = if dimensions.iter().any(|d| d == "stat_time_hour") {
            1
        } else if dimensions.iter().any(|d| d == "stat_time_day") {
            30
        } else {
            365
        };
        if span_limit && days > limit {
            return Err(error(
                40002,
                &format!(
                    "The time span between start_date and end_date cannot exceed {limit} days for these dimensions."
                ),
            ));
        }
        Some((start, end))
    };
    let filtering = match get("filtering") {
        Some(Value::String(s)) => serde_json::from_str::<Value>(&s).unwrap_or(Value::Null),
        Some(v) => v,
        None => Value::Null,
    };
    let include_deleted = filtering.to_string().contains("STATUS_ALL");
    Ok(Ask {
        advertiser,
        dimensions,
        metrics,
        data_level: text("data_level").unwrap_or_else(|| "AUCTION_CAMPAIGN".into()),
        range,
        include_deleted,
    })
}

pub async fn integrated(
    State(mock): State<Mock>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (page, size) = match super::state::page_params(&q, 1000) {
        Ok(p) => p,
        Err(e) => return e,
    };
    // Big synthetic reports: each page is rendered once and then served from memory.
    let mut key: Vec<(&String, &String)> = q.iter().collect();
    key.sort();
    let key = format!("{key:?}");
    if mock.options.rows.is_some()
        && let Some(body) = mock
            .page_cache
            .lock()
            .ok()
            .and_then(|c| c.get(&key).cloned())
    {
        return ([(header::CONTENT_TYPE, "application/json")], body).into_response();
    }
    let ask = match ask(
        |k| {
            q.get(k)
                .map(|v| json_param(&q, k).unwrap_or_else(|| json!(v)))
        },
        true,
    ) {
        Ok(a) => a,
        Err(e) => return e,
    };
    let rows = rows_for(&mock, &ask);
    let total = rows.len();
    let mut body = String::with_capacity((size as usize) * 360);
    body.push_str(r#"{"code":0,"message":"OK","request_id":"mockreport","data":{"list":["#);
    for i in ((page - 1) * size)..(page * size).min(total) {
        if i > (page - 1) * size {
            body.push(',');
        }
        let (dims, metrics) = rows.row(i, false);
        let object = |pairs: Vec<(String, String)>| {
            Value::Object(
                pairs
                    .into_iter()
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect(),
            )
        };
        let _ = write!(
            body,
            r#"{{"dimensions":{},"metrics":{}}}"#,
            object(dims),
            object(metrics)
        );
    }
    let _ = write!(
        body,
        r#"],"page_info":{{"page":{page},"page_size":{size},"total_number":{total},"total_page":{}}}}}}}"#,
        total.div_ceil(size)
    );
    let body = Bytes::from(body);
    if mock.options.rows.is_some()
        && let Ok(mut cache) = mock.page_cache.lock()
    {
        cache.insert(key, body.clone());
    }
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

pub async fn task_create(State(mock): State<Mock>, body: Bytes) -> Response {
    let body = match body_json(&body) {
        Ok(b) => b,
        Err(e) => return e,
    };
    if let Err(e) = ask(|k| body.get(k).cloned(), false) {
        return e;
    }
    let mut state = mock.state();
    let task_id = state.new_id();
    let advertiser_id = body
        .get("advertiser_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    state.tasks.insert(
        task_id.clone(),
        Task {
            advertiser_id,
            body,
            checks: 0,
            canceled: false,
        },
    );
    ok(json!({"task_id": task_id}))
}

fn task_param(q: &HashMap<String, String>) -> (&str, &str) {
    (
        q.get("advertiser_id")
            .map(String::as_str)
            .unwrap_or_default(),
        q.get("task_id").map(String::as_str).unwrap_or_default(),
    )
}

/// QUEUING on the first check, PROCESSING on the second, SUCCESS after.
fn status_of(task: &Task) -> &'static str {
    match (task.canceled, task.checks) {
        (true, _) => "CANCELED",
        (false, 0) => "QUEUING",
        (false, 1) => "PROCESSING",
        _ => "SUCCESS",
    }
}

pub async fn task_check(
    State(mock): State<Mock>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (advertiser, task_id) = task_param(&q);
    let mut state = mock.state();
    let Some(task) = state
        .tasks
        .get_mut(task_id)
        .filter(|t| t.advertiser_id == advertiser)
    else {
        return error(40007, "The task does not exist.");
    };
    let status = status_of(task);
    task.checks += 1;
    ok(json!({"status": status, "message": ""}))
}

pub async fn task_download(
    State(mock): State<Mock>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (advertiser, task_id) = task_param(&q);
    let body = {
        let state = mock.state();
        let Some(task) = state
            .tasks
            .get(task_id)
            .filter(|t| t.advertiser_id == advertiser)
        else {
            return error(40007, "The task does not exist.");
        };
        if status_of(task) != "SUCCESS" {
            return error(40201, "The task is not ready yet; check its status.");
        }
        task.body.clone()
    };
    let ask = match ask(|k| body.get(k).cloned(), false) {
        Ok(a) => a,
        Err(e) => return e,
    };
    let rows = rows_for(&mock, &ask);
    let mut csv = csv::Writer::from_writer(Vec::new());
    let _ = csv.write_record(ask.dimensions.iter().chain(&ask.metrics));
    for i in 0..rows.len() {
        let (dims, metrics) = rows.row(i, true);
        let _ = csv.write_record(dims.iter().chain(&metrics).map(|(_, v)| v));
    }
    let bytes = csv.into_inner().unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/csv")], bytes).into_response()
}

pub async fn task_cancel(State(mock): State<Mock>, body: Bytes) -> Response {
    let body = match body_json(&body) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let task_id = body
        .get("task_id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut state = mock.state();
    let Some(task) = state.tasks.get_mut(task_id) else {
        return error(40007, "The task does not exist.");
    };
    if status_of(task) == "SUCCESS" {
        return error(40002, "Only queued or running tasks can be canceled.");
    }
    task.canceled = true;
    ok(json!({"status": "CANCELED"}))
}
