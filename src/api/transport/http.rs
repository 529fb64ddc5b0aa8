//! What the HTTP layer hands to decoders (status, headers, body), and the HTTP client itself,
//! built so that the token can only go to the API host: no redirect off that host is
//! followed and no `Referer` is ever sent.

use std::time::Duration;

use reqwest::header::HeaderMap;
use url::Url;

use super::error::ApiError;
use crate::redact::clean;

/// Response headers, read by name (case-insensitive).
#[derive(Debug, Clone, Default)]
pub struct Headers(HeaderMap);

impl Headers {
    pub(crate) fn new(map: HeaderMap) -> Self {
        Self(map)
    }

    /// The value of header `name`, when it is there and is text.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(|v| v.to_str().ok())
    }
}

/// One answer as a decoder sees it. A body streamed into a file (downloads) is not in `body`;
/// `streamed` says how many bytes went to the file.
pub struct Answer<'a> {
    pub status: u16,
    pub headers: &'a Headers,
    pub body: &'a [u8],
    pub streamed: Option<u64>,
}

impl Answer<'_> {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The error for a non-2xx answer (or a redirect that was not followed).
    pub fn http_error(&self, endpoint: &str) -> ApiError {
        if (300..400).contains(&self.status) {
            let location = self.headers.get("location").unwrap_or("(no Location)");
            return ApiError::Redirect {
                endpoint: endpoint.to_string(),
                status: self.status,
                location: clean(location),
            };
        }
        let snippet = &self.body[..self.body.len().min(500)];
        ApiError::Http {
            status: self.status,
            endpoint: endpoint.to_string(),
            body: clean(&String::from_utf8_lossy(snippet)),
            retry_after: self.headers.get("retry-after").and_then(retry_after),
        }
    }
}

/// The longest pause a `Retry-After` puts into the pacing state every process shares (a
/// request that would have to wait longer gives up instead).
pub(crate) const RETRY_AFTER_CAP: Duration = Duration::from_secs(120);

/// `Retry-After` as seconds or as an HTTP date (RFC 9110 10.2.3), capped.
pub(crate) fn retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    let wait = match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => {
            let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
            let ahead = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
            ahead.to_std().unwrap_or(Duration::ZERO)
        }
    };
    Some(wait)
}

/// Scheme, host and port: what must not change while a token travels.
pub(crate) fn origin(url: &Url) -> (String, Option<String>, Option<u16>) {
    (
        url.scheme().to_string(),
        url.host_str().map(str::to_ascii_lowercase),
        url.port_or_known_default(),
    )
}

/// The HTTP client: redirects are followed only within the API's origin (a pre-signed download
/// URL, which carries no token, may redirect up to five times), and no `Referer` goes out.
pub(crate) fn build(api_base: &Url, timeout: Duration) -> Result<reqwest::Client, ApiError> {
    let api_origin = origin(api_base);
    let policy = reqwest::redirect::Policy::custom(move |attempt| {
        let started_at_api = attempt
            .previous()
            .first()
            .is_some_and(|first| origin(first) == api_origin);
        if attempt.previous().len() > 5 {
            attempt.stop()
        } else if started_at_api && origin(attempt.url()) != api_origin {
            // The request carried the token (and maybe the app secret in its query): the
            // redirect answer is returned as it is, and reported.
            attempt.stop()
        } else {
            attempt.follow()
        }
    });
    // rustls needs a process-wide crypto provider; unless the program chose one, it is ring
    // (smaller and faster to build than the default).
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .user_agent(concat!("tiktok-ads/", env!("CARGO_PKG_VERSION")))
        .timeout(timeout)
        // A host that takes longer than this to accept a connection is down for our purposes.
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .redirect(policy)
        .referer(false)
        .build()
        .map_err(|e| ApiError::Setup(super::error::describe_chain(&e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_or_a_date_as_the_server_wrote_it() {
        assert_eq!(retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(retry_after("100000"), Some(Duration::from_secs(100_000)));
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        let soon = (chrono::Utc::now() + chrono::Duration::seconds(30)).to_rfc2822();
        let wait = retry_after(&soon).unwrap();
        assert!(
            wait > Duration::from_secs(25) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        assert_eq!(retry_after("soon"), None);
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        let a = Url::parse("https://business-api.tiktok.com/open_api/v1.3/").unwrap();
        let b = Url::parse("https://BUSINESS-API.tiktok.com:443/x").unwrap();
        let c = Url::parse("http://business-api.tiktok.com/").unwrap();
        let d = Url::parse("https://business-api.tiktok.com.evil.example/").unwrap();
        assert_eq!(origin(&a), origin(&b));
        assert_ne!(origin(&a), origin(&c));
        assert_ne!(origin(&a), origin(&d));
    }
}
