//! `/report/integrated/get/` (paged) and the asynchronous `/report/task/*` endpoints, with a
//! download in both of TikTok's forms (the CSV itself, or a pre-signed URL to it) and TikTok's
//! CSV header titles unless `enable_report_title_translation` is false.

pub(super) mod numbers;
mod query;
mod rows;

use std::collections::HashMap;
use std::fmt::Write as _;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde_json::{Value, json};

use super::answer::{error, invalid, log_id, ok, with_log_id};
use super::auth::check_advertiser;
use super::params::{Checked, Params};
use super::world::{Grant, Task, World};
use super::{Mock, body_params};
use query::ReportQuery;

fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

fn object(pairs: impl IntoIterator<Item = (String, String)>) -> Value {
    Value::Object(
        pairs
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect(),
    )
}

/// `--rows N`: N synthetic ad × day rows, computed on demand (a million take no memory), for
/// benchmarks of big exports.
fn synthetic_row(i: u64, query: &ReportQuery, world: &World) -> (Value, Value) {
    let start = query.range.map_or_else(
        || NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default(),
        |r| r.0,
    );
    let day = start + chrono::Duration::days((i % 30) as i64);
    let id = (1_800_000_000_000_000_000u64 + i / 30).to_string();
    let amounts = numbers::ad_day(world.seed_on(day), &id, day);
    let dims = query.dimensions.iter().map(|d| {
        let v = match d.as_str() {
            "stat_time_day" => format!("{day} 00:00:00"),
            "stat_time_hour" => format!("{day} 00:00:00"),
            _ if d.ends_with("_id") => id.clone(),
            _ => "-".to_string(),
        };
        (d.clone(), v)
    });
    let metrics = query.metrics.iter().map(|m| {
        let v =
            numbers::value(m, &amounts, 1).unwrap_or_else(|| format!("Synthetic ad {}", i / 30));
        (m.clone(), v)
    });
    (object(dims), object(metrics))
}

pub(super) async fn integrated(
    State(mock): State<Mock>,
    Extension(grant): Extension<Grant>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
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
        let id = log_id();
        return with_log_id(
            ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
            &id,
        );
    }
    let params = Params::Query(q);
    let read =
        query::read(&params, &grant, true).and_then(|query| Ok((query, params.paging(1000)?)));
    let (query, (page, size)) = match read {
        Ok(parts) => parts,
        Err(e) => return e,
    };
    let id = log_id();
    let mut body = String::with_capacity((size as usize) * 360);
    let _ = write!(
        body,
        r#"{{"code":0,"message":"OK","request_id":"{id}","data":{{"list":["#
    );
    let (total, totals) = write_rows(&mut body, &mock, &query, page, size);
    let _ = write!(
        body,
        r#"],"page_info":{{"page":{page},"page_size":{size},"total_number":{total},"total_page":{}}}"#,
        total.div_ceil(size)
    );
    if let Some(totals) = totals {
        let _ = write!(body, r#","total_metrics":{totals}"#);
    }
    body.push_str("}}");
    let body = Bytes::from(body);
    if mock.options.rows.is_some()
        && let Ok(mut cache) = mock.page_cache.lock()
    {
        cache.insert(key, body.clone());
    }
    with_log_id(
        ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        &id,
    )
}

