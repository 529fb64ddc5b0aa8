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

use crate::api::report::Window;

use super::{
    ColumnKind, Counts, Dialect, Progress, STATE_TABLE, TableShape, Upserted, Warehouse,
    WarehouseError, fit_table, quote, redact_url,
};

/// The advisory lock key of `report sync` (any fixed number; this one spells "tiktok").
const LOCK_KEY: i64 = 0x7469_6b74_6f6b;

pub struct Postgres {
    /// Always there until dropped.
    client: Option<Client>,
    /// The open window, if any.
    open: Option<OpenWindow>,
}

/// A window's transaction. Its rows, in COPY text format, stream to a thread that holds the
/// connection and one COPY open for the whole window, so PostgreSQL works while rows still
/// arrive: straight into the table when it holds none of the window's days yet, else into a
/// temporary table that one upsert merges at the end.
struct OpenWindow {
    sender: Option<SyncSender<Vec<u8>>>,
    copier: Option<JoinHandle<Copied>>,
    /// The quoted column list of COPY and of the upsert.
    columns: String,
    buffer: Vec<u8>,
    rows: u64,
    kinds: Vec<ColumnKind>,
}

/// What the COPY thread hands back: the connection, and whether the rows went straight in.
type Copied = (Client, Result<bool>);

/// COPY data handed to the COPY thread at once, and how many such pieces may wait.
const COPY_PIECE: usize = 256 << 10;
const PIECES_WAITING: usize = 8;

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
    pub fn open(url: &str, lock: bool) -> Result<Self> {
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
        let tls = rustls::ClientConfig::with_platform_verifier_ext()
            .map(tokio_postgres_rustls::MakeRustlsConnect::new)
            .map_err(|e| anyhow::anyhow!("setting up TLS for PostgreSQL: {e}"))?;
        let mut client = config.connect(tls).map_err(|e| {
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
        // thread that drives this process's runtime: close it on a thread of its own then.
        if tokio::runtime::Handle::try_current().is_ok()
            && let Some(client) = self.client.take()
        {
            let _ = std::thread::spawn(move || drop(client)).join();
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

    fn all_progress(&mut self) -> Result<Vec<Progress>> {
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
                Ok(Progress {
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
        let Some(client) = self.client.take() else {
            bail!("the PostgreSQL connection is closed");
        };
        let (sender, receiver) = sync_channel::<Vec<u8>>(PIECES_WAITING);
        let copier = {
            let (shape, advertiser, columns) =
                (shape.clone(), advertiser.to_string(), columns.clone());
            std::thread::Builder::new()
                .name("postgres-copy".into())
                .spawn(move || {
                    copy_window(client, &shape, &advertiser, days, &columns, &receiver)
                })?
        };
        self.open = Some(OpenWindow {
            sender: Some(sender),
            copier: Some(copier),
            columns,
            buffer: Vec::with_capacity(COPY_PIECE + (16 << 10)),
            rows: 0,
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
        for (value, &kind) in values.iter().zip(&open.kinds) {
            copy_field(&mut open.buffer, *value, kind)?;
            open.buffer.push(b'\t');
        }
        copy_field(&mut open.buffer, Some(synced_at), ColumnKind::Text)?;
        open.buffer.push(b'\n');
        open.rows += 1;
        if open.buffer.len() >= COPY_PIECE {
            self.hand_over()?;
        }
        // What happened to it is known when the window's upsert runs.
        Ok(Upserted::Unchanged)
    }

    fn finish_window(
        &mut self,
        shape: &TableShape,
        advertiser: &str,
        days: Option<Window>,
        synced_at: &str,
    ) -> Result<Counts> {
        let counts = self.commit_window(shape, advertiser, days, synced_at);
        if counts.is_err() && self.client.is_some() {
            // The connection goes on (the next account's windows): not inside a failed
            // transaction.
            let _ = self.db().map(|db| db.batch_execute("ROLLBACK"));
        }
        counts
    }

    fn abandon_window(&mut self) -> Result<()> {
        if let Some(mut open) = self.open.take() {
            // Whatever the COPY did, the transaction is rolled back.
            let _ = self.end_copy(&mut open);
            self.db()?.batch_execute("ROLLBACK")?;
        }
        Ok(())
    }
}

impl Postgres {
    /// The rest of the window's rows, its merge, its progress, and COMMIT.
    fn commit_window(
        &mut self,
        shape: &TableShape,
        advertiser: &str,
        days: Option<Window>,
        synced_at: &str,
    ) -> Result<Counts> {
        self.hand_over()?;
        let Some(mut open) = self.open.take() else {
            bail!("no window is open");
        };
        let direct = self.end_copy(&mut open)?;
        let (inserted, updated) = if direct {
            (open.rows, 0)
        } else {
            merge(self.db()?, shape, &open.columns)?
        };
        if let Some(days) = days {
            self.db()?.execute(
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
        self.db()?.batch_execute("COMMIT")?;
        Ok(Counts {
            inserted,
            updated,
            unchanged: open.rows.saturating_sub(inserted + updated),
        })
    }

    /// Hands the rows waiting in the open window to the COPY thread.
    fn hand_over(&mut self) -> Result<()> {
        let Some(open) = self.open.as_mut() else {
            return Ok(());
        };
        if open.buffer.is_empty() {
            return Ok(());
        }
        let piece = std::mem::replace(
            &mut open.buffer,
            Vec::with_capacity(COPY_PIECE + (16 << 10)),
        );
        let sent = open.sender.as_ref().map(|s| s.send(piece));
        if matches!(sent, Some(Ok(()))) {
            return Ok(());
        }
        // The COPY thread stopped: its error says why.
        let Some(mut open) = self.open.take() else {
            bail!("no window is open");
        };
        let error = self
            .end_copy(&mut open)
            .err()
            .unwrap_or_else(|| anyhow::anyhow!("the COPY to PostgreSQL stopped"));
        Err(error)
    }

    /// Ends the window's COPY and takes the connection back; whether the rows went straight
    /// into the table.
    fn end_copy(&mut self, open: &mut OpenWindow) -> Result<bool> {
        open.sender = None;
        let Some(copier) = open.copier.take() else {
            bail!("the COPY has already ended");
        };
        let (client, direct) = copier
            .join()
            .map_err(|_| anyhow::anyhow!("the COPY thread panicked"))?;
        self.client = Some(client);
        direct
    }
}

/// The COPY thread of one window: opens the transaction, chooses where the rows go, copies
/// every piece it is handed until the window ends, and hands the connection back.
fn copy_window(
    mut client: Client,
    shape: &TableShape,
    advertiser: &str,
    days: Option<Window>,
    columns: &str,
    pieces: &Receiver<Vec<u8>>,
) -> Copied {
    let result = (|| -> Result<bool> {
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
        for piece in pieces {
            writer.write_all(&piece)?;
        }
        writer.finish()?;
        Ok(direct)
    })();
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
}
