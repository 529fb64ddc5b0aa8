//! Sums over days read back from a `report sync` table (`rules run --from`): per entity, each
//! metric added up exactly (decimals, never floats) over a range of days of one account — only
//! when the database holds every day of that range for the account, so that a rule never
//! judges an entity on days the sync has not reached.

use std::collections::BTreeMap;

use anyhow::Result;
use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::{Destination, STATE_TABLE, WarehouseError, quote};

/// Per entity ID, each metric summed (`None`: no value on any day).
pub type Sums = BTreeMap<String, Vec<Option<Decimal>>>;

fn add(sums: &mut Sums, id: String, cells: Vec<Option<String>>) {
    let width = cells.len();
    let entry = sums.entry(id).or_insert_with(|| vec![None; width]);
    for (slot, cell) in entry.iter_mut().zip(cells) {
        if let Some(value) = cell.and_then(|c| c.trim().parse::<Decimal>().ok()) {
            *slot = Some(slot.unwrap_or_default() + value);
        }
    }
}

/// Sums `metrics` of `table` per `id_column` for `advertiser` from `start` to `end`.
pub fn daily_sums(
    destination: &Destination,
    table: &str,
    id_column: &str,
    metrics: &[String],
    advertiser: &str,
    (start, end): (NaiveDate, NaiveDate),
) -> Result<Sums> {
    let shown = destination.shown();
    let columns: Vec<String> = metrics.iter().map(|m| quote(m)).collect();
    let mut sums = Sums::new();
    let covered: Option<(String, String)> = match destination {
        Destination::Sqlite(path) => {
            if !path.exists() {
                return Err(WarehouseError::Shape(format!(
                    "{shown} does not exist: run report sync first"
                ))
                .into());
            }
            let db = rusqlite::Connection::open_with_flags(
                path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            )
            .map_err(|e| WarehouseError::Unusable(format!("cannot read {shown}: {e}")))?;
            let covered = db
                .query_row(
                    &format!("SELECT first_day, last_day FROM {STATE_TABLE} WHERE table_name = ?1 AND advertiser_id = ?2"),
                    [table, advertiser],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .ok();
            if covered.is_some() {
                // SQLite reads a quoted name it does not know as text: ask for the columns first.
                let mut info = db.prepare("SELECT name FROM pragma_table_info(?1)")?;
                let have: Vec<String> = info
                    .query_map([table], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                let missing: Vec<String> = metrics
                    .iter()
                    .map(String::as_str)
                    .chain(std::iter::once(id_column))
                    .filter(|m| !have.iter().any(|h| h == m))
                    .map(str::to_string)
                    .collect();
                if !missing.is_empty() {
                    return Err(missing_columns(
                        &shown,
                        table,
                        &format!("no column {}", missing.join(", ")),
                    ));
                }
                let sql = format!(
                    "SELECT {}, {} FROM {} WHERE advertiser_id = ?1 AND stat_time_day BETWEEN ?2 AND ?3",
                    quote(id_column),
                    columns.join(", "),
                    quote(table)
                );
                let mut statement = db
                    .prepare(&sql)
                    .map_err(|e| missing_columns(&shown, table, &e.to_string()))?;
                let rows = statement.query_map(
                    [advertiser, &start.to_string(), &end.to_string()],
                    |r| {
                        let id: String = r.get(0)?;
                        let cells = (1..=metrics.len())
                            .map(|i| r.get::<_, Option<String>>(i))
                            .collect::<rusqlite::Result<Vec<_>>>()?;
                        Ok((id, cells))
                    },
                )?;
                for row in rows {
                    let (id, cells) = row?;
                    add(&mut sums, id, cells);
                }
            }
            covered
        }
        Destination::Postgres(url) => {
            let mut pg = super::postgres::Postgres::open(url, false)?;
            let db = pg.connection()?;
            let covered = db
                .query_opt(
                    &format!("SELECT first_day::text, last_day::text FROM {STATE_TABLE} WHERE table_name = $1 AND advertiser_id = $2"),
                    &[&table, &advertiser],
                )
                .ok()
                .flatten()
                .map(|r| (r.get(0), r.get(1)));
            if covered.is_some() {
                let texts: Vec<String> = columns.iter().map(|c| format!("{c}::text")).collect();
                let sql = format!(
                    "SELECT {}, {} FROM {} WHERE advertiser_id = $1 AND stat_time_day BETWEEN $2::text::date AND $3::text::date",
                    quote(id_column),
                    texts.join(", "),
                    quote(table)
                );
                let rows = db
                    .query(&sql, &[&advertiser, &start.to_string(), &end.to_string()])
                    .map_err(|e| missing_columns(&shown, table, &e.to_string()))?;
                for row in rows {
                    let id: String = row.get(0);
                    let cells = (1..=metrics.len())
                        .map(|i| row.get::<_, Option<String>>(i))
                        .collect();
                    add(&mut sums, id, cells);
                }
            }
            covered
        }
    };
    let Some((first, last)) = covered else {
        return Err(WarehouseError::Shape(format!(
            "{shown} has no {table} rows of ad account {advertiser}: run `tiktok-ads report sync` for it first"
        ))
        .into());
    };
    let day = |d: &str| d.get(..10).and_then(|d| d.parse::<NaiveDate>().ok());
    let (Some(first), Some(last)) = (day(&first), day(&last)) else {
        return Err(anyhow::anyhow!(
            "{shown}: the sync state of {table} is unreadable"
        ));
    };
    if start < first || end > last {
        return Err(WarehouseError::Shape(format!(
            "{shown} holds {table} of ad account {advertiser} from {first} to {last}, not the \
             whole of {start} to {end}: sync it first (or drop --from)"
        ))
        .into());
    }
    Ok(sums)
}

fn missing_columns(shown: &str, table: &str, detail: &str) -> anyhow::Error {
    WarehouseError::Shape(format!(
        "{table} in {shown} cannot give these metrics ({detail}): sync them with `report sync --metrics ...`"
    ))
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_are_exact_and_skip_what_is_missing() {
        let mut sums = Sums::new();
        add(&mut sums, "1".into(), vec![Some("0.10".into()), None]);
        add(
            &mut sums,
            "1".into(),
            vec![Some("0.20".into()), Some("-".into())],
        );
        add(&mut sums, "2".into(), vec![None, Some("3".into())]);
        assert_eq!(sums["1"], vec![Some("0.30".parse().unwrap()), None]);
        assert_eq!(sums["2"], vec![None, Some(Decimal::from(3))]);
    }

    #[test]
    fn a_range_the_database_does_not_hold_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let db = rusqlite::Connection::open(&path).unwrap();
        db.execute_batch(&format!(
            "CREATE TABLE {STATE_TABLE} (table_name TEXT, advertiser_id TEXT, first_day TEXT, last_day TEXT, synced_at TEXT);
             INSERT INTO {STATE_TABLE} VALUES ('tiktok_ad_daily', '7', '2026-11-01', '2026-11-30', 'x');
             CREATE TABLE tiktok_ad_daily (advertiser_id TEXT, ad_id TEXT, stat_time_day TEXT, spend TEXT);
             INSERT INTO tiktok_ad_daily VALUES ('7', '1', '2026-11-29', '1.10'), ('7', '1', '2026-11-30', '2.20'), ('7', '1', '2026-11-01', '9');"
        ))
        .unwrap();
        drop(db);
        let dest = Destination::Sqlite(path);
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let sums = daily_sums(
            &dest,
            "tiktok_ad_daily",
            "ad_id",
            &["spend".into()],
            "7",
            (d("2026-11-29"), d("2026-11-30")),
        )
        .unwrap();
        assert_eq!(sums["1"], vec![Some("3.30".parse().unwrap())]);
        let beyond = daily_sums(
            &dest,
            "tiktok_ad_daily",
            "ad_id",
            &["spend".into()],
            "7",
            (d("2026-11-29"), d("2026-12-01")),
        );
        assert!(format!("{:#}", beyond.unwrap_err()).contains("from 2026-11-01 to 2026-11-30"));
        let other = daily_sums(
            &dest,
            "tiktok_ad_daily",
            "ad_id",
            &["spend".into()],
            "8",
            (d("2026-11-29"), d("2026-11-30")),
        );
        assert!(format!("{:#}", other.unwrap_err()).contains("run `tiktok-ads report sync`"));
        let column = daily_sums(
            &dest,
            "tiktok_ad_daily",
            "ad_id",
            &["clicks".into()],
            "7",
            (d("2026-11-29"), d("2026-11-30")),
        );
        assert!(format!("{:#}", column.unwrap_err()).contains("cannot give these metrics"));
    }
}
