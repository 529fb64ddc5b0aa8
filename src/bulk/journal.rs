//! The journal of a `bulk apply`: one JSON line per change TikTok confirmed, with the value
//! before and after, written as it is confirmed — what a run really did, and what `bulk undo`
//! reverses.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::sheet::Wanted;
use crate::watch::Level;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalLine {
    /// When it was confirmed, RFC 3339 UTC.
    pub time: String,
    /// The plan (or file) applied.
    pub source: String,
    pub advertiser_id: String,
    pub level: Level,
    pub id: String,
    pub name: Option<String>,
    pub field: String,
    pub before: Value,
    pub after: Value,
}

/// Where confirmed changes are written.
pub trait Journal {
    fn confirmed(&mut self, line: &JournalLine) -> anyhow::Result<()>;
}

/// A journal read back: the lines, or the first line that is not one.
pub fn read(text: &str) -> Result<Vec<JournalLine>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .map_err(|e| format!("line {} is not a journal line: {e}", i + 1))
        })
        .collect()
}

/// What undoing `lines` asks for: per entity, each field back to its value before the first
/// change, and the value the last change left (which must still be there).
pub struct Reversal {
    pub level: Level,
    pub rows: Vec<Wanted>,
    /// (entity ID, field) → the value the journal left.
    pub left: BTreeMap<(String, String), Value>,
}

fn cell(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

pub fn reversal(lines: &[JournalLine]) -> Result<Reversal, String> {
    let Some(level) = lines.first().map(|l| l.level) else {
        return Err("the journal holds no change: there is nothing to undo".into());
    };
    if lines.iter().any(|l| l.level != level) {
        return Err("the journal mixes levels: undo takes the journal of one apply".into());
    }
    let mut rows: BTreeMap<String, Wanted> = BTreeMap::new();
    let mut left = BTreeMap::new();
    for line in lines {
        let row = rows.entry(line.id.clone()).or_insert_with(|| Wanted {
            line: 0,
            advertiser_id: Some(line.advertiser_id.clone()),
            id: line.id.clone(),
            set: BTreeMap::new(),
            budget_mode: None,
        });
        // The first change of a field tells where it started.
        row.set
            .entry(line.field.clone())
            .or_insert_with(|| cell(&line.before));
        left.insert((line.id.clone(), line.field.clone()), line.after.clone());
    }
    Ok(Reversal {
        level,
        rows: rows.into_values().collect(),
        left,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn line(id: &str, field: &str, before: Value, after: Value) -> String {
        serde_json::to_string(&JournalLine {
            time: "t".into(),
            source: "plan.json".into(),
            advertiser_id: "7".into(),
            level: Level::Adgroup,
            id: id.into(),
            name: None,
            field: field.into(),
            before,
            after,
        })
        .unwrap()
    }

    #[test]
    fn an_undo_goes_back_to_the_first_value_and_expects_the_last() {
        let text = [
            line("1", "budget", json!(20.0), json!(30)),
            line("1", "budget", json!(30), json!(40)),
            line("2", "operation_status", json!("ENABLE"), json!("DISABLE")),
        ]
        .join("\n");
        let undo = reversal(&read(&text).unwrap()).unwrap();
        assert_eq!(undo.rows.len(), 2);
        assert_eq!(undo.rows[0].set["budget"], "20.0");
        assert_eq!(
            undo.left[&("1".to_string(), "budget".to_string())],
            json!(40)
        );
        assert_eq!(undo.rows[1].set["operation_status"], "ENABLE");
        assert!(read("{oops").unwrap_err().contains("line 1"));
        assert!(reversal(&[]).is_err());
    }
}
