//! What stands before every API request of the simulator: the request log (secrets redacted),
//! the faults in force (set at start-up and changed at run time through `/_mock/faults`), the
//! per-endpoint quota, then the token check.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Mock;
use super::answer::{error, with_log_id};
use super::auth::authorize;

/// The faults in force. Counters (`*_next`) count down as they fire; `*_every` fire on every
/// Nth request; `endpoint` limits them all to paths ending with it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    pub endpoint: Option<String>,
    /// Limits them all to requests that name this advertiser ID (in the query or the body):
    /// one failing account among several.
    pub advertiser: Option<String>,
    /// Code 40100 (HTTP 200) on every Nth request.
    pub rate_limit_every: Option<u64>,
    /// Code 40100 on the next N requests.
    pub rate_limit_next: u64,
    /// HTTP 429 with `Retry-After: retry_after` on the next N requests.
    pub http_429_next: u64,
    pub retry_after: Option<u64>,
    /// Code 50000 (HTTP 200) on every Nth request.
    pub fail_every: Option<u64>,
    /// HTTP `server_error_status` (503 unless set) with a plain-text body on the next N
    /// requests: a gateway fault.
    pub server_error_next: u64,
    pub server_error_status: Option<u16>,
    /// Each answer waits this long.
    pub latency_ms: u64,
    /// The next N answers are cut in the middle of their body.
    pub truncate_next: u64,
    /// At most this many requests per endpoint in any sliding `qps_window` seconds; above it,
    /// 40100 (rejected requests not counted), like TikTok's per-app quota.
    pub qps_limit: Option<u32>,
    pub qps_window: Option<f64>,
    /// The next N chunks sent to `/file/transfer/upload/` are read whole, then refused with
    /// 50000 (not kept).
    pub fail_chunk_next: u64,
    /// The next N chunks sent to `/file/transfer/upload/` have their connection cut half-way.
    pub cut_chunk_next: u64,
    /// The next N videos uploaded fail processing: listed while processing, then no longer.
    pub transcode_fail_next: u64,
    /// How long a video takes to be processed (usable) after its upload, in milliseconds.
    pub video_ready_ms: u64,
    /// How long a new ad stays in review, in milliseconds (a minute unless set).
    pub ad_review_ms: Option<u64>,
    /// How long a created or changed audience is calculated, in milliseconds (none unless set).
    pub audience_ready_ms: Option<u64>,
    /// The chunk size the file repository asks for (20 MiB unless set).
    pub chunk_size: Option<u64>,
    /// How long an `upload_id` or `file_id` lives, in seconds (24 h unless set).
    pub upload_ttl_secs: Option<u64>,
}

/// A response the gate is to break: its connection cut instead of the body sent.
#[derive(Debug, Clone, Copy)]
pub(super) struct CutConnection;

/// What a handler read from a body the gate did not (a multipart upload), for the log.
#[derive(Debug, Clone)]
pub(super) struct LoggedBody(pub Value);

/// One request as the log keeps it: secrets replaced by `[redacted]`.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Logged {
    pub method: String,
    pub path: String,
    pub query: BTreeMap<String, String>,
    pub body: Option<Value>,
    pub access_token: Option<String>,
    pub status: u16,
    pub code: Option<i64>,
}

const LOG_KEPT: usize = 10_000;
const SECRET_KEYS: &[&str] = &["secret", "access_token", "auth_code", "app_secret"];

#[derive(Default)]
struct Counters {
    requests: u64,
    recent: BTreeMap<String, VecDeque<Instant>>,
    accepted: BTreeMap<String, u64>,
    rejected: BTreeMap<String, u64>,
    log: VecDeque<Logged>,
}

pub(super) struct Gate {
    faults: Mutex<Faults>,
    counters: Mutex<Counters>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// What a fault does to one request.
enum Fire {
    None,
    Code(i64, &'static str),
    TooMany(Option<u64>),
    Gateway(u16),
}

impl Gate {
    pub(super) fn new(faults: Faults) -> Self {
        Self {
            faults: Mutex::new(faults),
            counters: Mutex::default(),
        }
    }

    pub(super) fn faults(&self) -> Faults {
        lock(&self.faults).clone()
    }

    /// Sets the faults given in `changes` (a JSON object of [`Faults`] fields); the others
    /// stay.
    pub(super) fn set_faults(
        &self,
        changes: &serde_json::Map<String, Value>,
    ) -> Result<Faults, String> {
        let mut faults = lock(&self.faults);
        let mut merged = serde_json::to_value(&*faults).map_err(|e| e.to_string())?;
        if let Value::Object(map) = &mut merged {
            for (k, v) in changes {
                map.insert(k.clone(), v.clone());
            }
        }
        *faults = serde_json::from_value(merged).map_err(|e| e.to_string())?;
        Ok(faults.clone())
    }

