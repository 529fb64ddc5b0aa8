//! `creative upload|wait|list|get` and `ad create --video`, black-box against the simulator
//! (strict about MD5s, offsets, names and limits) and wiremock: never twice, resumed where
//! TikTok stopped, refused when the file changes, bad input named before anything is sent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::*;

const MIB: usize = 1024 * 1024;

/// The first bytes of a PNG of the given size.
fn png(width: u32, height: u32, salt: u8) -> Vec<u8> {
    let mut bytes = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
    bytes.extend(b"IHDR");
    bytes.extend(width.to_be_bytes());
    bytes.extend(height.to_be_bytes());
    bytes.extend([8, 6, 0, 0, 0, 0, 0, 0, 0, salt]);
    bytes
}

/// An MP4 of `len` bytes (an `ftyp` box, then bytes that differ with `seed`).
fn mp4(len: usize, seed: u64) -> Vec<u8> {
    let mut bytes = [&[0, 0, 0, 0x18][..], b"ftypisom", &[0; 12]].concat();
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    while bytes.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The rows of a JSON output, by path.
fn rows(out: &std::process::Output) -> Vec<Value> {
    serde_json::from_str::<Vec<Value>>(&stdout_of(out))
        .unwrap_or_else(|e| panic!("{e}: {}", stdout_of(out)))
}

fn requests_to<'a>(log: &'a [Value], endpoint: &str) -> Vec<&'a Value> {
    log.iter().filter(|r| r["path"] == endpoint).collect()
}

