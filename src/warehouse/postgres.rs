//! PostgreSQL: metrics as NUMERIC (exact), days as DATE, hours as TIMESTAMP; each window goes
//! through COPY into a temporary table and one upsert; a session advisory lock keeps two syncs
//! into one database apart. The password comes from the URL, `PGPASSWORD` or `~/.pgpass`, and
//! is never printed.

use std::io::{BufRead, Write};
use std::str::FromStr;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use anyhow::{Context as _, Result, bail};
use chrono::NaiveDate;
use postgres::{Client, Config};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::report::Window;
use crate::report::incremental::Synced;

use super::{
    ColumnKind, Counts, Dialect, PartlyCommitted, STATE_TABLE, TableShape, Upserted, Warehouse,
    WarehouseError, fit_table, quote, redact_url,
};

/// The advisory lock key of `report sync` (any fixed number; this one spells "tiktok").
const LOCK_KEY: i64 = 0x7469_6b74_6f6b;

pub(crate) struct Postgres {
    /// The connection that holds the sync lock: there until dropped, except while a window's
    /// first part uses it.
    client: Option<Client>,
    /// Further connections for a window's later days, opened on the first window that spans
    /// days.
    helpers: Vec<Client>,
    /// Whether helpers were asked for (once a run: a server that refuses them is not asked
    /// again, and the run goes on over one connection).
    helpers_tried: bool,
    config: Config,
    tls: MakeRustlsConnect,
    /// The open window, if any.
    open: Option<OpenWindow>,
}

/// Connections a window's days are spread over. PostgreSQL runs a statement on one core, and
/// a re-sync that rewrites every row is that one process's work: two halves of a window, each
/// copied and merged by a server process of its own, take about half the time (each half is a
/// transaction of its own, committed in day order with its progress).
const CONNECTIONS: usize = 2;

/// A window's transactions, one per part, in day order.
struct OpenWindow {
    parts: Vec<Part>,
    /// Where a row's day is, and the first day (`YYYY-MM-DD`) of each part after the first:
    /// a row goes to the last part whose first day it has reached.
    split: Option<(usize, Vec<String>)>,
    kinds: Vec<ColumnKind>,
}

/// Some days of a window and their transaction. Their rows, in COPY text format, stream to a
/// thread that holds a connection and one COPY open until the window ends, so PostgreSQL works
/// while rows still arrive: straight into the table when it holds none of those days yet, else
/// into a temporary table that one upsert merges at the end.
struct Part {
    days: Option<Window>,
    sender: Option<SyncSender<Vec<u8>>>,
    worker: Option<JoinHandle<Worked>>,
    buffer: Vec<u8>,
    rows: u64,
}

/// What a part's thread hands back: its connection (the transaction still open) and the rows
/// it inserted and updated.
type Worked = (Client, Result<(u64, u64)>);

/// COPY data handed to a part's thread at once, and how many such pieces may wait.
const COPY_PIECE: usize = 256 << 10;
const PIECES_WAITING: usize = 8;

/// The piece that says a part's rows are all there (no piece of rows is empty): its thread
/// merges them. A thread whose pieces end without it drops them unmerged (a stopped run).
const COMPLETE: Vec<u8> = Vec::new();

fn sql_type(kind: ColumnKind) -> &'static str {
    match kind {
        ColumnKind::Key => "TEXT NOT NULL",
        ColumnKind::Day => "DATE NOT NULL",
        ColumnKind::Hour => "TIMESTAMP NOT NULL",
        ColumnKind::Number => "NUMERIC",
        ColumnKind::Text => "TEXT",
    }
}

/// The password of `~/.pgpass` (or `$PGPASSFILE`) for a host, port, database and user, the
/// way libpq reads it: `host:port:database:user:password`, `*` for any, `\` escaping `:`.
fn pgpass(host: &str, port: u16, database: &str, user: &str) -> Option<String> {
    let path = pgpass_file()?;
    if loose(&path) {
        return None;
    }
    let file = std::fs::File::open(path).ok()?;
    for line in std::io::BufReader::new(file).lines().map_while(Result::ok) {
        if line.starts_with('#') {
            continue;
        }
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => field.extend(chars.next()),
                ':' if fields.len() < 4 => fields.push(std::mem::take(&mut field)),
                _ => field.push(c),
            }
        }
        fields.push(field);
        if fields.len() != 5 {
            continue;
        }
        let port = port.to_string();
        let wanted = [host, port.as_str(), database, user];
        if fields[..4]
            .iter()
            .zip(wanted)
            .all(|(f, w)| f == "*" || f == w)
        {
            return Some(fields[4].clone());
        }
    }
    None
}

