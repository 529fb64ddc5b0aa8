//! `rules run` against the simulator: the entities a rule matches are exactly those a hand
//! calculation from `report run`'s output gives; `--apply` acts through the bulk path; a
//! malformed rules file fails before any request.

use std::collections::BTreeSet;

use crate::support::*;

fn write_rules(env: &TestEnv, text: &str) {
    std::fs::write(env.work_dir().join("rules.toml"), text).unwrap();
}

/// The IDs `report run` shows matching `spend > 150 and cost_per_conversion > 6` over the last
/// three days, computed here from its CSV (amounts compared in cents: exact).
fn by_hand(sim: &Simulator, env: &TestEnv) -> BTreeSet<String> {
    let out = sim
        .cmd(env)
        .args([
            "report", "run", "--level", "ad", "--last", "3", "--by", "none",
        ])
        .args(["--metrics", "spend,cost_per_conversion", "--format", "csv"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let cents = |text: &str| -> Option<i64> {
        let (units, fraction) = text.split_once('.').unwrap_or((text, "0"));
        let fraction = format!("{fraction:0<2}");
        Some(units.parse::<i64>().ok()? * 100 + fraction[..2].parse::<i64>().ok()?)
    };
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    reader
        .records()
        .map(|r| r.unwrap())
        .filter(|r| {
            cents(&r[1]).is_some_and(|s| s > 15_000) && cents(&r[2]).is_some_and(|c| c > 600)
        })
        .map(|r| r[0].to_string())
        .collect()
}

const PAUSE: &str = r#"
[[rule]]
name = "pause expensive ads"
level = "ad"
window = "last_3_days"
when = "spend > 150 and cost_per_conversion > 6"
action = "disable"
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_rule_matches_what_a_hand_calculation_gives_and_acts_only_with_apply() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &[]);
    let expected = by_hand(&sim, &env);
    assert!(!expected.is_empty(), "the example needs at least one match");
    write_rules(&env, PAUSE);
    let report = sim
        .cmd(&env)
        .args(["rules", "run", "rules.toml", "--format", "csv"])
        .output()
        .unwrap();
    assert!(report.status.success(), "{}", stderr_of(&report));
    let mut reader = csv::Reader::from_reader(report.stdout.as_slice());
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let matched: BTreeSet<String> = rows.iter().map(|r| r[3].to_string()).collect();
    assert_eq!(
        matched, expected,
        "the rule matches exactly what the numbers say"
    );
    assert!(
        rows.iter()
            .all(|r| &r[7] == "planned" && &r[6] == "operation_status: ENABLE → DISABLE")
    );
    assert!(stderr_of(&report).contains(&format!("{} of 12 ads match", expected.len())));
    assert!(
        sim.requests().iter().all(|r| r["method"] == "GET"),
        "without --apply nothing is sent"
    );

    let applied = sim
        .cmd(&env)
        .args([
            "rules",
            "run",
            "rules.toml",
            "--apply",
            "--yes",
            "--format",
            "csv",
        ])
        .output()
        .unwrap();
    assert!(applied.status.success(), "{}", stderr_of(&applied));
    let mut reader = csv::Reader::from_reader(applied.stdout.as_slice());
    assert!(reader.records().all(|r| &r.unwrap()[7] == "applied"));
    assert!(
        stderr_of(&applied).contains("journal: "),
        "{}",
        stderr_of(&applied)
    );
    let paused = sim
        .cmd(&env)
        .args([
            "ad",
            "list",
            "--format",
            "csv",
            "--fields",
            "ad_id,operation_status",
        ])
        .output()
        .unwrap();
    let mut reader = csv::Reader::from_reader(paused.stdout.as_slice());
    let disabled: BTreeSet<String> = reader
        .records()
        .map(|r| r.unwrap())
        .filter(|r| &r[1] == "DISABLE")
        .map(|r| r[0].to_string())
        .collect();
    assert_eq!(disabled, expected);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_rules_file_fails_before_any_request() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &[]);
    write_rules(
        &env,
        r#"
[[rule]]
name = "typo"
level = "ad"
window = "last_3_days"
when = "spnd > 50 and (cost_per_conversion > 30"
action = "disable"
"#,
    );
    let out = sim
        .cmd(&env)
        .args(["rules", "run", "rules.toml"])
        .output()
        .unwrap();
    assert_fails(&out, 2, "rule 1 (\"typo\"): when: expected");
    assert!(stderr_of(&out).contains("column"), "{}", stderr_of(&out));
    write_rules(&env, &PAUSE.replace("spend > 150", "spnd > 150"));
    let out = sim
        .cmd(&env)
        .args(["rules", "run", "rules.toml"])
        .output()
        .unwrap();
    assert_fails(
        &out,
        2,
        "\"spnd\" is neither a metric nor a field (did you mean spend?) at column 1",
    );
    assert!(sim.requests().is_empty(), "nothing was asked of TikTok");
}

#[tokio::test(flavor = "multi_thread")]
async fn rules_read_from_a_sync_database_match_what_tiktok_says() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &[]);
    write_rules(&env, PAUSE);
    let run = |extra: &[&str]| {
        sim.cmd(&env)
            .args(["rules", "run", "rules.toml", "--format", "csv"])
            .args(extra)
            .output()
            .unwrap()
    };
    let not_synced = run(&["--from", "sqlite:ads.db"]);
    assert_fails(&not_synced, 2, "run report sync first");
    let sync = sim
        .cmd(&env)
        .args(["report", "sync", "--into", "sqlite:ads.db", "--level", "ad"])
        .args(["--metrics", "spend,conversion"])
        .output()
        .unwrap();
    assert!(sync.status.success(), "{}", stderr_of(&sync));
    let matched = |out: &std::process::Output| -> BTreeSet<(String, String)> {
        assert!(out.status.success(), "{}", stderr_of(out));
        csv::Reader::from_reader(out.stdout.as_slice())
            .records()
            .map(|r| r.unwrap())
            .map(|r| (r[3].to_string(), r[5].to_string()))
            .collect()
    };
    let from_tiktok = matched(&run(&[]));
    let from_database = matched(&run(&["--from", "sqlite:ads.db"]));
    assert!(!from_tiktok.is_empty());
    assert_eq!(
        from_database, from_tiktok,
        "same entities, same numbers (ratios from the sums)"
    );
    write_rules(&env, &PAUSE.replace("cost_per_conversion > 6", "reach > 6"));
    assert_fails(
        &run(&["--from", "sqlite:ads.db"]),
        2,
        "reach cannot be computed from a report sync table",
    );
    write_rules(&env, &PAUSE.replace("last_3_days", "last_60_days"));
    let beyond = run(&["--from", "sqlite:ads.db"]);
    assert_fails(&beyond, 2, "not the whole of");
}
