//! `api` (any endpoint) and `bc` (Business Center) against wiremock.

use serde_json::{Value, json};
use wiremock::matchers::{body_json, query_param};

use crate::support::*;

const BC: &str = "7000000000000000001";

#[tokio::test(flavor = "multi_thread")]
async fn api_get_sends_string_and_typed_fields_json_encoded() {
    let env = TestEnv::logged_in().await;
    on_get("/bc/get/")
        .respond_with(fixture_response("bc_get.json"))
        .mount(&env.server)
        .await;
    std::fs::write(
        env.work_dir().join("ids.json"),
        r#"["7301234567890123456"]"#,
    )
    .unwrap();
    let out = env
        .cmd()
        .args([
            "api",
            "GET",
            "/bc/get/",
            "-f",
            "page_size=50",
            "-f",
            "bc_id=0042",
            "-F",
            "page=2",
            "-F",
            r#"filtering={"keyword":"acme"}"#,
            "-F",
            "advertiser_ids=@ids.json",
        ])
        .assert()
        .success();
    let data: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(data, fixture("bc_get.json")["data"]);
    let r = &env.requests_to("/bc/get/").await[0];
    assert_eq!(query(r, "page_size").as_deref(), Some("50"));
    assert_eq!(
        query(r, "bc_id").as_deref(),
        Some("0042"),
        "-f keeps strings as they are"
    );
    assert_eq!(query(r, "page").as_deref(), Some("2"));
    assert_eq!(
        query(r, "filtering").as_deref(),
        Some(r#"{"keyword":"acme"}"#)
    );
    assert_eq!(
        query(r, "advertiser_ids").as_deref(),
        Some(r#"["7301234567890123456"]"#)
    );
    assert_eq!(r.headers.get("access-token").unwrap(), TOKEN);
}

#[tokio::test(flavor = "multi_thread")]
async fn api_post_merges_fields_over_the_input_file() {
    let env = TestEnv::logged_in().await;
    on_post("/campaign/update/")
        .and(body_json(
            json!({"advertiser_id": ADV_US, "campaign_id": "1812345678901234",
                              "campaign_name": "from file", "budget": 500}),
        ))
        .respond_with(fixture_response("campaign_update.json"))
        .expect(1)
        .mount(&env.server)
        .await;
    std::fs::write(
        env.work_dir().join("body.json"),
        format!(r#"{{"advertiser_id": "{ADV_US}", "campaign_id": "1812345678901234", "campaign_name": "from file", "budget": 100}}"#),
    )
    .unwrap();
    let out = env
        .cmd()
        .args([
            "api",
            "post",
            "/campaign/update/",
            "--input",
            "body.json",
            "-F",
            "budget=500",
            "--raw",
        ])
        .assert()
        .success();
    let raw = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&raw).unwrap(),
        fixture("campaign_update.json"),
        "--raw prints the envelope"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn api_paginate_emits_every_item() {
    let env = TestEnv::logged_in().await;
    for page in 1..=2u64 {
        on_get("/bc/asset/get/")
            .and(query_param("page", page.to_string()))
            .respond_with(ok(json!({"list": [{"asset_id": format!("{page}1"), "asset_name": "a"},
                                             {"asset_id": format!("{page}2"), "asset_name": "b"}],
                                    "page_info": {"page": page, "page_size": 2, "total_number": 4, "total_page": 2}})))
            .mount(&env.server)
            .await;
    }
    let out = env
        .cmd()
        .args([
            "api",
            "GET",
            "/bc/asset/get/",
            "-f",
            &format!("bc_id={BC}"),
            "-f",
            "asset_type=ADVERTISER",
            "--paginate",
        ])
        .assert()
        .success();
    let ids: Vec<String> = stdout_of(out.get_output())
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["asset_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(ids, ["11", "12", "21", "22"]);
    let out = env
        .cmd()
        .args([
            "--format",
            "csv",
            "api",
            "GET",
            "/bc/asset/get/",
            "--paginate",
        ])
        .assert()
        .success();
    assert_eq!(
        stdout_of(out.get_output()),
        "asset_id,asset_name\n11,a\n12,b\n21,a\n22,b\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn api_errors_exit_4_and_bad_paths_send_nothing() {
    let env = TestEnv::logged_in().await;
    on_get("/campaign/get/")
        .respond_with(fixture_response("error_param.json"))
        .mount(&env.server)
        .await;
    let out = env
        .cmd()
        .args(["api", "GET", "/campaign/get/"])
        .assert()
        .code(4);
    let stderr = stderr_of(out.get_output());
    assert!(
        stderr.contains("40002") && stderr.contains("request_id"),
        "{stderr}"
    );
    let before = env.server.received_requests().await.unwrap().len();
    for args in [
        ["api", "GET", "/campaign/get"],
        ["api", "GET", "campaign/get/"],
        ["api", "DELETE", "/campaign/get/"],
        ["api", "GET", "https://evil.example/open_api/v1.3/x/"],
    ] {
        env.cmd().args(args).assert().code(2);
    }
    assert_eq!(env.server.received_requests().await.unwrap().len(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn bc_list_and_advertisers_page_at_50() {
    let env = TestEnv::logged_in().await;
    on_get("/bc/get/")
        .respond_with(fixture_response("bc_get.json"))
        .mount(&env.server)
        .await;
    on_get("/bc/asset/get/")
        .respond_with(fixture_response("bc_asset_get.json"))
        .mount(&env.server)
        .await;
    let out = env.cmd().args(["bc", "list"]).assert().success();
    let csv = stdout_of(out.get_output());
    assert!(
        csv.starts_with("bc_id,name,company,currency,timezone,status,type,user_role\n"),
        "{csv}"
    );
    assert!(csv.lines().count() >= 2, "{csv}");
    assert_eq!(
        query(&env.requests_to("/bc/get/").await[0], "page_size").as_deref(),
        Some("50")
    );

    let out = env.cmd().args(["bc", "advertisers", BC]).assert().success();
    let csv = stdout_of(out.get_output());
    assert!(csv.starts_with("advertiser_id,advertiser_name,advertiser_status,advertiser_role,relation_type,relation_status\n"));
    let first_asset = fixture("bc_asset_get.json")["data"]["list"][0]["asset_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(csv.contains(&first_asset), "{csv}");
    let r = &env.requests_to("/bc/asset/get/").await[0];
    assert_eq!(query(r, "asset_type").as_deref(), Some("ADVERTISER"));
    assert_eq!(query(r, "bc_id").as_deref(), Some(BC));
    assert_eq!(query(r, "page_size").as_deref(), Some("50"));
    env.cmd()
        .args(["bc", "advertisers", "not-a-bc"])
        .assert()
        .code(2);
}

#[tokio::test(flavor = "multi_thread")]
async fn report_run_over_a_business_center() {
    let env = TestEnv::logged_in().await;
    on_get("/bc/asset/get/")
        .respond_with(fixture_response("bc_asset_get.json"))
        .mount(&env.server)
        .await;
    on_get("/advertiser/info/")
        .respond_with(fixture_response("advertiser_info.json"))
        .mount(&env.server)
        .await;
    on_get("/report/integrated/get/")
        .respond_with(ok(
            json!({"list": [], "page_info": {"page": 1, "total_number": 0, "total_page": 0}}),
        ))
        .mount(&env.server)
        .await;
    let out = env
        .cmd()
        .args([
            "report",
            "run",
            "--bc",
            BC,
            "--start",
            "2025-01-01",
            "--end",
            "2025-01-01",
            "--metrics",
            "spend",
        ])
        .assert()
        .success();
    assert_eq!(
        stdout_of(out.get_output()),
        "advertiser_id,campaign_id,stat_time_day,spend\n"
    );
    let assets: Vec<String> = fixture("bc_asset_get.json")["data"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["asset_id"].as_str().unwrap().to_string())
        .collect();
    let mut asked: Vec<String> = env
        .requests_to("/report/integrated/get/")
        .await
        .iter()
        .map(|r| query(r, "advertiser_id").unwrap())
        .collect();
    asked.sort();
    let mut expected = assets.clone();
    expected.sort();
    assert_eq!(asked, expected);
}
