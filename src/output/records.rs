//! Streaming writers of records (JSON objects) in a fixed column order. CSV, JSON and NDJSON
//! write each record as it comes; a table has to see every row to size its columns. Nothing is
//! written before there is something true to write: the CSV header comes with the first row,
//! or at the end of a complete empty output — never alone from a run that failed.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result};
use serde_json::{Map, Value};

use super::csv_row;
use super::destination::Destination;
use super::format::Format;

/// Writes records in `columns` order. With no columns, JSON and NDJSON write whole records.
pub struct RecordWriter {
    columns: Vec<String>,
    format: Format,
    sink: Sink,
    table_rows: Vec<Vec<String>>,
    written: u64,
    /// The CSV header is still to be written.
    header_due: bool,
    /// Rows streamed out so far, for whoever must say how much of the output exists.
    shared: Option<Arc<AtomicU64>>,
}

enum Sink {
    /// The destination and a line buffer kept across records.
    Csv(Destination, Vec<u8>),
    Plain(Destination),
}

impl Sink {
    fn csv_record<'a>(
        out: &mut Destination,
        line: &mut Vec<u8>,
        cells: impl Iterator<Item = &'a [u8]>,
    ) -> Result<()> {
        line.clear();
        csv_row::encode(line, cells);
        out.write_all(line).context("writing output")
    }
}

impl RecordWriter {
    pub fn new(format: Format, columns: Vec<String>, out: Destination) -> Result<Self> {
        let sink = if format == Format::Csv {
            Sink::Csv(out, Vec::new())
        } else {
            Sink::Plain(out)
        };
        Ok(Self {
            columns,
            format,
            sink,
            table_rows: Vec::new(),
            written: 0,
            header_due: format == Format::Csv,
            shared: None,
        })
    }

    /// Keeps `counter` at the number of rows streamed out (a table streams nothing until its
    /// end, so it counts none).
    pub fn count_rows_into(&mut self, counter: Arc<AtomicU64>) {
        self.shared = Some(counter);
    }

    fn counted(&mut self) {
        self.written += 1;
        if let Some(counter) = &self.shared
            && self.format != Format::Table
        {
            counter.store(self.written, Ordering::Relaxed);
        }
    }

    /// The CSV header, once, before the first row (or at the end of an empty output).
    fn header(&mut self) -> Result<()> {
        if self.header_due {
            self.header_due = false;
            if let Sink::Csv(out, line) = &mut self.sink {
                Sink::csv_record(out, line, self.columns.iter().map(|c| c.as_bytes()))?;
            }
        }
        Ok(())
    }

    pub fn write(&mut self, record: &Map<String, Value>) -> Result<()> {
        self.header()?;
        let selected = || select(&self.columns, record);
        match (&mut self.sink, self.format) {
            (Sink::Csv(out, line), _) => {
                let cells: Vec<String> = self.columns.iter().map(|c| cell(record.get(c))).collect();
                Sink::csv_record(out, line, cells.iter().map(|c| c.as_bytes()))?;
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
        self.counted();
        Ok(())
    }

    /// Writes one row of text cells in column order (`None` = no value: empty in CSV and
    /// tables, null in JSON). The fast path for large reports: no map per row.
    pub fn write_cells<'a>(&mut self, cells: impl Iterator<Item = Option<&'a str>>) -> Result<()> {
        self.header()?;
        match (&mut self.sink, self.format) {
            (Sink::Csv(out, line), _) => {
                Sink::csv_record(out, line, cells.map(|c| c.unwrap_or_default().as_bytes()))?;
            }
            (Sink::Plain(out), Format::Json | Format::Ndjson) => {
                if self.format == Format::Json {
                    let sep: &[u8] = if self.written == 0 { b"[\n" } else { b",\n" };
                    out.write_all(sep)?;
                }
                out.write_all(b"{")?;
                for (i, (name, cell)) in self.columns.iter().zip(cells).enumerate() {
                    if i > 0 {
                        out.write_all(b",")?;
                    }
                    serde_json::to_writer(&mut *out, name)?;
                    out.write_all(b":")?;
                    serde_json::to_writer(&mut *out, &cell)?;
                }
                out.write_all(b"}")?;
                if self.format == Format::Ndjson {
                    out.write_all(b"\n")?;
                }
            }
            (Sink::Plain(_), _) => {
                let row = cells.map(|c| c.unwrap_or_default().to_string()).collect();
                self.table_rows.push(row);
            }
        }
        self.counted();
        Ok(())
    }

    /// Pushes what is buffered to the destination, so a reader downstream sees each page of
    /// rows as soon as it is written (tables wait for the end anyway).
    pub fn flush(&mut self) -> Result<()> {
        match &mut self.sink {
            Sink::Csv(out, _) | Sink::Plain(out) => out.flush().context("writing output")?,
        }
        Ok(())
    }

    /// Ends the output (closing brackets, the table) and commits the destination.
    pub fn finish(mut self) -> Result<u64> {
        self.header()?;
        let (Sink::Csv(mut out, _) | Sink::Plain(mut out)) = self.sink;
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
    fn text_rows_in_every_format() {
        for (format, expected) in [
            (
                Format::Json,
                "[\n{\"a\":\"1\",\"b\":null},\n{\"a\":\"x\\\"y\",\"b\":\"-\"}\n]\n",
            ),
            (
                Format::Ndjson,
                "{\"a\":\"1\",\"b\":null}\n{\"a\":\"x\\\"y\",\"b\":\"-\"}\n",
            ),
            (Format::Csv, "a,b\n1,\n\"x\"\"y\",-\n"),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("out");
            let out = Destination::file(&path).unwrap();
            let mut w = RecordWriter::new(format, vec!["a".into(), "b".into()], out).unwrap();
            w.write_cells([Some("1"), None].into_iter()).unwrap();
            w.write_cells([Some("x\"y"), Some("-")].into_iter())
                .unwrap();
            w.finish().unwrap();
            assert_eq!(
                std::fs::read_to_string(&path).unwrap(),
                expected,
                "{format:?}"
            );
        }
    }

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
