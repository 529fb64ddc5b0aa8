//! Where `report sync` writes: an SQLite file or a PostgreSQL URL, shown without its password
//! wherever it is printed.

use std::path::PathBuf;

/// Where a sync writes.
#[derive(Clone, PartialEq, Eq)]
pub enum Destination {
    Sqlite(PathBuf),
    /// A `postgres://` or `postgresql://` URL (its password is never printed).
    Postgres(String),
}

/// The file `report sync` writes to without `--into`.
pub const DEFAULT_SQLITE: &str = "tiktok-ads.db";

impl Destination {
    pub fn parse(text: &str) -> Result<Self, String> {
        if let Some(path) = text.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err("sqlite: needs a file path (sqlite:tiktok-ads.db)".into());
            }
            return Ok(Destination::Sqlite(PathBuf::from(path)));
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(Destination::Postgres(text.to_string()));
        }
        Err(format!(
            "--into {:?} is not sqlite:PATH or postgres://USER@HOST/DB",
            redact_url(text)
        ))
    }

    /// Whether the URL carries a password (visible in `ps`).
    pub fn has_password(&self) -> bool {
        matches!(self, Destination::Postgres(url)
            if url::Url::parse(url).is_ok_and(|u| u.password().is_some()))
    }

    /// For messages: a PostgreSQL URL without its password.
    pub fn shown(&self) -> String {
        match self {
            Destination::Sqlite(path) => format!("sqlite:{}", path.display()),
            Destination::Postgres(url) => redact_url(url),
        }
    }
}

// Shown without its password wherever it is printed with `{:?}` (clap, logs).
impl std::fmt::Debug for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown())
    }
}

/// A URL with any password replaced by `***`.
pub fn redact_url(text: &str) -> String {
    match url::Url::parse(text) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        Ok(url) => url.to_string(),
        Err(_) => text
            .split_once('@')
            .map_or_else(|| text.to_string(), |(_, host)| format!("***@{host}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_are_read_and_shown_without_passwords() {
        assert_eq!(
            Destination::parse("sqlite:data/t.db"),
            Ok(Destination::Sqlite("data/t.db".into()))
        );
        let pg = Destination::parse("postgres://ads:s3cret@db.example:5432/ads").unwrap();
        assert_eq!(pg.shown(), "postgres://ads:***@db.example:5432/ads");
        assert!(Destination::parse("mysql://x").is_err());
        assert!(!format!("{:?}", Destination::parse("ftp://u:s3cret@h")).contains("s3cret"));
        assert!(!format!("{pg:?}").contains("s3cret"));
        assert!(pg.has_password());
        assert!(
            !Destination::parse("postgres://ads@db/ads")
                .unwrap()
                .has_password()
        );
    }
}
