//! Named profiles in a TOML file under the XDG config directory, and the environment
//! (production / sandbox) with its hosts. Secrets never live here: see `auth::store`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::api::{PRODUCTION_HOST, SANDBOX_HOST};

pub(crate) const CONFIG_DIR_ENV: &str = "TIKTOK_ADS_CONFIG_DIR";
pub(crate) const STATE_DIR_ENV: &str = "TIKTOK_ADS_STATE_DIR";
const CONFIG_FILE: &str = "config.toml";

/// The default redirect URI of `auth login` (it must be registered on the app).
pub(crate) const DEFAULT_REDIRECT_URI: &str = "http://localhost:8080/callback";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Environment {
    Production,
    Sandbox,
}

impl Environment {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Environment::Production => "production",
            Environment::Sandbox => "sandbox",
        }
    }

    pub(crate) fn default_host(self) -> &'static str {
        match self {
            Environment::Production => PRODUCTION_HOST,
            Environment::Sandbox => SANDBOX_HOST,
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Environment {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "production" => Ok(Environment::Production),
            "sandbox" => Ok(Environment::Sandbox),
            other => Err(format!(
                "unknown environment {other:?}: expected production or sandbox"
            )),
        }
    }
}

/// Where `auth login` keeps tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TokenStoreKind {
    /// The OS keyring, falling back to the credentials file when no keyring is reachable.
    #[default]
    Auto,
    /// The OS keyring only.
    Keyring,
    /// The owner-only credentials file only.
    File,
}

impl FromStr for TokenStoreKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(TokenStoreKind::Auto),
            "keyring" => Ok(TokenStoreKind::Keyring),
            "file" => Ok(TokenStoreKind::File),
            other => Err(format!(
                "unknown token store {other:?}: expected auto, keyring or file"
            )),
        }
    }
}

/// One named profile. Every field is optional; flags and environment variables win over it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Profile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advertiser_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<Environment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_store: Option<TokenStoreKind>,
    /// Where the shared pacing state lives: `file` or a `postgres://` URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pacing: Option<String>,
    /// Per-endpoint rates for apps on a higher tier: `rate.report_integrated_get = 30` (a
    /// second) or `"50/10s"`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rate: BTreeMap<String, Rate>,
}

/// Where the shared pacing state lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PacingDest {
    File,
    Postgres(String),
}

pub(crate) fn parse_pacing(text: &str) -> Result<PacingDest, String> {
    let text = text.trim();
    if text == "file" {
        Ok(PacingDest::File)
    } else if text.starts_with("postgres://") || text.starts_with("postgresql://") {
        Ok(PacingDest::Postgres(text.to_string()))
    } else {
        Err("expected file or a postgres:// URL".into())
    }
}

/// A rate as written in the config file: a number (a second) or text such as `"50/10s"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum Rate {
    PerSecond(u32),
    Text(String),
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rate::PerSecond(n) => write!(f, "{n}"),
            Rate::Text(text) => f.write_str(text),
        }
    }
}

/// The keys `config set|get|unset` accepts, with what each holds.
pub(crate) const PROFILE_KEYS: &[(&str, &str)] = &[
    ("app_id", "developer app ID (digits)"),
    (
        "advertiser_id",
        "default ad account for commands that need one",
    ),
    ("environment", "production or sandbox"),
    (
        "redirect_uri",
        "redirect URI registered on the app, used by auth login",
    ),
    ("token_store", "auto, keyring or file"),
    (
        "pacing",
        "where the shared pacing state lives: file, or a postgres:// URL for jobs on several machines",
    ),
    (
        "rate.ENDPOINT",
        "requests a second (or N/PERIOD) for one endpoint, for apps on a higher tier, e.g. rate.report_integrated_get",
    ),
    (
        "app_secret",
        "app secret, kept in the keyring (or credentials file), read from stdin",
    ),
];

impl Profile {
    pub(crate) fn get(&self, key: &str) -> Option<String> {
        match key {
            "app_id" => self.app_id.clone(),
            "advertiser_id" => self.advertiser_id.clone(),
            "environment" => self.environment.map(|e| e.to_string()),
            "redirect_uri" => self.redirect_uri.clone(),
            "token_store" => self.token_store.map(|k| format!("{k:?}").to_lowercase()),
            "pacing" => self.pacing.clone(),
            key => key
                .strip_prefix("rate.")
                .and_then(|endpoint| self.rate.get(endpoint))
                .map(Rate::to_string),
        }
    }

