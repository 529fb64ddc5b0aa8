//! Checks of request bodies against TikTok's documented rules, so a bad create or update is
//! refused before it is sent, with every problem listed at once.

pub(crate) use crate::catalog::{BUDGET_MODES, OPERATION_STATUSES};
use chrono::NaiveDateTime;
use serde_json::{Map, Value};

/// The time format of schedules and creation filters (UTC).
pub(crate) const TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// Collected problems of one body.
#[derive(Debug, Default)]
pub(crate) struct Problems(Vec<String>);

impl Problems {
    pub(crate) fn push(&mut self, problem: impl Into<String>) {
        self.0.push(problem.into());
    }

    pub(crate) fn into_vec(self) -> Vec<String> {
        self.0
    }

    /// A string field, or a problem if it is there but not a string.
    pub(crate) fn string<'a>(
        &mut self,
        body: &'a Map<String, Value>,
        field: &str,
    ) -> Option<&'a str> {
        match body.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.as_str()),
            Some(other) => {
                self.push(format!("{field} must be a string, not {other}"));
                None
            }
        }
    }

    pub(crate) fn required_string<'a>(
        &mut self,
        body: &'a Map<String, Value>,
        field: &str,
        flag: &str,
    ) -> Option<&'a str> {
        match body.get(field) {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.as_str()),
            None | Some(Value::Null) | Some(Value::String(_)) => {
                self.push(format!("{field} is required ({flag})"));
                None
            }
            Some(other) => {
                self.push(format!("{field} must be a string, not {other}"));
                None
            }
        }
    }

    /// A money field: missing, given but not a number (reported here), or its value.
    pub(crate) fn amount(&mut self, body: &Map<String, Value>, field: &str) -> Amount {
        match body.get(field) {
            None | Some(Value::Null) => Amount::Missing,
            Some(_) => self
                .number(body, field)
                .map_or(Amount::Invalid, Amount::Given),
        }
    }

    /// A number field (TikTok money values are JSON numbers), or a problem.
    pub(crate) fn number(&mut self, body: &Map<String, Value>, field: &str) -> Option<f64> {
        match body.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => n.as_f64(),
            Some(other) => {
                self.push(format!("{field} must be a number, not {other}"));
                None
            }
        }
    }

    /// Checks that a present string field is one of `allowed`.
    pub(crate) fn one_of(&mut self, body: &Map<String, Value>, field: &str, allowed: &[&str]) {
        if let Some(value) = self.string(body, field)
            && !allowed.contains(&value)
        {
            self.push(format!(
                "{field} {value:?} is not valid: expected one of {}",
                allowed.join(", ")
            ));
        }
    }

    /// Checks every item of a present string-array field against `allowed`.
    pub(crate) fn all_of(&mut self, body: &Map<String, Value>, field: &str, allowed: &[&str]) {
        match body.get(field) {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for item in items {
                    match item.as_str() {
                        Some(v) if allowed.contains(&v) => {}
                        _ => self.push(format!(
                            "{field} item {item} is not valid: expected any of {}",
                            allowed.join(", ")
                        )),
                    }
                }
            }
            Some(other) => self.push(format!("{field} must be a list, not {other}")),
        }
    }

    /// Names: at most 512 characters, no emoji (TikTok refuses both).
    pub(crate) fn name(&mut self, body: &Map<String, Value>, field: &str, flag: &str) {
        if let Some(name) = self.required_string(body, field, flag) {
            if name.chars().count() > 512 {
                self.push(format!("{field} is longer than 512 characters"));
            }
            if name.chars().any(is_emoji) {
                self.push(format!("{field} must not contain emoji"));
            }
        }
    }

    /// A `YYYY-MM-DD HH:MM:SS` time field.
    pub(crate) fn time(&mut self, body: &Map<String, Value>, field: &str) -> Option<NaiveDateTime> {
        let text = self.string(body, field)?;
        match NaiveDateTime::parse_from_str(text, TIME_FORMAT) {
            Ok(time) => Some(time),
            Err(_) => {
                self.push(format!(
                    "{field} {text:?} is not a time: expected YYYY-MM-DD HH:MM:SS (UTC)"
                ));
                None
            }
        }
    }

    /// A digits-only ID field.
    pub(crate) fn id(
        &mut self,
        body: &Map<String, Value>,
        field: &str,
        flag: &str,
        required: bool,
    ) {
        match body.get(field) {
            None | Some(Value::Null) if required => {
                self.push(format!("{field} is required ({flag})"))
            }
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if super::transport::ids::is_valid_id(s) => {}
            Some(other) => self.push(format!("{field} {other} is not an ID: expected digits")),
        }
    }

    /// A budget against a minimum in US dollars, checked only for USD accounts: the minimums of
    /// other currencies are not published, and TikTok's own message covers them.
    pub(crate) fn minimum_budget(
        &mut self,
        what: &str,
        budget: f64,
        minimum_usd: f64,
        currency: Option<&str>,
    ) {
        if currency == Some("USD") && budget < minimum_usd {
            self.push(format!(
                "{what} {budget} USD is below TikTok's minimum of {minimum_usd} USD"
            ));
        }
    }
}

fn is_emoji(c: char) -> bool {
    matches!(c as u32, 0x1F300..=0x1FAFF | 0x2600..=0x27BF | 0x1F000..=0x1F2FF | 0xFE0F)
}

/// What a body says about an amount such as `budget`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Amount {
    Missing,
    /// Present but not a number: already reported, nothing more to say about it.
    Invalid,
    Given(f64),
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn collects_every_problem() {
        let b = body(json!({"budget": "lots", "mode": "X", "t": "tomorrow", "name": "ok 🚀"}));
        let mut p = Problems::default();
        p.number(&b, "budget");
        p.one_of(&b, "mode", &["A", "B"]);
        p.time(&b, "t");
        p.name(&b, "name", "--name");
        p.required_string(&b, "missing", "--missing");
        let all = p.into_vec();
        assert_eq!(all.len(), 5, "{all:?}");
        assert!(all[1].contains("expected one of A, B"));
    }

    #[test]
    fn usd_minimum_only() {
        let mut p = Problems::default();
        p.minimum_budget("budget", 10.0, 50.0, Some("EUR"));
        p.minimum_budget("budget", 50.0, 50.0, Some("USD"));
        assert!(p.into_vec().is_empty());
        let mut p = Problems::default();
        p.minimum_budget("budget", 49.0, 50.0, Some("USD"));
        assert!(p.into_vec()[0].contains("minimum of 50 USD"));
    }
}
