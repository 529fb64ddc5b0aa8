//! Report export benchmark: the simulator (`tiktok-ads mock --rows N`, in its own process)
//! serves `/report/integrated/get/` (ad × day rows, 12 metrics as strings, 1000 rows a page,
//! each page rendered once and then served from memory), and the optimized `tiktok-ads`
//! binary exports them to CSV. Measures wall time, rows/s and the exporting process's peak RSS,
//! and writes them to `target/bench/report_export.json`.
//!
//!   cargo bench --bench report_export                 # 100,000 and 1,000,000 rows
//!   BENCH_ROWS=250000 cargo bench --bench report_export

// A benchmark reports on stdout: that is its output.
#![allow(clippy::print_stdout)]

mod common;

use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_tiktok-ads");
const ADVERTISER: &str = "7300000000000000001";
const METRICS: &str = "spend,impressions,clicks,ctr,cpc,cpm,reach,frequency,conversion,cost_per_conversion,conversion_rate,video_play_actions";

struct Measurement {
    rows: usize,
    wall_s: f64,
    rows_per_s: f64,
    peak_rss_mib: f64,
    page_kib: f64,
}

/// Starts the simulator serving `rows` synthetic rows.
fn simulator(rows: usize) -> (Child, String) {
    common::simulator(BIN, &["--rows", &rows.to_string()])
}

fn export(base_url: &str, work: &std::path::Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(["--advertiser", ADVERTISER, "--rate", "1000", "-q"])
        .env("TIKTOK_ACCESS_TOKEN", common::simulator_token(base_url))
        .env("TIKTOK_ADS_BASE_URL", base_url)
        .env("TIKTOK_ADS_CONFIG_DIR", work)
        .env("TIKTOK_ADS_STATE_DIR", work)
        .env("TIKTOK_ADS_TOKEN_STORE", "file");
    cmd
}

/// The size of one page as served, read with the tool's own `api --raw`.
fn page_kib(base_url: &str, work: &std::path::Path) -> f64 {
    let out = export(base_url, work)
        .args([
            "api",
            "GET",
            "/report/integrated/get/",
            "--raw",
            "-f",
            &format!("advertiser_id={ADVERTISER}"),
            "-f",
            "report_type=BASIC",
            "-f",
            "data_level=AUCTION_AD",
            "-F",
            r#"dimensions=["ad_id","stat_time_day"]"#,
            "-F",
            &format!(
                r#"metrics={}"#,
                serde_json::to_string(&METRICS.split(',').collect::<Vec<_>>()).unwrap()
            ),
            "-f",
            "start_date=2025-01-01",
            "-f",
            "end_date=2025-01-30",
            "-f",
            "page=1",
            "-f",
            "page_size=1000",
        ])
        .output()
        .expect("api --raw runs");
    out.stdout.len() as f64 / 1024.0
}

fn run_export(base_url: &str, rows: usize, work: &std::path::Path) -> (f64, f64) {
    let out = work.join(format!("export-{rows}.csv"));
    let started = Instant::now();
    // Reaped by `wait4` below, which also returns the child's own peak RSS.
    #[allow(clippy::zombie_processes)]
    let child = export(base_url, work)
        .arg("-o")
        .arg(&out)
        .args([
            "report",
            "run",
            "--start",
            "2025-01-01",
            "--end",
            "2025-01-30",
            "--level",
            "ad",
            "--metrics",
            METRICS,
        ])
        .stdout(Stdio::null())
        .spawn()
        .expect("the tiktok-ads binary runs");
    let (status, rusage) = common::wait_with_rusage(child.id() as libc::pid_t);
    let wall = started.elapsed().as_secs_f64();
    assert!(status == 0, "tiktok-ads exited with status {status}");
    let lines = std::io::BufReader::new(std::fs::File::open(&out).unwrap())
        .lines()
        .count();
    assert_eq!(lines, rows + 1, "every row exported once, plus the header");
    let _ = std::fs::remove_file(&out);
    // Linux reports ru_maxrss in KiB.
    (wall, rusage.ru_maxrss as f64 / 1024.0)
}

fn main() {
    let sizes = common::sizes(&[100_000, 1_000_000]);
    let work = tempfile::tempdir().unwrap();
    let mut results = Vec::new();
    for rows in sizes {
        let (mut server, base_url) = simulator(rows);
        // A warm-up run renders every page once on the simulator's side.
        run_export(&base_url, rows, work.path());
        let (wall_s, peak_rss_mib) = run_export(&base_url, rows, work.path());
        let m = Measurement {
            rows,
            wall_s,
            rows_per_s: rows as f64 / wall_s,
            peak_rss_mib,
            page_kib: page_kib(&base_url, work.path()),
        };
        println!(
            "report_export: {:>9} rows  {:>6.3} s  {:>10.0} rows/s  peak RSS {:>5.1} MiB  (page {:.0} KiB)",
            m.rows, m.wall_s, m.rows_per_s, m.peak_rss_mib, m.page_kib
        );
        results.push(m);
        let _ = server.kill();
        let _ = server.wait();
    }
    let entries: Vec<String> = results
        .iter()
        .map(|m| {
            format!(
                r#"  {{"rows": {}, "wall_s": {:.3}, "rows_per_s": {:.0}, "peak_rss_mib": {:.1}, "page_kib": {:.0}}}"#,
                m.rows, m.wall_s, m.rows_per_s, m.peak_rss_mib, m.page_kib
            )
        })
        .collect();
    common::write_results("report_export", &entries);
}
