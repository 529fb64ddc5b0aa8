//! `tiktok-ads mock` is as strict as TikTok (issue 11): it issues and checks tokens and app
//! secrets, validates what TikTok validates, keeps its numbers consistent, answers in TikTok's
//! shapes, and takes faults and gives its request log through the control API. Each test
//! talks to a simulator process over HTTP, as any client would.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::support::*;

const ADV: &str = "7300000000000000001";
const OTHER_ADV: &str = "7300000000000000002";

fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// GET `path` under the API prefix: (HTTP status, `X-Tt-Logid`, body as JSON or text).
async fn get(
    sim: &Simulator,
    path: &str,
    query: &[(&str, &str)],
    token: Option<&str>,
) -> (u16, Option<String>, Value) {
    let mut request = http()
        .get(format!("{}/open_api/v1.3{path}", sim.url))
        .query(query);
    if let Some(token) = token {
        request = request.header("Access-Token", token);
    }
    answer(request.send().await.unwrap()).await
}

async fn post(
    sim: &Simulator,
    path: &str,
    body: Value,
    token: Option<&str>,
) -> (u16, Option<String>, Value) {
    let mut request = http()
        .post(format!("{}/open_api/v1.3{path}", sim.url))
        .json(&body);
    if let Some(token) = token {
        request = request.header("Access-Token", token);
    }
    answer(request.send().await.unwrap()).await
}

async fn answer(response: reqwest::Response) -> (u16, Option<String>, Value) {
    let status = response.status().as_u16();
    let log_id = response
        .headers()
        .get("x-tt-logid")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, log_id, body)
}

fn code(body: &Value) -> i64 {
    body["code"].as_i64().unwrap_or(-1)
}

fn report_query<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut q = vec![
        ("advertiser_id", ADV),
        ("report_type", "BASIC"),
        ("data_level", "AUCTION_CAMPAIGN"),
        ("dimensions", r#"["campaign_id","stat_time_day"]"#),
        (
            "metrics",
            r#"["spend","impressions","clicks","ctr","campaign_name"]"#,
        ),
        ("start_date", "2025-03-01"),
        ("end_date", "2025-03-10"),
        ("page_size", "1000"),
    ];
    for (k, v) in extra {
        q.retain(|(key, _)| key != k);
        q.push((k, v));
    }
    q
}

