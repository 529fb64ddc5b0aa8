//! `audience …` against the simulator's DMP endpoints: raw customer IDs never leave the
//! machine (the simulator's request log, stderr with -vv and the temporary directory prove
//! it), the preview sends and writes nothing, updates say their action and keep to the
//! 1,000 floor, bad lists are refused before anything is sent.

use serde_json::Value;

use crate::support::*;

/// `n` customers with emails (in mixed case, with +tags) and a phone column.
fn customers(n: usize) -> String {
    let mut text = String::from("Name,Email,Phone\n");
    for i in 0..n {
        text.push_str(&format!(
            "Person {i},Person.{i}+Shop@Example.COM,+1 657 555 {:04}\n",
            i % 10_000
        ));
    }
    text
}

/// A simulator, and a temporary directory of the test's own for the tool (`TMPDIR`).
async fn started(args: &[&str]) -> (TestEnv, Simulator, std::path::PathBuf) {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, args);
    let tmp = env.dir.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    (env, sim, tmp)
}

fn write(env: &TestEnv, name: &str, text: &str) {
    std::fs::write(env.work_dir().join(name), text).unwrap();
}

fn audience(
    sim: &Simulator,
    env: &TestEnv,
    tmp: &std::path::Path,
    args: &[&str],
) -> std::process::Output {
    sim.cmd(env)
        .env("TMPDIR", tmp)
        .arg("audience")
        .args(args)
        .output()
        .unwrap()
}

/// `audience create --name NAME --from FILE` and `extra`.
fn create(
    sim: &Simulator,
    env: &TestEnv,
    tmp: &std::path::Path,
    name: &str,
    from: &str,
    extra: &[&str],
) -> std::process::Output {
    let args = [&["create", "--name", name, "--from", from][..], extra].concat();
    audience(sim, env, tmp, &args)
}

