//! How a database destination fails, beyond the drivers' own errors (which `crate::exit` maps
//! to the database exit code too).

use super::Counts;
use crate::report::Window;

#[derive(Debug, thiserror::Error)]
pub enum WarehouseError {
    /// Another sync holds the destination: try again when it ends.
    #[error("{0}")]
    Busy(String),

    /// A table exists with another shape: nothing was changed; the fix is in the message.
    #[error("{0}")]
    Shape(String),

    /// The database cannot be opened, reached or written (a read-only path, an unreachable
    /// server, a wrong password); the message never holds the password.
    #[error("{0}")]
    Unusable(String),
}

/// A window whose earlier days are in the database with their progress, and whose later days
/// are not: the context of the error that stopped the later days.
#[derive(Debug)]
pub struct PartlyCommitted {
    pub counts: Counts,
    pub days: Window,
}

impl std::fmt::Display for PartlyCommitted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} is committed, the window's later days are not (the next run pulls them)",
            self.days
        )
    }
}
