//! Command-line definitions (clap) and one module per command group. Commands orchestrate:
//! they resolve settings, call the API client and hand rows to the output writers.

pub(crate) mod ad;
pub(crate) mod adgroup;
pub(crate) mod advertiser;
pub(crate) mod api;
pub(crate) mod audience;
pub(crate) mod auth;
pub(crate) mod bc;
pub(crate) mod body;
pub(crate) mod bulk;
pub(crate) mod campaign;
pub(crate) mod choices;
pub(crate) mod completions;
pub(crate) mod config;
pub(crate) mod context;
pub(crate) mod creative;
pub(crate) mod credentials;
pub(crate) mod doctor;
pub(crate) mod entity;
pub mod errors;
pub(crate) mod mock;
pub(crate) mod pacing;
pub(crate) mod region;
pub(crate) mod report;
pub(crate) mod review;
pub(crate) mod rules;
pub(crate) mod scope;
pub(crate) mod settings;
pub mod stopped;
pub(crate) mod watch;

use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::config::TokenStoreKind;
use crate::output::FormatChoice;

#[derive(Debug, Parser)]
#[command(
    name = "tiktok-ads",
    version,
    about = "Manage TikTok ads and export reports from the terminal and from cron",
    long_about = None,
    propagate_version = true,
    after_help = "Exit codes: 0 ok, 1 unexpected, 2 usage, 3 authentication needed, \
                  4 rejected by the API, 5 transient failure after retries, 6 partial, \
                  7 database unusable, 8 watch saw an --exit-on event, 130/143/129 stopped by SIGINT/SIGTERM/SIGHUP."
)]
pub struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

impl Cli {
    /// `-v` given this many times (more diagnostics on stderr).
    pub fn verbose(&self) -> u8 {
        self.global.verbose
    }

    /// `-q`: only errors on stderr.
    pub fn quiet(&self) -> bool {
        self.global.quiet
    }
}

