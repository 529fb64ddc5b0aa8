//! Output formats and writers. Knows no API types: rows arrive as JSON objects.

pub mod destination;
pub mod format;
pub mod records;

pub use destination::Destination;
pub use format::{Format, FormatChoice};
pub use records::RecordWriter;
