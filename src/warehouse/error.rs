//! How a database destination fails, beyond the drivers' own errors (which `crate::exit` maps
//! to the database exit code too).

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