/// Options every command takes; help lists them under their own heading, after the command's.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Use TikTok's sandbox (https://sandbox-ads.tiktok.com) instead of production.
    #[arg(long, global = true, env = "TIKTOK_ADS_SANDBOX")]
    pub sandbox: bool,

    /// Replace the API host (and the consent page host); http only for loopback addresses.
    /// An empty value means "not set".
    #[arg(long, global = true, env = "TIKTOK_ADS_BASE_URL", value_name = "URL")]
    pub base_url: Option<String>,

    /// Named profile from the config file.
    #[arg(
        long,
        global = true,
        env = "TIKTOK_ADS_PROFILE",
        default_value = "default",
        value_name = "NAME"
    )]
    pub profile: String,

    /// Developer app ID (the app secret is read from TIKTOK_APP_SECRET, never from a flag).
    #[arg(long, global = true, env = "TIKTOK_APP_ID", value_name = "ID")]
    pub app_id: Option<String>,

    /// Ad account ID(s) for commands that need one (repeat or comma-separate).
    #[arg(
        long,
        global = true,
        env = "TIKTOK_ADVERTISER_ID",
        value_name = "ID",
        value_delimiter = ','
    )]
    pub advertiser: Vec<String>,

    /// Output format: auto = table on a terminal, CSV when piped (or from the -o extension).
    #[arg(
        long,
        global = true,
        env = "TIKTOK_ADS_FORMAT",
        value_name = "FORMAT",
        value_parser = choices::parser(choices::FORMATS),
        default_value = "auto"
    )]
    pub format: FormatChoice,

    /// Write data to FILE (atomically: a failed run leaves no file).
    #[arg(short = 'o', long, global = true, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Log each API call (method, path, status, request_id, timing) and retry on stderr.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Retries of one request after a transient failure (rate limits, 5xx, network, an
    /// answer cut short), at most.
    #[arg(
        long,
        global = true,
        env = "TIKTOK_ADS_MAX_RETRIES",
        default_value_t = 10,
        value_name = "N"
    )]
    pub max_retries: u32,

    /// Keep retrying one request for at most this many seconds (waits grow from 0.5-1 s to
    /// 15-30 s; a server's Retry-After is honoured).
    #[arg(
        long,
        global = true,
        env = "TIKTOK_ADS_RETRY_FOR",
        default_value_t = 120,
        value_name = "SECS"
    )]
    pub retry_for: u64,

    /// Per-request timeout in seconds.
    #[arg(long, global = true, env = "TIKTOK_ADS_TIMEOUT", default_value_t = 60,
          value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,

    /// Pace every endpoint at N requests a second (or N/PERIOD, e.g. 50/10s) instead of
    /// TikTok's published limits [default: 10/s and 600/min per endpoint; sandbox 1/s, 30/min].
    #[arg(long, global = true, env = "TIKTOK_ADS_RATE", value_name = "RATE",
          value_parser = crate::api::pacing::parse_rate)]
    pub rate: Option<crate::api::pacing::EndpointLimit>,

    /// Where the pacing state shared by the app's processes lives: file (a file in the state
    /// directory, the default) or a postgres:// URL, for jobs on several machines or in
    /// containers (password from PGPASSWORD or ~/.pgpass, as for report sync --into).
    #[arg(long, global = true, env = "TIKTOK_ADS_PACING", value_name = "DEST",
          value_parser = crate::config::parse_pacing)]
    pub pacing: Option<crate::config::PacingDest>,

    /// Give up retrying (rate limits included) this many seconds after the start of the run.
    #[arg(long, global = true, env = "TIKTOK_ADS_DEADLINE", value_name = "SECS")]
    pub deadline: Option<u64>,

    /// Where tokens are kept: auto (keyring, else an owner-only file), keyring or file.
    #[arg(
        long,
        global = true,
        env = "TIKTOK_ADS_TOKEN_STORE",
        value_name = "STORE",
        value_parser = choices::parser(choices::TOKEN_STORES)
    )]
    pub token_store: Option<TokenStoreKind>,

    /// First retry waits up to this many milliseconds (doubling after).
    #[arg(
        long,
        global = true,
        env = "TIKTOK_ADS_RETRY_BASE_MS",
        default_value_t = 1000,
        hide = true
    )]
    pub retry_base_ms: u64,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Log in, check and remove tokens.
    #[command(subcommand)]
    Auth(auth::AuthCommand),
    /// Ad accounts the token reaches.
    #[command(subcommand)]
    Advertiser(advertiser::AdvertiserCommand),
    /// Campaigns: list, get, create, update, enable, disable, delete.
    #[command(subcommand)]
    Campaign(campaign::CampaignCommand),
    /// Ad groups: list, get, create, update, enable, disable, delete.
    #[command(subcommand)]
    Adgroup(adgroup::AdgroupCommand),
    /// Ads: list, get, create, update, enable, disable, delete.
    #[command(subcommand)]
    Ad(ad::AdCommand),
    /// Images and videos: upload (once per account, resumable), wait until usable, list, get.
    #[command(subcommand)]
    Creative(creative::CreativeCommand),
    /// Reports: run (streamed, split into allowed date windows, many advertisers) and async tasks.
    #[command(subcommand)]
    Report(report::ReportCommand),
    /// Customer-file audiences: hashed on this machine, uploaded in parts (raw values never leave it).
    #[command(subcommand)]
    Audience(audience::AudienceCommand),
    /// Bulk changes: export the live state, edit it, plan, apply with a journal, undo.
    #[command(subcommand)]
    Bulk(bulk::BulkCommand),
    /// Rules ("pause every ad with CPA over 30 after 3 days"): evaluate, and act with --apply.
    #[command(subcommand)]
    Rules(rules::RulesCommand),
    /// Watch campaigns, ad groups and ads: every change (rejected, out of budget, paused,
    /// edited elsewhere) as an event; `--once` from cron.
    Watch(watch::WatchArgs),
    /// Review state of ads or ad groups, with TikTok's reasons and suggestions.
    Review(review::ReviewArgs),
    /// Business Centers and their ad accounts.
    #[command(subcommand)]
    Bc(bc::BcCommand),
    /// Call any endpoint: `api GET /bc/get/ -f page_size=50` (token, retries and paging included).
    Api(api::ApiArgs),
    /// Location IDs for targeting.
    #[command(subcommand)]
    Region(region::RegionCommand),
    /// Read and change profile settings.
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// Check the setup: config, host, app credentials, keyring, TLS, token, accounts, clock.
    Doctor,
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or write the pages of every command into a directory.
    Man {
        /// Write tiktok-ads.1 and one page per subcommand (tiktok-ads-report-run.1, ...) here,
        /// so the references between them resolve.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Serve a local simulator of the TikTok API (for scripts and tests without credentials).
    Mock(mock::MockArgs),
    /// Try the tool end to end against an in-process simulator: login, campaigns, a report.
    Demo(mock::DemoArgs),
}

