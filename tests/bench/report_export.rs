//! Report export benchmark: a local mock of `/report/integrated/get/` serving pre-rendered
//! pages (ad × day rows, 12 metrics as strings, 1000 rows a page), and the optimized
//! `tiktok-ads` binary exporting them to CSV. Measures wall time, rows/s and the child's peak
//! RSS, and writes them to `target/bench/report_export.json`.
//!
//!   cargo bench --bench report_export                 # 100,000 and 1,000,000 rows
//!   BENCH_ROWS=250000 cargo bench --bench report_export

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use bytes::Bytes;

const ADVERTISER: &str = "7301234567890123456";
const PAGE_SIZE: usize = 1000;
const DAYS: usize = 30;
const METRICS: [&str; 12] = [
    "spend",
    "impressions",
    "clicks",
    "ctr",
    "cpc",
    "cpm",
    "reach",
    "frequency",
    "conversion",
    "cost_per_conversion",
    "conversion_rate",
    "video_play_actions",
];

/// Every page of an `rows`-row report, rendered once up front.
fn render_pages(rows: usize) -> Vec<Bytes> {
    let total_pages = rows.div_ceil(PAGE_SIZE);
    (0..total_pages)
        .map(|p| {
            let mut body = String::with_capacity(PAGE_SIZE * 360);
            body.push_str(r#"{"code":0,"message":"OK","request_id":"bench","data":{"list":["#);
            let first = p * PAGE_SIZE;
            for i in first..(first + PAGE_SIZE).min(rows) {
                if i > first {
                    body.push(',');
                }
                let ad = 1_800_000_000_000_000_000u64 + (i / DAYS) as u64;
                let day = i % DAYS + 1;
                let x = (i as u64).wrapping_mul(2_654_435_761) % 100_000;
                body.push_str(&format!(
                    r#"{{"dimensions":{{"ad_id":"{ad}","stat_time_day":"2025-01-{day:02} 00:00:00"}},"metrics":{{"spend":"{}.{:02}","impressions":"{}","clicks":"{}","ctr":"{}.{:02}","cpc":"0.{:02}","cpm":"{}.{:02}","reach":"{}","frequency":"1.{:02}","conversion":"{}","cost_per_conversion":"{}.{:02}","conversion_rate":"{}.{:02}","video_play_actions":"{}"}}}}"#,
                    x / 100, x % 100, x * 7, x / 13, x % 9, x % 100, x % 97, x % 50, x % 100,
                    x * 5, x % 100, x / 1000, x % 400, x % 100, x % 30, x % 100, x * 3
                ));
            }
            body.push_str(&format!(
                r#"],"page_info":{{"page":{},"page_size":{PAGE_SIZE},"total_number":{rows},"total_page":{total_pages}}}}}}}"#,
                p + 1
            ));
            Bytes::from(body)
        })
        .collect()
}

type Pages = Arc<Vec<Bytes>>;

async fn report(
    State(pages): State<Pages>,
    Query(q): Query<HashMap<String, String>>,
) -> impl IntoResponse {
    let page: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let body = pages.get(page - 1).cloned().unwrap_or_default();
    ([(header::CONTENT_TYPE, "application/json")], body)
}

async fn advertiser_info() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        format!(
            r#"{{"code":0,"message":"OK","request_id":"bench","data":{{"list":[{{"advertiser_id":"{ADVERTISER}","currency":"USD","timezone":"Etc/GMT","display_timezone":"Etc/GMT"}}]}}}}"#
        ),
    )
}

struct Measurement {
    rows: usize,
    wall_s: f64,
    rows_per_s: f64,
    peak_rss_mib: f64,
    page_kib: f64,
}

