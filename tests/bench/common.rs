//! What the benchmarks share: a token from the simulator they run against (it accepts only
//! tokens it issued), a simulator process, and a child's peak RSS.

// Each benchmark uses some of these.
#![allow(dead_code)]

/// Issues a token through the simulator's control API (`POST /_mock/tokens`).
pub(crate) fn simulator_token(url: &str) -> String {
    control(url, "POST", "/_mock/tokens", "")["access_token"]
        .as_str()
        .expect("a token")
        .to_string()
}

#[path = "../integration/simulator_control.rs"]
mod simulator_control;
pub(crate) use simulator_control::control;

/// Starts `tiktok-ads mock --port 0` with `args` in a process of its own (its pages live there,
/// not in the measured process); its URL.
pub(crate) fn simulator(bin: &str, args: &[&str]) -> (std::process::Child, String) {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let mut child = Command::new(bin)
        .args(["mock", "--port", "0"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("tiktok-ads mock starts");
    let mut url = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut url)
        .expect("the simulator prints its URL");
    (child, url.trim().to_string())
}

/// Waits for the child and returns its exit status and its own resource usage (peak RSS).
pub(crate) fn wait_with_rusage(pid: libc::pid_t) -> (i32, libc::rusage) {
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value; wait4 writes into both out-pointers.
    let mut rusage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut rusage) };
    assert_eq!(rc, pid, "wait4 failed");
    (libc::WEXITSTATUS(status), rusage)
}

/// The sizes to measure: `BENCH_ROWS=100000,1000000`, else `default`.
pub(crate) fn sizes(default: &[usize]) -> Vec<usize> {
    match std::env::var("BENCH_ROWS") {
        Ok(list) => list
            .split(',')
            .filter_map(|s| s.trim().parse().ok())
            .collect(),
        Err(_) => default.to_vec(),
    }
}

/// Writes the JSON lines `entries` as a list to `target/bench/<name>.json` and says where.
pub(crate) fn write_results(name: &str, entries: &[String]) {
    use std::io::Write;
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    let dir = std::path::Path::new(&target).join("bench");
    std::fs::create_dir_all(&dir).expect("bench dir");
    let path = dir.join(format!("{name}.json"));
    let mut file = std::fs::File::create(&path).expect("results file");
    writeln!(file, "[\n{}\n]", entries.join(",\n")).expect("results written");
    // A benchmark reports on stdout: that is its output.
    #[allow(clippy::print_stdout)]
    {
        println!("{name}: results written to {}", path.display());
    }
}