/// The command line, parsed. On a usage error the usage line shows what was typed, never
/// values taken from environment variables (clap counts those as given: `--base-url <URL>
/// --app-id <ID>` would appear in a usage the user never wrote).
pub fn parse(streams: &crate::output::Streams) -> Cli {
    let error = match Cli::try_parse() {
        Ok(cli) => return cli,
        Err(error) => error,
    };
    if !error.use_stderr() {
        // --help and --version: clap prints them to stdout and exits 0.
        error.exit();
    }
    let text = without_env_arguments(&error.render().to_string(), &Cli::command());
    streams.write_err(&text);
    std::process::exit(error.exit_code());
}

/// `text` with every `--flag <VALUE>` of an argument whose environment variable is set removed
/// from its `Usage:` lines.
fn without_env_arguments(text: &str, command: &clap::Command) -> String {
    let from_env: Vec<String> = command
        .get_arguments()
        .filter(|arg| {
            arg.get_env()
                .is_some_and(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()))
        })
        .filter_map(|arg| {
            let long = arg.get_long()?;
            Some(match arg.get_value_names().and_then(|v| v.first()) {
                Some(value) => format!(" --{long} <{value}>"),
                None => format!(" --{long}"),
            })
        })
        .collect();
    text.lines()
        .map(|line| {
            if line.starts_with("Usage:") {
                from_env.iter().fold(line.to_string(), |line, shown| {
                    line.replace(shown.as_str(), "")
                })
            } else {
                line.to_string()
            }
        })
        .map(|line| format!("{line}\n"))
        .collect()
}

pub async fn run(cli: Cli, streams: &crate::output::Streams) -> anyhow::Result<()> {
    // Generated help needs no settings, no config file and no keyring.
    match cli.command {
        Command::Completions { shell } => {
            return completions::completions(shell, cli.global.output.as_deref(), streams);
        }
        Command::Man { dir } => {
            return match dir {
                Some(dir) => completions::man_pages(&dir),
                None => completions::man(cli.global.output.as_deref(), streams),
            };
        }
        Command::Mock(args) => return mock::serve(args, streams).await,
        Command::Demo(args) => return mock::demo(cli.global, args, streams).await,
        _ => {}
    }
    let mut ctx = context::Context::new(cli.global, streams.clone())?;
    ctx.quick = quick_check(&cli.command);
    dispatch(&ctx, cli.command).await
}

/// The commands that check the setup rather than do work: a host that does not answer is said
/// after the short retry budget (about 10 s), not after minutes.
fn quick_check(command: &Command) -> bool {
    match command {
        Command::Doctor => true,
        Command::Auth(auth::AuthCommand::Status) => true,
        Command::Auth(auth::AuthCommand::Login(args)) => args.with_token,
        _ => false,
    }
}

/// Runs a command that needs settings, with the context it is given (the process's, or one
/// with captured streams in tests).
pub(crate) async fn dispatch(ctx: &context::Context, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Auth(cmd) => auth::run(ctx, cmd).await,
        Command::Advertiser(cmd) => advertiser::run(ctx, cmd).await,
        Command::Campaign(cmd) => {
            entity::run(
                ctx,
                &campaign::ENTITY,
                cmd,
                campaign::create,
                campaign::update,
            )
            .await
        }
        Command::Adgroup(cmd) => {
            entity::run(ctx, &adgroup::ENTITY, cmd, adgroup::create, adgroup::update).await
        }
        Command::Ad(cmd) => entity::run(ctx, &ad::ENTITY, cmd, ad::create, ad::update).await,
        Command::Region(cmd) => region::run(ctx, cmd).await,
        Command::Creative(cmd) => creative::run(ctx, cmd).await,
        Command::Watch(args) => watch::run(ctx, args).await,
        Command::Bulk(cmd) => bulk::run(ctx, cmd).await,
        Command::Audience(cmd) => audience::run(ctx, cmd).await,
        Command::Rules(cmd) => rules::run(ctx, cmd).await,
        Command::Review(args) => review::run(ctx, args).await,
        Command::Bc(cmd) => bc::run(ctx, cmd).await,
        Command::Api(args) => api::run(ctx, args).await,
        Command::Report(cmd) => report::run(ctx, cmd).await,
        Command::Config(cmd) => config::run(ctx, cmd).await,
        Command::Doctor => doctor::run(ctx).await,
        Command::Completions { .. } | Command::Man { .. } | Command::Mock(_) | Command::Demo(_) => {
            Ok(())
        }
    }
}

#[cfg(test)]
mod in_process_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