fn run_export(base_url: &str, rows: usize, page_kib: f64, work: &std::path::Path) -> Measurement {
    let out = work.join(format!("export-{rows}.csv"));
    let started = Instant::now();
    // Reaped by `wait4` below, which also returns the child's own peak RSS.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(env!("CARGO_BIN_EXE_tiktok-ads"))
        .args(["--advertiser", ADVERTISER, "--rate", "1000", "-q", "-o"])
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
            &METRICS.join(","),
        ])
        .env("TIKTOK_ACCESS_TOKEN", "bench-token-not-secret")
        .env("TIKTOK_ADS_BASE_URL", base_url)
        .env("TIKTOK_ADS_CONFIG_DIR", work)
        .env("TIKTOK_ADS_TOKEN_STORE", "file")
        .stdout(Stdio::null())
        .spawn()
        .expect("the tiktok-ads binary runs");
    let (status, rusage) = wait_with_rusage(child.id() as libc::pid_t);
    let wall = started.elapsed().as_secs_f64();
    assert!(status == 0, "tiktok-ads exited with status {status}");
    let lines =
        std::io::BufRead::lines(std::io::BufReader::new(std::fs::File::open(&out).unwrap()))
            .count();
    assert_eq!(lines, rows + 1, "every row exported once, plus the header");
    let _ = std::fs::remove_file(&out);
    Measurement {
        rows,
        wall_s: wall,
        rows_per_s: rows as f64 / wall,
        // Linux reports ru_maxrss in KiB.
        peak_rss_mib: rusage.ru_maxrss as f64 / 1024.0,
        page_kib,
    }
}

/// Waits for the child and returns its exit status and its own resource usage (peak RSS).
fn wait_with_rusage(pid: libc::pid_t) -> (i32, libc::rusage) {
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value; wait4 writes into both out-pointers.
    let mut rusage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut rusage) };
    assert_eq!(rc, pid, "wait4 failed");
    (libc::WEXITSTATUS(status), rusage)
}

/// Serve mode: the mock runs in its own process, so the pages it holds do not count in the
/// measured process (Linux carries a parent's RSS high-water mark into a forked child's
/// `ru_maxrss`).
fn serve(rows: usize) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let app = Router::new()
            .route("/open_api/v1.3/report/integrated/get/", get(report))
            .route("/open_api/v1.3/advertiser/info/", get(advertiser_info))
            .with_state(Arc::new(render_pages(rows)));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("{}", listener.local_addr().unwrap());
        std::io::stdout().flush().unwrap();
        // Stop when the bench closes our stdin (or dies).
        tokio::spawn(async {
            let mut sink = Vec::new();
            let _ = tokio::io::AsyncReadExt::read_to_end(&mut tokio::io::stdin(), &mut sink).await;
            std::process::exit(0);
        });
        axum::serve(listener, app).await.unwrap();
    });
}

fn main() {
    if let Some(rows) = std::env::var("BENCH_SERVE_ROWS")
        .ok()
        .and_then(|r| r.parse().ok())
    {
        return serve(rows);
    }
    let sizes: Vec<usize> = match std::env::var("BENCH_ROWS") {
        Ok(list) => list
            .split(',')
            .filter_map(|s| s.trim().parse().ok())
            .collect(),
        Err(_) => vec![100_000, 1_000_000],
    };
    let work = tempfile::tempdir().unwrap();
    let mut results = Vec::new();
    for rows in sizes {
        let mut server = Command::new(std::env::current_exe().unwrap())
            .env("BENCH_SERVE_ROWS", rows.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut addr = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(server.stdout.take().unwrap()),
            &mut addr,
        )
        .unwrap();
        let base_url = format!("http://{}", addr.trim());
        let page_kib = render_pages(PAGE_SIZE.min(rows))
            .first()
            .map_or(0.0, |p| p.len() as f64 / 1024.0);
        // A warm-up run (page cache, connection setup), then the measured one.
        run_export(&base_url, rows, page_kib, work.path());
        let m = run_export(&base_url, rows, page_kib, work.path());
        println!(
            "report_export: {:>9} rows  {:>6.3} s  {:>10.0} rows/s  peak RSS {:>5.1} MiB  (page {:.0} KiB)",
            m.rows, m.wall_s, m.rows_per_s, m.peak_rss_mib, m.page_kib
        );
        results.push(m);
        drop(server.stdin.take());
        let _ = server.wait();
    }
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    let dir = std::path::Path::new(&target).join("bench");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("report_export.json");
    let mut file = std::fs::File::create(&path).unwrap();
    let entries: Vec<String> = results
        .iter()
        .map(|m| {
            format!(
                r#"  {{"rows": {}, "wall_s": {:.3}, "rows_per_s": {:.0}, "peak_rss_mib": {:.1}, "page_kib": {:.0}}}"#,
                m.rows, m.wall_s, m.rows_per_s, m.peak_rss_mib, m.page_kib
            )
        })
        .collect();
    writeln!(file, "[\n{}\n]", entries.join(",\n")).unwrap();
    println!("report_export: results written to {}", path.display());
}
