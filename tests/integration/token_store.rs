//! Where tokens live: environment first, keyring or file, per environment and profile, and
//! the no-keyring (cron / server) path.

use wiremock::matchers::header;

use crate::support::*;

async fn mount_user_info(env: &TestEnv, token: &str) {
    on_get("/user/info/")
        .and(header("Access-Token", token))
        .respond_with(fixture_response("user_info.json"))
        .mount(&env.server)
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_keyring_service_auto_falls_back_to_an_owner_only_file() {
    let env = TestEnv::new().await;
    mount_user_info(&env, TOKEN).await;
    // No D-Bus session (as in cron): the keyring fails at once and the file is used.
    let out = env
        .cmd()
        .env("TIKTOK_ADS_TOKEN_STORE", "auto")
        .args(["auth", "login", "--with-token"])
        .write_stdin(format!("{TOKEN}\n"))
        .assert()
        .success();
    let stderr = stderr_of(out.get_output());
    assert!(stderr.contains("No usable OS keyring"), "{stderr}");
    assert_eq!(
        stderr
            .to_lowercase()
            .matches("no usable os keyring")
            .count(),
        1,
        "said once: {stderr}"
    );
    // It failed on the missing bus, not by waiting out the keyring timeout.
    assert!(!stderr.contains("did not answer"), "{stderr}");
    assert!(stderr.contains("credentials.toml"), "{stderr}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(env.credentials_file())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let out = env
        .cmd()
        .env("TIKTOK_ADS_TOKEN_STORE", "auto")
        .args(["auth", "token"])
        .assert()
        .success();
    assert_eq!(stdout_of(out.get_output()).trim(), TOKEN);
}

#[tokio::test(flavor = "multi_thread")]
async fn forcing_the_keyring_without_one_fails_with_exit_3() {
    let env = TestEnv::new().await;
    mount_user_info(&env, TOKEN).await;
    let out = env
        .cmd()
        .args(["--token-store", "keyring", "auth", "login", "--with-token"])
        .write_stdin(format!("{TOKEN}\n"))
        .assert()
        .code(3);
    assert!(stderr_of(out.get_output()).contains("no usable OS keyring"));
    assert!(!env.credentials_file().exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_credentials_file_readable_by_others_is_refused_with_the_fix() {
    let env = TestEnv::new().await;
    env.login_with_token(TOKEN).await;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            env.credentials_file(),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        let out = env.cmd().args(["auth", "token"]).assert().code(3);
        assert!(stderr_of(out.get_output()).contains("chmod 600"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_environment_token_wins_and_is_never_written() {
    let env = TestEnv::new().await;
    env.login_with_token(TOKEN).await;
    let before = std::fs::read_to_string(env.credentials_file()).unwrap();
    let out = env
        .cmd()
        .env("TIKTOK_ACCESS_TOKEN", "env-token-value-999")
        .args(["auth", "token"])
        .assert()
        .success();
    assert_eq!(stdout_of(out.get_output()).trim(), "env-token-value-999");
    assert_eq!(
        std::fs::read_to_string(env.credentials_file()).unwrap(),
        before
    );
    env.cmd()
        .env("TIKTOK_ACCESS_TOKEN", "env-token-value-999")
        .args(["auth", "logout"])
        .assert()
        .code(2);
}

#[tokio::test(flavor = "multi_thread")]
async fn sandbox_and_production_tokens_are_kept_apart() {
    let env = TestEnv::new().await;
    env.login_with_token(TOKEN).await;
    mount_user_info(&env, "sandbox-token-abcdef").await;
    env.cmd()
        .args(["--sandbox", "auth", "login", "--with-token"])
        .write_stdin("sandbox-token-abcdef\n")
        .assert()
        .success();
    let prod = env.cmd().args(["auth", "token"]).assert().success();
    assert_eq!(stdout_of(prod.get_output()).trim(), TOKEN);
    let sandbox = env
        .cmd()
        .args(["--sandbox", "auth", "token"])
        .assert()
        .success();
    assert_eq!(
        stdout_of(sandbox.get_output()).trim(),
        "sandbox-token-abcdef"
    );
    assert!(stderr_of(sandbox.get_output()).contains("SANDBOX"));
    // A profile of its own has no token yet.
    env.cmd()
        .args(["--profile", "client-b", "auth", "token"])
        .assert()
        .code(3);
}
