//! Settings resolved once per run — flag > environment (and `.env`) > profile > default — and
//! what follows from them alone: the environment and its host, the limits to pace at, the
//! client's options, the one advertiser a command works on, where data goes.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use anyhow::{Context as _, Result};
use secrecy::SecretString;
use url::Url;

use super::GlobalArgs;
use super::errors::usage;
use crate::api::pacing::{Limits, PacerOptions, SharedState, SystemClock, parse_rate};
use crate::api::{ClientOptions, RetryPolicy, ids};
use crate::config::{self, ConfigFile, Environment, Profile, TokenStoreKind};
use crate::config::{PacingDest, parse_pacing};
use crate::output::Format;

pub(crate) struct Settings {
    pub global: GlobalArgs,
    pub config_dir: PathBuf,
    pub profile: Profile,
    pub environment: Environment,
    pub base_url: Url,
    /// `--base-url` / `TIKTOK_ADS_BASE_URL`, checked; `None` when not set (or set empty).
    pub base_override: Option<Url>,
    /// The pacing database of `--pacing postgres://…`, opened once a run (every client of the
    /// run shares its connection, and its notices are said once).
    pacing_table: std::sync::OnceLock<Option<Arc<dyn SharedState>>>,
}

impl Settings {
    /// Settings from `global` and the profile it names in `config_dir`.
    pub(crate) fn resolve(global: GlobalArgs, config_dir: PathBuf) -> Result<Self> {
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
        if let Some(path) = global.output.as_deref().filter(|p| p.as_os_str() != "-") {
            crate::output::Destination::check(path).map_err(usage)?;
        }
        Ok(Self {
            global,
            config_dir,
            profile,
            environment,
            base_url,
            base_override,
            pacing_table: std::sync::OnceLock::new(),
        })
    }

    pub(crate) fn profile_name(&self) -> &str {
        &self.global.profile
    }

    /// The consent page host: the base-URL override, else production (the sandbox has none).
    pub(crate) fn consent_base(&self) -> Url {
        match &self.base_override {
            Some(url) => url.clone(),
            None => Url::parse(Environment::Production.default_host())
                .unwrap_or_else(|_| self.base_url.clone()),
        }
    }

    /// Whom a token of this run belongs to: the environment, and the host when `--base-url`
    /// replaces TikTok's (`production@http://127.0.0.1:8080`). A token is stored under it and
    /// only ever read back for it, so a simulator's token never reaches TikTok, nor a real
    /// token a simulator; tokens stored before hosts were kept apart are production's.
    pub(crate) fn token_realm(&self) -> String {
        match self.overridden_origin() {
            Some(origin) => format!("{}@{origin}", self.environment),
            None => self.environment.to_string(),
        }
    }

    /// The realm as a person reads it: `production (https://business-api.tiktok.com)`, or
    /// `production at http://127.0.0.1:8080`.
    pub(crate) fn realm_shown(&self) -> String {
        match self.overridden_origin() {
            Some(origin) => format!("{} at {origin}", self.environment),
            None => format!(
                "{} ({})",
                self.environment,
                self.base_url.origin().ascii_serialization()
            ),
        }
    }

    /// The host that `--base-url` put in TikTok's place, if any.
    fn overridden_origin(&self) -> Option<String> {
        self.base_override
            .as_ref()
            .map(|url| url.origin().ascii_serialization())
    }

    pub(crate) fn store_kind(&self) -> TokenStoreKind {
        self.global
            .token_store
            .or(self.profile.token_store)
            .unwrap_or_default()
    }

    pub(crate) fn app_id(&self) -> Option<String> {
        self.global
            .app_id
            .clone()
            .filter(|id| !id.trim().is_empty())
            .or_else(|| self.profile.app_id.clone())
    }

