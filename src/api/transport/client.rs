//! The one HTTP core: every request — JSON calls, report pages, paged lists, downloads, the
//! pre-signed download URL — goes through [`Client::exchange`], which checks where it goes,
//! paces, sends (with the token only to the API host), reads the body, hands it to a decoder
//! and retries on the policy's time budget.

use std::io::{Seek, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use tokio::time::Instant;
use url::Url;

use super::envelope::{self, RawData};
use super::error::ApiError;
use super::form::Form;
use super::http::{self, Answer, Headers, RETRY_AFTER_CAP};
use super::pacing::{Limits, Pacer, PacerOptions};
use super::query::Query;
use super::retry::{Replay, RetryPolicy};

/// The most one answer may hold once decompressed: TikTok's pages are a few MB (1,000 report
/// rows are about 320 KiB), so this is room for any of them and keeps memory bounded.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// Where every endpoint path is appended.
pub(crate) const API_PREFIX: &str = "open_api/v1.3/";

#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Scheme and host (e.g. `https://business-api.tiktok.com`); the API prefix is added here.
    pub base_url: Url,
    pub token: Option<SecretString>,
    pub timeout: Duration,
    pub retry: RetryPolicy,
    pub pacing: PacerOptions,
    /// No request is retried after this long from the client's creation (`--deadline`). Without
    /// it, rate limits are waited out for up to `RATE_LIMIT_PATIENCE` (an hour) per request.
    pub deadline: Option<Duration>,
    /// Told of each retry after a failure, before its wait (a command says it on stderr).
    pub on_retry: Option<RetryListener>,
}

/// What is told of a retry: see [`Retrying`].
#[derive(Clone)]
pub struct RetryListener(pub Arc<dyn Fn(&Retrying<'_>) + Send + Sync>);

impl std::fmt::Debug for RetryListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RetryListener")
    }
}

/// A request about to be sent again after a failure.
#[derive(Debug)]
pub struct Retrying<'a> {
    /// How long it waits first.
    pub wait: Duration,
    /// The attempt about to be made (2 for the first retry), and how many there may be.
    pub attempt: u32,
    pub attempts: u32,
    pub error: &'a ApiError,
}

impl std::fmt::Display for Retrying<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let wait = self.wait.as_secs_f64();
        let wait = if wait < 10.0 {
            format!("{wait:.1} s")
        } else {
            format!("{wait:.0} s")
        };
        write!(
            f,
            "retrying in {wait} (attempt {} of {}): {}",
            self.attempt, self.attempts, self.error
        )
    }
}

/// How long one request keeps waiting out TikTok's rate limit when no deadline is given.
pub(crate) const RATE_LIMIT_PATIENCE: Duration = Duration::from_secs(3600);

impl ClientOptions {
    pub fn new(base_url: Url) -> Self {
        Self {
            base_url,
            token: None,
            timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            pacing: PacerOptions::new(Limits::basic()),
            deadline: None,
            on_retry: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Method::Get => "GET",
            Method::Post => "POST",
        })
    }
}

/// Whether a call carries the `Access-Token` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    Token,
    /// The OAuth code exchange is made without a token.
    None,
}

/// Where a request goes.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// A path under the API prefix of the configured host, e.g. `/campaign/get/`.
    Endpoint(&'a str),
    /// A pre-signed download URL (REFERENCE 9.5): fetched without the token.
    Presigned(&'a Url),
}

/// The parts of one request.
#[derive(Clone, Copy)]
pub struct Request<'a> {
    pub method: Method,
    pub target: Target<'a>,
    pub query: Option<&'a Query>,
    pub body: Option<&'a serde_json::Value>,
    /// A multipart body (an upload) instead of a JSON one.
    pub form: Option<&'a Form>,
    pub auth: Auth,
    pub replay: Replay,
}

impl<'a> Request<'a> {
    pub fn get(path: &'a str, query: &'a Query) -> Self {
        Self {
            method: Method::Get,
            target: Target::Endpoint(path),
            query: Some(query),
            body: None,
            form: None,
            auth: Auth::Token,
            replay: Replay::Safe,
        }
    }

    pub fn post(path: &'a str, body: &'a serde_json::Value, auth: Auth, replay: Replay) -> Self {
        Self {
            method: Method::Post,
            target: Target::Endpoint(path),
            query: None,
            body: Some(body),
            form: None,
            auth,
            replay,
        }
    }

