//! `config` and how profile settings feed other commands.

use wiremock::matchers::query_param;

use crate::support::*;

#[tokio::test(flavor = "multi_thread")]
async fn set_get_list_unset() {
    let env = TestEnv::new().await;
    env.cmd()
        .args(["config", "set", "app_id", APP_ID])
        .assert()
        .success();
    env.cmd()
        .args(["config", "set", "environment", "sandbox"])
        .assert()
        .success();
    let out = env
        .cmd()
        .args(["config", "get", "app_id"])
        .assert()
        .success();
    assert_eq!(stdout_of(out.get_output()), format!("{APP_ID}\n"));
    let out = env.cmd().args(["config", "list"]).assert().success();
    let listing = stdout_of(out.get_output());
    assert!(
        listing.contains(&format!("app_id = {APP_ID}"))
            && listing.contains("environment = sandbox")
    );
    env.cmd()
        .args(["config", "unset", "environment"])
        .assert()
        .success();
    env.cmd()
        .args(["config", "get", "environment"])
        .assert()
        .code(2);
    // Bad values and keys are refused.
    env.cmd()
        .args(["config", "set", "environment", "staging"])
        .assert()
        .code(2);
    env.cmd()
        .args(["config", "set", "advertiser_id", "abc"])
        .assert()
        .code(2);
    env.cmd()
        .args(["config", "set", "colour", "red"])
        .assert()
        .code(2);
    // Other profiles are separate.
    env.cmd()
        .args(["--profile", "other", "config", "get", "app_id"])
        .assert()
        .code(2);
    let text = std::fs::read_to_string(env.config_dir().join("config.toml")).unwrap();
    assert!(text.contains("[profiles.default]"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn app_secret_is_read_from_stdin_never_from_argv_and_never_in_the_toml() {
    let env = TestEnv::new().await;
    env.cmd()
        .args(["config", "set", "app_secret", "on-the-command-line"])
        .assert()
        .code(2);
    env.cmd()
        .args(["config", "set", "app_secret"])
        .write_stdin(format!("{APP_SECRET}\n"))
        .assert()
        .success();
    env.cmd()
        .args(["config", "get", "app_secret"])
        .assert()
        .code(2);
    let toml = std::fs::read_to_string(env.config_dir().join("config.toml")).unwrap_or_default();
    assert!(!toml.contains(APP_SECRET));

    // The stored secret is used by commands that need it.
    env.login_with_token(TOKEN).await;
    env.cmd()
        .args(["config", "set", "app_id", APP_ID])
        .assert()
        .success();
    on_get("/oauth2/advertiser/get/")
        .and(query_param("secret", APP_SECRET))
        .respond_with(fixture_response("oauth_advertiser_get.json"))
        .expect(1)
        .mount(&env.server)
        .await;
    on_get("/advertiser/info/")
        .respond_with(fixture_response("advertiser_info.json"))
        .mount(&env.server)
        .await;
    env.cmd().args(["advertiser", "list"]).assert().success();
}

#[tokio::test(flavor = "multi_thread")]
async fn profile_default_advertiser_and_environment_apply() {
    let env = TestEnv::new().await;
    env.cmd()
        .args(["config", "set", "advertiser_id", ADV_EU])
        .assert()
        .success();
    env.login_with_token(TOKEN).await;
    on_get("/advertiser/info/")
        .and(query_param("advertiser_ids", format!(r#"["{ADV_EU}"]"#)))
        .respond_with(fixture_response("advertiser_info.json"))
        .expect(1)
        .mount(&env.server)
        .await;
    env.cmd()
        .args(["advertiser", "info", "--fields", "advertiser_id"])
        .assert()
        .success();

    env.cmd()
        .args(["config", "set", "environment", "sandbox"])
        .assert()
        .success();
    let out = env.cmd().args(["auth", "token"]).assert().code(3);
    let stderr = stderr_of(out.get_output());
    assert!(
        stderr.contains("SANDBOX") && stderr.contains("not logged in to sandbox"),
        "{stderr}"
    );
}
