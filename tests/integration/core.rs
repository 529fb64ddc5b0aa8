//! The API core seen from the outside: retries, exit codes, redaction, atomic output, input checks.

use serde_json::json;
use wiremock::ResponseTemplate;

use crate::support::*;

async fn mount_info_success(env: &TestEnv) {
    on_get("/advertiser/info/")
        .respond_with(fixture_response("advertiser_info.json"))
        .mount(&env.server)
        .await;
}

fn info_cmd(env: &TestEnv) -> assert_cmd::Command {
    let mut cmd = env.cmd();
    cmd.args([
        "advertiser",
        "info",
        ADV_US,
        ADV_EU,
        "--fields",
        "advertiser_id,currency",
    ]);
    cmd
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limit_code_in_http_200_is_retried_then_succeeds() {
    let env = TestEnv::logged_in().await;
    on_get("/advertiser/info/")
        .respond_with(fixture_response("error_rate_limit.json"))
        .up_to_n_times(2)
        .mount(&env.server)
        .await;
    mount_info_success(&env).await;
    let out = info_cmd(&env).arg("-v").assert().success();
    assert_eq!(
        stdout_of(out.get_output()),
        format!("advertiser_id,currency\n{ADV_US},USD\n{ADV_EU},EUR\n")
    );
    assert_eq!(env.requests_to("/advertiser/info/").await.len(), 3);
    let stderr = stderr_of(out.get_output());
    assert_eq!(
        stderr
            .matches("rate-limited by TikTok; waiting for quota")
            .count(),
        2,
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn http_503_is_retried_then_succeeds() {
    let env = TestEnv::logged_in().await;
    on_get("/advertiser/info/")
        .respond_with(ResponseTemplate::new(503).set_body_string("upstream busy"))
        .up_to_n_times(1)
        .mount(&env.server)
        .await;
    mount_info_success(&env).await;
    info_cmd(&env).assert().success();
    assert_eq!(env.requests_to("/advertiser/info/").await.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn retries_exhausted_exit_5_after_the_configured_attempts() {
    let env = TestEnv::logged_in().await;
    on_get("/advertiser/info/")
        .respond_with(fixture_response("error_system.json"))
        .mount(&env.server)
        .await;
    let out = info_cmd(&env).args(["--max-retries", "2"]).assert().code(5);
    let stderr = stderr_of(out.get_output());
    assert!(
        stderr.contains("gave up after 3 attempts") && stderr.contains("50000"),
        "{stderr}"
    );
    assert_eq!(env.requests_to("/advertiser/info/").await.len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn permission_error_exits_4_with_code_request_id_and_scope_hint() {
    let env = TestEnv::logged_in().await;
    on_get("/advertiser/info/")
        .respond_with(fixture_response("error_permission.json"))
        .expect(1)
        .mount(&env.server)
        .await;
    let out = info_cmd(&env).assert().code(4);
    let stderr = stderr_of(out.get_output());
    assert!(stderr.contains("40001"), "{stderr}");
    assert!(
        stderr.contains("2025020309154701024547A7C3E9F1B2D42F"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint:") && stderr.contains("scopes"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn parameter_error_exits_4_without_retry() {
    let env = TestEnv::logged_in().await;
    on_get("/advertiser/info/")
        .respond_with(fixture_response("error_param.json"))
        .expect(1)
        .mount(&env.server)
        .await;
    info_cmd(&env).assert().code(4);
}

#[tokio::test(flavor = "multi_thread")]
async fn revoked_token_exits_3_and_names_auth_login() {
    let env = TestEnv::logged_in().await;
    on_get("/advertiser/info/")
        .respond_with(fixture_response("error_access_token_invalid.json"))
        .mount(&env.server)
        .await;
    let out = info_cmd(&env).assert().code(3);
    assert!(stderr_of(out.get_output()).contains("tiktok-ads auth login"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_connection_is_transient_exit_5() {
    let env = TestEnv::logged_in().await;
    let out = env
        .cmd()
        .env("TIKTOK_ADS_BASE_URL", "http://127.0.0.1:9")
        // The stored token belongs to the test's server; this host gets one of its own.
        .env("TIKTOK_ACCESS_TOKEN", TOKEN)
        .args(["--max-retries", "1", "advertiser", "info", ADV_US])
        .assert()
        .code(5);
    let stderr = stderr_of(out.get_output());
    assert!(stderr.contains("network error"), "{stderr}");
    // The error says the cause once, down to the socket error (the retry said it too, as it
    // happened).
    let error = stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_default();
    assert_eq!(error.matches("network error on").count(), 1, "{stderr}");
    assert_eq!(stderr.matches("retrying in ").count(), 1, "{stderr}");
    assert!(stderr.contains("Connection refused"), "{stderr}");
    assert!(
        stderr.contains("hint:") && stderr.contains("proxy"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn verbose_logs_calls_but_never_secrets() {
    let env = TestEnv::new().await;
    on_get("/oauth2/advertiser/get/")
        .respond_with(fixture_response("oauth_advertiser_get.json"))
        .mount(&env.server)
        .await;
    mount_info_success(&env).await;
    on_post("/oauth2/access_token/")
        .respond_with(ok(
            json!({"access_token": TOKEN, "advertiser_ids": [ADV_US], "scope": [1]}),
        ))
        .mount(&env.server)
        .await;
    let out = env
        .cmd()
        .args(["-v", "auth", "login", "--auth-code", "-"])
        .env("TIKTOK_APP_ID", APP_ID)
        .env("TIKTOK_APP_SECRET", APP_SECRET)
        .write_stdin("one-time-auth-code-777\n")
        .assert()
        .success();
    let stderr = stderr_of(out.get_output());
    assert!(
        stderr.contains("POST /oauth2/access_token/ -> 200 code 0 request_id req-ok-1"),
        "{stderr}"
    );
    assert!(stderr.contains("GET /oauth2/advertiser/get/"), "{stderr}");
    for secret in [TOKEN, APP_SECRET, "one-time-auth-code-777"] {
        assert!(!stderr.contains(secret), "{secret} leaked: {stderr}");
    }

    let out = env
        .cmd()
        .args(["-v", "advertiser", "list"])
        .env("TIKTOK_APP_ID", APP_ID)
        .env("TIKTOK_APP_SECRET", APP_SECRET)
        .assert()
        .success();
    let stderr = stderr_of(out.get_output());
    assert!(stderr.contains("GET /advertiser/info/"), "{stderr}");
    assert!(
        !stderr.contains(TOKEN) && !stderr.contains(APP_SECRET),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn output_file_is_written_on_success_and_absent_on_failure() {
    let env = TestEnv::logged_in().await;
    on_get("/advertiser/info/")
        .respond_with(fixture_response("error_permission.json"))
        .up_to_n_times(1)
        .mount(&env.server)
        .await;
    mount_info_success(&env).await;
    let target = env.work_dir().join("accounts.csv");

    info_cmd(&env).args(["-o", "accounts.csv"]).assert().code(4);
    assert!(!target.exists());
    assert_eq!(
        std::fs::read_dir(env.work_dir()).unwrap().count(),
        0,
        "no temp file left"
    );

    info_cmd(&env)
        .args(["-o", "accounts.csv"])
        .assert()
        .success()
        .stdout("");
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        format!("advertiser_id,currency\n{ADV_US},USD\n{ADV_EU},EUR\n")
    );
    // The extension picks the format when none is given.
    info_cmd(&env)
        .args(["-o", "accounts.json"])
        .assert()
        .success();
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(env.work_dir().join("accounts.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(json[1]["currency"], "EUR");
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_http_to_a_remote_host_is_refused() {
    let env = TestEnv::logged_in().await;
    let out = env
        .cmd()
        .env("TIKTOK_ADS_BASE_URL", "http://ads.example.com")
        .args(["advertiser", "info", ADV_US])
        .assert()
        .code(2);
    assert!(stderr_of(out.get_output()).contains("refusing plain http"));
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_format_is_a_usage_error() {
    let env = TestEnv::new().await;
    env.cmd()
        .args(["--format", "xml", "advertiser", "list"])
        .assert()
        .code(2);
}

#[tokio::test(flavor = "multi_thread")]
async fn numeric_ids_in_responses_are_kept_as_sent() {
    let env = TestEnv::logged_in().await;
    on_get("/advertiser/info/")
        .respond_with(ResponseTemplate::new(200).set_body_string(format!(
            r#"{{"code":0,"message":"OK","request_id":"r","data":{{"list":[{{"advertiser_id":"{ADV_US}","name":"A","balance":10}}]}}}}"#
        )))
        .mount(&env.server)
        .await;
    let out = env
        .cmd()
        .args([
            "advertiser",
            "info",
            ADV_US,
            "--fields",
            "advertiser_id,balance",
            "--format",
            "json",
        ])
        .assert()
        .success();
    assert_eq!(
        stdout_of(out.get_output()),
        format!("[\n{{\"advertiser_id\":\"{ADV_US}\",\"balance\":10}}\n]\n")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_ca_certificates_give_an_install_hint() {
    let env = TestEnv::logged_in().await;
    let empty = env.dir.path().join("no-certs");
    std::fs::create_dir_all(&empty).unwrap();
    let out = env
        .cmd()
        .env("TIKTOK_ADS_BASE_URL", "https://127.0.0.1:9")
        .env("TIKTOK_ACCESS_TOKEN", TOKEN)
        .env("SSL_CERT_FILE", empty.join("missing.pem"))
        .env("SSL_CERT_DIR", &empty)
        .args(["--max-retries", "0", "advertiser", "info", ADV_US])
        .assert()
        .failure();
    let stderr = stderr_of(out.get_output());
    assert!(stderr.contains("ca-certificates"), "{stderr}");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_exits_130() {
    let env = TestEnv::new().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = env
        .std_cmd()
        .args(["auth", "login", "--no-browser", "--redirect-uri"])
        .arg(format!("http://127.0.0.1:{port}/cb"))
        .env("TIKTOK_APP_ID", APP_ID)
        .env("TIKTOK_APP_SECRET", APP_SECRET)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until it listens (it is then inside the run loop), then interrupt it.
    let start = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(30),
            "never listened"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", stderr_of(&output));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_base_url_variable_means_not_set() {
    let env = TestEnv::new().await;
    let out = env
        .cmd()
        .env("TIKTOK_ADS_BASE_URL", "")
        .args(["--sandbox", "auth", "status"])
        .assert()
        .code(3);
    let stderr = stderr_of(out.get_output());
    assert!(
        stderr.contains("SANDBOX: calls go to https://sandbox-ads.tiktok.com"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rate_limit_past_the_deadline_is_transient_exit_5() {
    let env = TestEnv::logged_in().await;
    on_get("/advertiser/info/")
        .respond_with(fixture_response("error_rate_limit.json"))
        .mount(&env.server)
        .await;
    // Waiting for quota uses no retries: --max-retries 0 still waits, until the deadline.
    let out = info_cmd(&env)
        .args(["--max-retries", "0", "--deadline", "1"])
        .assert()
        .code(5);
    assert!(stderr_of(out.get_output()).contains("40100"));
    assert!(env.requests_to("/advertiser/info/").await.len() > 1);
}
