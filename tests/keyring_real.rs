//! The real OS keyring (Secret Service on Linux). Ignored by default: CI runs these under
//! `tests/with-secret-service.sh`, which starts a throwaway D-Bus session and an unlocked
//! gnome-keyring, with `cargo test --test keyring_real -- --ignored`.

use assert_cmd::Command;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "keyring-test-token-0123456789";
const SANDBOX_TOKEN: &str = "keyring-test-sandbox-token-987";

fn cmd(config_dir: &std::path::Path, server: &MockServer) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("tiktok-ads"));
    // Keep the session bus of the wrapper; isolate everything else.
    for var in [
        "TIKTOK_ACCESS_TOKEN",
        "TIKTOK_ADS_PROFILE",
        "TIKTOK_ADS_SANDBOX",
        "TIKTOK_ADS_TOKEN_STORE",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("TIKTOK_ADS_CONFIG_DIR", config_dir)
        .env("TIKTOK_ADS_BASE_URL", server.uri())
        .env("TIKTOK_ADS_RETRY_BASE_MS", "1")
        .args(["--token-store", "keyring"]);
    cmd
}

async fn user_info(server: &MockServer, token: &str) {
    Mock::given(method("GET"))
        .and(path("/open_api/v1.3/user/info/"))
        .and(header("Access-Token", token))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "code": 0, "message": "OK", "request_id": "r", "data": {"display_name": "kr"}
        })))
        .mount(server)
        .await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Secret Service; run under tests/with-secret-service.sh"]
async fn tokens_round_trip_through_the_secret_service_across_processes() {
    let server = MockServer::start().await;
    user_info(&server, TOKEN).await;
    user_info(&server, SANDBOX_TOKEN).await;
    let dir = tempfile::tempdir().unwrap();
    let profile = format!("kr-{}", std::process::id());

    cmd(dir.path(), &server)
        .args(["--profile", &profile, "auth", "login", "--with-token"])
        .write_stdin(format!("{TOKEN}\n"))
        .assert()
        .success();
    cmd(dir.path(), &server)
        .args([
            "--profile",
            &profile,
            "--sandbox",
            "auth",
            "login",
            "--with-token",
        ])
        .write_stdin(format!("{SANDBOX_TOKEN}\n"))
        .assert()
        .success();
    // Nothing went to the file store.
    assert!(!dir.path().join("credentials.toml").exists());

    // A second process reads each environment's own token back.
    let out = cmd(dir.path(), &server)
        .args(["--profile", &profile, "auth", "token"])
        .assert()
        .success();
    assert_eq!(
        String::from_utf8_lossy(&out.get_output().stdout).trim(),
        TOKEN
    );
    let out = cmd(dir.path(), &server)
        .args(["--profile", &profile, "--sandbox", "auth", "token"])
        .assert()
        .success();
    assert_eq!(
        String::from_utf8_lossy(&out.get_output().stdout).trim(),
        SANDBOX_TOKEN
    );

    let out = cmd(dir.path(), &server)
        .args(["--profile", &profile, "auth", "status"])
        .assert()
        .success();
    assert!(String::from_utf8_lossy(&out.get_output().stdout).contains("OS keyring"));

    // Overwrite, then delete.
    user_info(&server, "keyring-test-token-second").await;
    cmd(dir.path(), &server)
        .args(["--profile", &profile, "auth", "login", "--with-token"])
        .write_stdin("keyring-test-token-second\n")
        .assert()
        .success();
    let out = cmd(dir.path(), &server)
        .args(["--profile", &profile, "auth", "token"])
        .assert()
        .success();
    assert_eq!(
        String::from_utf8_lossy(&out.get_output().stdout).trim(),
        "keyring-test-token-second"
    );
    for env_flag in [None, Some("--sandbox")] {
        let mut logout = cmd(dir.path(), &server);
        logout.args(["--profile", &profile]);
        if let Some(flag) = env_flag {
            logout.arg(flag);
        }
        logout.args(["auth", "logout"]).assert().success();
    }
    cmd(dir.path(), &server)
        .args(["--profile", &profile, "auth", "token"])
        .assert()
        .code(3);
}