    /// A `multipart/form-data` POST (an upload).
    pub fn upload(path: &'a str, form: &'a Form, replay: Replay) -> Self {
        Self {
            method: Method::Post,
            target: Target::Endpoint(path),
            query: None,
            body: None,
            form: Some(form),
            auth: Auth::Token,
            replay,
        }
    }

    /// What the request is called in logs, errors and the pacer.
    fn label(&self) -> &'a str {
        match self.target {
            Target::Endpoint(path) => path,
            Target::Presigned(_) => "download URL",
        }
    }
}

/// A decoded envelope whose `code` was 0 or 20001 (partial success).
#[derive(Debug)]
pub struct ApiResponse {
    pub status: u16,
    pub code: i64,
    pub message: String,
    pub request_id: String,
    pub data: Option<Box<RawValue>>,
    pub headers: Headers,
}

impl ApiResponse {
    /// Decodes `data` into `T`; a missing or null `data` decodes like `{}` (write endpoints
    /// often answer with nothing to say).
    pub fn data<T: DeserializeOwned>(&self, endpoint: &str) -> Result<T, ApiError> {
        let raw = match self.data.as_deref().map(RawValue::get) {
            None | Some("null") => "{}",
            Some(raw) => raw,
        };
        serde_json::from_str(raw).map_err(|e| ApiError::Decode {
            endpoint: endpoint.to_string(),
            detail: format!("{e} (request_id {})", self.request_id),
        })
    }

    /// Decodes `data` where a list is expected: a missing or null `data` is an error, never
    /// an empty list.
    pub fn list_data<T: DeserializeOwned>(&self, endpoint: &str) -> Result<T, ApiError> {
        match self.data.as_deref().map(RawValue::get) {
            None | Some("null") => Err(ApiError::Inconsistent {
                endpoint: endpoint.to_string(),
                detail: format!(
                    "a success without data where a list was expected (request_id {})",
                    self.request_id
                ),
            }),
            Some(_) => self.data(endpoint),
        }
    }

    /// Reads an answer as an envelope with its `data` kept raw.
    pub fn decode(endpoint: &str, answer: &Answer<'_>) -> Result<Self, ApiError> {
        let read = envelope::read(answer.body, RawData);
        let envelope = envelope::judge(endpoint, answer, read)?;
        Ok(Self {
            status: answer.status,
            code: envelope.code,
            message: envelope.message,
            request_id: envelope.request_id,
            data: envelope.data,
            headers: answer.headers.clone(),
        })
    }
}

/// An envelope together with the body it came in (`api --raw`).
pub struct RawResponse {
    pub envelope: ApiResponse,
    pub body: Vec<u8>,
}

impl Reported for RawResponse {
    fn summary(&self) -> String {
        self.envelope.summary()
    }
}

/// Where the body of an answer goes while it is read.
pub enum BodyTo<'f> {
    /// Into memory, for the decoder.
    Memory,
    /// Into this file (truncated before each attempt), unless the answer is JSON: for files
    /// that may be large. A JSON answer (an envelope) is read into memory as usual.
    File(&'f mut std::fs::File),
}

/// What a download endpoint answered.
pub enum Downloaded {
    /// The body went to the file: this many bytes.
    File(u64),
    /// A JSON envelope (e.g. with a download URL).
    Envelope(ApiResponse),
}

impl Reported for Downloaded {
    fn summary(&self) -> String {
        match self {
            Downloaded::File(bytes) => format!("file of {bytes} bytes"),
            Downloaded::Envelope(envelope) => envelope.summary(),
        }
    }
}

/// A typed client for the Marketing API. Cheap to clone; clones share pacing.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

/// Where one request stands in its retries.
struct Retries {
    /// When its first attempt started.
    started: Instant,
    /// Sends so far.
    attempts: u32,
    /// Waits taken after failures that were not rate limits.
    retry: u32,
    failing_since: Option<Instant>,
    limited_since: Option<Instant>,
}

struct Inner {
    http: reqwest::Client,
    api_base: Url,
    token: Option<SecretString>,
    timeout: Duration,
    retry: RetryPolicy,
    pacer: Pacer,
    deadline: Option<Instant>,
    stats: Stats,
    /// Whether the host has answered any request of this client: until it has, a host that
    /// cannot be reached is given a short budget (a wrong name or a dead host is said at once).
    reached: AtomicBool,
    on_retry: Option<RetryListener>,
}

