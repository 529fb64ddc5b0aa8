//! Commands run in-process with captured streams (gh's habit): what a command writes to stdout,
//! to `-o`, and to stderr, exactly, without spawning the binary.

use std::path::Path;

use clap::Parser;
use secrecy::SecretString;
use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::context::Context;
use super::{Cli, dispatch};
use crate::output::{Captured, Streams};

const ADV_A: &str = "7301234567890123456";
const ADV_B: &str = "7301234567890654321";

/// Parses `args` and runs the command against `server` (if any) with captured streams, a
/// config directory of its own and a token held in memory.
async fn run(
    args: &[&str],
    server: Option<&MockServer>,
    config_dir: &Path,
) -> (anyhow::Result<()>, Captured) {
    let mut argv = vec!["tiktok-ads", "--retry-base-ms", "1"];
    let base;
    if let Some(server) = server {
        base = server.uri();
        argv.extend(["--base-url", base.as_str()]);
    }
    argv.extend(args);
    let cli = Cli::try_parse_from(argv).expect("arguments parse");
    let (streams, captured) = Streams::captured("");
    let mut ctx = Context::with(cli.global, streams, config_dir.to_path_buf()).expect("context");
    ctx.credentials.token_override = Some(SecretString::from("in-process-token-0123456789"));
    let result = dispatch(&ctx, cli.command).await;
    (result, captured)
}

fn envelope(data: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(json!({"code": 0, "message": "OK", "request_id": "r", "data": data}))
}

#[tokio::test]
async fn plain_text_commands_honour_dash_o() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let (result, captured) = run(
        &["config", "set", "app_id", "7100000000000000001"],
        None,
        &config,
    )
    .await;
    result.unwrap();
    assert!(captured.out().is_empty());

    let out = dir.path().join("value.txt");
    let (result, captured) = run(
        &["-o", out.to_str().unwrap(), "config", "get", "app_id"],
        None,
        &config,
    )
    .await;
    result.unwrap();
    assert_eq!(captured.out(), "");
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "7100000000000000001\n"
    );

    let (result, captured) = run(&["config", "path"], None, &config).await;
    result.unwrap();
    assert_eq!(
        captured.out(),
        format!("{}\n", config.join("config.toml").display())
    );

    let plan = dir.path().join("plan.txt");
    let args = [
        "-o",
        plan.to_str().unwrap(),
        "--advertiser",
        ADV_A,
        "report",
        "run",
        "--last",
        "7",
        "--explain",
    ];
    let (result, captured) = run(&args, None, &config).await;
    result.unwrap();
    assert_eq!(captured.out(), "");
    assert!(
        std::fs::read_to_string(&plan)
            .unwrap()
            .starts_with("Plan (nothing was sent):")
    );
}

#[tokio::test]
async fn dry_runs_print_the_bodies_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = MockServer::start().await;
    let args = [
        "--advertiser",
        ADV_A,
        "campaign",
        "create",
        "--name",
        "Spring",
        "--objective",
        "TRAFFIC",
        "--budget",
        "100",
        "--dry-run",
    ];
    let (result, captured) = run(&args, Some(&server), dir.path()).await;
    result.unwrap();
    let body: serde_json::Value = serde_json::from_str(&captured.out()).unwrap();
    assert_eq!(body["campaign_name"], "Spring");

    let ids: Vec<String> = (0..25).map(|i| format!("18123609876543{i:02}")).collect();
    let mut args = vec!["--advertiser", ADV_A, "ad", "delete", "--dry-run"];
    args.extend(ids.iter().map(String::as_str));
    let (result, captured) = run(&args, Some(&server), dir.path()).await;
    result.unwrap();
    let bodies: serde_json::Value = serde_json::from_str(&captured.out()).unwrap();
    assert_eq!(bodies.as_array().unwrap().len(), 2, "batches of 20");
    assert_eq!(bodies[0]["operation_status"], "DELETE");
    assert_eq!(bodies[1]["ad_ids"].as_array().unwrap().len(), 5);
    // The create's budget is checked in the account's currency: a read, and nothing else.
    let sent: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect();
    assert_eq!(sent, ["GET /open_api/v1.3/advertiser/info/"]);
}

#[tokio::test]
async fn an_output_extension_no_format_has_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let server = MockServer::start().await;
    let out = dir.path().join("report.xlsx");
    let args = [
        "-o",
        out.to_str().unwrap(),
        "--advertiser",
        ADV_A,
        "report",
        "run",
        "--start",
        "2025-01-01",
        "--end",
        "2025-01-01",
    ];
    let (result, _) = run(&args, Some(&server), dir.path()).await;
    let error = result.unwrap_err();
    assert!(format!("{error:#}").contains(".xlsx"), "{error:#}");
    assert_eq!(crate::exit::code_for(&error), crate::exit::USAGE);
    assert!(!out.exists());
    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "refused before any request"
    );
}

#[tokio::test]
async fn quiet_hides_notes_but_never_an_advertisers_error() {
    let dir = tempfile::tempdir().unwrap();
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/open_api/v1.3/report/integrated/get/"))
        .and(query_param("advertiser_id", ADV_B))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"code": 40001, "message": "no permission", "request_id": "r-b", "data": {}}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/open_api/v1.3/report/integrated/get/"))
        .respond_with(envelope(json!({"list": [], "page_info": {"page": 1, "page_size": 1000, "total_number": 0, "total_page": 0}})))
        .mount(&server)
        .await;
    let advertisers = format!("{ADV_A},{ADV_B}");
    let args = [
        "-q",
        "--advertiser",
        &advertisers,
        "report",
        "run",
        "--start",
        "2025-01-01",
        "--end",
        "2025-01-01",
    ];
    let (result, captured) = run(&args, Some(&server), dir.path()).await;
    assert_eq!(
        crate::exit::code_for(&result.unwrap_err()),
        crate::exit::PARTIAL
    );
    assert!(
        captured
            .err()
            .contains(&format!("error: advertiser {ADV_B}")),
        "{}",
        captured.err()
    );
    assert!(
        captured.out().starts_with("advertiser_id,campaign_id"),
        "{}",
        captured.out()
    );
}

#[tokio::test]
async fn commands_without_settings_write_through_the_streams_they_are_given() {
    // Completions, the man page and the error report need no settings; they still write only
    // where the caller's streams say.
    for args in [
        &["tiktok-ads", "completions", "bash"][..],
        &["tiktok-ads", "man"][..],
    ] {
        let cli = Cli::try_parse_from(args).expect("arguments parse");
        let (streams, captured) = Streams::captured("");
        super::run(cli, &streams).await.expect("generated");
        assert!(captured.out().contains("tiktok-ads"), "{args:?}");
        assert_eq!(captured.err(), "");
    }
    // The simulator's URL (stdout) and its banner (stderr) too.
    let cli = Cli::try_parse_from(["tiktok-ads", "mock", "--port", "0"]).expect("arguments parse");
    let (streams, captured) = Streams::captured("");
    let server = tokio::spawn(async move { super::run(cli, &streams).await });
    for _ in 0..500 {
        if captured.err().contains("Control API") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    server.abort();
    assert!(
        captured.out().starts_with("http://127.0.0.1:"),
        "{}",
        captured.out()
    );
    assert!(captured.err().contains("a local TikTok API simulator"));

    let (streams, captured) = Streams::captured("");
    let code = crate::exit::report(Err(super::errors::usage("no advertiser")), &streams);
    assert_eq!(code, std::process::ExitCode::from(crate::exit::USAGE));
    assert_eq!(captured.err(), "error: no advertiser\n");
    assert_eq!(captured.out(), "");
}