fn pgpass_file() -> Option<std::path::PathBuf> {
    std::env::var_os("PGPASSFILE")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".pgpass")))
}

/// Whether others may read the file: libpq ignores such a password file, and so does this.
fn loose(path: &std::path::Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

impl Postgres {
    /// Connects; with `lock`, takes the sync lock or refuses (another sync is writing).
    pub(crate) fn open(url: &str, lock: bool) -> Result<Self> {
        let shown = redact_url(url);
        let mut config = Config::from_str(url).map_err(|e| {
            WarehouseError::Unusable(format!("{shown} is not a PostgreSQL URL: {e}"))
        })?;
        if config.get_password().is_none() {
            let host = match config.get_hosts().first() {
                Some(postgres::config::Host::Tcp(h)) => h.clone(),
                _ => "localhost".to_string(),
            };
            let port = config.get_ports().first().copied().unwrap_or(5432);
            let user = config.get_user().unwrap_or_default().to_string();
            let database = config.get_dbname().unwrap_or(&user).to_string();
            let password = std::env::var("PGPASSWORD")
                .ok()
                .filter(|p| !p.is_empty())
                .or_else(|| pgpass(&host, port, &database, &user));
            if let Some(password) = password {
                config.password(password);
            }
        }
        config.connect_timeout(std::time::Duration::from_secs(10));
        if config.get_application_name().is_none() {
            // What a DBA sees in pg_stat_activity.
            config.application_name("tiktok-ads report sync");
        }
        let tls = rustls::ClientConfig::with_platform_verifier_ext()
            .map(MakeRustlsConnect::new)
            .map_err(|e| anyhow::anyhow!("setting up TLS for PostgreSQL: {e}"))?;
        let mut client = config.connect(tls.clone()).map_err(|e| {
            // The driver's message never holds the password; the URL is shown without it.
            let detail = std::error::Error::source(&e)
                .map_or_else(|| e.to_string(), |cause| format!("{e}: {cause}"));
            let ignored = config
                .get_password()
                .is_none()
                .then(pgpass_file)
                .flatten()
                .filter(|p| loose(p));
            let next: String = if let Some(path) = ignored {
                format!(
                    "{} was not read: others may read it, and a password file must be private \
                     (chmod 600 {})",
                    path.display(),
                    path.display()
                )
            } else if detail.contains("does not support TLS") {
                "the URL asks for TLS (sslmode=require) and the server offers none: turn on ssl \
                 in the server's configuration, or leave sslmode=require out on a trusted network"
                    .into()
            } else if detail.contains("certificate") {
                "the server's certificate is not trusted here: add its CA to the system's \
                 certificates (Debian: /usr/local/share/ca-certificates, then \
                 update-ca-certificates), or add ?sslmode=disable for a server on a trusted network"
                    .into()
            } else {
                "check the host, port, user and password: from the URL, PGPASSWORD or ~/.pgpass"
                    .into()
            };
            WarehouseError::Unusable(format!(
                "cannot connect to PostgreSQL at {shown}: {detail} ({next})"
            ))
        })?;
        if lock {
            let locked: bool = client
                .query_one("SELECT pg_try_advisory_lock($1)", &[&LOCK_KEY])
                .context("taking the sync lock")?
                .get(0);
            if !locked {
                return Err(WarehouseError::Busy(format!(
                    "another tiktok-ads report sync is writing to {shown} (it holds the advisory \
                     lock): try again when it ends"
                ))
                .into());
            }
        }
        Ok(Self {
            client: Some(client),
            helpers: Vec::new(),
            helpers_tried: false,
            config,
            tls,
            open: None,
        })
    }
}

/// A value in COPY's text format (`\N` for NULL).
fn copy_field(out: &mut impl Write, value: Option<&str>, kind: ColumnKind) -> std::io::Result<()> {
    let Some(text) = value else {
        return out.write_all(b"\\N");
    };
    let text = if kind == ColumnKind::Number {
        // TikTok may write a rate with a trailing `%` (REFERENCE 1.5); NUMERIC takes the number.
        text.trim_end_matches('%')
    } else {
        text
    };
    for byte in text.bytes() {
        match byte {
            b'\\' => out.write_all(b"\\\\")?,
            b'\t' => out.write_all(b"\\t")?,
            b'\n' => out.write_all(b"\\n")?,
            b'\r' => out.write_all(b"\\r")?,
            other => out.write_all(&[other])?,
        }
    }
    Ok(())
}

trait PlatformVerifier {
    fn with_platform_verifier_ext() -> Result<rustls::ClientConfig, rustls::Error>;
}

impl PlatformVerifier for rustls::ClientConfig {
    fn with_platform_verifier_ext() -> Result<rustls::ClientConfig, rustls::Error> {
        use rustls_platform_verifier::ConfigVerifierExt;
        rustls::ClientConfig::with_platform_verifier()
    }
}

impl Postgres {
    fn db(&mut self) -> Result<&mut Client> {
        self.client
            .as_mut()
            .ok_or_else(|| anyhow::anyhow!("the PostgreSQL connection is closed"))
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // The driver closes its connection on a runtime of its own, which cannot start on a
        // thread that drives this process's runtime: close them on a thread of its own then.
        if tokio::runtime::Handle::try_current().is_ok() {
            let clients: Vec<Client> = self
                .client
                .take()
                .into_iter()
                .chain(self.helpers.drain(..))
                .collect();
            let _ = std::thread::spawn(move || drop(clients)).join();
        }
    }
}

impl Warehouse for Postgres {
    fn prepare(&mut self, shape: &TableShape) -> Result<()> {
        self.db()?.batch_execute(&format!(
            "CREATE TABLE IF NOT EXISTS {STATE_TABLE} (table_name TEXT NOT NULL, \
             advertiser_id TEXT NOT NULL, first_day DATE NOT NULL, last_day DATE NOT NULL, \
             synced_at TIMESTAMPTZ NOT NULL, \
             PRIMARY KEY (table_name, advertiser_id))"
        ))?;
        let existing: Vec<String> = self
            .db()?
            .query(
                "SELECT column_name FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1",
                &[&shape.name],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let key: Vec<String> = if existing.is_empty() {
            Vec::new()
        } else {
            self.db()?
                .query(
                    "SELECT a.attname::text FROM pg_index i JOIN pg_attribute a \
                     ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) \
                     WHERE i.indrelid = (quote_ident(current_schema()) || '.' || quote_ident($1))::regclass \
                     AND i.indisprimary",
                    &[&shape.name],
                )?
                .iter()
                .map(|r| r.get(0))
                .collect()
        };
        let dialect = Dialect {
            column_type: sql_type,
            timestamp: "TIMESTAMPTZ",
            // Every sync rewrites the lookback days: with half of each page free, PostgreSQL
            // writes a row's new version beside the old one and leaves the primary key alone
            // (a HOT update): rewriting every row then takes about half as long, and the table
            // does not grow, for twice the disk.
            table_options: " WITH (fillfactor = 50)",
        };
        for statement in fit_table(shape, &existing, &key, &dialect)? {
            self.db()?.batch_execute(&statement)?;
        }
        Ok(())
    }

    fn all_progress(&mut self) -> Result<Vec<Synced>> {
        let exists: bool = self
            .db()?
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&STATE_TABLE])?
            .get(0);
        if !exists {
            return Ok(Vec::new());
        }
        let rows = self.db()?.query(
            &format!(
                "SELECT table_name, advertiser_id, first_day::text, last_day::text, \
                 to_char(synced_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM {STATE_TABLE} \
                 ORDER BY table_name, advertiser_id"
            ),
            &[],
        )?;
        rows.iter()
            .map(|r| {
                let date = |i: usize| {
                    r.get::<_, String>(i)
                        .parse::<NaiveDate>()
                        .context("a day that is not a date")
                };
                Ok(Synced {
                    table: r.get(0),
                    advertiser: r.get(1),
                    first_day: date(2)?,
                    last_day: date(3)?,
                    synced_at: r.get(4),
                })
            })
            .collect()
    }

    fn begin_window(
        &mut self,
        shape: &TableShape,
        advertiser: &str,
        days: Option<Window>,
    ) -> Result<()> {
        let columns: Vec<String> = shape
            .key
            .iter()
            .chain(&shape.metrics)
            .map(|c| quote(&c.name))
            .chain(std::iter::once("synced_at".to_string()))
            .collect();
        let columns = columns.join(", ");
        let day_at = shape.key.iter().position(|c| c.kind == ColumnKind::Day);
        let spread = match (days, day_at) {
            (Some(days), Some(_)) if days.end > days.start => {
                self.open_helpers();
                split_days(days, 1 + self.helpers.len())
            }
            _ => vec![days],
        };
        let mut clients = Vec::with_capacity(spread.len());
        clients.extend(self.client.take());
        if clients.is_empty() {
            bail!("the PostgreSQL connection is closed");
        }
        clients.extend(self.helpers.drain(..spread.len() - 1));
        let mut parts = Vec::with_capacity(spread.len());
        for (client, part_days) in clients.into_iter().zip(&spread) {
            let (sender, receiver) = sync_channel::<Vec<u8>>(PIECES_WAITING);
            let (shape, advertiser, columns, part_days) = (
                shape.clone(),
                advertiser.to_string(),
                columns.clone(),
                *part_days,
            );
            let worker = std::thread::Builder::new()
                .name("postgres-copy".into())
                .spawn(move || {
                    write_part(client, &shape, &advertiser, part_days, &columns, &receiver)
                })?;
            parts.push(Part {
                days: part_days,
                sender: Some(sender),
                worker: Some(worker),
                buffer: Vec::with_capacity(COPY_PIECE + (16 << 10)),
                rows: 0,
            });
        }
        let split = day_at.filter(|_| spread.len() > 1).map(|at| {
            let firsts = spread[1..]
                .iter()
                .flatten()
                .map(|d| d.start.to_string())
                .collect();
            (at, firsts)
        });
        self.open = Some(OpenWindow {
            parts,
            split,
            kinds: shape
                .key
                .iter()
                .chain(&shape.metrics)
                .map(|c| c.kind)
                .collect(),
        });
        Ok(())
    }

    fn upsert(&mut self, values: &[Option<&str>], synced_at: &str) -> Result<Upserted> {
        let Some(open) = self.open.as_mut() else {
            bail!("no window is open");
        };
        let at = match &open.split {
            Some((day_at, firsts)) => values.get(*day_at).copied().flatten().map_or(0, |day| {
                firsts.iter().take_while(|f| day >= f.as_str()).count()
            }),
            None => 0,
        };
        let Some(part) = open.parts.get_mut(at) else {
            bail!("no part of the window holds this row");
        };
        for (value, &kind) in values.iter().zip(&open.kinds) {
            copy_field(&mut part.buffer, *value, kind)?;
            part.buffer.push(b'\t');
        }
        copy_field(&mut part.buffer, Some(synced_at), ColumnKind::Text)?;
        part.buffer.push(b'\n');
        part.rows += 1;
        if part.buffer.len() >= COPY_PIECE {
            self.hand_over(at)?;
        }
        // What happened to it is known when the window's upsert runs.
        Ok(Upserted::Unchanged)
    }

    fn finish_window(
        &mut self,
        shape: &TableShape,
        advertiser: &str,
        _days: Option<Window>,
        synced_at: &str,
    ) -> Result<Counts> {
        for at in 0..self.open.as_ref().map_or(0, |o| o.parts.len()) {
            self.hand_over(at)?;
        }
        let Some(open) = self.open.take() else {
            bail!("no window is open");
        };
        for part in &open.parts {
            // A part whose thread stopped says why when it is joined.
            let _ = part.sender.as_ref().map(|s| s.send(COMPLETE));
        }
        let ended = self.end_parts(open);
        self.commit_parts(shape, advertiser, ended, synced_at)
    }

    fn abandon_window(&mut self) -> Result<()> {
        if let Some(open) = self.open.take() {
            // Whatever the COPYs did, the transactions are rolled back.
            let ended = self.end_parts(open);
            self.roll_back(ended.into_iter().map(|e| e.client));
        }
        if self.client.is_none() {
            bail!("the PostgreSQL connection is closed");
        }
        Ok(())
    }
}

