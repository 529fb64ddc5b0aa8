//! Errors raised by the command layer itself (as opposed to the API or the stores).

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad input caught before any request.
    #[error("{0}")]
    Usage(String),

    /// No token for this profile and environment.
    #[error(
        "not logged in to {environment} with profile {profile:?}: run `tiktok-ads{sandbox_flag} auth \
         login` (or `auth login --with-token` on a server), or set TIKTOK_ACCESS_TOKEN{keyring_note}"
    )]
    NotLoggedIn {
        profile: String,
        environment: String,
        sandbox_flag: &'static str,
        keyring_note: String,
    },

    /// The app credentials needed for this command are missing.
    #[error("{0}")]
    MissingAppCredentials(String),

    /// Some of the work failed while the rest succeeded.
    #[error("{0}")]
    Partial(String),

    /// `watch` saw events named by `--exit-on` (not a failure: a signal for the caller).
    #[error("{0}")]
    EventsSeen(String),

    /// A signal stopped the run; whatever it was writing was dropped. The message says what
    /// had been done before (see `cli::stopped`).
    #[error("{message}")]
    Stopped {
        stop: crate::signals::Stop,
        message: String,
    },
}

pub fn usage(message: impl Into<String>) -> anyhow::Error {
    CliError::Usage(message.into()).into()
}
