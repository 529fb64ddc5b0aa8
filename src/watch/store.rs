//! Where each account's last snapshot is kept between runs: one JSON file per host and ad
//! account in the state directory, written atomically. A run holds the account's lock from
//! reading the old snapshot until the new one is saved, so two `watch --once` at the same time
//! take turns and never both report the same change.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use super::level::Snapshot;
use crate::fsutil::{self, FileLock};

/// The snapshots of one host (its directory under the state directory).
#[derive(Debug, Clone)]
pub struct Snapshots {
    dir: PathBuf,
}

/// An account's snapshot, held for this run until dropped.
pub struct Held {
    path: PathBuf,
    _lock: FileLock,
    /// What the last run saved; `None` the first time.
    pub previous: Option<Snapshot>,
}

impl Snapshots {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Takes the account's lock (waiting for another run to finish) and reads its snapshot.
    pub fn hold(&self, advertiser_id: &str) -> Result<Held> {
        let path = self.dir.join(format!("{advertiser_id}.json"));
        let lock = fsutil::lock(&path)?;
        let previous = match std::fs::read_to_string(&path) {
            Ok(text) => Some(serde_json::from_str(&text).with_context(|| {
                format!(
                    "{} is not a watch snapshot: remove it to start with a new baseline",
                    path.display()
                )
            })?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        Ok(Held {
            path,
            _lock: lock,
            previous,
        })
    }
}

impl Held {
    /// Saves the new snapshot (whole, then renamed over the old one). Call it only once its
    /// events are out: a crash before it repeats them rather than losing them.
    pub fn save(&mut self, snapshot: &Snapshot) -> Result<()> {
        let text = serde_json::to_string(snapshot)?;
        fsutil::write_private_atomic(&self.path, text.as_bytes())?;
        self.previous = Some(snapshot.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_is_read_back_by_the_next_holder() {
        let dir = tempfile::tempdir().unwrap();
        let snapshots = Snapshots::new(dir.path().join("watch"));
        let mut held = snapshots.hold("7").unwrap();
        assert!(held.previous.is_none());
        let snapshot = Snapshot {
            taken_at: "2026-12-07T00:00:00Z".into(),
            levels: Default::default(),
        };
        held.save(&snapshot).unwrap();
        drop(held);
        assert_eq!(snapshots.hold("7").unwrap().previous, Some(snapshot));
        assert!(snapshots.hold("8").unwrap().previous.is_none());
    }
}
