//! Settings resolved once per run (flag > env > .env > profile > default) and the things every
//! command needs from them: the client, the token, app credentials, output writers.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context as _, Result};
use secrecy::SecretString;
use url::Url;

use super::GlobalArgs;
use super::errors::{CliError, usage};
use crate::api::oauth::AppCredentials;
use crate::api::pacing::{Limits, PacerOptions, SystemClock, parse_rate};
use crate::api::{Client, ClientOptions, RetryPolicy, ids};
use crate::auth::file::FileStore;
use crate::auth::token::{app_secret_key, token_key};
use crate::auth::{Location, SecretStore, StoredToken};
use crate::config::{self, ConfigFile, Environment, Profile, TokenStoreKind};
use crate::output::{Destination, Format, RecordWriter, Streams};

pub const ACCESS_TOKEN_ENV: &str = "TIKTOK_ACCESS_TOKEN";
pub const APP_SECRET_ENV: &str = "TIKTOK_APP_SECRET";

/// Where the token in use came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    Env,
    /// Held in memory for this run only (the demo).
    Memory,
    Store(Location),
}

impl std::fmt::Display for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenSource::Env => write!(f, "environment ({ACCESS_TOKEN_ENV})"),
            TokenSource::Memory => write!(f, "memory (this run only)"),
            TokenSource::Store(location) => write!(f, "{location}"),
        }
    }
}

#[derive(Clone)]
pub struct ResolvedToken {
    pub token: SecretString,
    pub source: TokenSource,
    pub stored: Option<StoredToken>,
}

pub struct Context {
    pub global: GlobalArgs,
    pub config_dir: PathBuf,
    pub profile: Profile,
    pub environment: Environment,
    pub base_url: Url,
    /// `--base-url` / `TIKTOK_ADS_BASE_URL`, checked; `None` when not set (or set empty).
    pub base_override: Option<Url>,
    /// Standard output, error and input, and which of them are terminals: every byte a
    /// command reads or writes passes here.
    pub streams: Streams,
    /// A token that wins over every store (the demo's, never written anywhere).
    pub token_override: Option<SecretString>,
    /// The authenticated client, made once per run: one token lookup, one TLS setup, and one
    /// pacer shared by every call of the run.
    authed: tokio::sync::OnceCell<(Client, ResolvedToken)>,
    /// The sandbox notice is said once, when the first client is made.
    sandbox_said: std::sync::atomic::AtomicBool,
    /// Requests of this run waiting for TikTok's quota right now (for the progress line).
    pub quota_waiting: Arc<AtomicUsize>,
}

impl Context {
    /// Settings for this process: the real streams and the configured config directory.
    pub fn new(global: GlobalArgs) -> Result<Self> {
        Self::with(global, Streams::system(), config::config_dir()?)
    }

