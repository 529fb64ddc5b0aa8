//! Diagnostics on stderr: warnings by default, every API call and retry with `-v`, errors only
//! with `-q`. Secrets are masked on the way out, and no colour codes are written: a log line
//! may carry a server's text, whose control characters are shown escaped.

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

pub fn init(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => LevelFilter::ERROR,
        (false, 0) => LevelFilter::WARN,
        (false, 1) => LevelFilter::DEBUG,
        (false, _) => LevelFilter::TRACE,
    };
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(|| crate::redact::RedactingStderr)
        .with_target(false)
        .without_time()
        .with_ansi(false);
    let _ = tracing_subscriber::registry()
        .with(fmt)
        .with(Targets::new().with_target("tiktok_ads", level))
        .try_init();
}
