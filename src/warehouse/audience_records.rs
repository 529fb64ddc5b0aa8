//! Where `audience sync --into` keeps the hashes it last sent, next to `report sync`'s tables:
//! `audience_sync_hashes` (advertiser, audience, hash — hashes only, never a raw value) and
//! `audience_sync_state` (when each audience was last in step). Read out as sorted lines for
//! the comparison, replaced whole in one transaction once a sync succeeded. Calls block: call
//! them off the async runtime.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use anyhow::{Context as _, Result};

use super::{Destination, WarehouseError};

const HASHES: &str = "audience_sync_hashes";
const STATE: &str = "audience_sync_state";

fn schema() -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {HASHES} (advertiser_id TEXT NOT NULL, audience_id TEXT NOT NULL, \
         hash TEXT NOT NULL, PRIMARY KEY (advertiser_id, audience_id, hash));
         CREATE TABLE IF NOT EXISTS {STATE} (advertiser_id TEXT NOT NULL, audience_id TEXT NOT NULL, \
         synced_at TEXT NOT NULL, PRIMARY KEY (advertiser_id, audience_id));"
    )
}

fn sqlite(path: &Path) -> Result<rusqlite::Connection> {
    let db = rusqlite::Connection::open(path).map_err(|e| {
        WarehouseError::Unusable(format!(
            "cannot open the SQLite database {}: {e}",
            path.display()
        ))
    })?;
    db.busy_timeout(std::time::Duration::from_secs(30))?;
    db.execute_batch(&schema())?;
    Ok(db)
}

/// Writes the audience's record, sorted, one hash a line, into `into`; `false` when there is
/// none (no sync of it succeeded into this database).
pub fn read(
    destination: &Destination,
    advertiser: &str,
    audience: &str,
    into: &Path,
) -> Result<bool> {
    let mut out = BufWriter::new(std::fs::File::create(into).context("writing the record out")?);
    let known = match destination {
        Destination::Sqlite(path) => {
            let db = sqlite(path)?;
            let known: bool = db.query_row(
                &format!(
                    "SELECT count(*) > 0 FROM {STATE} WHERE advertiser_id = ?1 AND audience_id = ?2"
                ),
                [advertiser, audience],
                |r| r.get(0),
            )?;
            let mut statement = db.prepare(&format!(
                "SELECT hash FROM {HASHES} WHERE advertiser_id = ?1 AND audience_id = ?2 ORDER BY hash"
            ))?;
            let mut rows = statement.query([advertiser, audience])?;
            while let Some(row) = rows.next()? {
                writeln!(out, "{}", row.get::<_, String>(0)?)?;
            }
            known
        }
        Destination::Postgres(url) => {
            let mut pg = super::postgres::Postgres::open(url, false)?;
            let db = pg.connection()?;
            db.batch_execute(&schema())?;
            let known = db
                .query_opt(
                    &format!("SELECT 1 FROM {STATE} WHERE advertiser_id = $1 AND audience_id = $2"),
                    &[&advertiser, &audience],
                )?
                .is_some();
            for row in db.query(
                &format!("SELECT hash FROM {HASHES} WHERE advertiser_id = $1 AND audience_id = $2 ORDER BY hash COLLATE \"C\""),
                &[&advertiser, &audience],
            )? {
                writeln!(out, "{}", row.get::<_, String>(0))?;
            }
            known
        }
    };
    out.flush()?;
    Ok(known)
}

/// Replaces the audience's record with the hashes of `from` (one a line), in one transaction.
pub fn write(
    destination: &Destination,
    advertiser: &str,
    audience: &str,
    from: &Path,
) -> Result<()> {
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    match destination {
        Destination::Sqlite(path) => {
            let mut db = sqlite(path)?;
            let tx = db.transaction()?;
            tx.execute(
                &format!("DELETE FROM {HASHES} WHERE advertiser_id = ?1 AND audience_id = ?2"),
                [advertiser, audience],
            )?;
            {
                let mut insert = tx.prepare(&format!(
                    "INSERT INTO {HASHES} (advertiser_id, audience_id, hash) VALUES (?1, ?2, ?3)"
                ))?;
                for line in BufReader::new(std::fs::File::open(from)?).lines() {
                    insert.execute([advertiser, audience, &line?])?;
                }
            }
            tx.execute(
                &format!("INSERT INTO {STATE} VALUES (?1, ?2, ?3) ON CONFLICT (advertiser_id, audience_id) DO UPDATE SET synced_at = excluded.synced_at"),
                [advertiser, audience, &now],
            )?;
            tx.commit()?;
        }
        Destination::Postgres(url) => {
            let mut pg = super::postgres::Postgres::open(url, false)?;
            let db = pg.connection()?;
            db.batch_execute(&schema())?;
            let mut tx = db.transaction()?;
            tx.execute(
                &format!("DELETE FROM {HASHES} WHERE advertiser_id = $1 AND audience_id = $2"),
                &[&advertiser, &audience],
            )?;
            // 10,000 hashes a statement: memory stays flat however long the list.
            let insert = format!(
                "INSERT INTO {HASHES} (advertiser_id, audience_id, hash) SELECT $1, $2, unnest($3::text[])"
            );
            let mut chunk: Vec<String> = Vec::with_capacity(10_000);
            for line in BufReader::new(std::fs::File::open(from)?).lines() {
                chunk.push(line?);
                if chunk.len() == 10_000 {
                    tx.execute(&insert, &[&advertiser, &audience, &chunk])?;
                    chunk.clear();
                }
            }
            if !chunk.is_empty() {
                tx.execute(&insert, &[&advertiser, &audience, &chunk])?;
            }
            tx.execute(
                &format!("INSERT INTO {STATE} VALUES ($1, $2, $3) ON CONFLICT (advertiser_id, audience_id) DO UPDATE SET synced_at = excluded.synced_at"),
                &[&advertiser, &audience, &now],
            )?;
            tx.commit()?;
        }
    }
    Ok(())
}
