//! Entry point: parse, run, map the outcome to an exit code. Nothing else.

use std::process::ExitCode;

use clap::Parser;
use tiktok_ads::cli::{self, Cli, errors::CliError};
use tiktok_ads::{exit, logging};

fn main() -> ExitCode {
    // rustls needs its crypto provider chosen once per process (ring: smaller, faster to build).
    let _ = rustls::crypto::ring::default_provider().install_default();
    // A `.env` in the working directory fills variables that are not already set.
    let dotenv = dotenvy::from_path(".env");
    let cli = Cli::parse();
    logging::init(cli.global.verbose, cli.global.quiet);
    if let Err(e) = dotenv
        && !e.not_found()
    {
        tracing::warn!("ignoring .env: {e}");
    }
    // Worker threads decode report pages in parallel while the writer streams rows out.
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return exit::report(Err(anyhow::Error::new(e).context("starting the runtime"))),
    };
    let result = runtime.block_on(async {
        tokio::select! {
            result = cli::run(cli) => result,
            _ = tokio::signal::ctrl_c() => Err(CliError::Interrupted.into()),
        }
    });
    exit::report(result)
}
