//! `watch` and `review`, black-box against the simulator (whose statuses move: reviews end on
//! its clock, which the tests move forward; budgets run out and entities change "in Ads
//! Manager" on request) and wiremock: every kind of event once and in order, at least once
//! across a crash, once across two runs at the same time, codes, hooks, costs, the sandbox.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, Request, ResponseTemplate};

use crate::support::*;

/// The entities of a level in the simulator's first account (deleted ones not listed).
fn list(sim: &Simulator, env: &TestEnv, level: &str) -> Vec<Value> {
    let out = sim
        .cmd(env)
        .args([level, "list", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    serde_json::from_str(&stdout_of(&out)).unwrap()
}

fn id(entity: &Value, level: &str) -> String {
    entity[format!("{level}_id")].as_str().unwrap().to_string()
}

fn watch(sim: &Simulator, env: &TestEnv, extra: &[&str]) -> std::process::Output {
    sim.cmd(env)
        .args(["watch", "--once"])
        .args(extra)
        .output()
        .unwrap()
}

/// The events of an NDJSON output.
fn events(out: &std::process::Output) -> Vec<Value> {
    stdout_of(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// (level, id, event, field, bucket) of each event.
type Summary = (String, String, String, Value, Value);

fn summary(events: &[Value]) -> Vec<Summary> {
    events
        .iter()
        .map(|e| {
            (
                e["level"].as_str().unwrap().to_string(),
                e["id"].as_str().unwrap().to_string(),
                e["event"].as_str().unwrap().to_string(),
                e["field"].clone(),
                e["bucket"].clone(),
            )
        })
        .collect()
}

fn expect(
    level: &str,
    id: &str,
    event: &str,
    field: Option<&str>,
    bucket: Option<&str>,
) -> Summary {
    (
        level.into(),
        id.into(),
        event.into(),
        json!(field),
        json!(bucket),
    )
}

/// Events in the order `watch` reports them: level, then ID, then field.
fn in_order(mut expected: Vec<Summary>) -> Vec<Summary> {
    let level_rank = |l: &str| ["campaign", "adgroup", "ad"].iter().position(|x| *x == l);
    let field_rank = |f: &Value| {
        [
            "operation_status",
            "secondary_status",
            "name",
            "budget",
            "budget_mode",
            "bid_price",
            "schedule_start_time",
            "schedule_end_time",
        ]
        .iter()
        .position(|x| {
            f.as_str()
                .is_some_and(|f| f == *x || (*x == "name" && f.ends_with("_name")))
        })
    };
    expected
        .sort_by_key(|(level, id, _, field, _)| (level_rank(level), id.clone(), field_rank(field)));
    expected
}

fn change(sim: &Simulator, level: &str, id: &str, fields: Value) {
    let answer = sim.control(
        "POST",
        "/_mock/change",
        &json!({"level": level, "id": id, "fields": fields}).to_string(),
    );
    assert!(answer.get("error").is_none(), "{answer}");
}

/// A new ad in `adgroup` (in review, as TikTok puts every new ad).
fn create_ad(sim: &Simulator, env: &TestEnv, adgroup: &str, name: &str) -> String {
    let body = json!({
        "advertiser_id": SIM_ADVERTISER, "adgroup_id": adgroup,
        "creatives": [{
            "ad_name": name, "ad_format": "SINGLE_VIDEO",
            "video_id": "v10033g50000demo0000000000000001", "identity_type": "CUSTOMIZED_USER",
            "identity_id": "7300000000000000111", "ad_text": "Run twice as fast",
            "call_to_action": "SHOP_NOW", "landing_page_url": "https://shop.example.com/new"
        }]
    });
    std::fs::write(env.work_dir().join("ad.json"), body.to_string()).unwrap();
    let out = sim
        .cmd(env)
        .args(["api", "POST", "/ad/create/", "--input", "ad.json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let answer: Value = serde_json::from_str(&stdout_of(&out)).unwrap();
    answer["ad_ids"][0].as_str().unwrap().to_string()
}

/// The simulator's first account after a baseline was recorded, with ads that stay in
/// review until its clock is moved.
async fn baselined() -> (TestEnv, Simulator) {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &["--ad-review-secs", "3600"]);
    let first = watch(&sim, &env, &[]);
    assert!(first.status.success(), "{}", stderr_of(&first));
    assert_eq!(
        stdout_of(&first),
        "",
        "the first run reports no entity as new"
    );
    assert!(
        stderr_of(&first)
            .contains("first run, baseline recorded (4 campaigns, 7 ad groups, 13 ads)"),
        "{}",
        stderr_of(&first)
    );
    (env, sim)
}

#[tokio::test(flavor = "multi_thread")]
async fn every_kind_of_change_is_one_event_in_order_and_none_is_reported_twice() {
    let (env, sim) = baselined().await;
    let campaigns = list(&sim, &env, "campaign");
    let adgroups = list(&sim, &env, "adgroup");
    let ads = list(&sim, &env, "ad");
    let campaign = id(&campaigns[0], "campaign");
    let (g0, g1) = (id(&adgroups[0], "adgroup"), id(&adgroups[1], "adgroup"));
    let outside: Vec<String> = ads
        .iter()
        .filter(|a| a["adgroup_id"] != g1.as_str())
        .map(|a| id(a, "ad"))
        .collect();
    let in_g1: Vec<String> = ads
        .iter()
        .filter(|a| a["adgroup_id"] == g1.as_str())
        .map(|a| id(a, "ad"))
        .collect();
    let (paused, deleted) = (outside[0].clone(), outside[1].clone());

    // Round 1: edits "in Ads Manager", an ad group out of budget, a new ad in review.
    change(
        &sim,
        "campaign",
        &campaign,
        json!({"campaign_name": "Spring, renamed"}),
    );
    change(
        &sim,
        "adgroup",
        &g0,
        json!({"budget": 35.0, "bid_price": 1.5, "schedule_end_time": "2027-01-31 23:59:59"}),
    );
    change(&sim, "ad", &paused, json!({"operation_status": "DISABLE"}));
    sim.control(
        "POST",
        "/_mock/budget",
        &json!({"adgroup_id": g1, "spent": true}).to_string(),
    );
    let new_ad = create_ad(&sim, &env, &g0, "launch");
    let round = watch(&sim, &env, &[]);
    assert!(round.status.success(), "{}", stderr_of(&round));
    let mut expected = vec![
        expect("campaign", &campaign, "name", Some("campaign_name"), None),
        expect("adgroup", &g0, "budget", Some("budget"), None),
        expect("adgroup", &g0, "bid", Some("bid_price"), None),
        expect("adgroup", &g0, "schedule", Some("schedule_end_time"), None),
        expect(
            "adgroup",
            &g1,
            "secondary_status",
            Some("secondary_status"),
            Some("budget"),
        ),
        expect(
            "ad",
            &paused,
            "operation_status",
            Some("operation_status"),
            None,
        ),
        expect(
            "ad",
            &paused,
            "secondary_status",
            Some("secondary_status"),
            Some("paused"),
        ),
        expect("ad", &new_ad, "appeared", None, Some("in_review")),
    ];
    for ad in &in_g1 {
        expected.push(expect(
            "ad",
            ad,
            "secondary_status",
            Some("secondary_status"),
            Some("budget"),
        ));
    }
    let seen = events(&round);
    assert_eq!(summary(&seen), in_order(expected));
    let budget = seen.iter().find(|e| e["event"] == "budget").unwrap();
    assert_eq!(
        (&budget["from"], &budget["to"]),
        (&json!(20.0), &json!(35.0))
    );
    assert_eq!(seen[0]["name"], "Spring, renamed");
    assert_eq!(seen[0]["advertiser_id"], SIM_ADVERTISER);
    for key in [
        "time",
        "advertiser_id",
        "level",
        "id",
        "name",
        "event",
        "field",
        "from",
        "to",
        "bucket",
        "reasons",
    ] {
        assert!(
            seen[0].get(key).is_some(),
            "every event has {key}: {}",
            seen[0]
        );
    }

    // Round 2: the review ends (the simulator's clock moves an hour) with a rejection; an ad
    // is deleted.
    sim.control(
        "POST",
        "/_mock/review",
        &json!({"ad_ids": [new_ad], "outcome": "reject", "reasons": ["Exaggerated claims"],
                "suggestion": "Remove the claim and resubmit."})
        .to_string(),
    );
    change(&sim, "ad", &deleted, json!({"operation_status": "DELETE"}));
    let still = watch(&sim, &env, &[]);
    assert_eq!(
        summary(&events(&still)),
        in_order(vec![
            expect(
                "ad",
                &deleted,
                "operation_status",
                Some("operation_status"),
                None
            ),
            expect(
                "ad",
                &deleted,
                "secondary_status",
                Some("secondary_status"),
                Some("deleted")
            ),
        ]),
        "the review has not ended yet: the simulator's clock has not moved"
    );
    sim.control("POST", "/_mock/clock", r#"{"advance_secs": 3600}"#);
    let round = watch(&sim, &env, &[]);
    let seen = events(&round);
    assert_eq!(
        summary(&seen),
        vec![expect(
            "ad",
            &new_ad,
            "secondary_status",
            Some("secondary_status"),
            Some("rejected")
        )]
    );
    assert_eq!(seen[0]["from"], "AD_STATUS_AUDIT");
    assert_eq!(seen[0]["to"], "AD_STATUS_AUDIT_DENY");
    let reasons = &seen[0]["reasons"];
    assert_eq!(reasons["review_status"], "UNAVAILABLE");
    assert_eq!(
        reasons["reject_info"][0]["reasons"],
        json!(["Exaggerated claims"])
    );
    assert_eq!(
        reasons["reject_info"][0]["suggestion"],
        "Remove the claim and resubmit."
    );
    let review_calls: Vec<Value> = sim
        .requests()
        .into_iter()
        .filter(|r| r["path"] == "/ad/review_info/")
        .collect();
    assert_eq!(
        review_calls.len(),
        1,
        "review info only for the ad that moved"
    );
    assert_eq!(
        review_calls[0]["query"]["ad_ids"],
        json!([new_ad]).to_string()
    );

    // Round 3: nothing changed, nothing said.
    let quiet = watch(&sim, &env, &[]);
    assert!(quiet.status.success(), "{}", stderr_of(&quiet));
    assert_eq!(stdout_of(&quiet), "");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crash_after_printing_repeats_those_events_next_run_and_only_those() {
    let (env, sim) = baselined().await;
    let ads = list(&sim, &env, "ad");
    let (a, b) = (id(&ads[0], "ad"), id(&ads[1], "ad"));
    change(&sim, "ad", &a, json!({"ad_name": "renamed a"}));
    change(&sim, "ad", &b, json!({"ad_name": "renamed b"}));
    // The hook kills the watch after the events are out and before the snapshot is saved.
    let crashed = watch(&sim, &env, &["--exec", "kill -9 $PPID"]);
    assert_eq!(
        crashed.status.code(),
        None,
        "killed: {}",
        stderr_of(&crashed)
    );
    let printed = summary(&events(&crashed));
    assert_eq!(printed.len(), 2, "{printed:?}");
    let again = watch(&sim, &env, &[]);
    assert!(again.status.success(), "{}", stderr_of(&again));
    assert_eq!(
        summary(&events(&again)),
        printed,
        "the same events, once more"
    );
    assert_eq!(stdout_of(&watch(&sim, &env, &[])), "", "then saved");
}

#[tokio::test(flavor = "multi_thread")]
async fn two_runs_at_the_same_time_never_report_the_same_event() {
    let (env, sim) = baselined().await;
    let campaigns = list(&sim, &env, "campaign");
    for (i, c) in campaigns.iter().enumerate() {
        change(
            &sim,
            "campaign",
            &id(c, "campaign"),
            json!({"campaign_name": format!("c{i}")}),
        );
    }
    let spawn = || {
        sim.std_cmd(&env)
            .args(["watch", "--once"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (first, second) = (spawn(), spawn());
    let outputs = [
        first.wait_with_output().unwrap(),
        second.wait_with_output().unwrap(),
    ];
    let mut all: Vec<String> = Vec::new();
    for out in &outputs {
        assert!(out.status.success(), "{}", stderr_of(out));
        all.extend(summary(&events(out)).iter().map(|s| format!("{s:?}")));
    }
    all.sort();
    let mut unique = all.clone();
    unique.dedup();
    assert_eq!(all, unique, "no event twice");
    assert_eq!(all.len(), campaigns.len(), "and none lost");
}

#[tokio::test(flavor = "multi_thread")]
async fn exit_on_gives_its_own_code_only_when_a_named_event_happened() {
    let (env, sim) = baselined().await;
    let ads = list(&sim, &env, "ad");
    let unknown = watch(&sim, &env, &["--exit-on", "rejection"]);
    assert_fails(&unknown, 2, "neither a bucket");
    let to_file = watch(&sim, &env, &["-o", "events.csv"]);
    assert_fails(&to_file, 2, "append them with `>> events.ndjson`");
    let csv = watch(&sim, &env, &["--format", "csv"]);
    assert_fails(&csv, 2, "not CSV");
    change(
        &sim,
        "ad",
        &id(&ads[0], "ad"),
        json!({"operation_status": "DISABLE"}),
    );
    let not_named = watch(&sim, &env, &["--exit-on", "rejected,budget,deleted"]);
    assert_eq!(
        not_named.status.code(),
        Some(0),
        "{}",
        stderr_of(&not_named)
    );
    assert_eq!(events(&not_named).len(), 2, "paused: reported, not named");
    change(
        &sim,
        "ad",
        &id(&ads[1], "ad"),
        json!({"operation_status": "DELETE"}),
    );
    let named = watch(&sim, &env, &["--exit-on", "rejected,budget,deleted"]);
    assert_eq!(named.status.code(), Some(8), "{}", stderr_of(&named));
    assert!(stderr_of(&named).contains("1 event matched --exit-on rejected,budget,deleted"));
    assert!(
        !stderr_of(&named).contains("error"),
        "{}",
        stderr_of(&named)
    );
    change(&sim, "ad", &id(&ads[2], "ad"), json!({"ad_name": "x"}));
    let by_kind = watch(&sim, &env, &["--exit-on", "name"]);
    assert_eq!(by_kind.status.code(), Some(8), "an event kind names it too");
}

#[tokio::test(flavor = "multi_thread")]
async fn hooks_get_each_event_as_json_without_secrets_and_a_failing_one_is_not_fatal() {
    let (env, sim) = baselined().await;
    let campaigns = list(&sim, &env, "campaign");
    change(
        &sim,
        "campaign",
        &id(&campaigns[0], "campaign"),
        json!({"campaign_name": "one"}),
    );
    change(
        &sim,
        "campaign",
        &id(&campaigns[1], "campaign"),
        json!({"campaign_name": "two"}),
    );
    let out = sim
        .cmd(&env)
        .env("TIKTOK_APP_SECRET", &sim.app_secret)
        .env("PGPASSWORD", "pg-password-for-the-hook-test")
        .args([
            "watch",
            "--once",
            "--exec",
            "cat >> hooked.ndjson; env >> hook-env.txt",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let hooked = std::fs::read_to_string(env.work_dir().join("hooked.ndjson")).unwrap();
    assert_eq!(
        hooked,
        stdout_of(&out),
        "one JSON line per event, as printed"
    );
    let environment = std::fs::read_to_string(env.work_dir().join("hook-env.txt")).unwrap();
    assert!(!environment.contains(&sim.token), "no token in a hook");
    assert!(
        !environment.contains(&sim.app_secret),
        "no app secret in a hook"
    );
    assert!(!environment.contains("TIKTOK_ACCESS_TOKEN"));
    assert!(
        !environment.contains("pg-password-for-the-hook-test"),
        "no database password in a hook"
    );
    assert!(
        environment.contains("TIKTOK_ADS_EVENT=name"),
        "{environment}"
    );

    change(
        &sim,
        "campaign",
        &id(&campaigns[2], "campaign"),
        json!({"campaign_name": "three"}),
    );
    let failing = watch(&sim, &env, &["--exec", "echo hook says no >&2; exit 3"]);
    assert!(failing.status.success(), "{}", stderr_of(&failing));
    let stderr = stderr_of(&failing);
    assert!(stderr.contains("hook says no"), "{stderr}");
    assert!(stderr.contains("failed: exit status: 3"), "{stderr}");
    assert_eq!(events(&failing).len(), 1);
    assert_eq!(
        stdout_of(&watch(&sim, &env, &[])),
        "",
        "saved despite the hook"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn deleted_entities_are_reported_as_deleted_not_as_vanished() {
    let (env, sim) = baselined().await;
    let campaigns = list(&sim, &env, "campaign");
    let campaign = id(&campaigns[0], "campaign");
    let out = sim
        .cmd(&env)
        .args(["campaign", "delete", &campaign, "--yes"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let seen = events(&watch(&sim, &env, &[]));
    assert!(seen.iter().all(|e| e["event"] != "removed"), "{seen:?}");
    let deleted: Vec<&Value> = seen.iter().filter(|e| e["bucket"] == "deleted").collect();
    // The campaign, its 2 ad groups and their 4 ads.
    assert_eq!(deleted.len(), 7, "{seen:?}");
    assert!(
        deleted
            .iter()
            .any(|e| e["level"] == "campaign" && e["id"] == campaign.as_str())
    );
}

/// A list endpoint with `total` entities per level and account, 1,000 a page.
fn big_account_lists(total: usize) -> impl Fn(&Request) -> ResponseTemplate {
    move |request: &Request| {
        let query: BTreeMap<String, String> = request.url.query_pairs().into_owned().collect();
        let page: usize = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
        let size: usize = query
            .get("page_size")
            .and_then(|p| p.parse().ok())
            .unwrap_or(10);
        let level = request
            .url
            .path()
            .split('/')
            .nth(3)
            .unwrap_or("ad")
            .to_string();
        let advertiser = query.get("advertiser_id").cloned().unwrap_or_default();
        let start = (page - 1) * size;
        let list: Vec<Value> = (start..total.min(start + size))
            .map(|i| {
                json!({
                    format!("{level}_id"): format!("{}{i:06}", &advertiser[..10]),
                    format!("{level}_name"): format!("{level} {i}"),
                    "operation_status": "ENABLE",
                    "secondary_status": "AD_STATUS_DELIVERY_OK",
                })
            })
            .collect();
        ok(json!({"list": list, "page_info": {
            "page": page, "page_size": size, "total_number": total,
            "total_page": total.div_ceil(size)
        }}))
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_round_costs_one_call_per_thousand_entities_per_level_and_account() {
    let env = TestEnv::new().await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/open_api/v1\.3/(campaign|adgroup|ad)/get/$"))
        .respond_with(big_account_lists(2_500))
        .mount(&env.server)
        .await;
    let accounts = "7300000000000000001,7300000000000000002,7300000000000000003";
    let run = || {
        env.cmd()
            .env("TIKTOK_ACCESS_TOKEN", TOKEN)
            .args(["watch", "--once", "--advertiser", accounts])
            .output()
            .unwrap()
    };
    let first = run();
    assert!(first.status.success(), "{}", stderr_of(&first));
    assert!(
        stderr_of(&first).contains("at least 9 requests a round"),
        "{}",
        stderr_of(&first)
    );
    let second = run();
    assert_eq!(stdout_of(&second), "");
    let requests = env.server.received_requests().await.unwrap();
    let mut per_path: BTreeMap<String, usize> = BTreeMap::new();
    for request in &requests {
        *per_path.entry(request.url.path().to_string()).or_default() += 1;
        let query: BTreeMap<String, String> = request.url.query_pairs().into_owned().collect();
        assert_eq!(query["page_size"], "1000");
        assert!(
            query["filtering"].contains("STATUS_ALL"),
            "{}",
            query["filtering"]
        );
        let fields: Vec<String> = serde_json::from_str(&query["fields"]).unwrap();
        assert!(fields.len() <= 12, "only the fields compared: {fields:?}");
    }
    // ⌈2,500/1,000⌉ = 3 calls per level and account, 3 accounts, 2 rounds.
    for level in ["campaign", "adgroup", "ad"] {
        assert_eq!(
            per_path[&format!("/open_api/v1.3/{level}/get/")],
            3 * 3 * 2,
            "{level}"
        );
    }
    assert_eq!(requests.len(), 54, "nothing else");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interval_the_quota_cannot_meet_is_refused_with_the_shortest_that_fits() {
    let env = TestEnv::new().await;
    let accounts = "7300000000000000001,7300000000000000002,7300000000000000003";
    // 2 a second (120 a minute): a watch keeps to half, 1 a second; 3 accounts need 3 s.
    let out = env
        .cmd()
        .env("TIKTOK_ACCESS_TOKEN", TOKEN)
        .args([
            "watch",
            "--rate",
            "2",
            "--interval",
            "2s",
            "--advertiser",
            accounts,
        ])
        .output()
        .unwrap();
    assert_fails(&out, 2, "the shortest interval that fits is 3s");
    assert!(
        stderr_of(&out).contains("at least 3 requests on each list endpoint"),
        "{}",
        stderr_of(&out)
    );
    assert!(
        env.server.received_requests().await.unwrap().is_empty(),
        "refused before any call"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sandbox_says_once_that_only_on_off_changes_can_be_seen() {
    let env = TestEnv::new().await;
    // The sandbox sends no secondary_status.
    Mock::given(method("GET"))
        .and(path_regex(r"^/open_api/v1\.3/(campaign|adgroup|ad)/get/$"))
        .respond_with(|request: &Request| {
            let level = request.url.path().split('/').nth(3).unwrap_or("ad").to_string();
            ok(json!({"list": [{format!("{level}_id"): "1", "operation_status": "ENABLE"}],
                      "page_info": {"page": 1, "page_size": 1000, "total_number": 1, "total_page": 1}}))
        })
        .mount(&env.server)
        .await;
    let run = |extra: &[&str]| {
        env.cmd()
            .env("TIKTOK_ACCESS_TOKEN", TOKEN)
            .args(["--sandbox", "watch", "--advertiser", "7300000000000000001"])
            .args(extra)
            .output()
            .unwrap()
    };
    let once = run(&["--once"]);
    assert!(once.status.success(), "{}", stderr_of(&once));
    let stderr = stderr_of(&once);
    assert_eq!(
        stderr.matches("only changes of on/off").count(),
        1,
        "{stderr}"
    );
    // 1,000 requests a day per endpoint in the sandbox, half of it for a watch.
    let every_minute = run(&[]);
    assert_fails(
        &every_minute,
        2,
        "the shortest interval that fits is 2m 53s",
    );
}

/// Lines of a child's stream, as they come.
fn lines_of(stream: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stream)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits for a line containing `text` (a guard against a hung test, not a timing check).
fn wait_for(lines: &mpsc::Receiver<String>, text: &str) -> String {
    loop {
        match lines.recv_timeout(Duration::from_secs(60)) {
            Ok(line) if line.contains(text) => return line,
            Ok(_) => {}
            Err(e) => panic!("no line with {text:?}: {e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_continuous_watch_rides_out_failures_and_ends_with_the_auth_code_when_revoked() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &[]);
    let mut child = sim
        .std_cmd(&env)
        .args(["watch", "--interval", "1s", "--max-retries", "0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let out = lines_of(child.stdout.take().unwrap());
    let err = lines_of(child.stderr.take().unwrap());
    wait_for(&err, "baseline recorded");
    let campaigns = list(&sim, &env, "campaign");
    change(
        &sim,
        "campaign",
        &id(&campaigns[0], "campaign"),
        json!({"campaign_name": "first"}),
    );
    let line = wait_for(&out, "\"event\":\"name\"");
    assert!(line.contains("\"to\":\"first\""), "{line}");
    sim.control("POST", "/_mock/faults", r#"{"server_error_next": 3}"#);
    wait_for(&err, "tried again next round");
    change(
        &sim,
        "campaign",
        &id(&campaigns[1], "campaign"),
        json!({"campaign_name": "second"}),
    );
    let line = wait_for(&out, "\"to\":\"second\"");
    assert!(line.contains("\"event\":\"name\""), "{line}");
    sim.control(
        "POST",
        "/_mock/revoke",
        &json!({"access_token": sim.token}).to_string(),
    );
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(3), "a revoked token ends the watch");
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_into_sqlite_keeps_the_snapshot_and_every_event_in_tables() {
    let (env, sim) = baselined().await;
    let db = env.work_dir().join("watch.db");
    let into = format!("sqlite:{}", db.display());
    let first = watch(&sim, &env, &["--into", &into]);
    assert!(first.status.success(), "{}", stderr_of(&first));
    assert!(
        stderr_of(&first).contains("baseline recorded"),
        "a database starts its own baseline"
    );
    let campaigns = list(&sim, &env, "campaign");
    let campaign = id(&campaigns[0], "campaign");
    change(
        &sim,
        "campaign",
        &campaign,
        json!({"operation_status": "DISABLE"}),
    );
    let round = watch(&sim, &env, &["--into", &into]);
    assert_eq!(events(&round).len(), 2);
    assert_eq!(stdout_of(&watch(&sim, &env, &["--into", &into])), "");
    let db = rusqlite::Connection::open(&db).unwrap();
    let events: Vec<(String, String, Option<String>, Option<String>)> = db
        .prepare("SELECT id, event, to_value, bucket FROM entity_events ORDER BY rowid")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        events,
        vec![
            (
                campaign.clone(),
                "operation_status".into(),
                Some("DISABLE".into()),
                None
            ),
            (
                campaign.clone(),
                "secondary_status".into(),
                Some("CAMPAIGN_STATUS_DISABLE".into()),
                Some("paused".into())
            ),
        ]
    );
    let (count, status): (i64, String) = db
        .query_row(
            "SELECT (SELECT count(*) FROM entity_snapshot WHERE advertiser_id = ?1), \
             (SELECT secondary_status FROM entity_snapshot WHERE id = ?2)",
            [SIM_ADVERTISER, campaign.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(count, 4 + 7 + 13);
    assert_eq!(status, "CAMPAIGN_STATUS_DISABLE");
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_into_postgres_keeps_the_snapshot_and_every_event_in_tables() {
    let (env, sim) = baselined().await;
    let Some(server) = crate::pg::PgServer::start() else {
        return;
    };
    let url = server.database("watching");
    let run = || {
        sim.cmd(&env)
            .env("PGPASSWORD", &server.password)
            .args(["watch", "--once", "--into", &url])
            .output()
            .unwrap()
    };
    let first = run();
    assert!(
        stderr_of(&first).contains("baseline recorded"),
        "{}",
        stderr_of(&first)
    );
    let ads = list(&sim, &env, "ad");
    let ad = id(&ads[0], "ad");
    change(&sim, "ad", &ad, json!({"ad_name": "renamed"}));
    assert_eq!(events(&run()).len(), 1);
    assert_eq!(stdout_of(&run()), "");
    let config = server.config("watching");
    let rows = std::thread::spawn(move || {
        let mut client = config.connect(postgres::NoTls).unwrap();
        let events: Vec<(String, String)> = client
            .query("SELECT id, to_value FROM entity_events", &[])
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        let snapshot: i64 = client
            .query_one("SELECT count(*) FROM entity_snapshot", &[])
            .unwrap()
            .get(0);
        (events, snapshot)
    })
    .join()
    .unwrap();
    assert_eq!(rows.0, vec![(ad, "renamed".to_string())]);
    assert_eq!(rows.1, 4 + 7 + 13);
}

#[tokio::test(flavor = "multi_thread")]
async fn review_shows_reasons_of_ads_in_review_rejected_or_partly_approved() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &["--ad-review-secs", "3600"]);
    let ads = list(&sim, &env, "ad");
    let adgroups = list(&sim, &env, "adgroup");
    let (rejected, partly, fine) = (id(&ads[0], "ad"), id(&ads[1], "ad"), id(&ads[2], "ad"));
    sim.control(
        "POST",
        "/_mock/review",
        &json!({"ad_ids": [rejected], "outcome": "reject", "reasons": ["Exaggerated claims"],
                "suggestion": "Remove the claim.", "locations": ["US"]})
        .to_string(),
    );
    sim.control(
        "POST",
        "/_mock/review",
        &json!({"ad_ids": [partly], "outcome": "partial", "reasons": ["Alcohol shown"],
                "placements": ["PLACEMENT_PANGLE"]})
        .to_string(),
    );
    let new_ad = create_ad(&sim, &env, &id(&adgroups[0], "adgroup"), "fresh");
    let review = |extra: &[&str]| {
        let out = sim
            .cmd(&env)
            .args(["review", "--format", "json"])
            .args(extra)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr_of(&out));
        serde_json::from_str::<Vec<Value>>(&stdout_of(&out)).unwrap()
    };
    let rows = review(&[]);
    let of = |id: &str| -> Vec<&Value> { rows.iter().filter(|r| r["id"] == id).collect() };
    assert_eq!(of(&rejected).len(), 2, "the text and the video: {rows:?}");
    assert_eq!(of(&rejected)[0]["decision"], "rejected");
    assert_eq!(of(&rejected)[0]["content"], "Spring colours are here");
    assert_eq!(of(&rejected)[0]["reasons"], "Exaggerated claims");
    assert_eq!(of(&rejected)[0]["suggestion"], "Remove the claim.");
    assert_eq!(of(&rejected)[0]["forbidden_locations"], "US");
    assert_eq!(of(&rejected)[1]["content_type"], "MODE_VIDEO");
    assert_eq!(of(&partly)[0]["decision"], "partly_approved");
    assert_eq!(of(&partly)[0]["forbidden_placements"], "PLACEMENT_PANGLE");
    let fresh = of(&new_ad);
    assert_eq!(fresh.len(), 1);
    assert_eq!(
        (&fresh[0]["review_status"], &fresh[0]["decision"]),
        (&json!("ALL_AVAILABLE"), &json!("in_review")),
        "TikTok says ALL_AVAILABLE before anyone looked: the status decides"
    );
    assert!(
        of(&fine).is_empty(),
        "delivering ads are not listed without IDs"
    );
    let asked: Vec<String> = sim
        .requests()
        .iter()
        .filter(|r| r["path"] == "/ad/review_info/")
        .map(|r| r["query"]["ad_ids"].as_str().unwrap().to_string())
        .collect();
    let mut expected = vec![rejected.clone(), partly.clone(), new_ad.clone()];
    expected.sort();
    assert_eq!(
        asked,
        vec![json!(expected).to_string()],
        "review info only for those"
    );

    let only_rejected = review(&["--rejected"]);
    assert!(only_rejected.iter().all(|r| r["id"] != new_ad.as_str()));
    assert_eq!(only_rejected.len(), 3);
    let given = review(&[&fine]);
    assert_eq!(given.len(), 1);
    assert_eq!(given[0]["decision"], "approved");

    let group = id(&adgroups[1], "adgroup");
    sim.control(
        "POST",
        "/_mock/review",
        &json!({"adgroup_ids": [group], "outcome": "reject", "reasons": ["Targeting minors"]})
            .to_string(),
    );
    let groups = review(&["--level", "adgroup"]);
    assert_eq!(groups.len(), 1, "{groups:?}");
    assert_eq!(groups[0]["id"], group.as_str());
    assert_eq!(groups[0]["decision"], "rejected");
    assert_eq!(groups[0]["reasons"], "Targeting minors");
    let missing = sim
        .cmd(&env)
        .args(["review", "--format", "json", "1812999999999999999"])
        .output()
        .unwrap();
    assert_fails(
        &missing,
        6,
        "not found in ad account 7300000000000000001: 1812999999999999999",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_simulators_review_info_answers_in_both_shapes_like_its_statuses() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &["--ad-review-secs", "3600"]);
    let ads = list(&sim, &env, "ad");
    let (ad, group) = (
        id(&ads[0], "ad"),
        ads[0]["adgroup_id"].as_str().unwrap().to_string(),
    );
    let modified = ads[0]["modify_time"].clone();
    sim.control(
        "POST",
        "/_mock/review",
        &json!({"ad_ids": [ad], "outcome": "reject", "reasons": ["Misleading"]}).to_string(),
    );
    let api = |path: &str, key: &str, ids: Value| {
        let out = sim
            .cmd(&env)
            .args(["api", "GET", path, "-f", &format!("{key}={ids}")])
            .args(["-f", &format!("advertiser_id={SIM_ADVERTISER}")])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr_of(&out));
        serde_json::from_str::<Value>(&stdout_of(&out)).unwrap()
    };
    let by_ad = api("/ad/review_info/", "ad_ids", json!([ad]));
    assert_eq!(by_ad["ad_review_map"][&ad]["review_status"], "UNAVAILABLE");
    assert_eq!(
        by_ad["ad_review_map"][&ad]["reject_info"][0]["reasons"],
        json!(["Misleading"])
    );
    let by_group = api("/adgroup/review_info/", "adgroup_ids", json!([group]));
    assert_eq!(
        by_group["ad_review_map"][&group][&ad]["review_status"], "UNAVAILABLE",
        "ads nested two levels: ad group, then ad"
    );
    let summary = &by_group["ad_group_review_map"][&group];
    assert_eq!(
        summary["review_status"], "PART_AVAILABLE",
        "one of its two ads rejected"
    );
    assert_eq!(summary["contain_rejected_ads"], true);
    let now = list(&sim, &env, "ad");
    let after = now.iter().find(|a| a["ad_id"] == ad.as_str()).unwrap();
    assert_eq!(after["secondary_status"], "AD_STATUS_AUDIT_DENY");
    assert_eq!(after["modify_time"], modified, "a review is not an edit");
    let too_many: Vec<String> = (0..21).map(|i| format!("18120{i:014}")).collect();
    let refused = sim
        .cmd(&env)
        .args(["api", "GET", "/adgroup/review_info/", "-f"])
        .arg(format!("adgroup_ids={}", json!(too_many)))
        .args(["-f", &format!("advertiser_id={SIM_ADVERTISER}")])
        .output()
        .unwrap();
    assert_fails(&refused, 4, "Between 1 and 20 IDs");
}
