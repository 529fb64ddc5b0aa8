//! What every command is handed (gh's factory): the run's [`Settings`], its [`Credentials`],
//! the [`Streams`] every byte passes, and what is built from them — the authenticated client
//! (made once per run), record writers, the progress line, messages on stderr.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context as _, Result};
use secrecy::SecretString;

use super::GlobalArgs;
use super::credentials::{Credentials, ResolvedToken};
use super::settings::Settings;
use crate::api::{Client, RetryListener};
use crate::config::{self, Environment};
use crate::output::{Destination, Format, RecordWriter, Streams};

pub(crate) struct Context {
    pub settings: Settings,
    pub credentials: Credentials,
    /// Standard output, error and input, and which of them are terminals: every byte a
    /// command reads or writes passes here.
    pub streams: Streams,
    /// The authenticated client, made once per run: one token lookup, one TLS setup, and one
    /// pacer shared by every call of the run.
    authed: tokio::sync::OnceCell<(Client, ResolvedToken)>,
    /// The sandbox notice is said once, when the sandbox is first touched.
    sandbox_said: AtomicBool,
    /// Requests of this run waiting for TikTok's quota right now (for the progress line).
    quota_waiting: Arc<AtomicUsize>,
    /// The progress line on screen, if any: lines said meanwhile go above it.
    bar: Arc<std::sync::Mutex<Option<indicatif::ProgressBar>>>,
    /// A quick check of the setup (`auth status`, `auth login --with-token`, `doctor`): every
    /// request gets the short retry budget.
    pub quick: bool,
}

impl Context {
    /// Settings for this process: its streams and the configured config directory.
    pub(crate) fn new(global: GlobalArgs, streams: Streams) -> Result<Self> {
        Self::with(global, streams, config::config_dir()?)
    }

    /// Settings from `global`, with these streams and config directory (tests run commands
    /// in-process this way).
    pub(crate) fn with(global: GlobalArgs, streams: Streams, config_dir: PathBuf) -> Result<Self> {
        let settings = Settings::resolve(global, config_dir)?;
        let credentials = Credentials::new(&settings, streams.clone());
        Ok(Self {
            settings,
            credentials,
            streams,
            authed: tokio::sync::OnceCell::new(),
            sandbox_said: AtomicBool::new(false),
            quota_waiting: Arc::default(),
            bar: Arc::default(),
            quick: false,
        })
    }

    /// A message on stderr, unless `--quiet`: what was adjusted, where things went.
    pub(crate) fn notice(&self, message: &str) {
        if !self.settings.global.quiet {
            self.say(message);
        }
    }

    /// A message on stderr that `--quiet` does not hide: errors (also of one advertiser among
    /// several), and instructions the user must see (the consent URL).
    pub(crate) fn say(&self, message: &str) {
        say_above(&self.bar, &self.streams, message);
    }

