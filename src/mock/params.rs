//! Reading request parameters the way TikTok checks them: from the query string of a GET (lists
//! and objects JSON-encoded) or the JSON body of a POST, each failure a 40002 in TikTok's
//! `field: reason` style. Parameters a handler does not read are ignored, as TikTok ignores
//! them (the Singer tap sends a `lifetime` that no endpoint knows, and works).

use std::collections::HashMap;

use axum::response::Response;
use serde_json::{Map, Value};

use super::answer::invalid;

pub(super) type Checked<T> = Result<T, Response>;

/// The parameters of one request.
pub(super) enum Params {
    Query(HashMap<String, String>),
    Body(Map<String, Value>),
}

const MISSING: &str = "Missing data for required field.";

impl Params {
    /// The value as JSON: a body's value as it is; a query value parsed when it is JSON (an
    /// array, an object, a number), else as a string.
    fn value(&self, key: &str) -> Option<Value> {
        match self {
            Params::Body(map) => map.get(key).filter(|v| !v.is_null()).cloned(),
            Params::Query(map) => map.get(key).map(|text| {
                let trimmed = text.trim();
                if trimmed.starts_with('[') || trimmed.starts_with('{') {
                    serde_json::from_str(trimmed).unwrap_or_else(|_| Value::String(text.clone()))
                } else {
                    Value::String(text.clone())
                }
            }),
        }
    }

    /// A string (a number in a body is accepted as its digits, as TikTok converts IDs).
    pub(super) fn text(&self, key: &str) -> Checked<Option<String>> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(invalid(key, "Not a valid string.")),
        }
    }

    pub(super) fn required_text(&self, key: &str) -> Checked<String> {
        match self.text(key)? {
            Some(s) if !s.trim().is_empty() => Ok(s),
            _ => Err(invalid(key, MISSING)),
        }
    }

    /// An ID: digits only.
    pub(super) fn id(&self, key: &str) -> Checked<Option<String>> {
        match self.text(key)? {
            None => Ok(None),
            Some(s) if !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit()) => {
                Ok(Some(s))
            }
            Some(_) => Err(invalid(key, "Not a valid ID: IDs are strings of digits.")),
        }
    }

    pub(super) fn required_id(&self, key: &str) -> Checked<String> {
        self.id(key)?.ok_or_else(|| invalid(key, MISSING))
    }

    /// One of `allowed`.
    pub(super) fn choice(&self, key: &str, allowed: &[&str]) -> Checked<Option<String>> {
        match self.text(key)? {
            None => Ok(None),
            Some(s) if allowed.contains(&s.as_str()) => Ok(Some(s)),
            Some(_) => Err(invalid(
                key,
                &format!("Must be one of: {}.", allowed.join(", ")),
            )),
        }
    }

    pub(super) fn required_choice(&self, key: &str, allowed: &[&str]) -> Checked<String> {
        self.choice(key, allowed)?
            .ok_or_else(|| invalid(key, MISSING))
    }

    /// A list of strings (IDs as numbers are accepted, as TikTok converts them).
    /// Items of the list `key`, each within `allowed`.
    pub(super) fn choices(&self, key: &str, allowed: &[&str]) -> Checked<Option<Vec<String>>> {
        let list = self.list(key)?;
        if let Some(bad) = list
            .iter()
            .flatten()
            .find(|v| !allowed.contains(&v.as_str()))
        {
            return Err(invalid(
                key,
                &format!("{bad} is not one of: {}.", allowed.join(", ")),
            ));
        }
        Ok(list)
    }

    pub(super) fn list(&self, key: &str) -> Checked<Option<Vec<String>>> {
        let Some(value) = self.value(key) else {
            return Ok(None);
        };
        let Value::Array(items) = value else {
            return Err(invalid(key, "Not a valid list: send a JSON array."));
        };
        items
            .into_iter()
            .map(|item| match item {
                Value::String(s) => Ok(s),
                Value::Number(n) => Ok(n.to_string()),
                _ => Err(invalid(key, "Not a valid list of strings.")),
            })
            .collect::<Checked<Vec<String>>>()
            .map(Some)
    }

    /// A JSON object.
    pub(super) fn object(&self, key: &str) -> Checked<Option<Map<String, Value>>> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(map)),
            Some(_) => Err(invalid(key, "Not a valid JSON object.")),
        }
    }

    /// Any JSON value, for shapes a handler checks itself.
    pub(super) fn json(&self, key: &str) -> Option<Value> {
        self.value(key)
    }

    /// `true` or `false`, in any letter case (the Python SDK sends `True`); a body may also send
    /// a JSON boolean.
    pub(super) fn boolean(&self, key: &str) -> Checked<Option<bool>> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(b)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(_) => Err(invalid(key, "Not a valid boolean.")),
        }
    }

    /// An integer within `min..=max` (or `default` when absent).
    pub(super) fn integer(&self, key: &str, min: u64, max: u64, default: u64) -> Checked<u64> {
        let number = match self.value(key) {
            None => return Ok(default),
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
            Some(_) => None,
        };
        match number {
            Some(n) if (min..=max).contains(&n) => Ok(n),
            Some(_) => Err(invalid(
                key,
                &format!("Value must be between {min} and {max}."),
            )),
            None => Err(invalid(key, "Not a valid integer.")),
        }
    }

    /// A number (a budget, a bid).
    pub(super) fn number(&self, key: &str) -> Checked<Option<f64>> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_f64()),
            Some(Value::String(s)) => s
                .trim()
                .parse::<f64>()
                .map(Some)
                .map_err(|_| invalid(key, "Not a valid number.")),
            Some(_) => Err(invalid(key, "Not a valid number.")),
        }
    }

    /// `page` (from 1) and `page_size` (1 to `max`, default 10).
    pub(super) fn paging(&self, max: u64) -> Checked<(u64, u64)> {
        Ok((
            self.integer("page", 1, 99_999, 1)?,
            self.integer("page_size", 1, max, 10)?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> Params {
        Params::Query(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn values_are_read_as_tiktok_reads_them() {
        let q = query(&[
            ("ids", r#"["1",2]"#),
            ("lifetime", "True"),
            ("page", "abc"),
            ("level", "AUCTION_AD"),
        ]);
        assert_eq!(
            q.list("ids").ok().flatten(),
            Some(vec!["1".into(), "2".into()])
        );
        assert_eq!(q.boolean("lifetime").ok().flatten(), Some(true));
        assert!(q.paging(1000).is_err());
        assert!(q.choice("level", &["AUCTION_CAMPAIGN"]).is_err());
        assert!(q.required_text("missing").is_err());
        assert!(query(&[("ids", "1,2")]).list("ids").is_err());
    }
}
