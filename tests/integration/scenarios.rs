//! The same black-box scenarios against two servers that answer like TikTok: wiremock with
//! canned answers, and the embedded simulator (`tiktok-ads mock`). What passes against both is
//! behaviour of the tool, not of one test double.

use assert_cmd::Command;
use chrono::NaiveDate;
use serde_json::{Value, json};
use wiremock::Request;

use crate::support::*;

const SIM_ADVERTISER: &str = "7300000000000000001";

struct Harness {
    env: TestEnv,
    base: String,
    token: String,
    advertiser: &'static str,
    _simulator: Option<Simulator>,
}

impl Harness {
    async fn wiremock() -> Self {
        let env = TestEnv::new().await;
        on_get("/user/info/")
            .respond_with(fixture_response("user_info.json"))
            .mount(&env.server)
            .await;
        on_get("/advertiser/info/")
            .respond_with(fixture_response("advertiser_info.json"))
            .mount(&env.server)
            .await;
        on_get("/campaign/get/")
            .respond_with(fixture_response("campaign_get.json"))
            .mount(&env.server)
            .await;
        on_post("/campaign/create/")
            .respond_with(fixture_response("campaign_create.json"))
            .mount(&env.server)
            .await;
        on_get("/bc/get/")
            .respond_with(fixture_response("bc_get.json"))
            .mount(&env.server)
            .await;
        // Reports: one row per day of the window, and TikTok's span limits.
        on_get("/report/integrated/get/")
            .respond_with(|r: &Request| {
                let q = |k: &str| query(r, k).unwrap_or_default();
                let start: NaiveDate = q("start_date").parse().unwrap();
                let end: NaiveDate = q("end_date").parse().unwrap();
                let limit = if q("dimensions").contains("stat_time_hour") { 1 } else { 30 };
                if (end - start).num_days() + 1 > limit {
                    return api_error(40002, "time span too long", "req-span");
                }
                let list: Vec<Value> = start.iter_days().take_while(|d| *d <= end).map(|d| json!({
                    "dimensions": {"campaign_id": "1812345678901234", "stat_time_day": format!("{d} 00:00:00"),
                                   "stat_time_hour": format!("{d} 00:00:00")},
                    "metrics": {"spend": "1.00", "impressions": "10", "clicks": "1", "ctr": "10.00", "cpc": "1.00",
                                "cpm": "100.00", "conversion": "0", "cost_per_conversion": "-"}})).collect();
                let n = list.len();
                ok(json!({"list": list, "page_info": {"page": 1, "page_size": 1000, "total_number": n, "total_page": 1}}))
            })
            .mount(&env.server)
            .await;
        let base = env.server.uri();
        Self {
            env,
            base,
            token: "scenario-token-0123456789".into(),
            advertiser: ADV_US,
            _simulator: None,
        }
    }

    async fn simulator() -> Self {
        let env = TestEnv::new().await;
        let simulator = Simulator::start(&env, &[]);
        let base = simulator.url.clone();
        Self {
            env,
            base,
            token: simulator.token.clone(),
            advertiser: SIM_ADVERTISER,
            _simulator: Some(simulator),
        }
    }

    fn cmd(&self) -> Command {
        let mut cmd = self.env.cmd();
        cmd.env("TIKTOK_ADS_BASE_URL", &self.base)
            .env("TIKTOK_ACCESS_TOKEN", &self.token)
            .env("TIKTOK_ADVERTISER_ID", self.advertiser);
        cmd
    }
}

async fn token_is_valid(h: Harness) {
    let out = h.cmd().args(["auth", "status"]).assert().success();
    assert!(stdout_of(out.get_output()).contains("token_valid     true"));
}

async fn account_details(h: Harness) {
    let out = h
        .cmd()
        .args([
            "advertiser",
            "info",
            h.advertiser,
            "--fields",
            "advertiser_id,currency",
            "--format",
            "json",
        ])
        .assert()
        .success();
    let rows: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(rows[0]["advertiser_id"], json!(h.advertiser));
    assert_eq!(rows[0]["currency"], json!("USD"));
}

async fn campaigns_list_and_create(h: Harness) {
    let out = h.cmd().args(["campaign", "list"]).assert().success();
    let csv = stdout_of(out.get_output());
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("campaign_id,campaign_name,")
    );
    let rows: Vec<&str> = lines.collect();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| {
        r.split(',')
            .next()
            .unwrap()
            .chars()
            .all(|c| c.is_ascii_digit())
    }));
    let out = h
        .cmd()
        .args([
            "campaign",
            "create",
            "--name",
            "Scenario",
            "--objective",
            "TRAFFIC",
            "--budget",
            "100",
        ])
        .assert()
        .success();
    let id = stdout_of(out.get_output());
    assert!(
        !id.trim().is_empty() && id.trim().chars().all(|c| c.is_ascii_digit()),
        "{id}"
    );
}

async fn a_long_daily_report_is_split_into_allowed_windows(h: Harness) {
    let out = h
        .cmd()
        .args([
            "report",
            "run",
            "--start",
            "2025-01-01",
            "--end",
            "2025-03-01",
        ])
        .assert()
        .success();
    let csv = stdout_of(out.get_output());
    assert!(csv.starts_with("campaign_id,stat_time_day,spend,impressions,clicks,ctr,cpc,cpm,conversion,cost_per_conversion\n"));
    let days: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| &l.split(',').nth(1).unwrap()[..10])
        .collect();
    assert!(
        days.contains(&"2025-01-01")
            && days.contains(&"2025-01-31")
            && days.contains(&"2025-03-01"),
        "{csv}"
    );
    let mut sorted = days.clone();
    sorted.sort();
    assert_eq!(days.first(), sorted.first());
    assert_eq!(
        days.last(),
        sorted.last(),
        "windows are written in date order"
    );
}

async fn hourly_reports_go_one_day_at_a_time(h: Harness) {
    h.cmd()
        .args([
            "report",
            "run",
            "--by",
            "hour",
            "--start",
            "2025-01-01",
            "--end",
            "2025-01-02",
        ])
        .assert()
        .success();
}

async fn the_api_escape_hatch_pages(h: Harness) {
    let out = h
        .cmd()
        .args(["api", "GET", "/bc/get/", "-f", "page_size=50", "--paginate"])
        .assert()
        .success();
    let first: Value =
        serde_json::from_str(stdout_of(out.get_output()).lines().next().unwrap()).unwrap();
    assert!(first["bc_info"]["bc_id"].is_string(), "{first}");
}

macro_rules! both {
    ($($scenario:ident),* $(,)?) => {
        mod against_wiremock {
            $(#[tokio::test(flavor = "multi_thread")]
            async fn $scenario() { super::$scenario(super::Harness::wiremock().await).await })*
        }
        mod against_simulator {
            $(#[tokio::test(flavor = "multi_thread")]
            async fn $scenario() { super::$scenario(super::Harness::simulator().await).await })*
        }
    };
}

both!(
    token_is_valid,
    account_details,
    campaigns_list_and_create,
    a_long_daily_report_is_split_into_allowed_windows,
    hourly_reports_go_one_day_at_a_time,
    the_api_escape_hatch_pages,
);
