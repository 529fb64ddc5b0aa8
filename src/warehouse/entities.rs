//! `report sync --with-entities`: the entity snapshot the report layer fetched (campaigns, ad
//! groups, ads) upserted into a table per level, so report rows can be joined to names.

use anyhow::Result;

use super::{Column, ColumnKind, Counts, TableShape, Warehouse};
use crate::report::entities::{LEVELS, Snapshot, SnapshotLevel};

/// Fields stored as numbers (NUMERIC in PostgreSQL); every other field is text.
const NUMBER_FIELDS: [&str; 2] = ["budget", "bid_price"];

/// The table of one snapshot level: `tiktok_campaigns`, `tiktok_adgroups`, `tiktok_ads`.
fn table_name(level: &SnapshotLevel) -> String {
    format!("tiktok_{}s", level.id_field().trim_end_matches("_id"))
}

/// Key: advertiser and the entity's ID; then its parents' IDs and the fields kept.
fn shape(level: &SnapshotLevel) -> TableShape {
    let column = |name: &str, kind| Column {
        name: name.to_string(),
        kind,
    };
    TableShape {
        name: table_name(level),
        key: vec![
            column("advertiser_id", ColumnKind::Key),
            column(level.id_field(), ColumnKind::Key),
        ],
        metrics: level
            .parents
            .iter()
            .map(|p| column(p, ColumnKind::Text))
            .chain(level.kept().map(|name| {
                let kind = if NUMBER_FIELDS.contains(&name) {
                    ColumnKind::Number
                } else {
                    ColumnKind::Text
                };
                column(name, kind)
            }))
            .collect(),
        advertiser_from_unit: true,
    }
}

/// Creates or fits the entity tables (once a run, before any account's rows).
pub(crate) fn prepare(warehouse: &mut dyn Warehouse) -> Result<()> {
    LEVELS
        .iter()
        .try_for_each(|level| warehouse.prepare(&shape(level)))
}

/// Upserts an account's snapshot (into tables [`prepare`]d before), one transaction per
/// table; the counts per table.
pub(crate) fn store(
    warehouse: &mut dyn Warehouse,
    advertiser: &str,
    snapshot: &Snapshot,
    synced_at: &str,
) -> Result<Vec<(String, Counts)>> {
    let mut counts = Vec::new();
    for (level, rows) in LEVELS.iter().zip(&snapshot.rows) {
        let shape = shape(level);
        warehouse.begin_window(&shape, advertiser, None)?;
        let written = rows
            .iter()
            .try_for_each(|values| {
                let values: Vec<Option<&str>> = values.iter().map(Option::as_deref).collect();
                warehouse.upsert(&values, synced_at).map(|_| ())
            })
            .and_then(|()| warehouse.finish_window(&shape, advertiser, None, synced_at));
        match written {
            Ok(c) => counts.push((shape.name, c)),
            Err(e) => {
                // Nothing of this table is kept, and the connection goes on for the others.
                warehouse.abandon_window()?;
                return Err(e);
            }
        }
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_level_has_its_table_keyed_by_advertiser_and_id() {
        let names: Vec<String> = LEVELS.iter().map(table_name).collect();
        assert_eq!(names, ["tiktok_campaigns", "tiktok_adgroups", "tiktok_ads"]);
        let ads = shape(&LEVELS[2]);
        assert_eq!(ads.key.len(), 2);
        assert_eq!(
            ads.key.len() + ads.metrics.len(),
            1 + LEVELS[2].field_names().len(),
            "advertiser, then every field fetched"
        );
        let adgroups = shape(&LEVELS[1]);
        let kind = |name: &str| {
            adgroups
                .metrics
                .iter()
                .find(|c| c.name == name)
                .unwrap()
                .kind
        };
        assert_eq!(kind("budget"), ColumnKind::Number);
        assert_eq!(kind("bid_price"), ColumnKind::Number);
        assert_eq!(kind("adgroup_name"), ColumnKind::Text);
    }
}