    /// TikTok's limits for this environment, with the profile's per-endpoint rates (apps on a
    /// higher tier); `--rate` sets every endpoint.
    pub(crate) fn limits(&self) -> Result<Limits> {
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

    /// How a client of this run talks to TikTok: host, token, timeouts, retries, pacing (shared
    /// with every process of the app), the run's deadline. `waiting` counts the requests
    /// waiting for quota.
    pub(crate) fn client_options(
        &self,
        token: Option<SecretString>,
        waiting: Arc<AtomicUsize>,
    ) -> Result<ClientOptions> {
        let mut options = ClientOptions::new(self.base_url.clone());
        options.token = token;
        options.timeout = Duration::from_secs(self.global.timeout);
        options.retry = RetryPolicy {
            max_retries: self.global.max_retries,
            retry_for: Duration::from_secs(self.global.retry_for),
            base_delay: Duration::from_millis(self.global.retry_base_ms),
            ..RetryPolicy::default()
        };
        // A database asked for but unusable leaves this run pacing alone (as it says).
        let (shared_state, shared_store) = match self.pacing_dest()? {
            PacingDest::File => (self.pacing_state_file(), None),
            PacingDest::Postgres(url) => (None, self.pacing_table(&url)),
        };
        options.pacing = PacerOptions {
            limits: self.limits()?,
            shared_state,
            shared_store,
            clock: Arc::new(SystemClock),
            waiting,
            pause: Duration::from_millis(self.global.retry_base_ms),
        };
        options.deadline = self.global.deadline.map(Duration::from_secs);
        Ok(options)
    }

    /// Where the pacing state lives: `--pacing`, `TIKTOK_ADS_PACING` or the profile's
    /// `pacing`; `file` (the default) unless one says a database.
    pub(crate) fn pacing_dest(&self) -> Result<PacingDest> {
        match (&self.global.pacing, &self.profile.pacing) {
            (Some(dest), _) => Ok(dest.clone()),
            (None, Some(text)) => {
                parse_pacing(text).map_err(|e| usage(format!("pacing in the profile: {e}")))
            }
            (None, None) => Ok(PacingDest::File),
        }
    }

    /// The app's row of the pacing table at `url` (`None` when the database cannot be used:
    /// then the run paces alone, after one notice).
    fn pacing_table(&self, url: &str) -> Option<Arc<dyn SharedState>> {
        self.pacing_table
            .get_or_init(|| {
                if url::Url::parse(url).is_ok_and(|u| u.password().is_some()) {
                    tracing::warn!(
                        "a password in --pacing shows in `ps` to every user of this machine \
                         and in shell history: prefer PGPASSWORD or ~/.pgpass (0600)"
                    );
                }
                super::pacing::postgres(url, &self.pacing_scope())
            })
            .clone()
    }

    /// What one app's pacing state is kept under: its environment, app and host.
    fn pacing_scope(&self) -> String {
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
        format!("{}-{app}-{host}", self.environment)
    }

    /// The pacing state every process of this app shares: one small file per app, environment
    /// and host under the state directory (none when there is no state directory).
    fn pacing_state_file(&self) -> Option<PathBuf> {
        let dir = config::state_dir().ok()?.join("pacing");
        Some(dir.join(format!("{}.state", self.pacing_scope())))
    }

    /// The one advertiser a command works on: `--advertiser`, else the profile default.
    pub(crate) fn advertiser_id(&self) -> Result<String> {
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

    /// The advertisers given (`--advertiser`, else the profile default); none when neither.
    pub(crate) fn advertisers_given(&self) -> Vec<String> {
        if self.global.advertiser.is_empty() {
            self.profile.advertiser_id.clone().into_iter().collect()
        } else {
            self.global.advertiser.clone()
        }
    }

    /// The `-o` file, if data goes to one (`-o -` means stdout).
    pub(crate) fn output_file(&self) -> Option<&Path> {
        self.global
            .output
            .as_deref()
            .filter(|path| path.as_os_str() != "-")
    }

    /// The data format: `--format`, or decided by where data goes (`auto`).
    pub(crate) fn format(&self, out_is_terminal: bool) -> Result<Format> {
        self.global
            .format
            .resolve(out_is_terminal, self.output_file())
            .map_err(usage)
    }
}

pub(crate) fn check_advertiser_id(id: &str) -> Result<()> {
    if ids::is_valid_id(id) {
        Ok(())
    } else {
        Err(usage(format!(
            "advertiser ID {id:?} is not valid: expected the digits of an ad account ID, e.g. 7301234567890123456"
        )))
    }
}