/// Page `page` of the rows (synthetic ones when the simulator makes big reports) into `body`,
/// comma-separated; the rows in all, and the totals when asked for.
fn write_rows(
    body: &mut String,
    mock: &Mock,
    query: &ReportQuery,
    page: u64,
    size: u64,
) -> (u64, Option<Value>) {
    let first = (page - 1) * size;
    if let Some(n) = mock.options.rows {
        let world = mock.world();
        for i in first..(page * size).min(n) {
            if i > first {
                body.push(',');
            }
            let (dims, metrics) = synthetic_row(i, query, &world);
            let _ = write!(body, r#"{{"dimensions":{dims},"metrics":{metrics}}}"#);
        }
        (n, None)
    } else {
        let world = mock.world();
        let all = rows::rows(&world, query, today());
        for (k, row) in all
            .iter()
            .skip(first as usize)
            .take(size as usize)
            .enumerate()
        {
            if k > 0 {
                body.push(',');
            }
            let (dims, metrics) = render(row, query);
            let _ = write!(body, r#"{{"dimensions":{dims},"metrics":{metrics}}}"#);
        }
        let totals = query
            .total_metrics
            .then(|| Value::Object(rows::totals(&all, &query.metrics)));
        (all.len() as u64, totals)
    }
}

/// A row's dimensions and metrics objects (a multi-account report also says whose it is).
fn render(row: &rows::Row, query: &ReportQuery) -> (Value, Value) {
    let mut metrics: Vec<(String, String)> = query
        .metrics
        .iter()
        .map(|m| (m.clone(), row.metric(m)))
        .collect();
    if query.multi {
        for extra in ["advertiser_id", "currency", "timezone"] {
            if !query.metrics.iter().any(|m| m == extra) {
                metrics.push((extra.to_string(), row.metric(extra)));
            }
        }
    }
    (object(row.dimensions.clone()), object(metrics))
}

const OUTPUT_FORMATS: &[&str] = &["CSV_STRING", "CSV_DOWNLOAD", "XLSX_DOWNLOAD"];

pub(super) async fn task_create(
    State(mock): State<Mock>,
    Extension(grant): Extension<Grant>,
    body: Bytes,
) -> Response {
    let outcome = body_params(&body).and_then(|params| {
        query::read(&params, &grant, false)?;
        let format = params
            .choice("output_format", OUTPUT_FORMATS)?
            .unwrap_or_else(|| "CSV_STRING".into());
        if format == "XLSX_DOWNLOAD" {
            return Err(invalid(
                "output_format",
                "XLSX_DOWNLOAD is a TikTok format the simulator does not write; use CSV_STRING or CSV_DOWNLOAD.",
            ));
        }
        if let Some(name) = params.text("file_name")?
            && (name.is_empty()
                || name.chars().count() > 255
                || name.chars().any(|c| "/\\\t\u{8}@#$%^&*()[]".contains(c)))
        {
            return Err(invalid(
                "file_name",
                "At most 255 characters, none of / \\ tab backspace @ # $ % ^ & * ( ) [ ].",
            ));
        }
        params.boolean("enable_report_title_translation")?;
        let Params::Body(body) = params else {
            return Err(invalid("body", "The request body must be a JSON object."));
        };
        let advertiser_id = Params::Body(body.clone())
            .list("advertiser_ids")?
            .and_then(|ids| ids.into_iter().next())
            .or_else(|| body.get("advertiser_id").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_default();
        Ok(mock.change(|world| {
            let task_id = world.new_id();
            world.tasks.insert(
                task_id.clone(),
                Task {
                    advertiser_id,
                    body,
                    checks: 0,
                    canceled: false,
                },
            );
            task_id
        }))
    });
    match outcome {
        Ok(task_id) => ok(json!({ "task_id": task_id })),
        Err(e) => e,
    }
}

/// The task a request names, the token's and the account's.
fn task_of(mock: &Mock, grant: &Grant, params: &Params) -> Checked<(String, Task)> {
    let advertiser = params.required_id("advertiser_id")?;
    check_advertiser(grant, &advertiser)?;
    let task_id = params.required_id("task_id")?;
    mock.world()
        .tasks
        .get(&task_id)
        .filter(|t| t.advertiser_id == advertiser)
        .cloned()
        .map(|t| (task_id.clone(), t))
        .ok_or_else(|| error(40007, &format!("Task {task_id} does not exist.")))
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

pub(super) async fn task_check(
    State(mock): State<Mock>,
    Extension(grant): Extension<Grant>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (task_id, task) = match task_of(&mock, &grant, &Params::Query(q)) {
        Ok(t) => t,
        Err(e) => return e,
    };
    let status = status_of(&task);
    mock.change(|world| {
        if let Some(t) = world.tasks.get_mut(&task_id) {
            t.checks += 1;
        }
    });
    ok(json!({"status": status, "message": ""}))
}

/// TikTok's CSV header title of a field (with `enable_report_title_translation`).
fn title(field: &str) -> String {
    let known = [
        ("advertiser_id", "Advertiser ID"),
        ("campaign_id", "Campaign ID"),
        ("adgroup_id", "Ad group ID"),
        ("ad_id", "Ad ID"),
        ("stat_time_day", "By Day"),
        ("stat_time_hour", "By Hour"),
        ("spend", "Cost"),
        ("impressions", "Impressions"),
        ("clicks", "Clicks (Destination)"),
        ("ctr", "CTR (Destination)"),
        ("cpc", "CPC (Destination)"),
        ("cpm", "CPM"),
        ("conversion", "Conversions"),
        ("cost_per_conversion", "Cost per conversion"),
        ("conversion_rate", "Conversion rate (CVR)"),
        ("campaign_name", "Campaign name"),
        ("adgroup_name", "Ad group name"),
        ("ad_name", "Ad name"),
        ("country_code", "Country/Region"),
    ];
    if let Some((_, t)) = known.iter().find(|(f, _)| *f == field) {
        return (*t).to_string();
    }
    let mut words: Vec<String> = field.split('_').map(str::to_string).collect();
    if let Some(first) = words.first_mut() {
        let mut chars = first.chars();
        *first = chars
            .next()
            .map(|c| c.to_uppercase().chain(chars).collect())
            .unwrap_or_default();
    }
    words.join(" ")
}

/// The country an async task's CSV names where the synchronous report writes its code:
/// TikTok's known bug (REFERENCE 9), played with English short names (the exact spelling
/// TikTok writes is UNCONFIRMED).
fn country_name(code: &str) -> &str {
    match code {
        "US" => "United States",
        "CA" => "Canada",
        "GB" => "United Kingdom",
        "DE" => "Germany",
        "AT" => "Austria",
        "FR" => "France",
        other => other,
    }
}

/// The task's report as CSV.
fn task_csv(mock: &Mock, grant: &Grant, task: &Task) -> Checked<Vec<u8>> {
    let params = Params::Body(task.body.clone());
    let query = query::read(&params, grant, false)?;
    let titles = params
        .boolean("enable_report_title_translation")?
        .unwrap_or(true);
    let world = mock.world();
    let all = rows::rows(&world, &query, today());
    let mut csv = csv::Writer::from_writer(Vec::new());
    let header: Vec<String> = query
        .dimensions
        .iter()
        .chain(&query.metrics)
        .map(|f| if titles { title(f) } else { f.clone() })
        .collect();
    let _ = csv.write_record(&header);
    for row in &all {
        let cells = row
            .dimensions
            .iter()
            .map(|(d, v)| match d.as_str() {
                "country_code" => country_name(v).to_string(),
                _ => v.clone(),
            })
            .chain(query.metrics.iter().map(|m| row.metric(m)));
        let _ = csv.write_record(cells);
    }
    Ok(csv.into_inner().unwrap_or_default())
}

pub(super) async fn task_download(
    State(mock): State<Mock>,
    Extension(grant): Extension<Grant>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (task_id, task) = match task_of(&mock, &grant, &Params::Query(q)) {
        Ok(t) => t,
        Err(e) => return e,
    };
    if status_of(&task) != "SUCCESS" {
        return error(
            40201,
            "Task is not ready. Please check the task status and try again later.",
        );
    }
    let format = task
        .body
        .get("output_format")
        .and_then(Value::as_str)
        .unwrap_or("CSV_STRING")
        .to_string();
    if format == "CSV_DOWNLOAD" {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1");
        let file_name = task
            .body
            .get("file_name")
            .and_then(Value::as_str)
            .map_or_else(|| format!("report_{task_id}.csv"), str::to_string);
        let expire = chrono::Utc::now().timestamp() + 3600;
        return ok(json!({
            "output_format": format, "file_name": file_name,
            "download_url": format!("http://{host}/report-files/{task_id}?expire={expire}&sign={}", sign(&mock, &task_id, expire)),
        }));
    }
    match task_csv(&mock, &grant, &task) {
        Ok(bytes) => with_log_id(
            ([(header::CONTENT_TYPE, "text/csv")], bytes).into_response(),
            &log_id(),
        ),
        Err(e) => e,
    }
}

/// The signature of a download URL: only the simulator can make one.
fn sign(mock: &Mock, task_id: &str, expire: i64) -> String {
    format!(
        "{:016x}",
        numbers::fnv(&format!("{}|{task_id}|{expire}", mock.world().app_secret))
    )
}

/// A pre-signed download: no token, the signature and expiry are the key.
pub(super) async fn presigned_file(
    State(mock): State<Mock>,
    Path(task_id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let expire = q
        .get("expire")
        .and_then(|e| e.parse::<i64>().ok())
        .unwrap_or(0);
    let valid = q.get("sign").map(String::as_str) == Some(sign(&mock, &task_id, expire).as_str())
        && expire > chrono::Utc::now().timestamp();
    let task = mock.world().tasks.get(&task_id).cloned();
    match task {
        Some(task) if valid => {
            let grant = Grant {
                advertisers: mock.accounts(),
                revoked: false,
            };
            match task_csv(&mock, &grant, &task) {
                Ok(bytes) => ([(header::CONTENT_TYPE, "text/csv")], bytes).into_response(),
                Err(e) => e,
            }
        }
        _ => (
            StatusCode::FORBIDDEN,
            "AccessDenied: the signature is not valid or has expired",
        )
            .into_response(),
    }
}

pub(super) async fn task_cancel(
    State(mock): State<Mock>,
    Extension(grant): Extension<Grant>,
    body: Bytes,
) -> Response {
    let (task_id, task) = match body_params(&body).and_then(|p| task_of(&mock, &grant, &p)) {
        Ok(t) => t,
        Err(e) => return e,
    };
    if status_of(&task) == "SUCCESS" {
        return invalid("task_id", "Only queued or running tasks can be canceled.");
    }
    mock.change(|world| {
        if let Some(t) = world.tasks.get_mut(&task_id) {
            t.canceled = true;
        }
    });
    ok(json!({"status": "CANCELED"}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_tiktoks_display_names() {
        assert_eq!(title("spend"), "Cost");
        assert_eq!(title("video_views_p25"), "Video views p25");
    }
}