/// A part of a window whose thread has ended: its connection back, its transaction open, and
/// what its rows did.
struct Ended {
    days: Option<Window>,
    client: Client,
    written: Result<Counts>,
}

impl Postgres {
    /// Opens the helper connections, once a run; a server that refuses them (its connection
    /// limit reached, say) leaves the run on its one connection.
    fn open_helpers(&mut self) {
        if self.helpers_tried {
            return;
        }
        self.helpers_tried = true;
        for _ in 1..CONNECTIONS {
            match self.config.connect(self.tls.clone()) {
                Ok(client) => self.helpers.push(client),
                Err(e) => {
                    tracing::debug!("a second PostgreSQL connection was refused ({e}): one it is");
                    break;
                }
            }
        }
    }

    /// Hands the rows waiting in part `at` of the open window to its thread; when that thread
    /// has stopped, ends the window and says why.
    fn hand_over(&mut self, at: usize) -> Result<()> {
        let Some(part) = self.open.as_mut().and_then(|o| o.parts.get_mut(at)) else {
            return Ok(());
        };
        if part.buffer.is_empty() {
            return Ok(());
        }
        let piece = std::mem::replace(
            &mut part.buffer,
            Vec::with_capacity(COPY_PIECE + (16 << 10)),
        );
        let sent = part.sender.as_ref().map(|s| s.send(piece));
        if matches!(sent, Some(Ok(()))) {
            return Ok(());
        }
        let Some(open) = self.open.take() else {
            bail!("no window is open");
        };
        let mut ended = self.end_parts(open);
        let error = match ended.get_mut(at).map(|e| &mut e.written) {
            Some(written @ Err(_)) => std::mem::replace(written, Ok(Counts::default())).err(),
            _ => None,
        };
        self.roll_back(ended.into_iter().map(|e| e.client));
        Err(error.unwrap_or_else(|| anyhow::anyhow!("the COPY to PostgreSQL stopped")))
    }

