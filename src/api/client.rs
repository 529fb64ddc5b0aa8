//! The one HTTP core every call goes through: base URL, `Access-Token`, pacing, retries,
//! envelope decoding and typed errors.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use url::Url;

use super::error::ApiError;
use super::pacing::Pacer;
use super::query::Query;
use super::retry::{Replay, RetryPolicy};

/// Where every endpoint path is appended.
pub const API_PREFIX: &str = "open_api/v1.3/";

#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Scheme and host (e.g. `https://business-api.tiktok.com`); the API prefix is added here.
    pub base_url: Url,
    pub token: Option<SecretString>,
    pub timeout: Duration,
    pub retry: RetryPolicy,
    pub requests_per_second: NonZeroU32,
}

impl ClientOptions {
    pub fn new(base_url: Url) -> Self {
        Self {
            base_url,
            token: None,
            timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            requests_per_second: NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN),
        }
    }
}

/// Whether a call carries the `Access-Token` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    Token,
    /// The OAuth code exchange is made without a token.
    None,
}

/// A decoded envelope whose `code` was 0 or 20001 (partial success).
#[derive(Debug)]
pub struct ApiResponse {
    pub status: u16,
    pub code: i64,
    pub message: String,
    pub request_id: String,
    pub data: Option<Box<RawValue>>,
    pub headers: HeaderMap,
}

impl ApiResponse {
    /// Decodes `data` into `T`; a missing `data` decodes like `{}`.
    pub fn data<T: DeserializeOwned>(&self, endpoint: &str) -> Result<T, ApiError> {
        let raw = self.data.as_deref().map_or("{}", RawValue::get);
        serde_json::from_str(raw).map_err(|e| ApiError::Decode {
            endpoint: endpoint.to_string(),
            detail: format!("{e} (request_id {})", self.request_id),
        })
    }
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(deserialize_with = "code_from_any")]
    code: i64,
    #[serde(default)]
    message: String,
    #[serde(default, deserialize_with = "super::ids::string_or_number")]
    request_id: String,
    #[serde(default)]
    data: Option<Box<RawValue>>,
}

fn code_from_any<'de, D: serde::Deserializer<'de>>(de: D) -> Result<i64, D::Error> {
    let text = super::ids::string_or_number(de)?;
    text.trim().parse().map_err(serde::de::Error::custom)
}

/// A typed client for the Marketing API. Cheap to clone; clones share pacing.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    api_base: Url,
    token: Option<SecretString>,
    timeout: Duration,
    retry: RetryPolicy,
    pacer: Pacer,
    stats: Stats,
}

