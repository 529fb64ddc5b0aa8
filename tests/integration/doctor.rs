//! `doctor` in a healthy setup and in broken ones; it never prints a secret.

use wiremock::ResponseTemplate;

use crate::support::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_healthy_setup_is_all_ok() {
    let env = TestEnv::new().await;
    env.login_with_token(TOKEN).await;
    let now = chrono::Utc::now().to_rfc2822();
    on_get("/user/info/")
        .respond_with(fixture_response("user_info.json").insert_header("Date", now.as_str()))
        .mount(&env.server)
        .await;
    on_get("/advertiser/info/")
        .respond_with(fixture_response("advertiser_info.json"))
        .mount(&env.server)
        .await;
    let out = env
        .cmd()
        .args(["--advertiser", ADV_US, "doctor"])
        .env("TIKTOK_APP_ID", APP_ID)
        .env("TIKTOK_APP_SECRET", APP_SECRET)
        .assert()
        .success();
    let text = stdout_of(out.get_output());
    for check in [
        "config",
        "environment",
        "app",
        "keyring",
        "tls",
        "token",
        "token check",
        "advertisers",
        "clock",
    ] {
        assert!(
            text.lines()
                .any(|l| l.starts_with("ok") && l[9..].starts_with(check)),
            "{check}: {text}"
        );
    }
    assert!(!text.contains("problem"), "{text}");
    assert!(!text.contains(TOKEN) && !text.contains(APP_SECRET));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_token_is_a_problem_with_the_fix() {
    let env = TestEnv::new().await;
    let out = env.cmd().args(["doctor"]).assert().code(6);
    let text = stdout_of(out.get_output());
    assert!(text.contains("problem  token"), "{text}");
    assert!(text.contains("fix: tiktok-ads auth login"), "{text}");
    assert!(text.contains("warn     app"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_token_and_a_skewed_clock_are_problems() {
    let env = TestEnv::new().await;
    env.login_with_token(TOKEN).await;
    on_get("/user/info/")
        .respond_with(fixture_response("error_access_token_invalid.json"))
        .mount(&env.server)
        .await;
    let out = env.cmd().args(["doctor"]).assert().code(6);
    let text = stdout_of(out.get_output());
    assert!(
        text.contains("problem  token check") && text.contains("40105"),
        "{text}"
    );

    env.server.reset().await;
    on_get("/user/info/")
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(fixture("user_info.json"))
                .insert_header("Date", "Mon, 01 Jan 2024 00:00:00 GMT"),
        )
        .mount(&env.server)
        .await;
    let out = env.cmd().args(["doctor"]).assert().code(6);
    assert!(stdout_of(out.get_output()).contains("problem  clock"));
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_shows_how_the_app_used_its_quota() {
    let env = TestEnv::logged_in().await;
    on_get("/report/integrated/get/")
        .respond_with(fixture_response("error_rate_limit.json"))
        .up_to_n_times(1)
        .mount(&env.server)
        .await;
    on_get("/report/integrated/get/")
        .respond_with(page_of(vec![], 1, 1000, 0))
        .mount(&env.server)
        .await;
    // An earlier run of the same app: one page, rate-limited once.
    env.cmd()
        .args([
            "--advertiser",
            ADV_US,
            "report",
            "run",
            "--start",
            "2025-01-01",
            "--end",
            "2025-01-01",
        ])
        .assert()
        .success();
    on_get("/user/info/")
        .respond_with(fixture_response("user_info.json"))
        .mount(&env.server)
        .await;
    let out = env.cmd().args(["doctor"]).output().unwrap();
    let text = stdout_of(&out);
    let line = text
        .lines()
        .find(|l| l.contains("quota") && l.contains("report_integrated_get"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.contains("2 requests in the last minute") && line.contains("1 rate-limited"),
        "{line}"
    );
}
