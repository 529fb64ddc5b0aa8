//! Where `watch --into` keeps each account's last snapshot and the history of what changed,
//! next to `report sync`'s tables: `entity_snapshot` (one row per entity and account, its
//! fields as JSON), `entity_snapshot_state` (per account: the levels watched and when) and
//! `entity_events` (every event ever reported, to query later). A snapshot and its events are
//! written in one transaction, so the history never holds events of a snapshot that was not
//! kept, nor a snapshot without its events. Nothing here knows what an event means: rows come
//! in as JSON objects. Calls block (the PostgreSQL driver runs its own runtime): call them off
//! the async runtime.

use anyhow::{Context as _, Result};
use serde_json::{Map, Value};

use super::Destination;
use super::WarehouseError;

pub const SNAPSHOT_TABLE: &str = "entity_snapshot";
pub const SNAPSHOT_STATE_TABLE: &str = "entity_snapshot_state";
pub const EVENTS_TABLE: &str = "entity_events";

/// One entity of a stored snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEntity {
    pub level: String,
    pub id: String,
    pub fields: Map<String, Value>,
}

/// An account's snapshot as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSnapshot {
    pub levels: Vec<String>,
    /// RFC 3339, UTC.
    pub taken_at: String,
    pub entities: Vec<StoredEntity>,
}

/// The event columns, in the order of the events' JSON (`from`/`to` renamed: SQL keywords).
const EVENT_COLUMNS: [(&str, &str); 11] = [
    ("time", "time"),
    ("advertiser_id", "advertiser_id"),
    ("level", "level"),
    ("id", "id"),
    ("name", "name"),
    ("event", "event"),
    ("field", "field"),
    ("from", "from_value"),
    ("to", "to_value"),
    ("bucket", "bucket"),
    ("reasons", "reasons"),
];

fn schema(time_type: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {SNAPSHOT_TABLE} (advertiser_id TEXT NOT NULL, \
         level TEXT NOT NULL, id TEXT NOT NULL, name TEXT, operation_status TEXT, \
         secondary_status TEXT, fields TEXT NOT NULL, taken_at {time_type} NOT NULL, \
         PRIMARY KEY (advertiser_id, level, id));
         CREATE TABLE IF NOT EXISTS {SNAPSHOT_STATE_TABLE} (advertiser_id TEXT PRIMARY KEY, \
         levels TEXT NOT NULL, taken_at {time_type} NOT NULL);
         CREATE TABLE IF NOT EXISTS {EVENTS_TABLE} (time {time_type} NOT NULL, \
         advertiser_id TEXT NOT NULL, level TEXT NOT NULL, id TEXT NOT NULL, name TEXT, \
         event TEXT NOT NULL, field TEXT, from_value TEXT, to_value TEXT, bucket TEXT, \
         reasons TEXT);"
    )
}