#[tokio::test(flavor = "multi_thread")]
async fn only_tokens_it_issued_work_and_each_reaches_its_own_accounts() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &[]);
    let info = |ids: &'static str| [("advertiser_ids", ids)];
    let (_, _, body) = get(
        &sim,
        "/advertiser/info/",
        &info(r#"["7300000000000000001"]"#),
        None,
    )
    .await;
    assert_eq!(code(&body), 40104);
    let (_, _, body) = get(
        &sim,
        "/advertiser/info/",
        &info(r#"["7300000000000000001"]"#),
        Some("made-up-token"),
    )
    .await;
    assert_eq!(code(&body), 40105);
    let (_, _, body) = get(
        &sim,
        "/advertiser/info/",
        &info(r#"["7300000000000000001"]"#),
        Some(&sim.token),
    )
    .await;
    assert_eq!(code(&body), 0, "{body}");

    // A token granted one account only.
    let narrow = sim.control(
        "POST",
        "/_mock/tokens",
        &json!({"advertiser_ids": [ADV]}).to_string(),
    );
    let narrow = narrow["access_token"].as_str().unwrap();
    let (_, _, body) = get(
        &sim,
        "/advertiser/info/",
        &info(r#"["7300000000000000002"]"#),
        Some(narrow),
    )
    .await;
    assert_eq!(code(&body), 40001, "{body}");
    assert!(body["message"].as_str().unwrap().contains(OTHER_ADV));

    // Revoked: 40105 from then on.
    sim.control(
        "POST",
        "/_mock/revoke",
        &json!({"access_token": narrow}).to_string(),
    );
    let (_, _, body) = get(
        &sim,
        "/advertiser/info/",
        &info(r#"["7300000000000000001"]"#),
        Some(narrow),
    )
    .await;
    assert_eq!(code(&body), 40105);

    // The app secret is checked on the listing of authorized accounts.
    let wrong = [
        ("app_id", "7100000000000000001"),
        ("secret", "not-the-secret"),
    ];
    let (_, _, body) = get(&sim, "/oauth2/advertiser/get/", &wrong, Some(&sim.token)).await;
    assert_eq!(code(&body), 40101);
    let right = [
        ("app_id", "7100000000000000001"),
        ("secret", sim.app_secret.as_str()),
    ];
    let (_, _, body) = get(&sim, "/oauth2/advertiser/get/", &right, Some(&sim.token)).await;
    assert_eq!(
        body["data"]["list"].as_array().map(Vec::len),
        Some(2),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_codes_are_single_use_and_the_exchange_checks_the_secret() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &[]);
    let _ = http();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let consent = client
        .get(format!("{}/portal/auth", sim.url))
        .query(&[
            ("app_id", "7100000000000000001"),
            ("redirect_uri", "http://127.0.0.1:9/cb"),
            ("state", "s1"),
        ])
        .send()
        .await
        .unwrap();
    let location = consent.headers()["location"].to_str().unwrap().to_string();
    let code_value = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "auth_code")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let exchange = |secret: &str| json!({"app_id": "7100000000000000001", "secret": secret, "auth_code": code_value});
    let (_, _, body) = post(&sim, "/oauth2/access_token/", exchange("wrong"), None).await;
    assert_eq!(code(&body), 40101);
    let (_, _, body) = post(
        &sim,
        "/oauth2/access_token/",
        exchange(&sim.app_secret),
        None,
    )
    .await;
    assert_eq!(code(&body), 0, "{body}");
    let token = body["data"]["access_token"].as_str().unwrap().to_string();
    let (_, _, again) = post(
        &sim,
        "/oauth2/access_token/",
        exchange(&sim.app_secret),
        None,
    )
    .await;
    assert_eq!(code(&again), 40110, "a code works once");
    let (_, _, body) = get(&sim, "/user/info/", &[], Some(&token)).await;
    assert_eq!(code(&body), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_tools_exit_codes_3_and_4_are_reachable_against_it() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &[]);
    let out = env
        .cmd()
        .env("TIKTOK_ADS_BASE_URL", &sim.url)
        .env("TIKTOK_ACCESS_TOKEN", "a-token-it-never-issued")
        .args(["advertiser", "info", ADV])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));
    // The tool checks USD minimums itself; a EUR budget of 30 is TikTok's (and the simulator's)
    // to refuse.
    let out = env
        .cmd()
        .env("TIKTOK_ADS_BASE_URL", &sim.url)
        .env("TIKTOK_ACCESS_TOKEN", &sim.token)
        .args([
            "--advertiser",
            OTHER_ADV,
            "campaign",
            "create",
            "--name",
            "Too small",
            "--objective",
            "TRAFFIC",
            "--budget",
            "30",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("40002"), "{}", stderr_of(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn what_tiktok_rejects_is_rejected() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &[]);
    let t = Some(sim.token.as_str());
    let report_cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            report_query(&[("metrics", r#"["impresions"]"#)]),
            "impresions",
        ),
        (report_query(&[("data_level", "")]), "data_level"),
        (
            report_query(&[("data_level", "AUCTION_KEYWORD")]),
            "data_level",
        ),
        (
            report_query(&[("data_level", "AUCTION_AD")]),
            "campaign_id does not match",
        ),
        (
            report_query(&[(
                "dimensions",
                r#"["campaign_id","stat_time_day","stat_time_hour"]"#,
            )]),
            "at most one",
        ),
        (
            report_query(&[("dimensions", r#"["campaign_id","age"]"#)]),
            "AUDIENCE",
        ),
        (
            report_query(&[("filtering", "campaign_ids=1")]),
            "filtering",
        ),
        (
            report_query(&[("filtering", r#"{"campaign_ids":["1"]}"#)]),
            "filtering",
        ),
        (
            report_query(&[(
                "filtering",
                r#"[{"field_name":"campaign_ids","filter_type":"IN","filter_value":["1"]}]"#,
            )]),
            "filter_value",
        ),
        (report_query(&[("page", "abc")]), "page"),
        (report_query(&[("query_lifetime", "true")]), "lifetime"),
        (report_query(&[("end_date", "2025-04-10")]), "30 days"),
        (report_query(&[("report_type", "")]), "report_type"),
        (report_query(&[("metrics", r#"["ad_name"]"#)]), "ad_name"),
    ];
    for (query, needle) in report_cases {
        let (_, _, body) = get(&sim, "/report/integrated/get/", &query, t).await;
        assert_eq!(code(&body), 40002, "{query:?}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains(needle),
            "{needle}: {body}"
        );
    }
    // What the Python SDK sends for booleans is understood.
    let (_, _, body) = get(
        &sim,
        "/report/integrated/get/",
        &report_query(&[
            ("query_lifetime", "True"),
            ("dimensions", r#"["campaign_id"]"#),
        ]),
        t,
    )
    .await;
    assert_eq!(code(&body), 0, "{body}");

    let campaign = |extra: Value| {
        let mut body = json!({"advertiser_id": ADV, "campaign_name": "C", "objective_type": "TRAFFIC",
                              "budget_mode": "BUDGET_MODE_DAY", "budget": 100.0});
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        body
    };
    for (body, needle) in [
        (
            campaign(json!({"objective_type": "MAKE_MONEY"})),
            "objective_type",
        ),
        (campaign(json!({"budget_mode": null})), "budget_mode"),
        (campaign(json!({"budget": 1.0})), "budget"),
        (campaign(json!({"campaign_name": null})), "campaign_name"),
    ] {
        let (_, _, answer) = post(&sim, "/campaign/create/", body, t).await;
        assert_eq!(code(&answer), 40002, "{answer}");
        assert!(
            answer["message"].as_str().unwrap().contains(needle),
            "{answer}"
        );
    }
    // An ad group needs its placements, schedule and billing fields.
    let (_, _, list) = get(&sim, "/campaign/get/", &[("advertiser_id", ADV)], t).await;
    let campaign_id = list["data"]["list"][0]["campaign_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, _, answer) = post(
        &sim,
        "/adgroup/create/",
        json!({"advertiser_id": ADV, "campaign_id": campaign_id,
        "adgroup_name": "G", "promotion_type": "WEBSITE", "location_ids": ["6252001"],
        "budget_mode": "BUDGET_MODE_DAY", "budget": 50.0}),
        t,
    )
    .await;
    assert_eq!(code(&answer), 40002, "{answer}");

    for (path, query, needle) in [
        (
            "/bc/asset/get/",
            vec![("bc_id", "7000000000000000001")],
            "asset_type",
        ),
        (
            "/bc/asset/get/",
            vec![("bc_id", "7000000000000000001"), ("asset_type", "SHOES")],
            "asset_type",
        ),
        (
            "/campaign/get/",
            vec![("advertiser_id", ADV), ("fields", r#"["campaign_nme"]"#)],
            "campaign_nme",
        ),
        (
            "/campaign/get/",
            vec![("advertiser_id", ADV), ("filtering", r#"{"colour":"red"}"#)],
            "colour",
        ),
        (
            "/campaign/get/",
            vec![("advertiser_id", ADV), ("page_size", "5000")],
            "page_size",
        ),
    ] {
        let (_, _, body) = get(&sim, path, &query, t).await;
        assert_eq!(code(&body), 40002, "{path} {query:?}: {body}");
        assert!(body["message"].as_str().unwrap().contains(needle), "{body}");
    }
}

/// Rows of a report as (dimension values) → (metric values).
async fn report_rows(
    sim: &Simulator,
    query: &[(&str, &str)],
) -> Vec<(BTreeMap<String, String>, BTreeMap<String, String>)> {
    let (_, _, body) = get(sim, "/report/integrated/get/", query, Some(&sim.token)).await;
    assert_eq!(code(&body), 0, "{query:?}: {body}");
    let as_map = |v: &Value| {
        v.as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect::<BTreeMap<_, _>>()
    };
    body["data"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| (as_map(&row["dimensions"]), as_map(&row["metrics"])))
        .collect()
}

fn cents(value: &str) -> i64 {
    let (whole, frac) = value.split_once('.').unwrap();
    whole.parse::<i64>().unwrap() * 100 + frac.parse::<i64>().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn its_numbers_hold_together() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &[]);
    let daily = report_rows(&sim, &report_query(&[])).await;
    let totals = report_rows(&sim, &report_query(&[("dimensions", r#"["campaign_id"]"#)])).await;
    assert_eq!(totals.len(), 3, "three live campaigns");
    let (_, list) = (
        0,
        get(
            &sim,
            "/campaign/get/",
            &[("advertiser_id", ADV)],
            Some(&sim.token),
        )
        .await
        .2,
    );
    let names: BTreeMap<String, String> = list["data"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["campaign_id"].as_str().unwrap().to_string(),
                c["campaign_name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (dims, metrics) in &totals {
        let id = &dims["campaign_id"];
        assert_eq!(id.len(), 19, "TikTok's IDs have 19 digits: {id}");
        assert_eq!(
            metrics["campaign_name"], names[id],
            "attributes are the parent's"
        );
        let days: Vec<_> = daily
            .iter()
            .filter(|(d, _)| &d["campaign_id"] == id)
            .collect();
        assert_eq!(days.len(), 10);
        let spend: i64 = days.iter().map(|(_, m)| cents(&m["spend"])).sum();
        let clicks: i64 = days
            .iter()
            .map(|(_, m)| m["clicks"].parse::<i64>().unwrap())
            .sum();
        let impressions: i64 = days
            .iter()
            .map(|(_, m)| m["impressions"].parse::<i64>().unwrap())
            .sum();
        assert_eq!(
            cents(&metrics["spend"]),
            spend,
            "the total is the sum of the days"
        );
        assert_eq!(metrics["clicks"].parse::<i64>().unwrap(), clicks);
        let ctr = clicks as f64 * 100.0 / impressions as f64;
        assert!(
            (metrics["ctr"].parse::<f64>().unwrap() - ctr).abs() < 0.006,
            "ctr from its parts"
        );
    }

    // An audience breakdown splits a day exactly.
    let one_day = [("start_date", "2025-03-05"), ("end_date", "2025-03-05")];
    let basic = report_rows(
        &sim,
        &report_query(&[
            one_day[0],
            one_day[1],
            ("metrics", r#"["spend","conversion","cost_per_conversion"]"#),
        ]),
    )
    .await;
    let audience = report_rows(
        &sim,
        &report_query(&[
            one_day[0],
            one_day[1],
            ("report_type", "AUDIENCE"),
            (
                "dimensions",
                r#"["campaign_id","stat_time_day","age","gender"]"#,
            ),
            ("metrics", r#"["spend","conversion","cost_per_conversion"]"#),
        ]),
    )
    .await;
    for (dims, metrics) in &basic {
        let parts: Vec<_> = audience
            .iter()
            .filter(|(d, _)| d["campaign_id"] == dims["campaign_id"])
            .collect();
        assert!(parts.len() > 6, "several ages and genders");
        let ages: std::collections::BTreeSet<_> =
            parts.iter().map(|(d, _)| d["age"].clone()).collect();
        assert!(ages.len() > 3 && !ages.contains("-"), "{ages:?}");
        assert_eq!(
            parts.iter().map(|(_, m)| cents(&m["spend"])).sum::<i64>(),
            cents(&metrics["spend"])
        );
        for (_, m) in &parts {
            assert!(
                m["cost_per_conversion"].parse::<f64>().is_ok(),
                "a number, never '-': {m:?}"
            );
        }
    }

    // Filters are honoured.
    let one = totals[0].0["campaign_id"].clone();
    let filter = format!(
        r#"[{{"field_name":"campaign_ids","filter_type":"IN","filter_value":"[\"{one}\"]"}}]"#
    );
    let filtered = report_rows(&sim, &report_query(&[("filtering", &filter)])).await;
    assert!(!filtered.is_empty() && filtered.iter().all(|(d, _)| d["campaign_id"] == one));

    // Rows only while an ad existed: the campaign deleted in June 2025 (created February 2023)
    // has rows from its first day, seen with deleted objects included.
    let deleted_filter =
        r#"[{"field_name":"ad_status","filter_type":"IN","filter_value":"[\"STATUS_ALL\"]"}]"#;
    let early = report_rows(
        &sim,
        &report_query(&[
            ("start_date", "2023-01-20"),
            ("end_date", "2023-02-10"),
            ("filtering", deleted_filter),
        ]),
    )
    .await;
    assert!(!early.is_empty());
    assert!(
        early
            .iter()
            .all(|(d, _)| d["stat_time_day"].as_str() >= "2023-02-01"),
        "{early:?}"
    );
    let without = report_rows(
        &sim,
        &report_query(&[("start_date", "2023-01-20"), ("end_date", "2023-02-10")]),
    )
    .await;
    assert!(
        without.is_empty(),
        "a deleted campaign's spend is left out by default"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn it_answers_in_tiktoks_shapes() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &[]);
    let t = Some(sim.token.as_str());
    let (status, log_id, body) = get(&sim, "/campaign/list/", &[], t).await;
    assert_eq!((status, code(&body)), (404, 40400), "{body}");
    assert!(log_id.is_some());
    let (status, _, body) = post(&sim, "/campaign/get/", json!({}), t).await;
    assert_eq!((status, code(&body)), (405, 40000), "{body}");
    // A path without its trailing slash is answered, as TikTok does (the Singer tap relies on it).
    let (_, _, body) = get(&sim, "/user/info", &[], t).await;
    assert_eq!(code(&body), 0, "{body}");
    let (_, first_log, first) = get(&sim, "/campaign/get/", &[("advertiser_id", ADV)], t).await;
    let (_, _, second) = get(&sim, "/campaign/get/", &[("advertiser_id", ADV)], t).await;
    assert!(first_log.is_some());
    assert_ne!(
        first["request_id"], second["request_id"],
        "a fresh request_id per answer"
    );
    let campaign = &first["data"]["list"][0];
    for field in [
        "campaign_type",
        "budget_optimize_on",
        "is_smart_performance_campaign",
        "campaign_automation_type",
        "special_industries",
    ] {
        assert!(campaign.get(field).is_some(), "{field} in {campaign}");
    }
    // A create answers with the whole object, not an echo of the request.
    let (_, _, created) = post(&sim, "/campaign/create/", json!({"advertiser_id": ADV, "campaign_name": "New",
        "objective_type": "TRAFFIC", "budget_mode": "BUDGET_MODE_DAY", "budget": 60.0, "not_a_field": 1,
        "request_id": "123456789"}), t).await;
    assert_eq!(code(&created), 0, "{created}");
    assert!(created["data"].get("not_a_field").is_none());
    assert_eq!(created["data"]["campaign_type"], "REGULAR_CAMPAIGN");
    assert_eq!(created["data"]["campaign_id"].as_str().unwrap().len(), 19);
    let (_, _, replay) = post(&sim, "/campaign/create/", json!({"advertiser_id": ADV, "campaign_name": "New",
        "objective_type": "TRAFFIC", "budget_mode": "BUDGET_MODE_DAY", "budget": 60.0, "request_id": "123456789"}), t).await;
    assert_eq!(code(&replay), 40050, "{replay}");

    // Async: the download-URL form, and TikTok's titles unless asked for field names.
    let task = |extra: Value| {
        let mut body = json!({"advertiser_id": ADV, "report_type": "BASIC", "data_level": "AUCTION_CAMPAIGN",
            "dimensions": ["campaign_id", "stat_time_day"], "metrics": ["spend", "clicks"],
            "start_date": "2025-03-01", "end_date": "2025-03-02"});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let run_task = |body: Value| {
        let sim = &sim;
        async move {
            let (_, _, created) = post(sim, "/report/task/create/", body, t).await;
            let id = created["data"]["task_id"].as_str().unwrap().to_string();
            for _ in 0..3 {
                get(
                    sim,
                    "/report/task/check/",
                    &[("advertiser_id", ADV), ("task_id", &id)],
                    t,
                )
                .await;
            }
            id
        }
    };
    let id = run_task(task(json!({}))).await;
    let (_, _, csv) = get(
        &sim,
        "/report/task/download/",
        &[("advertiser_id", ADV), ("task_id", &id)],
        t,
    )
    .await;
    let csv = csv.as_str().unwrap().to_string();
    assert!(
        csv.starts_with("Campaign ID,By Day,Cost,Clicks (Destination)"),
        "{csv}"
    );
    assert!(
        csv.contains(" 00:00:00,"),
        "days as TikTok writes them: {csv}"
    );
    let id = run_task(task(
        json!({"output_format": "CSV_DOWNLOAD", "enable_report_title_translation": false}),
    ))
    .await;
    let (_, _, link) = get(
        &sim,
        "/report/task/download/",
        &[("advertiser_id", ADV), ("task_id", &id)],
        t,
    )
    .await;
    let url = link["data"]["download_url"].as_str().unwrap();
    let file = http().get(url).send().await.unwrap().text().await.unwrap();
    assert!(
        file.starts_with("campaign_id,stat_time_day,spend,clicks\n"),
        "{file}"
    );
    let forged = url.replace("sign=", "sign=0");
    assert_eq!(
        http().get(forged).send().await.unwrap().status().as_u16(),
        403
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn faults_set_at_run_time_are_survived_and_the_log_hides_secrets() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &[]);
    let run = || {
        env.cmd()
            .env("TIKTOK_ADS_BASE_URL", &sim.url)
            .env("TIKTOK_ACCESS_TOKEN", &sim.token)
            .env("TIKTOK_APP_SECRET", &sim.app_secret)
            .args([
                "--advertiser",
                ADV,
                "--retry-base-ms",
                "1",
                "report",
                "run",
                "--start",
                "2025-03-01",
                "--end",
                "2025-03-31",
                "--level",
                "ad",
            ])
            .output()
            .unwrap()
    };
    let clean = run();
    assert!(clean.status.success(), "{}", stderr_of(&clean));
    let faults = json!({"rate_limit_next": 2, "http_429_next": 1, "retry_after": 1,
                        "server_error_next": 2, "truncate_next": 2, "endpoint": "/report/integrated/get/"});
    let set = sim.control("POST", "/_mock/faults", &faults.to_string());
    assert_eq!(set["truncate_next"], 2, "{set}");
    let faulty = run();
    assert!(faulty.status.success(), "{}", stderr_of(&faulty));
    assert_eq!(
        stdout_of(&faulty),
        stdout_of(&clean),
        "the same rows despite the faults"
    );
    let left = sim.control("GET", "/_mock/faults", "");
    assert_eq!(
        (
            left["rate_limit_next"].as_u64(),
            left["truncate_next"].as_u64()
        ),
        (Some(0), Some(0))
    );

    let log = sim.control("GET", "/_mock/requests", "");
    let text = log.to_string();
    assert!(!text.contains(&sim.token), "no token in the request log");
    let statuses: Vec<u64> = log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["status"].as_u64())
        .collect();
    assert!(
        statuses.contains(&429) && statuses.contains(&503),
        "{statuses:?}"
    );
    assert!(
        log["requests"][0]["access_token"] == "[redacted]",
        "{}",
        log["requests"][0]
    );
    sim.control("POST", "/_mock/reset", "{}");
    assert_eq!(
        sim.control("GET", "/_mock/requests", "")["requests"],
        json!([])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_state_file_keeps_objects_and_tokens_across_restarts() {
    let env = TestEnv::new().await;
    let file = env.dir.path().join("mock-state.json");
    let file_arg = file.to_str().unwrap().to_string();
    let created_id;
    let token;
    {
        let sim = Simulator::start(&env, &["--state-file", &file_arg]);
        token = sim.token.clone();
        let (_, _, created) = post(
            &sim,
            "/campaign/create/",
            json!({"advertiser_id": ADV, "campaign_name": "Kept",
            "objective_type": "TRAFFIC", "budget_mode": "BUDGET_MODE_DAY", "budget": 70.0}),
            Some(&token),
        )
        .await;
        created_id = created["data"]["campaign_id"].as_str().unwrap().to_string();
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let sim = Simulator::start(&env, &["--state-file", &file_arg]);
    let filter = format!(r#"{{"campaign_ids":["{created_id}"]}}"#);
    let (_, _, list) = get(
        &sim,
        "/campaign/get/",
        &[("advertiser_id", ADV), ("filtering", &filter)],
        Some(&token),
    )
    .await;
    assert_eq!(list["data"]["list"][0]["campaign_name"], "Kept", "{list}");
}

#[tokio::test(flavor = "multi_thread")]
async fn any_fault_can_be_set_from_the_start() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(
        &env,
        &[
            "--fault",
            "rate_limit_next=2",
            "--fault",
            "endpoint=/report/integrated/get/",
        ],
    );
    let faults = sim.control("GET", "/_mock/faults", "");
    assert_eq!(faults["rate_limit_next"], 2, "{faults}");
    assert_eq!(faults["endpoint"], "/report/integrated/get/", "{faults}");
    let out = env
        .cmd()
        .args(["mock", "--port", "0", "--fault", "no_such_fault=1"])
        .output()
        .unwrap();
    assert_fails(&out, 2, "no_such_fault");
}

/// POST a multipart body (text fields, then a file part) under the API prefix.
async fn post_form(
    sim: &Simulator,
    path: &str,
    fields: Vec<(&'static str, String)>,
    file: Option<(&'static str, &str, Vec<u8>)>,
) -> Value {
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in fields {
        form = form.text(name, value);
    }
    if let Some((field, name, bytes)) = file {
        let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_string());
        form = form.part(field, part);
    }
    let response = http()
        .post(format!("{}/open_api/v1.3{path}", sim.url))
        .header("Access-Token", &sim.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    answer(response).await.2
}

fn md5_hex(bytes: &[u8]) -> String {
    use md5::Digest;
    md5::Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn its_creative_library_checks_what_tiktok_checks() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(
        &env,
        &["--video-ready-secs", "0", "--fault", "chunk_size=1048576"],
    );
    let video = [&[0, 0, 0, 0x18][..], b"ftypisom", &[5u8; 4000]].concat();
    let upload = |name: &str, signature: String, bytes: Vec<u8>| {
        let fields = vec![
            ("advertiser_id", ADV.to_string()),
            ("file_name", name.to_string()),
            ("video_signature", signature),
        ];
        post_form(
            &sim,
            "/file/video/ad/upload/",
            fields,
            Some(("video_file", "f", bytes)),
        )
    };
    let wrong = upload("a", "0".repeat(32), video.clone()).await;
    assert_eq!(code(&wrong), 40900, "{wrong}");
    let text = upload("a", md5_hex(b"hello"), b"hello".to_vec()).await;
    assert_eq!(code(&text), 40908, "{text}");
    let empty = upload("a", md5_hex(b""), Vec::new()).await;
    assert_eq!(code(&empty), 40906, "{empty}");
    let first = upload("a", md5_hex(&video), video.clone()).await;
    assert_eq!(code(&first), 0, "{first}");
    let taken = upload("a", md5_hex(&video), video.clone()).await;
    assert_eq!(code(&taken), 40911, "names are unique per account: {taken}");
    let second = upload("b", md5_hex(&video), video.clone()).await;
    assert_ne!(
        first["data"][0]["video_id"], second["data"][0]["video_id"],
        "every upload makes a new ID"
    );

    // The chunked path: offsets in order, each chunk's MD5 checked.
    let size = 20 * 1024 * 1024 + 10;
    let mut big = [&[0, 0, 0, 0x18][..], b"ftypisom", &[1u8; 12]].concat();
    big.resize(size, 9);
    let (_, _, started) = post(
        &sim,
        "/file/start/upload/",
        json!({"advertiser_id": ADV, "size": size, "content_type": "video", "name": "big"}),
        Some(&sim.token),
    )
    .await;
    assert_eq!(started["data"]["end_offset"], 1_048_576, "{started}");
    let upload_id = started["data"]["upload_id"].as_str().unwrap().to_string();
    let chunk = |offset: usize, signature: Option<String>| {
        let bytes = big[offset..(offset + 1_048_576).min(size)].to_vec();
        let fields = vec![
            ("advertiser_id", ADV.to_string()),
            ("upload_id", upload_id.clone()),
            ("start_offset", offset.to_string()),
            ("signature", signature.unwrap_or_else(|| md5_hex(&bytes))),
        ];
        post_form(
            &sim,
            "/file/transfer/upload/",
            fields,
            Some(("file", "f", bytes)),
        )
    };
    let skipped = chunk(1_048_576, None).await;
    assert_eq!(code(&skipped), 40002, "a chunk out of order: {skipped}");
    let damaged = chunk(0, Some("0".repeat(32))).await;
    assert_eq!(code(&damaged), 40900, "{damaged}");
    let taken = chunk(0, None).await;
    assert_eq!(taken["data"]["start_offset"], 1_048_576, "{taken}");
    let again = chunk(0, None).await;
    assert_eq!(
        again["data"], taken["data"],
        "the same chunk again is answered as before"
    );
    let (_, _, early) = post(
        &sim,
        "/file/finish/upload/",
        json!({"advertiser_id": ADV, "upload_id": upload_id}),
        Some(&sim.token),
    )
    .await;
    assert_eq!(code(&early), 40002, "not every byte arrived: {early}");
    sim.control("POST", "/_mock/uploads/expire", "");
    let expired = chunk(1_048_576, None).await;
    assert_eq!(code(&expired), 40910, "{expired}");
    let (_, _, unknown) = post(
        &sim,
        "/file/video/ad/upload/",
        json!({"advertiser_id": ADV, "upload_type": "UPLOAD_BY_FILE_ID", "file_id": "123"}),
        Some(&sim.token),
    )
    .await;
    assert_eq!(code(&unknown), 40905, "{unknown}");
    let (_, _, other) = get(
        &sim,
        "/file/video/ad/info/",
        &[("advertiser_id", OTHER_ADV), ("video_ids", "[\"x\"]")],
        Some(&sim.token),
    )
    .await;
    assert_eq!(code(&other), 0, "{other}");
    assert_eq!(
        other["data"]["list"],
        json!([]),
        "another account's library is its own"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn its_customer_files_must_be_what_their_type_says() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &[]);
    let upload = |name: &'static str, calculate_type: &str, bytes: Vec<u8>| {
        let fields = vec![
            ("advertiser_id", ADV.to_string()),
            ("file_signature", md5_hex(&bytes)),
            ("calculate_type", calculate_type.to_string()),
        ];
        post_form(
            &sim,
            "/dmp/custom_audience/file/upload/",
            fields,
            Some(("file", name, bytes)),
        )
    };
    let hash = |n: usize| format!("{n:064x}");
    let hashes: String = (0..3).map(|n| format!("{}\n", hash(n))).collect();
    let accepted = upload("a.txt", "EMAIL_SHA256", hashes.clone().into_bytes()).await;
    assert_eq!(code(&accepted), 0, "{accepted}");
    let named = upload("a.xlsx", "EMAIL_SHA256", hashes.clone().into_bytes()).await;
    assert_eq!(code(&named), 40908, "{named}");
    let raw = upload("a.txt", "EMAIL_SHA256", b"jane@example.com\n".to_vec()).await;
    assert_eq!(code(&raw), 40909, "raw emails are not SHA-256 lines: {raw}");
    let md5_width = upload("a.txt", "GAID_MD5", hashes.clone().into_bytes()).await;
    assert_eq!(code(&md5_width), 40909, "{md5_width}");
    let unknown = upload("a.txt", "EMAIL_PLAIN", hashes.clone().into_bytes()).await;
    assert_eq!(code(&unknown), 40002, "{unknown}");

    // Several kinds: a header naming the columns, one customer a line.
    let rows = format!("Email_SHA256,Phone_SHA256\n{},\n,{}\n", hash(1), hash(2));
    let several = upload("b.csv", "MULTIPLE_TYPES", rows.clone().into_bytes()).await;
    assert_eq!(code(&several), 0, "{several}");
    let no_header = upload("b.csv", "MULTIPLE_TYPES", hashes.into_bytes()).await;
    assert_eq!(code(&no_header), 40909, "{no_header}");
    let four = format!("{}\n{}\n", ["EMAIL_SHA256"; 4].join(","), hash(1));
    let too_many = upload("b.csv", "MULTIPLE_TYPES", four.into_bytes()).await;
    assert_eq!(code(&too_many), 40909, "{too_many}");
    let short = format!("Email_SHA256,Phone_SHA256\n{}\n,\n", hash(1));
    let bad_rows = upload("b.csv", "MULTIPLE_TYPES", short.into_bytes()).await;
    assert_eq!(code(&bad_rows), 40909, "{bad_rows}");

    // A file of one type does not make an audience of another.
    let (_, _, mixed) = post(
        &sim,
        "/dmp/custom_audience/create/",
        json!({"advertiser_id": ADV, "custom_audience_name": "x", "calculate_type": "PHONE_SHA256",
               "file_paths": [accepted["data"]["file_path"]]}),
        Some(&sim.token),
    )
    .await;
    assert_ne!(code(&mixed), 0, "{mixed}");
}