    /// Ends every part's COPY and waits for its merge; the connections come back with their
    /// transactions open. A part whose thread panicked is gone, and says so.
    fn end_parts(&mut self, open: OpenWindow) -> Vec<Ended> {
        let mut ended = Vec::with_capacity(open.parts.len());
        let mut parts = open.parts;
        for part in &mut parts {
            part.sender = None;
        }
        for part in parts {
            match part.worker.map(JoinHandle::join) {
                Some(Ok((client, written))) => ended.push(Ended {
                    days: part.days,
                    client,
                    written: written.map(|(inserted, updated)| Counts {
                        inserted,
                        updated,
                        unchanged: part.rows.saturating_sub(inserted + updated),
                    }),
                }),
                _ => tracing::debug!("a PostgreSQL COPY thread panicked"),
            }
        }
        ended
    }

    /// Commits the parts in day order, each with its progress: a part is committed only when
    /// every part wrote its rows and the parts before it are committed, so the progress never
    /// passes a day that is not in. What the whole window's rows did.
    fn commit_parts(
        &mut self,
        shape: &TableShape,
        advertiser: &str,
        mut ended: Vec<Ended>,
        synced_at: &str,
    ) -> Result<Counts> {
        let mut totals = Counts::default();
        let mut failure = None;
        for part in &mut ended {
            match &mut part.written {
                Ok(counts) => totals.add(*counts),
                // The first error, whole (its type gives the exit code).
                written @ Err(_) if failure.is_none() => {
                    failure = std::mem::replace(written, Ok(Counts::default())).err();
                }
                Err(_) => {}
            }
        }
        let mut committed: Option<PartlyCommitted> = None;
        let mut pending = ended.into_iter();
        if failure.is_none() {
            for mut part in pending.by_ref() {
                match commit_part(&mut part.client, shape, advertiser, part.days, synced_at) {
                    Ok(()) => {
                        self.give_back(part.client);
                        if let (Some(days), Ok(counts)) = (part.days, part.written) {
                            let so_far = committed.get_or_insert(PartlyCommitted {
                                counts: Counts::default(),
                                days,
                            });
                            so_far.days.end = days.end;
                            so_far.counts.add(counts);
                        }
                    }
                    Err(e) => {
                        failure = Some(e);
                        self.roll_back(std::iter::once(part.client));
                        break;
                    }
                }
            }
        }
        self.roll_back(pending.map(|part| part.client));
        match (failure, committed) {
            (None, _) => Ok(totals),
            (Some(error), Some(committed)) => Err(error.context(committed)),
            (Some(error), None) => Err(error),
        }
    }

