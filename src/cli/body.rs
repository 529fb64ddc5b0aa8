//! Request bodies for create and update: a JSON file (or stdin) merged with flags, the flags
//! winning; `--dry-run` printing; problems listed all at once.

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::Args;
use serde_json::{Map, Value};

use super::context::Context;
use super::errors::usage;
use crate::output::Streams;

#[derive(Debug, Clone, Args)]
pub struct BodyArgs {
    /// JSON object with any field the API takes (`-` reads stdin); flags override its values.
    #[arg(long, value_name = "FILE")]
    pub from_file: Option<PathBuf>,

    /// Print the JSON that would be sent and exit without changing anything.
    #[arg(long)]
    pub dry_run: bool,
}

impl BodyArgs {
    /// The file's object, or an empty one without `--from-file`.
    pub fn load(&self, streams: &Streams) -> Result<Map<String, Value>> {
        let Some(path) = &self.from_file else {
            return Ok(Map::new());
        };
        let (text, name) = if path.as_os_str() == "-" {
            let text = streams
                .read_to_string()
                .context("reading the JSON body from stdin")?;
            (text, "stdin".to_string())
        } else {
            let text = std::fs::read_to_string(path)
                .map_err(|e| usage(format!("cannot read {}: {e}", path.display())))?;
            (text, path.display().to_string())
        };
        parse_object(&text, &name)
    }
}

pub(crate) fn parse_object(text: &str, name: &str) -> Result<Map<String, Value>> {
    if text.trim().is_empty() {
        return Err(usage(format!("{name} is empty: expected a JSON object")));
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(usage(format!(
            "{name} holds {}, not a JSON object",
            kind_of(&other)
        ))),
        Err(e) => Err(usage(format!(
            "{name} is not valid JSON: {} at line {}, column {}",
            e.to_string().split(" at line").next().unwrap_or_default(),
            e.line(),
            e.column()
        ))),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Array(_) => "a list",
        Value::String(_) => "a string",
        Value::Number(_) => "a number",
        Value::Bool(_) => "a boolean",
        Value::Null => "null",
        Value::Object(_) => "an object",
    }
}

/// Copies every flag value over the body.
pub(crate) fn overlay(body: &mut Map<String, Value>, flags: Map<String, Value>) {
    for (key, value) in flags {
        body.insert(key, value);
    }
}

/// Sets `key` only when neither the file nor a flag did.
pub(crate) fn default(body: &mut Map<String, Value>, key: &str, value: Value) {
    body.entry(key.to_string()).or_insert(value);
}

/// Fails with every problem listed, one per line.
pub(crate) fn refuse_problems(what: &str, problems: Vec<String>) -> Result<()> {
    if problems.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = problems.iter().map(|p| format!("  - {p}")).collect();
    Err(usage(format!(
        "{what}: nothing was sent, {} problem(s):\n{}",
        problems.len(),
        list.join("\n")
    )))
}

/// A `--budget`-style flag: kept as the JSON number the API wants; text that is not a number
/// is kept as a string so the checks report it alongside every other problem.
pub(crate) fn number_flag(text: &str) -> Value {
    match text.trim().parse::<f64>() {
        Ok(n) if n.is_finite() => serde_json::Number::from_f64(n)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(text.to_string())),
        _ => Value::String(text.to_string()),
    }
}

/// Uppercases an enum-like flag (`traffic` → `TRAFFIC`).
pub(crate) fn enum_flag(text: &str) -> Value {
    Value::String(text.trim().to_ascii_uppercase().replace('-', "_"))
}

/// A comma list flag as a JSON array of strings.
pub(crate) fn list_flag(items: &[String]) -> Value {
    Value::Array(
        items
            .iter()
            .map(|s| Value::String(s.trim().to_string()))
            .collect(),
    )
}

/// Prints a body exactly as it would be sent (to stdout or `-o`).
pub(crate) fn print_dry_run(ctx: &Context, body: &Value) -> Result<()> {
    let text = serde_json::to_string_pretty(body)?;
    ctx.write_text(&format!("{text}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_json_names_line_and_column() {
        let err = parse_object("{\n  \"a\": 1,\n  \"b\": }\n", "body.json").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("line 3, column 8"), "{text}");
        assert!(
            parse_object("  \n", "f")
                .unwrap_err()
                .to_string()
                .contains("empty")
        );
        assert!(
            parse_object("[1]", "f")
                .unwrap_err()
                .to_string()
                .contains("a list")
        );
    }

    #[test]
    fn numbers_stay_numbers_and_text_is_reported_later() {
        assert_eq!(number_flag("500"), serde_json::json!(500.0));
        assert_eq!(number_flag("19.99"), serde_json::json!(19.99));
        assert_eq!(number_flag("lots"), serde_json::json!("lots"));
    }
}

/// Collects flag values into an object, skipping flags that were not given.
#[derive(Default)]
pub(crate) struct Flags(Map<String, Value>);

impl Flags {
    pub(crate) fn text(mut self, key: &str, value: &Option<String>) -> Self {
        if let Some(v) = value {
            self.0.insert(key.into(), Value::String(v.clone()));
        }
        self
    }

    pub(crate) fn enumeration(mut self, key: &str, value: &Option<String>) -> Self {
        if let Some(v) = value {
            self.0.insert(key.into(), enum_flag(v));
        }
        self
    }

    pub(crate) fn number(mut self, key: &str, value: &Option<String>) -> Self {
        if let Some(v) = value {
            self.0.insert(key.into(), number_flag(v));
        }
        self
    }

    pub(crate) fn list(mut self, key: &str, values: &[String]) -> Self {
        if !values.is_empty() {
            self.0.insert(key.into(), list_flag(values));
        }
        self
    }

    pub(crate) fn enum_list(mut self, key: &str, values: &[String]) -> Self {
        if !values.is_empty() {
            self.0.insert(
                key.into(),
                Value::Array(values.iter().map(|v| enum_flag(v)).collect()),
            );
        }
        self
    }

    pub(crate) fn value(mut self, key: &str, value: Option<Value>) -> Self {
        if let Some(v) = value {
            self.0.insert(key.into(), v);
        }
        self
    }

    pub(crate) fn into_map(self) -> Map<String, Value> {
        self.0
    }
}
