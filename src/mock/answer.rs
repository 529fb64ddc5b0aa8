//! How the simulator answers: TikTok's envelope with a fresh `request_id` and an `X-Tt-Logid`
//! header on every answer, errors as HTTP 200 with a non-zero code, and the envelope (not
//! plain text) for unknown paths (404, code 40400) and wrong methods (405, code 40000).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A log ID as TikTok writes them: the UTC time to the second, then random hex.
pub(super) fn log_id() -> String {
    format!(
        "{}{:022X}",
        chrono::Utc::now().format("%Y%m%d%H%M%S"),
        rand::random::<u128>() >> 40
    )
}

/// Adds the headers every answer of TikTok carries.
pub(super) fn with_log_id(mut response: Response, id: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(id) {
        response.headers_mut().insert("x-tt-logid", value);
    }
    response
}

pub(super) fn json_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The envelope TikTok wraps everything in; the request ID doubles as the log ID.
pub(super) fn envelope(code: i64, message: &str, data: Value) -> Response {
    let id = log_id();
    let body = json!({"code": code, "message": message, "request_id": id, "data": data});
    with_log_id(json_response(StatusCode::OK, body.to_string()), &id)
}

pub(super) fn ok(data: Value) -> Response {
    envelope(0, "OK", data)
}

pub(super) fn error(code: i64, message: &str) -> Response {
    envelope(code, message, json!({}))
}

/// 40002 with TikTok's `field: reason` message style.
pub(super) fn invalid(field: &str, reason: &str) -> Response {
    error(40002, &format!("{field}: {reason}"))
}

fn status_envelope(status: StatusCode, code: i64, message: &str) -> Response {
    let id = log_id();
    let body = json!({"code": code, "message": message, "request_id": id, "data": {}});
    with_log_id(json_response(status, body.to_string()), &id)
}

pub(super) async fn not_found() -> Response {
    status_envelope(
        StatusCode::NOT_FOUND,
        40400,
        "Route not found. Check the path (every path ends with a slash) and the API version.",
    )
}

pub(super) async fn method_not_allowed() -> Response {
    status_envelope(
        StatusCode::METHOD_NOT_ALLOWED,
        40000,
        "Method not allowed for this path.",
    )
}

pub(super) fn page_info(page: u64, size: u64, total: u64) -> Value {
    json!({"page": page, "page_size": size, "total_number": total, "total_page": total.div_ceil(size)})
}

pub(super) fn paged(items: Vec<Value>, page: u64, size: u64) -> Response {
    let total = items.len() as u64;
    let list: Vec<Value> = items
        .into_iter()
        .skip(((page - 1) * size) as usize)
        .take(size as usize)
        .collect();
    ok(json!({"list": list, "page_info": page_info(page, size, total)}))
}