    pub(super) fn reset(&self, faults: Faults) {
        *lock(&self.faults) = faults;
        *lock(&self.counters) = Counters::default();
    }

    pub(super) fn log(&self) -> Vec<Logged> {
        lock(&self.counters).log.iter().cloned().collect()
    }

    pub(super) fn stats(&self) -> Value {
        let counters = lock(&self.counters);
        let total = |m: &BTreeMap<String, u64>| m.values().sum::<u64>();
        json!({
            "accepted": counters.accepted,
            "rejected": counters.rejected,
            "accepted_total": total(&counters.accepted),
            "rejected_total": total(&counters.rejected),
        })
    }

    /// Counts the request against its endpoint's quota: false when it is over.
    fn admit(&self, endpoint: &str, faults: &Faults) -> bool {
        let mut counters = lock(&self.counters);
        if let Some(limit) = faults.qps_limit {
            let window = Duration::try_from_secs_f64(faults.qps_window.unwrap_or(1.0))
                .unwrap_or(Duration::from_secs(1));
            let now = Instant::now();
            let recent = counters.recent.entry(endpoint.to_string()).or_default();
            while recent
                .front()
                .is_some_and(|&t| now.duration_since(t) >= window)
            {
                recent.pop_front();
            }
            if recent.len() >= limit as usize {
                *counters.rejected.entry(endpoint.to_string()).or_default() += 1;
                return false;
            }
            recent.push_back(now);
        }
        *counters.accepted.entry(endpoint.to_string()).or_default() += 1;
        true
    }

    /// Which fault, if any, this request meets (counting it down).
    fn fire(&self, endpoint: &str, names: impl Fn(&str) -> bool) -> Fire {
        let mut faults = lock(&self.faults);
        if faults
            .endpoint
            .as_deref()
            .is_some_and(|e| !endpoint.ends_with(e))
            || faults.advertiser.as_deref().is_some_and(|a| !names(a))
        {
            return Fire::None;
        }
        let n = {
            let mut counters = lock(&self.counters);
            counters.requests += 1;
            counters.requests
        };
        let every = |every: Option<u64>| every.is_some_and(|e| e > 0 && n % e == 0);
        if faults.server_error_next > 0 {
            faults.server_error_next -= 1;
            return Fire::Gateway(faults.server_error_status.unwrap_or(503));
        }
        if faults.http_429_next > 0 {
            faults.http_429_next -= 1;
            return Fire::TooMany(faults.retry_after);
        }
        if faults.rate_limit_next > 0 {
            faults.rate_limit_next -= 1;
            return Fire::Code(40100, RATE_LIMITED);
        }
        if every(faults.rate_limit_every) {
            return Fire::Code(40100, RATE_LIMITED);
        }
        if every(faults.fail_every) {
            return Fire::Code(50000, "System error, please try again later.");
        }
        Fire::None
    }

    /// Whether the counter `pick` chooses is above zero (counting it down).
    pub(super) fn take(&self, pick: impl FnOnce(&mut Faults) -> &mut u64) -> bool {
        let mut faults = lock(&self.faults);
        let counter = pick(&mut faults);
        if *counter > 0 {
            *counter -= 1;
            true
        } else {
            false
        }
    }

    /// Whether this answer of `endpoint` is to be cut (counting it down).
    fn cut(&self, endpoint: &str) -> bool {
        let mut faults = lock(&self.faults);
        let elsewhere = faults
            .endpoint
            .as_deref()
            .is_some_and(|e| !endpoint.ends_with(e));
        if !elsewhere && faults.truncate_next > 0 {
            faults.truncate_next -= 1;
            true
        } else {
            false
        }
    }

