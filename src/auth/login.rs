//! The browser half of `auth login`: the consent URL with a fresh `state`, and a one-shot
//! loopback listener (or a pasted URL) that hands back the `auth_code`.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::get;
use secrecy::SecretString;
use tokio::io::{AsyncBufRead, AsyncBufReadExt};
use tokio::sync::oneshot;
use url::Url;

#[derive(Debug, thiserror::Error)]
pub(crate) enum LoginError {
    #[error(
        "the callback's state did not match this login (possible cross-site request forgery, or an \
         old browser tab): nothing was exchanged; run `tiktok-ads auth login` again"
    )]
    StateMismatch,
    #[error("authorization was not granted: {0}")]
    Denied(String),
    #[error("the callback carried no auth_code: run `tiktok-ads auth login` again")]
    NoCode,
    #[error(
        "no callback within {} s: run `tiktok-ads auth login` again (or `--no-browser` to paste the \
         redirected URL)", .0.as_secs()
    )]
    TimedOut(Duration),
    #[error(
        "cannot listen on {addr} for the redirect: {detail}. Free the port or register and pass \
         another loopback redirect URI with --redirect-uri"
    )]
    Listen { addr: String, detail: String },
    #[error(
        "the redirect URI {0} is not on this machine, so the callback cannot be caught: use \
         --no-browser and paste the redirected URL, or register a loopback URI such as \
         http://localhost:8080/callback"
    )]
    NotLoopback(String),
    #[error("nothing was pasted: run `tiktok-ads auth login` again")]
    NothingPasted,
}

/// A fresh, unguessable `state` value: 128 random bits, hex-encoded.
pub(crate) fn new_state() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `{base}/portal/auth?app_id=..&state=..&redirect_uri=..`
pub(crate) fn consent_url(base: &Url, app_id: &str, state: &str, redirect_uri: &Url) -> Url {
    let mut url = base.clone();
    let path = format!("{}/portal/auth", base.path().trim_end_matches('/'));
    url.set_path(&path);
    url.query_pairs_mut()
        .clear()
        .append_pair("app_id", app_id)
        .append_pair("state", state)
        .append_pair("redirect_uri", redirect_uri.as_str());
    url
}

/// Reads the code out of the callback's query, checking `state` first.
pub(crate) fn code_from_params(
    params: &HashMap<String, String>,
    expected_state: &str,
) -> Result<SecretString, LoginError> {
    if params.get("state").map(String::as_str) != Some(expected_state) {
        return Err(LoginError::StateMismatch);
    }
    if let Some(error) = params.get("error") {
        let detail = params
            .get("error_description")
            .map(|d| format!("{error}: {d}"))
            .unwrap_or_else(|| error.clone());
        // The browser's callback is anyone's text: it is shown, never obeyed by the terminal.
        return Err(LoginError::Denied(crate::redact::clean(&detail)));
    }
    params
        .get("auth_code")
        .or_else(|| params.get("code"))
        .filter(|c| !c.is_empty())
        .map(|c| SecretString::from(c.clone()))
        .ok_or(LoginError::NoCode)
}

/// Reads a pasted redirected URL (state checked) or a bare code.
pub(crate) fn code_from_paste(
    line: &str,
    expected_state: &str,
) -> Result<SecretString, LoginError> {
    let line = line.trim();
    if line.is_empty() {
        return Err(LoginError::NothingPasted);
    }
    let query = if let Ok(url) = Url::parse(line) {
        url.query().map(str::to_string)
    } else if line.contains('=') {
        Some(line.trim_start_matches('?').to_string())
    } else {
        None
    };
    match query {
        Some(query) => {
            let params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect();
            code_from_params(&params, expected_state)
        }
        None => Ok(SecretString::from(line.to_string())),
    }
}

/// The address to listen on for a loopback redirect URI.
pub(crate) fn listen_addr(redirect_uri: &Url) -> Result<SocketAddr, LoginError> {
    if !crate::api::host::is_loopback(redirect_uri) || redirect_uri.scheme() != "http" {
        return Err(LoginError::NotLoopback(redirect_uri.to_string()));
    }
    let port = redirect_uri.port_or_known_default().unwrap_or(80);
    let ip = match redirect_uri.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
        _ => IpAddr::V4(Ipv4Addr::LOCALHOST),
    };
    Ok(SocketAddr::new(ip, port))
}

type Outcome = Result<SecretString, LoginError>;

#[derive(Clone)]
struct CallbackState {
    expected_state: Arc<str>,
    sender: Arc<Mutex<Option<oneshot::Sender<Outcome>>>>,
}

/// A bound loopback listener waiting for one callback.
pub(crate) struct CallbackListener {
    listener: tokio::net::TcpListener,
    path: String,
}

impl CallbackListener {
    /// Binds now, before the browser opens, so a busy port fails fast.
    pub(crate) async fn bind(redirect_uri: &Url) -> Result<Self, LoginError> {
        let addr = listen_addr(redirect_uri)?;
        let listener =
            tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| LoginError::Listen {
                    addr: addr.to_string(),
                    detail: e.to_string(),
                })?;
        Ok(Self {
            listener,
            path: redirect_uri.path().to_string(),
        })
    }

    /// The address actually bound (useful when the redirect URI asked for port 0).
    pub(crate) fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// Serves until the first callback on the redirect path, then shuts down.
    pub(crate) async fn wait(self, expected_state: &str) -> Outcome {
        let (tx, rx) = oneshot::channel();
        let state = CallbackState {
            expected_state: Arc::from(expected_state),
            sender: Arc::new(Mutex::new(Some(tx))),
        };
        let app = Router::new()
            .route(&self.path, get(callback))
            .fallback(|| async { (StatusCode::NOT_FOUND, "not found") })
            .with_state(state);
        let (done_tx, done_rx) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let _ = axum::serve(self.listener, app)
                .with_graceful_shutdown(async {
                    let _ = done_rx.await;
                })
                .await;
        });
        let outcome = rx.await.unwrap_or(Err(LoginError::NoCode));
        let _ = done_tx.send(());
        // Let the page reach the browser before the process goes on (bounded).
        let _ = tokio::time::timeout(Duration::from_secs(2), server).await;
        outcome
    }
}

