//! `bulk export|plan|apply|undo` black-box against the simulator (TikTok's budget rules, the
//! ad group quota, next-day budgets, faults): every kind of change and refusal planned, a
//! stale plan refused, a partial failure then a second apply doing only the rest, an undo
//! restoring the values before, nothing sent without --yes off a terminal.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::support::*;

/// `bulk export --level LEVEL` as rows of column → cell.
fn export(sim: &Simulator, env: &TestEnv, level: &str) -> Vec<BTreeMap<String, String>> {
    let out = sim
        .cmd(env)
        .args(["bulk", "export", "--level", level, "--format", "csv"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// Writes rows (in `columns` order) as the edited CSV.
fn write_csv(env: &TestEnv, name: &str, columns: &[&str], rows: &[Vec<&str>]) {
    let mut writer = csv::Writer::from_path(env.work_dir().join(name)).unwrap();
    writer.write_record(columns).unwrap();
    for row in rows {
        writer.write_record(row).unwrap();
    }
    writer.flush().unwrap();
}

fn bulk(sim: &Simulator, env: &TestEnv, args: &[&str]) -> std::process::Output {
    sim.cmd(env).arg("bulk").args(args).output().unwrap()
}

/// The amount a budget must reach: 105 % of what the entity spent today, rounded up, plus one.
fn above_spend(row: &BTreeMap<String, String>) -> String {
    let spent: f64 = row["spend_so_far"].parse().unwrap();
    format!("{}", (spent * 1.05).ceil() as u64 + 1)
}

fn results(out: &std::process::Output) -> BTreeMap<String, (String, String)> {
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    reader
        .deserialize::<BTreeMap<String, String>>()
        .map(|r| {
            let r = r.unwrap();
            (r["id"].clone(), (r["result"].clone(), r["detail"].clone()))
        })
        .collect()
}

fn posts_to(sim: &Simulator, path: &str) -> usize {
    sim.requests()
        .iter()
        .filter(|r| r["method"] == "POST" && r["path"] == path)
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plan_shows_every_change_and_refuses_what_tiktok_would() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &[]);
    let groups = export(&sim, &env, "adgroup");
    assert_eq!(groups.len(), 6, "{groups:?}");
    let id = |i: usize| groups[i]["adgroup_id"].as_str();
    let (g0, g1, g2, g3, g4, g5) = (id(0), id(1), id(2), id(3), id(4), id(5));
    // The campaign of g5 optimises its budget; the account has room for no more ad groups.
    let cbo_campaign = groups[5]["campaign_id"].clone();
    sim.control(
        "POST",
        "/_mock/change",
        &json!({"level": "campaign", "id": cbo_campaign, "fields": {"budget_optimize_on": true}})
            .to_string(),
    );
    change_status(&sim, g4, "DISABLE");
    sim.control(
        "POST",
        "/_mock/quota",
        &json!({"advertiser_id": SIM_ADVERTISER, "total": 5}).to_string(),
    );
    let enough = above_spend(&groups[0]);
    write_csv(
        &env,
        "edited.csv",
        &[
            "advertiser_id",
            "adgroup_id",
            "adgroup_name",
            "operation_status",
            "budget_mode",
            "budget",
            "scheduled_budget",
            "bid_price",
            "schedule_end_time",
        ],
        &[
            vec![
                SIM_ADVERTISER,
                g0,
                "Spring, renamed",
                "",
                "",
                &enough,
                "",
                "1.25",
                "2031-01-31 23:59:59",
            ],
            vec![SIM_ADVERTISER, g1, "", "", "", "21", "", "", ""],
            vec![
                SIM_ADVERTISER,
                g2,
                "",
                "",
                "BUDGET_MODE_TOTAL",
                "",
                "30.505",
                "",
                "",
            ],
            vec![
                SIM_ADVERTISER,
                g3,
                "",
                "PAUSE",
                "",
                "",
                "",
                "",
                "2001-01-01 00:00:00",
            ],
            vec![SIM_ADVERTISER, g4, "", "ENABLE", "", "", "", "", ""],
            vec![SIM_ADVERTISER, g5, "", "", "", "", "40", "", ""],
            vec![
                SIM_ADVERTISER,
                "1812999999999999999",
                "",
                "DISABLE",
                "",
                "",
                "",
                "",
                "",
            ],
            vec![SIM_ADVERTISER, g1, "", "DISABLE", "", "", "", "", ""],
        ],
    );
    let out = bulk(&sim, &env, &["plan", "edited.csv", "-o", "plan.json"]);
    assert_fails(&out, 6, "entities are refused");
    let text = stdout_of(&out);
    for expected in [
        "adgroup_name: Ad group 1.1 → Spring, renamed",
        &format!("budget: 20.0 → {enough}"),
        "bid_price: 0.0 → 1.25",
        "schedule_end_time: — → 2031-01-31 23:59:59",
        "more than one line (3, 9)",
        "below 105% of the",
        "budget_mode cannot change (BUDGET_MODE_DAY at TikTok, BUDGET_MODE_TOTAL in the file)",
        "more than 2 decimal places (USD)",
        "operation_status \"PAUSE\" is not ENABLE, DISABLE or DELETE",
        "schedule_end_time 2001-01-01 00:00:00 is in the past",
        "quota is full (5 of 5 in use)",
        "optimises the budget (CBO)",
        "no ad group 1812999999999999999 in ad account 7300000000000000001",
        "warning: budget moves",
        "plan: 4 changes to 1 entity in 1 ad account; 7 refused",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
    let plan: Value =
        serde_json::from_str(&std::fs::read_to_string(env.work_dir().join("plan.json")).unwrap())
            .unwrap();
    let entry = &plan["entries"][0];
    assert_eq!(
        entry["live"]["budget"],
        json!(20.0),
        "the plan keeps what it was made against"
    );
    let budget = entry["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["field"] == "budget")
        .unwrap();
    assert_eq!(
        budget["to"],
        json!(enough.parse::<u64>().unwrap()),
        "amounts are numbers"
    );
    assert!(
        sim.requests().iter().all(|r| r["method"] == "GET"),
        "a plan sends nothing"
    );

    let guarded = bulk(
        &sim,
        &env,
        &[
            "plan",
            "edited.csv",
            "--max-change",
            "50",
            "--max-budget",
            "60",
        ],
    );
    assert!(
        stdout_of(&guarded).contains("beyond --max-change 50%"),
        "{}",
        stdout_of(&guarded)
    );
    assert!(stdout_of(&guarded).contains("above --max-budget 60"));
}

fn change_status(sim: &Simulator, id: &str, status: &str) {
    sim.control(
        "POST",
        "/_mock/change",
        &json!({"level": "adgroup", "id": id, "fields": {"operation_status": status}}).to_string(),
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_refuses_stale_entities_then_a_second_run_does_only_what_is_left_and_undo_restores() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &[]);
    let before = export(&sim, &env, "adgroup");
    let id = |i: usize| before[i]["adgroup_id"].clone();
    let budgets: Vec<String> = before.iter().map(above_spend).collect();
    let columns = [
        "advertiser_id",
        "adgroup_id",
        "adgroup_name",
        "operation_status",
        "budget",
        "scheduled_budget",
    ];
    let rows: Vec<Vec<String>> = vec![
        vec![
            SIM_ADVERTISER.into(),
            id(0),
            "".into(),
            "".into(),
            budgets[0].clone(),
            "".into(),
        ],
        vec![
            SIM_ADVERTISER.into(),
            id(1),
            "Renamed 1.2".into(),
            "DISABLE".into(),
            "".into(),
            "".into(),
        ],
        vec![
            SIM_ADVERTISER.into(),
            id(2),
            "".into(),
            "".into(),
            "".into(),
            "25".into(),
        ],
        vec![
            SIM_ADVERTISER.into(),
            id(3),
            "".into(),
            "".into(),
            budgets[3].clone(),
            "".into(),
        ],
    ];
    let refs: Vec<Vec<&str>> = rows
        .iter()
        .map(|r| r.iter().map(String::as_str).collect())
        .collect();
    write_csv(&env, "edited.csv", &columns, &refs);
    let planned = bulk(&sim, &env, &["plan", "edited.csv", "-o", "plan.json"]);
    assert!(planned.status.success(), "{}", stderr_of(&planned));

    // Without a terminal and without --yes, nothing is sent.
    let asked = bulk(&sim, &env, &["apply", "plan.json"]);
    assert_fails(&asked, 2, "add --yes");
    let dry = bulk(&sim, &env, &["apply", "plan.json", "--dry-run"]);
    assert!(dry.status.success(), "{}", stderr_of(&dry));
    assert!(
        stdout_of(&dry).contains("plan: 5 changes to 4 entities"),
        "{}",
        stdout_of(&dry)
    );
    assert!(
        sim.requests().iter().all(|r| r["method"] == "GET"),
        "nothing sent"
    );

    // Someone changes id(3) in Ads Manager; the ad group update endpoint fails once.
    sim.control(
        "POST",
        "/_mock/change",
        &json!({"level": "adgroup", "id": id(3), "fields": {"adgroup_name": "changed elsewhere"}})
            .to_string(),
    );
    sim.control(
        "POST",
        "/_mock/faults",
        r#"{"server_error_next": 1, "endpoint": "/adgroup/update/"}"#,
    );
    let first = sim
        .cmd(&env)
        .args([
            "--max-retries",
            "0",
            "bulk",
            "apply",
            "plan.json",
            "--yes",
            "--format",
            "csv",
        ])
        .output()
        .unwrap();
    assert_eq!(first.status.code(), Some(6), "{}", stderr_of(&first));
    let outcome = results(&first);
    assert_eq!(outcome[&id(0)].0, "failed", "{outcome:?}");
    assert_eq!(outcome[&id(1)].0, "applied", "{outcome:?}");
    assert_eq!(outcome[&id(2)].0, "applied", "{outcome:?}");
    assert_eq!(outcome[&id(3)].0, "refused");
    assert!(
        outcome[&id(3)].1.contains("changed since the plan"),
        "{outcome:?}"
    );
    let stderr = stderr_of(&first);
    let journal = stderr
        .split("journal: ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .expect("the journal's path is printed")
        .to_string();
    let lines: Vec<Value> = std::fs::read_to_string(&journal)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let fields: Vec<(&str, &str)> = lines
        .iter()
        .map(|l| (l["id"].as_str().unwrap(), l["field"].as_str().unwrap()))
        .collect();
    assert_eq!(fields.len(), 3, "one line per confirmed change: {fields:?}");
    assert!(fields.contains(&(id(2).as_str(), "scheduled_budget")));
    let disabled = lines
        .iter()
        .find(|l| l["field"] == "operation_status")
        .unwrap();
    assert_eq!(
        (&disabled["before"], &disabled["after"]),
        (&json!("ENABLE"), &json!("DISABLE"))
    );

    let updates = posts_to(&sim, "/adgroup/update/");
    let second = bulk(
        &sim,
        &env,
        &["apply", "plan.json", "--yes", "--format", "csv"],
    );
    assert_eq!(
        second.status.code(),
        Some(6),
        "id(3) is still stale: {}",
        stderr_of(&second)
    );
    let outcome = results(&second);
    assert_eq!(outcome[&id(0)].0, "applied");
    assert_eq!(outcome[&id(1)].0, "unchanged");
    assert_eq!(outcome[&id(2)].0, "unchanged");
    assert_eq!(
        posts_to(&sim, "/adgroup/update/") - updates,
        1,
        "only what was left: the budget of id(0)"
    );
    assert_eq!(
        posts_to(&sim, "/adgroup/status/update/"),
        1,
        "the status went once"
    );

    // Undo the first run: name and status back; the next-day budget cannot be withdrawn.
    let undo = bulk(&sim, &env, &["undo", &journal, "--yes", "--format", "csv"]);
    let outcome = results(&undo);
    assert_eq!(outcome[&id(1)].0, "applied", "{}", stderr_of(&undo));
    assert_eq!(outcome[&id(2)].0, "refused");
    assert!(
        outcome[&id(2)]
            .1
            .contains("no way to withdraw a next-day budget"),
        "{outcome:?}"
    );
    let after = export(&sim, &env, "adgroup");
    let row = after.iter().find(|r| r["adgroup_id"] == id(1)).unwrap();
    assert_eq!(
        (
            row["adgroup_name"].as_str(),
            row["operation_status"].as_str()
        ),
        ("Ad group 1.2", "ENABLE")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_simulator_holds_budgets_to_tiktoks_rules_and_applies_next_day_budgets_at_midnight() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &[]);
    let groups = export(&sim, &env, "adgroup");
    let g0 = groups[0]["adgroup_id"].clone();
    let post = |body: Value| {
        let advertiser = body["advertiser_id"]
            .as_str()
            .unwrap_or(SIM_ADVERTISER)
            .to_string();
        std::fs::write(env.work_dir().join("body.json"), body.to_string()).unwrap();
        sim.cmd(&env)
            .args([
                "--advertiser",
                &advertiser,
                "api",
                "POST",
                "/adgroup/budget/update/",
                "--input",
                "body.json",
            ])
            .output()
            .unwrap()
    };
    let items: Vec<Value> = (0..21)
        .map(|_| json!({"adgroup_id": g0, "scheduled_budget": 30}))
        .collect();
    assert_fails(
        &post(json!({"advertiser_id": SIM_ADVERTISER, "scheduled_budget": items})),
        4,
        "at most 20 items",
    );
    assert_fails(
        &post(
            json!({"advertiser_id": SIM_ADVERTISER, "budget": [{"adgroup_id": g0, "budget": 500}]}),
        ),
        4,
        "lifetime budgets go in budget, daily ones in scheduled_budget",
    );
    let low = post(
        json!({"advertiser_id": SIM_ADVERTISER, "scheduled_budget": [{"adgroup_id": g0, "scheduled_budget": 19}]}),
    );
    assert_fails(&low, 4, "at least 20.00");
    let ok = post(
        json!({"advertiser_id": SIM_ADVERTISER, "scheduled_budget": [{"adgroup_id": g0, "scheduled_budget": 30}]}),
    );
    assert!(ok.status.success(), "{}", stderr_of(&ok));
    let row = |rows: &[BTreeMap<String, String>]| {
        rows.iter().find(|r| r["adgroup_id"] == g0).unwrap().clone()
    };
    let pending = row(&export(&sim, &env, "adgroup"));
    assert_eq!(
        (
            pending["budget"].as_str(),
            pending["scheduled_budget"].as_str()
        ),
        ("20.0", "30.0")
    );
    // A day later on the simulator's clock, the next-day budget is today's.
    sim.control("POST", "/_mock/clock", r#"{"advance_secs": 86400}"#);
    let next_day = row(&export(&sim, &env, "adgroup"));
    assert_eq!(
        (
            next_day["budget"].as_str(),
            next_day["scheduled_budget"].as_str()
        ),
        ("30.0", "0.0")
    );
    // The second account keeps Berlin's time, ahead of UTC: move the simulator's clock to 23:56
    // there (22:56 UTC in winter) and its budgets are locked, while New York's are not.
    let berlin = "7300000000000000002";
    let theirs = sim
        .cmd(&env)
        .args([
            "bulk",
            "export",
            "--level",
            "adgroup",
            "--advertiser",
            berlin,
            "--format",
            "csv",
        ])
        .output()
        .unwrap();
    let g_berlin = csv::Reader::from_reader(theirs.stdout.as_slice())
        .records()
        .next()
        .unwrap()
        .unwrap()[2]
        .to_string();
    let clock = sim.control("POST", "/_mock/clock", r#"{"advance_secs": 0}"#);
    let now =
        chrono::NaiveDateTime::parse_from_str(clock["now"].as_str().unwrap(), "%Y-%m-%d %H:%M:%S")
            .unwrap();
    let local = now
        .and_utc()
        .with_timezone(&chrono_tz::Europe::Berlin)
        .naive_local();
    let target = local.date().and_hms_opt(23, 56, 0).unwrap();
    let wait = (target - local).num_seconds().rem_euclid(86_400);
    sim.control(
        "POST",
        "/_mock/clock",
        &json!({"advance_secs": wait}).to_string(),
    );
    let locked = post(
        json!({"advertiser_id": berlin, "scheduled_budget": [{"adgroup_id": g_berlin, "scheduled_budget": 35}]}),
    );
    assert_fails(&locked, 4, "between 23:55 and 00:00");
    let new_york = post(
        json!({"advertiser_id": SIM_ADVERTISER, "scheduled_budget": [{"adgroup_id": g0, "scheduled_budget": 35}]}),
    );
    assert!(
        new_york.status.success(),
        "17:56 in New York: {}",
        stderr_of(&new_york)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn campaign_budgets_go_one_call_each_and_are_read_back() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &[]);
    let campaigns = export(&sim, &env, "campaign");
    assert_eq!(
        campaigns.len(),
        3,
        "deleted campaigns are not exported: {campaigns:?}"
    );
    let enough = above_spend(&campaigns[0]);
    let too_low = "51";
    write_csv(
        &env,
        "campaigns.csv",
        &["campaign_id", "budget"],
        &[
            vec![campaigns[0]["campaign_id"].as_str(), &enough],
            vec![campaigns[1]["campaign_id"].as_str(), too_low],
        ],
    );
    let out = bulk(
        &sim,
        &env,
        &["apply", "campaigns.csv", "--yes", "--format", "csv"],
    );
    assert_eq!(out.status.code(), Some(6), "{}", stderr_of(&out));
    let outcome = results(&out);
    assert_eq!(
        outcome[&campaigns[0]["campaign_id"]].0, "applied",
        "{outcome:?}"
    );
    assert_eq!(outcome[&campaigns[1]["campaign_id"]].0, "refused");
    assert_eq!(
        posts_to(&sim, "/campaign/update/"),
        1,
        "only the valid change is sent"
    );
    let after = export(&sim, &env, "campaign");
    assert_eq!(after[0]["budget"], enough);
    let narrow = sim
        .cmd(&env)
        .args([
            "bulk",
            "export",
            "--level",
            "campaign",
            "--columns",
            "budget",
            "--format",
            "csv",
        ])
        .output()
        .unwrap();
    assert_eq!(
        stdout_of(&narrow).lines().next(),
        Some("advertiser_id,campaign_id,budget"),
        "the IDs stay"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_larger_simulated_world_has_its_accounts_everywhere() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &["--accounts", "4", "--adgroups-per-campaign", "5"]);
    let assets = sim
        .cmd(&env)
        .args([
            "bc",
            "advertisers",
            "7000000000000000001",
            "--format",
            "csv",
        ])
        .output()
        .unwrap();
    assert!(assets.status.success(), "{}", stderr_of(&assets));
    assert_eq!(
        stdout_of(&assets).lines().count(),
        1 + 4,
        "{}",
        stdout_of(&assets)
    );
    let fourth = sim
        .cmd(&env)
        .args([
            "bulk",
            "export",
            "--level",
            "adgroup",
            "--advertiser",
            "7300000000000000004",
        ])
        .args(["--columns", "adgroup_name", "--format", "csv"])
        .output()
        .unwrap();
    assert!(fourth.status.success(), "{}", stderr_of(&fourth));
    assert_eq!(
        stdout_of(&fourth).lines().count(),
        1 + 3 * 5,
        "three live campaigns of five ad groups"
    );
}
