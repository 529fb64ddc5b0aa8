//! What the resource modules' tests share: a client of a wiremock server that answers like
//! TikTok, and TikTok's envelope around a fixture or a value.

use std::time::Duration;

use secrecy::SecretString;
use serde_json::{Value, json};
use wiremock::{MockServer, ResponseTemplate};

use super::{Client, ClientOptions};

/// A client of `server`, with a token and short retry waits.
pub(crate) fn client(server: &MockServer) -> Client {
    let mut options = ClientOptions::new(server.uri().parse().expect("a server URL"));
    options.token = Some(SecretString::from("t".repeat(20)));
    options.retry.base_delay = Duration::from_millis(2);
    Client::new(options).expect("a client")
}

/// A fixture of `tests/fixtures/`, as TikTok sent it.
pub(crate) fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).expect("a JSON fixture")
}

/// A success envelope around `data`.
pub(crate) fn envelope(data: Value) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(json!({"code": 0, "message": "OK", "request_id": "r", "data": data}))
}

/// The JSON array a request carried in its query parameter `key`.
pub(crate) fn query_list(request: &wiremock::Request, key: &str) -> Vec<String> {
    let (_, value) = request
        .url
        .query_pairs()
        .find(|(k, _)| k == key)
        .unwrap_or_else(|| panic!("no {key} in {}", request.url));
    serde_json::from_str(&value).expect("a JSON array")
}
