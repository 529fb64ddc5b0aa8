//! Upload benchmark: the optimized `tiktok-ads` uploads a 100 MiB and a 1 GiB video through
//! the chunked path (start, 20 MiB chunks each with its MD5, finish, bind) to the simulator
//! (in its own process; it hashes every byte it receives and keeps none). Beside it, the
//! ceiling: `curl` sending the same chunks, cut beforehand with their MD5s computed outside
//! the timing, through the same start/transfer/finish calls to the same server. Prints wall
//! time and MB/s of both and the tool's peak RSS; writes `target/bench/creative_upload.json`.
//!
//!   cargo bench --bench creative_upload                 # 100 MiB and 1 GiB
//!   BENCH_MIB=300 cargo bench --bench creative_upload

// A benchmark reports on stdout: that is its output.
#![allow(clippy::print_stdout)]

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use md5::{Digest, Md5};

const BIN: &str = env!("CARGO_BIN_EXE_tiktok-ads");
const ADVERTISER: &str = "7300000000000000001";
const CHUNK: usize = 20 * 1024 * 1024;
const MIB: usize = 1024 * 1024;

struct Measurement {
    mib: usize,
    tool_s: f64,
    curl_s: f64,
    peak_rss_mib: f64,
}

/// A video file of `mib` MiB: an MP4 header, then bytes that do not compress.
fn video(dir: &Path, mib: usize) -> PathBuf {
    let path = dir.join(format!("clip-{mib}.mp4"));
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    file.write_all(&[0, 0, 0, 0x18]).unwrap();
    file.write_all(b"ftypisom").unwrap();
    file.write_all(&[0; 12]).unwrap();
    let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ mib as u64;
    let mut block = vec![0u8; MIB];
    let mut written = 24;
    while written < mib * MIB {
        for word in block.chunks_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            word.copy_from_slice(&state.to_le_bytes());
        }
        let n = block.len().min(mib * MIB - written);
        file.write_all(&block[..n]).unwrap();
        written += n;
    }
    file.flush().unwrap();
    path
}

fn upload_with_tool(url: &str, token: &str, file: &Path, work: &Path) -> (f64, f64) {
    let state = tempfile::tempdir_in(work).unwrap();
    let started = Instant::now();
    // Reaped by `wait4` below, which also returns the child's own peak RSS.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(BIN)
        .args(["--advertiser", ADVERTISER, "--rate", "1000", "-q"])
        .args(["creative", "upload", "--format", "csv"])
        .arg(file)
        .env("TIKTOK_ACCESS_TOKEN", token)
        .env("TIKTOK_ADS_BASE_URL", url)
        .env("TIKTOK_ADS_CONFIG_DIR", state.path())
        .env("TIKTOK_ADS_STATE_DIR", state.path())
        .env("TIKTOK_ADS_TOKEN_STORE", "file")
        .stdout(Stdio::null())
        .spawn()
        .expect("the tiktok-ads binary runs");
    let (status, rusage) = common::wait_with_rusage(child.id() as libc::pid_t);
    let wall = started.elapsed().as_secs_f64();
    assert!(status == 0, "tiktok-ads exited with status {status}");
    (wall, rusage.ru_maxrss as f64 / 1024.0)
}

/// The file cut into 20 MiB chunk files with their MD5s (outside any timing), one chunk in
/// memory at a time: the measured process inherits this one's peak RSS when it is started.
fn chunks(file: &Path, dir: &Path) -> Vec<(PathBuf, String, usize)> {
    use std::io::Read;
    let mut source = std::fs::File::open(file).unwrap();
    let mut pieces = Vec::new();
    let mut chunk = Vec::with_capacity(CHUNK);
    loop {
        chunk.clear();
        let n = (&mut source)
            .take(CHUNK as u64)
            .read_to_end(&mut chunk)
            .unwrap();
        if n == 0 {
            break;
        }
        let path = dir.join(format!("chunk-{}", pieces.len()));
        std::fs::write(&path, &chunk).unwrap();
        let md5: String = Md5::digest(&chunk)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        pieces.push((path, md5, n));
    }
    pieces
}

