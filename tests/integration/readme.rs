//! The README's examples, run as written against `tiktok-ads mock`, so that they cannot drift
//! from what the tool does. Every `sh` block runs in one shell (variables such as `$id` and
//! `$task` flow between its lines) with the README's example IDs swapped for the simulator's.
//! Lines that cannot run here are left out: a browser login, starting a server, another
//! shell's syntax (zsh, PowerShell), building the project itself.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::*;

/// The contents of the README's ```sh blocks, continuation lines joined.
fn sh_blocks(readme: &str) -> Vec<Vec<String>> {
    let mut blocks = Vec::new();
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        if line.trim() != "```sh" {
            continue;
        }
        let mut block = Vec::new();
        let mut pending = String::new();
        for line in lines.by_ref() {
            if line.trim() == "```" {
                break;
            }
            match line.strip_suffix('\\') {
                Some(start) => pending.push_str(start),
                None => {
                    pending.push_str(line);
                    block.push(std::mem::take(&mut pending));
                }
            }
        }
        blocks.push(block);
    }
    blocks
}

/// Whether a README line can run in a test: a command, not a comment, nor one of the kinds
/// above.
fn runnable(line: &str) -> bool {
    let line = line.trim();
    let skipped = ["tiktok-ads mock", "${fpath", "$PROFILE"];
    let browser_login = line.contains("auth login") && !line.contains("--with-token");
    !line.is_empty()
        && !line.starts_with('#')
        && !line.starts_with("cargo ")
        && !line.starts_with("tests/")
        && !browser_login
        && !skipped.iter().any(|s| line.contains(s))
}

/// IDs of the simulator's seeded objects, read with the tool itself.
fn ids(env: &TestEnv, sim: &Simulator, command: &[&str], field: &str) -> Vec<String> {
    let out = env
        .cmd()
        .env("TIKTOK_ADS_BASE_URL", &sim.url)
        .env("TIKTOK_ACCESS_TOKEN", &sim.token)
        .args(["--advertiser", "7300000000000000001", "--format", "json"])
        .args(command)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    rows.iter()
        .map(|r| r[field].as_str().unwrap().to_string())
        .collect()
}

