//! `report sync` benchmark: the simulator (`tiktok-ads mock --rows N`, its own process) serves
//! N ad × day rows (12 metrics) in one 30-day window, and the optimized `tiktok-ads` binary at
//! `--rate 1000` syncs them into SQLite and into a PostgreSQL server started here (initdb +
//! pg_ctl on a temporary directory). Each destination: a first sync (all inserts), then the
//! simulator restates every day and a re-sync pulls the same rows again (all updates); for
//! PostgreSQL, once more with the table packed full (fillfactor 100, what the tool's default of
//! 50 trades against). Wall time, rows/s, the syncing process's peak RSS and the table's size on
//! disk go to stdout and to `target/bench/report_sync.json`.
//!
//!   cargo bench --bench report_sync                    # 1,000,000 rows
//!   BENCH_ROWS=100000,1000000 cargo bench --bench report_sync

// A benchmark reports on stdout: that is its output.
#![allow(clippy::print_stdout)]

mod common;
#[path = "../integration/pg.rs"]
#[allow(dead_code)]
mod pg;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_tiktok-ads");
const ADVERTISER: &str = "7300000000000000001";
const METRICS: &str = "spend,impressions,clicks,ctr,cpc,cpm,reach,frequency,conversion,cost_per_conversion,conversion_rate,video_play_actions";

struct Measurement {
    destination: &'static str,
    run: &'static str,
    rows: usize,
    wall_s: f64,
    rows_per_s: f64,
    peak_rss_mib: f64,
    /// The table and its indexes on disk after the run.
    table_mib: f64,
}

/// The tool against the simulator; `quiet` hides notices (the sync's summary is one).
fn tool(base_url: &str, work: &Path, quiet: bool) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(["--advertiser", ADVERTISER, "--rate", "1000"])
        .args(quiet.then_some("-q"))
        .env("TIKTOK_ACCESS_TOKEN", common::simulator_token(base_url))
        .env("TIKTOK_ADS_BASE_URL", base_url)
        .env("TIKTOK_ADS_CONFIG_DIR", work)
        .env("TIKTOK_ADS_STATE_DIR", work)
        .env("TIKTOK_ADS_TOKEN_STORE", "file")
        .stdout(Stdio::null());
    cmd
}

/// The first day: one 30-day window ending yesterday in any time zone.
fn since() -> String {
    (chrono::Utc::now().date_naive() - chrono::Duration::days(30)).to_string()
}

/// Renders every page once on the simulator's side, so the measured runs read them from its
/// memory: the same sync into a throwaway SQLite file (the same queries, page for page).
fn warm_up(base_url: &str, work: &Path) {
    let scratch = work.join("warm-up.db");
    let _ = std::fs::remove_file(&scratch);
    sync(
        base_url,
        work,
        &format!("sqlite:{}", scratch.display()),
        None,
    );
    for suffix in ["", "-wal", "-shm", ".sync-lock"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", scratch.display()));
    }
}

/// One sync; (wall seconds, peak RSS MiB) and the summary it printed.
fn sync(base_url: &str, work: &Path, into: &str, password: Option<&str>) -> (f64, f64, String) {
    let log = work.join("sync.log");
    let mut cmd = tool(base_url, work, false);
    cmd.args([
        "report",
        "sync",
        "--into",
        into,
        "--level",
        "ad",
        "--metrics",
        METRICS,
    ])
    // Every day again on a re-sync.
    .args(["--since", &since(), "--lookback", "31"])
    .stderr(std::fs::File::create(&log).expect("log"));
    if let Some(p) = password {
        cmd.env("PGPASSWORD", p);
    }
    let started = Instant::now();
    // Reaped by `wait4`, which also returns the child's own peak RSS.
    #[allow(clippy::zombie_processes)]
    let child = cmd.spawn().expect("the tiktok-ads binary runs");
    let (status, rusage) = common::wait_with_rusage(child.id() as libc::pid_t);
    let wall = started.elapsed().as_secs_f64();
    let summary = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(status == 0, "report sync exited with {status}: {summary}");
    (wall, rusage.ru_maxrss as f64 / 1024.0, summary)
}

