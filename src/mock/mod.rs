//! `tiktok-ads mock`: a deterministic local simulator of the TikTok endpoints this tool uses,
//! answering like the API (envelope, HTTP 200 errors, string IDs and metrics), for demos,
//! benchmarks, tests, and users' cron scripts without credentials. Loopback only.

// Handlers return `Result<_, Response>` so an error answer can be returned early, as axum
// code usually does; a response per request is not worth boxing.
#![allow(clippy::result_large_err)]

mod entities;
mod reports;
mod state;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

pub use state::{BC_ID, MockState, SeedAccount};

/// The seeded ad account IDs.
pub fn state_accounts() -> Vec<&'static str> {
    state::APP_ADVERTISERS.iter().map(|a| a.id).collect()
}

/// What the simulator does besides answering correctly.
#[derive(Debug, Clone, Default)]
pub struct MockOptions {
    /// Every report has exactly this many synthetic rows (ad × day), for big-report tests.
    pub rows: Option<u64>,
    /// Every Nth API request answers 40100 (rate limit, HTTP 200).
    pub rate_limit_every: Option<u64>,
    /// Every Nth API request answers 50000 (system error, HTTP 200).
    pub fail_every: Option<u64>,
    /// At most this many requests per endpoint in any sliding `quota_window`; above it, 40100
    /// (the rejected requests are not counted), as TikTok's per-app quota does.
    pub quota: Option<u32>,
    pub quota_window: std::time::Duration,
}

#[derive(Clone)]
pub struct Mock {
    state: Arc<Mutex<MockState>>,
    options: Arc<MockOptions>,
    counter: Arc<AtomicU64>,
    page_cache: Arc<Mutex<HashMap<String, Bytes>>>,
    quota: Arc<Mutex<Quota>>,
}

/// Each endpoint's accepted requests in the current window, and what was accepted and
/// rejected in all (read at `/_mock/stats`).
#[derive(Default)]
struct Quota {
    recent: HashMap<String, std::collections::VecDeque<std::time::Instant>>,
    accepted: std::collections::BTreeMap<String, u64>,
    rejected: std::collections::BTreeMap<String, u64>,
}

impl Quota {
    /// Counts a request to `endpoint` at `now`: false when it is over the limit.
    fn admit(
        &mut self,
        endpoint: &str,
        now: std::time::Instant,
        limit: Option<u32>,
        window: std::time::Duration,
    ) -> bool {
        if let Some(limit) = limit {
            let recent = self.recent.entry(endpoint.to_string()).or_default();
            while recent
                .front()
                .is_some_and(|&t| now.duration_since(t) >= window)
            {
                recent.pop_front();
            }
            if recent.len() >= limit as usize {
                *self.rejected.entry(endpoint.to_string()).or_default() += 1;
                return false;
            }
            recent.push_back(now);
        }
        *self.accepted.entry(endpoint.to_string()).or_default() += 1;
        true
    }
}

impl Mock {
    pub fn new(options: MockOptions) -> Self {
        Self {
            state: Arc::new(Mutex::new(MockState::seeded())),
            options: Arc::new(options),
            counter: Arc::new(AtomicU64::new(0)),
            page_cache: Arc::new(Mutex::new(HashMap::new())),
            quota: Arc::default(),
        }
    }

    pub fn router(&self) -> Router {
        let api = Router::new()
            .route("/oauth2/access_token/", post(state::access_token))
            .route(
                "/oauth2/advertiser/get/",
                get(state::authorized_advertisers),
            )
            .route("/oauth2/revoke_token/", post(state::revoke))
            .route("/user/info/", get(state::user_info))
            .route("/advertiser/info/", get(state::advertiser_info))
            .route("/bc/get/", get(state::bc_get))
            .route("/bc/asset/get/", get(state::bc_assets))
            .route("/tool/region/", get(state::regions))
            .route("/{kind}/get/", get(entities::list))
            .route("/{kind}/create/", post(entities::create))
            .route("/{kind}/update/", post(entities::update))
            .route("/{kind}/status/update/", post(entities::set_status))
            .route("/report/integrated/get/", get(reports::integrated))
            .route("/report/task/create/", post(reports::task_create))
            .route("/report/task/check/", get(reports::task_check))
            .route("/report/task/download/", get(reports::task_download))
            .route("/report/task/cancel/", post(reports::task_cancel))
            .fallback(|| async { (StatusCode::NOT_FOUND, "404 page not found") })
            .layer(middleware::from_fn_with_state(
                self.clone(),
                faults_and_auth,
            ));
        Router::new()
            .route("/portal/auth", get(consent))
            .route("/_mock/stats", get(stats))
            .nest("/open_api/v1.3", api)
            .with_state(self.clone())
    }

