//! Typed errors of the API layer. The CLI maps these to exit codes in `crate::exit`.

use std::time::Duration;

/// TikTok return codes that mean "the token (or the code being exchanged) is not usable":
/// the user has to log in again.
const AUTH_CODES: &[i64] = &[40101, 40102, 40103, 40104, 40105, 40107, 40110, 40113];

/// An error from one call to the Business API.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// TikTok answered with its envelope and a non-zero `code` (usually with HTTP 200).
    #[error("TikTok API error {code} on {endpoint}: {message} (request_id {request_id})")]
    Api {
        code: i64,
        message: String,
        request_id: String,
        endpoint: String,
    },

    /// A non-2xx status without a usable envelope (gateway errors, wrong paths).
    #[error("HTTP {status} from {endpoint}{}", snippet_suffix(body))]
    Http {
        status: u16,
        endpoint: String,
        body: String,
        retry_after: Option<Duration>,
    },

    /// The request could not be sent or its answer not received. `detail` is the whole cause
    /// chain (reqwest keeps the useful part, e.g. "Connection refused", in its sources).
    #[error("network error on {endpoint}: {detail}")]
    Transport { endpoint: String, detail: String },

    /// An answer bigger than any page TikTok sends (after decompression): not read on, so that
    /// a broken or hostile server cannot fill the memory.
    #[error(
        "the answer from {endpoint} is over {} MiB (TikTok's pages are a few MB): stopped reading \
         it; check --base-url and any proxy",
        limit / (1024 * 1024)
    )]
    TooLarge { endpoint: String, limit: u64 },

    /// No answer within the per-request timeout.
    #[error("no answer from {endpoint} within {}s", timeout.as_secs())]
    Timeout { endpoint: String, timeout: Duration },

    /// A write that may or may not have been applied: it timed out or failed in transit and
    /// re-sending it blindly could apply it twice.
    #[error(
        "the request to {endpoint} may or may not have been applied ({cause}); it was not re-sent \
         to avoid doing it twice: check the current state before trying again"
    )]
    Uncertain { endpoint: String, cause: String },

    /// TikTok answered but the object asked for is not there (or is deleted).
    #[error(
        "{what} was not found (TikTok returned nothing from {endpoint}; deleted objects are not shown)"
    )]
    NotFound { endpoint: String, what: String },

    /// The body was not the JSON TikTok documents.
    #[error("unexpected response from {endpoint}: {detail}")]
    Decode { endpoint: String, detail: String },

    /// An answer that cannot be the whole truth: cut short, a page other than the one asked
    /// for, a page repeated, a list without its data. Asking again may give a sound answer.
    #[error("TikTok's answer from {endpoint} does not add up: {detail}")]
    Inconsistent { endpoint: String, detail: String },

    /// The server answered with a redirect off the API host; it was not followed, because the
    /// request carried the token.
    #[error(
        "{endpoint} answered HTTP {status} redirecting to {location}: not followed (the token only \
         goes to the API host); check --base-url and any proxy"
    )]
    Redirect {
        endpoint: String,
        status: u16,
        location: String,
    },

    /// Every attempt failed with a retryable error.
    /// (`last` is in the message, so it is not also a `source`: error chains print it once.)
    #[error("gave up after {attempts} attempts over {} s: {last}", elapsed.as_secs())]
    RetriesExhausted {
        attempts: u32,
        elapsed: Duration,
        last: Box<ApiError>,
    },

    /// The server asked (`Retry-After`) to wait longer than the retry budget has left: not
    /// waited for, given up at once.
    #[error(
        "{endpoint}: the server asked to wait {} before trying again (Retry-After), more than the \
         {} left to retry, so the run gave up at once ({last})",
        long_wait(*asked), long_wait(*left)
    )]
    RetryAfterTooLong {
        endpoint: String,
        asked: Duration,
        left: Duration,
        last: Box<ApiError>,
    },

    /// The HTTP client could not be built (most often: no CA certificates on the machine).
    #[error("could not set up HTTPS: {0}")]
    Setup(String),
}

/// An error and all its causes on one line.
pub(crate) fn describe_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause = cause.to_string();
        if !text.ends_with(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
        source = source.and_then(std::error::Error::source);
    }
    text
}

/// A wait as a person reads it: seconds, minutes, or the date it ends.
fn long_wait(wait: Duration) -> String {
    match wait.as_secs() {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        _ => chrono::Utc::now()
            .checked_add_signed(chrono::Duration::from_std(wait).unwrap_or(chrono::TimeDelta::MAX))
            .map_or_else(
                || "for ever".to_string(),
                |until| format!("until {}", until.format("%Y-%m-%d %H:%M UTC")),
            ),
    }
}

