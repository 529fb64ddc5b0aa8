//! `campaign`, `adgroup`, `ad` and `region`: the requests each command sends, paging and
//! streaming, filters, writes with checks, dry runs, files, batches and partial failures.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::Request;
use wiremock::matchers::query_param;

use crate::support::*;

const CAMPAIGN_A: &str = "1812345678901234";
const BIG_ID: &str = "7301234567890123456";

fn campaign(id: u64, name: &str) -> Value {
    json!({"advertiser_id": ADV_US, "campaign_id": id.to_string(), "campaign_name": name,
           "objective_type": "TRAFFIC", "budget_mode": "BUDGET_MODE_DAY", "budget": 100.0,
           "operation_status": if id.is_multiple_of(2) { "ENABLE" } else { "DISABLE" },
           "secondary_status": "CAMPAIGN_STATUS_ENABLE", "create_time": "2025-01-10 14:02:11"})
}

/// Mounts `/campaign/get/` serving campaigns 1..=total in pages of `page_size`.
async fn mount_campaign_pages(env: &TestEnv, total: u64, page_size: u64) {
    for p in 1..=total.div_ceil(page_size) {
        let list = ((p - 1) * page_size + 1..=(p * page_size).min(total))
            .map(|i| campaign(i, &format!("Campaign {i}")))
            .collect();
        on_get("/campaign/get/")
            .and(query_param("page", p.to_string()))
            .respond_with(page_of(list, p, page_size, total))
            .mount(&env.server)
            .await;
    }
}

/// `campaign list` of the US account two campaigns a page, with `extra` flags; it succeeds.
fn campaign_list(env: &TestEnv, extra: &[&str]) -> assert_cmd::assert::Assert {
    env.cmd()
        .args([
            "--advertiser",
            ADV_US,
            "campaign",
            "list",
            "--page-size",
            "2",
        ])
        .args(extra)
        .assert()
        .success()
}

#[tokio::test(flavor = "multi_thread")]
async fn campaign_list_walks_every_page_with_json_encoded_parameters() {
    let env = TestEnv::with_account().await;
    mount_campaign_pages(&env, 5, 2).await;
    let out = campaign_list(&env, &[]);
    let csv = stdout_of(out.get_output());
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "campaign_id,campaign_name,operation_status,secondary_status,objective_type,budget_mode,budget,currency,create_time"
    );
    assert_eq!(lines.len(), 6);
    assert_eq!(
        lines[1],
        "1,Campaign 1,DISABLE,CAMPAIGN_STATUS_ENABLE,TRAFFIC,BUDGET_MODE_DAY,100.0,USD,2025-01-10 14:02:11"
    );
    assert!(lines[5].starts_with("5,Campaign 5,"));

    let requests = env.requests_to("/campaign/get/").await;
    let pages: Vec<String> = requests.iter().map(|r| query(r, "page").unwrap()).collect();
    assert_eq!(pages, ["1", "2", "3"]);
    let first = &requests[0];
    assert_eq!(query(first, "advertiser_id").as_deref(), Some(ADV_US));
    assert_eq!(query(first, "page_size").as_deref(), Some("2"));
    assert_eq!(
        query_json(first, "fields"),
        json!([
            "campaign_id",
            "campaign_name",
            "operation_status",
            "secondary_status",
            "objective_type",
            "budget_mode",
            "budget",
            "create_time"
        ])
    );
    assert!(query(first, "filtering").is_none(), "no filter asked for");
}