async fn callback(
    State(state): State<CallbackState>,
    Query(params): Query<HashMap<String, String>>,
) -> (StatusCode, Html<String>) {
    let outcome = code_from_params(&params, &state.expected_state);
    if let Err(LoginError::StateMismatch) = outcome {
        // Not this login's callback (an old tab, or another local process): it must not end
        // the login, which keeps waiting for the right one until its timeout.
        tracing::warn!("ignored a callback whose state does not match this login");
        return (
            StatusCode::BAD_REQUEST,
            page(
                "Not this login",
                "This callback does not belong to the login in progress, so it was ignored. \
                 Finish the login in the browser window tiktok-ads opened.",
            ),
        );
    }
    let page = match &outcome {
        Ok(_) => (
            StatusCode::OK,
            page(
                "Logged in",
                "tiktok-ads received the authorization. You can close this tab.",
            ),
        ),
        Err(e) => (
            StatusCode::BAD_REQUEST,
            page("Login failed", &format!("{e}. You can close this tab.")),
        ),
    };
    if let Ok(mut sender) = state.sender.lock()
        && let Some(tx) = sender.take()
    {
        let _ = tx.send(outcome);
    }
    page
}

fn page(title: &str, body: &str) -> Html<String> {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>tiktok-ads: {}</title></head>\
         <body style=\"font-family: sans-serif; margin: 3em\"><h1>{}</h1><p>{}</p></body></html>",
        escape(title),
        escape(title),
        escape(body)
    ))
}

/// Waits for whichever comes first: the callback, or a pasted URL/code on `input` (when given).
pub(crate) async fn wait_for_code<R: AsyncBufRead + Unpin>(
    listener: impl Into<Option<CallbackListener>>,
    paste: Option<R>,
    expected_state: &str,
    timeout: Duration,
) -> Outcome {
    let listener = listener.into();
    let from_callback = async {
        match listener {
            Some(listener) => listener.wait(expected_state).await,
            None => std::future::pending().await,
        }
    };
    let from_paste = async {
        match paste {
            Some(mut input) => {
                let mut line = String::new();
                match input.read_line(&mut line).await {
                    Ok(n) if n > 0 => code_from_paste(&line, expected_state),
                    // End of input: keep waiting for the callback alone.
                    _ => std::future::pending().await,
                }
            }
            None => std::future::pending().await,
        }
    };
    let raced = async {
        tokio::select! {
            outcome = from_callback => outcome,
            outcome = from_paste => outcome,
        }
    };
    tokio::time::timeout(timeout, raced)
        .await
        .unwrap_or(Err(LoginError::TimedOut(timeout)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn state_has_128_bits_and_changes() {
        let a = new_state();
        assert_eq!(a.len(), 32);
        assert_ne!(a, new_state());
    }

    #[test]
    fn consent_url_carries_app_state_and_redirect() {
        let base = Url::parse("https://business-api.tiktok.com").unwrap();
        let redirect = Url::parse("http://localhost:8080/callback").unwrap();
        let url = consent_url(&base, "71000", "abc", &redirect);
        assert_eq!(
            url.as_str(),
            "https://business-api.tiktok.com/portal/auth?app_id=71000&state=abc&redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcallback"
        );
    }

    #[test]
    fn auth_code_preferred_then_code() {
        let code = code_from_params(
            &params(&[("state", "s"), ("auth_code", "A"), ("code", "B")]),
            "s",
        );
        assert_eq!(code.unwrap().expose_secret(), "A");
        let code = code_from_params(&params(&[("state", "s"), ("code", "B")]), "s");
        assert_eq!(code.unwrap().expose_secret(), "B");
    }

    #[test]
    fn wrong_or_missing_state_is_refused() {
        let err = code_from_params(&params(&[("state", "evil"), ("auth_code", "A")]), "s");
        assert!(matches!(err, Err(LoginError::StateMismatch)));
        let err = code_from_params(&params(&[("auth_code", "A")]), "s");
        assert!(matches!(err, Err(LoginError::StateMismatch)));
    }

    #[test]
    fn pasted_url_or_bare_code() {
        let url = "http://localhost:8080/callback?auth_code=XYZ&state=s";
        assert_eq!(code_from_paste(url, "s").unwrap().expose_secret(), "XYZ");
        assert!(matches!(
            code_from_paste("http://localhost:8080/callback?auth_code=XYZ&state=t", "s"),
            Err(LoginError::StateMismatch)
        ));
        assert_eq!(
            code_from_paste("  XYZ\n", "s").unwrap().expose_secret(),
            "XYZ"
        );
        assert!(matches!(
            code_from_paste(" \n", "s"),
            Err(LoginError::NothingPasted)
        ));
    }

    #[test]
    fn only_loopback_http_can_be_listened_on() {
        let ok = Url::parse("http://localhost:8123/cb").unwrap();
        assert_eq!(listen_addr(&ok).unwrap().to_string(), "127.0.0.1:8123");
        let remote = Url::parse("https://example.com/cb").unwrap();
        assert!(matches!(
            listen_addr(&remote),
            Err(LoginError::NotLoopback(_))
        ));
    }
}