fn snippet_suffix(body: &str) -> String {
    let trimmed = body.trim();
    if trimmed.is_empty() {
        return String::new();
    }
    let snippet: String = trimmed.chars().take(200).collect();
    format!(": {snippet}")
}

impl ApiError {
    /// A network failure, without the URL (its query may carry the app secret).
    pub(crate) fn transport(endpoint: &str, error: reqwest::Error) -> Self {
        // Which host did not answer (its name and port, never the URL's query).
        let host = error.url().and_then(|url| {
            Some(format!(
                "{}:{}",
                url.host_str()?,
                url.port_or_known_default()?
            ))
        });
        let chain = describe_chain(&error.without_url());
        ApiError::Transport {
            endpoint: endpoint.to_string(),
            detail: match host {
                Some(host) => format!("{host}: {chain}"),
                None => chain,
            },
        }
    }

    /// The TikTok return code, when TikTok answered with one.
    pub fn code(&self) -> Option<i64> {
        match self {
            ApiError::Api { code, .. } => Some(*code),
            ApiError::RetriesExhausted { last, .. } | ApiError::RetryAfterTooLong { last, .. } => {
                last.code()
            }
            _ => None,
        }
    }

    /// True when the failure says the token (or auth code, or app credentials) must be renewed.
    pub fn is_auth(&self) -> bool {
        self.code().is_some_and(|c| AUTH_CODES.contains(&c))
    }

    /// True when waiting and trying again may succeed (REFERENCE 10.2).
    pub fn is_retryable(&self) -> bool {
        match self {
            ApiError::Api { code, .. } => is_retryable_code(*code),
            ApiError::Http { status, .. } => *status == 429 || *status >= 500,
            ApiError::Transport { .. } | ApiError::Timeout { .. } => true,
            ApiError::Inconsistent { .. } => true,
            _ => false,
        }
    }

    /// True when TikTok refused the request for being too frequent (its quota, not a fault):
    /// the pacer slows down and the request waits for quota.
    pub fn is_rate_limit(&self) -> bool {
        match self {
            ApiError::Api { code, .. } => matches!(code, 40016 | 40100 | 40133 | 61000),
            ApiError::Http { status, .. } => *status == 429,
            _ => false,
        }
    }

    /// True for failures that outlasted retries or are transient by nature (network, 5xx,
    /// rate limits): cron wrappers should try again later rather than fix anything.
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::RetriesExhausted { .. } | ApiError::RetryAfterTooLong { .. } => true,
            other => other.is_retryable(),
        }
    }

    /// The server's hint for how long to wait, if it sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::Http { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// TikTok's log id for the failing call, for support tickets.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            ApiError::Api { request_id, .. } => Some(request_id),
            ApiError::RetriesExhausted { last, .. } | ApiError::RetryAfterTooLong { last, .. } => {
                last.request_id()
            }
            _ => None,
        }
    }
}

/// Return codes worth retrying with backoff: throttling, write conflicts and server faults.
pub(crate) fn is_retryable_code(code: i64) -> bool {
    matches!(
        code,
        40016 | 40100 | 40132 | 40133 | 40202 | 40700 | 50000 | 50002 | 60001 | 61000
    ) || (51000..=53999).contains(&code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: i64) -> ApiError {
        ApiError::Api {
            code,
            message: "m".into(),
            request_id: "r".into(),
            endpoint: "/x/".into(),
        }
    }

    #[test]
    fn throttling_and_server_codes_are_retryable() {
        for code in [40100, 40133, 40016, 50000, 50002, 51003, 60001] {
            assert!(api(code).is_retryable(), "{code}");
        }
        for code in [40001, 40002, 40007, 40105, 20001] {
            assert!(!api(code).is_retryable(), "{code}");
        }
    }

    #[test]
    fn token_codes_are_auth_errors() {
        assert!(api(40105).is_auth());
        assert!(api(40104).is_auth());
        assert!(!api(40001).is_auth());
        let wrapped = ApiError::RetriesExhausted {
            attempts: 3,
            elapsed: Duration::from_secs(2),
            last: Box::new(api(40100)),
        };
        assert_eq!(wrapped.code(), Some(40100));
        assert!(wrapped.is_transient());
    }

    #[test]
    fn http_statuses() {
        let http = |status| ApiError::Http {
            status,
            endpoint: "/x/".into(),
            body: String::new(),
            retry_after: None,
        };
        assert!(http(503).is_retryable());
        assert!(http(429).is_retryable());
        assert!(!http(404).is_retryable());
    }
}
