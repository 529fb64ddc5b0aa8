//! The one place where failures become exit codes (documented in the README) and hints.

use std::process::ExitCode;

use crate::api::ApiError;
use crate::auth::StoreError;
use crate::auth::login::LoginError;
use crate::cli::errors::CliError;
use crate::output::Streams;
use crate::output::streams::StdoutClosed;
use crate::report::ReportError;
use crate::warehouse::WarehouseError;

pub const OK: u8 = 0;
pub const UNEXPECTED: u8 = 1;
pub const USAGE: u8 = 2;
pub const AUTH: u8 = 3;
pub const API_REJECTED: u8 = 4;
pub const TRANSIENT: u8 = 5;
pub const PARTIAL: u8 = 6;
pub const DATABASE: u8 = 7;
/// `watch` saw an event named by `--exit-on`.
pub const EVENTS_SEEN: u8 = 8;

/// The exit code for an error, from the most specific cause in its chain.
pub fn code_for(error: &anyhow::Error) -> u8 {
    // An I/O error may carry the error that caused it (a database driver's, say) without
    // listing it as its source: it counts as a cause here.
    let causes = error.chain().flat_map(|cause| {
        let carried = cause
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            .map(|inner| inner as &(dyn std::error::Error + 'static));
        std::iter::once(cause).chain(carried)
    });
    for cause in causes {
        if let Some(e) = cause.downcast_ref::<CliError>() {
            return match e {
                CliError::Usage(_) => USAGE,
                CliError::NotLoggedIn { .. } | CliError::MissingAppCredentials(_) => AUTH,
                CliError::Partial(_) => PARTIAL,
                CliError::EventsSeen(_) => EVENTS_SEEN,
                CliError::Stopped { stop, .. } => stop.exit_code(),
            };
        }
        if let Some(e) = cause.downcast_ref::<ReportError>() {
            return match e {
                ReportError::Invalid(_) => USAGE,
                ReportError::Incomplete(_) => PARTIAL,
                ReportError::AccountFacts(_) | ReportError::TaskStillRunning(_) => TRANSIENT,
                ReportError::TaskFailed(_) => API_REJECTED,
            };
        }
        if let Some(e) = cause.downcast_ref::<ApiError>() {
            return api_code(e);
        }
        if let Some(e) = cause.downcast_ref::<WarehouseError>() {
            return match e {
                WarehouseError::Busy(_) => TRANSIENT,
                WarehouseError::Shape(_) => USAGE,
                WarehouseError::Unusable(_) => DATABASE,
            };
        }
        if cause.is::<rusqlite::Error>() || cause.is::<postgres::Error>() {
            return DATABASE;
        }
        if let Some(e) = cause.downcast_ref::<LoginError>() {
            return match e {
                LoginError::NotLoopback(_) => USAGE,
                _ => AUTH,
            };
        }
        if let Some(e) = cause.downcast_ref::<StoreError>() {
            return match e {
                StoreError::File { .. } => UNEXPECTED,
                _ => AUTH,
            };
        }
        if cause.is::<StdoutClosed>() {
            // `| head` closing the pipe early is not a failure.
            return OK;
        }
    }
    UNEXPECTED
}

fn api_code(error: &ApiError) -> u8 {
    match error {
        e if e.is_auth() => AUTH,
        // Whatever the API layer would retry (rate limits, 5xx, network) is transient, whether
        // the retries ran out or none were allowed (`--max-retries 0`).
        e if e.is_transient() => TRANSIENT,
        ApiError::Uncertain { .. } => TRANSIENT,
        ApiError::Api { .. }
        | ApiError::NotFound { .. }
        | ApiError::Http { .. }
        | ApiError::Redirect { .. } => API_REJECTED,
        ApiError::Decode { .. } | ApiError::Setup(_) => UNEXPECTED,
        ApiError::Transport { .. }
        | ApiError::TooLarge { .. }
        | ApiError::Timeout { .. }
        | ApiError::Inconsistent { .. }
        | ApiError::RetriesExhausted { .. }
        | ApiError::RetryAfterTooLong { .. } => TRANSIENT,
    }
}

/// What to do next, for the errors where that is not obvious from the message.
pub fn hint_for(error: &anyhow::Error) -> Option<String> {
    for cause in error.chain() {
        if let Some(e) = cause.downcast_ref::<ApiError>() {
            return api_hint(e);
        }
    }
    None
}

fn api_hint(error: &ApiError) -> Option<String> {
    if let ApiError::Setup(detail) = error
        && detail.contains("CA certificates")
    {
        return Some(
            "no CA certificates were found: install them (Debian/Ubuntu: `apt-get install \
             ca-certificates`) or point SSL_CERT_FILE at a PEM bundle"
                .into(),
        );
    }
    let network = match error {
        ApiError::Transport { .. } | ApiError::Timeout { .. } => true,
        ApiError::RetriesExhausted { last, .. } => {
            matches!(
                **last,
                ApiError::Transport { .. } | ApiError::Timeout { .. }
            )
        }
        _ => false,
    };
    if network {
        return Some(
            "TikTok could not be reached: check the network and any proxy (HTTPS_PROXY / NO_PROXY), \
             then run the command again; for slow links raise --timeout"
                .into(),
        );
    }
    if let ApiError::Uncertain { .. } = error {
        return Some(
            "look at the current state (the matching `list` or `get` command) before sending it again".into(),
        );
    }
    match error.code()? {
        40001 => Some(
            "the token has no permission here: check --advertiser is one of the accounts the token \
             reaches (`tiktok-ads advertiser list`), or log in again with `tiktok-ads auth login` and \
             grant the missing scopes and ad accounts"
                .into(),
        ),
        40100 | 40133 | 40016 => Some(
            "TikTok's rate limit for this app or ad account was hit repeatedly: try again later, \
             lower --rate, or raise --max-retries"
                .into(),
        ),
        40009 | 40014 | 40008 => Some(
            "this call is not available in the sandbox: pass --advertiser with the sandbox ad account ID, \
             or run against production"
                .into(),
        ),
        40102 | 40104 | 40105 => Some(
            "the token is missing, expired or revoked: run `tiktok-ads auth login` again".into(),
        ),
        40110 => Some("auth codes are single-use and valid for one hour: run `tiktok-ads auth login` again".into()),
        40101 | 40113 => Some(
            "the app ID or app secret is wrong: check TIKTOK_APP_ID and TIKTOK_APP_SECRET".into(),
        ),
        _ => None,
    }
}

/// Prints the error (secrets masked) and returns the process exit code.
pub fn report(result: anyhow::Result<()>, streams: &Streams) -> ExitCode {
    let Err(error) = result else {
        return ExitCode::from(OK);
    };
    let code = code_for(&error);
    if code == EVENTS_SEEN {
        streams.write_err_line(&format!("watch: {error}"));
    } else if code != OK {
        let text = format!("{error:#}");
        streams.write_err_line(&format!("error: {}", crate::redact::redact(&text)));
        if let Some(hint) = hint_for(&error) {
            streams.write_err_line(&format!("hint: {}", crate::redact::redact(&hint)));
        }
    }
    ExitCode::from(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: i64) -> anyhow::Error {
        anyhow::Error::new(ApiError::Api {
            code,
            message: "m".into(),
            request_id: "r".into(),
            endpoint: "/x/".into(),
        })
        .context("doing something")
    }

    #[test]
    fn each_kind_of_failure_has_its_code() {
        assert_eq!(code_for(&api(40105)), AUTH);
        assert_eq!(code_for(&api(40002)), API_REJECTED);
        assert_eq!(code_for(&api(40001)), API_REJECTED);
        let exhausted = anyhow::Error::new(ApiError::RetriesExhausted {
            attempts: 5,
            elapsed: std::time::Duration::from_secs(3),
            last: Box::new(ApiError::Api {
                code: 40100,
                message: String::new(),
                request_id: String::new(),
                endpoint: String::new(),
            }),
        });
        assert_eq!(code_for(&exhausted), TRANSIENT);
        // A rate limit with no retries allowed is still "try again later", not "rejected".
        assert_eq!(code_for(&api(40100)), TRANSIENT);
        assert_eq!(code_for(&api(50000)), TRANSIENT);
        assert_eq!(code_for(&crate::cli::errors::usage("bad")), USAGE);
        assert_eq!(code_for(&anyhow::anyhow!("boom")), UNEXPECTED);
        // Stdout's reader going away (`| head`) is not a failure; any other broken pipe is.
        let closed = std::io::Error::new(
            std::io::ErrorKind::BrokenPipe,
            crate::output::streams::StdoutClosed,
        );
        assert_eq!(code_for(&anyhow::Error::new(closed).context("writing")), OK);
        let pipe = anyhow::Error::new(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert_eq!(code_for(&pipe), UNEXPECTED);
        // A database error carried inside an I/O error (a COPY's writer) is a database error.
        let carried = std::io::Error::other(rusqlite::Error::InvalidQuery);
        assert_eq!(code_for(&anyhow::Error::new(carried)), DATABASE);
        let busy = anyhow::Error::new(WarehouseError::Busy("b".into())).context("syncing");
        assert_eq!(code_for(&busy), TRANSIENT);
        let shape = anyhow::Error::new(WarehouseError::Shape("s".into()));
        assert_eq!(code_for(&shape), USAGE);
        let sqlite = anyhow::Error::new(rusqlite::Error::InvalidQuery).context("writing");
        assert_eq!(code_for(&sqlite), DATABASE);
    }

    #[test]
    fn permission_errors_hint_at_scopes() {
        assert!(hint_for(&api(40001)).unwrap().contains("scopes"));
    }
}