fn shim(dir: &Path, name: &str, body: &str) {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// The media the creative examples upload (`launch/` and `spring.mp4`), uploaded once here
/// for the IDs the examples name: the examples then find them recorded.
fn example_media(env: &TestEnv, sim: &Simulator) -> (String, String) {
    let launch = env.work_dir().join("launch");
    std::fs::create_dir_all(&launch).unwrap();
    let video = [&[0, 0, 0, 0x18][..], b"ftypisom", &[7; 4000]].concat();
    std::fs::write(launch.join("spring.mp4"), &video).unwrap();
    std::fs::write(env.work_dir().join("spring.mp4"), &video).unwrap();
    let mut png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
    png.extend(b"IHDR");
    png.extend(720u32.to_be_bytes());
    png.extend(1280u32.to_be_bytes());
    png.extend([8, 6, 0, 0, 0, 0, 0, 0, 0]);
    std::fs::write(launch.join("cover.png"), &png).unwrap();
    let uploaded = ids(env, sim, &["creative", "upload", "launch"], "id");
    (uploaded[1].clone(), uploaded[0].clone())
}

/// The customer lists the audience examples read, and an audience of 3,000 for the examples
/// that name one (its ID).
fn example_audience(env: &TestEnv, sim: &Simulator) -> String {
    let list = |range: std::ops::Range<usize>| -> String {
        std::iter::once("email\n".to_string())
            .chain(range.map(|i| format!("buyer.{i}@example.com\n")))
            .collect()
    };
    std::fs::write(env.work_dir().join("crm.csv"), list(0..1_500)).unwrap();
    std::fs::write(env.work_dir().join("new-buyers.csv"), list(1_500..1_505)).unwrap();
    std::fs::write(env.work_dir().join("unsubscribed.csv"), list(0..10)).unwrap();
    std::fs::write(env.work_dir().join("base.csv"), list(10_000..13_000)).unwrap();
    let out = env
        .cmd()
        .env("TIKTOK_ADS_BASE_URL", &sim.url)
        .env("TIKTOK_ACCESS_TOKEN", &sim.token)
        .args(["--advertiser", "7300000000000000001"])
        .args([
            "audience",
            "create",
            "--name",
            "README audience",
            "--from",
            "base.csv",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    stdout_of(&out).trim().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn readme_examples_run_against_the_simulator() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &["--video-ready-secs", "0"]);
    let (video_id, image_id) = example_media(&env, &sim);
    let campaigns = ids(
        &env,
        &sim,
        &["campaign", "list", "--fields", "campaign_id"],
        "campaign_id",
    );
    let adgroups = ids(
        &env,
        &sim,
        &["adgroup", "list", "--fields", "adgroup_id"],
        "adgroup_id",
    );
    let ads = ids(&env, &sim, &["ad", "list", "--fields", "ad_id"], "ad_id");
    let audience_id = example_audience(&env, &sim);
    let host = sim.url.trim_start_matches("http://").to_string();
    let secret = format!("TIKTOK_APP_SECRET={}", sim.app_secret);
    let swaps: Vec<(&str, &str)> = vec![
        ("TIKTOK_APP_SECRET=...", &secret),
        ("7301234567890123456", "7300000000000000001"),
        ("7301234567890654321", "7300000000000000002"),
        ("1812345678901234", &campaigns[0]),
        ("1812350123456789", &adgroups[0]),
        ("1812350123457123", &adgroups[1]),
        ("1812350123459999", &adgroups[2]),
        ("1812360987654321", &ads[0]),
        ("127.0.0.1:8787", &host),
        ("v10033g50000cexamplevideoid0", &video_id),
        ("ad-site-i18n-sg/8cc5a1b2c3d4e5f60718", &image_id),
        ("1823456789012345", &audience_id),
    ];

    // What the README assumes is around: a vault CLI, patience (sleep), a man page viewer.
    let bin = env.dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    shim(
        &bin,
        "vault",
        &format!(
            "case \"$*\" in *tiktok-app*) echo {} ;; *) echo {} ;; esac",
            sim.app_secret, sim.token
        ),
    );
    shim(&bin, "sleep", "exit 0");
    shim(&bin, "man", "exit 0");
    let tool = assert_cmd::cargo::cargo_bin!("tiktok-ads");
    let path = format!(
        "{}:{}:{}",
        bin.display(),
        tool.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    std::fs::write(
        env.work_dir().join("body.json"),
        format!(
            r#"{{"advertiser_id": "7300000000000000001", "campaign_id": "{}"}}"#,
            campaigns[0]
        ),
    )
    .unwrap();
    // The README's readers have logged in; so has this one (as the cron section shows).
    let login = env
        .cmd()
        .env("TIKTOK_ADS_BASE_URL", &sim.url)
        .args(["auth", "login", "--with-token"])
        .write_stdin(format!("{}\n", sim.token))
        .output()
        .unwrap();
    assert!(login.status.success(), "{}", stderr_of(&login));

    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    // The rules the examples run are the README's own rules file (its ```toml block).
    let rules = readme
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the README shows a rules file");
    std::fs::write(env.work_dir().join("rules.toml"), rules).unwrap();
    let mut ran = 0;
    for block in sh_blocks(&readme) {
        let mut script = String::from("set -o pipefail\n");
        for line in block.iter().filter(|l| runnable(l)) {
            let line = swaps
                .iter()
                .fold(line.clone(), |line, (from, to)| line.replace(from, to));
            let shown = line.replace('\'', "'\\''");
            // The check goes on a line of its own: a README line may end with a comment.
            script.push_str(&format!(
                "{line}\nstatus=$?; if [ $status -ne 0 ]; then echo \"README example failed ($status): \"'{shown}' >&2; exit 1; fi\n"
            ));
            ran += 1;
        }
        let mut cmd = Command::new("bash");
        env.isolate(&mut cmd);
        let out = cmd
            .env("PATH", &path)
            .env("TIKTOK_ADS_BASE_URL", &sim.url)
            .env("TIKTOK_ADVERTISER_ID", "7300000000000000001")
            .env("TOKEN", &sim.token)
            .env("SECRET", &sim.app_secret)
            .arg("-c")
            .arg(&script)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}\n--- script ---\n{script}",
            stderr_of(&out)
        );
    }
    assert!(
        ran > 40,
        "only {ran} README lines ran: is the README still read?"
    );
    // The outputs the examples promise are there.
    for file in [
        "jan.csv",
        "yesterday.csv",
        "last30.csv",
        "2024.csv",
        "bc-yesterday.csv",
        "test.csv",
    ] {
        let text = std::fs::read_to_string(env.work_dir().join(file))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(text.lines().count() > 1, "{file} has no rows:\n{text}");
    }
}

#[test]
fn readme_lines_are_read_with_their_continuations() {
    let blocks = sh_blocks(
        "x\n```sh\n# note\ntiktok-ads a \\\n  --b c\ncargo test\n```\n```console\n$ y\n```\n",
    );
    assert_eq!(
        blocks,
        [vec![
            "# note".to_string(),
            "tiktok-ads a   --b c".into(),
            "cargo test".into()
        ]]
    );
    let runs: Vec<_> = blocks[0].iter().filter(|l| runnable(l)).collect();
    assert_eq!(runs, ["tiktok-ads a   --b c"]);
}

/// Every `cargo install` the README shows builds with the tested `Cargo.lock`.
#[test]
fn installs_use_the_locked_versions() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let installs: Vec<&str> = readme
        .lines()
        .filter(|l| l.trim_start().starts_with("cargo install"))
        .collect();
    assert!(!installs.is_empty(), "the README shows how to install");
    for line in installs {
        assert!(line.contains("--locked"), "{line}");
    }
}