impl Client {
    pub fn new(options: ClientOptions) -> Result<Self, ApiError> {
        let api_base = api_base(&options.base_url)?;
        let http = http::build(&api_base, options.timeout)?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                api_base,
                token: options.token,
                timeout: options.timeout,
                retry: options.retry,
                pacer: Pacer::new(options.pacing),
                deadline: options.deadline.map(|d| Instant::now() + d),
                stats: Stats::default(),
                reached: AtomicBool::new(false),
                on_retry: options.on_retry,
            }),
        })
    }

    /// Requests sent and retries made so far by this client and its clones.
    pub fn stats(&self) -> &Stats {
        &self.inner.stats
    }

    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// Whether a request is waiting for TikTok's quota right now.
    pub fn waiting_for_quota(&self) -> bool {
        self.inner.pacer.is_waiting()
    }

    /// Tells the pacer this process has `more` requests for `path` to come (a report that knows
    /// its pages), so that processes sharing the quota split it by what each still needs.
    pub fn expect_requests(&self, path: &str, more: u64) {
        self.inner.pacer.expect(path, more);
    }

    /// Where each endpoint of the app stands in its quota, as every process of the app has
    /// used it.
    /// Where the pacing state shared by the app's processes is kept, and whether it is
    /// shared right now.
    pub fn pacing_store(&self) -> (String, bool) {
        self.inner.pacer.store()
    }

    pub fn quota_standings(&self) -> Vec<super::pacing::Standing> {
        self.inner.pacer.standings()
    }

    /// `GET path?query` and decode `data` into `T`.
    pub async fn get<T: DeserializeOwned>(&self, path: &str, query: &Query) -> Result<T, ApiError> {
        self.call(&Request::get(path, query)).await?.data(path)
    }

    /// `POST path` with a JSON body and decode `data` into `T`.
    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &serde_json::Value,
        auth: Auth,
        replay: Replay,
    ) -> Result<T, ApiError> {
        self.call(&Request::post(path, body, auth, replay))
            .await?
            .data(path)
    }

    /// A request whose answer is an envelope.
    pub async fn call(&self, request: &Request<'_>) -> Result<ApiResponse, ApiError> {
        let label = request.label();
        self.call_with(request, |answer| ApiResponse::decode(label, answer))
            .await
    }

    /// A request whose envelope is wanted together with the body exactly as received.
    pub async fn call_raw(&self, request: &Request<'_>) -> Result<RawResponse, ApiError> {
        let label = request.label();
        self.call_with(request, |answer| {
            ApiResponse::decode(label, answer).map(|envelope| RawResponse {
                envelope,
                body: answer.body.to_vec(),
            })
        })
        .await
    }

    /// A request with a decoder of its own (a streaming report page decoder, a checked page);
    /// the decoder's retryable errors are retried like any other.
    pub async fn call_with<T: Reported>(
        &self,
        request: &Request<'_>,
        decode: impl FnMut(&Answer<'_>) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        self.exchange(request, BodyTo::Memory, decode).await
    }

    /// A request whose answer may be a file: a non-JSON body is streamed into `file` (memory
    /// stays flat), an envelope is decoded. Cut bodies are retried.
    pub async fn download(
        &self,
        request: &Request<'_>,
        file: &mut std::fs::File,
    ) -> Result<Downloaded, ApiError> {
        let label = request.label();
        self.exchange(request, BodyTo::File(file), |answer| {
            match answer.streamed {
                Some(bytes) if answer.is_success() => Ok(Downloaded::File(bytes)),
                _ => ApiResponse::decode(label, answer).map(Downloaded::Envelope),
            }
        })
        .await
    }

    /// The request path every call takes: where it may go, pacing, sending, reading, decoding,
    /// and retries on the policy's count and time budget.
    pub async fn exchange<T: Reported>(
        &self,
        request: &Request<'_>,
        mut body_to: BodyTo<'_>,
        mut decode: impl FnMut(&Answer<'_>) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let label = request.label();
        let url = match request.target {
            Target::Endpoint(path) => self.endpoint_url(path)?,
            Target::Presigned(url) => presigned_url(url)?,
        };
        let mut retries = Retries {
            started: Instant::now(),
            attempts: 0,
            retry: 0,
            failing_since: None,
            limited_since: None,
        };
        loop {
            self.inner.pacer.ready(label).await;
            let attempt_started = Instant::now();
            retries.attempts += 1;
            self.inner.stats.requests.fetch_add(1, Ordering::Relaxed);
            let result = self.attempt(request, &url, &mut body_to, &mut decode).await;
            let millis = attempt_started.elapsed().as_millis();
            let Attempt { error, sent } = match result {
                Ok(value) => {
                    self.inner.pacer.succeeded(label);
                    tracing::debug!(
                        "{} {label} -> {} ({millis} ms)",
                        request.method,
                        value.summary()
                    );
                    return Ok(value);
                }
                Err(attempt) => attempt,
            };
            tracing::debug!("{} {label} -> {error} ({millis} ms)", request.method);
            if sent && request.replay == Replay::Unsafe && !matches!(error, ApiError::Api { .. }) {
                return Err(ApiError::Uncertain {
                    endpoint: label.to_string(),
                    cause: error.to_string(),
                });
            }
            if let Some(wait) = self.after_failure(request, error, sent, &mut retries)? {
                tokio::time::sleep(wait).await;
            }
        }
    }

    /// After a failed attempt: how long to wait before the next (none: at once, for the
    /// pacer's next slot), or the error to give up with. A rate limit is not a failure of the
    /// run: the pacer slows down and the request waits for quota as long as the deadline (or
    /// the patience) allows; other failures spend the retry policy's count and time budget,
    /// which counts from the first of them.
    fn after_failure(
        &self,
        request: &Request<'_>,
        error: ApiError,
        sent: bool,
        retries: &mut Retries,
    ) -> Result<Option<Duration>, ApiError> {
        let label = request.label();
        let now = Instant::now();
        let asked = error.retry_after();
        if error.is_rate_limit() {
            let since = *retries.limited_since.get_or_insert(now);
            let give_up_at = self.inner.deadline.unwrap_or(since + RATE_LIMIT_PATIENCE);
            if now >= give_up_at {
                return Err(ApiError::RetriesExhausted {
                    attempts: retries.attempts,
                    elapsed: now - since,
                    last: Box::new(error),
                });
            }
            if let Some(asked) = asked
                && now + asked > give_up_at
            {
                return Err(too_long(label, asked, give_up_at - now, error));
            }
            self.inner
                .pacer
                .rejected(label, asked.map(|a| a.min(RETRY_AFTER_CAP)));
            self.inner.stats.retries.fetch_add(1, Ordering::Relaxed);
            self.inner
                .stats
                .rate_limited
                .fetch_add(1, Ordering::Relaxed);
            tracing::info!(
                "{} {label}: rate-limited by TikTok; waiting for quota ({error})",
                request.method
            );
            return Ok(None);
        }
        // A host that has never answered (its name unknown, nothing listening, no network) gets
        // the short budget, counted from the request's start: said within seconds, not minutes.
        let unreached = !sent && !self.inner.reached.load(Ordering::Relaxed);
        let (policy, elapsed) = if unreached {
            (self.inner.retry.short(), now - retries.started)
        } else {
            let since = *retries.failing_since.get_or_insert(now);
            (self.inner.retry.clone(), now - since)
        };
        if let Some(asked) = asked {
            let mut left = policy.retry_for.saturating_sub(elapsed);
            if let Some(deadline) = self.inner.deadline {
                left = left.min(deadline.saturating_duration_since(now));
            }
            if asked > left && error.is_retryable() {
                return Err(too_long(label, asked, left, error));
            }
        }
        let wait = policy
            .delay_for(retries.retry, &error, elapsed)
            .filter(|wait| self.inner.deadline.is_none_or(|d| now + *wait < d));
        match wait {
            Some(wait) => {
                retries.retry += 1;
                self.inner.stats.retries.fetch_add(1, Ordering::Relaxed);
                let retrying = Retrying {
                    wait,
                    attempt: retries.attempts + 1,
                    attempts: policy.max_retries + 1,
                    error: &error,
                };
                tracing::debug!("{} {label}: {retrying}", request.method);
                if let Some(listener) = &self.inner.on_retry {
                    (listener.0)(&retrying);
                }
                Ok(Some(wait))
            }
            None if retries.attempts > 1 && error.is_retryable() => {
                Err(ApiError::RetriesExhausted {
                    attempts: retries.attempts,
                    elapsed,
                    last: Box::new(error),
                })
            }
            None => Err(error),
        }
    }

    /// One send and read; the answer handed to `decode`.
    async fn attempt<T>(
        &self,
        request: &Request<'_>,
        url: &Url,
        body_to: &mut BodyTo<'_>,
        decode: &mut impl FnMut(&Answer<'_>) -> Result<T, ApiError>,
    ) -> Result<T, Attempt> {
        let label = request.label();
        let mut builder = self.builder(request, url);
        if let Some(form) = request.form {
            let form = form.build().await.map_err(|e| Attempt {
                error: ApiError::Setup(format!("reading the file to send to {label}: {e}")),
                sent: false,
            })?;
            builder = builder.multipart(form);
        }
        let response = builder
            .send()
            .await
            .map_err(|e| self.transport_error(label, e))?;
        self.inner.reached.store(true, Ordering::Relaxed);
        let status = response.status().as_u16();
        let headers = Headers::new(response.headers().clone());
        let sent = |error: ApiError| Attempt { error, sent: true };
        let json = headers
            .get("content-type")
            .is_some_and(|t| t.contains("json"));
        let (body, streamed) = match body_to {
            BodyTo::File(file) if (200..300).contains(&status) && !json => {
                self.stream_into(response, file, label).await?
            }
            _ => (self.read_bounded(response, Vec::new(), label).await?, None),
        };
        let answer = Answer {
            status,
            headers: &headers,
            body: &body,
            streamed,
        };
        decode(&answer).map_err(sent)
    }

    /// The HTTP request: query, JSON body, and the token — to the API host only, never to a
    /// pre-signed URL.
    fn builder(&self, request: &Request<'_>, url: &Url) -> reqwest::RequestBuilder {
        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
        };
        let mut builder = self.inner.http.request(method, url.clone());
        if let Some(query) = request.query {
            builder = builder.query(query.pairs());
        }
        if let Some(body) = request.body {
            builder = builder.json(body);
        }
        if request.auth == Auth::Token
            && matches!(request.target, Target::Endpoint(_))
            && let Some(token) = &self.inner.token
        {
            builder = builder.header("Access-Token", token.expose_secret());
        }
        builder
    }

    /// A successful non-JSON answer streamed into `file` (memory stays flat): the bytes
    /// written. An envelope sent without a JSON type (a CSV never starts with `{`) is read
    /// into memory instead.
    async fn stream_into(
        &self,
        mut response: reqwest::Response,
        file: &mut std::fs::File,
        label: &str,
    ) -> Result<(Vec<u8>, Option<u64>), Attempt> {
        let sent = |error: ApiError| Attempt { error, sent: true };
        let mut body = Vec::new();
        let mut first = true;
        let mut written = 0u64;
        file.set_len(0)
            .and_then(|()| file.rewind())
            .map_err(|e| sent(local_error(label, &e)))?;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport_error(label, e))
            .map_err(|a| sent(a.error))?
        {
            if first && chunk.trim_ascii_start().starts_with(b"{") {
                body.extend_from_slice(&chunk);
                return Ok((self.read_bounded(response, body, label).await?, None));
            }
            first = false;
            file.write_all(&chunk)
                .map_err(|e| sent(local_error(label, &e)))?;
            written += chunk.len() as u64;
        }
        file.flush().map_err(|e| sent(local_error(label, &e)))?;
        Ok((body, Some(written)))
    }

    /// The rest of an answer read into `body`, refused once it passes `MAX_BODY` bytes
    /// (decompressed: a gzip bomb stops there too) or announces more.
    async fn read_bounded(
        &self,
        mut response: reqwest::Response,
        mut body: Vec<u8>,
        label: &str,
    ) -> Result<Vec<u8>, Attempt> {
        let too_large = || Attempt {
            error: ApiError::TooLarge {
                endpoint: label.to_string(),
                limit: MAX_BODY as u64,
            },
            sent: true,
        };
        // Announced (compressed or not) as more than the limit: it cannot come to less.
        let announced = response.content_length().unwrap_or(0);
        if announced > MAX_BODY as u64 {
            return Err(too_large());
        }
        // Room for what was announced at once, not grown (and copied) by doubling.
        body.reserve(
            usize::try_from(announced)
                .unwrap_or(0)
                .saturating_sub(body.len()),
        );
        while let Some(chunk) = response.chunk().await.map_err(|e| {
            let mut attempt = self.transport_error(label, e);
            attempt.sent = true;
            attempt
        })? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn transport_error(&self, label: &str, error: reqwest::Error) -> Attempt {
        // A failed connect means nothing reached the server, so even a create may be re-sent.
        let sent = !error.is_connect();
        let error = if error.is_timeout() {
            ApiError::Timeout {
                endpoint: label.to_string(),
                timeout: self.inner.timeout,
            }
        } else {
            // The URL may carry the app secret in its query string: never show it.
            ApiError::transport(label, error)
        };
        Attempt { error, sent }
    }

    /// The URL of an endpoint path: only letters, digits, `_`, `-` and single slashes, and the
    /// result checked to stay under the API prefix of the configured host.
    fn endpoint_url(&self, path: &str) -> Result<Url, ApiError> {
        let bad = |why: &str| ApiError::Setup(format!("bad endpoint path {path:?}: {why}"));
        let relative = path.strip_prefix('/').unwrap_or(path);
        let plain = relative
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'/'));
        if relative.is_empty() || !plain || relative.contains("//") || relative.starts_with('/') {
            return Err(bad("only letters, digits, _ and - between single slashes"));
        }
        let url = self
            .inner
            .api_base
            .join(relative)
            .map_err(|e| bad(&e.to_string()))?;
        let base = &self.inner.api_base;
        if http::origin(&url) != http::origin(base) || !url.path().starts_with(base.path()) {
            return Err(bad("it leaves the API host"));
        }
        Ok(url)
    }
}

