//! Where secrets (tokens, the app secret) are kept: the OS keyring, or an owner-only file
//! where no keyring is reachable. Every keyring call is bounded by a timeout.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use super::file::FileStore;
use super::keyring;
use crate::config::TokenStoreKind;

/// Longest wait for the OS keyring; a locked keyring with a display can block forever.
pub(crate) const KEYRING_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    #[error("no usable OS keyring: {0}")]
    KeyringUnavailable(String),
    #[error(
        "the OS keyring did not answer within {0} s (is it locked and waiting for an unlock prompt?)"
    )]
    KeyringTimeout(u64),
    #[error(
        "{} can be read by other users (mode {mode:o}); it holds secrets, so it is not used: run \
         `chmod 600 {}` and try again", path.display(), path.display()
    )]
    InsecureFile { path: PathBuf, mode: u32 },
    #[error(
        "{} can be written by other users (mode {mode:o}), who could replace the credentials in \
         it, so it is not used: run `chmod 700 {}` and try again", path.display(), path.display()
    )]
    InsecureDirectory { path: PathBuf, mode: u32 },
    #[error("credentials file {}: {detail}", path.display())]
    File { path: PathBuf, detail: String },
}

/// Where a secret was found or put.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Location {
    Keyring,
    File(PathBuf),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Keyring => write!(f, "OS keyring (service {})", keyring::SERVICE),
            Location::File(path) => write!(f, "file {}", path.display()),
        }
    }
}

/// The result of a read: the value if any, and why the keyring was skipped if it was.
#[derive(Debug, Default)]
pub(crate) struct Lookup {
    pub found: Option<(String, Location)>,
    pub keyring_problem: Option<String>,
}

/// The result of a write: where it went, and why not to the keyring when it fell back.
#[derive(Debug)]
pub(crate) struct Saved {
    pub location: Location,
    pub fallback_reason: Option<String>,
}

pub(crate) struct SecretStore {
    kind: TokenStoreKind,
    file: FileStore,
    timeout: Duration,
}

impl SecretStore {
    pub(crate) fn new(kind: TokenStoreKind, file: FileStore) -> Self {
        Self {
            kind,
            file,
            timeout: KEYRING_TIMEOUT,
        }
    }

    pub(crate) fn file_path(&self) -> PathBuf {
        self.file.path().to_path_buf()
    }

    pub(crate) async fn get(&self, key: &str) -> Result<Lookup, StoreError> {
        let mut lookup = Lookup::default();
        if self.kind != TokenStoreKind::File {
            let owned = key.to_string();
            match self.on_keyring_thread(move || keyring::get(&owned)).await {
                Ok(Some(value)) => {
                    lookup.found = Some((value, Location::Keyring));
                    return Ok(lookup);
                }
                Ok(None) => {}
                Err(e) if self.kind == TokenStoreKind::Auto => {
                    lookup.keyring_problem = Some(e.to_string())
                }
                Err(e) => return Err(e),
            }
        }
        if self.kind != TokenStoreKind::Keyring
            && let Some(value) = self.file.get(key)?
        {
            lookup.found = Some((value, Location::File(self.file_path())));
        }
        Ok(lookup)
    }

    pub(crate) async fn set(&self, key: &str, value: &str) -> Result<Saved, StoreError> {
        let mut fallback_reason = None;
        if self.kind != TokenStoreKind::File {
            let (k, v) = (key.to_string(), value.to_string());
            match self.on_keyring_thread(move || keyring::set(&k, &v)).await {
                Ok(()) => {
                    // A copy left in the file by an earlier fallback would be stale: drop it.
                    if self.kind == TokenStoreKind::Auto {
                        let _ = self.file.delete(key);
                    }
                    return Ok(Saved {
                        location: Location::Keyring,
                        fallback_reason: None,
                    });
                }
                Err(e) if self.kind == TokenStoreKind::Auto => {
                    // Said after "No usable OS keyring": the detail alone, not that again.
                    fallback_reason = Some(match e {
                        StoreError::KeyringUnavailable(detail) => detail,
                        other => other.to_string(),
                    })
                }
                Err(e) => return Err(e),
            }
        }
        self.file.set(key, value)?;
        Ok(Saved {
            location: Location::File(self.file_path()),
            fallback_reason,
        })
    }

    /// Removes `key` from every store this kind covers; returns where it was.
    pub(crate) async fn delete(&self, key: &str) -> Result<Vec<Location>, StoreError> {
        let mut removed = Vec::new();
        if self.kind != TokenStoreKind::File {
            let owned = key.to_string();
            match self
                .on_keyring_thread(move || keyring::delete(&owned))
                .await
            {
                Ok(true) => removed.push(Location::Keyring),
                Ok(false) => {}
                Err(_) if self.kind == TokenStoreKind::Auto => {}
                Err(e) => return Err(e),
            }
        }
        if self.kind != TokenStoreKind::Keyring && self.file.delete(key)? {
            removed.push(Location::File(self.file_path()));
        }
        Ok(removed)
    }

    /// Runs a blocking keyring call on its own thread, abandoning it after the timeout (a
    /// detached thread does not keep the process alive, unlike tokio's blocking pool).
    async fn on_keyring_thread<T, F>(&self, call: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T, String> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let _ = tx.send(call());
        });
        match tokio::time::timeout(self.timeout, rx).await {
            Ok(Ok(Ok(value))) => Ok(value),
            Ok(Ok(Err(e))) => Err(StoreError::KeyringUnavailable(e)),
            Ok(Err(_)) => Err(StoreError::KeyringUnavailable(
                "the keyring call ended without an answer".into(),
            )),
            Err(_) => Err(StoreError::KeyringTimeout(self.timeout.as_secs())),
        }
    }
}
