//! Connecting to PostgreSQL as libpq would: the password from the URL, `PGPASSWORD` or
//! `~/.pgpass` (only when others cannot read it), TLS with the system's certificates, and errors
//! that say what to change — never the password.

use std::io::BufRead;
use std::str::FromStr;

use anyhow::{Context as _, Result};
use postgres::Config;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::Postgres;
use crate::warehouse::{WarehouseError, redact_url};

/// The advisory lock key of `report sync` (any fixed number; this one spells "tiktok").
pub(super) const LOCK_KEY: i64 = 0x7469_6b74_6f6b;

/// The password of `~/.pgpass` (or `$PGPASSFILE`) for a host, port, database and user, the
/// way libpq reads it: `host:port:database:user:password`, `*` for any, `\` escaping `:`.
pub(super) fn pgpass(host: &str, port: u16, database: &str, user: &str) -> Option<String> {
    let path = pgpass_file()?;
    if loose(&path) {
        return None;
    }
    let file = std::fs::File::open(path).ok()?;
    for line in std::io::BufReader::new(file).lines().map_while(Result::ok) {
        if line.starts_with('#') {
            continue;
        }
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => field.extend(chars.next()),
                ':' if fields.len() < 4 => fields.push(std::mem::take(&mut field)),
                _ => field.push(c),
            }
        }
        fields.push(field);
        if fields.len() != 5 {
            continue;
        }
        let port = port.to_string();
        let wanted = [host, port.as_str(), database, user];
        if fields[..4]
            .iter()
            .zip(wanted)
            .all(|(f, w)| f == "*" || f == w)
        {
            return Some(fields[4].clone());
        }
    }
    None
}

pub(super) fn pgpass_file() -> Option<std::path::PathBuf> {
    std::env::var_os("PGPASSFILE")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".pgpass")))
}

/// Whether others may read the file: libpq ignores such a password file, and so does this.
pub(super) fn loose(path: &std::path::Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

trait PlatformVerifier {
    fn with_platform_verifier_ext() -> Result<rustls::ClientConfig, rustls::Error>;
}

impl PlatformVerifier for rustls::ClientConfig {
    fn with_platform_verifier_ext() -> Result<rustls::ClientConfig, rustls::Error> {
        use rustls_platform_verifier::ConfigVerifierExt;
        rustls::ClientConfig::with_platform_verifier()
    }
}

/// A connection to `url` as every PostgreSQL user of this tool makes one (password sources,
/// TLS, errors without the password), named `application` in `pg_stat_activity`.
pub(crate) fn connect(
    url: &str,
    application: &str,
    timeout: std::time::Duration,
) -> Result<postgres::Client> {
    let shown = redact_url(url);
    let mut config = config(url, &shown)?;
    config.application_name(application);
    config.connect_timeout(timeout);
    let tls = rustls::ClientConfig::with_platform_verifier_ext()
        .map(MakeRustlsConnect::new)
        .map_err(|e| anyhow::anyhow!("setting up TLS for PostgreSQL: {e}"))?;
    Ok(config
        .connect(tls)
        .map_err(|e| not_connected(&e, &config, &shown))?)
}

impl Postgres {
    /// Connects; with `lock`, takes the sync lock or refuses (another sync is writing).
    pub(crate) fn open(url: &str, lock: bool) -> Result<Self> {
        let shown = redact_url(url);
        let config = config(url, &shown)?;
        let tls = rustls::ClientConfig::with_platform_verifier_ext()
            .map(MakeRustlsConnect::new)
            .map_err(|e| anyhow::anyhow!("setting up TLS for PostgreSQL: {e}"))?;
        let mut client = config
            .connect(tls.clone())
            .map_err(|e| not_connected(&e, &config, &shown))?;
        if lock {
            let locked: bool = client
                .query_one("SELECT pg_try_advisory_lock($1)", &[&LOCK_KEY])
                .context("taking the sync lock")?
                .get(0);
            if !locked {
                return Err(WarehouseError::Busy(format!(
                    "another tiktok-ads report sync is writing to {shown} (it holds the advisory \
                     lock): try again when it ends"
                ))
                .into());
            }
        }
        Ok(Self {
            client: Some(client),
            helpers: Vec::new(),
            helpers_tried: false,
            config,
            tls,
            open: None,
        })
    }
}

/// The connection settings of `url`, with the password from `PGPASSWORD` or `~/.pgpass` when
/// the URL has none, a connect timeout, and the name a DBA sees in `pg_stat_activity`.
fn config(url: &str, shown: &str) -> Result<Config, WarehouseError> {
    let mut config = Config::from_str(url)
        .map_err(|e| WarehouseError::Unusable(format!("{shown} is not a PostgreSQL URL: {e}")))?;
    if config.get_password().is_none() {
        let host = match config.get_hosts().first() {
            Some(postgres::config::Host::Tcp(h)) => h.clone(),
            _ => "localhost".to_string(),
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let user = config.get_user().unwrap_or_default().to_string();
        let database = config.get_dbname().unwrap_or(&user).to_string();
        let password = std::env::var("PGPASSWORD")
            .ok()
            .filter(|p| !p.is_empty())
            .or_else(|| pgpass(&host, port, &database, &user));
        if let Some(password) = password {
            config.password(password);
        }
    }
    config.connect_timeout(std::time::Duration::from_secs(10));
    if config.get_application_name().is_none() {
        config.application_name("tiktok-ads report sync");
    }
    Ok(config)
}

/// Why a connection failed, and what to change: a `~/.pgpass` others can read (not read), a
/// server without TLS where the URL asks for it, an untrusted certificate, or the usual
/// suspects. The driver's message never holds the password; the URL is shown without it.
fn not_connected(error: &postgres::Error, config: &Config, shown: &str) -> WarehouseError {
    let detail = std::error::Error::source(error)
        .map_or_else(|| error.to_string(), |cause| format!("{error}: {cause}"));
    let ignored = config
        .get_password()
        .is_none()
        .then(pgpass_file)
        .flatten()
        .filter(|p| loose(p));
    let next: String = if let Some(path) = ignored {
        format!(
            "{} was not read: others may read it, and a password file must be private \
             (chmod 600 {})",
            path.display(),
            path.display()
        )
    } else if detail.contains("does not support TLS") {
        "the URL asks for TLS (sslmode=require) and the server offers none: turn on ssl \
         in the server's configuration, or leave sslmode=require out on a trusted network"
            .into()
    } else if detail.contains("certificate") {
        "the server's certificate is not trusted here: add its CA to the system's \
         certificates (Debian: /usr/local/share/ca-certificates, then \
         update-ca-certificates), or add ?sslmode=disable for a server on a trusted network"
            .into()
    } else {
        "check the host, port, user and password: from the URL, PGPASSWORD or ~/.pgpass".into()
    };
    WarehouseError::Unusable(format!(
        "cannot connect to PostgreSQL at {shown}: {detail} ({next})"
    ))
}
