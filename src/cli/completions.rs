//! `completions SHELL` and `man`: generated at run time from the same clap definitions, so they
//! never drift from the flags.

use std::io::Write;

use anyhow::Result;
use clap::CommandFactory;

use super::Cli;

pub fn completions(shell: clap_complete::Shell) -> Result<()> {
    let mut command = Cli::command();
    // Rendered into memory first: clap_complete panics on a closed pipe, a write here returns
    // the error (and `| head` exits 0).
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "tiktok-ads", &mut script);
    let mut out = std::io::stdout().lock();
    out.write_all(&script)?;
    out.flush()?;
    Ok(())
}

pub fn man() -> Result<()> {
    let command = Cli::command();
    let mut out = std::io::stdout().lock();
    clap_mangen::Man::new(command).render(&mut out)?;
    out.flush()?;
    Ok(())
}
