//! Report export benchmark: the simulator (`tiktok-ads mock --rows N`, in its own process)
//! serves `/report/integrated/get/` (ad × day rows, 12 metrics as strings, 1000 rows a page,
//! each page rendered once and then served from memory), and the optimized `tiktok-ads`
//! binary exports them to CSV. Measures wall time, CPU time, rows/s and the exporting
//! process's peak RSS, beside the ceiling — `curl` fetching the same pages over one connection
//! without parsing them — and writes them to `target/bench/report_export.json`. The ratio to
//! the ceiling of the same run is the figure to compare across days and machines.
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
    cpu_s: f64,
    ceiling_s: f64,
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

/// The one-connection, no-parse ceiling: `curl` fetching every page of the report (the token
/// in a config file, not on its command line) into /dev/null; its wall time.
fn curl_ceiling(base_url: &str, rows: usize, work: &std::path::Path) -> f64 {
    let metrics = serde_json::to_string(&METRICS.split(',').collect::<Vec<_>>()).unwrap();
    let query = |page: usize| {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("advertiser_id", ADVERTISER)
            .append_pair("report_type", "BASIC")
            .append_pair("data_level", "AUCTION_AD")
            .append_pair("dimensions", r#"["ad_id","stat_time_day"]"#)
            .append_pair("metrics", &metrics)
            .append_pair("start_date", "2025-01-01")
            .append_pair("end_date", "2025-01-30")
            .append_pair("page", &page.to_string())
            .append_pair("page_size", "1000")
            .finish()
    };
    let mut config = format!(
        "silent\nfail\nheader = \"Access-Token: {}\"\n",
        common::simulator_token(base_url)
    );
    for page in 1..=rows.div_ceil(1000) {
        config.push_str(&format!(
            "url = \"{base_url}/open_api/v1.3/report/integrated/get/?{}\"\noutput = \"/dev/null\"\n",
            query(page)
        ));
    }
    config.push_str("write-out = \"%{size_download}\\n\"\n");
    let path = work.join("curl.cfg");
    std::fs::write(&path, config).unwrap();
    let fetch = || {
        let started = Instant::now();
        let out = Command::new("curl")
            .arg("-K")
            .arg(&path)
            .output()
            .expect("curl runs");
        let elapsed = started.elapsed().as_secs_f64();
        assert!(out.status.success(), "curl fetched every page");
        let bytes: u64 = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.trim().parse::<u64>().ok())
            .sum();
        (elapsed, bytes)
    };
    // The first run has the simulator render the pages of this query; the second is measured.
    fetch();
    let (elapsed, bytes) = fetch();
    // Whole pages, not error envelopes: about 320 bytes a row.
    assert!(
        bytes > rows as u64 * 200,
        "curl got {bytes} bytes for {rows} rows"
    );
    elapsed
}

/// Wall time, CPU time (user + system) and peak RSS of one export.
fn run_export(base_url: &str, rows: usize, work: &std::path::Path) -> (f64, f64, f64) {
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
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let cpu = seconds(rusage.ru_utime) + seconds(rusage.ru_stime);
    // Linux reports ru_maxrss in KiB.
    (wall, cpu, rusage.ru_maxrss as f64 / 1024.0)
}

fn main() {
    let sizes = common::sizes(&[100_000, 1_000_000]);
    let work = tempfile::tempdir().unwrap();
    let mut results = Vec::new();
    for rows in sizes {
        let (mut server, base_url) = simulator(rows);
        // A warm-up run renders every page once on the simulator's side. Its pacing state is
        // its own: the measured run must not wait for the quota the warm-up just used (at
        // `--rate 1000` it used a whole second's worth).
        let warm_up = work.path().join("warm-up");
        std::fs::create_dir_all(&warm_up).unwrap();
        run_export(&base_url, rows, &warm_up);
        let ceiling_s = curl_ceiling(&base_url, rows, work.path());
        let (wall_s, cpu_s, peak_rss_mib) = run_export(&base_url, rows, work.path());
        let m = Measurement {
            rows,
            wall_s,
            cpu_s,
            ceiling_s,
            rows_per_s: rows as f64 / wall_s,
            peak_rss_mib,
            page_kib: page_kib(&base_url, work.path()),
        };
        println!(
            "report_export: {:>9} rows  {:>6.3} s (CPU {:.3} s)  {:>10.0} rows/s  peak RSS {:>5.1} MiB  (page {:.0} KiB)   curl {:.3} s   ratio {:.2}",
            m.rows,
            m.wall_s,
            m.cpu_s,
            m.rows_per_s,
            m.peak_rss_mib,
            m.page_kib,
            m.ceiling_s,
            m.wall_s / m.ceiling_s
        );
        results.push(m);
        let _ = server.kill();
        let _ = server.wait();
    }
    let entries: Vec<String> = results
        .iter()
        .map(|m| {
            let round = |x: f64, places: i32| (x * 10f64.powi(places)).round() / 10f64.powi(places);
            format!(
                "  {}",
                serde_json::json!({
                    "rows": m.rows,
                    "wall_s": round(m.wall_s, 3),
                    "cpu_s": round(m.cpu_s, 3),
                    "rows_per_s": m.rows_per_s.round(),
                    "peak_rss_mib": round(m.peak_rss_mib, 1),
                    "page_kib": m.page_kib.round(),
                    "curl_s": round(m.ceiling_s, 3),
                    "ratio": round(m.wall_s / m.ceiling_s, 2),
                })
            )
        })
        .collect();
    common::write_results("report_export", &entries);
}
