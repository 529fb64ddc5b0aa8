//! Reports as a library: plan a report (dates in each account's own time zone, split into the
//! windows TikTok allows), fetch it — synchronously page by page, or as asynchronous tasks —
//! and hand its rows, proven complete, to a sink (a CSV/JSON writer, a database). No flags, no
//! terminal: the CLI's `report` commands are a thin layer over this.
//!
//! ```no_run
//! # async fn example(client: tiktok_ads::api::Client) -> anyhow::Result<()> {
//! use tiktok_ads::report::{self, PlanRequest, observer::Silent, sink::{RowSink, Unit}};
//!
//! /// Where rows go: here, counted (a CSV writer, a database...).
//! struct Count(u64);
//! impl RowSink for Count {
//!     fn row(&mut self, _unit: &Unit<'_>, _cells: &[Option<&str>]) -> anyhow::Result<()> {
//!         self.0 += 1;
//!         Ok(())
//!     }
//!     fn account_done(&mut self, _advertiser: &str, _complete: bool) -> anyhow::Result<()> {
//!         Ok(())
//!     }
//!     fn commit(self) -> anyhow::Result<u64> {
//!         Ok(self.0)
//!     }
//! }
//!
//! let plan = report::plan::build(&PlanRequest { last: Some(7), ..PlanRequest::default() })?;
//! let advertisers = vec!["7301234567890123456".to_string()];
//! let facts = tiktok_ads::accounts::facts(&client, &advertisers).await?;
//! let today = chrono::Utc::now().date_naive();
//! let planned = report::plan::plan_accounts(&plan, &advertisers, &facts, false, today, &Silent)?;
//! let rows = report::paged::run(&client, &plan, planned, Count(0), &Silent, 4).await?;
//! # Ok(()) }
//! ```

pub mod collect;
pub mod columns;
mod country;
mod duplicates;
pub mod entities;
pub mod error;
pub mod incremental;
pub mod observer;
pub mod paged;
pub mod plan;
pub mod sink;
pub mod spec;
pub mod tasks;
pub mod window;

pub use error::ReportError;
pub use observer::Observer;
pub use plan::{Breakdown, Dates, Level, Plan, PlanRequest};
pub use sink::RowSink;
pub use spec::ReportSpec;
pub use window::{Window, split_windows};
