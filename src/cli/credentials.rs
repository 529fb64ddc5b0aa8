//! The secrets a run needs, looked up when first needed: the access token (a token held in
//! memory for the run, `TIKTOK_ACCESS_TOKEN`, else the token store of this profile and
//! environment) and the app's ID and secret (`TIKTOK_APP_SECRET`, else the store, else a
//! no-echo prompt on a terminal). Every secret found is registered for redaction.

use anyhow::{Context as _, Result};
use secrecy::SecretString;

use super::errors::{CliError, usage};
use super::settings::Settings;
use crate::api::ids;
use crate::api::oauth::AppCredentials;
use crate::auth::file::FileStore;
use crate::auth::token::{app_secret_key, token_key};
use crate::auth::{Location, SecretStore, StoredToken};
use crate::config::Environment;
use crate::output::Streams;

pub(crate) const ACCESS_TOKEN_ENV: &str = "TIKTOK_ACCESS_TOKEN";
pub(crate) const APP_SECRET_ENV: &str = "TIKTOK_APP_SECRET";

/// Where the token in use came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenSource {
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
pub(crate) struct ResolvedToken {
    pub token: SecretString,
    pub source: TokenSource,
    pub stored: Option<StoredToken>,
}

pub(crate) struct Credentials {
    store: SecretStore,
    token_key: String,
    app_secret_key: String,
    app_id: Option<String>,
    profile: String,
    environment: Environment,
    /// Where tokens of this run belong, as a person reads it.
    realm: String,
    streams: Streams,
    /// A token that wins over every store (the demo's, never written anywhere).
    pub token_override: Option<SecretString>,
}

impl Credentials {
    pub(crate) fn new(settings: &Settings, streams: Streams) -> Self {
        Self {
            store: SecretStore::new(
                settings.store_kind(),
                FileStore::in_dir(&settings.config_dir),
            ),
            token_key: token_key(&settings.token_realm(), settings.profile_name()),
            app_secret_key: app_secret_key(settings.profile_name()),
            app_id: settings.app_id(),
            profile: settings.profile_name().to_string(),
            environment: settings.environment,
            realm: settings.realm_shown(),
            streams,
            token_override: None,
        }
    }

    /// Where this profile's secrets are kept.
    pub(crate) fn store(&self) -> &SecretStore {
        &self.store
    }

    /// The store key of this profile's token in this environment.
    pub(crate) fn token_key(&self) -> &str {
        &self.token_key
    }

    /// The token for this profile and environment: `TIKTOK_ACCESS_TOKEN`, else the store.
    pub(crate) async fn token(&self) -> Result<ResolvedToken> {
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
        let lookup = self.store.get(&self.token_key).await?;
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
                profile: self.profile.clone(),
                environment: self.realm.clone(),
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

    /// App ID and secret. The secret comes from `TIKTOK_APP_SECRET` (or `.env`), else the
    /// profile's stored secret, else a no-echo prompt when `prompt` and stdin is a terminal.
    pub(crate) async fn app_credentials(&self, prompt: bool) -> Result<AppCredentials> {
        let app_id = self.app_id.clone().ok_or_else(|| {
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
    pub(crate) async fn app_secret(&self, prompt: bool) -> Result<Option<SecretString>> {
        if let Some(secret) = env_nonempty(APP_SECRET_ENV) {
            crate::redact::register(&secret);
            return Ok(Some(SecretString::from(secret)));
        }
        let lookup = self.store.get(&self.app_secret_key).await?;
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

    /// Reads one secret line from stdin (for `--with-token`, `config set app_secret`).
    pub(crate) fn read_from_stdin(&self, what: &str) -> Result<SecretString> {
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

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}