/// A cell of an event: strings as they are, other values as JSON, null as NULL.
fn cell(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn entity_row(advertiser: &str, e: &StoredEntity) -> [Option<String>; 7] {
    let text = |key: &str| {
        e.fields
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let name = text(&format!("{}_name", e.level));
    [
        Some(advertiser.to_string()),
        Some(e.level.clone()),
        Some(e.id.clone()),
        name,
        text("operation_status"),
        text("secondary_status"),
        Some(Value::Object(e.fields.clone()).to_string()),
    ]
}

fn unusable(destination: &Destination, e: impl std::fmt::Display) -> anyhow::Error {
    WarehouseError::Unusable(format!("{}: {e}", destination.shown())).into()
}

/// Levels, time, and (level, ID, fields as JSON) per entity, as read.
type Loaded = (String, String, Vec<(String, String, String)>);

/// The account's last snapshot, or `None` before its first.
pub fn load(destination: &Destination, advertiser: &str) -> Result<Option<StoredSnapshot>> {
    let rows: Option<Loaded> = match destination {
        Destination::Sqlite(path) => {
            let db = sqlite(path).map_err(|e| unusable(destination, e))?;
            let state = db
                .query_row(
                    &format!(
                        "SELECT levels, taken_at FROM {SNAPSHOT_STATE_TABLE} WHERE advertiser_id = ?1"
                    ),
                    [advertiser],
                    |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
                )
                .map(Some)
                .or_else(|e| match e {
                    rusqlite::Error::QueryReturnedNoRows => Ok(None),
                    e => Err(e),
                })?;
            match state {
                None => None,
                Some((levels, taken_at)) => {
                    let mut statement = db.prepare(&format!(
                        "SELECT level, id, fields FROM {SNAPSHOT_TABLE} WHERE advertiser_id = ?1"
                    ))?;
                    let entities = statement
                        .query_map([advertiser], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                        .collect::<rusqlite::Result<Vec<_>>>()?;
                    Some((levels, taken_at, entities))
                }
            }
        }
        Destination::Postgres(url) => {
            let mut pg = super::postgres::Postgres::open(url, false)?;
            let db = pg.connection()?;
            db.batch_execute(&schema("TIMESTAMPTZ"))?;
            let state = db.query_opt(
                &format!(
                    "SELECT levels, to_char(taken_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') \
                     FROM {SNAPSHOT_STATE_TABLE} WHERE advertiser_id = $1"
                ),
                &[&advertiser],
            )?;
            match state {
                None => None,
                Some(row) => {
                    let entities = db
                        .query(
                            &format!(
                                "SELECT level, id, fields FROM {SNAPSHOT_TABLE} WHERE advertiser_id = $1"
                            ),
                            &[&advertiser],
                        )?
                        .iter()
                        .map(|r| (r.get(0), r.get(1), r.get(2)))
                        .collect();
                    Some((row.get(0), row.get(1), entities))
                }
            }
        }
    };
    let Some((levels, taken_at, entities)) = rows else {
        return Ok(None);
    };
    let entities = entities
        .into_iter()
        .map(|(level, id, fields)| {
            let fields = match serde_json::from_str(&fields) {
                Ok(Value::Object(map)) => map,
                _ => Map::new(),
            };
            StoredEntity { level, id, fields }
        })
        .collect();
    Ok(Some(StoredSnapshot {
        levels: levels
            .split(',')
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect(),
        taken_at,
        entities,
    }))
}

/// Replaces the account's snapshot and appends its events, in one transaction.
pub fn save(
    destination: &Destination,
    advertiser: &str,
    snapshot: &StoredSnapshot,
    events: &[Map<String, Value>],
) -> Result<()> {
    let entity_rows: Vec<[Option<String>; 7]> = snapshot
        .entities
        .iter()
        .map(|e| entity_row(advertiser, e))
        .collect();
    let event_rows: Vec<Vec<Option<String>>> = events
        .iter()
        .map(|e| {
            EVENT_COLUMNS
                .iter()
                .map(|(key, _)| cell(e.get(*key)))
                .collect()
        })
        .collect();
    let levels = snapshot.levels.join(",");
    let event_columns: Vec<&str> = EVENT_COLUMNS.iter().map(|(_, c)| *c).collect();
    match destination {
        Destination::Sqlite(path) => {
            let mut db = sqlite(path).map_err(|e| unusable(destination, e))?;
            let tx = db.transaction()?;
            tx.execute(
                &format!("DELETE FROM {SNAPSHOT_TABLE} WHERE advertiser_id = ?1"),
                [advertiser],
            )?;
            {
                let mut insert = tx.prepare(&format!(
                    "INSERT INTO {SNAPSHOT_TABLE} (advertiser_id, level, id, name, \
                     operation_status, secondary_status, fields, taken_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                ))?;
                for row in &entity_rows {
                    let mut values: Vec<Option<&str>> = row.iter().map(Option::as_deref).collect();
                    values.push(Some(&snapshot.taken_at));
                    insert.execute(rusqlite::params_from_iter(values))?;
                }
                let placeholders: Vec<String> =
                    (1..=event_columns.len()).map(|i| format!("?{i}")).collect();
                let mut insert = tx.prepare(&format!(
                    "INSERT INTO {EVENTS_TABLE} ({}) VALUES ({})",
                    event_columns.join(", "),
                    placeholders.join(", ")
                ))?;
                for row in &event_rows {
                    insert.execute(rusqlite::params_from_iter(row.iter().map(Option::as_deref)))?;
                }
            }
            tx.execute(
                &format!(
                    "INSERT INTO {SNAPSHOT_STATE_TABLE} (advertiser_id, levels, taken_at) \
                     VALUES (?1, ?2, ?3) ON CONFLICT (advertiser_id) DO UPDATE SET \
                     levels = excluded.levels, taken_at = excluded.taken_at"
                ),
                [advertiser, &levels, &snapshot.taken_at],
            )?;
            tx.commit()?;
        }
        Destination::Postgres(url) => {
            let mut pg = super::postgres::Postgres::open(url, false)?;
            let db = pg.connection()?;
            db.batch_execute(&schema("TIMESTAMPTZ"))?;
            let mut tx = db.transaction()?;
            tx.execute(
                &format!("DELETE FROM {SNAPSHOT_TABLE} WHERE advertiser_id = $1"),
                &[&advertiser],
            )?;
            // Every row in one statement: one round trip, however many entities.
            let column = |i: usize| -> Vec<Option<&str>> {
                entity_rows.iter().map(|r| r[i].as_deref()).collect()
            };
            let (c0, c1, c2, c3, c4, c5, c6) = (
                column(0),
                column(1),
                column(2),
                column(3),
                column(4),
                column(5),
                column(6),
            );
            tx.execute(
                &format!(
                    "INSERT INTO {SNAPSHOT_TABLE} (advertiser_id, level, id, name, \
                     operation_status, secondary_status, fields, taken_at) \
                     SELECT a, b, c, d, e, f, g, $8::text::timestamptz FROM unnest($1::text[], $2::text[], \
                     $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS t(a, b, c, d, e, f, g)"
                ),
                &[&c0, &c1, &c2, &c3, &c4, &c5, &c6, &snapshot.taken_at],
            )?;
            let placeholders: Vec<String> = (1..=event_columns.len())
                .map(|i| {
                    if i == 1 {
                        "$1::text::timestamptz".into()
                    } else {
                        format!("${i}")
                    }
                })
                .collect();
            let insert = format!(
                "INSERT INTO {EVENTS_TABLE} ({}) VALUES ({})",
                event_columns.join(", "),
                placeholders.join(", ")
            );
            for row in &event_rows {
                let params: Vec<&(dyn postgres::types::ToSql + Sync)> = row
                    .iter()
                    .map(|v| v as &(dyn postgres::types::ToSql + Sync))
                    .collect();
                tx.execute(&insert, &params)?;
            }
            tx.execute(
                &format!(
                    "INSERT INTO {SNAPSHOT_STATE_TABLE} (advertiser_id, levels, taken_at) \
                     VALUES ($1, $2, $3::text::timestamptz) ON CONFLICT (advertiser_id) DO UPDATE SET \
                     levels = excluded.levels, taken_at = excluded.taken_at"
                ),
                &[&advertiser, &levels, &snapshot.taken_at],
            )?;
            tx.commit()?;
        }
    }
    Ok(())
}

/// A connection to the SQLite file, its watch tables created; no sync lock (a `report sync`
/// into the same file goes on beside a watch).
fn sqlite(path: &std::path::Path) -> Result<rusqlite::Connection> {
    let db = rusqlite::Connection::open(path)
        .with_context(|| format!("opening the SQLite database {}", path.display()))?;
    db.busy_timeout(std::time::Duration::from_secs(30))?;
    db.pragma_update(None, "journal_mode", "WAL")?;
    db.execute_batch(&schema("TEXT"))?;
    Ok(db)
}
