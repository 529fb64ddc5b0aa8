//! Test harness: an isolated home for each test (config dir, no D-Bus, no real keyring), a
//! wiremock server answering like TikTok, and the binary under test.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::{Value, json};
use tempfile::TempDir;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub(crate) const TOKEN: &str = "test-access-token-0123456789abcdef";
pub(crate) const APP_ID: &str = "7100000000000000001";
pub(crate) const APP_SECRET: &str = "test-app-secret-fedcba9876543210";
pub(crate) const ADV_US: &str = "7301234567890123456";
pub(crate) const ADV_EU: &str = "7301234567890654321";

pub(crate) struct TestEnv {
    pub dir: TempDir,
    pub server: MockServer,
}

impl TestEnv {
    pub(crate) async fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        for sub in ["home", "config", "work", "runtime", "data"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let runtime = dir.path().join("runtime");
            std::fs::set_permissions(runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        Self {
            dir,
            server: MockServer::start().await,
        }
    }

    pub(crate) fn config_dir(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    pub(crate) fn work_dir(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    pub(crate) fn credentials_file(&self) -> PathBuf {
        self.config_dir().join("credentials.toml")
    }

    /// The binary with a clean environment: nothing from the developer's shell, no D-Bus
    /// session (so no real keyring), the file token store, fast retries, this test's server.
    pub(crate) fn cmd(&self) -> Command {
        Command::from_std(self.std_cmd())
    }

    pub(crate) fn isolate(&self, cmd: &mut std::process::Command) {
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path().join("home"))
            .env("XDG_CONFIG_HOME", self.dir.path().join("home/.config"))
            .env("XDG_DATA_HOME", self.dir.path().join("data"))
            .env("XDG_RUNTIME_DIR", self.dir.path().join("runtime"))
            .env("TIKTOK_ADS_CONFIG_DIR", self.config_dir())
            .env("TIKTOK_ADS_BASE_URL", self.server.uri())
            .env("TIKTOK_ADS_TOKEN_STORE", "file")
            .env("TIKTOK_ADS_RETRY_BASE_MS", "1")
            .env("NO_COLOR", "1")
            .current_dir(self.work_dir());
    }

    /// A `std::process::Command` with the same isolation, for tests that talk to the
    /// process while it runs (the login flow).
    pub(crate) fn std_cmd(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin!("tiktok-ads"));
        self.isolate(&mut cmd);
        cmd
    }

    /// Stores `token` for the default profile in production, through `auth login --with-token`.
    pub(crate) async fn login_with_token(&self, token: &str) {
        let guard = Mock::given(method("GET"))
            .and(path("/open_api/v1.3/user/info/"))
            .and(header("Access-Token", token))
            .respond_with(ok(fixture("user_info.json")["data"].clone()))
            .mount_as_scoped(&self.server)
            .await;
        self.cmd()
            .args(["auth", "login", "--with-token"])
            .write_stdin(format!("{token}\n"))
            .assert()
            .success();
        drop(guard);
    }
}

/// A fixture from `tests/fixtures` (copies of the API reference's examples).
pub(crate) fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("fixture is JSON")
}

/// HTTP 200 with a success envelope around `data`.
pub(crate) fn ok(data: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "code": 0, "message": "OK", "request_id": "req-ok-1", "data": data
    }))
}

/// HTTP 200 with an error envelope, as TikTok sends errors.
pub(crate) fn api_error(code: i64, message: &str, request_id: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "code": code, "message": message, "request_id": request_id, "data": {}
    }))
}

/// HTTP 200 with a whole fixture as the body.
pub(crate) fn fixture_response(name: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(fixture(name))
}

pub(crate) fn api_path(endpoint: &str) -> String {
    format!("/open_api/v1.3{endpoint}")
}

pub(crate) fn stdout_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A mock of `GET {endpoint}` under the API prefix.
pub(crate) fn on_get(endpoint: &str) -> wiremock::MockBuilder {
    Mock::given(method("GET")).and(path(api_path(endpoint)))
}

/// A mock of `POST {endpoint}` under the API prefix.
pub(crate) fn on_post(endpoint: &str) -> wiremock::MockBuilder {
    Mock::given(method("POST")).and(path(api_path(endpoint)))
}

/// A `tiktok-ads mock` child process on a free port; killed when dropped. It checks tokens
/// and the app secret as TikTok does: `token` is one it issued, `app_secret` its app's.
pub(crate) struct Simulator {
    child: std::process::Child,
    pub url: String,
    pub token: String,
    pub app_secret: String,
}