impl Client {
    pub fn new(options: ClientOptions) -> Result<Self, ApiError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("tiktok-ads/", env!("CARGO_PKG_VERSION")))
            .timeout(options.timeout)
            .connect_timeout(options.timeout.min(Duration::from_secs(30)))
            .build()
            .map_err(|e| ApiError::Setup(super::error::describe_chain(&e)))?;
        let api_base = api_base(&options.base_url)?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                api_base,
                token: options.token,
                timeout: options.timeout,
                retry: options.retry,
                pacer: Pacer::new(options.requests_per_second),
                stats: Stats::default(),
            }),
        })
    }

    /// Requests sent and retries made so far by this client and its clones.
    pub fn stats(&self) -> &Stats {
        &self.inner.stats
    }

    /// The HTTP client itself, for fetching pre-signed download URLs (no token, no envelope).
    pub fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// `GET path?query` and decode `data` into `T`.
    pub async fn get<T: DeserializeOwned>(&self, path: &str, query: &Query) -> Result<T, ApiError> {
        self.call(
            Method::GET,
            path,
            Some(query),
            None,
            Auth::Token,
            Replay::Safe,
        )
        .await?
        .data(path)
    }

    /// `POST path` with a JSON body and decode `data` into `T`.
    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &serde_json::Value,
        auth: Auth,
        replay: Replay,
    ) -> Result<T, ApiError> {
        self.call(Method::POST, path, None, Some(body), auth, replay)
            .await?
            .data(path)
    }

    /// The request path every call takes: pacing, retries, envelope and error mapping.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        query: Option<&Query>,
        body: Option<&serde_json::Value>,
        auth: Auth,
        replay: Replay,
    ) -> Result<ApiResponse, ApiError> {
        let request = Request {
            method: &method,
            path,
            query,
            body,
            auth,
            replay,
        };
        self.call_with(&request, |status, headers, bytes| {
            decode(path, status, headers, bytes)
        })
        .await
    }

    /// Like [`Client::call`] with a decoder of its own for the answer (e.g. a streaming report
    /// page decoder); the decoder's errors are retried like any other.
    pub async fn call_with<T: Reported>(
        &self,
        request: &Request<'_>,
        decoder: impl Fn(StatusCode, HeaderMap, &[u8]) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let Request {
            method,
            path,
            query,
            body,
            auth,
            replay,
        } = *request;
        let url = self.endpoint_url(path)?;
        let attempts_allowed = self.inner.retry.max_retries + 1;
        let mut retry = 0;
        loop {
            self.inner.pacer.ready(path).await;
            let started = Instant::now();
            self.inner.stats.requests.fetch_add(1, Ordering::Relaxed);
            let result = self
                .attempt(method.clone(), &url, path, query, body, auth, &decoder)
                .await;
            let elapsed = started.elapsed().as_millis();
            let error = match result {
                Ok(response) => {
                    tracing::debug!("{method} {path} -> {} ({elapsed} ms)", response.summary());
                    return Ok(response);
                }
                Err(Attempt { error, sent }) => {
                    tracing::debug!("{method} {path} -> {error} ({elapsed} ms)");
                    if sent && replay == Replay::Unsafe && !matches!(error, ApiError::Api { .. }) {
                        return Err(ApiError::Uncertain {
                            endpoint: path.to_string(),
                            cause: error.to_string(),
                        });
                    }
                    error
                }
            };
            match self.inner.retry.delay_for(retry, &error) {
                Some(wait) => {
                    retry += 1;
                    self.inner.stats.retries.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(
                        "retrying {method} {path} in {} ms (retry {retry} of {}): {error}",
                        wait.as_millis(),
                        self.inner.retry.max_retries
                    );
                    tokio::time::sleep(wait).await;
                }
                None if retry > 0 && error.is_retryable() => {
                    return Err(ApiError::RetriesExhausted {
                        attempts: attempts_allowed,
                        last: Box::new(error),
                    });
                }
                None => return Err(error),
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn attempt<T>(
        &self,
        method: Method,
        url: &Url,
        path: &str,
        query: Option<&Query>,
        body: Option<&serde_json::Value>,
        auth: Auth,
        decoder: &impl Fn(StatusCode, HeaderMap, &[u8]) -> Result<T, ApiError>,
    ) -> Result<T, Attempt> {
        let mut request = self.inner.http.request(method, url.clone());
        if let Some(query) = query {
            request = request.query(query.pairs());
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        if auth == Auth::Token
            && let Some(token) = &self.inner.token
        {
            request = request.header("Access-Token", token.expose_secret());
        }
        let response = request
            .send()
            .await
            .map_err(|e| self.transport_error(path, e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(path, e))
            .map_err(|mut a| {
                a.sent = true;
                a
            })?;
        decoder(status, headers, &bytes).map_err(|error| Attempt { error, sent: true })
    }

    fn transport_error(&self, path: &str, error: reqwest::Error) -> Attempt {
        // A failed connect means nothing reached the server, so even a create may be re-sent.
        let sent = !error.is_connect();
        let error = if error.is_timeout() {
            ApiError::Timeout {
                endpoint: path.to_string(),
                timeout: self.inner.timeout,
            }
        } else {
            // The URL may carry the app secret in its query string: never show it.
            ApiError::transport(path, error)
        };
        Attempt { error, sent }
    }

    fn endpoint_url(&self, path: &str) -> Result<Url, ApiError> {
        let relative = path.trim_start_matches('/');
        self.inner
            .api_base
            .join(relative)
            .map_err(|e| ApiError::Setup(format!("bad endpoint path {path}: {e}")))
    }
}

/// A `GET` whose answer is either a body to stream or a JSON envelope.
pub enum Streamed {
    Body(FileStream),
    Envelope(ApiResponse),
}

/// A response body read chunk by chunk (the first chunk may already have been read to tell
/// a file from an envelope).
pub struct FileStream {
    first: Option<bytes::Bytes>,
    response: reqwest::Response,
    endpoint: String,
}

impl FileStream {
    pub fn new(response: reqwest::Response, endpoint: &str) -> Self {
        Self {
            first: None,
            response,
            endpoint: endpoint.to_string(),
        }
    }

    /// The next piece of the body; `None` at the end.
    pub async fn next_chunk(&mut self) -> Result<Option<bytes::Bytes>, ApiError> {
        if let Some(first) = self.first.take() {
            return Ok(Some(first));
        }
        self.response
            .chunk()
            .await
            .map_err(|e| ApiError::transport(&self.endpoint, e))
    }
}

impl Client {
    /// `GET` an endpoint that may answer with a file: the body is handed back unread when it
    /// is not JSON. Failures before the body starts are retried like any call.
    pub async fn get_stream(&self, path: &str, query: &Query) -> Result<Streamed, ApiError> {
        let url = self.endpoint_url(path)?;
        let mut retry = 0;
        loop {
            self.inner.pacer.ready(path).await;
            self.inner.stats.requests.fetch_add(1, Ordering::Relaxed);
            let mut request = self.inner.http.get(url.clone()).query(query.pairs());
            if let Some(token) = &self.inner.token {
                request = request.header("Access-Token", token.expose_secret());
            }
            let error = match request.send().await {
                Ok(mut response) => {
                    let status = response.status();
                    let json = response
                        .headers()
                        .get(reqwest::header::CONTENT_TYPE)
                        .and_then(|v| v.to_str().ok())
                        .is_some_and(|v| v.contains("json"));
                    if status.is_success() && !json {
                        // A CSV never starts with `{`; an envelope sent as text does.
                        match response.chunk().await {
                            Ok(Some(first)) if first.trim_ascii_start().starts_with(b"{") => {
                                let mut bytes = first.to_vec();
                                match response.bytes().await {
                                    Ok(rest) => bytes.extend_from_slice(&rest),
                                    Err(e) => return Err(self.transport_error(path, e).error),
                                }
                                decode(path, status, HeaderMap::new(), &bytes)
                                    .map(Streamed::Envelope)
                            }
                            Ok(first) => {
                                tracing::debug!("GET {path} -> {status} (file)");
                                return Ok(Streamed::Body(FileStream {
                                    first,
                                    response,
                                    endpoint: path.to_string(),
                                }));
                            }
                            Err(e) => Err(self.transport_error(path, e).error),
                        }
                    } else {
                        let headers = response.headers().clone();
                        match response.bytes().await {
                            Ok(bytes) => {
                                decode(path, status, headers, &bytes).map(Streamed::Envelope)
                            }
                            Err(e) => Err(self.transport_error(path, e).error),
                        }
                    }
                }
                Err(e) => Err(self.transport_error(path, e).error),
            };
            let error = match error {
                Ok(envelope) => return Ok(envelope),
                Err(e) => e,
            };
            match self.inner.retry.delay_for(retry, &error) {
                Some(wait) => {
                    retry += 1;
                    self.inner.stats.retries.fetch_add(1, Ordering::Relaxed);
                    tracing::info!("retrying GET {path} in {} ms: {error}", wait.as_millis());
                    tokio::time::sleep(wait).await;
                }
                None => return Err(error),
            }
        }
    }
}

/// The parts of one request, for [`Client::call_with`].
#[derive(Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a Method,
    pub path: &'a str,
    pub query: Option<&'a Query>,
    pub body: Option<&'a serde_json::Value>,
    pub auth: Auth,
    pub replay: Replay,
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
}

/// One failed attempt and whether the request may have reached TikTok.
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

pub(crate) fn decode(
    path: &str,
    status: StatusCode,
    headers: HeaderMap,
    bytes: &[u8],
) -> Result<ApiResponse, ApiError> {
    let envelope = serde_json::from_slice::<Envelope>(bytes);
    match envelope {
        Ok(envelope) if envelope.code == 0 || envelope.code == 20001 => {
            if status.is_success() {
                Ok(ApiResponse {
                    status: status.as_u16(),
                    code: envelope.code,
                    message: envelope.message,
                    request_id: envelope.request_id,
                    data: envelope.data,
                    headers,
                })
            } else {
                Err(http_error(path, status, &headers, bytes))
            }
        }
        Ok(envelope) => Err(ApiError::Api {
            code: envelope.code,
            message: envelope.message,
            request_id: envelope.request_id,
            endpoint: path.to_string(),
        }),
        Err(_) if !status.is_success() => Err(http_error(path, status, &headers, bytes)),
        Err(e) => Err(ApiError::Decode {
            endpoint: path.to_string(),
            detail: format!("not a TikTok JSON envelope ({e})"),
        }),
    }
}

pub(crate) fn http_error(
    path: &str,
    status: StatusCode,
    headers: &HeaderMap,
    bytes: &[u8],
) -> ApiError {
    let retry_after = headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    ApiError::Http {
        status: status.as_u16(),
        endpoint: path.to_string(),
        body: String::from_utf8_lossy(&bytes[..bytes.len().min(500)]).into_owned(),
        retry_after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn non_zero_code_in_http_200_is_an_error() {
        let body = br#"{"code":40105,"message":"bad token","request_id":"r1","data":{}}"#;
        let err = decode("/user/info/", StatusCode::OK, HeaderMap::new(), body).unwrap_err();
        assert_eq!(err.code(), Some(40105));
        assert_eq!(err.request_id(), Some("r1"));
    }

    #[test]
    fn partial_success_is_returned_for_inspection() {
        let body = br#"{"code":20001,"message":"partial","request_id":"r","data":{"a":1}}"#;
        let ok = decode("/x/", StatusCode::OK, HeaderMap::new(), body).unwrap();
        assert_eq!(ok.code, 20001);
    }

    #[test]
    fn plain_text_404_is_an_http_error() {
        let err = decode(
            "/x",
            StatusCode::NOT_FOUND,
            HeaderMap::new(),
            b"404 page not found",
        )
        .unwrap_err();
        assert!(matches!(err, ApiError::Http { status: 404, .. }));
        assert!(err.to_string().contains("404 page not found"));
    }
}

#[cfg(test)]
mod http_tests {
    use std::time::Duration;

    use futures_util::TryStreamExt;
    use serde_json::json;
    use wiremock::matchers::{method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;

    fn client(server: &MockServer, timeout_ms: u64) -> Client {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut options = ClientOptions::new(Url::parse(&server.uri()).unwrap());
        options.token = Some(SecretString::from("t".repeat(20)));
        options.timeout = Duration::from_millis(timeout_ms);
        options.retry.base_delay = Duration::from_millis(1);
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
        let user = client(&server, 200).user_info().await.unwrap();
        assert_eq!(user.display_name, "x");
        assert_eq!(server.received_requests().await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn pages_are_fetched_lazily_until_the_last_one() {
        let server = MockServer::start().await;
        for page in 1..=3u64 {
            Mock::given(method("GET"))
                .and(path("/open_api/v1.3/campaign/get/"))
                .and(query_param("page", page.to_string()))
                .and(query_param("page_size", "2"))
                .and(query_param("advertiser_id", "7301234567890123456"))
                .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                    "code": 0, "message": "OK", "request_id": "r",
                    "data": {
                        "list": [{"n": page * 10 + 1}, {"n": page * 10 + 2}],
                        "page_info": {"page": page, "page_size": 2, "total_number": 6, "total_page": 3}
                    }
                })))
                .expect(1)
                .mount(&server)
                .await;
        }
        let client = client(&server, 1000);
        let query = Query::new().param("advertiser_id", "7301234567890123456");
        let stream = client.pages::<serde_json::Value>("/campaign/get/", query, 2);
        futures_util::pin_mut!(stream);
        let first = stream.try_next().await.unwrap().unwrap();
        assert_eq!(first.list.len(), 2);
        // Only the first page has been asked for so far.
        assert_eq!(server.received_requests().await.unwrap().len(), 1);
        let rest: Vec<_> = stream.try_collect().await.unwrap();
        let numbers: Vec<u64> = rest
            .iter()
            .flat_map(|p| p.list.iter().map(|v| v["n"].as_u64().unwrap()))
            .collect();
        assert_eq!(numbers, [21, 22, 31, 32]);
    }
}