/// A pre-signed URL may be on any host, but over https (or plain http to this machine).
fn presigned_url(url: &Url) -> Result<Url, ApiError> {
    super::host::parse_base_url(url.as_str().split('?').next().unwrap_or_default())
        .map_err(|e| ApiError::Setup(format!("the download URL is not usable: {e}")))?;
    Ok(url.clone())
}

/// Writing a download to its local spool failed: not TikTok's fault, and not worth a retry.
fn local_error(label: &str, error: &std::io::Error) -> ApiError {
    ApiError::Setup(format!(
        "writing the answer of {label} to a temporary file: {error}"
    ))
}

/// What a decoded answer says about itself in the `-v` log.
pub trait Reported {
    fn summary(&self) -> String;
}

impl Reported for ApiResponse {
    fn summary(&self) -> String {
        format!(
            "{} code {} request_id {}",
            self.status, self.code, self.request_id
        )
    }
}

/// Counters of the calls made, for progress lines.
#[derive(Debug, Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    /// Answers that said the quota was used up (40100, 40133, HTTP 429, ...).
    pub rate_limited: AtomicU64,
}

/// One failed attempt and whether the request may have reached TikTok.
/// The server asked to wait longer than what is left of the budget: given up at once, saying
/// so.
fn too_long(endpoint: &str, asked: Duration, left: Duration, last: ApiError) -> ApiError {
    ApiError::RetryAfterTooLong {
        endpoint: endpoint.to_string(),
        asked,
        left,
        last: Box::new(last),
    }
}

