//! `auth login`: the browser flow with this test acting as the browser, the pasted-URL flow,
//! exchange-only, and the failure paths.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use url::Url;
use wiremock::matchers::{body_json, header, query_param};

use crate::support::*;

const FIXTURE_TOKEN: &str = "EXAMPLE-long-term-access-token-not-real-0000000000";
const CODE: &str = "auth-code-from-browser-42";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A `$BROWSER` that records the URL it was asked to open, as a real browser would load it.
fn browser_script(env: &TestEnv, url_file: &Path) -> PathBuf {
    let script = env.dir.path().join("fake-browser.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s' \"$1\" > '{}.tmp' && mv '{}.tmp' '{}'\n",
            url_file.display(),
            url_file.display(),
            url_file.display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    script
}

fn wait_for_file(path: &Path, child: &mut Child) -> String {
    let start = Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            return text;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("tiktok-ads exited early with {status}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the browser was never opened"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The browser following TikTok's redirect back to the loopback listener.
async fn http_get(url: &str) -> (u16, String) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let response = reqwest::get(url).await.expect("callback reachable");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

fn query_value(url: &Url, key: &str) -> String {
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("{key} missing in {url}"))
}

async fn mount_exchange(env: &TestEnv, expected_calls: u64) {
    on_post("/oauth2/access_token/")
        .and(body_json(
            json!({"app_id": APP_ID, "secret": APP_SECRET, "auth_code": CODE}),
        ))
        .respond_with(fixture_response("oauth_access_token.json"))
        .expect(expected_calls)
        .mount(&env.server)
        .await;
}

async fn mount_advertiser_names(env: &TestEnv) {
    on_get("/oauth2/advertiser/get/")
        .and(query_param("app_id", APP_ID))
        .and(query_param("secret", APP_SECRET))
        .and(header("Access-Token", FIXTURE_TOKEN))
        .respond_with(fixture_response("oauth_advertiser_get.json"))
        .mount(&env.server)
        .await;
}

fn spawn_login(env: &TestEnv, port: u16, browser: &Path, extra: &[&str]) -> Child {
    env.std_cmd()
        .args(["auth", "login", "--redirect-uri"])
        .arg(format!("http://127.0.0.1:{port}/callback"))
        .args(extra)
        .env("BROWSER", browser)
        .env("TIKTOK_APP_ID", APP_ID)
        .env("TIKTOK_APP_SECRET", APP_SECRET)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tiktok-ads")
}

#[tokio::test(flavor = "multi_thread")]
async fn browser_login_exchanges_the_code_stores_the_token_and_lists_accounts() {
    let env = TestEnv::new().await;
    mount_exchange(&env, 1).await;
    mount_advertiser_names(&env).await;
    let url_file = env.dir.path().join("opened-url");
    let browser = browser_script(&env, &url_file);
    let port = free_port();
    let mut child = spawn_login(&env, port, &browser, &[]);

    let consent = Url::parse(&wait_for_file(&url_file, &mut child)).unwrap();
    assert_eq!(consent.path(), "/portal/auth");
    assert!(consent.as_str().starts_with(&env.server.uri()));
    assert_eq!(query_value(&consent, "app_id"), APP_ID);
    assert_eq!(
        query_value(&consent, "redirect_uri"),
        format!("http://127.0.0.1:{port}/callback")
    );
    let state = query_value(&consent, "state");
    assert_eq!(state.len(), 32, "128-bit state, hex");

    let (status, page) = http_get(&format!(
        "http://127.0.0.1:{port}/callback?auth_code={CODE}&code={CODE}&state={state}"
    ))
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("close this tab"), "{page}");

    let output = child.wait_with_output().unwrap();
    let (stdout, stderr) = (stdout_of(&output), stderr_of(&output));
    assert!(output.status.success(), "stderr: {stderr}");
    assert!(
        stdout.contains(&format!("{ADV_US},Acme Shoes US")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{ADV_EU},Acme Shoes EU")),
        "{stdout}"
    );
    assert!(stderr.contains("Logged in to production"), "{stderr}");
    assert!(
        !stderr.contains(FIXTURE_TOKEN) && !stderr.contains(APP_SECRET) && !stderr.contains(CODE)
    );

    // The stored token is the one TikTok issued, with the accounts it reaches.
    let token = env.cmd().args(["auth", "token"]).assert().success();
    assert_eq!(stdout_of(token.get_output()).trim(), FIXTURE_TOKEN);
    // It belongs to the host that issued it (the test's server), not to TikTok's production.
    let creds = std::fs::read_to_string(env.credentials_file()).unwrap();
    assert!(
        creds.contains(&format!("production@{}/default", env.server.uri()))
            && creds.contains(ADV_EU),
        "{creds}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_callback_with_another_state_is_refused_and_the_login_waits_for_the_right_one() {
    let env = TestEnv::new().await;
    mount_exchange(&env, 1).await;
    mount_advertiser_names(&env).await;
    let url_file = env.dir.path().join("opened-url");
    let browser = browser_script(&env, &url_file);
    let port = free_port();
    let mut child = spawn_login(&env, port, &browser, &[]);
    let consent = Url::parse(&wait_for_file(&url_file, &mut child)).unwrap();

    // Any local process can hit the listener: a forged or missing state is answered with an
    // error page and changes nothing.
    for forged in [
        format!("http://127.0.0.1:{port}/callback?auth_code=evil-code&state=forged-state"),
        format!("http://127.0.0.1:{port}/callback?error=access_denied"),
    ] {
        let (status, page) = http_get(&forged).await;
        assert_eq!(status, 400);
        assert!(page.contains("Not this login"), "{page}");
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "the login must keep waiting"
    );
    assert!(env.requests_to("/oauth2/access_token/").await.is_empty());

    let state = query_value(&consent, "state");
    let (status, _) = http_get(&format!(
        "http://127.0.0.1:{port}/callback?auth_code={CODE}&state={state}"
    ))
    .await;
    assert_eq!(status, 200);
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert!(
        stderr_of(&output).contains("state does not match"),
        "{}",
        stderr_of(&output)
    );
    let token = env.cmd().args(["auth", "token"]).assert().success();
    assert_eq!(stdout_of(token.get_output()).trim(), FIXTURE_TOKEN);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_denied_consent_fails_without_exchange() {
    let env = TestEnv::new().await;
    mount_exchange(&env, 0).await;
    let url_file = env.dir.path().join("opened-url");
    let browser = browser_script(&env, &url_file);
    let port = free_port();
    let mut child = spawn_login(&env, port, &browser, &[]);
    let consent = Url::parse(&wait_for_file(&url_file, &mut child)).unwrap();
    let state = query_value(&consent, "state");
    http_get(&format!(
        "http://127.0.0.1:{port}/callback?error=access_denied&error_description=no%1B%5B2J%0Dthanks&state={state}"
    ))
    .await;
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(3));
    let stderr = stderr_of(&output);
    assert!(stderr.contains("access_denied"), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains('\r'),
        "{stderr:?}"
    );
    assert!(stderr.contains("no\\u{1b}[2J\\rthanks"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_callback_before_the_timeout_fails_cleanly() {
    let env = TestEnv::new().await;
    mount_exchange(&env, 0).await;
    let url_file = env.dir.path().join("opened-url");
    let browser = browser_script(&env, &url_file);
    let child = spawn_login(&env, free_port(), &browser, &["--callback-timeout", "1"]);
    let output = child.wait_with_output().unwrap();
    assert_fails(&output, 3, "no callback within 1 s");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_browser_accepts_the_pasted_redirect_url() {
    let env = TestEnv::new().await;
    mount_exchange(&env, 1).await;
    mount_advertiser_names(&env).await;
    let port = free_port();
    let mut child = env
        .std_cmd()
        .args(["auth", "login", "--no-browser", "--redirect-uri"])
        .arg(format!("http://127.0.0.1:{port}/callback"))
        .env("TIKTOK_APP_ID", APP_ID)
        .env("TIKTOK_APP_SECRET", APP_SECRET)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read the printed consent URL from stderr, as a person would.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut consent = None;
    let mut line = String::new();
    while stderr.read_line(&mut line).unwrap() > 0 {
        if let Some(start) = line.find("http") {
            let url = Url::parse(line[start..].trim()).unwrap();
            if url.path() == "/portal/auth" {
                consent = Some(url);
                break;
            }
        }
        line.clear();
    }
    let state = query_value(&consent.expect("consent URL printed"), "state");
    let mut stdin = child.stdin.take().unwrap();
    writeln!(
        stdin,
        "http://127.0.0.1:{port}/callback?auth_code={CODE}&state={state}"
    )
    .unwrap();
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    assert!(stdout_of(&output).contains(ADV_US));
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_code_from_stdin_is_exchanged_without_a_browser() {
    let env = TestEnv::new().await;
    mount_exchange(&env, 1).await;
    mount_advertiser_names(&env).await;
    env.cmd()
        .args(["auth", "login", "--auth-code", "-"])
        .env("TIKTOK_APP_ID", APP_ID)
        .env("TIKTOK_APP_SECRET", APP_SECRET)
        .write_stdin(format!("{CODE}\n"))
        .assert()
        .success();
    let out = env.cmd().args(["auth", "token"]).assert().success();
    assert_eq!(stdout_of(out.get_output()).trim(), FIXTURE_TOKEN);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_code_exits_3_and_stores_nothing() {
    let env = TestEnv::new().await;
    on_post("/oauth2/access_token/")
        .respond_with(fixture_response("error_auth_code_invalid.json"))
        .expect(1)
        .mount(&env.server)
        .await;
    let out = env
        .cmd()
        .args(["auth", "login", "--auth-code", "stale-code-123"])
        .env("TIKTOK_APP_ID", APP_ID)
        .env("TIKTOK_APP_SECRET", APP_SECRET)
        .assert()
        .code(3);
    let stderr = stderr_of(out.get_output());
    assert!(
        stderr.contains("40110") && stderr.contains("2025020309154401024544A7C3E9F1B2D42C"),
        "{stderr}"
    );
    assert!(!env.credentials_file().exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn without_the_app_secret_off_a_terminal_login_names_the_variable() {
    let env = TestEnv::new().await;
    let out = env
        .cmd()
        .args(["auth", "login", "--auth-code", "x-code-123"])
        .env("TIKTOK_APP_ID", APP_ID)
        .assert()
        .code(3);
    assert!(stderr_of(out.get_output()).contains("TIKTOK_APP_SECRET"));
    assert!(env.server.received_requests().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn app_credentials_come_from_a_dotenv_file_and_the_environment_wins() {
    let env = TestEnv::new().await;
    mount_exchange(&env, 1).await;
    mount_advertiser_names(&env).await;
    std::fs::write(
        env.work_dir().join(".env"),
        format!("TIKTOK_APP_ID=9999\nTIKTOK_APP_SECRET={APP_SECRET}\n"),
    )
    .unwrap();
    // TIKTOK_APP_ID from the environment beats the .env value; the secret comes from .env.
    env.cmd()
        .args(["auth", "login", "--auth-code", CODE])
        .env("TIKTOK_APP_ID", APP_ID)
        .assert()
        .success();
}
