//! Keeping an audience equal to a customer list across runs: the hashes last sent are kept (a
//! sorted file of hex lines, hashes only), and each run sends only the difference — the
//! hashes added since as APPEND parts, those gone as REMOVE parts — found by merging the two
//! sorted lists, in flat memory. Uploads already accepted are recorded by their MD5, so an
//! interrupted run resumes without sending them again.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};

use super::parts::{Part, PartWriter};
use crate::fsutil;

/// What a sync sends.
pub struct Difference {
    pub added: u64,
    pub removed: u64,
    pub additions: Vec<Part>,
    pub removals: Vec<Part>,
    /// The new record (every hash of the list, sorted), to keep once the sync succeeds.
    pub record: PathBuf,
}

/// Sorted hex lines of `parts`, one after the other (each part is sorted, and parts follow
/// each other in order).
fn lines_of(paths: Vec<PathBuf>) -> impl Iterator<Item = Result<String>> {
    paths.into_iter().flat_map(|path| {
        let reader = std::fs::File::open(&path)
            .map(BufReader::new)
            .with_context(|| format!("reading {}", path.display()));
        let lines: Box<dyn Iterator<Item = Result<String>>> = match reader {
            Ok(r) => Box::new(r.lines().map(|l| l.map_err(Into::into))),
            Err(e) => Box::new(std::iter::once(Err(e))),
        };
        lines
    })
}

/// The difference between the list's parts (`list`, sorted) and the record of the last sync
/// (`record`: none the first time — then everything is an addition), written in `dir`.
pub fn difference(
    list: &[Part],
    record: Option<&Path>,
    dir: &Path,
    part_bytes: u64,
) -> Result<Difference> {
    let new_record = dir.join("record.txt");
    let mut keep = BufWriter::new(std::fs::File::create(&new_record)?);
    let mut additions = PartWriter::new(Some(dir), "append", part_bytes);
    let mut removals = PartWriter::new(Some(dir), "remove", part_bytes);
    let mut new = lines_of(list.iter().filter_map(|p| p.path.clone()).collect()).peekable();
    let mut old = lines_of(record.map(Path::to_path_buf).into_iter().collect()).peekable();
    let (mut added, mut removed) = (0, 0);
    loop {
        let next_new = match new.peek() {
            Some(Ok(l)) => Some(l.clone()),
            Some(Err(_)) => {
                return Err(new
                    .next()
                    .and_then(Result::err)
                    .unwrap_or_else(|| anyhow::anyhow!("reading the list")));
            }
            None => None,
        };
        let next_old = match old.peek() {
            Some(Ok(l)) => Some(l.clone()),
            Some(Err(_)) => {
                return Err(old
                    .next()
                    .and_then(Result::err)
                    .unwrap_or_else(|| anyhow::anyhow!("reading the record")));
            }
            None => None,
        };
        match (next_new, next_old) {
            (None, None) => break,
            (Some(n), Some(o)) if n == o => {
                writeln!(keep, "{n}")?;
                new.next();
                old.next();
            }
            (Some(n), o) if o.as_ref().is_none_or(|o| n < *o) => {
                writeln!(keep, "{n}")?;
                additions.push_line(format!("{n}\n").as_bytes())?;
                added += 1;
                new.next();
            }
            (_, Some(o)) => {
                removals.push_line(format!("{o}\n").as_bytes())?;
                removed += 1;
                old.next();
            }
            (Some(_), None) => unreachable!("handled above"),
        }
    }
    keep.flush()?;
    Ok(Difference {
        added,
        removed,
        additions: additions.finish()?,
        removals: removals.finish()?,
        record: new_record,
    })
}

/// Where a sync of one audience keeps its state.
pub struct Records {
    dir: PathBuf,
}

/// Uploads of a sync under way, by part MD5: what to reuse if it is run again.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Pending {
    pub uploaded: BTreeMap<String, String>,
}

impl Records {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    fn path(&self, advertiser: &str, audience: &str, what: &str) -> PathBuf {
        self.dir.join(format!("{advertiser}-{audience}.{what}"))
    }

    /// The hashes last sent, if any sync of this audience succeeded here.
    pub fn record(&self, advertiser: &str, audience: &str) -> Option<PathBuf> {
        Some(self.path(advertiser, audience, "hashes")).filter(|p| p.exists())
    }

    /// Keeps `new_record` as the audience's record and forgets the sync under way.
    pub fn keep(&self, advertiser: &str, audience: &str, new_record: &Path) -> Result<()> {
        fsutil::create_private_dir(&self.dir)?;
        let target = self.path(advertiser, audience, "hashes");
        let partial = target.with_extension("hashes.partial");
        std::fs::copy(new_record, &partial)
            .with_context(|| format!("keeping the record in {}", self.dir.display()))?;
        // Hashes of customers' IDs: readable by this user only.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&partial, std::fs::Permissions::from_mode(0o600))?;
        }
        std::fs::rename(&partial, &target)?;
        let _ = std::fs::remove_file(self.path(advertiser, audience, "pending.json"));
        Ok(())
    }

    /// Forgets the sync under way (its record is kept elsewhere, in a database).
    pub fn done(&self, advertiser: &str, audience: &str) {
        let _ = std::fs::remove_file(self.path(advertiser, audience, "pending.json"));
    }

    pub fn pending(&self, advertiser: &str, audience: &str) -> Pending {
        std::fs::read_to_string(self.path(advertiser, audience, "pending.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default()
    }

    /// Records an accepted upload (written whole before the next one).
    pub fn uploaded(&self, advertiser: &str, audience: &str, pending: &Pending) -> Result<()> {
        let text = serde_json::to_string(pending)?;
        fsutil::write_private_atomic(
            &self.path(advertiser, audience, "pending.json"),
            text.as_bytes(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(dir: &Path, name: &str, hashes: &[&str]) -> Part {
        let path = dir.join(name);
        let text: String = hashes.iter().map(|h| format!("{h}\n")).collect();
        std::fs::write(&path, &text).unwrap();
        Part {
            lines: hashes.len() as u64,
            bytes: text.len() as u64,
            path: Some(path),
            md5: None,
        }
    }

    #[test]
    fn only_what_changed_is_sent() {
        let dir = tempfile::tempdir().unwrap();
        let h = |c: char| c.to_string().repeat(64);
        let (a, b, c, d) = (h('a'), h('b'), h('c'), h('d'));
        let first = list(dir.path(), "first.txt", &[&a, &b, &c]);
        let out = tempfile::tempdir().unwrap();
        let everything = difference(&[first], None, out.path(), 65 * 10).unwrap();
        assert_eq!((everything.added, everything.removed), (3, 0));
        let record = dir.path().join("record.txt");
        std::fs::copy(&everything.record, &record).unwrap();
        let second = list(dir.path(), "second.txt", &[&b, &c, &d]);
        let out = tempfile::tempdir().unwrap();
        let change = difference(&[second], Some(&record), out.path(), 65 * 10).unwrap();
        assert_eq!((change.added, change.removed), (1, 1));
        let read = |p: &Part| std::fs::read_to_string(p.path.as_ref().unwrap()).unwrap();
        assert_eq!(read(&change.additions[0]), format!("{d}\n"));
        assert_eq!(read(&change.removals[0]), format!("{a}\n"));
        assert_eq!(
            std::fs::read_to_string(&change.record).unwrap(),
            format!("{b}\n{c}\n{d}\n")
        );
    }
}