/// The synced table's size on disk: the SQLite file (with its write-ahead log), or the
/// PostgreSQL table with its indexes.
fn table_mib(postgres: Option<&pg::PgServer>, n: usize, into: &str) -> f64 {
    let bytes = if let Some(path) = into.strip_prefix("sqlite:") {
        ["", "-wal"]
            .iter()
            .filter_map(|suffix| std::fs::metadata(format!("{path}{suffix}")).ok())
            .map(|m| m.len())
            .sum::<u64>()
    } else {
        let config = postgres
            .expect("a PostgreSQL server")
            .config(&format!("bench_{n}"));
        std::thread::spawn(move || {
            let mut client = config.connect(postgres::NoTls).expect("the bench connects");
            let row = client
                .query_one("SELECT pg_total_relation_size('tiktok_ad_daily')", &[])
                .expect("the size is read");
            row.get::<_, i64>(0) as u64
        })
        .join()
        .expect("size thread")
    };
    bytes as f64 / (1024.0 * 1024.0)
}

fn counted(summary: &str, what: &str) -> usize {
    let line = summary
        .lines()
        .find(|l| l.starts_with("tiktok_ad_daily: "))
        .unwrap_or_else(|| panic!("no summary in {summary}"));
    line.split(", ")
        .find_map(|part| {
            part.trim_start_matches("tiktok_ad_daily: ")
                .strip_suffix(what)
        })
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {what} count in {line}"))
}

fn main() {
    let sizes = common::sizes(&[1_000_000]);
    let work = tempfile::tempdir().expect("temp dir");
    let postgres = pg::PgServer::start();
    let mut results = Vec::new();
    for (n, &rows) in sizes.iter().enumerate() {
        let (mut server, base_url) = common::simulator(BIN, &["--rows", &rows.to_string()]);
        let sqlite = format!(
            "sqlite:{}",
            work.path().join(format!("bench-{n}.db")).display()
        );
        let mut destinations: Vec<(&'static str, String, Option<String>)> =
            vec![("sqlite", sqlite, None)];
        if let Some(pg) = &postgres {
            let url = pg.database(&format!("bench_{n}"));
            destinations.push(("postgres", url, Some(pg.password.clone())));
        }
        for (name, into, password) in &destinations {
            warm_up(&base_url, work.path());
            let (wall_s, rss, summary) = sync(&base_url, work.path(), into, password.as_deref());
            assert_eq!(counted(&summary, " inserted"), rows, "{summary}");
            results.push(Measurement {
                destination: name,
                run: "first sync (inserts)",
                rows,
                wall_s,
                rows_per_s: rows as f64 / wall_s,
                peak_rss_mib: rss,
                table_mib: table_mib(postgres.as_ref(), n, into),
            });
            // TikTok restates every day: the same rows again, every one changed.
            let mut runs = vec!["re-sync (updates)"];
            if *name == "postgres" {
                // The README's advice for tables that are often rewritten whole.
                // The same table packed full (the README's way to trade speed for disk).
                runs.push("re-sync, fillfactor 100");
            }
            for run in runs {
                if run.contains("fillfactor")
                    && let Some(pg) = &postgres
                {
                    let db = format!("bench_{n}");
                    pg.execute(&db, "ALTER TABLE tiktok_ad_daily SET (fillfactor = 100)");
                    // VACUUM runs alone (not in a transaction block).
                    pg.execute(&db, "VACUUM FULL tiktok_ad_daily");
                }
                common::control(&base_url, "POST", "/_mock/restate", r#"{"days": 400}"#);
                warm_up(&base_url, work.path());
                let (wall_s, rss, summary) =
                    sync(&base_url, work.path(), into, password.as_deref());
                assert_eq!(counted(&summary, " updated"), rows, "{summary}");
                results.push(Measurement {
                    destination: name,
                    run,
                    rows,
                    wall_s,
                    rows_per_s: rows as f64 / wall_s,
                    peak_rss_mib: rss,
                    table_mib: table_mib(postgres.as_ref(), n, into),
                });
            }
        }
        let _ = server.kill();
        let _ = server.wait();
    }
    for m in &results {
        println!(
            "report_sync: {:<8} {:<23} {:>9} rows  {:>6.2} s  {:>8.0} rows/s  peak RSS {:>5.1} MiB  table {:>5.0} MiB",
            m.destination, m.run, m.rows, m.wall_s, m.rows_per_s, m.peak_rss_mib, m.table_mib
        );
    }
    if postgres.is_none() {
        println!("report_sync: PostgreSQL is not installed: measured SQLite only");
    }
    let entries: Vec<String> = results
        .iter()
        .map(|m| {
            format!(
                r#"  {{"destination": "{}", "run": "{}", "rows": {}, "wall_s": {:.3}, "rows_per_s": {:.0}, "peak_rss_mib": {:.1}, "table_mib": {:.1}}}"#,
                m.destination, m.run, m.rows, m.wall_s, m.rows_per_s, m.peak_rss_mib, m.table_mib
            )
        })
        .collect();
    common::write_results("report_sync", &entries);
}
