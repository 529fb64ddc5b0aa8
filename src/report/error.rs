//! How a report fails, beyond the API's own errors: the CLI maps these to exit codes in
//! `crate::exit`.

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The request cannot be planned (bad dates, flags that contradict each other): nothing was
    /// asked for.
    #[error("{0}")]
    Invalid(String),

    /// Some of the data is not all there (counts that do not add up, a truncated report, some
    /// accounts failed): what is complete was kept, the rest was not.
    #[error("{0}")]
    Incomplete(String),

    /// What a report needs to know about an ad account (its time zone, its currency) could not
    /// be learnt from TikTok.
    #[error("{0}")]
    AccountFacts(String),

    /// An asynchronous report task ended FAILED or CANCELED.
    #[error("{0}")]
    TaskFailed(String),

    /// An asynchronous report task outlived the wait; it keeps running at TikTok.
    #[error("{0}")]
    TaskStillRunning(String),
}
