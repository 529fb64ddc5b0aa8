//! What a newcomer met in the first hour (issue 9): waits that wait, messages that say the one
//! thing that matters, help that reads well, and nothing failing that did nothing wrong.

use serde_json::json;

use crate::support::*;

const TASK: &str = "7467012345678901234";

async fn mount_running_task(env: &TestEnv) {
    on_post("/report/task/create/")
        .respond_with(fixture_response("report_task_create.json"))
        .mount(&env.server)
        .await;
    on_get("/report/task/check/")
        .respond_with(fixture_response("report_task_check_processing.json"))
        .mount(&env.server)
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn async_waits_the_given_time_then_names_the_running_task() {
    let env = TestEnv::with_account().await;
    mount_running_task(&env).await;
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
            "2025-01-02",
        ])
        .args(["--async", "--wait-timeout", "1", "--poll-ms", "5000"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", stderr_of(&out));
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains(&format!("report task {TASK} is still PROCESSING after 1 s")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "report task download --advertiser {ADV_US} {TASK}"
        )),
        "{stderr}"
    );
    assert!(
        !stderr.contains("could not be reached"),
        "no network hint: {stderr}"
    );
    // It waited out the second: a check at the start and one at the deadline.
    assert_eq!(env.requests_to("/report/task/check/").await.len(), 2);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_during_async_names_the_task_that_keeps_running() {
    let env = TestEnv::with_account().await;
    mount_running_task(&env).await;
    let child = env
        .std_cmd()
        .args([
            "--advertiser",
            ADV_US,
            "report",
            "run",
            "--start",
            "2025-01-01",
            "--end",
            "2025-01-02",
        ])
        .args(["--async", "--poll-ms", "50"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..500 {
        if !env.requests_to("/report/task/check/").await.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains(&format!(
            "report task {TASK} (advertiser {ADV_US}) keeps running at TikTok"
        )),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn downloading_a_canceled_task_says_it_was_canceled() {
    let env = TestEnv::logged_in().await;
    on_get("/report/task/download/")
        .respond_with(fixture_response("error_task_not_ready.json"))
        .mount(&env.server)
        .await;
    on_get("/report/task/check/")
        .respond_with(ok(json!({"status": "CANCELED", "message": ""})))
        .mount(&env.server)
        .await;
    let out = env
        .cmd()
        .args(["--advertiser", ADV_US, "report", "task", "download", TASK])
        .output()
        .unwrap();
    assert_fails(&out, 4, "is CANCELED");
    assert!(
        !stderr_of(&out).contains("has not finished"),
        "{}",
        stderr_of(&out)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn logging_out_twice_is_not_an_error() {
    let env = TestEnv::logged_in().await;
    env.cmd().args(["auth", "logout"]).assert().success();
    let out = env.cmd().args(["auth", "logout"]).output().unwrap();
    assert_fails(&out, 0, "nothing to log out");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_busy_callback_port_says_which_flag_fixes_it() {
    let env = TestEnv::new().await;
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let out = env
        .cmd()
        .env("TIKTOK_APP_ID", APP_ID)
        .env("TIKTOK_APP_SECRET", APP_SECRET)
        .env("BROWSER", "true")
        .args([
            "auth",
            "login",
            "--redirect-uri",
            &format!("http://127.0.0.1:{port}/callback"),
        ])
        .output()
        .unwrap();
    assert_fails(&out, 3, "--redirect-uri");
}

#[tokio::test(flavor = "multi_thread")]
async fn not_logged_in_says_it_once_and_plainly() {
    let env = TestEnv::new().await;
    let out = env
        .cmd()
        .env("TIKTOK_ADS_TOKEN_STORE", "auto")
        .args(["auth", "token"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("no OS keyring service was reachable"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("zbus") && !stderr.contains("unix:path") && !stderr.contains("os error"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("keyring").count(), 1, "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn usage_errors_show_what_was_typed_not_the_environment() {
    let env = TestEnv::new().await;
    let out = env
        .cmd()
        .env("TIKTOK_APP_ID", APP_ID)
        .args(["report", "run", "--start", "2025-01-01"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let usage = stderr_of(&out)
        .lines()
        .find(|l| l.starts_with("Usage:"))
        .unwrap()
        .to_string();
    assert_eq!(
        usage,
        "Usage: tiktok-ads report run --start <DATE> --end <DATE>"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn help_lists_the_commands_own_flags_before_the_global_ones() {
    let env = TestEnv::new().await;
    let out = env.cmd().args(["report", "run", "-h"]).assert().success();
    let help = stdout_of(out.get_output());
    let own = help.find("--start <DATE>").unwrap();
    let global = help.find("Global options:").unwrap();
    let sandbox = help.find("--sandbox").unwrap();
    assert!(own < global && global < sandbox, "{help}");
}

#[tokio::test(flavor = "multi_thread")]
async fn reading_the_config_says_nothing_about_the_sandbox() {
    let env = TestEnv::new().await;
    env.cmd()
        .args(["config", "set", "app_id", APP_ID])
        .assert()
        .success();
    let out = env
        .cmd()
        .args(["--sandbox", "config", "get", "app_id"])
        .assert()
        .success();
    assert_eq!(stdout_of(out.get_output()), format!("{APP_ID}\n"));
    assert!(
        stderr_of(out.get_output()).is_empty(),
        "{}",
        stderr_of(out.get_output())
    );
}
