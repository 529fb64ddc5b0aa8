//! Bulk benchmark: plan and apply 2,000 next-day budget changes across 10 ad accounts against
//! the simulator holding TikTok's default quota (10 requests a second per endpoint, answered
//! with 40100 above it), and print each phase's time beside the floor the quota allows for the
//! requests it needed (the busiest endpoint's requests: a full window at once, then one
//! window per further window's worth). Records `target/bench/bulk.json`.
//!
//!   cargo bench --bench bulk

// A benchmark reports on stdout: that is its output.
#![allow(clippy::print_stdout)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_tiktok-ads");
const ACCOUNTS: usize = 10;
/// 67 ad groups in each of three live campaigns: 201 an account, 200 of them changed.
const ADGROUPS_PER_CAMPAIGN: &str = "67";
const CHANGES_PER_ACCOUNT: usize = 200;
const QUOTA_PER_SECOND: u64 = 10;

fn tool(base_url: &str, token: &str, home: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("TIKTOK_ACCESS_TOKEN", token)
        .env("TIKTOK_ADS_BASE_URL", base_url)
        .env("TIKTOK_ADS_CONFIG_DIR", home.join("config"))
        .env("TIKTOK_ADS_STATE_DIR", home.join("state"))
        .env("TIKTOK_ADS_TOKEN_STORE", "file")
        .current_dir(home);
    cmd
}

/// Accepted requests per endpoint so far.
fn accepted(url: &str) -> BTreeMap<String, u64> {
    let stats = common::control(url, "GET", "/_mock/stats", "");
    stats["accepted"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default()
}

/// The fastest the quota allows for `requests` on one endpoint.
fn floor_s(requests: u64) -> f64 {
    requests.saturating_sub(QUOTA_PER_SECOND) as f64 / QUOTA_PER_SECOND as f64
}

fn phase(url: &str, name: &str, run: impl FnOnce()) -> String {
    let before = accepted(url);
    let started = Instant::now();
    run();
    let wall = started.elapsed().as_secs_f64();
    let after = accepted(url);
    let used: BTreeMap<&String, u64> = after
        .iter()
        .map(|(k, v)| (k, v - before.get(k).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect();
    let busiest = used.values().copied().max().unwrap_or(0);
    let total: u64 = used.values().sum();
    let floor = floor_s(busiest);
    println!(
        "{name:<6} {wall:>6.1} s   quota floor {floor:>5.1} s   {total} requests (busiest endpoint {busiest}): {used:?}"
    );
    format!(
        r#"{{"phase": "{name}", "wall_s": {wall:.2}, "floor_s": {floor:.2}, "requests": {total}, "busiest_endpoint_requests": {busiest}}}"#
    )
}

fn main() {
    let (mut child, url) = common::simulator(
        BIN,
        &[
            "--accounts",
            &ACCOUNTS.to_string(),
            "--adgroups-per-campaign",
            ADGROUPS_PER_CAMPAIGN,
            "--qps-limit",
            &QUOTA_PER_SECOND.to_string(),
            "--qps-window",
            "1",
        ],
    );
    let token = common::simulator_token(&url);
    let home = tempfile::tempdir().expect("temp dir");
    let accounts: Vec<String> = (1..=ACCOUNTS)
        .map(|i| format!("73000000000000000{i:02}"))
        .collect();
    let live = home.path().join("live.csv");
    let export = tool(&url, &token, home.path())
        .args(["bulk", "export", "--level", "adgroup", "--format", "csv"])
        .args(["--advertiser", &accounts.join(",")])
        .args(["--columns", "budget_mode,scheduled_budget"])
        .output()
        .expect("bulk export runs");
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    std::fs::write(&live, &export.stdout).expect("live.csv");
    // 200 ad groups of each account get a next-day budget of 25.
    let mut reader = csv::Reader::from_path(&live).expect("live.csv");
    let mut writer = csv::Writer::from_path(home.path().join("edited.csv")).expect("edited.csv");
    writer
        .write_record(["advertiser_id", "adgroup_id", "scheduled_budget"])
        .expect("header");
    let mut per_account: BTreeMap<String, usize> = BTreeMap::new();
    for record in reader.records() {
        let record = record.expect("a row");
        let n = per_account.entry(record[0].to_string()).or_default();
        if *n < CHANGES_PER_ACCOUNT {
            writer
                .write_record([&record[0], &record[2], "25"])
                .expect("row");
            *n += 1;
        }
    }
    writer.flush().expect("edited.csv written");
    let changes: usize = per_account.values().sum();
    println!(
        "bulk: {changes} next-day budget changes across {} ad accounts, TikTok's default quota ({QUOTA_PER_SECOND}/s per endpoint)",
        per_account.len()
    );
    let plan = phase(&url, "plan", || {
        let out = tool(&url, &token, home.path())
            .args(["bulk", "plan", "edited.csv", "-o", "plan.json"])
            .output()
            .expect("bulk plan runs");
        // Exit 6: some were refused — an account in its 23:55 budget lock right now.
        assert!(
            matches!(out.status.code(), Some(0 | 6)),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        if let Some(summary) = text.lines().find(|l| l.starts_with("plan: ")) {
            println!("       {summary}");
        }
    });
    let apply = phase(&url, "apply", || {
        let out = tool(&url, &token, home.path())
            .args(["bulk", "apply", "plan.json", "--yes", "--format", "csv"])
            .output()
            .expect("bulk apply runs");
        let text = String::from_utf8_lossy(&out.stdout);
        let count = |what: &str| text.lines().filter(|l| l.contains(what)).count();
        let (applied, refused) = (count(",applied,"), count(",refused,"));
        assert_eq!(
            applied + refused,
            changes,
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            count(",failed,"),
            0,
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        println!("       applied {applied}, refused {refused} (the budget lock of an account)");
    });
    let rejected = common::control(&url, "GET", "/_mock/stats", "")["rejected"].clone();
    println!("rejected by the quota: {rejected}");
    common::write_results("bulk", &[plan, apply]);
    let _ = child.kill();
}
