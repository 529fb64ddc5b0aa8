//! Reports as a library: plan a report (dates in each account's own time zone, split into the
//! windows TikTok allows), fetch it — synchronously page by page, or as asynchronous tasks —
//! and hand its rows, proven complete, to a sink (a CSV/JSON writer, a database). No flags, no
//! terminal: the CLI's `report` commands are a thin layer over this.
//!
//! ```no_run
//! # async fn example(client: tiktok_ads::api::Client, writer: tiktok_ads::output::RecordWriter)
//! # -> anyhow::Result<()> {
//! use tiktok_ads::report::{self, PlanRequest, observer::Silent, sink::RecordSink};
//! let plan = report::plan::build(&PlanRequest { last: Some(7), ..PlanRequest::default() })?;
//! let advertisers = vec!["7301234567890123456".to_string()];
//! let facts = tiktok_ads::accounts::facts(&client, &advertisers).await?;
//! let today = chrono::Utc::now().date_naive();
//! let planned = report::plan::plan_accounts(&plan, &advertisers, &facts, false, today, &Silent)?;
//! let sink = RecordSink::new(writer, Default::default(), false, false);
//! report::sync::run_sync(&client, &plan, planned, sink, &Silent, 4).await?;
//! # Ok(()) }
//! ```

pub mod error;
pub mod observer;
pub mod plan;
pub mod poll;
pub mod sink;
pub mod spec;
pub mod sync;
pub mod tasks;
pub mod window;

pub use error::ReportError;
pub use observer::Observer;
pub use plan::{Breakdown, Dates, Level, Plan, PlanRequest};
pub use sink::RowSink;
pub use spec::ReportSpec;
pub use window::{Window, split_windows};
