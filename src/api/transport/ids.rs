//! Serde helpers for TikTok's loosely typed values: IDs are strings in v1.3, but legacy fields
//! and some examples still carry JSON numbers. Both are read into `String` unchanged.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// Reads a string or a number into a `String`, keeping the digits exactly as sent.
pub(crate) fn string_or_number<'de, D: Deserializer<'de>>(de: D) -> Result<String, D::Error> {
    let value = Value::deserialize(de)?;
    value_to_string(value).map_err(serde::de::Error::custom)
}

/// Like [`string_or_number`] for optional fields; `null` and absence give `None`.
pub(crate) fn opt_string_or_number<'de, D: Deserializer<'de>>(
    de: D,
) -> Result<Option<String>, D::Error> {
    match Option::<Value>::deserialize(de)? {
        None | Some(Value::Null) => Ok(None),
        Some(v) => value_to_string(v)
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

/// Reads an array whose items are strings or numbers; `null` gives an empty list.
pub(crate) fn vec_string_or_number<'de, D: Deserializer<'de>>(
    de: D,
) -> Result<Vec<String>, D::Error> {
    match Option::<Vec<Value>>::deserialize(de)? {
        None => Ok(Vec::new()),
        Some(items) => items
            .into_iter()
            .map(|v| value_to_string(v).map_err(serde::de::Error::custom))
            .collect(),
    }
}

fn value_to_string(value: Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(format!("expected a string or a number, found {other}")),
    }
}

/// True for what TikTok accepts as an ID: a non-empty run of ASCII digits.
pub(crate) fn is_valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Row {
        #[serde(deserialize_with = "string_or_number")]
        id: String,
        #[serde(default, deserialize_with = "vec_string_or_number")]
        ids: Vec<String>,
    }

    #[test]
    fn numbers_and_strings_become_the_same_string() {
        let row: Row =
            serde_json::from_str(r#"{"id": 7301234567890123456, "ids": ["1", 2]}"#).unwrap();
        assert_eq!(row.id, "7301234567890123456");
        assert_eq!(row.ids, vec!["1", "2"]);
        let row: Row = serde_json::from_str(r#"{"id": "7301234567890123456"}"#).unwrap();
        assert_eq!(row.id, "7301234567890123456");
        assert!(row.ids.is_empty());
    }

    #[test]
    fn ids_are_digits_only() {
        assert!(is_valid_id("7301234567890123456"));
        assert!(!is_valid_id(""));
        assert!(!is_valid_id("12a"));
        assert!(!is_valid_id("-1"));
    }
}
