//! Quota benchmark: how fully and fairly `report run` spends a quota that the server enforces.
//! The simulator (`tiktok-ads mock --qps-limit N --qps-window W`) answers 40100 above N
//! requests per endpoint in any sliding window of W seconds; a report is exported by 1, 2 and 4
//! processes of the same app at once: 60 pages with a 1-second window (10 per window, TikTok's
//! basic tier, the tool's defaults) and with a 10-second one (50 per window) the tool is told
//! of with `--rate 50/10s`; and, not told (it learns the window from the rejections), 500
//! pages at 50 per 10 s and 1,200 pages at 300 per 60 s (1 and 2 processes; 4 when named in
//! `QUOTA_CASES`, e.g. `QUOTA_CASES=300x4`); and 2 and 4 processes on separate "machines" (a
//! state directory and `HOME` each) pacing through one PostgreSQL database (`--pacing
//! postgres://…`, a server the benchmark starts; `QUOTA_CASES=pg10x4`). For each case it
//! prints and records in `target/bench/quota.json`:
//! wall time, the fastest time any client could achieve (a full window's worth at once, then
//! one window per further window's worth), utilisation (that floor / wall time), the rate
//! reached over the allowed one (requests a second over limit / window), the share of
//! requests rejected, each process's share of the throughput, and whether every output is
//! identical to an unthrottled export.
//!
//!   cargo bench --bench quota

// A benchmark reports on stdout: that is its output.
#![allow(clippy::print_stdout)]

mod common;
#[path = "../integration/pg.rs"]
#[allow(dead_code)]
mod pg;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_tiktok-ads");
const ADVERTISER: &str = "7300000000000000001";
/// Rows a page: a report of N pages has 100 × N rows.
const PAGE_SIZE: u64 = 100;

struct Case {
    limit: u64,
    window_s: u64,
    processes: usize,
    rate_flag: Option<&'static str>,
    /// Pages a report: 60, or enough for several windows where a limit must be learnt.
    pages: u64,
    /// Each process on a "machine" of its own (its own state directory and `HOME`), all
    /// pacing through this database (`--pacing`, with its password).
    cross_host: Option<(String, String)>,
}

struct Outcome {
    wall_s: f64,
    floor_s: f64,
    utilisation: f64,
    rejected_share: f64,
    /// Requests a second over the allowed rate (limit / window).
    rate_share: f64,
    shares: Vec<f64>,
    walls: Vec<f64>,
    identical: bool,
}

fn simulator(pages: u64, extra: &[&str]) -> (Child, String) {
    let rows = (pages * PAGE_SIZE).to_string();
    common::simulator(BIN, &[&["--rows", rows.as_str()][..], extra].concat())
}

/// One export of the report; processes of one case share `home` (and so their pacing state).
fn export(base_url: &str, home: &Path, rate: Option<&str>) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("TIKTOK_ACCESS_TOKEN", common::simulator_token(base_url))
        .env("TIKTOK_ADS_BASE_URL", base_url)
        .env("TIKTOK_ADS_CONFIG_DIR", home.join("config"))
        .env("TIKTOK_ADS_STATE_DIR", home.join("state"))
        .env("TIKTOK_ADS_TOKEN_STORE", "file")
        .args(["-q", "--advertiser", ADVERTISER]);
    if let Some(rate) = rate {
        cmd.args(["--rate", rate]);
    }
    cmd.args(["report", "run", "--level", "ad", "--start", "2025-01-01"])
        .args([
            "--end",
            "2025-01-30",
            "--page-size",
            &PAGE_SIZE.to_string(),
            "--metrics",
            "spend,impressions",
        ]);
    cmd
}

/// The simulator's counts of accepted and rejected requests.
fn stats(base_url: &str) -> (u64, u64) {
    let stats = common::control(base_url, "GET", "/_mock/stats", "");
    (
        stats["accepted_total"].as_u64().unwrap_or(0),
        stats["rejected_total"].as_u64().unwrap_or(0),
    )
}