/// How often each chunk offset was sent, and how often TikTok took it.
fn chunks_sent(log: &[Value]) -> BTreeMap<u64, (usize, usize)> {
    let mut sent = BTreeMap::new();
    for request in requests_to(log, "/file/transfer/upload/") {
        let offset = request["body"]["start_offset"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or(u64::MAX);
        let entry = sent.entry(offset).or_insert((0, 0));
        entry.0 += 1;
        if request["code"] == 0 {
            entry.1 += 1;
        }
    }
    sent
}

fn upload(env: &TestEnv, sim: &Simulator, args: &[&str]) -> std::process::Output {
    sim.cmd(env)
        .args(["creative", "upload", "--format", "json"])
        .args(args)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rerun_uploads_nothing_and_prints_the_recorded_ids() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &["--video-ready-secs", "0"]);
    let dir = env.work_dir();
    write(&dir, "cover.png", &png(720, 1280, 1));
    write(&dir, "clip.mp4", &mp4(300_000, 1));
    let first = upload(&env, &sim, &["."]);
    assert!(first.status.success(), "{}", stderr_of(&first));
    let first = rows(&first);
    assert_eq!(first.len(), 2);
    assert!(first.iter().all(|r| r["status"] == "uploaded"), "{first:?}");
    let image = first.iter().find(|r| r["kind"] == "image").unwrap();
    assert!(
        image["id"].as_str().unwrap().contains('/'),
        "image IDs hold a /"
    );
    assert_eq!(image["advertiser_id"], SIM_ADVERTISER);
    let sent = |log: &[Value]| {
        requests_to(log, "/file/image/ad/upload/").len()
            + requests_to(log, "/file/video/ad/upload/").len()
    };
    assert_eq!(sent(&sim.requests()), 2);
    let again = upload(&env, &sim, &["."]);
    assert!(again.status.success(), "{}", stderr_of(&again));
    let again = rows(&again);
    for (before, after) in first.iter().zip(&again) {
        assert_eq!(before["id"], after["id"]);
        assert_eq!(after["status"], "already uploaded");
    }
    assert_eq!(sent(&sim.requests()), 2, "the rerun sent no upload");
    let forced = upload(
        &env,
        &sim,
        &["--force", "--name", "{stem}-{md5}-again", "clip.mp4"],
    );
    assert!(forced.status.success(), "{}", stderr_of(&forced));
    let forced = rows(&forced);
    assert_eq!(forced[0]["status"], "uploaded");
    assert_ne!(forced[0]["id"], first[1]["id"], "TikTok makes a new ID");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_answer_lost_after_tiktok_took_the_upload_does_not_make_a_second_copy() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &["--video-ready-secs", "0"]);
    write(&env.work_dir(), "clip.mp4", &mp4(200_000, 2));
    sim.control(
        "POST",
        "/_mock/faults",
        r#"{"truncate_next": 1, "endpoint": "/file/video/ad/upload/"}"#,
    );
    let out = upload(&env, &sim, &["clip.mp4"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let row = &rows(&out)[0];
    assert_eq!(row["status"], "uploaded");
    let log = sim.requests();
    let uploads = requests_to(&log, "/file/video/ad/upload/");
    assert_eq!(uploads.len(), 2, "sent again after the cut answer");
    assert_eq!(uploads[1]["code"], 40911, "TikTok had taken the first one");
    let listed = sim
        .cmd(&env)
        .args(["creative", "list", "--format", "json"])
        .output()
        .unwrap();
    let listed = rows(&listed);
    assert_eq!(listed.len(), 1, "one video in the library: {listed:?}");
    assert_eq!(listed[0]["video_id"], row["id"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_chunk_is_sent_again_at_its_offset_and_confirmed_chunks_are_not() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &["--fault", "chunk_size=4194304"]);
    write(&env.work_dir(), "big.mp4", &mp4(21 * MIB, 3));
    sim.control("POST", "/_mock/faults", r#"{"fail_chunk_next": 1}"#);
    let out = upload(&env, &sim, &["big.mp4"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let log = sim.requests();
    let chunks = chunks_sent(&log);
    assert_eq!(chunks.len(), 6, "21 MiB in 4 MiB chunks: {chunks:?}");
    assert!(chunks.values().all(|(_, taken)| *taken == 1), "{chunks:?}");
    assert_eq!(
        chunks.values().map(|(sent, _)| sent).sum::<usize>(),
        7,
        "only the failed chunk was sent twice: {chunks:?}"
    );
    assert_eq!(requests_to(&log, "/file/start/upload/").len(), 1);
    assert_eq!(rows(&out)[0]["status"], "uploaded");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connection_cut_mid_chunk_is_survived() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &["--fault", "chunk_size=4194304"]);
    write(&env.work_dir(), "big.mp4", &mp4(21 * MIB, 4));
    sim.control("POST", "/_mock/faults", r#"{"cut_chunk_next": 2}"#);
    let out = upload(&env, &sim, &["big.mp4"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let chunks = chunks_sent(&sim.requests());
    assert!(chunks.values().all(|(_, taken)| *taken == 1), "{chunks:?}");
    let (sent, _) = chunks[&0];
    assert_eq!(
        sent, 3,
        "the first chunk was cut twice, then taken: {chunks:?}"
    );
}

/// Starts an upload of `file` and kills it (SIGKILL) once TikTok has confirmed `confirmed`
/// chunks.
fn kill_after_chunks(env: &TestEnv, sim: &Simulator, file: &str, confirmed: usize) {
    let mut child = sim
        .std_cmd(env)
        .args(["creative", "upload", file])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        let taken = chunks_sent(&sim.requests())
            .values()
            .filter(|(_, taken)| *taken > 0)
            .count();
        if taken >= confirmed {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the upload ended before it was killed"
        );
        assert!(started.elapsed() < Duration::from_secs(60), "no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upload_killed_mid_file_resumes_from_the_last_confirmed_chunk() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(
        &env,
        &["--fault", "chunk_size=2097152", "--latency-ms", "150"],
    );
    write(&env.work_dir(), "big.mp4", &mp4(21 * MIB, 5));
    kill_after_chunks(&env, &sim, "big.mp4", 3);
    let out = upload(&env, &sim, &["big.mp4"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(rows(&out)[0]["status"], "uploaded");
    let log = sim.requests();
    assert_eq!(
        requests_to(&log, "/file/start/upload/").len(),
        1,
        "resumed, not started over"
    );
    let chunks = chunks_sent(&log);
    assert_eq!(chunks.len(), 11);
    assert!(
        chunks.values().all(|(sent, _)| *sent <= 2),
        "each chunk sent at most twice: {chunks:?}"
    );
    assert!(chunks.values().all(|(_, taken)| *taken >= 1), "{chunks:?}");
    assert_eq!(requests_to(&log, "/file/finish/upload/").len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_upload_is_started_over() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(
        &env,
        &["--fault", "chunk_size=2097152", "--latency-ms", "150"],
    );
    write(&env.work_dir(), "big.mp4", &mp4(21 * MIB, 6));
    kill_after_chunks(&env, &sim, "big.mp4", 2);
    sim.control("POST", "/_mock/uploads/expire", "");
    sim.control("POST", "/_mock/faults", r#"{"latency_ms": 0}"#);
    let resumed = upload(&env, &sim, &["big.mp4"]);
    assert!(resumed.status.success(), "{}", stderr_of(&resumed));
    let log = sim.requests();
    let refused = requests_to(&log, "/file/transfer/upload/")
        .into_iter()
        .filter(|r| r["code"] == 40910)
        .count();
    assert_eq!(refused, 1, "TikTok refused the old upload once");
    assert_eq!(requests_to(&log, "/file/start/upload/").len(), 2);
    assert_eq!(rows(&resumed)[0]["status"], "uploaded");
}

/// Uploads a file of `mib` MiB in chunks and changes a byte near its end once the first chunk
/// is on its way: the upload must be refused, nothing bound, nothing recorded.
fn change_byte_in_place(path: &Path, at: u64) {
    use std::io::{Read, Seek, SeekFrom, Write};
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let mut byte = [0u8; 1];
    file.seek(SeekFrom::Start(at)).unwrap();
    file.read_exact(&mut byte).unwrap();
    byte[0] ^= 0xFF;
    file.seek(SeekFrom::Start(at)).unwrap();
    file.write_all(&byte).unwrap();
}

async fn changed_during_upload(simulator: &[&str], mib: usize) -> Vec<Value> {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, simulator);
    let path = write(&env.work_dir(), "big.mp4", &mp4(mib * MIB, 7));
    let child = sim
        .std_cmd(&env)
        .args(["creative", "upload", "--format", "json", "big.mp4"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while requests_to(&sim.requests(), "/file/start/upload/").is_empty() {
        assert!(started.elapsed() < Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(5));
    }
    // Change one byte near the end (a chunk not yet sent) in place: rewriting the whole file
    // would truncate it first, and a chunk read in that moment sees a shorter file.
    change_byte_in_place(&path, std::fs::metadata(&path).unwrap().len() - 10);
    let out = child.wait_with_output().unwrap();
    assert_fails(&out, 2, "big.mp4: changed while it was being uploaded");
    let log = sim.requests();
    assert!(requests_to(&log, "/file/finish/upload/").is_empty());
    assert!(requests_to(&log, "/file/video/ad/upload/").is_empty());
    let again = upload(&env, &sim, &["big.mp4"]);
    assert!(again.status.success(), "{}", stderr_of(&again));
    assert_eq!(
        rows(&again)[0]["status"],
        "uploaded",
        "nothing was recorded"
    );
    log
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_changed_during_its_upload_is_refused_and_not_kept() {
    // Chunks off the 20 MiB grid: hashed as sent, the whole file's MD5 compared at the end.
    let log = changed_during_upload(
        &["--fault", "chunk_size=2097152", "--latency-ms", "150"],
        21,
    )
    .await;
    assert!(
        log.iter().all(|r| r["code"] != 40900),
        "caught by the whole file's MD5"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_changed_during_its_upload_in_20_mib_chunks_is_refused_by_its_chunk_md5() {
    // Chunks on the grid: sent with the MD5s taken when the file was read; TikTok refuses the
    // changed chunk and the tool finds the file changed. Each answer waits 800 ms, so the change
    // (made as soon as the upload starts) lands well before the last chunk is read, even on a
    // busy machine.
    let log = changed_during_upload(&["--latency-ms", "800"], 41).await;
    let refused = requests_to(&log, "/file/transfer/upload/")
        .into_iter()
        .filter(|r| r["code"] == 40900)
        .count();
    assert_eq!(refused, 1, "TikTok refused the changed chunk");
}

#[tokio::test(flavor = "multi_thread")]
async fn two_processes_uploading_the_same_files_upload_each_once() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &["--latency-ms", "100"]);
    let dir = env.work_dir().join("media");
    std::fs::create_dir(&dir).unwrap();
    for n in 0..3 {
        write(&dir, &format!("clip{n}.mp4"), &mp4(100_000, 10 + n));
    }
    let spawn = || {
        sim.std_cmd(&env)
            .args(["creative", "upload", "--format", "json", "media"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success(), "{}", stderr_of(&a));
    assert!(b.status.success(), "{}", stderr_of(&b));
    let ids = |out| -> Vec<Value> { rows(out).iter().map(|r| r["id"].clone()).collect() };
    assert_eq!(ids(&a), ids(&b), "both print the same IDs");
    let log = sim.requests();
    assert_eq!(requests_to(&log, "/file/video/ad/upload/").len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_files_are_named_before_anything_is_sent() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &[]);
    let dir = env.work_dir();
    write(&dir, "fine.mp4", &mp4(1000, 1));
    write(&dir, "empty.mp4", b"");
    write(&dir, "notes.mp4", b"just some text, not a video");
    write(&dir, "huge.png", &png(2000, 2000, 0));
    std::fs::create_dir(dir.join("nothing")).unwrap();
    write(&dir, "nothing/readme.txt", b"hello");
    let long = format!("{}.mp4", "x".repeat(95));
    write(&dir, &long, &mp4(1000, 2));
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(dir.join("loop-b"), dir.join("loop-a")).unwrap();
        std::os::unix::fs::symlink(dir.join("loop-a"), dir.join("loop-b")).unwrap();
    }
    let cases: &[(&[&str], &str)] = &[
        (&["missing.mp4"], "missing.mp4: no such file or directory"),
        (&["nothing"], "nothing: holds no image or video"),
        (&["fine.mp4", "empty.mp4"], "empty.mp4: the file is empty"),
        (
            &["notes.mp4"],
            "notes.mp4: not an image (JPG, PNG) or a video",
        ),
        (
            &["huge.png"],
            "huge.png: 2000 × 2000 pixels, over TikTok's 3,686,400",
        ),
        (&[&long], "characters, over TikTok's 100"),
        (
            &["fine.mp4", "--name", "{stem}-{date}"],
            "unknown placeholder {date}",
        ),
        #[cfg(unix)]
        (
            &["loop-a"],
            "loop-a: a symbolic link that leads back to itself",
        ),
    ];
    for (args, says) in cases {
        let out = upload(&env, &sim, args);
        assert_fails(&out, 2, says);
        assert_eq!(stderr_of(&out).lines().count(), 1, "{}", stderr_of(&out));
    }
    for (twin, seed) in [("a", 3), ("b", 4)] {
        std::fs::create_dir(dir.join(twin)).unwrap();
        write(&dir.join(twin), "clip.mp4", &mp4(1000, seed));
    }
    let out = upload(
        &env,
        &sim,
        &["a/clip.mp4", "b/clip.mp4", "--name", "{stem}"],
    );
    assert_fails(&out, 2, "would both be named \"clip\"");
    assert!(
        sim.requests().is_empty(),
        "nothing was sent: {:?}",
        sim.requests()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_name_held_by_another_file_says_which_material_holds_it() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &[]);
    let held = sim.control(
        "POST",
        "/_mock/media",
        &format!(r#"{{"advertiser_id":"{SIM_ADVERTISER}","type":"video","file_name":"launch"}}"#),
    );
    let material = held["material_id"].as_str().unwrap().to_string();
    write(&env.work_dir(), "launch.mp4", &mp4(1000, 1));
    write(&env.work_dir(), "other.mp4", &mp4(1000, 2));
    let out = upload(&env, &sim, &["launch.mp4", "other.mp4", "--name", "{stem}"]);
    assert_fails(&out, 6, "1 of 2 uploads failed");
    let rows = rows(&out);
    let failed = rows[0]["status"].as_str().unwrap();
    assert!(
        failed.starts_with("failed: the name \"launch\" is held by another file")
            && failed.contains(&material),
        "{failed}"
    );
    assert_eq!(rows[1]["status"], "uploaded");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_recorded_upload_the_account_no_longer_has_is_uploaded_again() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &[]);
    write(&env.work_dir(), "cover.png", &png(720, 1280, 9));
    let first = rows(&upload(&env, &sim, &["cover.png"]));
    let id = first[0]["id"].as_str().unwrap();
    sim.control(
        "POST",
        "/_mock/media/remove",
        &format!(r#"{{"id":"{id}"}}"#),
    );
    let out = upload(&env, &sim, &["cover.png"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("1 recorded upload is no longer in the library"),
        "{}",
        stderr_of(&out)
    );
    let again = rows(&out);
    assert_eq!(again[0]["status"], "uploaded");
    assert_ne!(again[0]["id"], first[0]["id"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn wait_reports_processed_videos_and_names_one_tiktok_could_not_process() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &["--video-ready-secs", "0.3"]);
    write(&env.work_dir(), "good.mp4", &mp4(1000, 1));
    write(&env.work_dir(), "bad.mp4", &mp4(1000, 2));
    let good = upload(&env, &sim, &["good.mp4", "--wait", "--poll-ms", "100"]);
    assert!(good.status.success(), "{}", stderr_of(&good));
    let id = rows(&good)[0]["id"].as_str().unwrap().to_string();
    sim.control("POST", "/_mock/faults", r#"{"transcode_fail_next": 1}"#);
    let bad = upload(&env, &sim, &["bad.mp4", "--wait", "--poll-ms", "100"]);
    assert_fails(&bad, 6, "video(s) not ready");
    let status = rows(&bad)[0]["status"].as_str().unwrap().to_string();
    assert!(
        status.contains("TikTok could not process the video"),
        "{status}"
    );
    let waited = sim
        .cmd(&env)
        .args(["creative", "wait", &id, "--format", "json"])
        .output()
        .unwrap();
    assert!(waited.status.success(), "{}", stderr_of(&waited));
    let waited = rows(&waited);
    assert_eq!(waited[0]["state"], "ready");
    assert_eq!(waited[0]["duration"], 10.033);
    let unknown = sim
        .cmd(&env)
        .args(["creative", "wait", "v-unknown", "--wait-timeout", "1"])
        .args(["--poll-ms", "200"])
        .output()
        .unwrap();
    assert_fails(&unknown, 6, "v-unknown: TikTok does not list it as usable");
}

#[tokio::test(flavor = "multi_thread")]
async fn list_and_get_read_the_library_with_ids_as_strings() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &["--video-ready-secs", "0"]);
    write(&env.work_dir(), "cover.png", &png(720, 1280, 3));
    write(&env.work_dir(), "spring.mp4", &mp4(1000, 1));
    write(&env.work_dir(), "autumn.mp4", &mp4(1000, 2));
    let uploaded = rows(&upload(&env, &sim, &["."]));
    let image_id = uploaded.iter().find(|r| r["kind"] == "image").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let named = sim
        .cmd(&env)
        .args(["creative", "list", "--name", "spring", "--format", "json"])
        .output()
        .unwrap();
    let named = rows(&named);
    assert_eq!(named.len(), 1);
    assert!(
        named[0]["file_name"]
            .as_str()
            .unwrap()
            .starts_with("spring-")
    );
    let later = sim
        .cmd(&env)
        .args([
            "creative",
            "list",
            "--since",
            "2099-01-01",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(rows(&later).is_empty(), "{}", stdout_of(&later));
    let got = sim
        .cmd(&env)
        .args([
            "creative", "get", "--type", "image", &image_id, "--format", "csv",
        ])
        .output()
        .unwrap();
    assert!(got.status.success(), "{}", stderr_of(&got));
    assert!(stdout_of(&got).contains(&image_id), "{}", stdout_of(&got));
    let missing = sim
        .cmd(&env)
        .args(["creative", "get", "--type", "image", "ad-site/none"])
        .output()
        .unwrap();
    assert_fails(&missing, 6, "ad-site/none");
}

#[tokio::test(flavor = "multi_thread")]
async fn ad_create_uploads_its_video_waits_for_it_and_takes_a_suggested_cover() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &["--video-ready-secs", "0.2"]);
    write(&env.work_dir(), "launch.mp4", &mp4(5000, 1));
    let adgroups = sim
        .cmd(&env)
        .args(["adgroup", "list", "--format", "json"])
        .output()
        .unwrap();
    let adgroup = rows(&adgroups)[0]["adgroup_id"]
        .as_str()
        .unwrap()
        .to_string();
    let create = |extra: &[&str]| {
        sim.cmd(&env)
            .args(["ad", "create", "--adgroup", &adgroup, "--name", "launch"])
            .args([
                "--ad-text",
                "New shoes",
                "--identity-id",
                "7000000000000000123",
            ])
            .args(["--display-name", "Demo", "--call-to-action", "SHOP_NOW"])
            .args(["--landing-page-url", "https://example.com/shoes"])
            .args(["--video", "launch.mp4", "--cover", "auto"])
            .args(extra)
            .output()
            .unwrap()
    };
    let dry = create(&["--dry-run"]);
    assert!(dry.status.success(), "{}", stderr_of(&dry));
    assert!(stdout_of(&dry).contains("<video_id of launch.mp4>"));
    assert!(stderr_of(&dry).contains("would upload launch.mp4"));
    assert!(
        sim.requests().iter().all(|r| r["method"] == "GET"),
        "a dry run sends nothing"
    );
    write(&env.work_dir(), "cover.png", &png(720, 1280, 5));
    let with_file = sim
        .cmd(&env)
        .args(["ad", "create", "--adgroup", &adgroup, "--identity-id", "1"])
        .args(["--video", "launch.mp4", "--cover", "cover.png", "--dry-run"])
        .output()
        .unwrap();
    assert!(stdout_of(&with_file).contains("<image_id of cover.png>"));
    let wrong_kind = sim
        .cmd(&env)
        .args(["ad", "create", "--adgroup", &adgroup, "--identity-id", "1"])
        .args(["--video", "cover.png", "--dry-run"])
        .output()
        .unwrap();
    assert_fails(
        &wrong_kind,
        2,
        "cover.png: an image, where a video is needed",
    );
    let out = create(&[]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let ad_id = stdout_of(&out).trim().to_string();
    let ad = sim
        .cmd(&env)
        .args(["ad", "get", &ad_id, "--format", "json"])
        .output()
        .unwrap();
    let ad = stdout_of(&ad);
    let log = sim.requests();
    let uploaded = requests_to(&log, "/file/video/ad/upload/");
    assert_eq!(uploaded.len(), 1);
    assert_eq!(requests_to(&log, "/file/video/suggestcover/").len(), 1);
    let created = requests_to(&log, "/ad/create/");
    let creative = &created[0]["body"]["creatives"][0];
    assert!(
        creative["video_id"]
            .as_str()
            .unwrap()
            .starts_with("v10033g"),
        "{creative}"
    );
    assert_eq!(creative["image_ids"].as_array().unwrap().len(), 1);
    assert!(ad.contains(&ad_id), "{ad}");
}

#[tokio::test]
async fn upload_refusals_carry_the_action_that_fixes_them() {
    let env = TestEnv::logged_in().await;
    on_get("/file/name/check/")
        .respond_with(ok(serde_json::json!({"batch_results": [
            {"file_name": "clip-x", "duplicate": false}
        ]})))
        .mount(&env.server)
        .await;
    on_post("/file/video/ad/upload/")
        .respond_with(api_error(40908, "File type error", "req-1"))
        .mount(&env.server)
        .await;
    write(&env.work_dir(), "clip.mp4", &mp4(1000, 1));
    let out = env
        .cmd()
        .args([
            "creative",
            "upload",
            "clip.mp4",
            "--advertiser",
            "7301234567890123456",
        ])
        .output()
        .unwrap();
    assert_fails(&out, 4, "convert it (MP4/H.264 video");
    let sent = env.requests_to("/file/video/ad/upload/").await;
    assert_eq!(sent.len(), 1, "a refusal is not retried");
    let body = String::from_utf8_lossy(&sent[0].body).to_string();
    assert!(body.contains("name=\"video_signature\""), "{body}");
    assert!(body.contains("name=\"video_file\""), "{body}");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn an_upload_stopped_by_sigterm_says_what_is_kept_and_resumes() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(
        &env,
        &["--fault", "chunk_size=2097152", "--latency-ms", "150"],
    );
    write(&env.work_dir(), "big.mp4", &mp4(21 * MIB, 8));
    let child = sim
        .std_cmd(&env)
        .args(["creative", "upload", "big.mp4"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while chunks_sent(&sim.requests())
        .values()
        .filter(|(_, t)| *t > 0)
        .count()
        < 2
    {
        assert!(started.elapsed() < Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(10));
    }
    // SAFETY: sending a signal to the child this test started.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    assert_fails(
        &out,
        143,
        "stopped by SIGTERM after 0 uploads: each is recorded, so a rerun skips it; an \
         unfinished upload in chunks resumes from the last chunk TikTok confirmed",
    );
    sim.control("POST", "/_mock/faults", r#"{"latency_ms": 0}"#);
    let again = upload(&env, &sim, &["big.mp4"]);
    assert!(again.status.success(), "{}", stderr_of(&again));
    assert_eq!(requests_to(&sim.requests(), "/file/start/upload/").len(), 1);
}