impl Simulator {
    pub(crate) fn start(env: &TestEnv, extra: &[&str]) -> Self {
        use std::io::BufRead;
        let mut child = env
            .std_cmd()
            .args(["mock", "--port", "0"])
            .args(extra)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("tiktok-ads mock starts");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the simulator prints its URL");
        assert!(line.starts_with("http://127.0.0.1:"), "{line}");
        let url = line.trim().to_string();
        let token = control(&url, "POST", "/_mock/tokens", "{}")["access_token"]
            .as_str()
            .expect("the simulator issues a token")
            .to_string();
        let app_secret = control(&url, "GET", "/_mock/app", "")["app_secret"]
            .as_str()
            .expect("the simulator tells its app secret")
            .to_string();
        Self {
            child,
            url,
            token,
            app_secret,
        }
    }

    /// A call to the simulator's control API (`/_mock/...`), answered with JSON.
    pub(crate) fn control(&self, method: &str, path: &str, body: &str) -> Value {
        control(&self.url, method, path, body)
    }

    /// The binary pointed at this simulator with its token and first ad account.
    pub(crate) fn cmd(&self, env: &TestEnv) -> Command {
        Command::from_std(self.std_cmd(env))
    }

    /// The same, to spawn and watch.
    pub(crate) fn std_cmd(&self, env: &TestEnv) -> std::process::Command {
        let mut cmd = env.std_cmd();
        cmd.env("TIKTOK_ADS_BASE_URL", &self.url)
            .env("TIKTOK_ACCESS_TOKEN", &self.token)
            .env("TIKTOK_ADVERTISER_ID", SIM_ADVERTISER);
        cmd
    }

    /// The API requests the simulator received (secrets redacted), in order.
    pub(crate) fn requests(&self) -> Vec<Value> {
        self.control("GET", "/_mock/requests", "")["requests"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

/// The simulator's first ad account.
pub(crate) const SIM_ADVERTISER: &str = "7300000000000000001";

pub(crate) use crate::simulator_control::control;

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl TestEnv {
    /// A test home with a stored token.
    pub(crate) async fn logged_in() -> Self {
        let env = Self::new().await;
        env.login_with_token(TOKEN).await;
        env
    }

    /// A test home with a stored token, and `/advertiser/info/` answering with the fixture
    /// accounts (USD / New York and EUR / Berlin).
    pub(crate) async fn with_account() -> Self {
        let env = Self::logged_in().await;
        on_get("/advertiser/info/")
            .respond_with(fixture_response("advertiser_info.json"))
            .mount(&env.server)
            .await;
        env
    }

    /// The requests the server received for one endpoint, in order.
    pub(crate) async fn requests_to(&self, endpoint: &str) -> Vec<wiremock::Request> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.url.path() == api_path(endpoint))
            .collect()
    }
}

/// A query parameter of a received request.
pub(crate) fn query(request: &wiremock::Request, key: &str) -> Option<String> {
    request
        .url
        .query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// A JSON-encoded query parameter of a received request, decoded.
pub(crate) fn query_json(request: &wiremock::Request, key: &str) -> Value {
    serde_json::from_str(&query(request, key).unwrap_or_else(|| panic!("no {key}"))).unwrap()
}

/// The JSON body of a received request.
pub(crate) fn body_of(request: &wiremock::Request) -> Value {
    serde_json::from_slice(&request.body).unwrap()
}

/// A page of a list endpoint, with its `page_info`.
pub(crate) fn page_of(list: Vec<Value>, page: u64, page_size: u64, total: u64) -> ResponseTemplate {
    ok(json!({"list": list, "page_info": {
        "page": page, "page_size": page_size, "total_number": total,
        "total_page": total.div_ceil(page_size)}}))
}

/// A listener on another loopback address (127.0.0.2) that records every request it gets and
/// answers each with an empty 200: the place a leaked token would land.
pub(crate) struct Recorder {
    pub url: String,
    received: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Recorder {
    pub(crate) fn start() -> Self {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.2:0").expect("127.0.0.2 is loopback");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                    head.push(byte[0]);
                }
                log.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&head).into_owned());
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
        Self { url, received }
    }

    /// Every request head received so far.
    pub(crate) fn received(&self) -> Vec<String> {
        self.received.lock().unwrap().clone()
    }
}

/// The run exited with `code` and said `says` on stderr (the whole stderr is shown otherwise).
pub(crate) fn assert_fails(out: &std::process::Output, code: i32, says: &str) {
    let stderr = stderr_of(out);
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    assert!(stderr.contains(says), "{stderr}");
}
