//! How events come out: one NDJSON object per line when stdout is not a terminal (or with
//! `--format ndjson`/`json`), readable lines coloured by bucket on a terminal (no colour with
//! `NO_COLOR`). Each line is flushed as it is written: a crash after it still delivered it.

use std::io::Write;

use anstyle::{AnsiColor, Style};
use anyhow::Result;
use serde_json::Value;

use crate::output::{FormatChoice, Streams};
use crate::watch::{Bucket, Event, EventKind};

pub(super) struct Printer {
    streams: Streams,
    json: bool,
    colour: bool,
}

impl Printer {
    pub(super) fn new(streams: &Streams, format: FormatChoice) -> Result<Self> {
        let json = match format {
            FormatChoice::Json | FormatChoice::Ndjson => true,
            FormatChoice::Table => false,
            FormatChoice::Auto => !streams.out_is_terminal,
            FormatChoice::Csv => {
                return Err(crate::cli::errors::usage(
                    "watch prints events as lines (--format table) or NDJSON (--format ndjson), not CSV",
                ));
            }
        };
        let colour = !json
            && streams.out_is_terminal
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Ok(Self {
            streams: streams.clone(),
            json,
            colour,
        })
    }

    /// Writes the events, each flushed.
    pub(super) fn print(&self, events: &[Event]) -> Result<()> {
        let mut out = self.streams.stdout();
        for event in events {
            let line = if self.json {
                serde_json::to_string(event)?
            } else {
                self.line(event)
            };
            out.write_all(line.as_bytes())?;
            out.write_all(b"\n")?;
            out.flush()?;
        }
        Ok(())
    }

    fn line(&self, event: &Event) -> String {
        let shown = |v: &Value| match v {
            Value::Null => "—".to_string(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let what = match event.event {
            EventKind::Appeared => format!("appeared ({})", shown(&event.to)),
            EventKind::Removed => "no longer listed".to_string(),
            _ => format!(
                "{}: {} → {}",
                event.field.as_deref().unwrap_or(event.event.name()),
                shown(&event.from),
                shown(&event.to)
            ),
        };
        let time = event
            .time
            .get(..19)
            .unwrap_or(&event.time)
            .replace('T', " ");
        let bucket = event
            .bucket
            .map(|b| format!("  [{}]", b.name().replace('_', " ")))
            .unwrap_or_default();
        let mut line = format!(
            "{time}  {} {} {:?} ({})  {what}{bucket}",
            event.level.name(),
            event.id,
            event.name.as_deref().unwrap_or(""),
            event.advertiser_id,
        );
        for reason in reasons(event.reasons.as_ref()) {
            line.push_str("\n    ");
            line.push_str(&reason);
        }
        match event.bucket.map(colour_of).filter(|_| self.colour) {
            Some(style) => format!("{}{line}{}", style.render(), style.render_reset()),
            None => line,
        }
    }
}

fn colour_of(bucket: Bucket) -> Style {
    let colour = match bucket {
        Bucket::Rejected => AnsiColor::Red,
        Bucket::PartlyRejected | Bucket::Budget => AnsiColor::Yellow,
        Bucket::InReview => AnsiColor::Cyan,
        Bucket::Delivering => AnsiColor::Green,
        Bucket::Deleted => AnsiColor::Magenta,
        Bucket::Paused | Bucket::Finished | Bucket::Other => AnsiColor::BrightBlack,
    };
    colour.on_default()
}

/// One line per reject reason: what it applies to, the reason, TikTok's suggestion.
pub(super) fn reasons(review: Option<&Value>) -> Vec<String> {
    let Some(review) = review else {
        return Vec::new();
    };
    let infos = review
        .get("reject_info")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    infos
        .iter()
        .map(|info| {
            let reasons: Vec<&str> = info
                .get("reasons")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let content = info
                .get("content_info")
                .and_then(|c| c.get("content_type"))
                .and_then(Value::as_str)
                .unwrap_or("content");
            let mut line = format!("{content}: {}", reasons.join("; "));
            if let Some(suggestion) = info
                .get("suggestion")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
            {
                line.push_str(" — ");
                line.push_str(suggestion);
            }
            line
        })
        .collect()
}