    /// Settings from `global`, with these streams and config directory (tests run commands
    /// in-process this way).
    pub fn with(global: GlobalArgs, streams: Streams, config_dir: PathBuf) -> Result<Self> {
        let profile = ConfigFile::load(&config_dir)?.profile(&global.profile);
        let environment = if global.sandbox {
            Environment::Sandbox
        } else {
            profile.environment.unwrap_or(Environment::Production)
        };
        let base_override = match global.base_url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(crate::api::host::parse_base_url(text).map_err(usage)?),
        };
        let base_url = match &base_override {
            Some(url) => url.clone(),
            None => Url::parse(environment.default_host()).context("built-in host is not a URL")?,
        };
        for id in &global.advertiser {
            check_advertiser_id(id)?;
        }
        let ctx = Self {
            global,
            config_dir,
            profile,
            environment,
            base_url,
            base_override,
            streams,
            token_override: None,
            authed: tokio::sync::OnceCell::new(),
            sandbox_said: std::sync::atomic::AtomicBool::new(false),
            quota_waiting: Arc::default(),
        };
        Ok(ctx)
    }

    pub fn profile_name(&self) -> &str {
        &self.global.profile
    }

    /// A message on stderr, unless `--quiet`: what was adjusted, where things went.
    pub fn notice(&self, message: &str) {
        if !self.global.quiet {
            self.say(message);
        }
    }

    /// A message on stderr that `--quiet` does not hide: errors (also of one advertiser among
    /// several), and instructions the user must see (the consent URL).
    pub fn say(&self, message: &str) {
        self.streams.write_err_line(&crate::redact::redact(message));
    }

    /// A spinner on stderr when it is a terminal and `--quiet` is off; hidden otherwise (cron).
    pub fn progress(&self) -> indicatif::ProgressBar {
        if !self.streams.err_is_terminal || self.global.quiet {
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
        bar
    }

    /// Asks a question on the terminal and reads the answer; `None` when there is no terminal
    /// to ask on (scripts must say what they want with flags).
    pub fn ask(&self, question: &str) -> Result<Option<String>> {
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

    /// The consent page host: the base-URL override, else production (the sandbox has none).
    pub fn consent_base(&self) -> Url {
        match &self.base_override {
            Some(url) => url.clone(),
            None => Url::parse(Environment::Production.default_host())
                .unwrap_or_else(|_| self.base_url.clone()),
        }
    }

    pub fn store_kind(&self) -> TokenStoreKind {
        self.global
            .token_store
            .or(self.profile.token_store)
            .unwrap_or_default()
    }

    pub fn secret_store(&self) -> SecretStore {
        SecretStore::new(self.store_kind(), FileStore::in_dir(&self.config_dir))
    }

    pub fn token_key(&self) -> String {
        token_key(self.environment.as_str(), self.profile_name())
    }

    /// Said once per run, when a command first touches the sandbox (its tokens or its API).
    fn note_sandbox(&self) {
        if self.environment == Environment::Sandbox
            && !self
                .sandbox_said
                .swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            self.notice(&format!(
                "SANDBOX: calls go to {} (sandbox tokens and ad accounts only)",
                self.base_url
            ));
        }
    }

    pub fn client(&self, token: Option<SecretString>) -> Result<Client> {
        self.note_sandbox();
        let mut options = ClientOptions::new(self.base_url.clone());
        options.token = token;
        options.timeout = Duration::from_secs(self.global.timeout);
        options.retry = RetryPolicy {
            max_retries: self.global.max_retries,
            retry_for: Duration::from_secs(self.global.retry_for),
            base_delay: Duration::from_millis(self.global.retry_base_ms),
            ..RetryPolicy::default()
        };
        options.pacing = PacerOptions {
            limits: self.limits()?,
            shared_state: self.pacing_state_file(),
            clock: Arc::new(SystemClock),
            waiting: self.quota_waiting.clone(),
            pause: Duration::from_millis(self.global.retry_base_ms),
        };
        options.deadline = self.global.deadline.map(Duration::from_secs);
        Ok(Client::new(options)?)
    }

    /// TikTok's limits for this environment, with the profile's per-endpoint rates (apps on a
    /// higher tier); `--rate` sets every endpoint.
    pub fn limits(&self) -> Result<Limits> {
        if let Some(rate) = &self.global.rate {
            return Ok(Limits::all(rate.clone()));
        }
        let mut limits = match self.environment {
            Environment::Sandbox => Limits::sandbox(),
            Environment::Production => Limits::basic(),
        };
        for (endpoint, rate) in &self.profile.rate {
            let limit = parse_rate(&rate.to_string())
                .map_err(|e| usage(format!("rate.{endpoint} in the profile: {e}")))?;
            limits = limits.with_limit(endpoint, limit);
        }
        Ok(limits)
    }

    /// The pacing state every process of this app shares: one small file per app, environment
    /// and host under the state directory (none when there is no state directory).
    fn pacing_state_file(&self) -> Option<PathBuf> {
        let dir = config::state_dir().ok()?.join("pacing");
        let app = self.app_id().unwrap_or_else(|| "any-app".to_string());
        let host: String = format!(
            "{}-{}",
            self.base_url.host_str().unwrap_or("host"),
            self.base_url.port_or_known_default().unwrap_or(0)
        )
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
        Some(dir.join(format!("{}-{app}-{host}.json", self.environment)))
    }

    /// The token for this profile and environment: `TIKTOK_ACCESS_TOKEN`, else the store.
    pub async fn token(&self) -> Result<ResolvedToken> {
        self.note_sandbox();
        if let Some(token) = &self.token_override {
            return Ok(ResolvedToken {
                token: token.clone(),
                source: TokenSource::Memory,
                stored: None,
            });
        }
        if let Some(token) = env_nonempty(ACCESS_TOKEN_ENV) {
            crate::redact::register(&token);
            return Ok(ResolvedToken {
                token: SecretString::from(token),
                source: TokenSource::Env,
                stored: None,
            });
        }
        let lookup = self.secret_store().get(&self.token_key()).await?;
        let Some((value, location)) = lookup.found else {
            // Said once and plainly; the keyring's own error (a D-Bus socket path...) is for -v.
            let keyring_note = lookup
                .keyring_problem
                .map(|problem| {
                    tracing::debug!("the OS keyring was not usable: {problem}");
                    "; no OS keyring service was reachable, and the credentials file holds no \
                     token either"
                        .to_string()
                })
                .unwrap_or_default();
            return Err(CliError::NotLoggedIn {
                profile: self.profile_name().to_string(),
                environment: self.environment.to_string(),
                sandbox_flag: if self.environment == Environment::Sandbox {
                    " --sandbox"
                } else {
                    ""
                },
                keyring_note,
            }
            .into());
        };
        // A bare token string (written by hand) is accepted as well as the JSON record.
        let stored = StoredToken::from_json(&value);
        let token = stored
            .as_ref()
            .map(|s| s.access_token.clone())
            .unwrap_or(value);
        crate::redact::register(&token);
        Ok(ResolvedToken {
            token: SecretString::from(token),
            source: TokenSource::Store(location),
            stored,
        })
    }

    pub async fn authed_client(&self) -> Result<(Client, ResolvedToken)> {
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

    pub fn app_id(&self) -> Option<String> {
        self.global
            .app_id
            .clone()
            .filter(|id| !id.trim().is_empty())
            .or_else(|| self.profile.app_id.clone())
    }

    /// App ID and secret. The secret comes from `TIKTOK_APP_SECRET` (or `.env`), else the
    /// profile's stored secret, else a no-echo prompt when `prompt` and stdin is a terminal.
    pub async fn app_credentials(&self, prompt: bool) -> Result<AppCredentials> {
        let app_id = self.app_id().ok_or_else(|| {
            CliError::MissingAppCredentials(
                "no app ID: set TIKTOK_APP_ID, pass --app-id, or run `tiktok-ads config set app_id ID`"
                    .into(),
            )
        })?;
        if !ids::is_valid_id(&app_id) {
            return Err(usage(format!(
                "app ID {app_id:?} is not valid: expected digits only"
            )));
        }
        let secret = match self.app_secret(prompt).await? {
            Some(secret) => secret,
            None => {
                return Err(CliError::MissingAppCredentials(format!(
                    "no app secret: set {APP_SECRET_ENV} (or put it in a .env file), or store it with \
                     `tiktok-ads config set app_secret` (reads stdin)"
                ))
                .into());
            }
        };
        Ok(AppCredentials { app_id, secret })
    }

    /// The app secret if at hand, without failing when it is not.
    pub async fn app_secret(&self, prompt: bool) -> Result<Option<SecretString>> {
        if let Some(secret) = env_nonempty(APP_SECRET_ENV) {
            crate::redact::register(&secret);
            return Ok(Some(SecretString::from(secret)));
        }
        let lookup = self
            .secret_store()
            .get(&app_secret_key(self.profile_name()))
            .await?;
        if let Some((secret, _)) = lookup.found {
            crate::redact::register(&secret);
            return Ok(Some(SecretString::from(secret)));
        }
        if prompt && self.streams.in_is_terminal {
            let secret = rpassword::prompt_password("TikTok app secret (input hidden): ")
                .context("reading the app secret")?;
            let secret = secret.trim().to_string();
            if !secret.is_empty() {
                crate::redact::register(&secret);
                return Ok(Some(SecretString::from(secret)));
            }
        }
        Ok(None)
    }

    /// The one advertiser a command works on: `--advertiser`, else the profile default.
    pub fn advertiser_id(&self) -> Result<String> {
        match self.global.advertiser.as_slice() {
            [one] => Ok(one.clone()),
            [] => self.profile.advertiser_id.clone().ok_or_else(|| {
                usage(
                    "no advertiser: pass --advertiser ID, set TIKTOK_ADVERTISER_ID, or run \
                     `tiktok-ads config set advertiser_id ID` (`tiktok-ads advertiser list` shows the IDs)",
                )
            }),
            _ => Err(usage("this command takes one --advertiser, not several")),
        }
    }

    pub fn format(&self) -> Result<Format> {
        self.global
            .format
            .resolve(self.streams.out_is_terminal, self.output_file())
            .map_err(usage)
    }

    /// The `-o` file, if data goes to one (`-o -` means stdout).
    pub fn output_file(&self) -> Option<&std::path::Path> {
        self.global
            .output
            .as_deref()
            .filter(|path| path.as_os_str() != "-")
    }

    pub fn destination(&self) -> Result<Destination> {
        match self.output_file() {
            Some(path) => Destination::file(path),
            None => Ok(Destination::stream(self.streams.stdout())),
        }
    }

    pub fn record_writer(&self, columns: Vec<String>) -> Result<RecordWriter> {
        RecordWriter::new(self.format()?, columns, self.destination()?)
    }

    /// Ends a record output; after a file written for someone at a terminal, one line says
    /// what went where.
    pub fn finish(&self, writer: RecordWriter) -> Result<u64> {
        let rows = writer.finish()?;
        self.say_written(rows);
        Ok(rows)
    }

    /// After a file written for someone at a terminal: how many rows went where.
    pub fn say_written(&self, rows: u64) {
        if let Some(path) = self.output_file()
            && self.streams.err_is_terminal
        {
            self.notice(&format!(
                "wrote {rows} row{} to {}",
                if rows == 1 { "" } else { "s" },
                path.display()
            ));
        }
    }

    /// The ad accounts the token reaches: TikTok's list when the app's credentials are at hand
    /// (asked for on a terminal when `prompt`), else those recorded at login, with a note.
    pub async fn reachable_advertisers(&self, prompt: bool) -> Result<crate::accounts::Reachable> {
        let (client, token) = self.authed_client().await?;
        let app = self.app_credentials(prompt).await;
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

    /// Writes plain text (a plan, a report of checks, a value) to the data destination, so
    /// `-o` holds for it like for records.
    pub fn write_text(&self, text: &str) -> Result<()> {
        let mut out = self.destination()?;
        out.write_all(text.as_bytes())
            .context("writing the output")?;
        out.commit()
    }

    /// Reads one secret line from stdin (for `--with-token`, `config set app_secret`).
    pub fn read_secret_from_stdin(&self, what: &str) -> Result<SecretString> {
        let text = if self.streams.in_is_terminal {
            rpassword::prompt_password(format!("{what} (input hidden): "))
                .with_context(|| format!("reading the {what}"))?
        } else {
            self.streams
                .read_line()
                .with_context(|| format!("reading the {what} from stdin"))?
                .unwrap_or_default()
        };
        let text = text.trim().to_string();
        if text.is_empty() {
            return Err(usage(format!("no {what} on stdin")));
        }
        crate::redact::register(&text);
        Ok(SecretString::from(text))
    }
}

pub fn check_advertiser_id(id: &str) -> Result<()> {
    if ids::is_valid_id(id) {
        Ok(())
    } else {
        Err(usage(format!(
            "advertiser ID {id:?} is not valid: expected the digits of an ad account ID, e.g. 7301234567890123456"
        )))
    }
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}
