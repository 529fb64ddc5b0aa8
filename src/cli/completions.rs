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
    let mut command = visible(&Cli::command());
    // Rendered into memory first: clap_complete panics on a closed pipe, a write here returns
    // the error (and `| head` exits 0).
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, BIN, &mut script);
    let mut script = String::from_utf8_lossy(&script).into_owned();
    if shell == clap_complete::Shell::Bash {
        script = bash_states_named_alike(&script);
    }
    let mut out = destination(output, streams)?;
    out.write_all(script.as_bytes())?;
    out.commit()
}

const BIN: &str = "tiktok-ads";

/// `command` as completions offer it: every subcommand and flag a user may type, without the
/// hidden ones (clap_complete would offer those too).
fn visible(command: &clap::Command) -> clap::Command {
    let mut shown = clap::Command::new(command.get_name().to_string())
        .visible_aliases(command.get_visible_aliases().map(str::to_string));
    if let Some(about) = command.get_about() {
        shown = shown.about(about.clone());
    }
    if let Some(about) = command.get_long_about() {
        shown = shown.long_about(about.clone());
    }
    if let Some(version) = command.get_version() {
        shown = shown.version(version.to_string()).propagate_version(true);
    }
    for arg in command.get_arguments().filter(|a| !a.is_hide_set()) {
        // clap adds its own help and version flags to every command it builds.
        if !matches!(arg.get_id().as_str(), "help" | "version") {
            shown = shown.arg(arg.clone());
        }
    }
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        shown = shown.subcommand(visible(sub));
    }
    shown
}

/// clap_complete's bash script names a subcommand's state `tiktok__ads__subcmd__report` where
/// it is entered and `tiktok__subcmd__ads__subcmd__report` where it is completed (the binary's
/// hyphen spelt two ways), so nothing after the first word completed: one spelling for both.
fn bash_states_named_alike(script: &str) -> String {
    script.replace(&BIN.replace('-', "__subcmd__"), &BIN.replace('-', "__"))
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
