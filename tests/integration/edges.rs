//! The edges of trust (issue 8): servers that lie, truncate, redirect and throttle; odd input;
//! files and signals. Each test fails on a tool that trusts too much.

use crate::support::*;

fn report(env: &TestEnv, args: &[&str]) -> std::process::Output {
    env.cmd()
        .args(["--advertiser", ADV_US, "report", "run"])
        .args(args)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_digit_years_and_absurd_dates_are_refused_before_any_request() {
    let env = TestEnv::with_account().await;
    for (start, end) in [
        ("24-03-01", "2025-03-01"),
        ("0024-03-01", "2025-03-01"),
        ("2009-12-31", "2010-01-05"),
        ("2025-01-01", "2999-01-01"),
    ] {
        let out = report(&env, &["--start", start, "--end", end]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{start}..{end}: {}",
            stderr_of(&out)
        );
    }
    let out = report(&env, &["--start", "24-03-01", "--end", "2025-03-01"]);
    assert!(
        stderr_of(&out).contains("YYYY-MM-DD"),
        "{}",
        stderr_of(&out)
    );
    assert!(env.requests_to("/report/integrated/get/").await.is_empty());
    assert!(env.requests_to("/advertiser/info/").await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn numbers_above_2_to_the_64_keep_every_digit() {
    let env = TestEnv::with_account().await;
    let body = r#"{"code":0,"message":"OK","request_id":"r1","data":{"page_info":{"page":1,"page_size":1000,"total_number":1,"total_page":1},
        "list":[{"dimensions":{"campaign_id":"1812345678901234","stat_time_day":"2025-01-01 00:00:00"},
                 "metrics":{"spend":123456789012345678901234567890,"impressions":18446744073709551617,"clicks":"59140"}}]}}"#;
    on_get("/report/integrated/get/")
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_raw(body, "application/json"))
        .mount(&env.server)
        .await;
    let out = report(
        &env,
        &[
            "--start",
            "2025-01-01",
            "--end",
            "2025-01-01",
            "--metrics",
            "spend,impressions,clicks",
        ],
    );
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(
        stdout_of(&out),
        "campaign_id,stat_time_day,spend,impressions,clicks\n\
         1812345678901234,2025-01-01 00:00:00,123456789012345678901234567890,18446744073709551617,59140\n"
    );
}