fn uploads(sim: &Simulator) -> Vec<Value> {
    sim.requests()
        .into_iter()
        .filter(|r| r["path"] == "/dmp/custom_audience/file/upload/")
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn raw_values_never_leave_the_machine_and_a_preview_sends_nothing() {
    let (env, sim, tmp) = started(&[]).await;
    write(
        &env,
        "customers.csv",
        &format!("{}Broken,no-at-sign,\n", customers(1_500)),
    );

    let dry = create(
        &sim,
        &env,
        &tmp,
        "CRM",
        "customers.csv",
        &["--column", "email", "--dry-run"],
    );
    assert!(dry.status.success(), "{}", stderr_of(&dry));
    let preview = stderr_of(&dry);
    for expected in [
        "1,501 rows read; 1,500 values valid (0 already hashed), 1 invalid",
        "invalid: 1 email without @ (first on lines 1502)",
        "read Email (email) → EMAIL_SHA256",
        "1,500 distinct hashes in 1 part: part 1: 1,500 lines, 97,500 bytes",
        "nothing was sent or written",
    ] {
        assert!(preview.contains(expected), "{expected:?} not in\n{preview}");
    }
    assert!(
        sim.requests().is_empty(),
        "a preview asks nothing of TikTok"
    );
    // Nor does it need an account or a login.
    let offline = env
        .cmd()
        .env("TMPDIR", &tmp)
        .args(["audience", "create", "--name", "CRM", "--dry-run"])
        .args(["--from", "customers.csv", "--column", "email"])
        .output()
        .unwrap();
    assert!(offline.status.success(), "{}", stderr_of(&offline));

    let created = audience(
        &sim,
        &env,
        &tmp,
        &[
            "-vv",
            "create",
            "--name",
            "CRM",
            "--from",
            "customers.csv",
            "--column",
            "email",
        ],
    );
    assert!(created.status.success(), "{}", stderr_of(&created));
    let id = stdout_of(&created).trim().to_string();
    assert!(
        id.chars().all(|c| c.is_ascii_digit()) && !id.is_empty(),
        "{id}"
    );
    let sent = uploads(&sim);
    assert_eq!(sent.len(), 1);
    let lines = sent[0]["body"]["file_lines"].as_array().unwrap();
    assert_eq!(lines.len(), 1_500);
    assert!(lines.iter().all(|l| {
        l.as_str()
            .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
    }));
    assert_eq!(sent[0]["body"]["calculate_type"], "EMAIL_SHA256");
    let everything = format!(
        "{}{}",
        serde_json::to_string(&sim.requests()).unwrap(),
        stderr_of(&created)
    );
    for raw in [
        "person.7",
        "Person.7",
        "example.com",
        "Example.COM",
        "657 555",
    ] {
        assert!(
            !everything.contains(raw),
            "{raw:?} left the machine or reached the log"
        );
    }
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().collect();
    assert!(
        left.is_empty(),
        "nothing left in the temporary directory: {left:?}"
    );

    let got = audience(&sim, &env, &tmp, &["get", &id, "--format", "json"]);
    let rows: Vec<Value> = serde_json::from_str(&stdout_of(&got)).unwrap();
    assert_eq!(rows[0]["status"], "ready");
    assert!(rows[0]["cover_num"].as_u64().unwrap() > 0);
    let twin = create(
        &sim,
        &env,
        &tmp,
        "CRM",
        "customers.csv",
        &["--column", "email"],
    );
    assert_fails(&twin, 2, "already has an audience named \"CRM\"");
}

#[tokio::test(flavor = "multi_thread")]
async fn updates_say_their_action_and_keep_to_the_floor() {
    let (env, sim, tmp) = started(&[]).await;
    write(&env, "customers.csv", &customers(1_500));
    let created = create(
        &sim,
        &env,
        &tmp,
        "CRM",
        "customers.csv",
        &["--column", "email"],
    );
    let id = stdout_of(&created).trim().to_string();
    write(
        &env,
        "few.csv",
        "email\nnew.one@example.com\nnew.two@example.com\n",
    );
    let append = audience(&sim, &env, &tmp, &["append", &id, "--from", "few.csv"]);
    assert!(append.status.success(), "{}", stderr_of(&append));
    let updates: Vec<Value> = sim
        .requests()
        .into_iter()
        .filter(|r| r["path"] == "/dmp/custom_audience/update/")
        .collect();
    assert_eq!(
        updates[0]["body"]["action"], "APPEND",
        "the action is always said"
    );
    let replace = audience(&sim, &env, &tmp, &["replace", &id, "--from", "few.csv"]);
    assert_fails(&replace, 2, "REPLACE would leave audience");
    write(&env, "many.csv", &customers(600));
    let remove = audience(
        &sim,
        &env,
        &tmp,
        &["remove", &id, "--from", "many.csv", "--column", "email"],
    );
    assert_fails(&remove, 2, "could leave fewer than 1000");
    let posts = sim
        .requests()
        .iter()
        .filter(|r| r["method"] == "POST")
        .count();
    assert_eq!(
        posts, 4,
        "nothing sent for the refused ones: an upload and a create, an upload and an update"
    );

    let deleted = audience(&sim, &env, &tmp, &["delete", &id]);
    assert_fails(&deleted, 2, "needs --yes");
    let deleted = audience(&sim, &env, &tmp, &["delete", &id, "--yes"]);
    assert!(deleted.status.success(), "{}", stderr_of(&deleted));
    let gone = audience(&sim, &env, &tmp, &["get", &id]);
    assert_fails(&gone, 6, &format!("no audience {id}"));
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_lists_are_refused_before_anything_is_sent() {
    let (env, sim, tmp) = started(&[]).await;
    let run = |name: &str, extra: &[&str]| {
        audience(
            &sim,
            &env,
            &tmp,
            &[&["create", "--name", "x", "--from", name][..], extra].concat(),
        )
    };
    write(&env, "empty.csv", "");
    assert_fails(&run("empty.csv", &[]), 2, "is empty");
    write(&env, "names.csv", "name,city\nJane,Paris\n");
    assert_fails(
        &run("names.csv", &[]),
        2,
        "no email, phone, idfa or gaid column among its headers (name, city)",
    );
    std::fs::write(env.work_dir().join("list.xlsx"), b"PK\x03\x04\0\0\0").unwrap();
    assert_fails(&run("list.xlsx", &[]), 2, "is not text");
    write(&env, "customers.csv", &customers(10));
    assert_fails(&run("customers.csv", &[]), 2, "columns of different kinds");
    write(&env, "phones.txt", "(657) 555-0100\n(657) 555-0101\n");
    assert_fails(&run("phones.txt", &[]), 2, "--default-country");
    let us = run("phones.txt", &["--default-country", "US", "--dry-run"]);
    assert!(
        stderr_of(&us).contains("2 distinct hashes"),
        "{}",
        stderr_of(&us)
    );
    assert!(
        stderr_of(&us).contains("fewer than 1000"),
        "a warning, not a refusal"
    );
    assert!(sim.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn several_kinds_go_together_as_rows_with_type_multiple() {
    let (env, sim, tmp) = started(&[]).await;
    write(&env, "customers.csv", &customers(1_200));
    let created = create(
        &sim,
        &env,
        &tmp,
        "Both",
        "customers.csv",
        &["--type", "multiple"],
    );
    assert!(created.status.success(), "{}", stderr_of(&created));
    assert!(
        stderr_of(&created).contains("read Email (email), Phone (phone) → MULTIPLE_TYPES"),
        "{}",
        stderr_of(&created)
    );
    let sent = uploads(&sim);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["body"]["calculate_type"], "MULTIPLE_TYPES");
    let lines: Vec<String> = sent_lines(&sent[0]);
    assert_eq!(
        lines[0], "Email_SHA256,Phone_SHA256",
        "the header names the columns"
    );
    assert_eq!(lines.len(), 1 + 1_200, "one row a customer");
    let sha256 = |text: &str| {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(text))
    };
    let row = format!(
        "{},{}",
        sha256("person7@example.com"),
        sha256("16575550007")
    );
    assert!(
        lines.contains(&row),
        "person 7's email and phone on one row"
    );
    let everything = serde_json::to_string(&sim.requests()).unwrap();
    assert!(!everything.contains("example.com") && !everything.contains("657 555"));
    let id = stdout_of(&created).trim().to_string();
    let got = audience(&sim, &env, &tmp, &["get", &id, "--format", "json"]);
    let rows: Vec<Value> = serde_json::from_str(&stdout_of(&got)).unwrap();
    assert_eq!(rows[0]["calculate_type"], "MULTIPLE_TYPES");
    let sync = audience(
        &sim,
        &env,
        &tmp,
        &[
            "sync",
            &id,
            "--from",
            "customers.csv",
            "--type",
            "multiple",
            "--yes",
        ],
    );
    assert_fails(&sync, 2, "sync each kind into an audience of its own");
}

/// A list of `range` customers' emails (one value per line).
fn emails(range: std::ops::Range<usize>) -> String {
    range
        .map(|i| format!("customer.{i}@example.com\n"))
        .collect()
}

/// The hash TikTok matches for customer `i` (dots before the @ removed).
fn hashed(i: usize) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(format!("customer{i}@example.com")))
}