    /// Sets (or with `None` clears) a key after checking its value.
    pub(crate) fn set(&mut self, key: &str, value: Option<&str>) -> Result<(), String> {
        let value = value.map(str::trim);
        match key {
            "app_id" => self.app_id = value.map(check_id).transpose()?,
            "advertiser_id" => self.advertiser_id = value.map(check_id).transpose()?,
            "environment" => self.environment = value.map(str::parse).transpose()?,
            "redirect_uri" => {
                self.redirect_uri = value
                    .map(|v| parse_redirect_uri(v).map(|u| u.to_string()))
                    .transpose()?
            }
            "token_store" => self.token_store = value.map(str::parse).transpose()?,
            "pacing" => {
                if let Some(text) = value {
                    parse_pacing(text)?;
                }
                self.pacing = value.map(str::to_string);
            }
            key if key.starts_with("rate.") && key.len() > "rate.".len() => {
                let endpoint = crate::api::pacing::endpoint_key(&key["rate.".len()..]);
                match value {
                    Some(text) => {
                        crate::api::pacing::parse_rate(text)?;
                        let rate = text
                            .parse()
                            .map(Rate::PerSecond)
                            .unwrap_or_else(|_| Rate::Text(text.to_string()));
                        self.rate.insert(endpoint, rate);
                    }
                    None => {
                        self.rate.remove(&endpoint);
                    }
                }
            }
            other => {
                let known: Vec<_> = PROFILE_KEYS.iter().map(|(k, _)| *k).collect();
                return Err(format!(
                    "unknown key {other:?}: expected one of {}",
                    known.join(", ")
                ));
            }
        }
        Ok(())
    }
}

fn check_id(value: &str) -> Result<String, String> {
    if crate::api::ids::is_valid_id(value) {
        Ok(value.to_string())
    } else {
        Err(format!("{value:?} is not an ID: expected digits only"))
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct ConfigFile {
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

impl ConfigFile {
    pub(crate) fn path(dir: &Path) -> PathBuf {
        dir.join(CONFIG_FILE)
    }

    /// Reads the config file; a missing file is an empty config.
    pub(crate) fn load(dir: &Path) -> Result<Self> {
        let path = Self::path(dir);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        toml::from_str(&text).with_context(|| format!("{} is not valid", path.display()))
    }

    /// Reads, changes and writes the config file as one step, locked against other
    /// tiktok-ads processes changing it at the same time.
    pub(crate) fn update(
        dir: &Path,
        change: impl FnOnce(&mut Self) -> Result<()>,
    ) -> Result<PathBuf> {
        let _lock = crate::fsutil::lock(&Self::path(dir))?;
        let mut config = Self::load(dir)?;
        change(&mut config)?;
        config.save(dir)
    }

    /// Writes the config file atomically (temp file in the same directory, then rename).
    pub(crate) fn save(&self, dir: &Path) -> Result<PathBuf> {
        let text = toml::to_string_pretty(self).context("serializing the config")?;
        let path = Self::path(dir);
        crate::fsutil::write_private_atomic(&path, text.as_bytes())?;
        Ok(path)
    }

    pub(crate) fn profile(&self, name: &str) -> Profile {
        self.profiles.get(name).cloned().unwrap_or_default()
    }
}

/// `TIKTOK_ADS_CONFIG_DIR`, else the XDG config directory (`~/.config/tiktok-ads`).
pub(crate) fn config_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os(CONFIG_DIR_ENV).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    use etcetera::BaseStrategy;
    let strategy = etcetera::choose_base_strategy()
        .context("cannot find the home directory: set TIKTOK_ADS_CONFIG_DIR")?;
    Ok(strategy.config_dir().join("tiktok-ads"))
}

/// `TIKTOK_ADS_STATE_DIR`, else the XDG state directory (`~/.local/state/tiktok-ads`): what
/// the tool remembers between runs that is neither configuration nor secret (async tasks it
/// created, shared pacing).
pub(crate) fn state_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os(STATE_DIR_ENV).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    use etcetera::BaseStrategy;
    let strategy = etcetera::choose_base_strategy()
        .context("cannot find the home directory: set TIKTOK_ADS_STATE_DIR")?;
    Ok(strategy
        .state_dir()
        .unwrap_or_else(|| strategy.data_dir())
        .join("tiktok-ads"))
}

/// Checks a redirect URI for `auth login`.
pub(crate) fn parse_redirect_uri(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| {
        format!("invalid redirect URI {text:?} ({e}): expected e.g. {DEFAULT_REDIRECT_URI}")
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!(
            "invalid redirect URI {text:?}: expected an http(s) URL such as {DEFAULT_REDIRECT_URI}"
        ));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_keys_are_validated() {
        let mut p = Profile::default();
        p.set("app_id", Some("7100000000000000001")).unwrap();
        p.set("environment", Some("sandbox")).unwrap();
        assert_eq!(p.get("environment").as_deref(), Some("sandbox"));
        assert!(p.set("app_id", Some("abc")).is_err());
        assert!(p.set("environment", Some("staging")).is_err());
        assert!(p.set("colour", Some("x")).is_err());
        p.set("app_id", None).unwrap();
        assert_eq!(p.app_id, None);
    }

    #[test]
    fn config_round_trips_through_toml() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = ConfigFile::default();
        let mut p = Profile::default();
        p.set("advertiser_id", Some("7301234567890123456")).unwrap();
        config.profiles.insert("work".into(), p.clone());
        config.save(dir.path()).unwrap();
        let loaded = ConfigFile::load(dir.path()).unwrap();
        assert_eq!(loaded.profile("work"), p);
        assert_eq!(loaded.profile("other"), Profile::default());
    }
}