struct Attempt {
    error: ApiError,
    sent: bool,
}

fn api_base(base: &Url) -> Result<Url, ApiError> {
    let mut base = base.clone();
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    base.join(API_PREFIX)
        .map_err(|e| ApiError::Setup(format!("bad base URL {base}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer<'a>(status: u16, headers: &'a Headers, body: &'a [u8]) -> Answer<'a> {
        Answer {
            status,
            headers,
            body,
            streamed: None,
        }
    }

    #[test]
    fn api_base_keeps_any_path_prefix() {
        let base = Url::parse("http://127.0.0.1:9000").unwrap();
        assert_eq!(
            api_base(&base).unwrap().as_str(),
            "http://127.0.0.1:9000/open_api/v1.3/"
        );
        let base = Url::parse("http://127.0.0.1:9000/proxy").unwrap();
        assert_eq!(
            api_base(&base).unwrap().as_str(),
            "http://127.0.0.1:9000/proxy/open_api/v1.3/"
        );
    }

    #[test]
    fn endpoint_paths_cannot_leave_the_api_prefix() {
        let client = Client::new(ClientOptions::new(
            Url::parse("http://127.0.0.1:9000").unwrap(),
        ))
        .unwrap();
        assert_eq!(
            client.endpoint_url("/bc/asset/get/").unwrap().as_str(),
            "http://127.0.0.1:9000/open_api/v1.3/bc/asset/get/"
        );
        for bad in [
            "/\\/127.0.0.2:9/steal/",
            "//127.0.0.2/steal/",
            "/../../steal/",
            "/bc/%2e%2e/x/",
            "/http://evil/",
            "/a/@evil/",
            "",
        ] {
            assert!(client.endpoint_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn non_zero_code_in_http_200_is_an_error() {
        let headers = Headers::default();
        let body = br#"{"code":40105,"message":"bad token","request_id":"r1","data":{}}"#;
        let err = ApiResponse::decode("/user/info/", &answer(200, &headers, body)).unwrap_err();
        assert_eq!(err.code(), Some(40105));
        assert_eq!(err.request_id(), Some("r1"));
    }

    #[test]
    fn partial_success_is_returned_for_inspection() {
        let headers = Headers::default();
        let body = br#"{"code":20001,"message":"partial","request_id":"r","data":{"a":1}}"#;
        let ok = ApiResponse::decode("/x/", &answer(200, &headers, body)).unwrap();
        assert_eq!(ok.code, 20001);
    }

    #[test]
    fn plain_text_404_is_an_http_error_and_a_cut_body_is_retryable() {
        let headers = Headers::default();
        let err =
            ApiResponse::decode("/x/", &answer(404, &headers, b"404 page not found")).unwrap_err();
        assert!(matches!(err, ApiError::Http { status: 404, .. }));
        assert!(err.to_string().contains("404 page not found"));
        let cut = br#"{"code":0,"message":"OK","request_id":"r","data":{"list":[{"a"#;
        let err = ApiResponse::decode("/x/", &answer(200, &headers, cut)).unwrap_err();
        assert!(matches!(err, ApiError::Inconsistent { .. }), "{err}");
        assert!(err.is_retryable());
    }

    #[test]
    fn a_list_without_data_is_an_error() {
        let headers = Headers::default();
        for body in [
            &br#"{"code":0,"message":"OK","request_id":"r"}"#[..],
            br#"{"code":0,"message":"OK","request_id":"r","data":null}"#,
        ] {
            let response = ApiResponse::decode("/x/", &answer(200, &headers, body)).unwrap();
            let err = response.list_data::<serde_json::Value>("/x/").unwrap_err();
            assert!(matches!(err, ApiError::Inconsistent { .. }), "{err}");
            assert!(response.data::<serde_json::Value>("/x/").is_ok());
        }
    }
}

#[cfg(test)]
mod http_tests {
    use std::time::Duration;

    use serde_json::json;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;

    fn client(server: &MockServer, timeout_ms: u64) -> Client {
        let mut options = ClientOptions::new(Url::parse(&server.uri()).unwrap());
        options.token = Some(SecretString::from("t".repeat(20)));
        options.timeout = Duration::from_millis(timeout_ms);
        options.retry.base_delay = Duration::from_millis(2);
        Client::new(options).unwrap()
    }

    #[tokio::test]
    async fn a_timed_out_create_is_not_sent_twice() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/open_api/v1.3/campaign/create/"))
            .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(500)))
            .mount(&server)
            .await;
        let err = client(&server, 100)
            .post::<serde_json::Value>("/campaign/create/", &json!({}), Auth::Token, Replay::Unsafe)
            .await
            .unwrap_err();
        assert!(matches!(err, ApiError::Uncertain { .. }), "{err}");
        assert_eq!(server.received_requests().await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_timed_out_read_is_retried() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/open_api/v1.3/user/info/"))
            .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(500)))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/open_api/v1.3/user/info/"))
            .respond_with(ResponseTemplate::new(200).set_body_json(
                json!({"code": 0, "message": "OK", "request_id": "r", "data": {"display_name": "x"}}),
            ))
            .mount(&server)
            .await;
        let user = client(&server, 200).user().info().await.unwrap();
        assert_eq!(user.display_name, "x");
        assert_eq!(server.received_requests().await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn a_cut_body_is_retried_until_whole() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/open_api/v1.3/user/info/"))
            .respond_with(ResponseTemplate::new(200).set_body_raw(
                r#"{"code":0,"message":"OK","data":{"disp"#,
                "application/json",
            ))
            .up_to_n_times(2)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/open_api/v1.3/user/info/"))
            .respond_with(ResponseTemplate::new(200).set_body_json(
                json!({"code": 0, "message": "OK", "request_id": "r", "data": {"display_name": "x"}}),
            ))
            .mount(&server)
            .await;
        let user = client(&server, 1000).user().info().await.unwrap();
        assert_eq!(user.display_name, "x");
        assert_eq!(server.received_requests().await.unwrap().len(), 3);
    }
}
