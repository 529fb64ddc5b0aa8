//! A bulk file as the user edited it: one row per entity, its ID and the values to set. A
//! blank cell or an absent column leaves a field as it is; a row that was deleted is left
//! alone. A column the file may not have (a typo of a field) is refused rather than ignored,
//! so that no edit is silently dropped.

use std::collections::BTreeMap;

use super::columns;
use crate::watch::Level;

/// What one row asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Wanted {
    /// The row's line in the file (1 is the header).
    pub line: u64,
    pub advertiser_id: Option<String>,
    pub id: String,
    /// Editable field → the value to set, as written.
    pub set: BTreeMap<String, String>,
    /// `budget_mode` as written, when not blank: it must not differ from TikTok's.
    pub budget_mode: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    pub level: Level,
    pub rows: Vec<Wanted>,
}

/// Reads a CSV (comma-separated, a header row, UTF-8 with or without a BOM).
pub fn read(text: &str) -> Result<Sheet, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| format!("the header row cannot be read: {e}"))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let level = columns::level_of(&headers).ok_or(
        "no ID column: a bulk file names its entities with campaign_id, adgroup_id or ad_id \
         (start from `tiktok-ads bulk export`)",
    )?;
    let known = columns::export(level);
    let unknown: Vec<&String> = headers
        .iter()
        .filter(|h| !known.contains(&h.as_str()))
        .collect();
    if !unknown.is_empty() {
        return Err(format!(
            "column{} {} {} not one a {} file has: {}",
            if unknown.len() == 1 { "" } else { "s" },
            unknown
                .iter()
                .map(|h| format!("{h:?}"))
                .collect::<Vec<_>>()
                .join(", "),
            if unknown.len() == 1 { "is" } else { "are" },
            level.name(),
            known.join(", ")
        ));
    }
    let id_column = format!("{}_id", level.name());
    let at = |name: &str| headers.iter().position(|h| h == name);
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i as u64 + 2;
        let record = record.map_err(|e| format!("line {line}: {e}"))?;
        let cell = |name: &str| {
            at(name)
                .and_then(|j| record.get(j))
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let Some(id) = cell(&id_column) else {
            return Err(format!("line {line}: no {id_column}"));
        };
        if !id.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!("line {line}: {id_column} {id:?} is not an ID"));
        }
        let set = columns::editable(level)
            .iter()
            .filter_map(|field| cell(field).map(|v| (field.to_string(), v)))
            .collect();
        rows.push(Wanted {
            line,
            advertiser_id: cell("advertiser_id"),
            id,
            set,
            budget_mode: cell("budget_mode"),
        });
    }
    Ok(Sheet { level, rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_cells_and_absent_columns_leave_fields_alone() {
        let sheet = read(
            "\u{feff}advertiser_id,adgroup_id,adgroup_name,budget,operation_status\n\
             7,101,,35.5,\n\
             7,102,Renamed,,DISABLE\n\
             ,,,,\n",
        )
        .unwrap();
        assert_eq!(sheet.level, Level::Adgroup);
        assert_eq!(sheet.rows.len(), 2, "an empty line is no row");
        assert_eq!(sheet.rows[0].line, 2);
        assert_eq!(
            sheet.rows[0].set,
            BTreeMap::from([("budget".into(), "35.5".into())])
        );
        assert_eq!(sheet.rows[1].set.len(), 2);
        assert_eq!(sheet.rows[1].advertiser_id.as_deref(), Some("7"));
    }

    #[test]
    fn a_column_it_does_not_know_is_refused_not_ignored() {
        let error = read("campaign_id,budgte\n1,50\n").unwrap_err();
        assert!(
            error.contains("\"budgte\" is not one a campaign file has"),
            "{error}"
        );
        assert!(read("name\nx\n").unwrap_err().contains("no ID column"));
        assert!(
            read("ad_id,operation_status\nabc,ENABLE\n")
                .unwrap_err()
                .contains("line 2")
        );
    }
}