/// One call with curl; the `data` of its answer (which must be code 0).
fn curl(url: &str, headers: &Path, args: &[&str]) -> serde_json::Value {
    let out = Command::new("curl")
        .args(["-sS", "-X", "POST", "-H"])
        .arg(format!("@{}", headers.display()))
        .args(args)
        .arg(url)
        .output()
        .expect("curl runs");
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    assert_eq!(answer["code"], 0, "{answer}");
    answer["data"].clone()
}

/// The ceiling: the same start, chunks and finish sent by curl.
fn upload_with_curl(url: &str, token: &str, file: &Path, work: &Path) -> f64 {
    let dir = tempfile::tempdir_in(work).unwrap();
    let pieces = chunks(file, dir.path());
    // The token goes in a header file, never on a command line.
    let headers = dir.path().join("headers");
    std::fs::write(&headers, format!("Access-Token: {token}\n")).unwrap();
    let size = std::fs::metadata(file).unwrap().len();
    let api = |path: &str| format!("{url}/open_api/v1.3{path}");
    let started = Instant::now();
    let body = format!(
        r#"{{"advertiser_id":"{ADVERTISER}","size":{size},"content_type":"video","name":"curl-{size}"}}"#
    );
    let begun = curl(
        &api("/file/start/upload/"),
        &headers,
        &["-H", "Content-Type: application/json", "-d", &body],
    );
    let upload_id = begun["upload_id"].as_str().unwrap().to_string();
    let mut offset = 0;
    for (path, md5, len) in &pieces {
        curl(
            &api("/file/transfer/upload/"),
            &headers,
            &[
                "-F",
                &format!("advertiser_id={ADVERTISER}"),
                "-F",
                &format!("upload_id={upload_id}"),
                "-F",
                &format!("start_offset={offset}"),
                "-F",
                &format!("signature={md5}"),
                "-F",
                &format!("file=@{};filename=chunk", path.display()),
            ],
        );
        offset += len;
    }
    let finish = format!(r#"{{"advertiser_id":"{ADVERTISER}","upload_id":"{upload_id}"}}"#);
    curl(
        &api("/file/finish/upload/"),
        &headers,
        &["-H", "Content-Type: application/json", "-d", &finish],
    );
    started.elapsed().as_secs_f64()
}

fn main() {
    let sizes: Vec<usize> = match std::env::var("BENCH_MIB") {
        Ok(list) => list
            .split(',')
            .filter_map(|s| s.trim().parse().ok())
            .collect(),
        Err(_) => vec![100, 1024],
    };
    let work = tempfile::tempdir().unwrap();
    let mut results = Vec::new();
    for mib in sizes {
        let file = video(work.path(), mib);
        let (mut server, url) = common::simulator(BIN, &["--video-ready-secs", "0"]);
        let token = common::simulator_token(&url);
        // A warm-up of each, so both read the file from the page cache.
        upload_with_curl(&url, &token, &file, work.path());
        let curl_s = upload_with_curl(&url, &token, &file, work.path());
        let (tool_s, peak_rss_mib) = upload_with_tool(&url, &token, &file, work.path());
        let m = Measurement {
            mib,
            tool_s,
            curl_s,
            peak_rss_mib,
        };
        let mb = (mib * MIB) as f64 / 1e6;
        println!(
            "creative_upload: {:>5} MiB  tiktok-ads {:>6.2} s ({:>6.0} MB/s)  curl {:>6.2} s ({:>6.0} MB/s)  ratio {:.2}  peak RSS {:>5.1} MiB",
            m.mib,
            m.tool_s,
            mb / m.tool_s,
            m.curl_s,
            mb / m.curl_s,
            m.tool_s / m.curl_s,
            m.peak_rss_mib
        );
        results.push(m);
        let _ = server.kill();
        let _ = server.wait();
        let _ = std::fs::remove_file(&file);
    }
    let entries: Vec<String> = results
        .iter()
        .map(|m| {
            format!(
                r#"  {{"mib": {}, "tool_s": {:.3}, "curl_s": {:.3}, "ratio": {:.2}, "peak_rss_mib": {:.1}}}"#,
                m.mib,
                m.tool_s,
                m.curl_s,
                m.tool_s / m.curl_s,
                m.peak_rss_mib
            )
        })
        .collect();
    common::write_results("creative_upload", &entries);
}
