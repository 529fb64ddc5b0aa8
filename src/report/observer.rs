//! What a running report tells whoever runs it: notes (what was adjusted), errors of one
//! account among several (the run goes on), and progress. The CLI shows them on stderr; a
//! library caller may log them, or ignore them.

/// Where a run stands.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    pub windows_done: usize,
    pub windows: usize,
    pub rows: u64,
    pub requests: u64,
    pub retries: u64,
    /// What the run waits for, when it waits (an asynchronous task being made).
    pub waiting: Option<String>,
}

pub trait Observer: Sync {
    /// Something adjusted or worth knowing; may be hidden (`-q`).
    fn note(&self, text: &str);
    /// The failure of one part of the run that goes on; never hidden.
    fn error(&self, text: &str);
    /// Where the run stands; called often, so it should be cheap.
    fn progress(&self, _progress: &Progress) {}
    /// The output was kept, with this many rows.
    fn committed(&self, _rows: u64) {}
}

/// An observer that keeps nothing (a library caller that only wants the result).
pub struct Silent;

impl Observer for Silent {
    fn note(&self, _text: &str) {}
    fn error(&self, _text: &str) {}
}
