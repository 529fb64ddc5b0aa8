//! Where each account's last snapshot is kept between runs: one JSON file per host and ad
//! account in the state directory, written atomically, and a lock per account that a run
//! holds from reading the old snapshot until the new one is saved, so two `watch --once` at
//! the same time take turns and never both report the same change.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use super::level::Snapshot;
use crate::fsutil::{self, FileLock};

/// The snapshots of one host (its directory under the state directory).
#[derive(Debug, Clone)]
pub struct Snapshots {
    dir: PathBuf,
}

impl Snapshots {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, advertiser_id: &str) -> PathBuf {
        self.dir.join(format!("{advertiser_id}.json"))
    }

    /// Takes the account's lock, waiting for another run to finish with it (blocks: call it
    /// off the async runtime). A snapshot kept elsewhere, in a database, is guarded by it too.
    pub(crate) fn lock(&self, advertiser_id: &str) -> Result<FileLock> {
        fsutil::lock(&self.path(advertiser_id))
    }

    /// What the last run saved; `None` the first time.
    pub fn read(&self, advertiser_id: &str) -> Result<Option<Snapshot>> {
        let path = self.path(advertiser_id);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some(serde_json::from_str(&text).with_context(|| {
                format!(
                    "{} is not a watch snapshot: remove it to start with a new baseline",
                    path.display()
                )
            })?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Saves the new snapshot (whole, then renamed over the old one). Call it with the lock
    /// held, and only once its events are out: a crash before it repeats them rather than
    /// losing them.
    pub fn write(&self, advertiser_id: &str, snapshot: &Snapshot) -> Result<()> {
        let text = serde_json::to_string(snapshot)?;
        fsutil::write_private_atomic(&self.path(advertiser_id), text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_is_read_back_by_the_next_run_and_accounts_are_apart() {
        let dir = tempfile::tempdir().unwrap();
        let snapshots = Snapshots::new(dir.path().join("watch"));
        let lock = snapshots.lock("7").unwrap();
        assert!(snapshots.read("7").unwrap().is_none());
        let snapshot = Snapshot {
            taken_at: "2026-12-07T00:00:00Z".into(),
            levels: Default::default(),
        };
        snapshots.write("7", &snapshot).unwrap();
        drop(lock);
        assert_eq!(snapshots.read("7").unwrap(), Some(snapshot));
        assert!(snapshots.read("8").unwrap().is_none());
        std::fs::write(dir.path().join("watch/8.json"), "{").unwrap();
        let error = format!("{:#}", snapshots.read("8").unwrap_err());
        assert!(
            error.contains("remove it to start with a new baseline"),
            "{error}"
        );
    }
}