    /// Rolls the connections' transactions back and keeps them for the next window; a helper
    /// that cannot roll back is closed.
    fn roll_back(&mut self, clients: impl Iterator<Item = Client>) {
        for mut client in clients {
            let rolled_back = client.batch_execute("ROLLBACK").is_ok();
            if rolled_back || self.client.is_none() {
                self.give_back(client);
            }
        }
    }

    /// A connection back from a window: the first is the one that holds the lock.
    fn give_back(&mut self, client: Client) {
        if self.client.is_none() {
            self.client = Some(client);
        } else {
            self.helpers.push(client);
        }
    }
}

/// `days` in `parts` runs of consecutive days, as even as whole days allow.
fn split_days(days: Window, parts: usize) -> Vec<Option<Window>> {
    let total = (days.end - days.start).num_days() + 1;
    let parts = (parts.max(1) as i64).min(total);
    let mut start = days.start;
    (0..parts)
        .map(|i| {
            let length = total / parts + i64::from(i < total % parts);
            let end = start + chrono::Days::new(length as u64 - 1);
            let window = Window { start, end };
            start = end + chrono::Days::new(1);
            Some(window)
        })
        .collect()
}

/// Records the progress over `days` and commits a part's transaction.
fn commit_part(
    client: &mut Client,
    shape: &TableShape,
    advertiser: &str,
    days: Option<Window>,
    synced_at: &str,
) -> Result<()> {
    if let Some(days) = days {
        client.execute(
            &format!(
                "INSERT INTO {STATE_TABLE} (table_name, advertiser_id, first_day, last_day, \
                 synced_at) VALUES ($1, $2, $3::text::date, $4::text::date, \
                 $5::text::timestamptz) ON CONFLICT (table_name, advertiser_id) DO UPDATE SET \
                 first_day = least({STATE_TABLE}.first_day, EXCLUDED.first_day), \
                 last_day = greatest({STATE_TABLE}.last_day, EXCLUDED.last_day), \
                 synced_at = EXCLUDED.synced_at"
            ),
            &[
                &shape.name,
                &advertiser,
                &days.start.to_string(),
                &days.end.to_string(),
                &synced_at,
            ],
        )?;
    }
    client.batch_execute("COMMIT")?;
    Ok(())
}

