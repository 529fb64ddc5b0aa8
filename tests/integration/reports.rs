//! `report run` and `report task`: request parameters, window splitting, paging, column order
//! and values, completeness, partial failures, atomic output, async tasks.

use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::query_param;
use wiremock::{Request, ResponseTemplate};

use crate::support::*;

const CAMPAIGN_A: &str = "1812345678901234";

fn row(campaign: &str, day: &str, spend: &str, clicks: &str) -> Value {
    json!({"dimensions": {"stat_time_day": format!("{day} 00:00:00"), "campaign_id": campaign},
           "metrics": {"clicks": clicks, "spend": spend, "ctr": "-", "impressions": "100"}})
}

fn windows(requests: &[Request]) -> Vec<(String, String)> {
    let mut w: Vec<(String, String)> = requests
        .iter()
        .filter(|r| query(r, "page").as_deref() == Some("1"))
        .map(|r| {
            (
                query(r, "start_date").unwrap(),
                query(r, "end_date").unwrap(),
            )
        })
        .collect();
    w.sort();
    w
}

fn run(env: &TestEnv, args: &[&str]) -> std::process::Output {
    env.cmd()
        .args(["--advertiser", ADV_US, "report", "run"])
        .args(args)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn january_daily_is_two_windows_with_json_encoded_parameters() {
    let env = TestEnv::with_account().await;
    on_get("/report/integrated/get/")
        .respond_with(page_of(vec![], 1, 1000, 0))
        .mount(&env.server)
        .await;
    let out = run(&env, &["--start", "2025-01-01", "--end", "2025-01-31"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let requests = env.requests_to("/report/integrated/get/").await;
    assert_eq!(
        windows(&requests),
        [
            ("2025-01-01".into(), "2025-01-30".into()),
            ("2025-01-31".into(), "2025-01-31".into())
        ]
    );
    let r = &requests[0];
    assert_eq!(query(r, "advertiser_id").as_deref(), Some(ADV_US));
    assert_eq!(query(r, "report_type").as_deref(), Some("BASIC"));
    assert_eq!(query(r, "service_type").as_deref(), Some("AUCTION"));
    assert_eq!(query(r, "data_level").as_deref(), Some("AUCTION_CAMPAIGN"));
    assert_eq!(
        query(r, "dimensions").as_deref(),
        Some(r#"["campaign_id","stat_time_day"]"#)
    );
    assert_eq!(
        query(r, "metrics").as_deref(),
        Some(
            r#"["spend","impressions","clicks","ctr","cpc","cpm","conversion","cost_per_conversion"]"#
        )
    );
    assert_eq!(query(r, "page_size").as_deref(), Some("1000"));
    assert!(query(r, "filtering").is_none());
    // An empty report still has its header row.
    assert_eq!(
        stdout_of(&out),
        "campaign_id,stat_time_day,spend,impressions,clicks,ctr,cpc,cpm,conversion,cost_per_conversion\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn hourly_windows_are_single_days_and_totals_span_365_days() {
    let env = TestEnv::with_account().await;
    on_get("/report/integrated/get/")
        .respond_with(page_of(vec![], 1, 1000, 0))
        .mount(&env.server)
        .await;
    assert!(
        run(
            &env,
            &[
                "--start",
                "2025-01-01",
                "--end",
                "2025-01-03",
                "--by",
                "hour"
            ]
        )
        .status
        .success()
    );
    let requests = env.requests_to("/report/integrated/get/").await;
    assert_eq!(windows(&requests).len(), 3);
    assert!(windows(&requests).iter().all(|(s, e)| s == e));
    assert_eq!(
        query(&requests[0], "dimensions").as_deref(),
        Some(r#"["campaign_id","stat_time_hour"]"#)
    );

    env.server.reset().await;
    on_get("/advertiser/info/")
        .respond_with(fixture_response("advertiser_info.json"))
        .mount(&env.server)
        .await;
    on_get("/report/integrated/get/")
        .respond_with(page_of(vec![], 1, 1000, 0))
        .mount(&env.server)
        .await;
    assert!(
        run(
            &env,
            &[
                "--start",
                "2024-01-01",
                "--end",
                "2025-02-03",
                "--by",
                "none",
                "--level",
                "ad"
            ]
        )
        .status
        .success()
    );
    let requests = env.requests_to("/report/integrated/get/").await;
    assert_eq!(
        windows(&requests),
        [
            ("2024-01-01".into(), "2024-12-30".into()),
            ("2024-12-31".into(), "2025-02-03".into())
        ]
    );
    assert_eq!(
        query(&requests[0], "data_level").as_deref(),
        Some("AUCTION_AD")
    );
    assert_eq!(
        query(&requests[0], "dimensions").as_deref(),
        Some(r#"["ad_id"]"#)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn filters_are_double_encoded_and_deleted_objects_can_be_included() {
    let env = TestEnv::with_account().await;
    on_get("/report/integrated/get/")
        .respond_with(page_of(vec![], 1, 1000, 0))
        .mount(&env.server)
        .await;
    let out = run(
        &env,
        &[
            "--start",
            "2025-01-01",
            "--end",
            "2025-01-02",
            "--filter",
            &format!("campaign_ids={CAMPAIGN_A},1812345678905678"),
            "--filter",
            "country_code!=US",
            "--include-deleted",
            "--dimensions",
            "country_code",
            "--order-by",
            "spend",
            "--desc",
            "--page-size",
            "500",
        ],
    );
    assert!(out.status.success(), "{}", stderr_of(&out));
    let r = &env.requests_to("/report/integrated/get/").await[0];
    let filtering: Value = serde_json::from_str(&query(r, "filtering").unwrap()).unwrap();
    assert_eq!(
        filtering,
        json!([
            {"field_name": "campaign_ids", "filter_type": "IN", "filter_value": format!(r#"["{CAMPAIGN_A}","1812345678905678"]"#)},
            {"field_name": "country_code", "filter_type": "NOT_IN", "filter_value": r#"["US"]"#},
            {"field_name": "campaign_status", "filter_type": "IN", "filter_value": r#"["STATUS_ALL"]"#},
            {"field_name": "ad_status", "filter_type": "IN", "filter_value": r#"["STATUS_ALL"]"#}
        ])
    );
    assert_eq!(
        query(r, "dimensions").as_deref(),
        Some(r#"["campaign_id","stat_time_day","country_code"]"#)
    );
    assert_eq!(query(r, "order_field").as_deref(), Some("spend"));
    assert_eq!(query(r, "order_type").as_deref(), Some("DESC"));
    assert_eq!(query(r, "page_size").as_deref(), Some("500"));
}

async fn mount_five_rows_in_three_pages(env: &TestEnv) {
    let rows = [
        row(CAMPAIGN_A, "2025-01-01", "14.680", "512"),
        row(CAMPAIGN_A, "2025-01-02", "0.00", "0"),
        row("1812345678905678", "2025-01-01", "212.67", "903"),
        row("1812345678905678", "2025-01-02", "-", "841"),
        row("7301234567890123456", "2025-01-02", "1.1", "1"),
    ];
    for page in 1..=3u64 {
        let list = rows
            .iter()
            .skip(((page - 1) * 2) as usize)
            .take(2)
            .cloned()
            .collect();
        // Later pages answer first: the output order must not depend on timing.
        let delay = Duration::from_millis(if page == 1 { 300 } else { 0 });
        on_get("/report/integrated/get/")
            .and(query_param("page", page.to_string()))
            .respond_with(page_of(list, page, 2, 5).set_delay(delay))
            .mount(&env.server)
            .await;
    }
}

const FIVE_ROWS: &str = "campaign_id,stat_time_day,clicks,spend,ctr\n\
    1812345678901234,2025-01-01 00:00:00,512,14.680,-\n\
    1812345678901234,2025-01-02 00:00:00,0,0.00,-\n\
    1812345678905678,2025-01-01 00:00:00,903,212.67,-\n\
    1812345678905678,2025-01-02 00:00:00,841,-,-\n\
    7301234567890123456,2025-01-02 00:00:00,1,1.1,-\n";

/// The report whose five rows come in three pages (`mount_five_rows_in_three_pages`).
const FIVE_ROWS_ARGS: [&str; 8] = [
    "--start",
    "2025-01-01",
    "--end",
    "2025-01-02",
    "--metrics",
    "clicks,spend,ctr",
    "--page-size",
    "2",
];

#[tokio::test(flavor = "multi_thread")]
async fn pages_are_written_in_order_with_values_exactly_as_sent() {
    let env = TestEnv::with_account().await;
    mount_five_rows_in_three_pages(&env).await;
    let out = run(&env, &FIVE_ROWS_ARGS);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(stdout_of(&out), FIVE_ROWS);
    assert_eq!(env.requests_to("/report/integrated/get/").await.len(), 3);

    let ndjson = ["--dash-as-empty", "--format", "ndjson"];
    let out = run(&env, &[&FIVE_ROWS_ARGS[..], &ndjson].concat());
    let lines: Vec<Value> = stdout_of(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(
        lines[3],
        json!({"campaign_id": "1812345678905678", "stat_time_day": "2025-01-02 00:00:00",
                                "clicks": "841", "spend": "", "ctr": ""})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn reruns_are_byte_identical_and_output_files_are_atomic() {
    let env = TestEnv::with_account().await;
    mount_five_rows_in_three_pages(&env).await;
    let args = [
        "--start",
        "2025-01-01",
        "--end",
        "2025-01-02",
        "--metrics",
        "clicks,spend,ctr",
        "--page-size",
        "2",
    ];
    for name in ["a.csv", "b.csv"] {
        let out = env
            .cmd()
            .args(["--advertiser", ADV_US, "-o", name, "report", "run"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success());
        assert!(out.stdout.is_empty());
    }
    let a = std::fs::read(env.work_dir().join("a.csv")).unwrap();
    assert_eq!(a, std::fs::read(env.work_dir().join("b.csv")).unwrap());
    assert_eq!(String::from_utf8(a).unwrap(), FIVE_ROWS);

    // A run that fails leaves no file and no temp file.
    env.server.reset().await;
    on_get("/advertiser/info/")
        .respond_with(fixture_response("advertiser_info.json"))
        .mount(&env.server)
        .await;
    on_get("/report/integrated/get/")
        .respond_with(fixture_response("error_system.json"))
        .mount(&env.server)
        .await;
    let out = env
        .cmd()
        .args([
            "--advertiser",
            ADV_US,
            "-o",
            "c.csv",
            "--max-retries",
            "1",
            "report",
            "run",
        ])
        .args(args)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    let mut files: Vec<String> = std::fs::read_dir(env.work_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(files, ["a.csv", "b.csv"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rate_limit_mid_report_is_retried_without_losing_or_doubling_rows() {
    let env = TestEnv::with_account().await;
    on_get("/report/integrated/get/")
        .and(query_param("page", "2"))
        .respond_with(fixture_response("error_rate_limit.json"))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&env.server)
        .await;
    mount_five_rows_in_three_pages(&env).await;
    let out = run(&env, &FIVE_ROWS_ARGS);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(stdout_of(&out), FIVE_ROWS);
    assert_eq!(env.requests_to("/report/integrated/get/").await.len(), 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_short_window_fails_loudly_and_leaves_no_file() {
    let env = TestEnv::with_account().await;
    on_get("/report/integrated/get/")
        .respond_with(page_of(
            vec![row(CAMPAIGN_A, "2025-01-01", "1", "1")],
            1,
            1000,
            3,
        ))
        .mount(&env.server)
        .await;
    let out = env
        .cmd()
        .args([
            "--advertiser",
            ADV_US,
            "-o",
            "short.csv",
            "report",
            "run",
            "--start",
            "2025-01-01",
            "--end",
            "2025-01-01",
        ])
        .output()
        .unwrap();
    assert_fails(&out, 6, "announced 3 rows but sent 1");
    assert!(!env.work_dir().join("short.csv").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_truncation_header_fails_loudly() {
    let env = TestEnv::with_account().await;
    on_get("/report/integrated/get/")
        .respond_with(
            page_of(vec![row(CAMPAIGN_A, "2025-01-01", "1", "1")], 1, 1000, 1)
                .insert_header("X-Tt-Ads-Throttle", "20000"),
        )
        .mount(&env.server)
        .await;
    let out = run(&env, &["--start", "2025-01-01", "--end", "2025-01-01"]);
    assert_fails(&out, 6, "X-Tt-Ads-Throttle");
}

#[tokio::test(flavor = "multi_thread")]
async fn one_failing_advertiser_does_not_stop_the_others_but_exits_6() {
    let env = TestEnv::with_account().await;
    on_get("/report/integrated/get/")
        .and(query_param("advertiser_id", ADV_EU))
        .respond_with(fixture_response("error_permission.json"))
        .mount(&env.server)
        .await;
    on_get("/report/integrated/get/")
        .and(query_param("advertiser_id", ADV_US))
        .respond_with(page_of(
            vec![row(CAMPAIGN_A, "2025-01-01", "9.99", "3")],
            1,
            1000,
            1,
        ))
        .mount(&env.server)
        .await;
    let out = env
        .cmd()
        .args([
            "--advertiser",
            &format!("{ADV_EU},{ADV_US}"),
            "report",
            "run",
            "--start",
            "2025-01-01",
            "--end",
            "2025-01-01",
            "--metrics",
            "spend,clicks",
            "--with-account-info",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6));
    assert_eq!(
        stdout_of(&out),
        format!(
            "advertiser_id,currency,timezone,campaign_id,stat_time_day,spend,clicks\n\
                 {ADV_US},USD,America/New_York,{CAMPAIGN_A},2025-01-01 00:00:00,9.99,3\n"
        )
    );
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains(ADV_EU) && stderr.contains("40001"),
        "{stderr}"
    );
    assert!(
        stderr.contains("2025020309154701024547A7C3E9F1B2D42F"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn all_advertisers_come_from_the_tokens_list() {
    let env = TestEnv::with_account().await;
    on_get("/oauth2/advertiser/get/")
        .respond_with(fixture_response("oauth_advertiser_get.json"))
        .mount(&env.server)
        .await;
    on_get("/report/integrated/get/")
        .respond_with(|r: &Request| {
            let adv = r
                .url
                .query_pairs()
                .find(|(k, _)| k == "advertiser_id")
                .unwrap()
                .1
                .into_owned();
            page_of(vec![row(&adv[..16], "2025-01-01", "1", "2")], 1, 1000, 1)
        })
        .mount(&env.server)
        .await;
    let out = env
        .cmd()
        .args([
            "report",
            "run",
            "--all-advertisers",
            "--yesterday",
            "--by",
            "none",
            "--metrics",
            "spend",
        ])
        .env("TIKTOK_APP_ID", APP_ID)
        .env("TIKTOK_APP_SECRET", APP_SECRET)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let csv = stdout_of(&out);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "advertiser_id,campaign_id,spend");
    assert_eq!(lines[1], format!("{ADV_US},{},1", &ADV_US[..16]));
    assert_eq!(lines[2], format!("{ADV_EU},{},1", &ADV_EU[..16]));
}

#[tokio::test(flavor = "multi_thread")]
async fn explain_prints_the_plan_and_calls_nothing() {
    let env = TestEnv::new().await;
    let out = env
        .cmd()
        .args([
            "--advertiser",
            ADV_US,
            "report",
            "run",
            "--start",
            "2025-01-01",
            "--end",
            "2025-01-31",
            "--explain",
        ])
        .assert()
        .success();
    let text = stdout_of(out.get_output());
    assert!(text.contains("2 per advertiser"), "{text}");
    assert!(
        text.contains("2025-01-01..2025-01-30, 2025-01-31..2025-01-31"),
        "{text}"
    );
    assert!(text.contains("at least 2 report requests"), "{text}");
    assert!(env.server.received_requests().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_dates_are_refused_and_a_future_end_is_clamped() {
    let env = TestEnv::with_account().await;
    on_get("/report/integrated/get/")
        .respond_with(page_of(vec![], 1, 1000, 0))
        .mount(&env.server)
        .await;
    let out = run(&env, &["--start", "2025-02-01", "--end", "2025-01-01"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("before --start"));
    assert_eq!(
        run(&env, &["--start", "2025-02-30", "--end", "2025-03-01"])
            .status
            .code(),
        Some(2)
    );
    let out = run(&env, &["--start", "2025-13-01", "--end", "2025-03-01"]);
    assert!(
        stderr_of(&out).contains("expected YYYY-MM-DD"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(run(&env, &[]).status.code(), Some(2));
    let future = (chrono::Utc::now() + chrono::Duration::days(40))
        .date_naive()
        .to_string();
    let far = (chrono::Utc::now() + chrono::Duration::days(60))
        .date_naive()
        .to_string();
    let out = run(&env, &["--start", &future, "--end", &far]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("no data yet"));
    assert!(env.requests_to("/report/integrated/get/").await.is_empty());
    let start = (chrono::Utc::now() - chrono::Duration::days(3))
        .date_naive()
        .to_string();
    let out = run(&env, &["--start", &start, "--end", &far]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("clamped to today"),
        "{}",
        stderr_of(&out)
    );
}

// ---- asynchronous tasks ----

const TASK: &str = "7467012345678901234";

async fn mount_task_flow(env: &TestEnv) {
    on_post("/report/task/create/")
        .respond_with(fixture_response("report_task_create.json"))
        .mount(&env.server)
        .await;
    on_get("/report/task/check/")
        .respond_with(ok(json!({"status": "QUEUING", "message": ""})))
        .up_to_n_times(1)
        .mount(&env.server)
        .await;
    on_get("/report/task/check/")
        .respond_with(fixture_response("report_task_check_processing.json"))
        .up_to_n_times(1)
        .mount(&env.server)
        .await;
    on_get("/report/task/check/")
        .respond_with(fixture_response("report_task_check_success.json"))
        .mount(&env.server)
        .await;
}

fn csv_fixture() -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/report_task_download_csv_string.csv"),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn async_run_matches_the_synchronous_output() {
    let env = TestEnv::with_account().await;
    mount_task_flow(&env).await;
    // The async CSV spells days without a time; the sync JSON with one.
    let csv = csv_fixture().replace(" 00:00:00", "");
    on_get("/report/task/download/")
        .respond_with(ResponseTemplate::new(200).set_body_raw(csv, "text/csv"))
        .mount(&env.server)
        .await;
    on_get("/report/integrated/get/")
        .respond_with(fixture_response("report_integrated_get.json"))
        .mount(&env.server)
        .await;
    let flags = [
        "--start",
        "2025-01-01",
        "--end",
        "2025-01-02",
        "--metrics",
        "campaign_name,spend,impressions,clicks",
    ];
    let sync = run(&env, &flags);
    assert!(sync.status.success(), "{}", stderr_of(&sync));
    let mut async_flags = flags.to_vec();
    async_flags.extend(["--async", "--poll-ms", "5"]);
    let asynchronous = run(&env, &async_flags);
    assert!(
        asynchronous.status.success(),
        "{}",
        stderr_of(&asynchronous)
    );
    assert_eq!(stdout_of(&asynchronous), stdout_of(&sync));
    assert_eq!(stdout_of(&asynchronous).lines().count(), 5);

    let create = env
        .server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.url.path() == api_path("/report/task/create/"))
        .unwrap();
    let body: Value = serde_json::from_slice(&create.body).unwrap();
    assert_eq!(body["enable_report_title_translation"], json!(false));
    assert_eq!(body["output_format"], json!("CSV_STRING"));
    assert_eq!(body["start_date"], json!("2025-01-01"));
    assert_eq!(body["dimensions"], json!(["campaign_id", "stat_time_day"]));
    let checks = env
        .server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == api_path("/report/task/check/"))
        .count();
    assert_eq!(checks, 3, "QUEUING, PROCESSING, SUCCESS");
}

#[tokio::test(flavor = "multi_thread")]
async fn task_commands_create_status_download_by_url_and_cancel() {
    let env = TestEnv::with_account().await;
    mount_task_flow(&env).await;
    let csv = csv_fixture();
    on_get("/report/task/download/")
        .respond_with(ok(json!({"output_format": "CSV_DOWNLOAD", "file_name": "jan.csv",
                                "download_url": format!("{}/report-downloads/jan.csv?sign=x", env.server.uri())})))
        .mount(&env.server)
        .await;
    wiremock::Mock::given(wiremock::matchers::path("/report-downloads/jan.csv"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(csv.clone(), "text/csv"))
        .mount(&env.server)
        .await;
    on_post("/report/task/cancel/")
        .respond_with(fixture_response("report_task_cancel.json"))
        .mount(&env.server)
        .await;

    let out = env
        .cmd()
        .args([
            "--advertiser",
            ADV_US,
            "report",
            "task",
            "create",
            "--start",
            "2024-01-01",
            "--end",
            "2024-12-31",
        ])
        .assert()
        .success();
    assert_eq!(stdout_of(out.get_output()), format!("{TASK}\n"));
    let body: Value = serde_json::from_slice(
        &env.server
            .received_requests()
            .await
            .unwrap()
            .into_iter()
            .find(|r| r.url.path() == api_path("/report/task/create/"))
            .unwrap()
            .body,
    )
    .unwrap();
    assert_eq!(
        (body["start_date"].as_str(), body["end_date"].as_str()),
        (Some("2024-01-01"), Some("2024-12-31")),
        "no span limit: one task for the whole year"
    );

    for expected in ["QUEUING", "PROCESSING", "SUCCESS"] {
        let out = env
            .cmd()
            .args(["--advertiser", ADV_US, "report", "task", "status", TASK])
            .assert()
            .success();
        assert_eq!(stdout_of(out.get_output()).trim(), expected);
    }
    env.cmd()
        .args([
            "--advertiser",
            ADV_US,
            "-o",
            "jan.csv",
            "report",
            "task",
            "download",
            TASK,
        ])
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(env.work_dir().join("jan.csv")).unwrap(),
        csv
    );
    let download = env
        .server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.url.path() == "/report-downloads/jan.csv")
        .unwrap();
    assert!(
        download.headers.get("access-token").is_none(),
        "the pre-signed URL gets no token"
    );
    let out = env
        .cmd()
        .args(["--advertiser", ADV_US, "report", "task", "cancel", TASK])
        .assert()
        .success();
    assert_eq!(stdout_of(out.get_output()).trim(), "CANCELED");
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_tasks_and_missing_allowlist_are_explained() {
    let env = TestEnv::with_account().await;
    on_get("/report/task/check/")
        .respond_with(fixture_response("report_task_check_failed.json"))
        .mount(&env.server)
        .await;
    let out = env
        .cmd()
        .args(["--advertiser", ADV_US, "report", "task", "status", TASK])
        .assert()
        .code(4);
    assert_eq!(stdout_of(out.get_output()).trim(), "FAILED");
    assert!(stderr_of(out.get_output()).contains("not supported in asynchronous reports"));
    on_post("/report/task/create/")
        .respond_with(fixture_response("report_task_create.json"))
        .mount(&env.server)
        .await;
    let out = run(
        &env,
        &[
            "--start",
            "2025-01-01",
            "--end",
            "2025-01-02",
            "--async",
            "--poll-ms",
            "5",
        ],
    );
    assert_eq!(out.status.code(), Some(4));
    assert!(stderr_of(&out).contains("FAILED"));

    env.server.reset().await;
    on_get("/advertiser/info/")
        .respond_with(fixture_response("advertiser_info.json"))
        .mount(&env.server)
        .await;
    on_post("/report/task/create/")
        .respond_with(fixture_response("error_permission.json"))
        .mount(&env.server)
        .await;
    let out = run(
        &env,
        &["--start", "2025-01-01", "--end", "2025-01-02", "--async"],
    );
    assert_eq!(out.status.code(), Some(4));
    assert!(
        stderr_of(&out).contains("allowlisted") && stderr_of(&out).contains("without --async"),
        "{}",
        stderr_of(&out)
    );
    // A download of a task without output says what to do (its status cannot be read here).
    on_get("/report/task/download/")
        .respond_with(fixture_response("error_task_not_ready.json"))
        .mount(&env.server)
        .await;
    let out = env
        .cmd()
        .args(["--advertiser", ADV_US, "report", "task", "download", TASK])
        .assert()
        .code(4);
    assert!(
        stderr_of(out.get_output()).contains("report task status"),
        "{}",
        stderr_of(out.get_output())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_account_that_fails_midway_leaves_none_of_its_rows() {
    let env = TestEnv::with_account().await;
    on_get("/report/integrated/get/")
        .and(query_param("advertiser_id", ADV_EU))
        .and(query_param("start_date", "2025-01-31"))
        .respond_with(fixture_response("error_permission.json"))
        .with_priority(1)
        .mount(&env.server)
        .await;
    on_get("/report/integrated/get/")
        .respond_with(|r: &Request| {
            let q = |k: &str| query(r, k).unwrap_or_default();
            let campaign = if q("advertiser_id") == ADV_EU {
                "1812345678905678"
            } else {
                CAMPAIGN_A
            };
            page_of(
                vec![row(campaign, &q("start_date"), "2.50", "7")],
                1,
                1000,
                1,
            )
        })
        .mount(&env.server)
        .await;
    let out = env
        .cmd()
        .args([
            "--advertiser",
            &format!("{ADV_EU},{ADV_US}"),
            "-o",
            "both.csv",
            "report",
            "run",
            "--start",
            "2025-01-01",
            "--end",
            "2025-01-31",
            "--metrics",
            "spend",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6), "{}", stderr_of(&out));
    assert_eq!(
        std::fs::read_to_string(env.work_dir().join("both.csv")).unwrap(),
        format!(
            "advertiser_id,campaign_id,stat_time_day,spend\n\
                 {ADV_US},{CAMPAIGN_A},2025-01-01 00:00:00,2.50\n\
                 {ADV_US},{CAMPAIGN_A},2025-01-31 00:00:00,2.50\n"
        )
    );
    assert!(
        stderr_of(&out).contains("nothing of the failed ones"),
        "{}",
        stderr_of(&out)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn names_outside_the_catalogue_are_refused_before_any_request() {
    let env = TestEnv::with_account().await;
    on_get("/report/integrated/get/")
        .respond_with(page_of(vec![], 1, 1000, 0))
        .mount(&env.server)
        .await;
    let out = run(
        &env,
        &[
            "--last",
            "3",
            "--metrics",
            "spend,impresions,ad_name",
            "--dimensions",
            "age",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert!(
        err.contains("\"impresions\" (did you mean impressions?)"),
        "{err}"
    );
    assert!(err.contains("--allow-unknown-metrics"), "{err}");
    assert!(err.contains("ad_name describes ads"), "{err}");
    assert!(err.contains("age is an AUDIENCE breakdown"), "{err}");
    assert!(env.requests_to("/report/integrated/get/").await.is_empty());

    // A metric newer than the catalogue passes through when asked.
    let out = run(
        &env,
        &[
            "--last",
            "3",
            "--metrics",
            "spend,brand_new_metric",
            "--allow-unknown-metrics",
        ],
    );
    assert!(out.status.success(), "{}", stderr_of(&out));
    let requests = env.requests_to("/report/integrated/get/").await;
    assert_eq!(
        query(&requests[0], "metrics").as_deref(),
        Some(r#"["spend","brand_new_metric"]"#)
    );
}

/// `report sync` checks every window as `report run` does: a page that announces more rows
/// than it sends fails the account (exit 6) and leaves nothing of the window in the database.
#[tokio::test(flavor = "multi_thread")]
async fn a_short_window_is_never_synced() {
    let env = TestEnv::with_account().await;
    let day = (chrono::Utc::now().date_naive() - chrono::Duration::days(5)).to_string();
    on_get("/report/integrated/get/")
        .respond_with(page_of(vec![row(CAMPAIGN_A, &day, "1", "1")], 1, 1000, 3))
        .mount(&env.server)
        .await;
    let db = env.work_dir().join("short.db");
    let out = env
        .cmd()
        .args(["--advertiser", ADV_US, "report", "sync"])
        .args(["--into", &format!("sqlite:{}", db.display())])
        .args([
            "--level",
            "campaign",
            "--metrics",
            "clicks,spend",
            "--since",
            &day,
        ])
        .output()
        .unwrap();
    assert_fails(&out, 6, "announced 3 rows but sent 1");
    let db = rusqlite::Connection::open(&db).unwrap();
    let count = |table: &str| -> i64 {
        db.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(count("tiktok_campaign_daily"), 0, "no row of the window");
    assert_eq!(count("tiktok_sync_state"), 0, "no progress recorded");
}