/// One exporting process, and when it ended (seconds after its start, and whether it succeeded).
struct Running {
    child: Child,
    spawned: Instant,
    out: std::path::PathBuf,
    ended: Option<(f64, bool)>,
}

fn run(case: &Case, expected: &[u8]) -> Outcome {
    let limit = case.limit.to_string();
    let window = case.window_s.to_string();
    let (mut sim, url) = simulator(
        case.pages,
        &["--qps-limit", &limit, "--qps-window", &window],
    );
    let home = tempfile::tempdir().expect("temp dir");
    let started = Instant::now();
    // Outputs go to files (a pipe nobody reads yet would hold a process back), and each
    // process's end is seen as it happens.
    let mut children: Vec<Running> = (0..case.processes)
        .map(|i| {
            let out = home.path().join(format!("out-{i}.csv"));
            let file = std::fs::File::create(&out).expect("an output file");
            let mut command = match &case.cross_host {
                None => export(&url, home.path(), case.rate_flag),
                Some((pacing, password)) => {
                    let machine = home.path().join(format!("machine-{i}"));
                    let _ = std::fs::create_dir_all(&machine);
                    let mut command = export(&url, &machine, case.rate_flag);
                    command
                        .env("PGPASSWORD", password)
                        .args(["--pacing", pacing.as_str()]);
                    command
                }
            };
            let child = command
                .stdout(file)
                .stderr(Stdio::null())
                .spawn()
                .expect("tiktok-ads runs");
            Running {
                child,
                spawned: Instant::now(),
                out,
                ended: None,
            }
        })
        .collect();
    while children.iter().any(|c| c.ended.is_none()) {
        for running in children.iter_mut() {
            if running.ended.is_none()
                && let Ok(Some(status)) = running.child.try_wait()
            {
                running.ended = Some((running.spawned.elapsed().as_secs_f64(), status.success()));
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let wall = started.elapsed().as_secs_f64();
    let mut identical = true;
    let mut walls = Vec::new();
    for running in &children {
        let (process_wall, ok) = running.ended.unwrap_or((wall, false));
        walls.push(process_wall);
        identical &= ok && std::fs::read(&running.out).unwrap_or_default() == expected;
    }
    let (accepted, rejected) = stats(&url);
    let _ = sim.kill();
    let _ = sim.wait();
    let requests = case.pages * case.processes as u64;
    let floor = ((requests.div_ceil(case.limit)).saturating_sub(1) * case.window_s) as f64;
    let total_rate = requests as f64 / wall;
    let equal = total_rate / case.processes as f64;
    Outcome {
        wall_s: wall,
        floor_s: floor,
        utilisation: if wall > 0.0 { floor / wall } else { 0.0 },
        rate_share: total_rate / (case.limit as f64 / case.window_s as f64),
        rejected_share: rejected as f64 / (accepted + rejected).max(1) as f64,
        shares: walls
            .iter()
            .map(|w| (case.pages as f64 / w) / equal)
            .collect(),
        walls,
        identical,
    }
}

/// The report of `pages` pages exported without any limit: what every run must write.
fn reference(pages: u64) -> Vec<u8> {
    let (mut sim, url) = simulator(pages, &[]);
    let home = tempfile::tempdir().expect("temp dir");
    let reference = export(&url, home.path(), Some("1000"))
        .output()
        .expect("tiktok-ads runs");
    assert!(reference.status.success(), "the unthrottled export failed");
    let _ = sim.kill();
    let _ = sim.wait();
    reference.stdout
}

/// What one case's run prints and records.
fn report_case(case: &Case, outcome: &Outcome, results: &mut Vec<serde_json::Value>) {
    let shares: Vec<String> = outcome.shares.iter().map(|s| format!("{s:.2}")).collect();
    let walls: Vec<String> = outcome.walls.iter().map(|w| format!("{w:.1}")).collect();
    let how = match (&case.cross_host, case.rate_flag) {
        (Some(_), _) => "separate machines, --pacing postgres://".to_string(),
        (None, Some(rate)) => format!("--rate {rate}"),
        (None, None) if case.limit == 10 => "defaults".to_string(),
        (None, None) => "not told".to_string(),
    };
    println!(
        "quota: {:>3} per {:>2} s ({how}), {} pages, {} process(es): wall {:>6.2} s, \
         floor {:>5.1} s, utilisation {:>5.1}%, rate {:>5.1}% of the allowed, rejected {:>4.1}%, \
         shares [{}] (ended after [{}] s), identical {}",
        case.limit,
        case.window_s,
        case.pages,
        case.processes,
        outcome.wall_s,
        outcome.floor_s,
        outcome.utilisation * 100.0,
        outcome.rate_share * 100.0,
        outcome.rejected_share * 100.0,
        shares.join(", "),
        walls.join(", "),
        outcome.identical
    );
    results.push(serde_json::json!({
        "limit": case.limit,
        "window_s": case.window_s,
        "told": case.rate_flag.is_some(),
        "cross_host": case.cross_host.is_some(),
        "processes": case.processes,
        "pages": case.pages,
        "wall_s": outcome.wall_s,
        "floor_s": outcome.floor_s,
        "utilisation": outcome.utilisation,
        "rate_share": outcome.rate_share,
        "rejected_share": outcome.rejected_share,
        "shares": outcome.shares,
        "identical": outcome.identical,
    }));
}

/// Whether `QUOTA_CASES` (e.g. `10x2,50x4,pg10x4`) asks for a case, or, unset, whether it is
/// run by default (four long reports take 7 to 16 minutes: only when asked for).
fn wanted(name: &str, pages: u64, processes: usize) -> bool {
    match std::env::var("QUOTA_CASES") {
        Ok(only) => only.split(',').any(|c| c == name),
        Err(_) => pages <= 60 || processes < 4,
    }
}

fn main() {
    let mut references = std::collections::HashMap::new();
    let mut results = Vec::new();
    // 10 a second (TikTok's basic tier, the tool's default); 50 in 10 s told with --rate; and
    // not told, 50 in 10 s and 300 in 60 s, with reports long enough for several windows (the
    // pacer learns the window from the rejections, which the first window pays for).
    for (limit, window_s, rate_flag, pages) in [
        (10, 1, None, 60),
        (50, 10, Some("50/10s"), 60),
        (50, 10, None, 500),
        (300, 60, None, 1200),
    ] {
        for processes in [1, 2, 4] {
            if !wanted(&format!("{limit}x{processes}"), pages, processes) {
                continue;
            }
            let case = Case {
                limit,
                window_s,
                processes,
                rate_flag,
                pages,
                cross_host: None,
            };
            let expected = references.entry(pages).or_insert_with(|| reference(pages));
            let outcome = run(&case, expected);
            report_case(&case, &outcome, &mut results);
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    // Processes on separate machines (a state directory and HOME each) sharing the quota
    // through one PostgreSQL database, at TikTok's default 10 a second.
    let postgres = pg::PgServer::start();
    if let Some(server) = &postgres {
        let url = server.database("pacing");
        for processes in [2, 4] {
            if !wanted(&format!("pg10x{processes}"), 60, 2) {
                continue;
            }
            let case = Case {
                limit: 10,
                window_s: 1,
                processes,
                rate_flag: None,
                pages: 60,
                cross_host: Some((url.clone(), server.password.clone())),
            };
            let expected = references.entry(60).or_insert_with(|| reference(60));
            let outcome = run(&case, expected);
            report_case(&case, &outcome, &mut results);
        }
    } else {
        println!("quota: PostgreSQL is not installed here: the cross-machine cases are left out");
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("quota.json");
    let _ = std::fs::write(
        &path,
        serde_json::to_string_pretty(&results).unwrap_or_default(),
    );
    println!("quota: results written to {}", path.display());
}
