//! What a new user met in the first hour (issue 19): a dead host said at once, messages that
//! are true about what was written, tokens that stay with the host that issued them,
//! completions that complete, dry runs that check what the real command checks.

use crate::support::*;

#[tokio::test(flavor = "multi_thread")]
async fn an_output_file_that_cannot_be_written_is_refused_before_any_request() {
    let env = TestEnv::with_account().await;
    for (target, says) in [
        (
            "nosuchdir/out.csv",
            "the directory nosuchdir does not exist",
        ),
        (".", "that is a directory"),
    ] {
        let out = env
            .cmd()
            .args(["--advertiser", ADV_US, "-o", target])
            .args(["report", "run", "--last", "7"])
            .output()
            .unwrap();
        assert_fails(&out, 2, says);
        assert_eq!(stdout_of(&out), "");
    }
    let out = env
        .cmd()
        .args(["-o", "nosuchdir/c.bash", "completions", "bash"])
        .output()
        .unwrap();
    assert_fails(&out, 2, "does not exist");
    assert!(
        env.requests_to("/report/integrated/get/").await.is_empty()
            && env.requests_to("/advertiser/info/").await.is_empty(),
        "nothing was asked of TikTok"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_token_leaves_nothing_on_stdout_and_says_one_thing() {
    let env = TestEnv::new().await;
    let refused = || {
        api_error(
            40105,
            "Access token is incorrect or has been revoked.",
            "r1",
        )
    };
    for endpoint in [
        "/advertiser/info/",
        "/campaign/get/",
        "/report/integrated/get/",
    ] {
        on_get(endpoint)
            .respond_with(refused())
            .mount(&env.server)
            .await;
    }
    for args in [
        &["report", "run", "--last", "7"][..],
        &[
            "report",
            "run",
            "--start",
            "2025-01-01",
            "--end",
            "2025-01-02",
        ][..],
        &["campaign", "list"][..],
    ] {
        for format in ["csv", "json", "ndjson"] {
            let out = env
                .cmd()
                .env("TIKTOK_ACCESS_TOKEN", "bogus-token-0123456789")
                .args(["--advertiser", ADV_US, "--format", format])
                .args(args)
                .output()
                .unwrap();
            assert_fails(&out, 3, "Access token is incorrect");
            assert_eq!(
                stdout_of(&out),
                "",
                "{args:?} {format}: no header, no bracket"
            );
            assert!(
                !stderr_of(&out).contains("note:"),
                "the refusal is the message, not a note before it: {}",
                stderr_of(&out)
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_report_still_has_its_header() {
    let env = TestEnv::with_account().await;
    on_get("/report/integrated/get/")
        .respond_with(fixture_response("report_integrated_get_empty.json"))
        .mount(&env.server)
        .await;
    let out = env
        .cmd()
        .args(["--advertiser", ADV_US, "report", "run"])
        .args([
            "--start",
            "2025-01-01",
            "--end",
            "2025-01-02",
            "--metrics",
            "spend",
        ])
        .assert()
        .success();
    assert_eq!(
        stdout_of(out.get_output()),
        "campaign_id,stat_time_day,spend\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn get_fills_the_currency_column_as_list_does() {
    let env = TestEnv::with_account().await;
    on_get("/campaign/get/")
        .respond_with(fixture_response("campaign_get.json"))
        .mount(&env.server)
        .await;
    let id = fixture("campaign_get.json")["data"]["list"][0]["campaign_id"]
        .as_str()
        .unwrap()
        .to_string();
    let list = env
        .cmd()
        .args([
            "--advertiser",
            ADV_US,
            "campaign",
            "list",
            "--fields",
            "campaign_id,currency",
        ])
        .assert()
        .success();
    let get = env
        .cmd()
        .args([
            "--advertiser",
            ADV_US,
            "--format",
            "csv",
            "campaign",
            "get",
            &id,
        ])
        .args(["--fields", "campaign_id,currency"])
        .assert()
        .success();
    assert_eq!(
        stdout_of(get.get_output()),
        format!("campaign_id,currency\n{id},USD\n")
    );
    assert!(stdout_of(list.get_output()).contains(&format!("{id},USD\n")));
}

#[test]
fn help_lists_every_exit_code() {
    let out = assert_cmd::Command::new(assert_cmd::cargo::cargo_bin!("tiktok-ads"))
        .arg("--help")
        .output()
        .unwrap();
    let help = stdout_of(&out);
    for code in ["0 ok", "2 usage", "5 transient", "6 partial", "7 database"] {
        assert!(help.contains(code), "{code}: {help}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_refuses_what_the_real_command_refuses_and_lists_every_problem() {
    let env = TestEnv::with_account().await;
    let create = |objective: &str, dry_run: bool| {
        let mut cmd = env.cmd();
        cmd.args(["--advertiser", ADV_US, "campaign", "create", "--name", "x"])
            .args(["--objective", objective, "--budget", "10"]);
        if dry_run {
            cmd.arg("--dry-run");
        }
        cmd.output().unwrap()
    };
    for dry_run in [true, false] {
        let out = create("TRAFFIC", dry_run);
        assert_fails(&out, 2, "minimum of 50 USD");
        let both = create("TRAFIC", dry_run);
        assert_fails(&both, 2, "minimum of 50 USD");
        assert!(stderr_of(&both).contains("TRAFIC"), "{}", stderr_of(&both));
    }
    assert!(env.requests_to("/campaign/create/").await.is_empty());
    // A dry run that needs no currency reads nothing from TikTok.
    let before = env.requests_to("/advertiser/info/").await.len();
    env.cmd()
        .args(["--advertiser", ADV_US, "campaign", "create", "--name", "x"])
        .args([
            "--objective",
            "TRAFFIC",
            "--budget-mode",
            "infinite",
            "--dry-run",
        ])
        .assert()
        .success();
    assert_eq!(env.requests_to("/advertiser/info/").await.len(), before);
}

/// A port on this machine where nothing listens: connections to it are refused.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_host_that_never_answers_is_given_up_on_after_three_attempts_with_each_retry_said() {
    let env = TestEnv::new().await;
    let dead = format!("http://127.0.0.1:{}", closed_port());
    let out = env
        .cmd()
        .env("TIKTOK_ADS_BASE_URL", &dead)
        .env("TIKTOK_ACCESS_TOKEN", TOKEN)
        .args(["--advertiser", ADV_US, "report", "run", "--last", "7"])
        .output()
        .unwrap();
    assert_fails(&out, 5, "gave up after 3 attempts");
    let stderr = stderr_of(&out);
    for attempt in ["attempt 2 of 3", "attempt 3 of 3"] {
        assert!(stderr.contains("retrying in "), "{stderr}");
        assert!(stderr.contains(attempt), "{attempt}: {stderr}");
    }
    assert!(
        stderr.contains("Connection refused") && stderr.contains("127.0.0.1:"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: TikTok could not be reached"),
        "{stderr}"
    );
    // -q: only the error.
    let quiet = env
        .cmd()
        .env("TIKTOK_ADS_BASE_URL", &dead)
        .env("TIKTOK_ACCESS_TOKEN", TOKEN)
        .args(["-q", "--advertiser", ADV_US, "report", "run", "--last", "7"])
        .output()
        .unwrap();
    assert_fails(&quiet, 5, "gave up after 3 attempts");
    assert!(
        !stderr_of(&quiet).contains("retrying in"),
        "{}",
        stderr_of(&quiet)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_host_that_answers_keeps_the_long_budget_and_each_retry_is_said() {
    let env = TestEnv::with_account().await;
    on_get("/report/integrated/get/")
        .respond_with(wiremock::ResponseTemplate::new(503).set_body_string("busy"))
        .mount(&env.server)
        .await;
    let out = env
        .cmd()
        .args([
            "--advertiser",
            ADV_US,
            "--max-retries",
            "5",
            "report",
            "run",
        ])
        .args(["--start", "2025-01-01", "--end", "2025-01-02"])
        .output()
        .unwrap();
    assert_fails(&out, 5, "gave up after 6 attempts");
    let stderr = stderr_of(&out);
    assert_eq!(stderr.matches("retrying in ").count(), 5, "{stderr}");
    assert!(stderr.contains("(attempt 6 of 6): HTTP 503"), "{stderr}");
    assert_eq!(env.requests_to("/report/integrated/get/").await.len(), 6);
}

#[tokio::test(flavor = "multi_thread")]
async fn setup_checks_use_the_short_budget() {
    let env = TestEnv::logged_in().await;
    on_get("/user/info/")
        .respond_with(wiremock::ResponseTemplate::new(503).set_body_string("busy"))
        .mount(&env.server)
        .await;
    for args in [&["auth", "status"][..], &["doctor"][..]] {
        let before = env.requests_to("/user/info/").await.len();
        let out = env.cmd().args(args).output().unwrap();
        assert!(!out.status.success(), "{args:?}");
        assert!(
            stderr_of(&out).contains("attempt 3 of 3"),
            "{}",
            stderr_of(&out)
        );
        assert_eq!(
            env.requests_to("/user/info/").await.len() - before,
            3,
            "{args:?}: three attempts, not eleven"
        );
    }
    let before = env.requests_to("/user/info/").await.len();
    let out = env
        .cmd()
        .args(["auth", "login", "--with-token"])
        .write_stdin(format!("{TOKEN}\n"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(env.requests_to("/user/info/").await.len() - before, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wait_longer_than_the_budget_is_not_waited_for() {
    let env = TestEnv::with_account().await;
    let until_2099 = "Thu, 01 Jan 2099 00:00:00 GMT";
    for (status, says) in [(429u16, "until 2099-01-01"), (503, "until 2099-01-01")] {
        let guard = on_get("/report/integrated/get/")
            .respond_with(
                wiremock::ResponseTemplate::new(status).insert_header("Retry-After", until_2099),
            )
            .mount_as_scoped(&env.server)
            .await;
        let before = env.requests_to("/report/integrated/get/").await.len();
        let out = env
            .cmd()
            .args(["--advertiser", ADV_US, "report", "run"])
            .args(["--start", "2025-01-01", "--end", "2025-01-02"])
            .output()
            .unwrap();
        assert_fails(&out, 5, says);
        assert!(
            stderr_of(&out).contains("Retry-After"),
            "{}",
            stderr_of(&out)
        );
        assert_eq!(
            env.requests_to("/report/integrated/get/").await.len() - before,
            1,
            "HTTP {status}: asked once, not waited for"
        );
        drop(guard);
    }
}

/// Starts `args` and stops it with `signal` once `ready` holds; its output.
fn stop_when(
    mut cmd: std::process::Command,
    signal: i32,
    ready: impl Fn(&str) -> bool,
) -> std::process::Output {
    use std::io::Read;
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut seen = Vec::new();
    let mut buffer = [0u8; 4096];
    while !ready(&String::from_utf8_lossy(&seen)) {
        let n = stdout.read(&mut buffer).unwrap();
        assert!(n > 0, "the output ended before it was ready");
        seen.extend_from_slice(&buffer[..n]);
    }
    assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
    let mut out = child.wait_with_output().unwrap();
    seen.extend_from_slice(&out.stdout);
    out.stdout = seen;
    out
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn a_stop_says_how_many_rows_are_already_on_standard_output() {
    let env = TestEnv::with_account().await;
    on_get("/report/integrated/get/")
        .and(wiremock::matchers::query_param("page", "1"))
        .respond_with(page_of(
            (1..=3)
                .map(|i| {
                    serde_json::json!({"dimensions": {"campaign_id": i.to_string(),
                        "stat_time_day": "2025-01-01 00:00:00"}, "metrics": {"spend": "1"}})
                })
                .collect(),
            1,
            3,
            6,
        ))
        .mount(&env.server)
        .await;
    // The second page never comes.
    on_get("/report/integrated/get/")
        .and(wiremock::matchers::query_param("page", "2"))
        .respond_with(page_of(vec![], 2, 3, 6).set_delay(std::time::Duration::from_secs(60)))
        .mount(&env.server)
        .await;
    let mut cmd = env.std_cmd();
    cmd.args([
        "--advertiser",
        ADV_US,
        "report",
        "run",
        "--metrics",
        "spend",
    ])
    .args([
        "--start",
        "2025-01-01",
        "--end",
        "2025-01-01",
        "--page-size",
        "3",
    ]);
    let out = stop_when(cmd, libc::SIGINT, |seen| seen.lines().count() >= 4);
    assert_eq!(out.status.code(), Some(130));
    assert_eq!(
        stdout_of(&out).lines().count(),
        4,
        "the header and three rows"
    );
    assert!(
        stderr_of(&out).contains(
            "stopped by SIGINT after 3 rows on standard output: the output is incomplete"
        ),
        "{}",
        stderr_of(&out)
    );
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn a_stopped_simulator_says_it_stopped() {
    let env = TestEnv::new().await;
    let mut cmd = env.std_cmd();
    cmd.args(["mock", "--port", "0"]);
    let out = stop_when(cmd, libc::SIGTERM, |seen| seen.starts_with("http://"));
    assert_eq!(out.status.code(), Some(143));
    let last = stderr_of(&out)
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    assert_eq!(last, "error: stopped by SIGTERM");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_belongs_to_the_host_that_issued_it() {
    let env = TestEnv::new().await;
    // A production token stored by an earlier version, under the old key.
    env.cmd()
        .env_remove("TIKTOK_ADS_BASE_URL")
        .args(["config", "path"])
        .assert()
        .success();
    let old = "production-token-from-before-0123456789";
    std::fs::write(
        env.credentials_file(),
        format!("\"production/default\" = \"{old}\"\n"),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            env.credentials_file(),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
    }
    // A login against a local server (a simulator, say) is that server's.
    on_get("/user/info/")
        .respond_with(ok(fixture("user_info.json")["data"].clone()))
        .mount(&env.server)
        .await;
    let local = "local-server-token-0123456789abcdef";
    let login = env
        .cmd()
        .args(["auth", "login", "--with-token"])
        .write_stdin(format!("{local}\n"))
        .assert()
        .success();
    let said = stderr_of(login.get_output());
    assert!(
        said.contains(&format!("Logged in to production at {}", env.server.uri())),
        "{said}"
    );
    let token = |base: Option<&str>| {
        let mut cmd = env.cmd();
        match base {
            Some(base) => cmd.env("TIKTOK_ADS_BASE_URL", base),
            None => cmd.env_remove("TIKTOK_ADS_BASE_URL"),
        };
        cmd.args(["auth", "token"]).output().unwrap()
    };
    assert_eq!(stdout_of(&token(Some(&env.server.uri()))).trim(), local);
    // TikTok's production gets the production token, never the local server's.
    assert_eq!(stdout_of(&token(None)).trim(), old);
    // Another host has none until it issues one.
    let other = token(Some("http://127.0.0.1:9"));
    assert_fails(
        &other,
        3,
        "not logged in to production at http://127.0.0.1:9",
    );
    // `auth status` names the host the token belongs to.
    let status = env
        .cmd()
        .args(["--format", "json", "auth", "status"])
        .output()
        .unwrap();
    let fields: serde_json::Value =
        serde_json::from_str(stdout_of(&status).lines().next().unwrap()).unwrap();
    assert_eq!(
        fields["token_for"],
        format!("production@{}", env.server.uri())
    );
}