#[tokio::test(flavor = "multi_thread")]
async fn rows_reach_the_pipe_before_the_last_page_is_fetched() {
    let env = TestEnv::with_account().await;
    on_get("/campaign/get/")
        .and(query_param("page", "1"))
        .respond_with(page_of(vec![campaign(1, "first")], 1, 1, 2))
        .mount(&env.server)
        .await;
    on_get("/campaign/get/")
        .and(query_param("page", "2"))
        .respond_with(
            page_of(vec![campaign(2, "second")], 2, 1, 2).set_delay(Duration::from_secs(30)),
        )
        .mount(&env.server)
        .await;
    let mut child = env
        .std_cmd()
        .args([
            "--advertiser",
            ADV_US,
            "campaign",
            "list",
            "--page-size",
            "1",
            "--fields",
            "campaign_id,campaign_name",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut header = String::new();
    let mut row = String::new();
    stdout.read_line(&mut header).unwrap();
    stdout.read_line(&mut row).unwrap();
    assert_eq!(row, "1,first\n");
    // The second page is still being served: the first row was written before it.
    assert!(
        child.try_wait().unwrap().is_none(),
        "the process had already finished"
    );
    child.kill().unwrap();
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread")]
async fn limit_stops_fetching_early() {
    let env = TestEnv::with_account().await;
    mount_campaign_pages(&env, 10, 2).await;
    let out = campaign_list(&env, &["--limit", "3", "--fields", "campaign_id"]);
    assert_eq!(stdout_of(out.get_output()), "campaign_id\n1\n2\n3\n");
    assert_eq!(env.requests_to("/campaign/get/").await.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_filter_maps_to_tiktoks_filtering_object() {
    let env = TestEnv::with_account().await;
    mount_campaign_pages(&env, 1, 10).await;
    env.cmd()
        .args([
            "--advertiser",
            ADV_US,
            "campaign",
            "list",
            "--id",
            "11,22",
            "--name",
            "spring",
            "--status",
            "all",
            "--objective",
            "traffic",
            "--created-since",
            "2025-01-01",
            "--created-until",
            "2025-01-31 12:00:00",
        ])
        .assert()
        .success();
    let request = &env.requests_to("/campaign/get/").await[0];
    assert_eq!(
        query_json(request, "filtering"),
        json!({"campaign_name": "spring", "primary_status": "STATUS_ALL", "objective_type": "TRAFFIC",
               "creation_filter_start_time": "2025-01-01 00:00:00",
               "creation_filter_end_time": "2025-01-31 12:00:00", "campaign_ids": ["11", "22"]})
    );
    for (status, expected) in [
        ("disabled", "STATUS_DISABLE"),
        ("deleted", "STATUS_DELETE"),
        ("delivering", "STATUS_DELIVERY_OK"),
    ] {
        env.server.reset().await;
        on_get("/advertiser/info/")
            .respond_with(fixture_response("advertiser_info.json"))
            .mount(&env.server)
            .await;
        mount_campaign_pages(&env, 1, 10).await;
        env.cmd()
            .args([
                "--advertiser",
                ADV_US,
                "campaign",
                "list",
                "--status",
                status,
            ])
            .assert()
            .success();
        let request = &env.requests_to("/campaign/get/").await[0];
        assert_eq!(
            query_json(request, "filtering")["primary_status"],
            json!(expected)
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn enabled_is_filtered_on_operation_status() {
    let env = TestEnv::with_account().await;
    mount_campaign_pages(&env, 4, 10).await;
    let out = env
        .cmd()
        .args([
            "--advertiser",
            ADV_US,
            "campaign",
            "list",
            "--status",
            "enabled",
            "--fields",
            "campaign_id",
        ])
        .assert()
        .success();
    assert_eq!(stdout_of(out.get_output()), "campaign_id\n2\n4\n");
    let request = &env.requests_to("/campaign/get/").await[0];
    assert_eq!(
        query_json(request, "fields"),
        json!(["campaign_id", "operation_status"])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn more_than_100_ids_are_sent_in_chunks() {
    let env = TestEnv::with_account().await;
    mount_campaign_pages(&env, 1, 10).await;
    let ids: Vec<String> = (1..=150).map(|i| (1_000_000 + i).to_string()).collect();
    env.cmd()
        .args([
            "--advertiser",
            ADV_US,
            "campaign",
            "list",
            "--id",
            &ids.join(","),
        ])
        .assert()
        .success();
    let requests = env.requests_to("/campaign/get/").await;
    let sizes: Vec<usize> = requests
        .iter()
        .map(|r| {
            query_json(r, "filtering")["campaign_ids"]
                .as_array()
                .unwrap()
                .len()
        })
        .collect();
    assert_eq!(sizes, [100, 50]);
}

#[tokio::test(flavor = "multi_thread")]
async fn adgroup_and_ad_lists_filter_by_parents() {
    let env = TestEnv::with_account().await;
    on_get("/adgroup/get/")
        .respond_with(fixture_response("adgroup_get.json"))
        .mount(&env.server)
        .await;
    on_get("/ad/get/")
        .respond_with(fixture_response("ad_get.json"))
        .mount(&env.server)
        .await;
    env.cmd()
        .args([
            "--advertiser",
            ADV_US,
            "adgroup",
            "list",
            "--campaign",
            CAMPAIGN_A,
        ])
        .assert()
        .success();
    let request = &env.requests_to("/adgroup/get/").await[0];
    assert_eq!(
        query_json(request, "filtering"),
        json!({"campaign_ids": [CAMPAIGN_A]})
    );
    let out = env
        .cmd()
        .args([
            "--advertiser",
            ADV_US,
            "ad",
            "list",
            "--campaign",
            CAMPAIGN_A,
            "--adgroup",
            "1812350123456789",
            "--format",
            "ndjson",
        ])
        .assert()
        .success();
    let request = &env.requests_to("/ad/get/").await[0];
    assert_eq!(
        query_json(request, "filtering"),
        json!({"campaign_ids": [CAMPAIGN_A], "adgroup_ids": ["1812350123456789"]})
    );
    // JSON formats without --fields ask for, and print, whole objects.
    assert!(query(request, "fields").is_none());
    let first: Value =
        serde_json::from_str(stdout_of(out.get_output()).lines().next().unwrap()).unwrap();
    assert!(first.get("ad_text").is_some(), "{first}");
    // A parent filter that does not apply is refused.
    env.cmd()
        .args(["--advertiser", ADV_US, "campaign", "list", "--adgroup", "1"])
        .assert()
        .code(2);
}

#[tokio::test(flavor = "multi_thread")]
async fn get_prints_one_object_and_missing_ids_exit_4() {
    let env = TestEnv::with_account().await;
    on_get("/campaign/get/")
        .and(query_param(
            "filtering",
            format!(r#"{{"campaign_ids":["{BIG_ID}"]}}"#),
        ))
        .respond_with(page_of(
            vec![
                campaign(0, "big")
                    .as_object()
                    .map(|o| {
                        let mut o = o.clone();
                        o.insert("campaign_id".into(), json!(BIG_ID));
                        Value::Object(o)
                    })
                    .unwrap(),
            ],
            1,
            1,
            1,
        ))
        .mount(&env.server)
        .await;
    on_get("/campaign/get/")
        .respond_with(fixture_response("campaign_get_empty.json"))
        .mount(&env.server)
        .await;
    let out = env
        .cmd()
        .args([
            "--advertiser",
            ADV_US,
            "campaign",
            "get",
            BIG_ID,
            "--format",
            "json",
        ])
        .assert()
        .success();
    let object: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(object[0]["campaign_id"], json!(BIG_ID));
    let out = env
        .cmd()
        .args([
            "--advertiser",
            ADV_US,
            "campaign",
            "get",
            "1812345678900000",
        ])
        .assert()
        .code(4);
    assert!(stderr_of(out.get_output()).contains("campaign 1812345678900000"));
    env.cmd()
        .args(["--advertiser", ADV_US, "campaign", "get", "12x"])
        .assert()
        .code(2);
}

#[tokio::test(flavor = "multi_thread")]
async fn object_not_found_code_exits_4_with_tiktoks_message() {
    let env = TestEnv::with_account().await;
    on_get("/ad/get/")
        .respond_with(fixture_response("error_not_exist.json"))
        .mount(&env.server)
        .await;
    let out = env
        .cmd()
        .args(["--advertiser", ADV_US, "ad", "get", "1812360987654321"])
        .assert()
        .code(4);
    assert!(stderr_of(out.get_output()).contains("40007"));
}

#[tokio::test(flavor = "multi_thread")]
async fn campaign_create_sends_the_checked_body_and_prints_only_the_id() {
    let env = TestEnv::with_account().await;
    on_post("/campaign/create/")
        .respond_with(fixture_response("campaign_create.json"))
        .mount(&env.server)
        .await;
    let out = env
        .cmd()
        .args([
            "--advertiser",
            ADV_US,
            "campaign",
            "create",
            "--name",
            "CLI test campaign",
            "--objective",
            "traffic",
            "--budget",
            "50",
            "--disabled",
        ])
        .assert()
        .success();
    assert_eq!(stdout_of(out.get_output()), "1812345678909012\n");
    let request = &env.requests_to("/campaign/create/").await[0];
    let mut body = body_of(request);
    let key = body.as_object_mut().unwrap().remove("request_id").unwrap();
    assert!(
        key.as_str().unwrap().chars().all(|c| c.is_ascii_digit()),
        "idempotency key {key}"
    );
    assert_eq!(
        body,
        json!({"campaign_name": "CLI test campaign", "objective_type": "TRAFFIC", "budget": 50.0,
               "budget_mode": "BUDGET_MODE_DAY", "operation_status": "DISABLE", "advertiser_id": ADV_US})
    );
    // --format json gives the created object.
    let out = env
        .cmd()
        .args([
            "--advertiser",
            ADV_US,
            "--format",
            "json",
            "campaign",
            "create",
            "--name",
            "x",
            "--objective",
            "TRAFFIC",
            "--budget",
            "60",
        ])
        .assert()
        .success();
    let object: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(object["campaign_id"], json!("1812345678909012"));
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_prints_the_body_and_touches_nothing() {
    let env = TestEnv::new().await;
    let out = env
        .cmd()
        .args([
            "--advertiser",
            ADV_US,
            "campaign",
            "create",
            "--name",
            "Dry",
            "--objective",
            "REACH",
            "--budget",
            "75.5",
            "--budget-mode",
            "total",
            "--dry-run",
        ])
        .assert()
        .success();
    let body: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(body["budget"], json!(75.5));
    assert_eq!(body["budget_mode"], json!("BUDGET_MODE_TOTAL"));
    assert_eq!(body["advertiser_id"], json!(ADV_US));
    assert!(env.server.received_requests().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_lists_every_problem_and_sends_nothing() {
    let env = TestEnv::with_account().await;
    let before = env.server.received_requests().await.unwrap().len();
    let out = env
        .cmd()
        .args([
            "--advertiser",
            ADV_US,
            "campaign",
            "create",
            "--objective",
            "SALES",
            "--budget",
            "lots",
        ])
        .assert()
        .code(2);
    let stderr = stderr_of(out.get_output());
    assert!(stderr.contains("3 problem(s)"), "{stderr}");
    assert!(stderr.contains("campaign_name is required"), "{stderr}");
    assert!(
        stderr.contains("expected one of TRAFFIC, REACH"),
        "{stderr}"
    );
    assert!(stderr.contains("budget must be a number"), "{stderr}");
    // Unknown enum values of flags with fixed choices list the valid ones.
    let out = env
        .cmd()
        .args([
            "--advertiser",
            ADV_US,
            "campaign",
            "create",
            "--budget-mode",
            "weekly",
        ])
        .assert()
        .code(2);
    assert!(stderr_of(out.get_output()).contains("possible values: day, total"));
    // A non-numeric ID and an out-of-range parent.
    env.cmd()
        .args([
            "--advertiser",
            ADV_US,
            "adgroup",
            "create",
            "--campaign",
            "abc",
            "--dry-run",
        ])
        .assert()
        .code(2);
    env.cmd()
        .args(["--advertiser", ADV_US, "campaign", "disable", "x1"])
        .assert()
        .code(2);
    // Conflicting flags.
    env.cmd()
        .args([
            "--advertiser",
            ADV_US,
            "campaign",
            "create",
            "--name",
            "x",
            "--objective",
            "TRAFFIC",
            "--budget",
            "100",
            "--budget-mode",
            "infinite",
            "--dry-run",
        ])
        .assert()
        .code(2);
    // Nothing was sent but reads of the account's currency (budgets are checked in it).
    let received = env.server.received_requests().await.unwrap();
    let others: Vec<String> = received[before..]
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .filter(|r| r != "GET /open_api/v1.3/advertiser/info/")
        .collect();
    assert!(others.is_empty(), "{others:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_budget_below_the_usd_minimum_is_refused_before_the_create() {
    let env = TestEnv::with_account().await;
    on_post("/campaign/create/")
        .respond_with(fixture_response("campaign_create.json"))
        .expect(0)
        .mount(&env.server)
        .await;
    let out = env
        .cmd()
        .args([
            "--advertiser",
            ADV_US,
            "campaign",
            "create",
            "--name",
            "Tiny",
            "--objective",
            "TRAFFIC",
            "--budget",
            "20",
        ])
        .assert()
        .code(2);
    assert!(stderr_of(out.get_output()).contains("minimum of 50 USD"));
}

#[tokio::test(flavor = "multi_thread")]
async fn from_file_values_are_kept_unless_a_flag_overrides_them() {
    let env = TestEnv::with_account().await;
    let file = env.work_dir().join("campaign.json");
    std::fs::write(
        &file,
        r#"{"campaign_name": "from file", "objective_type": "TRAFFIC", "budget": 80,
            "budget_mode": "BUDGET_MODE_DAY", "special_industries": ["HOUSING"], "po_number": "PO-7"}"#,
    )
    .unwrap();
    let out = env
        .cmd()
        .args([
            "--advertiser",
            ADV_US,
            "campaign",
            "create",
            "--from-file",
            "campaign.json",
            "--name",
            "from flag",
            "--dry-run",
        ])
        .assert()
        .success();
    let body: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(body["campaign_name"], json!("from flag"));
    assert_eq!(body["budget"], json!(80));
    assert_eq!(body["special_industries"], json!(["HOUSING"]));
    assert_eq!(body["po_number"], json!("PO-7"));
    // The same body from stdin.
    let out = env
        .cmd()
        .args([
            "--advertiser",
            ADV_US,
            "campaign",
            "create",
            "--from-file",
            "-",
            "--dry-run",
        ])
        .write_stdin(std::fs::read_to_string(&file).unwrap())
        .assert()
        .success();
    let body: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(body["campaign_name"], json!("from file"));
}

#[tokio::test(flavor = "multi_thread")]
async fn empty_or_invalid_files_are_refused_with_position() {
    let env = TestEnv::new().await;
    std::fs::write(env.work_dir().join("empty.json"), "\n").unwrap();
    std::fs::write(
        env.work_dir().join("broken.json"),
        "{\n  \"campaign_name\": \"x\",\n  budget: 5\n}\n",
    )
    .unwrap();
    let out = env
        .cmd()
        .args([
            "--advertiser",
            ADV_US,
            "campaign",
            "create",
            "--from-file",
            "empty.json",
        ])
        .assert()
        .code(2);
    assert!(stderr_of(out.get_output()).contains("empty"));
    let out = env
        .cmd()
        .args([
            "--advertiser",
            ADV_US,
            "campaign",
            "create",
            "--from-file",
            "broken.json",
        ])
        .assert()
        .code(2);
    assert!(
        stderr_of(out.get_output()).contains("line 3, column 3"),
        "{}",
        stderr_of(out.get_output())
    );
    assert!(env.server.received_requests().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn tiktoks_parameter_error_on_create_exits_4_with_its_message() {
    let env = TestEnv::with_account().await;
    on_post("/campaign/create/")
        .respond_with(fixture_response("error_param.json"))
        .mount(&env.server)
        .await;
    let out = env
        .cmd()
        .args([
            "--advertiser",
            ADV_US,
            "campaign",
            "create",
            "--name",
            "x",
            "--objective",
            "TRAFFIC",
            "--budget",
            "500",
        ])
        .assert()
        .code(4);
    let stderr = stderr_of(out.get_output());
    assert!(stderr.contains("40002"), "{stderr}");
    assert_eq!(
        env.requests_to("/campaign/create/").await.len(),
        1,
        "not retried"
    );
}

async fn mount_current_campaign(env: &TestEnv) {
    on_get("/campaign/get/")
        .respond_with(page_of(
            vec![{
                let mut c = campaign(0, "Spring sale - traffic");
                c["campaign_id"] = json!(CAMPAIGN_A);
                c
            }],
            1,
            1,
            1,
        ))
        .mount(&env.server)
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn update_sends_only_what_changes_and_shows_the_budget_in_the_account_currency() {
    let env = TestEnv::with_account().await;
    mount_current_campaign(&env).await;
    on_post("/campaign/update/")
        .respond_with(fixture_response("campaign_update.json"))
        .mount(&env.server)
        .await;
    let out = env
        .cmd()
        .args([
            "--advertiser",
            ADV_US,
            "campaign",
            "update",
            CAMPAIGN_A,
            "--budget",
            "500",
            "--name",
            "Spring sale - traffic",
        ])
        .assert()
        .success();
    assert_eq!(stdout_of(out.get_output()), format!("{CAMPAIGN_A}\n"));
    assert!(
        stderr_of(out.get_output()).contains("budget: 100.0 USD → 500.0 USD"),
        "{}",
        stderr_of(out.get_output())
    );
    let request = &env.requests_to("/campaign/update/").await[0];
    assert_eq!(
        body_of(request),
        json!({"advertiser_id": ADV_US, "campaign_id": CAMPAIGN_A, "budget": 500.0})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn update_dry_run_and_no_op_send_nothing() {
    let env = TestEnv::with_account().await;
    mount_current_campaign(&env).await;
    on_post("/campaign/update/")
        .respond_with(fixture_response("campaign_update.json"))
        .expect(0)
        .mount(&env.server)
        .await;
    let out = env
        .cmd()
        .args([
            "--advertiser",
            ADV_US,
            "campaign",
            "update",
            CAMPAIGN_A,
            "--name",
            "New name",
            "--dry-run",
        ])
        .assert()
        .success();
    let body: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(
        body,
        json!({"advertiser_id": ADV_US, "campaign_id": CAMPAIGN_A, "campaign_name": "New name"})
    );
    assert!(
        stderr_of(out.get_output()).contains("campaign_name: Spring sale - traffic → New name")
    );
    let out = env
        .cmd()
        .args([
            "--advertiser",
            ADV_US,
            "campaign",
            "update",
            CAMPAIGN_A,
            "--budget",
            "100",
        ])
        .assert()
        .success();
    assert!(stderr_of(out.get_output()).contains("nothing to change"));
    // A field the API does not let change is refused up front.
    std::fs::write(
        env.work_dir().join("obj.json"),
        r#"{"objective_type": "REACH"}"#,
    )
    .unwrap();
    env.cmd()
        .args([
            "--advertiser",
            ADV_US,
            "campaign",
            "update",
            CAMPAIGN_A,
            "--from-file",
            "obj.json",
        ])
        .assert()
        .code(2);
}

#[tokio::test(flavor = "multi_thread")]
async fn status_changes_go_in_batches_of_20() {
    let env = TestEnv::with_account().await;
    on_post("/campaign/status/update/")
        .respond_with(|request: &Request| {
            let body: Value = serde_json::from_slice(&request.body).unwrap();
            ok(json!({"campaign_ids": body["campaign_ids"], "status": body["operation_status"]}))
        })
        .mount(&env.server)
        .await;
    let ids: Vec<String> = (1..=25).map(|i| format!("18123456789{i:05}")).collect();
    let out = env
        .cmd()
        .args(["--advertiser", ADV_US, "campaign", "disable"])
        .args(&ids)
        .assert()
        .success();
    let csv = stdout_of(out.get_output());
    assert_eq!(csv.lines().count(), 26);
    assert!(csv.contains(&format!("{},ok,DISABLE", ids[24])));
    let requests = env.requests_to("/campaign/status/update/").await;
    let bodies: Vec<Value> = requests.iter().map(body_of).collect();
    assert_eq!(bodies[0]["campaign_ids"].as_array().unwrap().len(), 20);
    assert_eq!(bodies[1]["campaign_ids"], json!(ids[20..]));
    assert_eq!(bodies[0]["operation_status"], json!("DISABLE"));
    assert_eq!(bodies[0]["advertiser_id"], json!(ADV_US));
}

#[tokio::test(flavor = "multi_thread")]
async fn partial_success_names_the_failed_ids_and_exits_6() {
    let env = TestEnv::with_account().await;
    on_post("/adgroup/status/update/")
        .respond_with(fixture_response("adgroup_status_update.json"))
        .mount(&env.server)
        .await;
    let out = env
        .cmd()
        .args([
            "--advertiser",
            ADV_US,
            "adgroup",
            "disable",
            "1812350123456789",
            "1812350123457123",
        ])
        .assert()
        .code(6);
    let csv = stdout_of(out.get_output());
    assert!(csv.contains("1812350123456789,ok,DISABLE"), "{csv}");
    assert!(
        csv.contains("1812350123457123,failed,The ad group has been deleted"),
        "{csv}"
    );
    let request = &env.requests_to("/adgroup/status/update/").await[0];
    assert_eq!(body_of(request)["allow_partial_success"], json!(true));
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_needs_yes_off_a_terminal() {
    let env = TestEnv::with_account().await;
    on_post("/ad/status/update/")
        .respond_with(ok(
            json!({"ad_ids": ["1812360987654321"], "status": "DELETE"}),
        ))
        .mount(&env.server)
        .await;
    let out = env
        .cmd()
        .args(["--advertiser", ADV_US, "ad", "delete", "1812360987654321"])
        .assert()
        .code(2);
    assert!(stderr_of(out.get_output()).contains("--yes"));
    assert!(env.requests_to("/ad/status/update/").await.is_empty());
    env.cmd()
        .args([
            "--advertiser",
            ADV_US,
            "ad",
            "delete",
            "--yes",
            "1812360987654321",
        ])
        .assert()
        .success();
    let request = &env.requests_to("/ad/status/update/").await[0];
    assert_eq!(
        body_of(request),
        json!({"advertiser_id": ADV_US, "ad_ids": ["1812360987654321"], "operation_status": "DELETE"})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn adgroup_create_fills_defaults_and_checks_the_lifetime_minimum() {
    let env = TestEnv::with_account().await;
    on_post("/adgroup/create/")
        .respond_with(fixture_response("adgroup_create.json"))
        .mount(&env.server)
        .await;
    let out = env
        .cmd()
        .args([
            "--advertiser",
            ADV_US,
            "adgroup",
            "create",
            "--campaign",
            "1812345678909012",
            "--name",
            "CLI test ad group",
            "--budget",
            "20",
            "--location-ids",
            "6252001",
            "--optimization-goal",
            "click",
            "--billing-event",
            "CPC",
            "--promotion-type",
            "WEBSITE",
            "--placements",
            "PLACEMENT_TIKTOK",
            "--schedule-start",
            "2025-02-04 00:00:00",
        ])
        .assert()
        .success();
    let id = stdout_of(out.get_output());
    assert!(
        id.trim().chars().all(|c| c.is_ascii_digit()) && !id.trim().is_empty(),
        "{id}"
    );
    let body = body_of(&env.requests_to("/adgroup/create/").await[0]);
    for (key, value) in [
        ("placement_type", "PLACEMENT_TYPE_NORMAL"),
        ("schedule_type", "SCHEDULE_FROM_NOW"),
        ("pacing", "PACING_MODE_SMOOTH"),
        ("bid_type", "BID_TYPE_NO_BID"),
        ("budget_mode", "BUDGET_MODE_DAY"),
        ("optimization_goal", "CLICK"),
        ("campaign_id", "1812345678909012"),
    ] {
        assert_eq!(body[key], json!(value), "{key}");
    }
    assert_eq!(body["location_ids"], json!(["6252001"]));
    let out = env
        .cmd()
        .args([
            "--advertiser",
            ADV_US,
            "adgroup",
            "create",
            "--campaign",
            "1812345678909012",
            "--name",
            "short",
            "--budget",
            "100",
            "--budget-mode",
            "total",
            "--location-ids",
            "6252001",
            "--optimization-goal",
            "CLICK",
            "--billing-event",
            "CPC",
            "--schedule-start",
            "2025-02-01 00:00:00",
            "--schedule-end",
            "2025-02-11 00:00:00",
        ])
        .assert()
        .code(2);
    assert!(
        stderr_of(out.get_output()).contains("over 10 day(s)"),
        "{}",
        stderr_of(out.get_output())
    );
    assert_eq!(env.requests_to("/adgroup/create/").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn ad_create_builds_a_creative_and_a_lost_answer_is_not_resent() {
    let env = TestEnv::with_account().await;
    on_post("/ad/create/")
        .respond_with(fixture_response("ad_create.json").set_delay(Duration::from_secs(5)))
        .mount(&env.server)
        .await;
    let out = env
        .cmd()
        .args([
            "--advertiser",
            ADV_US,
            "--timeout",
            "1",
            "ad",
            "create",
            "--adgroup",
            "1812350123459999",
            "--name",
            "CLI test ad",
            "--identity-id",
            "7300000000000000111",
            "--video-id",
            "v1",
            "--ad-text",
            "New spring colours",
            "--call-to-action",
            "shop_now",
        ])
        .assert()
        .code(5);
    let stderr = stderr_of(out.get_output());
    assert!(
        stderr.contains("may have been created") && stderr.contains("ad list"),
        "{stderr}"
    );
    let requests = env.requests_to("/ad/create/").await;
    assert_eq!(
        requests.len(),
        1,
        "a create without idempotency key is not re-sent"
    );
    assert_eq!(
        body_of(&requests[0]),
        json!({"adgroup_id": "1812350123459999", "advertiser_id": ADV_US, "creatives": [{
            "ad_name": "CLI test ad", "ad_text": "New spring colours", "call_to_action": "SHOP_NOW",
            "video_id": "v1", "identity_id": "7300000000000000111",
            "ad_format": "SINGLE_VIDEO", "identity_type": "CUSTOMIZED_USER"}]})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ad_update_patches_only_the_changed_creative_fields() {
    let env = TestEnv::with_account().await;
    let mut ad = fixture("ad_update.json")["data"]["creatives"][0].clone();
    ad["ad_text"] = json!("old text");
    on_get("/ad/get/")
        .respond_with(ok(
            json!({"list": [ad], "page_info": {"page": 1, "total_page": 1}}),
        ))
        .mount(&env.server)
        .await;
    on_post("/ad/update/")
        .respond_with(fixture_response("ad_update.json"))
        .mount(&env.server)
        .await;
    env.cmd()
        .args([
            "--advertiser",
            ADV_US,
            "ad",
            "update",
            "1812360987654321",
            "--ad-text",
            "Spring colours - 20% off",
        ])
        .assert()
        .success();
    let body = body_of(&env.requests_to("/ad/update/").await[0]);
    assert_eq!(
        body,
        json!({"advertiser_id": ADV_US, "adgroup_id": "1812350123456789", "patch_update": true,
               "creatives": [{"ad_id": "1812360987654321", "ad_text": "Spring colours - 20% off"}]})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn region_list_sends_placements_as_json_and_filters_by_country() {
    let env = TestEnv::with_account().await;
    on_get("/tool/region/")
        .respond_with(fixture_response("tool_region.json"))
        .mount(&env.server)
        .await;
    let out = env
        .cmd()
        .args([
            "--advertiser",
            ADV_US,
            "region",
            "list",
            "--placement",
            "PLACEMENT_TIKTOK",
            "--objective",
            "traffic",
            "--country",
            "us",
            "--level",
            "to_province",
        ])
        .assert()
        .success();
    assert_eq!(
        stdout_of(out.get_output()),
        "location_id,name,level,region_code,country_code,parent_id\n\
         6252001,United States,COUNTRY,US,US,0\n5332921,California,PROVINCE,US-CA,US,6252001\n"
    );
    let request = &env.requests_to("/tool/region/").await[0];
    assert_eq!(
        query_json(request, "placements"),
        json!(["PLACEMENT_TIKTOK"])
    );
    assert_eq!(query(request, "objective_type").as_deref(), Some("TRAFFIC"));
    assert_eq!(
        query(request, "level_range").as_deref(),
        Some("TO_PROVINCE")
    );
    env.cmd()
        .args([
            "--advertiser",
            ADV_US,
            "region",
            "list",
            "--objective",
            "MONEY",
        ])
        .assert()
        .code(2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_timed_out_campaign_create_is_retried_with_the_same_idempotency_key() {
    let env = TestEnv::with_account().await;
    on_post("/campaign/create/")
        .respond_with(fixture_response("campaign_create.json").set_delay(Duration::from_secs(5)))
        .up_to_n_times(1)
        .mount(&env.server)
        .await;
    on_post("/campaign/create/")
        .respond_with(fixture_response("campaign_create.json"))
        .mount(&env.server)
        .await;
    let out = env
        .cmd()
        .args([
            "--advertiser",
            ADV_US,
            "--timeout",
            "1",
            "campaign",
            "create",
            "--name",
            "x",
            "--objective",
            "TRAFFIC",
            "--budget",
            "50",
        ])
        .assert()
        .success();
    assert_eq!(stdout_of(out.get_output()), "1812345678909012\n");
    let keys: Vec<Value> = env
        .requests_to("/campaign/create/")
        .await
        .iter()
        .map(|r| body_of(r)["request_id"].clone())
        .collect();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0], keys[1], "both attempts carry one idempotency key");
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_fields_are_refused_before_any_request() {
    let env = TestEnv::with_account().await;
    let out = env
        .cmd()
        .args(["--advertiser", ADV_US, "campaign", "list", "--fields"])
        .arg("campaign_id,campaign_nme")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("\"campaign_nme\" (did you mean campaign_name?)"),
        "{}",
        stderr_of(&out)
    );
    assert!(env.requests_to("/campaign/get/").await.is_empty());
}
