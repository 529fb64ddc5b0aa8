//! The table a report goes to: key columns (advertiser, ID, time, breakdowns), one column per
//! metric, then `synced_at`; and how a report row's cells become its values.

use super::WarehouseError;
use crate::catalog::{self, MetricKind};
use crate::report::Plan;

/// How a column is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// An ID or a breakdown value: text, part of the key.
    Key,
    /// `stat_time_day`: a date, part of the key.
    Day,
    /// `stat_time_hour`: a timestamp, part of the key.
    Hour,
    /// A number exactly as TikTok wrote it (NUMERIC in PostgreSQL, TEXT in SQLite).
    Number,
    /// Text (attribute metrics such as `campaign_name`).
    Text,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub kind: ColumnKind,
}

/// The table one report shape goes to: key columns (advertiser, ID, time, breakdowns), then
/// one column per metric, then `synced_at`.
#[derive(Debug, Clone)]
pub struct TableShape {
    pub name: String,
    pub key: Vec<Column>,
    pub metrics: Vec<Column>,
    /// Where each data column of the report (the plan's order) goes: its index in
    /// `key` then `metrics` order; `advertiser_id` comes from the unit when it is not a data
    /// column.
    pub advertiser_from_unit: bool,
}

impl TableShape {
    /// The shape of a report whose data columns are `data_columns` (dimensions, then
    /// `metric_count` metrics).
    pub fn new(name: String, data_columns: &[String], metric_count: usize) -> Self {
        let dimension_count = data_columns.len() - metric_count;
        let mut key = Vec::new();
        let advertiser_from_unit = !data_columns[..dimension_count]
            .iter()
            .any(|d| d == "advertiser_id");
        if advertiser_from_unit {
            key.push(Column {
                name: "advertiser_id".into(),
                kind: ColumnKind::Key,
            });
        }
        for d in &data_columns[..dimension_count] {
            key.push(Column {
                name: d.clone(),
                kind: match d.as_str() {
                    "stat_time_day" => ColumnKind::Day,
                    "stat_time_hour" => ColumnKind::Hour,
                    _ => ColumnKind::Key,
                },
            });
        }
        let metrics = data_columns[dimension_count..]
            .iter()
            .map(|m| Column {
                name: m.clone(),
                kind: match catalog::metric(m) {
                    Some(MetricKind::Attribute(_)) | None => ColumnKind::Text,
                    Some(_) => ColumnKind::Number,
                },
            })
            .collect();
        Self {
            name,
            key,
            metrics,
            advertiser_from_unit,
        }
    }

    /// The values of one row, handed to `value` in `key` then `metrics` order: days as
    /// `YYYY-MM-DD`, TikTok's `"-"` (and no value) as NULL for metrics, the exact text
    /// otherwise. Nothing is copied.
    pub fn row_values<'a>(
        &self,
        advertiser: &'a str,
        cells: &[Option<&'a str>],
        mut value: impl FnMut(Option<&'a str>),
    ) {
        if self.advertiser_from_unit {
            value(Some(advertiser));
        }
        let key_cells = self.key.len() - usize::from(self.advertiser_from_unit);
        for (cell, column) in cells
            .iter()
            .zip(&self.key[usize::from(self.advertiser_from_unit)..])
        {
            let text = cell.unwrap_or("-");
            value(Some(match column.kind {
                ColumnKind::Day => text.get(..10).unwrap_or(text),
                _ => text,
            }));
        }
        for cell in &cells[key_cells..] {
            value(match cell {
                None | Some("-") => None,
                Some(text) => Some(text),
            });
        }
    }
}

impl TableShape {
    /// The table a report plan's rows go to: `table`, or the name made from its level, time
    /// breakdown and other dimensions ([`table_name`]). Names that SQL would need quoted are
    /// refused, for the table and for every column.
    pub fn for_report(plan: &Plan, table: Option<&str>) -> Result<Self, WarehouseError> {
        let dimensions = &plan.spec.dimensions;
        let name = match table {
            Some(name) => name.trim().to_string(),
            None => table_name(
                dimensions[0].trim_end_matches("_id"),
                dimensions.iter().any(|d| d == "stat_time_hour"),
                dimensions.get(2..).unwrap_or_default(),
            ),
        };
        if !valid_identifier(&name) {
            return Err(WarehouseError::Shape(format!(
                "--table {name:?} is not a table name: lower-case letters, digits and _, at most 63"
            )));
        }
        if let Some(bad) = plan.data_columns.iter().find(|c| !valid_identifier(c)) {
            return Err(WarehouseError::Shape(format!(
                "{bad:?} cannot be a column name (lower-case letters, digits and _)"
            )));
        }
        let metric_count = plan.data_columns.len() - dimensions.len();
        Ok(Self::new(name, &plan.data_columns, metric_count))
    }
}

/// The table name of a report shape: `tiktok_<level>_<daily|hourly>`, then `_by_<dimension>`
/// for each breakdown.
pub fn table_name(level: &str, hourly: bool, breakdowns: &[String]) -> String {
    let mut name = format!("tiktok_{level}_{}", if hourly { "hourly" } else { "daily" });
    for b in breakdowns {
        name.push_str("_by_");
        name.push_str(b);
    }
    name
}

/// Whether a name is safe as an SQL identifier without quoting games.
pub fn valid_identifier(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_keep_tiktoks_text_and_dashes_become_null() {
        let columns: Vec<String> = [
            "campaign_id",
            "stat_time_day",
            "spend",
            "campaign_name",
            "cpc",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let shape = TableShape::new("t".into(), &columns, 3);
        assert_eq!(shape.key.len(), 3, "advertiser, campaign, day");
        assert_eq!(shape.metrics[0].kind, ColumnKind::Number);
        assert_eq!(shape.metrics[1].kind, ColumnKind::Text);
        let mut values: Vec<Option<String>> = Vec::new();
        shape.row_values(
            "7300000000000000001",
            &[
                Some("1812"),
                Some("2025-03-01 00:00:00"),
                Some("0.10000000000000001"),
                Some("-"),
                None,
            ],
            |v| values.push(v.map(str::to_string)),
        );
        assert_eq!(
            values,
            [
                Some("7300000000000000001".into()),
                Some("1812".into()),
                Some("2025-03-01".into()),
                Some("0.10000000000000001".into()),
                None,
                None
            ]
        );
        assert_eq!(
            table_name("ad", false, &["country_code".into()]),
            "tiktok_ad_daily_by_country_code"
        );
        assert!(valid_identifier("tiktok_ad_daily") && !valid_identifier("x; drop table y"));
    }
}
