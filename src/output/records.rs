//! Streaming writers of records (JSON objects) in a fixed column order. CSV, JSON and NDJSON
//! write each record as it comes; a table has to see every row to size its columns.

use std::io::Write;

use anyhow::{Context, Result};
use serde_json::{Map, Value};

use super::destination::Destination;
use super::format::Format;

/// Writes records in `columns` order. With no columns, JSON and NDJSON write whole records.
pub struct RecordWriter {
    columns: Vec<String>,
    format: Format,
    sink: Sink,
    table_rows: Vec<Vec<String>>,
    written: u64,
}

enum Sink {
    Csv(Box<csv::Writer<Destination>>),
    Plain(Destination),
}

impl RecordWriter {
    pub fn new(format: Format, columns: Vec<String>, out: Destination) -> Result<Self> {
        let sink = if format == Format::Csv {
            let mut csv = csv::WriterBuilder::new().from_writer(out);
            csv.write_record(&columns)?;
            Sink::Csv(Box::new(csv))
        } else {
            Sink::Plain(out)
        };
        Ok(Self {
            columns,
            format,
            sink,
            table_rows: Vec::new(),
            written: 0,
        })
    }

    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    pub fn write(&mut self, record: &Map<String, Value>) -> Result<()> {
        let selected = || select(&self.columns, record);
        match (&mut self.sink, self.format) {
            (Sink::Csv(csv), _) => {
                csv.write_record(self.columns.iter().map(|c| cell(record.get(c))))?;
            }
            (Sink::Plain(out), Format::Json) => {
                let sep: &[u8] = if self.written == 0 { b"[\n" } else { b",\n" };
                out.write_all(sep).context("writing output")?;
                serde_json::to_writer(&mut *out, &selected())?;
            }
            (Sink::Plain(out), Format::Ndjson) => {
                serde_json::to_writer(&mut *out, &selected())?;
                out.write_all(b"\n").context("writing output")?;
            }
            (Sink::Plain(_), _) => {
                let row = self.columns.iter().map(|c| cell(record.get(c))).collect();
                self.table_rows.push(row);
            }
        }
        self.written += 1;
        Ok(())
    }

    /// Pushes what is buffered to the destination, so a reader downstream sees each page of
    /// rows as soon as it is written (tables wait for the end anyway).
    pub fn flush(&mut self) -> Result<()> {
        match &mut self.sink {
            Sink::Csv(csv) => csv.flush().context("writing output")?,
            Sink::Plain(out) => out.flush().context("writing output")?,
        }
        Ok(())
    }

    /// Ends the output (closing brackets, the table) and commits the destination.
    pub fn finish(self) -> Result<u64> {
        let mut out = match self.sink {
            Sink::Csv(csv) => csv
                .into_inner()
                .map_err(|e| anyhow::anyhow!("writing output: {}", e.error()))?,
            Sink::Plain(out) => out,
        };
        match self.format {
            Format::Json if self.written == 0 => out.write_all(b"[]\n")?,
            Format::Json => out.write_all(b"\n]\n")?,
            Format::Table => {
                let mut builder = tabled::builder::Builder::default();
                builder.push_record(self.columns.iter().cloned());
                for row in self.table_rows {
                    builder.push_record(row);
                }
                let mut table = builder.build();
                table.with(tabled::settings::Style::sharp());
                writeln!(out, "{table}")?;
            }
            Format::Csv | Format::Ndjson => {}
        }
        out.commit()?;
        Ok(self.written)
    }
}

/// The record restricted to the columns, in their order; without columns, the whole record.
fn select(columns: &[String], record: &Map<String, Value>) -> Map<String, Value> {
    if columns.is_empty() {
        return record.clone();
    }
    columns
        .iter()
        .map(|c| (c.clone(), record.get(c).cloned().unwrap_or(Value::Null)))
        .collect()
}

/// A value as one text cell: strings verbatim, numbers as sent, nothing for null.
pub fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => n.to_string(),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cells_keep_values_as_sent() {
        assert_eq!(
            cell(Some(&json!("7301234567890123456"))),
            "7301234567890123456"
        );
        assert_eq!(cell(Some(&json!(1523.47))), "1523.47");
        assert_eq!(cell(Some(&json!(null))), "");
        assert_eq!(cell(None), "");
        assert_eq!(cell(Some(&json!(["a", 1]))), r#"["a",1]"#);
    }
}
