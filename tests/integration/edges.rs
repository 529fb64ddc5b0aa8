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

// ---- the token goes to TikTok and nowhere else ----

#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_off_the_api_host_is_not_followed() {
    let env = TestEnv::logged_in().await;
    let recorder = Recorder::start();
    for (endpoint, status) in [("/campaign/get/", 302), ("/oauth2/advertiser/get/", 307)] {
        on_get(endpoint)
            .respond_with(
                wiremock::ResponseTemplate::new(status)
                    .insert_header("Location", format!("{}/steal/", recorder.url)),
            )
            .mount(&env.server)
            .await;
    }
    let out = env
        .cmd()
        .args(["--advertiser", ADV_US, "campaign", "list"])
        .output()
        .unwrap();
    assert_fails(&out, 4, "not followed");
    let out = env
        .cmd()
        .env("TIKTOK_APP_ID", APP_ID)
        .env("TIKTOK_APP_SECRET", APP_SECRET)
        .args(["advertiser", "list"])
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(!stderr_of(&out).contains(APP_SECRET), "{}", stderr_of(&out));
    assert!(recorder.received().is_empty(), "{:?}", recorder.received());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_within_the_host_is_followed_without_a_referer() {
    let env = TestEnv::logged_in().await;
    on_get("/campaign/get/")
        .respond_with(wiremock::ResponseTemplate::new(302).insert_header(
            "Location",
            format!("{}/open_api/v1.3/ad/get/?moved=1", env.server.uri()),
        ))
        .mount(&env.server)
        .await;
    on_get("/ad/get/")
        .respond_with(page_of(vec![], 1, 1000, 0))
        .mount(&env.server)
        .await;
    let out = env
        .cmd()
        .args(["--advertiser", ADV_US, "campaign", "list"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let moved = env.requests_to("/ad/get/").await;
    assert_eq!(moved.len(), 1);
    assert!(moved[0].headers.get("referer").is_none());
    assert!(moved[0].headers.get("access-token").is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn api_paths_cannot_reach_another_host() {
    let env = TestEnv::logged_in().await;
    let recorder = Recorder::start();
    let port = recorder.url.rsplit(':').next().unwrap().to_string();
    for path in [
        format!("/\\/127.0.0.2:{port}/steal/"),
        format!("//127.0.0.2:{port}/steal/"),
        "/../../steal/".to_string(),
        format!("/%2f%2f127.0.0.2:{port}/steal/"),
        format!("/@127.0.0.2:{port}/steal/"),
    ] {
        let out = env.cmd().args(["api", "GET", &path]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{path}: {}", stderr_of(&out));
    }
    assert!(recorder.received().is_empty(), "{:?}", recorder.received());
    assert_eq!(
        env.server.received_requests().await.unwrap().len(),
        1,
        "only the login check"
    );
}

// ---- paging that trusts the server too much ----

fn report_row(campaign: &str) -> serde_json::Value {
    serde_json::json!({"dimensions": {"campaign_id": campaign, "stat_time_day": "2025-01-01 00:00:00"},
                       "metrics": {"spend": "1.00"}})
}

fn report_page(
    list: Vec<serde_json::Value>,
    page: u64,
    total_number: u64,
    total_page: u64,
) -> wiremock::ResponseTemplate {
    ok(serde_json::json!({"list": list, "page_info": {
        "page": page, "page_size": 2, "total_number": total_number, "total_page": total_page}}))
}

const ONE_DAY: [&str; 8] = [
    "--start",
    "2025-01-01",
    "--end",
    "2025-01-01",
    "--metrics",
    "spend",
    "--page-size",
    "2",
];

fn report_to_file(env: &TestEnv) -> std::process::Output {
    let mut args = vec!["-o", "out.csv"];
    args.extend(ONE_DAY);
    report(env, &args)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_billion_empty_pages_end_at_the_first_one() {
    let env = TestEnv::with_account().await;
    let lie = 1_000_000_000u64;
    on_get("/report/integrated/get/")
        .and(wiremock::matchers::query_param("page", "1"))
        .respond_with(report_page(
            vec![report_row("1"), report_row("2")],
            1,
            lie,
            lie,
        ))
        .mount(&env.server)
        .await;
    for page in 2..200u64 {
        on_get("/report/integrated/get/")
            .and(wiremock::matchers::query_param("page", page.to_string()))
            .respond_with(report_page(vec![], page, lie, lie))
            .mount(&env.server)
            .await;
    }
    let out = report_to_file(&env);
    assert_fails(&out, 6, "announced 1000000000 rows but sent 2");
    assert!(!env.work_dir().join("out.csv").exists());
    let asked = env.requests_to("/report/integrated/get/").await.len();
    assert!(
        asked <= 6,
        "{asked} requests: paging went on after an empty page"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_page_number_or_a_repeated_page_fails_after_retries() {
    for (second, why) in [
        (
            report_page(vec![report_row("3"), report_row("4")], 1, 4, 2),
            "page 2 was asked for and page 1 came back",
        ),
        (
            report_page(vec![report_row("1"), report_row("2")], 2, 4, 2),
            "page 2 repeats page 1",
        ),
        (ok(serde_json::Value::Null), "without data"),
        (
            ok(
                serde_json::json!({"page_info": {"page": 2, "page_size": 2, "total_number": 4, "total_page": 2}}),
            ),
            "no list",
        ),
    ] {
        let env = TestEnv::with_account().await;
        on_get("/report/integrated/get/")
            .and(wiremock::matchers::query_param("page", "1"))
            .respond_with(report_page(vec![report_row("1"), report_row("2")], 1, 4, 2))
            .mount(&env.server)
            .await;
        on_get("/report/integrated/get/")
            .and(wiremock::matchers::query_param("page", "2"))
            .respond_with(second)
            .mount(&env.server)
            .await;
        let out = report_to_file(&env);
        assert_eq!(out.status.code(), Some(5), "{why}: {}", stderr_of(&out));
        assert!(
            stderr_of(&out).contains(why)
                || why == "without data" && stderr_of(&out).contains("data: null"),
            "{why}: {}",
            stderr_of(&out)
        );
        assert!(!env.work_dir().join("out.csv").exists(), "{why}");
        let second_asks = env
            .requests_to("/report/integrated/get/")
            .await
            .iter()
            .filter(|r| query(r, "page").as_deref() == Some("2"))
            .count();
        assert!(second_asks > 1, "{why}: the bad page is asked for again");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_list_without_data_is_not_an_empty_report() {
    let env = TestEnv::with_account().await;
    on_get("/report/integrated/get/")
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_raw(
            r#"{"code":0,"message":"OK","request_id":"r"}"#,
            "application/json",
        ))
        .mount(&env.server)
        .await;
    let out = report_to_file(&env);
    assert_eq!(out.status.code(), Some(5), "{}", stderr_of(&out));
    assert!(!env.work_dir().join("out.csv").exists());
    // Entity lists too.
    on_get("/campaign/get/")
        .respond_with(ok(serde_json::Value::Null))
        .mount(&env.server)
        .await;
    let out = env
        .cmd()
        .args(["--advertiser", ADV_US, "campaign", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", stderr_of(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn entity_lists_check_their_pages_too() {
    let env = TestEnv::logged_in().await;
    let campaign = |id: &str| serde_json::json!({"campaign_id": id, "campaign_name": "c"});
    on_get("/campaign/get/")
        .and(wiremock::matchers::query_param("page", "1"))
        .respond_with(page_of(vec![campaign("1"), campaign("2")], 1, 2, 6))
        .mount(&env.server)
        .await;
    on_get("/campaign/get/")
        .and(wiremock::matchers::query_param("page", "2"))
        .respond_with(page_of(vec![campaign("1"), campaign("2")], 1, 2, 6))
        .mount(&env.server)
        .await;
    let out = env
        .cmd()
        .args([
            "--advertiser",
            ADV_US,
            "-o",
            "c.csv",
            "campaign",
            "list",
            "--page-size",
            "2",
        ])
        .output()
        .unwrap();
    assert_fails(&out, 5, "page 2 was asked for and page 1 came back");
    assert!(!env.work_dir().join("c.csv").exists());
}

// ---- retries that outlast real outages ----

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_ten_503s_and_cut_bodies_is_outlasted() {
    let env = TestEnv::with_account().await;
    on_get("/report/integrated/get/")
        .respond_with(wiremock::ResponseTemplate::new(503).set_body_string("upstream busy"))
        .up_to_n_times(6)
        .mount(&env.server)
        .await;
    on_get("/report/integrated/get/")
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_raw(
            r#"{"code":0,"message":"OK","request_id":"r","data":{"list":[{"dimensions":{"campaign_id":"1","#,
            "application/json",
        ))
        .up_to_n_times(4)
        .mount(&env.server)
        .await;
    on_get("/report/integrated/get/")
        .respond_with(report_page(vec![report_row("1")], 1, 1, 1))
        .mount(&env.server)
        .await;
    let out = report(&env, &ONE_DAY);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(
        stdout_of(&out),
        "campaign_id,stat_time_day,spend\n1,2025-01-01 00:00:00,1.00\n"
    );
    assert_eq!(env.requests_to("/report/integrated/get/").await.len(), 11);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_that_stays_cut_exits_5_not_1() {
    let env = TestEnv::with_account().await;
    on_get("/report/integrated/get/")
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_raw(
            r#"{"code":0,"message":"OK","request_id":"r","data":{"list":[{"dimens"#,
            "application/json",
        ))
        .mount(&env.server)
        .await;
    let out = report_to_file(&env);
    assert_eq!(out.status.code(), Some(5), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("cut short"), "{}", stderr_of(&out));
    assert!(!env.work_dir().join("out.csv").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn retries_stop_when_the_time_budget_is_spent() {
    let env = TestEnv::with_account().await;
    on_get("/report/integrated/get/")
        .respond_with(wiremock::ResponseTemplate::new(503).insert_header("Retry-After", "1"))
        .mount(&env.server)
        .await;
    let out = env
        .cmd()
        .args(["--retry-for", "2", "--advertiser", ADV_US, "report", "run"])
        .args(ONE_DAY)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", stderr_of(&out));
    let asked = env.requests_to("/report/integrated/get/").await.len();
    assert!(
        (2..=3).contains(&asked),
        "{asked} attempts within a 2 s budget of 1 s waits"
    );
}

// ---- async downloads proven whole ----

const TASK: &str = "7467012345678901234";

fn csv_fixture() -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/report_task_download_csv_string.csv"),
    )
    .unwrap()
}

/// A task that is created and done at once, and a synchronous endpoint whose count is the
/// fixture's four rows.
async fn mount_finished_task(env: &TestEnv) {
    on_post("/report/task/create/")
        .respond_with(fixture_response("report_task_create.json"))
        .mount(&env.server)
        .await;
    on_get("/report/task/check/")
        .respond_with(fixture_response("report_task_check_success.json"))
        .mount(&env.server)
        .await;
    on_get("/report/integrated/get/")
        .respond_with(fixture_response("report_integrated_get.json"))
        .mount(&env.server)
        .await;
}

const ASYNC_JAN: [&str; 9] = [
    "--start",
    "2025-01-01",
    "--end",
    "2025-01-02",
    "--metrics",
    "campaign_name,spend,impressions,clicks",
    "--async",
    "--poll-ms",
    "5",
];

fn run_async_to_file(env: &TestEnv) -> std::process::Output {
    let mut args = vec!["-o", "jan.csv"];
    args.extend(ASYNC_JAN);
    report(env, &args)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_download_cut_in_its_last_field_is_retried_then_refused() {
    let env = TestEnv::with_account().await;
    mount_finished_task(&env).await;
    let whole = csv_fixture();
    // 841 cut to 84, with a Content-Length that agrees: only the content can tell.
    let cut = whole.trim_end().strip_suffix('1').unwrap().to_string();
    on_get("/report/task/download/")
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_raw(cut, "text/csv"))
        .mount(&env.server)
        .await;
    let out = run_async_to_file(&env);
    assert_eq!(out.status.code(), Some(5), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("cut short"), "{}", stderr_of(&out));
    assert!(!env.work_dir().join("jan.csv").exists());
    assert_eq!(env.requests_to("/report/task/download/").await.len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_download_missing_whole_rows_is_caught_by_tiktoks_count() {
    let env = TestEnv::with_account().await;
    mount_finished_task(&env).await;
    let whole = csv_fixture();
    let three_rows: String = whole.lines().take(4).map(|l| format!("{l}\n")).collect();
    on_get("/report/task/download/")
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_raw(three_rows, "text/csv"))
        .mount(&env.server)
        .await;
    let out = run_async_to_file(&env);
    assert_fails(&out, 5, "holds 3 rows where TikTok counts 4");
    assert!(!env.work_dir().join("jan.csv").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_download_cut_once_is_fetched_again_and_comes_out_whole() {
    let env = TestEnv::with_account().await;
    mount_finished_task(&env).await;
    let whole = csv_fixture();
    let cut = whole[..whole.len() / 2].to_string();
    on_get("/report/task/download/")
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_raw(cut, "text/csv"))
        .up_to_n_times(1)
        .mount(&env.server)
        .await;
    on_get("/report/task/download/")
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_raw(whole.clone(), "text/csv"))
        .mount(&env.server)
        .await;
    let out = run_async_to_file(&env);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let written = std::fs::read_to_string(env.work_dir().join("jan.csv")).unwrap();
    assert_eq!(written.lines().count(), 5);
    assert!(written.contains("187.05,58102,841"), "{written}");
}

#[tokio::test(flavor = "multi_thread")]
async fn task_download_proves_the_file_before_writing_it() {
    let env = TestEnv::with_account().await;
    mount_finished_task(&env).await;
    let whole = csv_fixture();
    let three_rows: String = whole.lines().take(4).map(|l| format!("{l}\n")).collect();
    on_get("/report/task/download/")
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_raw(three_rows, "text/csv"))
        .mount(&env.server)
        .await;
    let created = env
        .cmd()
        .args([
            "--advertiser",
            ADV_US,
            "report",
            "task",
            "create",
            "--start",
            "2025-01-01",
            "--end",
            "2025-01-02",
            "--metrics",
            "campaign_name,spend,impressions,clicks",
        ])
        .output()
        .unwrap();
    assert!(created.status.success(), "{}", stderr_of(&created));
    let out = env
        .cmd()
        .args([
            "--advertiser",
            ADV_US,
            "-o",
            "task.csv",
            "report",
            "task",
            "download",
            TASK,
        ])
        .output()
        .unwrap();
    assert_fails(&out, 5, "where TikTok counts 4");
    assert!(!env.work_dir().join("task.csv").exists());
    // Straight to stdout, nothing of it is printed either.
    let out = env
        .cmd()
        .args(["--advertiser", ADV_US, "report", "task", "download", TASK])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    assert!(stdout_of(&out).is_empty(), "{}", stdout_of(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_download_url_that_cannot_be_reached_exits_5() {
    let env = TestEnv::with_account().await;
    mount_finished_task(&env).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    on_get("/report/task/download/")
        .respond_with(ok(
            serde_json::json!({"output_format": "CSV_DOWNLOAD", "file_name": "jan.csv",
            "download_url": format!("http://{closed}/report.csv?sign=x")}),
        ))
        .mount(&env.server)
        .await;
    let out = run_async_to_file(&env);
    assert_eq!(out.status.code(), Some(5), "{}", stderr_of(&out));
    assert!(!env.work_dir().join("jan.csv").exists());
}

// ---- the right day, or no answer ----

fn info_list(accounts: Vec<serde_json::Value>) -> wiremock::ResponseTemplate {
    ok(serde_json::json!({ "list": accounts }))
}

#[tokio::test(flavor = "multi_thread")]
async fn relative_dates_without_the_accounts_time_zone_fail_and_ask_nothing() {
    let env = TestEnv::logged_in().await;
    on_get("/advertiser/info/")
        .respond_with(fixture_response("error_system.json"))
        .mount(&env.server)
        .await;
    on_get("/report/integrated/get/")
        .respond_with(page_of(vec![], 1, 1000, 0))
        .mount(&env.server)
        .await;
    for dates in [&["--yesterday"][..], &["--last", "7"]] {
        let out = env
            .cmd()
            .args(["-q", "--advertiser", ADV_US, "-o", "y.csv", "report", "run"])
            .args(dates)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(5), "{dates:?}: {}", stderr_of(&out));
        assert!(
            stderr_of(&out).contains("time zones"),
            "{}",
            stderr_of(&out)
        );
        assert!(!env.work_dir().join("y.csv").exists());
    }
    assert!(env.requests_to("/report/integrated/get/").await.is_empty());
    assert!(
        env.requests_to("/advertiser/info/").await.len() > 2,
        "the info call is retried"
    );
    // Explicit dates before yesterday are the same days in every zone: they go on.
    let out = report(&env, &["--start", "2025-01-01", "--end", "2025-01-02"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn yesterday_is_the_accounts_yesterday_after_a_transient_info_failure() {
    let env = TestEnv::logged_in().await;
    on_get("/advertiser/info/")
        .respond_with(wiremock::ResponseTemplate::new(502))
        .up_to_n_times(2)
        .mount(&env.server)
        .await;
    on_get("/advertiser/info/")
        .respond_with(info_list(vec![serde_json::json!({
            "advertiser_id": ADV_US, "currency": "JPY", "timezone": "Asia/Tokyo", "display_timezone": "Asia/Tokyo"})]))
        .mount(&env.server)
        .await;
    on_get("/report/integrated/get/")
        .respond_with(page_of(vec![], 1, 1000, 0))
        .mount(&env.server)
        .await;
    let tokyo_yesterday = || {
        (chrono::Utc::now() + chrono::Duration::hours(9) - chrono::Duration::days(1))
            .date_naive()
            .to_string()
    };
    let before = tokyo_yesterday();
    let out = report(&env, &["--yesterday"]);
    let after = tokyo_yesterday();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let asked = query(
        &env.requests_to("/report/integrated/get/").await[0],
        "start_date",
    )
    .unwrap();
    assert!(
        asked == before || asked == after,
        "asked {asked}, Tokyo's yesterday is {before}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn with_account_info_never_writes_empty_currency_or_time_zone() {
    let env = TestEnv::logged_in().await;
    on_get("/advertiser/info/")
        .respond_with(info_list(vec![
            serde_json::json!({"advertiser_id": ADV_US, "currency": "USD", "timezone": "America/New_York"}),
            serde_json::json!({"advertiser_id": ADV_EU, "timezone": "Europe/Berlin"}),
        ]))
        .mount(&env.server)
        .await;
    on_get("/report/integrated/get/")
        .respond_with(report_page(vec![report_row("1")], 1, 1, 1))
        .mount(&env.server)
        .await;
    let args = [
        "report",
        "run",
        "--with-account-info",
        "--start",
        "2025-01-01",
        "--end",
        "2025-01-01",
        "--metrics",
        "spend",
    ];
    let out = env
        .cmd()
        .args(["--advertiser", ADV_EU])
        .args(args)
        .args(["-o", "eu.csv"])
        .output()
        .unwrap();
    assert_fails(&out, 5, "currency of advertiser");
    assert!(!env.work_dir().join("eu.csv").exists());
    let out = env
        .cmd()
        .args(["--advertiser", &format!("{ADV_US},{ADV_EU}")])
        .args(args)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6), "{}", stderr_of(&out));
    let csv = stdout_of(&out);
    assert!(
        csv.contains(&format!("{ADV_US},USD,America/New_York,1,")),
        "{csv}"
    );
    assert!(!csv.contains(ADV_EU), "{csv}");
    let out = env
        .cmd()
        .args(["--advertiser", ADV_EU])
        .args(args)
        .args(["--async", "--poll-ms", "5"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", stderr_of(&out));
    assert!(env.requests_to("/report/task/create/").await.is_empty());
}

// ---- .env, redaction, server text ----

#[tokio::test(flavor = "multi_thread")]
async fn a_dotenv_cannot_send_the_token_elsewhere() {
    let env = TestEnv::logged_in().await;
    let recorder = Recorder::start();
    std::fs::write(
        env.work_dir().join(".env"),
        format!(
            "TIKTOK_ADS_BASE_URL={}\nHTTPS_PROXY={}\nTIKTOK_APP_ID=7100000000000000009\n",
            recorder.url, recorder.url
        ),
    )
    .unwrap();
    // The real environment's base URL wins anyway; without one, the .env's is still refused.
    let out = env
        .cmd()
        .env_remove("TIKTOK_ADS_BASE_URL")
        // The stored token belongs to the test's server: the production host gets one of its
        // own from the environment.
        .env("TIKTOK_ACCESS_TOKEN", TOKEN)
        .args([
            "--max-retries",
            "0",
            "--timeout",
            "3",
            "--format",
            "json",
            "auth",
            "status",
        ])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("ignoring TIKTOK_ADS_BASE_URL, HTTPS_PROXY in ./.env"),
        "{stderr}"
    );
    let status: serde_json::Value =
        serde_json::from_str(stdout_of(&out).lines().next().unwrap()).unwrap();
    assert_eq!(status["api_host"], "https://business-api.tiktok.com/");
    assert_eq!(
        status["app_id"], "7100000000000000009",
        "the .env's app ID applies"
    );
    assert!(recorder.received().is_empty(), "{:?}", recorder.received());
    // From the real environment, the base URL works as documented.
    let out = env
        .cmd()
        .env("TIKTOK_ADS_BASE_URL", &recorder.url)
        .env("TIKTOK_ACCESS_TOKEN", TOKEN)
        .args(["--max-retries", "0", "--timeout", "3", "auth", "status"])
        .output()
        .unwrap();
    assert!(
        !stderr_of(&out).contains("TIKTOK_ADS_BASE_URL in"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(recorder.received().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn encoded_secrets_and_server_control_characters_never_reach_the_terminal() {
    let env = TestEnv::logged_in().await;
    let secret = "Secret+With/Odd=chars-0123456789";
    let encoded_upper = "Secret%2BWith%2FOdd%3Dchars-0123456789";
    let encoded_lower = "Secret%2bWith%2fOdd%3dchars-0123456789";
    on_get("/oauth2/advertiser/get/")
        .respond_with(wiremock::ResponseTemplate::new(404).set_body_string(format!(
            "no route for /open_api/v1.3/oauth2/advertiser/get/?app_id={APP_ID}&secret={encoded_upper} ({encoded_lower})"
        )))
        .mount(&env.server)
        .await;
    on_get("/campaign/get/")
        .respond_with(api_error(
            40002,
            "bad \u{1b}[2J\u{1b}]0;owned\u{7} value\r\nhint: run rm -rf ~",
            "r-esc",
        ))
        .mount(&env.server)
        .await;
    let out = env
        .cmd()
        .env("TIKTOK_APP_ID", APP_ID)
        .env("TIKTOK_APP_SECRET", secret)
        .args(["-vv", "advertiser", "list"])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr.contains("no route for"), "{stderr}");
    for shown in [secret, encoded_upper, encoded_lower, "Secret+With/Odd"] {
        assert!(!stderr.contains(shown), "{shown} in {stderr}");
    }
    let out = env
        .cmd()
        .args(["-v", "--advertiser", ADV_US, "campaign", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let stderr = stderr_of(&out);
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains('\u{7}') && !stderr.contains('\r'),
        "{stderr:?}"
    );
    assert!(stderr.contains("\\u{1b}[2J"), "{stderr}");
    assert!(
        !stderr.lines().any(|l| l.starts_with("hint: run rm")),
        "{stderr}"
    );
}

// ---- -o and signals ----

#[cfg(unix)]
fn mode_of(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// `report run` of one empty day into `-o target`, under `umask`.
#[cfg(unix)]
fn empty_report_into(env: &TestEnv, target: &str, umask: &str) -> std::process::Output {
    let mut cmd = std::process::Command::new("sh");
    env.isolate(&mut cmd);
    cmd.arg("-c")
        .arg(format!("umask {umask}; exec \"$0\" \"$@\""))
        .arg(assert_cmd::cargo::cargo_bin!("tiktok-ads"))
        .args(["--advertiser", ADV_US, "-o", target, "report", "run"])
        .args([
            "--start",
            "2025-01-01",
            "--end",
            "2025-01-01",
            "--metrics",
            "spend",
        ])
        .output()
        .unwrap()
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn output_files_respect_links_modes_and_the_umask() {
    let env = TestEnv::with_account().await;
    on_get("/report/integrated/get/")
        .respond_with(page_of(vec![], 1, 1000, 0))
        .mount(&env.server)
        .await;
    let header = "campaign_id,stat_time_day,spend\n";
    let work = env.work_dir();
    // A new file follows the umask.
    assert!(empty_report_into(&env, "new.csv", "077").status.success());
    assert_eq!(mode_of(&work.join("new.csv")), 0o600);
    assert!(empty_report_into(&env, "open.csv", "022").status.success());
    assert_eq!(mode_of(&work.join("open.csv")), 0o644);
    // An existing file keeps its mode.
    std::fs::write(work.join("kept.csv"), "old\n").unwrap();
    std::fs::set_permissions(
        work.join("kept.csv"),
        std::os::unix::fs::PermissionsExt::from_mode(0o640),
    )
    .unwrap();
    assert!(empty_report_into(&env, "kept.csv", "077").status.success());
    assert_eq!(mode_of(&work.join("kept.csv")), 0o640);
    assert_eq!(
        std::fs::read_to_string(work.join("kept.csv")).unwrap(),
        header
    );
    // A symlink stays a symlink; its target gets the data.
    std::fs::create_dir(work.join("archive")).unwrap();
    std::fs::write(work.join("archive/2025.csv"), "old\n").unwrap();
    std::os::unix::fs::symlink("archive/2025.csv", work.join("latest.csv")).unwrap();
    assert!(
        empty_report_into(&env, "latest.csv", "022")
            .status
            .success()
    );
    assert!(
        std::fs::symlink_metadata(work.join("latest.csv"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        std::fs::read_to_string(work.join("archive/2025.csv")).unwrap(),
        header
    );
    // `-o -` is stdout.
    let out = empty_report_into(&env, "-", "022");
    assert_eq!(stdout_of(&out), header);
    assert!(!work.join("-").exists());
    let leftovers: Vec<_> = std::fs::read_dir(&work)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn a_fifo_or_a_device_is_written_not_replaced() {
    let env = TestEnv::with_account().await;
    on_get("/report/integrated/get/")
        .respond_with(page_of(vec![], 1, 1000, 0))
        .mount(&env.server)
        .await;
    let fifo = env.work_dir().join("pipe");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let out = empty_report_into(&env, "pipe", "022");
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(reader.join().unwrap(), "campaign_id,stat_time_day,spend\n");
    use std::os::unix::fs::FileTypeExt;
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
    // A character device (only root can make one: a copy of /dev/null).
    if unsafe { libc::geteuid() } == 0 {
        let null = env.work_dir().join("null");
        let c_null = std::ffi::CString::new(null.to_str().unwrap()).unwrap();
        let dev = libc::makedev(1, 3);
        assert_eq!(
            unsafe { libc::mknod(c_null.as_ptr(), libc::S_IFCHR | 0o666, dev) },
            0
        );
        assert!(empty_report_into(&env, "null", "022").status.success());
        assert!(
            std::fs::symlink_metadata(&null)
                .unwrap()
                .file_type()
                .is_char_device()
        );
    }
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn sigterm_sighup_and_sigint_leave_no_file_and_exit_128_plus_n() {
    let env = TestEnv::with_account().await;
    on_get("/report/integrated/get/")
        .respond_with(page_of(vec![], 1, 1000, 0).set_delay(std::time::Duration::from_secs(30)))
        .mount(&env.server)
        .await;
    for (signal, code) in [
        (libc::SIGTERM, 143),
        (libc::SIGHUP, 129),
        (libc::SIGINT, 130),
    ] {
        let child = env
            .std_cmd()
            .args(["--advertiser", ADV_US, "-o", "out.csv", "report", "run"])
            .args(["--start", "2025-01-01", "--end", "2025-01-01"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Wait until the run is writing (its temp file exists), then stop it by PID.
        let partial = || {
            std::fs::read_dir(env.work_dir())
                .unwrap()
                .flatten()
                .any(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        };
        for _ in 0..600 {
            if partial() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(partial(), "the run never started writing");
        assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(code), "{}", stderr_of(&out));
        // The -o file was never made: that is what the message says.
        assert!(
            stderr_of(&out).contains(": nothing was written"),
            "{}",
            stderr_of(&out)
        );
        let left: Vec<_> = std::fs::read_dir(env.work_dir())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert!(left.is_empty(), "signal {signal} left {left:?}");
    }
}

// ---- concurrent logins ----

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_logins_to_different_profiles_lose_no_token() {
    let env = TestEnv::new().await;
    on_get("/user/info/")
        .respond_with(ok(fixture("user_info.json")["data"].clone()))
        .mount(&env.server)
        .await;
    for round in 0..6 {
        let children: Vec<_> = (0..4)
            .map(|p| {
                let mut child = env
                    .std_cmd()
                    .args([
                        "-q",
                        "--profile",
                        &format!("p{p}"),
                        "auth",
                        "login",
                        "--with-token",
                    ])
                    .stdin(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap();
                use std::io::Write;
                let token = format!("token-round{round}-profile{p}-0123456789");
                child
                    .stdin
                    .take()
                    .unwrap()
                    .write_all(token.as_bytes())
                    .unwrap();
                child
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "{}", stderr_of(&out));
        }
        for p in 0..4 {
            let out = env
                .cmd()
                .args(["--profile", &format!("p{p}"), "auth", "token"])
                .output()
                .unwrap();
            assert_eq!(
                stdout_of(&out).trim(),
                format!("token-round{round}-profile{p}-0123456789"),
                "round {round}: {}",
                stderr_of(&out)
            );
        }
    }
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn a_config_directory_others_can_write_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::logged_in().await;
    std::fs::set_permissions(env.config_dir(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = env.cmd().args(["auth", "token"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("chmod 700"), "{}", stderr_of(&out));
    assert!(stdout_of(&out).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_download_answering_5xx_is_retried_and_exits_5_when_it_keeps_failing() {
    let env = TestEnv::with_account().await;
    mount_finished_task(&env).await;
    on_get("/report/task/download/")
        .respond_with(wiremock::ResponseTemplate::new(503).set_body_string("busy"))
        .up_to_n_times(2)
        .mount(&env.server)
        .await;
    on_get("/report/task/download/")
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_raw(csv_fixture(), "text/csv"))
        .up_to_n_times(1)
        .mount(&env.server)
        .await;
    let out = run_async_to_file(&env);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(env.requests_to("/report/task/download/").await.len(), 3);
    // From now on it only ever answers 503.
    on_get("/report/task/download/")
        .respond_with(wiremock::ResponseTemplate::new(503).set_body_string("busy"))
        .mount(&env.server)
        .await;
    std::fs::remove_file(env.work_dir().join("jan.csv")).unwrap();
    let out = run_async_to_file(&env);
    assert_eq!(out.status.code(), Some(5), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("503"), "{}", stderr_of(&out));
    assert!(!env.work_dir().join("jan.csv").exists());
}

/// A server that answers every request with HTTP 200 and a JSON body that never ends (500 MB,
/// or a gzip bomb of 64 MiB of spaces in about 64 KiB); its URL.
async fn endless_answers(gzip: bool) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let bomb = gzip.then(|| {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder
            .write_all(br#"{"code":0,"message":"OK","data":{"list":["#)
            .unwrap();
        let spaces = vec![b' '; 1 << 20];
        for _ in 0..64 {
            encoder.write_all(&spaces).unwrap();
        }
        encoder.finish().unwrap()
    });
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let bomb = bomb.clone();
            tokio::spawn(async move {
                let mut request = [0u8; 8192];
                let _ = socket.read(&mut request).await;
                let head = match &bomb {
                    Some(b) => format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        b.len()
                    ),
                    None => "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n".to_string(),
                };
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                if let Some(bomb) = bomb {
                    let _ = socket.write_all(&bomb).await;
                    return;
                }
                let _ = socket
                    .write_all(br#"{"code":0,"message":"OK","data":{"list":[""#)
                    .await;
                let filler = vec![b'a'; 1 << 16];
                for _ in 0..(500 << 20) / filler.len() {
                    if socket.write_all(&filler).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endless_answer_or_a_gzip_bomb_stops_at_the_limit_in_bounded_memory() {
    let env = TestEnv::with_account().await;
    for gzip in [false, true] {
        let url = endless_answers(gzip).await;
        // Through GNU time: it forks the tool from its own small image, so the peak it reports
        // is the tool's (a child of this test process would report the test's own peak too).
        let mut cmd = std::process::Command::new("/usr/bin/time");
        env.isolate(&mut cmd);
        cmd.env("TIKTOK_ADS_BASE_URL", &url)
            .env("TIKTOK_ACCESS_TOKEN", TOKEN)
            .args(["-f", "peak-kib %M"])
            .arg(assert_cmd::cargo::cargo_bin!("tiktok-ads"))
            .args(["api", "GET", "/campaign/get/", "-f"])
            .arg(format!("advertiser_id={ADV_US}"));
        let out = cmd
            .output()
            .expect("GNU time is installed (.ci/run installs it)");
        let stderr = stderr_of(&out);
        assert_eq!(out.status.code(), Some(5), "gzip {gzip}: {stderr}");
        assert!(
            stderr.contains("/campaign/get/") && stderr.contains("over 16 MiB"),
            "gzip {gzip}: {stderr}"
        );
        let peak_kib: u64 = stderr
            .lines()
            .filter_map(|l| l.strip_prefix("peak-kib "))
            .next_back()
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("no peak in {stderr}"));
        let peak_mib = peak_kib / 1024;
        assert!(peak_mib < 64, "gzip {gzip}: peak RSS {peak_mib} MiB");
    }
}

/// A window of three pages (two rows each, six announced) whose third page repeats a row of
/// the second in place of the row it should hold (row 5): the count matches. `persistent`:
/// every reading of page 3 does so; else only the first.
async fn mount_shifted_pages(env: &TestEnv, persistent: bool) {
    let shifted = report_page(vec![report_row("4"), report_row("6")], 3, 6, 3);
    let page_3 = on_get("/report/integrated/get/")
        .and(wiremock::matchers::query_param("page", "3"))
        .respond_with(shifted);
    if persistent {
        page_3.mount(&env.server).await;
    } else {
        page_3
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&env.server)
            .await;
        on_get("/report/integrated/get/")
            .and(wiremock::matchers::query_param("page", "3"))
            .respond_with(report_page(vec![report_row("5"), report_row("6")], 3, 6, 3))
            .with_priority(2)
            .mount(&env.server)
            .await;
    }
    let pages = [
        vec![report_row("1"), report_row("2")],
        vec![report_row("3"), report_row("4")],
    ];
    for (n, rows) in pages.into_iter().enumerate() {
        let page = n as u64 + 1;
        on_get("/report/integrated/get/")
            .and(wiremock::matchers::query_param("page", page.to_string()))
            .respond_with(report_page(rows, page, 6, 3))
            .mount(&env.server)
            .await;
    }
}

fn sync_one_day(env: &TestEnv) -> std::process::Output {
    env.cmd()
        .args([
            "--advertiser",
            ADV_US,
            "report",
            "sync",
            "--into",
            "sqlite:out.db",
        ])
        .args([
            "--since",
            "2025-01-01",
            "--metrics",
            "spend",
            "--page-size",
            "2",
        ])
        .output()
        .unwrap()
}

/// The campaign IDs of the rows a sync kept in its report tables.
fn synced_campaigns(env: &TestEnv) -> Vec<String> {
    let db = rusqlite::Connection::open(env.work_dir().join("out.db")).unwrap();
    let tables: Vec<String> = db
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%campaign_id%' \
             AND name LIKE 'tiktok\\_%' ESCAPE '\\'",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(!tables.is_empty(), "the sync made its table");
    let mut campaigns = Vec::new();
    for table in tables {
        let mut statement = db
            .prepare(&format!(
                "SELECT campaign_id FROM {table} ORDER BY campaign_id"
            ))
            .unwrap();
        let ids = statement
            .query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        campaigns.extend(ids);
    }
    campaigns
}

#[tokio::test(flavor = "multi_thread")]
async fn a_row_repeated_once_by_a_shifting_page_is_read_again_and_never_written_twice() {
    let env = TestEnv::with_account().await;
    mount_shifted_pages(&env, false).await;
    let out = report_to_file(&env);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let csv = std::fs::read_to_string(env.work_dir().join("out.csv")).unwrap();
    let mut ids: Vec<&str> = csv
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .collect();
    // The row missed the first time comes at the window's end.
    assert_eq!(ids, ["1", "2", "3", "4", "6", "5"], "{csv}");
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 6, "every row once");
    let page_3_reads = env
        .server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.query().is_some_and(|q| q.contains("page=3")))
        .count();
    assert_eq!(page_3_reads, 2, "the window was read once more");

    let env = TestEnv::with_account().await;
    mount_shifted_pages(&env, false).await;
    let synced = sync_one_day(&env);
    assert!(synced.status.success(), "{}", stderr_of(&synced));
    assert_eq!(synced_campaigns(&env), ["1", "2", "3", "4", "5", "6"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_row_repeated_by_a_shifting_page_every_time_is_never_written() {
    let env = TestEnv::with_account().await;
    mount_shifted_pages(&env, true).await;
    let out = report_to_file(&env);
    let named = "TikTok sent the row campaign_id=4, stat_time_day=2025-01-01 00:00:00 twice in \
                 this window, and again when the window was read once more";
    assert_fails(&out, 6, named);
    assert!(!env.work_dir().join("out.csv").exists());

    let synced = sync_one_day(&env);
    assert_fails(&synced, 6, named);
    // The window's transaction was not committed: no report row is in the database.
    assert_eq!(synced_campaigns(&env), Vec::<String>::new());
}
