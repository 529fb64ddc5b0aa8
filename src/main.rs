//! Entry point: parse, run, map the outcome to an exit code. Nothing else.

use std::path::Path;
use std::process::ExitCode;

use tiktok_ads::cli::{self, errors::CliError};
use tiktok_ads::output::Streams;
use tiktok_ads::{env_file, exit, logging, signals};

fn main() -> ExitCode {
    // rustls needs its crypto provider chosen once per process (ring: smaller, faster to build).
    let _ = rustls::crypto::ring::default_provider().install_default();
    // A `.env` in the working directory fills the tool's variables that are not already set,
    // except those that would change where requests go.
    let env_file = env_file::read(Path::new(".env"), |key| std::env::var_os(key).is_some());
    for (key, value) in &env_file.apply {
        // SAFETY: no other thread exists yet (the runtime is built below), so nothing can be
        // reading the environment while it changes.
        unsafe { std::env::set_var(key, value) };
    }
    // The process's streams, made once: every command, the simulator, generated help and the
    // error report write through them.
    let streams = Streams::system();
    let cli = cli::parse(&streams);
    logging::init(cli.verbose(), cli.quiet());
    if let Some(notice) = env_file.notice()
        && !cli.quiet()
    {
        streams.write_err_line(&notice);
    }
    // Worker threads decode report pages in parallel while the writer streams rows out.
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            let error = anyhow::Error::new(e).context("starting the runtime");
            return exit::report(Err(error), &streams);
        }
    };
    let outcome = runtime.block_on(async {
        // Signal handlers first: the command may create its output file before it first waits.
        let stopped = signals::first();
        tokio::select! {
            result = cli::run(cli, &streams) => Ok(result),
            stop = stopped => Err(stop),
        }
    });
    // A stopped run's work is dropped by now (temporary files removed, open windows rolled
    // back): what is said is what remains.
    let result = match outcome {
        Ok(result) => result,
        Err(stop) => {
            for note in tiktok_ads::report::tasks::unfinished_tasks() {
                streams.write_err_line(&tiktok_ads::redact::redact(&note));
            }
            let message = cli::stopped::message(stop);
            Err(CliError::Stopped { stop, message }.into())
        }
    };
    exit::report(result, &streams)
}