    /// Binds 127.0.0.1:`port` (0 = any free port) and returns the listener and its address.
    pub async fn bind(port: u16) -> std::io::Result<(tokio::net::TcpListener, SocketAddr)> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        Ok((listener, addr))
    }

    pub async fn serve(self, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        axum::serve(listener, self.router()).await
    }

    pub(crate) fn state(&self) -> std::sync::MutexGuard<'_, MockState> {
        // A panic in a handler cannot leave the data half-changed in a way that matters here.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The envelope TikTok wraps everything in.
pub(crate) fn envelope(code: i64, message: &str, data: Value) -> Response {
    let request_id = format!("mock{:016x}", rand::random::<u64>());
    (
        [(header::CONTENT_TYPE, "application/json")],
        json!({"code": code, "message": message, "request_id": request_id, "data": data})
            .to_string(),
    )
        .into_response()
}

pub(crate) fn ok(data: Value) -> Response {
    envelope(0, "OK", data)
}

pub(crate) fn error(code: i64, message: &str) -> Response {
    envelope(code, message, json!({}))
}

/// What the simulator accepted and rejected per endpoint (tests and the quota benchmark read
/// it to measure how well a client uses the quota).
async fn stats(State(mock): State<Mock>) -> Response {
    let quota = mock.quota.lock().unwrap_or_else(|p| p.into_inner());
    let total = |m: &std::collections::BTreeMap<String, u64>| m.values().sum::<u64>();
    let body = json!({
        "accepted": quota.accepted,
        "rejected": quota.rejected,
        "accepted_total": total(&quota.accepted),
        "rejected_total": total(&quota.rejected),
    });
    (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// The quota, the fault switches, then the token check (everything but the code exchange
/// needs one).
async fn faults_and_auth(State(mock): State<Mock>, request: Request, next: Next) -> Response {
    let endpoint = request.uri().path().to_string();
    let admitted = mock.quota.lock().unwrap_or_else(|p| p.into_inner()).admit(
        &endpoint,
        std::time::Instant::now(),
        mock.options.quota,
        mock.options.quota_window,
    );
    if !admitted {
        return error(
            40100,
            "Too many requests: the app's quota for this endpoint is used up (mock --qps-limit).",
        );
    }
    let n = mock.counter.fetch_add(1, Ordering::Relaxed) + 1;
    if mock
        .options
        .rate_limit_every
        .is_some_and(|every| every > 0 && n % every == 0)
    {
        return error(40100, "Too many requests (mock --rate-limit-every).");
    }
    if mock
        .options
        .fail_every
        .is_some_and(|every| every > 0 && n % every == 0)
    {
        return error(
            50000,
            "System error, please try again later (mock --fail-every).",
        );
    }
    if request.uri().path().ends_with("/oauth2/access_token/") {
        return next.run(request).await;
    }
    let token = request
        .headers()
        .get("Access-Token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    if token.is_empty() {
        return error(
            40104,
            "Access token is empty; put it in the Access-Token header.",
        );
    }
    if mock.state().revoked.contains(&token) {
        return error(40105, "Access token is incorrect or has been revoked.");
    }
    next.run(request).await
}

/// The consent page: approves at once and redirects like TikTok does.
async fn consent(State(mock): State<Mock>, Query(q): Query<HashMap<String, String>>) -> Response {
    let Some(redirect) = q.get("redirect_uri").filter(|r| !r.is_empty()) else {
        return (StatusCode::BAD_REQUEST, "redirect_uri is required").into_response();
    };
    if q.get("app_id").is_none_or(|a| a.is_empty()) {
        return (StatusCode::BAD_REQUEST, "app_id is required").into_response();
    }
    let code = mock.state().issue_code();
    let mut target = match url::Url::parse(redirect) {
        Ok(url) => url,
        Err(_) => return (StatusCode::BAD_REQUEST, "redirect_uri is not a URL").into_response(),
    };
    {
        let mut pairs = target.query_pairs_mut();
        pairs
            .append_pair("auth_code", &code)
            .append_pair("code", &code);
        if let Some(state) = q.get("state") {
            pairs.append_pair("state", state);
        }
    }
    Redirect::to(target.as_str()).into_response()
}

/// A query parameter that TikTok sends JSON-encoded.
pub(crate) fn json_param(q: &HashMap<String, String>, key: &str) -> Option<Value> {
    q.get(key).and_then(|v| serde_json::from_str(v).ok())
}

pub(crate) fn body_json(bytes: &Bytes) -> Result<serde_json::Map<String, Value>, Response> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(error(40002, "The request body must be a JSON object.")),
    }
}