/// The thread of one part: opens its transaction, chooses where the rows go, copies every
/// piece it is handed until the window ends, merges them, and hands the connection back.
fn write_part(
    mut client: Client,
    shape: &TableShape,
    advertiser: &str,
    days: Option<Window>,
    columns: &str,
    pieces: &Receiver<Vec<u8>>,
) -> Worked {
    let result = (|| -> Result<(u64, u64)> {
        client.batch_execute("BEGIN")?;
        let direct = match days {
            Some(days) => holds_nothing(&mut client, shape, advertiser, days)?,
            None => false,
        };
        let target = if direct {
            quote(&shape.name)
        } else {
            client.batch_execute(&format!(
                "CREATE TEMP TABLE tiktok_staging (LIKE {} INCLUDING DEFAULTS) ON COMMIT DROP",
                quote(&shape.name)
            ))?;
            "tiktok_staging".to_string()
        };
        let mut writer = client.copy_in(&format!("COPY {target} ({columns}) FROM STDIN"))?;
        let mut complete = false;
        for piece in pieces {
            if piece.is_empty() {
                complete = true;
                break;
            }
            writer.write_all(&piece)?;
        }
        if !complete {
            // Dropping the writer cancels the COPY; the transaction is rolled back.
            drop(writer);
            bail!("the window was abandoned");
        }
        let copied = writer.finish()?;
        if direct {
            Ok((copied, 0))
        } else {
            merge(&mut client, shape, columns)
        }
    })()
    .with_context(|| match days {
        Some(days) => format!("writing {days} of advertiser {advertiser} to PostgreSQL"),
        None => format!("writing advertiser {advertiser}'s rows to PostgreSQL"),
    });
    (client, result)
}