fn sent_lines(request: &Value) -> Vec<String> {
    request["body"]["file_lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_sends_only_the_difference_and_resumes_without_sending_parts_twice() {
    let (env, sim, tmp) = started(&[]).await;
    write(&env, "crm.txt", &emails(0..1_500));
    let created = audience(
        &sim,
        &env,
        &tmp,
        &["create", "--name", "CRM", "--from", "crm.txt"],
    );
    let id = stdout_of(&created).trim().to_string();

    let asked = audience(&sim, &env, &tmp, &["sync", &id, "--from", "crm.txt"]);
    assert_fails(&asked, 2, "add --yes");
    assert!(stderr_of(&asked).contains("REPLACES its people with the list's 1,500 hashes"));
    let first = audience(
        &sim,
        &env,
        &tmp,
        &["sync", &id, "--from", "crm.txt", "--yes"],
    );
    assert!(first.status.success(), "{}", stderr_of(&first));
    let updates = |sim: &Simulator| -> Vec<String> {
        sim.requests()
            .into_iter()
            .filter(|r| r["path"] == "/dmp/custom_audience/update/")
            .map(|r| r["body"]["action"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(updates(&sim), ["REPLACE"]);

    // Ten customers gone, twenty new.
    write(&env, "crm.txt", &emails(10..1_520));
    let before = uploads(&sim).len();
    let second = audience(&sim, &env, &tmp, &["sync", &id, "--from", "crm.txt"]);
    assert!(second.status.success(), "{}", stderr_of(&second));
    assert!(
        stderr_of(&second).contains("since the last sync: 20 to add, 10 to remove"),
        "{}",
        stderr_of(&second)
    );
    let sent = uploads(&sim);
    assert_eq!(
        sent.len() - before,
        2,
        "one part of additions, one of removals"
    );
    let mut added = sent_lines(&sent[before]);
    let mut expected: Vec<String> = (1_500..1_520).map(hashed).collect();
    added.sort();
    expected.sort();
    assert_eq!(added, expected, "exactly the new customers' hashes");
    let mut removed = sent_lines(&sent[before + 1]);
    let mut gone: Vec<String> = (0..10).map(hashed).collect();
    removed.sort();
    gone.sort();
    assert_eq!(removed, gone);
    assert_eq!(updates(&sim), ["REPLACE", "APPEND", "REMOVE"]);

    let again = audience(&sim, &env, &tmp, &["sync", &id, "--from", "crm.txt"]);
    assert!(stderr_of(&again).contains("0 to add, 0 to remove"));
    assert_eq!(
        uploads(&sim).len(),
        sent.len(),
        "nothing sent when nothing changed"
    );

    // A run cut after its upload: the next one does not upload that part again.
    write(&env, "crm.txt", &emails(10..1_530));
    sim.control(
        "POST",
        "/_mock/faults",
        r#"{"server_error_next": 1, "endpoint": "/dmp/custom_audience/update/"}"#,
    );
    let cut = sim
        .cmd(&env)
        .env("TMPDIR", &tmp)
        .args([
            "--max-retries",
            "0",
            "audience",
            "sync",
            &id,
            "--from",
            "crm.txt",
        ])
        .output()
        .unwrap();
    assert_eq!(cut.status.code(), Some(5), "{}", stderr_of(&cut));
    let uploaded = uploads(&sim).len();
    let resumed = audience(&sim, &env, &tmp, &["sync", &id, "--from", "crm.txt"]);
    assert!(resumed.status.success(), "{}", stderr_of(&resumed));
    assert!(stderr_of(&resumed).contains("was uploaded by the interrupted run: not sent again"));
    assert_eq!(uploads(&sim).len(), uploaded, "no part sent twice");
    assert_eq!(updates(&sim).last().map(String::as_str), Some("APPEND"));
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
    let records: Vec<_> = walk(&env.dir.path().join("home"))
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("audiences"))
        .collect();
    assert!(
        !records.is_empty(),
        "the sync keeps its record in the state directory"
    );
    for record in records {
        let text = std::fs::read_to_string(&record).unwrap();
        assert!(
            text.lines()
                .all(|l| l.len() == 64 && l.bytes().all(|b| b.is_ascii_hexdigit())),
            "{} holds hashes only",
            record.display()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn wait_returns_once_tiktok_has_matched_and_says_when_it_has_not() {
    let (env, sim, tmp) = started(&["--audience-ready-secs", "1"]).await;
    write(&env, "crm.txt", &emails(0..1_200));
    let created = audience(
        &sim,
        &env,
        &tmp,
        &["create", "--name", "CRM", "--from", "crm.txt"],
    );
    let id = stdout_of(&created).trim().to_string();
    let got = audience(&sim, &env, &tmp, &["get", &id, "--format", "json"]);
    let rows: Vec<Value> = serde_json::from_str(&stdout_of(&got)).unwrap();
    assert_eq!(
        rows[0]["status"], "calculating",
        "not valid, no error, not expired"
    );
    let impatient = audience(&sim, &env, &tmp, &["wait", &id, "--wait-timeout", "0"]);
    assert_fails(&impatient, 5, "still calculating");
    let waited = audience(
        &sim,
        &env,
        &tmp,
        &["wait", &id, "--poll-secs", "0.2", "--format", "json"],
    );
    assert!(waited.status.success(), "{}", stderr_of(&waited));
    let rows: Vec<Value> = serde_json::from_str(&stdout_of(&waited)).unwrap();
    assert_eq!(rows[0]["status"], "ready");
}

#[tokio::test(flavor = "multi_thread")]
async fn lookalikes_and_shares() {
    let (env, sim, tmp) = started(&[]).await;
    write(&env, "crm.txt", &emails(0..1_200));
    let created = audience(
        &sim,
        &env,
        &tmp,
        &["create", "--name", "CRM", "--from", "crm.txt"],
    );
    let id = stdout_of(&created).trim().to_string();
    let like = audience(
        &sim,
        &env,
        &tmp,
        &[
            "lookalike",
            "--source",
            &id,
            "--name",
            "Like CRM",
            "--size",
            "balanced",
            "--location",
            "6252001",
        ],
    );
    assert!(like.status.success(), "{}", stderr_of(&like));
    let like_id = stdout_of(&like).trim().to_string();
    let sent = sim
        .requests()
        .into_iter()
        .find(|r| r["path"] == "/dmp/custom_audience/lookalike/create/")
        .unwrap();
    assert_eq!(sent["body"]["lookalike_spec"]["audience_size"], "BALANCED");
    assert_eq!(sent["body"]["lookalike_spec"]["mobile_os"], "ALL");
    let of_like = audience(
        &sim,
        &env,
        &tmp,
        &[
            "lookalike",
            "--source",
            &like_id,
            "--name",
            "x",
            "--size",
            "narrow",
            "--location",
            "1",
        ],
    );
    assert_fails(&of_like, 4, "cannot be the source of another lookalike");
    let shared = audience(
        &sim,
        &env,
        &tmp,
        &["share", &id, "--to", "7300000000000000002"],
    );
    assert!(shared.status.success(), "{}", stderr_of(&shared));
    let seen = sim
        .cmd(&env)
        .args([
            "--advertiser",
            "7300000000000000002",
            "audience",
            "list",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let rows: Vec<Value> = serde_json::from_str(&stdout_of(&seen)).unwrap();
    assert_eq!(rows.len(), 1, "the other account sees the shared audience");
    assert_eq!(rows[0]["audience_id"], id.as_str());
}

#[tokio::test(flavor = "multi_thread")]
async fn audiences_expire_on_the_simulators_clock() {
    let (env, sim, tmp) = started(&[]).await;
    write(&env, "crm.txt", &emails(0..1_100));
    let created = create(&sim, &env, &tmp, "Short", "crm.txt", &["--retention", "1"]);
    let id = stdout_of(&created).trim().to_string();
    let sent = sim
        .requests()
        .into_iter()
        .find(|r| r["path"] == "/dmp/custom_audience/create/")
        .unwrap();
    assert_eq!(sent["body"]["retention_in_days"], 1);
    let clock = sim.control("POST", "/_mock/clock", r#"{"advance_secs": 172800}"#);
    let raw = sim
        .cmd(&env)
        .args(["api", "GET", "/dmp/custom_audience/get/", "-f"])
        .arg(format!("custom_audience_ids=[\"{id}\"]"))
        .args(["-f", &format!("advertiser_id={SIM_ADVERTISER}")])
        .output()
        .unwrap();
    let data: Value = serde_json::from_str(&stdout_of(&raw)).unwrap();
    let details = &data["list"][0]["audience_details"];
    assert_eq!(details["is_valid"], false, "{details}");
    assert_eq!(details["msg"], "Expired");
    assert!(
        details["expired_time"].as_str().unwrap() < clock["now"].as_str().unwrap(),
        "expired on the simulator's clock: {details}"
    );
    // The simulator's clock is two days ahead of this machine's: TikTok's word decides.
    let got = audience(&sim, &env, &tmp, &["get", &id, "--format", "json"]);
    let rows: Vec<Value> = serde_json::from_str(&stdout_of(&got)).unwrap();
    assert_eq!(rows[0]["status"], "expired", "{}", stdout_of(&got));
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_into_a_database_keeps_its_record_there() {
    let (env, sim, tmp) = started(&[]).await;
    write(&env, "crm.txt", &emails(0..1_500));
    let created = audience(
        &sim,
        &env,
        &tmp,
        &["create", "--name", "CRM", "--from", "crm.txt"],
    );
    let id = stdout_of(&created).trim().to_string();
    let into = format!("sqlite:{}", env.work_dir().join("aud.db").display());
    let first = audience(
        &sim,
        &env,
        &tmp,
        &["sync", &id, "--from", "crm.txt", "--yes", "--into", &into],
    );
    assert!(first.status.success(), "{}", stderr_of(&first));
    write(&env, "crm.txt", &emails(5..1_505));
    let second = audience(
        &sim,
        &env,
        &tmp,
        &["sync", &id, "--from", "crm.txt", "--into", &into],
    );
    assert!(second.status.success(), "{}", stderr_of(&second));
    assert!(
        stderr_of(&second).contains("since the last sync: 5 to add, 5 to remove"),
        "{}",
        stderr_of(&second)
    );
    let db = rusqlite::Connection::open(env.work_dir().join("aud.db")).unwrap();
    let (count, raw): (i64, i64) = db
        .query_row(
            "SELECT count(*), sum(hash LIKE '%@%') FROM audience_sync_hashes WHERE audience_id = ?1",
            [&id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((count, raw), (1_500, 0), "hashes only, the whole list");
    let state_files: Vec<_> = walk(&env.dir.path().join("home"))
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".hashes"))
        .collect();
    assert!(
        state_files.is_empty(),
        "the record is in the database: {state_files:?}"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                found.extend(walk(&path));
            } else {
                found.push(path);
            }
        }
    }
    found
}