    fn record(&self, entry: Logged) {
        let mut counters = lock(&self.counters);
        if counters.log.len() == LOG_KEPT {
            counters.log.pop_front();
        }
        counters.log.push_back(entry);
    }
}

const RATE_LIMITED: &str = "Too many requests. Your app has exceeded the request limit for this endpoint; please retry later.";

fn redact(key: &str, value: Value) -> Value {
    if SECRET_KEYS.contains(&key) {
        json!("[redacted]")
    } else {
        value
    }
}

/// The code of a JSON envelope, read from its start (`{"code":N,...`).
fn envelope_code(body: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(body.get(..body.len().min(40))?).ok()?;
    let rest = text.strip_prefix("{\"code\":")?;
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

/// The middleware of every API request.
pub(super) async fn gate(State(mock): State<Mock>, request: Request, next: Next) -> Response {
    let gate = mock.gate.clone();
    let (mut parts, body) = request.into_parts();
    // An upload is streamed to its handler, never held here (it may be a GiB).
    let streamed = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/"));
    let (body, passed) = if streamed {
        (Bytes::new(), Some(body))
    } else {
        let bytes = axum::body::to_bytes(body, 1 << 20)
            .await
            .unwrap_or_default();
        (bytes, None)
    };
    let endpoint = parts
        .uri
        .path()
        .trim_start_matches("/open_api/v1.3")
        .to_string();
    let mut entry = logged(&parts, &endpoint, &body);
    let faults = gate.faults();
    if faults.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
    }
    let response = if !gate.admit(&endpoint, &faults) {
        error(40100, RATE_LIMITED)
    } else {
        let names = |id: &str| {
            parts.uri.query().unwrap_or_default().contains(id)
                || body.windows(id.len().max(1)).any(|w| w == id.as_bytes())
        };
        match fault_response(gate.fire(&endpoint, names)) {
            Some(fault) => fault,
            None => match authorized(&mock, &endpoint, &parts.headers) {
                Err(e) => e,
                Ok(grant) => {
                    if let Some(grant) = grant {
                        parts.extensions.insert(grant);
                    }
                    let body = passed.unwrap_or_else(|| Body::from(body));
                    next.run(Request::from_parts(parts, body)).await
                }
            },
        }
    };
    let (mut parts, body) = response.into_parts();
    if let Some(LoggedBody(fields)) = parts.extensions.remove::<LoggedBody>() {
        entry.body = Some(fields);
    }
    if parts.extensions.remove::<CutConnection>().is_some() {
        entry.status = 0;
        gate.record(entry);
        let cut = futures_util::stream::once(async {
            Err::<Bytes, std::io::Error>(std::io::Error::other("connection cut (fault)"))
        });
        return Response::from_parts(parts, Body::from_stream(cut));
    }
    let mut bytes: Bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    entry.status = parts.status.as_u16();
    entry.code = envelope_code(&bytes);
    gate.record(entry);
    if gate.cut(&endpoint) {
        bytes = bytes.slice(..bytes.len() / 2);
        parts.headers.remove(header::CONTENT_LENGTH);
    }
    if !parts.headers.contains_key("x-tt-logid") {
        return with_log_id(
            Response::from_parts(parts, Body::from(bytes)),
            &super::answer::log_id(),
        );
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The request as the log keeps it: secrets in the query and body redacted, the token's
/// presence only.
fn logged(parts: &axum::http::request::Parts, endpoint: &str, body: &[u8]) -> Logged {
    Logged {
        method: parts.method.to_string(),
        path: endpoint.to_string(),
        query: url::form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes())
            .map(|(k, v)| {
                let value = redact(&k, json!(v));
                (
                    k.into_owned(),
                    value.as_str().unwrap_or_default().to_string(),
                )
            })
            .collect(),
        body: serde_json::from_slice::<Value>(body).ok().map(|v| match v {
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| {
                        let value = redact(&k, v);
                        (k, value)
                    })
                    .collect(),
            ),
            other => other,
        }),
        access_token: parts
            .headers
            .get("Access-Token")
            .map(|_| "[redacted]".to_string()),
        status: 200,
        code: None,
    }
}

/// The token's grant; none for the endpoints that take the app's credentials instead.
fn authorized(
    mock: &Mock,
    endpoint: &str,
    headers: &axum::http::HeaderMap,
) -> Result<Option<super::world::Grant>, Response> {
    let exempt = matches!(endpoint, "/oauth2/access_token/" | "/oauth2/revoke_token/");
    if exempt {
        Ok(None)
    } else {
        authorize(&mock.world(), headers).map(Some)
    }
}

/// What a fault that fired answers: TikTok's error code, a 429 with `Retry-After`, or a
/// gateway's status; none when no fault fired.
fn fault_response(fault: Fire) -> Option<Response> {
    Some(match fault {
        Fire::Code(code, message) => error(code, message),
        Fire::TooMany(retry_after) => {
            let mut r = error(40100, RATE_LIMITED);
            *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            if let Some(secs) = retry_after
                && let Ok(v) = HeaderValue::from_str(&secs.to_string())
            {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        }
        Fire::Gateway(status) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
            "upstream unavailable",
        )
            .into_response(),
        Fire::None => return None,
    })
}
