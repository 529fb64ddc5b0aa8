//! The pacing state in PostgreSQL (`--pacing postgres://…`), for processes of one app that do
//! not share a state directory: several machines, containers. One row per app, environment
//! and host in `tiktok_ads_pacing`, holding the pacer's state as bytes with a version. A
//! change is one conditional `UPDATE` (one round trip) against the version this process last
//! saw; when another process wrote meanwhile, the row is read again and the change made anew.
//! No lock is held across anything but that statement. The connection lives on a thread of its
//! own (the driver must not run inside the async runtime), and every answer is waited for at
//! most two seconds: a database that hangs or went away makes the caller pace alone.

use std::sync::Mutex;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Duration;

use anyhow::{Context as _, Result};

use super::redact_url;

/// The table, created on first use.
pub const PACING_TABLE: &str = "tiktok_ads_pacing";

/// How long an answer of the database is waited for.
const ANSWER_WITHIN: Duration = Duration::from_secs(2);
/// Changes tried against other processes' writes before giving up.
const ATTEMPTS: usize = 16;

type Failure = Box<dyn std::error::Error + Send + Sync>;

/// A row's version and bytes.
type Row = (i64, Vec<u8>);

enum Job {
    Read(Sender<Result<Row, String>>),
    /// Store the bytes if the row is still at the version: the new version, or `None`.
    Write(i64, Vec<u8>, Sender<Result<Option<i64>, String>>),
}

pub struct PacingTable {
    jobs: Sender<Job>,
    /// The row as this process last read or wrote it.
    known: Mutex<Option<Row>>,
    shown: String,
}

impl PacingTable {
    /// Connects to `url` (same rules as `report sync --into`), creates the table and the row
    /// of `scope` when missing.
    pub fn open(url: &str, scope: &str) -> Result<Self> {
        let shown = redact_url(url);
        let (jobs, queue) = channel();
        let (opened, ready) = channel();
        let (url, scope) = (url.to_string(), scope.to_string());
        std::thread::Builder::new()
            .name("pacing-postgres".into())
            .spawn(move || serve(&url, &scope, &opened, &queue))
            .context("starting the pacing state's thread")?;
        match ready.recv_timeout(Duration::from_secs(15)) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => anyhow::bail!("{shown} did not answer within 15 s"),
        }
        Ok(Self {
            jobs,
            known: Mutex::new(None),
            shown,
        })
    }

    fn ask<T>(&self, job: impl FnOnce(Sender<Result<T, String>>) -> Job) -> Result<T, Failure> {
        let (reply, answer) = channel();
        self.jobs
            .send(job(reply))
            .map_err(|_| "its connection is closed")?;
        match answer.recv_timeout(ANSWER_WITHIN) {
            Ok(result) => result.map_err(Into::into),
            Err(_) => Err(format!("no answer within {} s", ANSWER_WITHIN.as_secs()).into()),
        }
    }

    /// Reads the row, changes it, stores it: see the module's note.
    pub fn exchange(
        &self,
        change: &mut dyn FnMut(Option<&[u8]>) -> Vec<u8>,
    ) -> Result<(), Failure> {
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        for _ in 0..ATTEMPTS {
            let (version, bytes) = match known.take() {
                Some(row) => row,
                None => self.ask(Job::Read)?,
            };
            let changed = change((!bytes.is_empty()).then_some(bytes.as_slice()));
            if let Some(next) = self.ask(|reply| Job::Write(version, changed.clone(), reply))? {
                *known = Some((next, changed));
                return Ok(());
            }
        }
        Err(format!("its row kept changing under {ATTEMPTS} attempts").into())
    }

    /// The row's bytes as they are.
    pub fn read(&self) -> Result<Option<Vec<u8>>, Failure> {
        let (_, bytes) = self.ask(Job::Read)?;
        Ok((!bytes.is_empty()).then_some(bytes))
    }

    /// The database, without its password.
    pub fn shown(&self) -> &str {
        &self.shown
    }
}

/// The connection's thread: connects, prepares the table, then answers jobs until the
/// process ends (the sender is dropped).
fn serve(url: &str, scope: &str, opened: &Sender<Result<()>>, queue: &Receiver<Job>) {
    let (mut client, [add, read, write]) = match prepare(url, scope) {
        Ok(prepared) => {
            let _ = opened.send(Ok(()));
            prepared
        }
        Err(e) => {
            let _ = opened.send(Err(e));
            return;
        }
    };
    while let Ok(job) = queue.recv() {
        match job {
            Job::Read(reply) => {
                let row = match client.query_opt(&read, &[&scope]) {
                    Ok(Some(row)) => Ok((row.get(0), row.get(1))),
                    // Removed meanwhile (someone cleared the table): made again, empty.
                    Ok(None) => client
                        .execute(&add, &[&scope])
                        .map(|_| (0, Vec::new()))
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                };
                let _ = reply.send(row);
            }
            Job::Write(version, bytes, reply) => {
                let written = client
                    .query_opt(&write, &[&scope, &version, &bytes])
                    .map(|row| row.map(|r| r.get(0)))
                    .map_err(|e| e.to_string());
                let _ = reply.send(written);
            }
        }
    }
}

/// The connection, with the table and the app's row in place and its statements prepared
/// (adding the row, reading it, changing it: each change is then one round trip).
fn prepare(url: &str, scope: &str) -> Result<(postgres::Client, [postgres::Statement; 3])> {
    let mut client = super::postgres::connect(url, "tiktok-ads pacing", Duration::from_secs(10))?;
    let create = format!(
        "CREATE TABLE IF NOT EXISTS {PACING_TABLE} (scope text PRIMARY KEY, version bigint NOT \
         NULL DEFAULT 0, state bytea NOT NULL DEFAULT ''::bytea, updated_at timestamptz NOT \
         NULL DEFAULT now())"
    );
    // Two processes creating it at once: one of them is told it exists after all.
    if let Err(first) = client.batch_execute(&create) {
        client
            .batch_execute(&create)
            .with_context(|| format!("creating {PACING_TABLE}: {first}"))?;
    }
    let add = client
        .prepare(&format!(
            "INSERT INTO {PACING_TABLE} (scope) VALUES ($1) ON CONFLICT DO NOTHING"
        ))
        .context("preparing the row's insert")?;
    client
        .execute(&add, &[&scope])
        .with_context(|| format!("adding this app's row to {PACING_TABLE}"))?;
    // A pacing state lost with the last milliseconds before a crash of the server costs
    // nothing (claims expire); waiting for the disk on every request would.
    client
        .batch_execute("SET statement_timeout = 2000; SET synchronous_commit = off")
        .context("setting up the session")?;
    let read = client
        .prepare(&format!(
            "SELECT version, state FROM {PACING_TABLE} WHERE scope = $1"
        ))
        .context("preparing the read")?;
    let write = client
        .prepare(&format!(
            "UPDATE {PACING_TABLE} SET state = $3, version = version + 1, updated_at = now() \
             WHERE scope = $1 AND version = $2 RETURNING version"
        ))
        .context("preparing the change")?;
    Ok((client, [add, read, write]))
}
