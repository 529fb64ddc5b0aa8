//! Audience benchmark: a customer list of 10 million emails (`BENCH_ROWS` to choose) prepared
//! as `audience create` prepares it — read, normalised, hashed, deduplicated, written as parts
//! with their MD5s — beside `sha256sum` over the same normalised lines (the hashing ceiling),
//! with rows per second and the peak RSS of the preparing process. Records
//! `target/bench/audience_prepare.json`.
//!
//!   cargo bench --bench audience_prepare

// A benchmark reports on stdout: that is its output.
#![allow(clippy::print_stdout)]

mod common;

use std::io::{BufWriter, Write};
use std::process::Command;
use std::time::Instant;

fn main() {
    let rows = common::sizes(&[10_000_000])[0];
    let dir = tempfile::tempdir().expect("temp dir");
    let list = dir.path().join("emails.csv");
    let normalised = dir.path().join("normalised.txt");
    {
        let mut raw = BufWriter::new(std::fs::File::create(&list).expect("list"));
        let mut plain = BufWriter::new(std::fs::File::create(&normalised).expect("normalised"));
        writeln!(raw, "Email").expect("header");
        for i in 0..rows {
            // Mixed case and +tags to normalise; one in a hundred repeated.
            let n = if i % 100 == 99 { i - 1 } else { i };
            writeln!(raw, "Customer.{n}+Shop@Example.com").expect("row");
            writeln!(plain, "customer{n}@example.com").expect("row");
        }
        raw.flush().expect("flush");
        plain.flush().expect("flush");
    }
    let size = std::fs::metadata(&list).expect("size").len();
    println!("audience_prepare: {rows} emails ({} MB)", size / 1_000_000);

    // The ceiling: SHA-256 over the same normalised bytes, once (after a first run that
    // brings the file into the page cache).
    let sha256sum = || {
        let started = Instant::now();
        let status = Command::new("sha256sum")
            .arg(&normalised)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("sha256sum runs");
        assert!(status.success());
        started.elapsed().as_secs_f64()
    };
    sha256sum();
    let ceiling = sha256sum();
    // A first preparation, not measured: like a machine that prepares lists every day, the
    // measured one finds the memory its files take (the page cache) in use already. On this
    // project's virtual machines a page the host handed back costs up to ten times a warm one
    // on first write, which made the figures swing by a second between runs.
    drop(
        tiktok_ads::audience::prepare::prepare(&list, &Default::default(), true)
            .expect("the list is prepared"),
    );

    // The preparation `audience create` runs, in this process (no network: nothing to send).
    let usage = |who| {
        // SAFETY: a zeroed rusage is valid; getrusage fills it.
        let mut u: libc::rusage = unsafe { std::mem::zeroed() };
        unsafe { libc::getrusage(who, &mut u) };
        u
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let before = usage(libc::RUSAGE_SELF);
    let started = Instant::now();
    let prepared = tiktok_ads::audience::prepare::prepare(&list, &Default::default(), true)
        .expect("the list is prepared");
    let wall = started.elapsed().as_secs_f64();
    let after = usage(libc::RUSAGE_SELF);
    let cpu = seconds(after.ru_utime) - seconds(before.ru_utime) + seconds(after.ru_stime)
        - seconds(before.ru_stime);
    let p = &prepared.preview;
    assert_eq!(
        p.unique + p.duplicates,
        rows as u64,
        "every row counted once"
    );
    println!(
        "            {} distinct hashes in {} parts, {} duplicates dropped",
        p.unique,
        p.parts.len(),
        p.duplicates
    );
    // Peak RSS of the tool itself, in a process of its own: the preview (`--dry-run`) reads,
    // hashes and deduplicates the same list (it only does not write the parts).
    // Reaped by `wait_with_rusage` (wait4), which also gives its resource usage.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(env!("CARGO_BIN_EXE_tiktok-ads"))
        .args([
            "audience",
            "create",
            "--name",
            "bench",
            "--dry-run",
            "--from",
        ])
        .arg(&list)
        .env("TIKTOK_ADVERTISER_ID", "7300000000000000001")
        .env("TMPDIR", dir.path())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("tiktok-ads runs");
    let (code, child_usage) = common::wait_with_rusage(child.id() as libc::pid_t);
    assert_eq!(code, 0, "the preview ran");
    let rss_mib = child_usage.ru_maxrss as f64 / 1024.0;
    println!(
        "tiktok-ads {wall:>6.2} s ({:>9.0} rows/s, CPU {cpu:.2} s, peak RSS {rss_mib:.1} MiB)   sha256sum {ceiling:>5.2} s   ratio {:.2}",
        rows as f64 / wall,
        wall / ceiling
    );
    common::write_results(
        "audience_prepare",
        &[format!(
            r#"{{"rows": {rows}, "wall_s": {wall:.2}, "cpu_s": {cpu:.2}, "rows_per_s": {:.0}, "peak_rss_mib": {rss_mib:.1}, "sha256sum_s": {ceiling:.2}, "ratio": {:.2}}}"#,
            rows as f64 / wall,
            wall / ceiling
        )],
    );
}
