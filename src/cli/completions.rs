//! `completions SHELL` and `man`: generated at run time from the same clap definitions, so they
//! never drift from the flags.

use std::io::Write;

use anyhow::Result;
use clap::CommandFactory;

use super::Cli;
use crate::output::{Destination, Streams};

/// Generated text goes where data goes: stdout, or `-o FILE` (written atomically). These
/// commands need no settings, so they run before any configuration is read.
fn destination(output: Option<&std::path::Path>, streams: &Streams) -> Result<Destination> {
    match output.filter(|p| p.as_os_str() != "-") {
        Some(path) => {
            Destination::check(path).map_err(super::errors::usage)?;
            Destination::file(path)
        }
        None => Ok(Destination::stream(streams.stdout())),
    }
}

pub(crate) fn completions(
    shell: clap_complete::Shell,
    output: Option<&std::path::Path>,
    streams: &Streams,
) -> Result<()> {
    let mut command = Cli::command();
    // Rendered into memory first: clap_complete panics on a closed pipe, a write here returns
    // the error (and `| head` exits 0).
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "tiktok-ads", &mut script);
    let mut out = destination(output, streams)?;
    out.write_all(&script)?;
    out.commit()
}

pub(crate) fn man(output: Option<&std::path::Path>, streams: &Streams) -> Result<()> {
    let command = Cli::command();
    let mut page = Vec::new();
    clap_mangen::Man::new(command).render(&mut page)?;
    let mut out = destination(output, streams)?;
    out.write_all(&page)?;
    out.commit()
}

/// Every page (the tool and each subcommand, as `tiktok-ads-report-run.1`) into `dir`.
pub(crate) fn man_pages(dir: &std::path::Path) -> Result<()> {
    use anyhow::Context as _;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    clap_mangen::generate_to(Cli::command(), dir)
        .with_context(|| format!("writing the man pages into {}", dir.display()))
}