/// Whether the table holds no row of `advertiser` in `days`: then the window's rows can go
/// straight in. The state table answers first (days outside what was ever synced); the table
/// itself confirms.
fn holds_nothing(
    db: &mut Client,
    shape: &TableShape,
    advertiser: &str,
    days: Window,
) -> Result<bool> {
    let Some(time) = shape
        .key
        .iter()
        .find(|c| matches!(c.kind, ColumnKind::Day | ColumnKind::Hour))
    else {
        return Ok(false);
    };
    let synced = db.query_opt(
        &format!(
            "SELECT 1 FROM {STATE_TABLE} WHERE table_name = $1 AND advertiser_id = $2 \
             AND first_day <= $4::text::date AND last_day >= $3::text::date"
        ),
        &[
            &shape.name,
            &advertiser,
            &days.start.to_string(),
            &days.end.to_string(),
        ],
    )?;
    if synced.is_some() {
        return Ok(false);
    }
    let found = db.query_opt(
        &format!(
            "SELECT 1 FROM {} WHERE advertiser_id = $1 AND {time} >= $2::text::date \
             AND {time} < $3::text::date + 1 LIMIT 1",
            quote(&shape.name),
            time = quote(&time.name)
        ),
        &[&advertiser, &days.start.to_string(), &days.end.to_string()],
    )?;
    Ok(found.is_none())
}

/// Merges the staged rows into the table: new keys inserted, changed rows updated, equal rows
/// left alone; (inserted, updated).
fn merge(db: &mut Client, shape: &TableShape, columns: &str) -> Result<(u64, u64)> {
    let table = quote(&shape.name);
    let key: Vec<String> = shape.key.iter().map(|c| quote(&c.name)).collect();
    let metrics: Vec<String> = shape.metrics.iter().map(|c| quote(&c.name)).collect();
    let sets: Vec<String> = metrics
        .iter()
        .map(|m| format!("{m} = EXCLUDED.{m}"))
        .chain(std::iter::once(
            "synced_at = EXCLUDED.synced_at".to_string(),
        ))
        .collect();
    let differs = if metrics.is_empty() {
        "false".to_string()
    } else {
        let of = |prefix: &str| {
            metrics
                .iter()
                .map(|m| format!("{prefix}.{m}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!("({}) IS DISTINCT FROM ({})", of(&table), of("EXCLUDED"))
    };
    let row = db.query_one(
        &format!(
            "WITH written AS (INSERT INTO {table} ({columns}) SELECT {columns} FROM tiktok_staging \
             ON CONFLICT ({key}) DO UPDATE SET {sets} WHERE {differs} \
             RETURNING (xmax = 0) AS inserted) \
             SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM written",
            key = key.join(", "),
            sets = sets.join(", "),
        ),
        &[],
    )?;
    let count = |i: usize| row.get::<_, i64>(i).max(0) as u64;
    Ok((count(0), count(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_what_copy_reads_specially() {
        let mut out = Vec::new();
        copy_field(&mut out, Some("a\tb\\c\nd"), ColumnKind::Text).unwrap();
        out.push(b'|');
        copy_field(&mut out, None, ColumnKind::Text).unwrap();
        out.push(b'|');
        copy_field(&mut out, Some("1.27%"), ColumnKind::Number).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "a\\tb\\\\c\\nd|\\N|1.27");
    }

    #[test]
    fn a_window_splits_into_runs_of_whole_days_in_order() {
        let day = |d: &str| d.parse::<NaiveDate>().unwrap();
        let window = |a: &str, b: &str| {
            Some(Window {
                start: day(a),
                end: day(b),
            })
        };
        let ten = Window {
            start: day("2026-11-01"),
            end: day("2026-11-10"),
        };
        assert_eq!(
            split_days(ten, 2),
            vec![
                window("2026-11-01", "2026-11-05"),
                window("2026-11-06", "2026-11-10")
            ]
        );
        let nine = Window {
            end: day("2026-11-09"),
            ..ten
        };
        assert_eq!(
            split_days(nine, 2),
            vec![
                window("2026-11-01", "2026-11-05"),
                window("2026-11-06", "2026-11-09")
            ]
        );
        // Never more parts than days, never an empty one.
        let two = Window {
            end: day("2026-11-02"),
            ..ten
        };
        assert_eq!(
            split_days(two, 3),
            vec![
                window("2026-11-01", "2026-11-01"),
                window("2026-11-02", "2026-11-02")
            ]
        );
        assert_eq!(split_days(ten, 1), vec![Some(ten)]);
    }
}
