//! What only happens on a terminal, run under `script` (util-linux), which gives the binary a
//! real pseudo-terminal: the delete confirmation and the progress line.

#![cfg(unix)]

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;
use wiremock::matchers::query_param;

use crate::support::*;

/// Runs `tiktok-ads ARGS` on a pseudo-terminal, typing `input`; returns everything the terminal
/// showed (stdout and stderr together).
fn on_terminal(env: &TestEnv, args: &[&str], input: &str) -> String {
    on_terminal_with(env, args, input, |_| {})
}

/// The same, with the environment changed by `adjust` after the test's isolation.
fn on_terminal_with(
    env: &TestEnv,
    args: &[&str],
    input: &str,
    adjust: impl FnOnce(&mut Command),
) -> String {
    let command_line = std::iter::once(
        assert_cmd::cargo::cargo_bin!("tiktok-ads")
            .display()
            .to_string(),
    )
    .chain(args.iter().map(|a| a.to_string()))
    .collect::<Vec<_>>()
    .join(" ");
    let mut cmd = Command::new("script");
    env.isolate(&mut cmd);
    // A terminal session has a TERM; progress bars stay quiet without one.
    cmd.env("TERM", "xterm");
    adjust(&mut cmd);
    let mut child = cmd
        .args(["-qec", &command_line, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script (util-linux) runs");
    let mut stdin = child.stdin.take().unwrap();
    // Let the prompt appear before answering, as a person would.
    std::thread::sleep(Duration::from_millis(300));
    stdin.write_all(input.as_bytes()).unwrap();
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Whether `text` starts a line of `screen` (after the progress line's carriage returns and
/// line clears).
fn starts_a_line(screen: &str, text: &str) -> bool {
    screen.split('\n').any(|line| {
        let shown = line
            .rsplit('\r')
            .find(|part| !part.is_empty())
            .unwrap_or("");
        shown.trim_start_matches("\u{1b}[2K").starts_with(text)
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_asks_on_a_terminal_and_only_yes_deletes() {
    let env = TestEnv::new().await;
    env.login_with_token(TOKEN).await;
    on_post("/ad/status/update/")
        .respond_with(ok(
            json!({"ad_ids": ["1812360987654321"], "status": "DELETE"}),
        ))
        .mount(&env.server)
        .await;
    let args = ["--advertiser", ADV_US, "ad", "delete", "1812360987654321"];
    let screen = on_terminal(&env, &args, "n\n");
    assert!(
        screen.contains("Delete 1 ad(s) (1812360987654321)") && screen.contains("cannot be undone"),
        "{screen}"
    );
    assert!(screen.contains("Nothing was deleted"), "{screen}");
    assert!(
        !screen.contains("error"),
        "declining is not an error: {screen}"
    );
    let status_calls = || async {
        env.server
            .received_requests()
            .await
            .unwrap()
            .iter()
            .filter(|r| r.url.path().ends_with("/ad/status/update/"))
            .count()
    };
    assert_eq!(status_calls().await, 0);
    let screen = on_terminal(&env, &args, "y\n");
    assert!(screen.contains("ok"), "{screen}");
    assert_eq!(status_calls().await, 1);
}

/// A one-day report into `r.csv`, one row a page.
const TWO_PAGE_REPORT: [&str; 14] = [
    "--advertiser",
    ADV_US,
    "-o",
    "r.csv",
    "report",
    "run",
    "--start",
    "2025-01-01",
    "--end",
    "2025-01-01",
    "--metrics",
    "spend",
    "--page-size",
    "1",
];

/// Page `page` of the two-page report: one row.
fn report_page(page: u64) -> wiremock::ResponseTemplate {
    ok(
        json!({"list": [{"dimensions": {"campaign_id": page.to_string(), "stat_time_day": "2025-01-01 00:00:00"},
                        "metrics": {"spend": "1"}}],
              "page_info": {"page": page, "page_size": 1, "total_number": 2, "total_page": 2}}),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_report_shows_progress_on_a_terminal_only() {
    let env = TestEnv::new().await;
    env.login_with_token(TOKEN).await;
    on_get("/advertiser/info/")
        .respond_with(fixture_response("advertiser_info.json"))
        .mount(&env.server)
        .await;
    for page in 1..=2u64 {
        on_get("/report/integrated/get/")
            .and(query_param("page", page.to_string()))
            .respond_with(
                report_page(page).set_delay(Duration::from_millis(if page == 2 { 600 } else { 0 })),
            )
            .mount(&env.server)
            .await;
    }
    let args = TWO_PAGE_REPORT;
    let screen = on_terminal(&env, &args, "");
    assert!(
        screen.contains("rows 1") && screen.contains("requests"),
        "{screen}"
    );
    assert!(screen.contains("wrote 2 rows to r.csv"), "{screen}");
    assert!(
        starts_a_line(&screen, "wrote 2 rows"),
        "the summary has a line of its own, after the progress line: {screen:?}"
    );
    assert!(
        screen.contains("windows 1/1 · rows 2"),
        "the last line counts every window: {screen}"
    );
    // The same run in a pipe (cron) prints nothing on stderr.
    let out = env.cmd().args(args).assert().success();
    assert!(
        stderr_of(out.get_output()).is_empty(),
        "{}",
        stderr_of(out.get_output())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_error_after_progress_starts_a_line_of_its_own() {
    let env = TestEnv::new().await;
    env.login_with_token(TOKEN).await;
    on_get("/advertiser/info/")
        .respond_with(fixture_response("advertiser_info.json"))
        .mount(&env.server)
        .await;
    on_get("/report/integrated/get/")
        .and(query_param("page", "1"))
        .respond_with(report_page(1))
        .mount(&env.server)
        .await;
    on_get("/report/integrated/get/")
        .and(query_param("page", "2"))
        .respond_with(
            api_error(40002, "Invalid parameter", "r2").set_delay(Duration::from_millis(600)),
        )
        .mount(&env.server)
        .await;
    let args = TWO_PAGE_REPORT;
    let screen = on_terminal(&env, &args, "");
    assert!(
        screen.contains("rows 1"),
        "the progress line was drawn: {screen:?}"
    );
    assert!(starts_a_line(&screen, "error: "), "{screen:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_events_are_readable_lines_coloured_by_bucket_on_a_terminal() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &[]);
    let at_sim = |cmd: &mut Command| {
        cmd.env("TIKTOK_ADS_BASE_URL", &sim.url)
            .env("TIKTOK_ACCESS_TOKEN", &sim.token)
            .env("TIKTOK_ADVERTISER_ID", SIM_ADVERTISER)
            .env_remove("NO_COLOR");
    };
    let baseline = on_terminal_with(&env, &["watch", "--once"], "", at_sim);
    assert!(baseline.contains("baseline recorded"), "{baseline}");
    let ads = sim
        .cmd(&env)
        .args(["ad", "list", "--format", "json"])
        .output()
        .unwrap();
    let ads: Vec<serde_json::Value> = serde_json::from_slice(&ads.stdout).unwrap();
    let ad = ads[0]["ad_id"].as_str().unwrap();
    sim.control(
        "POST",
        "/_mock/review",
        &json!({"ad_ids": [ad], "outcome": "reject", "reasons": ["Misleading"],
                "suggestion": "Say what it does."})
        .to_string(),
    );
    let screen = on_terminal_with(&env, &["watch", "--once"], "", at_sim);
    let red = "\u{1b}[31m";
    assert!(screen.contains(red), "rejected is red: {screen:?}");
    assert!(
        screen
            .contains("secondary_status: AD_STATUS_DELIVERY_OK → AD_STATUS_AUDIT_DENY  [rejected]"),
        "{screen}"
    );
    assert!(
        screen.contains("MODE_STRING: Misleading — Say what it does."),
        "{screen}"
    );
    assert!(
        !screen.contains("\"event\":"),
        "no JSON on a terminal: {screen}"
    );
}
