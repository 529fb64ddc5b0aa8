//! `advertiser list` and `advertiser info` in every format.

use serde_json::{Value, json};
use wiremock::matchers::{header, query_param};

use crate::support::*;

async fn mount_accounts(env: &TestEnv) {
    on_get("/oauth2/advertiser/get/")
        .and(query_param("app_id", APP_ID))
        .and(query_param("secret", APP_SECRET))
        .and(header("Access-Token", TOKEN))
        .respond_with(fixture_response("oauth_advertiser_get.json"))
        .mount(&env.server)
        .await;
    on_get("/advertiser/info/")
        .and(header("Access-Token", TOKEN))
        .and(query_param(
            "advertiser_ids",
            format!(r#"["{ADV_US}","{ADV_EU}"]"#),
        ))
        .respond_with(fixture_response("advertiser_info.json"))
        .mount(&env.server)
        .await;
}

async fn logged_in_env() -> TestEnv {
    let env = TestEnv::new().await;
    env.login_with_token(TOKEN).await;
    mount_accounts(&env).await;
    env
}

fn list(env: &TestEnv, args: &[&str]) -> std::process::Output {
    env.cmd()
        .args(["advertiser", "list"])
        .args(args)
        .env("TIKTOK_APP_ID", APP_ID)
        .env("TIKTOK_APP_SECRET", APP_SECRET)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn list_as_csv_when_piped() {
    let env = logged_in_env().await;
    let out = list(&env, &[]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(
        stdout_of(&out),
        format!(
            "advertiser_id,name,currency,timezone,status,company\n\
             {ADV_US},Acme Shoes US,USD,America/New_York,STATUS_ENABLE,Acme Shoes Inc.\n\
             {ADV_EU},Acme Shoes EU,EUR,Etc/GMT-1,STATUS_ENABLE,Acme Shoes GmbH\n"
        )
    );
    // Only the fields shown are asked for, JSON-encoded.
    let requests = env.server.received_requests().await.unwrap();
    let info = requests
        .iter()
        .find(|r| r.url.path().ends_with("/advertiser/info/"))
        .unwrap();
    let fields = info
        .url
        .query_pairs()
        .find(|(k, _)| k == "fields")
        .unwrap()
        .1;
    let fields: Vec<String> = serde_json::from_str(&fields).unwrap();
    assert_eq!(
        fields,
        [
            "advertiser_id",
            "name",
            "status",
            "currency",
            "timezone",
            "company"
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn list_as_json_ndjson_and_table() {
    let env = logged_in_env().await;
    let out = list(
        &env,
        &[
            "--format",
            "json",
            "--fields",
            "advertiser_id,currency,balance",
        ],
    );
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        rows,
        json!([
            {"advertiser_id": ADV_US, "currency": "USD", "balance": 1523.47},
            {"advertiser_id": ADV_EU, "currency": "EUR", "balance": 0.0}
        ])
    );

    let out = list(&env, &["--format", "ndjson"]);
    let lines: Vec<Value> = stdout_of(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["advertiser_id"], json!(ADV_EU));
    assert_eq!(lines[1]["timezone"], json!("Etc/GMT-1"));

    let out = list(&env, &["--format", "table"]);
    let table = stdout_of(&out);
    assert!(
        table.contains("advertiser_id") && table.contains("│"),
        "{table}"
    );
    assert!(table.contains("Acme Shoes EU"), "{table}");
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_field_is_rejected_before_any_request() {
    let env = TestEnv::new().await;
    env.login_with_token(TOKEN).await;
    let before = env.server.received_requests().await.unwrap().len();
    let out = list(&env, &["--fields", "advertiser_id,colour"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("unknown field \"colour\""));
    assert_eq!(env.server.received_requests().await.unwrap().len(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn sandbox_list_needs_an_advertiser_and_uses_it() {
    let env = TestEnv::new().await;
    on_get("/user/info/")
        .respond_with(fixture_response("user_info.json"))
        .mount(&env.server)
        .await;
    env.cmd()
        .args(["--sandbox", "auth", "login", "--with-token"])
        .write_stdin(format!("{TOKEN}\n"))
        .assert()
        .success();
    let out = env
        .cmd()
        .args(["--sandbox", "advertiser", "list"])
        .assert()
        .code(2);
    assert!(stderr_of(out.get_output()).contains("--advertiser"));

    on_get("/advertiser/info/")
        .and(query_param("advertiser_ids", format!(r#"["{ADV_US}"]"#)))
        .respond_with(ok(
            json!({"list": [fixture("advertiser_info.json")["data"]["list"][0]]}),
        ))
        .mount(&env.server)
        .await;
    let out = env
        .cmd()
        .args(["--sandbox", "--advertiser", ADV_US, "advertiser", "list"])
        .assert()
        .success();
    assert!(stdout_of(out.get_output()).contains("Acme Shoes US"));
    let requests = env.server.received_requests().await.unwrap();
    assert!(
        !requests
            .iter()
            .any(|r| r.url.path().contains("/oauth2/advertiser/get/"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn info_prints_the_given_accounts_with_19_digit_ids_intact() {
    let env = logged_in_env().await;
    let out = env
        .cmd()
        .args([
            "advertiser",
            "info",
            ADV_US,
            ADV_EU,
            "--fields",
            "advertiser_id,name,create_time",
        ])
        .assert()
        .success();
    assert_eq!(
        stdout_of(out.get_output()),
        format!(
            "advertiser_id,name,create_time\n{ADV_US},Acme Shoes US,1672531200\n{ADV_EU},Acme Shoes EU,1680307200\n"
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn info_rejects_a_non_numeric_id_before_any_request() {
    let env = TestEnv::new().await;
    env.login_with_token(TOKEN).await;
    let before = env.server.received_requests().await.unwrap().len();
    let out = env
        .cmd()
        .args(["advertiser", "info", "12ab"])
        .assert()
        .code(2);
    assert!(stderr_of(out.get_output()).contains("expected the digits"));
    let out = env
        .cmd()
        .args(["--advertiser", "x1", "advertiser", "info"])
        .assert()
        .code(2);
    assert!(stderr_of(out.get_output()).contains("not valid"));
    assert_eq!(env.server.received_requests().await.unwrap().len(), before);
}
