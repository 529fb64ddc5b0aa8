//! `report sync --with-entities`: the campaigns, ad groups and ads of an account (deleted ones
//! too, by default) upserted into their own tables, so report rows can be joined to names.

use anyhow::Result;
use futures_util::TryStreamExt;
use serde_json::{Map, Value, json};

use super::{Column, ColumnKind, Counts, TableShape, Warehouse};
use crate::api::Client;
use crate::api::entity::{PAGE_SIZE_MAX, Resource};

/// One entity table: its resource, name, ID field and the fields kept (besides the IDs and
/// the statuses and times every table keeps).
struct EntityTable {
    resource: &'static Resource,
    table: &'static str,
    parents: &'static [&'static str],
    fields: &'static [(&'static str, ColumnKind)],
}

/// Kept by every table, after its own fields.
const TIMES_AND_STATUS: [(&str, ColumnKind); 4] = [
    ("operation_status", ColumnKind::Text),
    ("secondary_status", ColumnKind::Text),
    ("create_time", ColumnKind::Text),
    ("modify_time", ColumnKind::Text),
];

static TABLES: [EntityTable; 3] = [
    EntityTable {
        resource: &crate::api::campaign::CAMPAIGN,
        table: "tiktok_campaigns",
        parents: &[],
        fields: &[
            ("campaign_name", ColumnKind::Text),
            ("objective_type", ColumnKind::Text),
            ("budget_mode", ColumnKind::Text),
            ("budget", ColumnKind::Number),
        ],
    },
    EntityTable {
        resource: &crate::api::adgroup::ADGROUP,
        table: "tiktok_adgroups",
        parents: &["campaign_id"],
        fields: &[
            ("adgroup_name", ColumnKind::Text),
            ("optimization_goal", ColumnKind::Text),
            ("budget_mode", ColumnKind::Text),
            ("budget", ColumnKind::Number),
            ("bid_price", ColumnKind::Number),
        ],
    },
    EntityTable {
        resource: &crate::api::ad::AD,
        table: "tiktok_ads",
        parents: &["campaign_id", "adgroup_id"],
        fields: &[
            ("ad_name", ColumnKind::Text),
            ("ad_format", ColumnKind::Text),
        ],
    },
];

impl EntityTable {
    /// Key: advertiser and the entity's ID; then its parents' IDs and fields.
    fn shape(&self) -> TableShape {
        let column = |name: &str, kind| Column {
            name: name.to_string(),
            kind,
        };
        TableShape {
            name: self.table.to_string(),
            key: vec![
                column("advertiser_id", ColumnKind::Key),
                column(self.resource.id_field, ColumnKind::Key),
            ],
            metrics: self
                .parents
                .iter()
                .map(|p| column(p, ColumnKind::Text))
                .chain(self.kept().map(|(name, kind)| column(name, *kind)))
                .collect(),
            advertiser_from_unit: true,
        }
    }

    /// Its own fields, then the statuses and times.
    fn kept(&self) -> impl Iterator<Item = &(&'static str, ColumnKind)> {
        self.fields.iter().chain(&TIMES_AND_STATUS)
    }

    fn field_names(&self) -> Vec<String> {
        std::iter::once(self.resource.id_field)
            .chain(self.parents.iter().copied())
            .chain(self.kept().map(|f| f.0))
            .map(str::to_string)
            .collect()
    }
}

/// A field as stored: strings as TikTok wrote them, numbers in their JSON form, lists and
/// objects as JSON text, null and absent as NULL.
fn stored(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Null => None,
        Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}

/// An account's entities, fetched: per table, the rows in the table's column order.
pub struct Fetched {
    rows: Vec<Vec<Vec<Option<String>>>>,
}

/// Lists every campaign, ad group and ad of `advertiser` (deleted ones too with
/// `include_deleted`).
pub async fn fetch(client: &Client, advertiser: &str, include_deleted: bool) -> Result<Fetched> {
    let mut filtering = Map::new();
    if include_deleted {
        filtering.insert("primary_status".into(), json!("STATUS_ALL"));
    }
    let mut rows = Vec::new();
    for table in &TABLES {
        let fields = table.field_names();
        let pages = client.list_entities(
            table.resource,
            advertiser,
            &filtering,
            Some(&fields),
            PAGE_SIZE_MAX,
        );
        futures_util::pin_mut!(pages);
        let mut table_rows = Vec::new();
        while let Some(page) = pages.try_next().await? {
            for record in page.list {
                let values: Vec<Option<String>> = std::iter::once(Some(advertiser.to_string()))
                    .chain(fields.iter().map(|f| stored(record.get(f))))
                    .collect();
                if values[1].is_none() {
                    anyhow::bail!(
                        "TikTok listed a {} without its {}",
                        table.resource.noun,
                        table.resource.id_field
                    );
                }
                table_rows.push(values);
            }
        }
        rows.push(table_rows);
    }
    Ok(Fetched { rows })
}

/// Creates or fits the entity tables (once a run, before any account's rows).
pub fn prepare(warehouse: &mut dyn Warehouse) -> Result<()> {
    TABLES
        .iter()
        .try_for_each(|table| warehouse.prepare(&table.shape()))
}

/// Upserts an account's fetched entities (into tables [`prepare`]d before), one transaction
/// per table; the counts per table.
pub fn store(
    warehouse: &mut dyn Warehouse,
    advertiser: &str,
    fetched: &Fetched,
    synced_at: &str,
) -> Result<Vec<(String, Counts)>> {
    let mut counts = Vec::new();
    for (table, rows) in TABLES.iter().zip(&fetched.rows) {
        let shape = table.shape();
        warehouse.begin_window(&shape, advertiser, None)?;
        let written = rows
            .iter()
            .try_for_each(|values| {
                let values: Vec<Option<&str>> = values.iter().map(Option::as_deref).collect();
                warehouse.upsert(&values, synced_at).map(|_| ())
            })
            .and_then(|()| warehouse.finish_window(&shape, advertiser, None, synced_at));
        match written {
            Ok(c) => counts.push((table.table.to_string(), c)),
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
    fn fields_are_stored_as_tiktok_wrote_them() {
        assert_eq!(stored(Some(&json!("1812"))), Some("1812".into()));
        assert_eq!(stored(Some(&json!(50.5))), Some("50.5".into()));
        assert_eq!(
            stored(Some(&json!(["A", "B"]))),
            Some("[\"A\",\"B\"]".into())
        );
        assert_eq!(stored(Some(&Value::Null)), None);
        assert_eq!(stored(None), None);
        let shape = TABLES[2].shape();
        assert_eq!(shape.key.len(), 2);
        assert_eq!(
            shape.key.len() + shape.metrics.len(),
            1 + TABLES[2].field_names().len(),
            "advertiser, then every field fetched"
        );
    }
}
