//! Output formats and writers. Knows no API types: rows arrive as JSON objects.

mod csv_row;
pub mod destination;
pub mod format;
pub mod records;
pub mod streams;

pub use destination::Destination;
pub use format::{Format, FormatChoice};
pub use records::RecordWriter;
pub use streams::{Captured, Streams};