    /// A spinner on stderr when it is a terminal and `--quiet` is off; hidden otherwise (cron).
    pub(crate) fn progress(&self) -> indicatif::ProgressBar {
        if !self.streams.err_is_terminal || self.settings.global.quiet {
            return indicatif::ProgressBar::hidden();
        }
        // Redrawn on every tick, so a long wait for quota shows even when nothing else moves.
        let waiting = self.quota_waiting.clone();
        let style = indicatif::ProgressStyle::with_template("{spinner} {msg}{quota}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner())
            .with_key(
                "quota",
                move |_: &indicatif::ProgressState, out: &mut dyn std::fmt::Write| {
                    if waiting.load(Ordering::Relaxed) > 0 {
                        let _ = out.write_str(" · waiting for quota");
                    }
                },
            );
        let bar = indicatif::ProgressBar::new_spinner().with_style(style);
        bar.enable_steady_tick(Duration::from_millis(120));
        *self.bar.lock().unwrap_or_else(|p| p.into_inner()) = Some(bar.clone());
        bar
    }

    /// Asks a question on the terminal and reads the answer; `None` when there is no terminal
    /// to ask on (scripts must say what they want with flags).
    pub(crate) fn ask(&self, question: &str) -> Result<Option<String>> {
        if !(self.streams.in_is_terminal && self.streams.err_is_terminal) {
            return Ok(None);
        }
        self.streams.write_err(question);
        Ok(self
            .streams
            .read_line()
            .context("reading the answer")?
            .or(Some(String::new())))
    }

    /// Asks before a change on a terminal: `Ok(true)` to go on, `Ok(false)` when the answer was
    /// no (said as `declined`). Off a terminal it refuses with `off_terminal` (say which flag
    /// to pass) rather than guess.
    pub(crate) fn confirm(
        &self,
        question: &str,
        off_terminal: &str,
        declined: &str,
    ) -> Result<bool> {
        match self.ask(question)? {
            None => Err(super::errors::usage(off_terminal)),
            Some(answer) if matches!(answer.trim(), "y" | "Y" | "yes") => Ok(true),
            Some(_) => {
                self.notice(declined);
                Ok(false)
            }
        }
    }

    /// Said once per run, when a command first touches the sandbox (its tokens or its API).
    fn note_sandbox(&self) {
        if self.settings.environment == Environment::Sandbox
            && !self.sandbox_said.swap(true, Ordering::Relaxed)
        {
            self.notice(&format!(
                "SANDBOX: calls go to {} (sandbox tokens and ad accounts only)",
                self.settings.base_url
            ));
        }
    }

    /// A client of this run's host and pacing, with `token` (none: calls that take the app's
    /// credentials instead).
    pub(crate) fn client(&self, token: Option<SecretString>) -> Result<Client> {
        self.note_sandbox();
        let mut options = self
            .settings
            .client_options(token, self.quota_waiting.clone())?;
        if self.quick {
            options.retry = options.retry.short();
        }
        // Each retry is said as it happens, on a terminal or not (`-q` keeps it quiet).
        if !self.settings.global.quiet {
            let (bar, streams) = (self.bar.clone(), self.streams.clone());
            options.on_retry = Some(RetryListener(Arc::new(move |retrying| {
                say_above(&bar, &streams, &retrying.to_string());
            })));
        }
        Ok(Client::new(options)?)
    }

    /// The token for this profile and environment (see [`Credentials::token`]).
    pub(crate) async fn token(&self) -> Result<ResolvedToken> {
        self.note_sandbox();
        self.credentials.token().await
    }

    pub(crate) async fn authed_client(&self) -> Result<(Client, ResolvedToken)> {
        let (client, token) = self
            .authed
            .get_or_try_init(|| async {
                let token = self.token().await?;
                let client = self.client(Some(token.token.clone()))?;
                anyhow::Ok((client, token))
            })
            .await?;
        Ok((client.clone(), token.clone()))
    }

    pub(crate) fn format(&self) -> Result<Format> {
        self.settings.format(self.streams.out_is_terminal)
    }

    pub(crate) fn destination(&self) -> Result<Destination> {
        match self.settings.output_file() {
            Some(path) => Destination::file(path),
            None => Ok(Destination::stream(self.streams.stdout())),
        }
    }

    pub(crate) fn record_writer(&self, columns: Vec<String>) -> Result<RecordWriter> {
        let mut writer = RecordWriter::new(self.format()?, columns, self.destination()?)?;
        if self.settings.output_file().is_none() {
            // Rows on standard output stay there if the run is stopped: it must say so.
            let rows = Arc::new(std::sync::atomic::AtomicU64::new(0));
            writer.count_rows_into(rows.clone());
            super::stopped::record(super::stopped::Done::Rows(rows));
        }
        Ok(writer)
    }

    /// Ends a record output; after a file written for someone at a terminal, one line says
    /// what went where.
    pub(crate) fn finish(&self, writer: RecordWriter) -> Result<u64> {
        let rows = writer.finish()?;
        self.say_written(rows);
        Ok(rows)
    }

    /// After a file written for someone at a terminal: how many rows went where.
    pub(crate) fn say_written(&self, rows: u64) {
        if let Some(path) = self.settings.output_file()
            && self.streams.err_is_terminal
        {
            self.notice(&format!(
                "wrote {rows} row{} to {}",
                if rows == 1 { "" } else { "s" },
                path.display()
            ));
        }
    }

    /// Writes plain text (a plan, a report of checks, a value) to the data destination, so
    /// `-o` holds for it like for records.
    pub(crate) fn write_text(&self, text: &str) -> Result<()> {
        let mut out = self.destination()?;
        out.write_all(text.as_bytes())
            .context("writing the output")?;
        out.commit()
    }

    /// The ad accounts the token reaches: TikTok's list when the app's credentials are at hand
    /// (asked for on a terminal when `prompt`), else those recorded at login, with a note.
    pub(crate) async fn reachable_advertisers(
        &self,
        prompt: bool,
    ) -> Result<crate::accounts::Reachable> {
        let (client, token) = self.authed_client().await?;
        let app = self.credentials.app_credentials(prompt).await;
        let recorded = token
            .stored
            .as_ref()
            .map(|s| s.advertiser_ids.clone())
            .unwrap_or_default();
        let found = crate::accounts::reachable(&client, app.as_ref().ok(), &recorded)
            .await
            .context("listing the ad accounts the token reaches")?;
        match (found, app) {
            (Some(found), Err(why)) => {
                self.notice(&format!(
                    "note: {why:#}; using the ad accounts recorded at login instead"
                ));
                Ok(found)
            }
            (Some(found), Ok(_)) => Ok(found),
            (None, Err(why)) => Err(why.context(
                "listing the ad accounts a token reaches needs the app's ID and secret (or a token \
                 stored by `auth login`, which records them)",
            )),
            (None, Ok(_)) => Err(anyhow::anyhow!("no ad account is reachable")),
        }
    }
}

/// A line on stderr, secrets masked; above the progress line while one is drawn.
fn say_above(
    bar: &std::sync::Mutex<Option<indicatif::ProgressBar>>,
    streams: &Streams,
    message: &str,
) {
    let line = crate::redact::redact(message);
    let bar = bar.lock().unwrap_or_else(|p| p.into_inner()).clone();
    match bar.filter(|b| !b.is_finished() && !b.is_hidden()) {
        Some(bar) => bar.suspend(|| streams.write_err_line(&line)),
        None => streams.write_err_line(&line),
    }
}
