//! `auth login --with-token`, `auth status`, `auth token`, `auth logout`.

use serde_json::json;
use wiremock::matchers::{body_json, header};

use crate::support::*;

#[tokio::test(flavor = "multi_thread")]
async fn with_token_verifies_before_storing() {
    let env = TestEnv::new().await;
    env.login_with_token(TOKEN).await;
    let out = env.cmd().args(["auth", "token"]).assert().success();
    assert_eq!(stdout_of(out.get_output()), format!("{TOKEN}\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn with_token_refuses_a_rejected_token() {
    let env = TestEnv::new().await;
    on_get("/user/info/")
        .respond_with(fixture_response("error_access_token_invalid.json"))
        .mount(&env.server)
        .await;
    let out = env
        .cmd()
        .args(["auth", "login", "--with-token"])
        .write_stdin("revoked-token-value\n")
        .assert()
        .code(3);
    let stderr = stderr_of(out.get_output());
    assert!(
        stderr.contains("nothing was stored") && stderr.contains("40105"),
        "{stderr}"
    );
    assert!(!stderr.contains("revoked-token-value"));
    assert!(!env.credentials_file().exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn status_reports_source_and_live_check_without_the_token() {
    let env = TestEnv::new().await;
    env.login_with_token(TOKEN).await;
    on_get("/user/info/")
        .and(header("Access-Token", TOKEN))
        .respond_with(fixture_response("user_info.json"))
        .mount(&env.server)
        .await;
    let out = env.cmd().args(["auth", "status"]).assert().success();
    let stdout = stdout_of(out.get_output());
    assert!(stdout.contains("profile         default"), "{stdout}");
    assert!(stdout.contains("environment     production"), "{stdout}");
    assert!(stdout.contains("credentials.toml"), "{stdout}");
    assert!(stdout.contains("token_valid     true"), "{stdout}");
    assert!(stdout.contains("marketing-ops"), "{stdout}");
    assert!(!stdout.contains(TOKEN) && !stderr_of(out.get_output()).contains(TOKEN));

    let out = env
        .cmd()
        .args(["auth", "status", "--format", "json"])
        .assert()
        .success();
    let status: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(status["token_valid"], json!(true));
    assert_eq!(status["profile"], json!("default"));
}

#[tokio::test(flavor = "multi_thread")]
async fn status_exits_3_when_the_token_was_revoked() {
    let env = TestEnv::new().await;
    env.login_with_token(TOKEN).await;
    on_get("/user/info/")
        .respond_with(fixture_response("error_access_token_invalid.json"))
        .mount(&env.server)
        .await;
    let out = env.cmd().args(["auth", "status"]).assert().code(3);
    assert!(stdout_of(out.get_output()).contains("token_valid     false"));
    assert!(stderr_of(out.get_output()).contains("auth login"));
}

#[tokio::test(flavor = "multi_thread")]
async fn status_and_token_exit_3_when_not_logged_in() {
    let env = TestEnv::new().await;
    let out = env.cmd().args(["auth", "status"]).assert().code(3);
    assert!(stderr_of(out.get_output()).contains("tiktok-ads auth login"));
    env.cmd().args(["auth", "token"]).assert().code(3);
    assert!(env.server.received_requests().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn logout_revokes_with_the_app_secret_and_deletes() {
    let env = TestEnv::new().await;
    env.login_with_token(TOKEN).await;
    on_post("/oauth2/revoke_token/")
        .and(body_json(
            json!({"app_id": APP_ID, "secret": APP_SECRET, "access_token": TOKEN}),
        ))
        .respond_with(fixture_response("oauth_revoke_token.json"))
        .expect(1)
        .mount(&env.server)
        .await;
    let out = env
        .cmd()
        .args(["auth", "logout"])
        .env("TIKTOK_APP_ID", APP_ID)
        .env("TIKTOK_APP_SECRET", APP_SECRET)
        .assert()
        .success();
    let stderr = stderr_of(out.get_output());
    assert!(
        stderr.contains("revoked at TikTok") && stderr.contains("Deleted the token"),
        "{stderr}"
    );
    env.cmd().args(["auth", "token"]).assert().code(3);
}

#[tokio::test(flavor = "multi_thread")]
async fn logout_without_the_secret_deletes_locally_and_says_so() {
    let env = TestEnv::new().await;
    env.login_with_token(TOKEN).await;
    on_post("/oauth2/revoke_token/")
        .respond_with(ok(json!({})))
        .expect(0)
        .mount(&env.server)
        .await;
    let out = env.cmd().args(["auth", "logout"]).assert().success();
    assert!(stderr_of(out.get_output()).contains("not revoked at TikTok"));
    env.cmd().args(["auth", "token"]).assert().code(3);
}

#[tokio::test(flavor = "multi_thread")]
async fn logout_reports_a_failed_revocation_after_deleting() {
    let env = TestEnv::new().await;
    env.login_with_token(TOKEN).await;
    on_post("/oauth2/revoke_token/")
        .respond_with(api_error(40002, "invalid app", "req-revoke"))
        .mount(&env.server)
        .await;
    let out = env
        .cmd()
        .args(["auth", "logout"])
        .env("TIKTOK_APP_ID", APP_ID)
        .env("TIKTOK_APP_SECRET", APP_SECRET)
        .assert()
        .code(4);
    assert!(stderr_of(out.get_output()).contains("may still be valid"));
    env.cmd().args(["auth", "token"]).assert().code(3);
}

#[tokio::test(flavor = "multi_thread")]
async fn with_token_in_a_sandbox_without_user_info_stores_it_unverified() {
    let env = TestEnv::new().await;
    on_get("/user/info/")
        .respond_with(fixture_response("error_sandbox_unsupported.json"))
        .mount(&env.server)
        .await;
    let out = env
        .cmd()
        .args(["--sandbox", "auth", "login", "--with-token"])
        .write_stdin("sandbox-token-unverified\n")
        .assert()
        .success();
    assert!(stderr_of(out.get_output()).contains("could not be verified"));
    let out = env
        .cmd()
        .args(["--sandbox", "auth", "token"])
        .assert()
        .success();
    assert_eq!(
        stdout_of(out.get_output()).trim(),
        "sandbox-token-unverified"
    );
}
