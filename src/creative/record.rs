//! The local record of uploads. TikTok makes a new ID for every upload, even of the same
//! bytes, so this is what keeps a file from being uploaded twice: per host and ad account, the
//! MD5 of every file uploaded and the ID it got, and the chunked uploads under way (so that
//! an interrupted one resumes). One JSON file per account, changed under a lock; a lock per
//! file makes two processes uploading the same file at once upload it once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};

use crate::api::file::MediaKind;
use crate::fsutil::{self, FileLock};

/// A file uploaded to an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub kind: MediaKind,
    /// `video_id` or `image_id`.
    pub id: String,
    pub name: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub material_id: Option<String>,
    /// RFC 3339, UTC.
    pub uploaded_at: String,
}

/// A chunked upload under way: where TikTok's session stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partial {
    pub kind: MediaKind,
    pub name: String,
    pub size: u64,
    pub upload_id: String,
    /// The first byte TikTok has not confirmed.
    pub next_offset: u64,
    /// Where TikTok wants the next chunk to end (its chunk size is its own).
    pub next_end: u64,
    /// Set once the upload is finished and only the bind is left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_id: Option<String>,
    /// Seconds since the Unix epoch (TikTok keeps a session 24 h).
    pub started_at: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Book {
    #[serde(default)]
    files: BTreeMap<String, Entry>,
    #[serde(default)]
    partial: BTreeMap<String, Partial>,
}

/// The records of one host (its directory under the state directory).
#[derive(Debug, Clone)]
pub struct Records {
    dir: PathBuf,
}

impl Records {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// Where they are kept (to say so, and to reset them by removing it).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn book_path(&self, advertiser: &str) -> PathBuf {
        self.dir.join(format!("{advertiser}.json"))
    }

    fn read(&self, advertiser: &str) -> Result<Book> {
        let path = self.book_path(advertiser);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).with_context(|| {
                format!(
                    "{} is not a record of uploads: move it away to start a new one",
                    path.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Book::default()),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Changes the account's record under its lock.
    fn update(&self, advertiser: &str, change: impl FnOnce(&mut Book)) -> Result<()> {
        let path = self.book_path(advertiser);
        let _lock = fsutil::lock(&path)?;
        let mut book = self.read(advertiser)?;
        change(&mut book);
        let text = serde_json::to_string_pretty(&book)?;
        fsutil::write_private_atomic(&path, text.as_bytes())
    }

    /// Every file recorded for the account, by MD5.
    pub fn files(&self, advertiser: &str) -> Result<BTreeMap<String, Entry>> {
        Ok(self.read(advertiser)?.files)
    }

    pub fn get(&self, advertiser: &str, md5: &str) -> Result<Option<Entry>> {
        Ok(self.read(advertiser)?.files.remove(md5))
    }

    /// Records an upload (and ends its chunked session, if any).
    pub fn put(&self, advertiser: &str, md5: &str, entry: Entry) -> Result<()> {
        self.update(advertiser, |book| {
            book.partial.remove(md5);
            book.files.insert(md5.to_string(), entry);
        })
    }

    /// Drops records whose media the account no longer has.
    pub fn forget(&self, advertiser: &str, md5s: &[String]) -> Result<()> {
        self.update(advertiser, |book| {
            for md5 in md5s {
                book.files.remove(md5);
            }
        })
    }

    pub fn partial(&self, advertiser: &str, md5: &str) -> Result<Option<Partial>> {
        Ok(self.read(advertiser)?.partial.remove(md5))
    }

    /// Records where a chunked upload stands (`None`: it is over, or to be started again).
    pub fn set_partial(&self, advertiser: &str, md5: &str, partial: Option<Partial>) -> Result<()> {
        self.update(advertiser, |book| match partial {
            Some(partial) => {
                book.partial.insert(md5.to_string(), partial);
            }
            None => {
                book.partial.remove(md5);
            }
        })
    }

    /// Holds the file's upload for this process: another one uploading the same bytes to the
    /// same account waits here, then finds it recorded. Blocks until the lock is free.
    pub(crate) fn hold(&self, advertiser: &str, md5: &str) -> Result<FileLock> {
        fsutil::lock(&self.dir.join("locks").join(format!("{advertiser}-{md5}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_are_recorded_per_account_and_sessions_end_with_them() {
        let dir = tempfile::tempdir().unwrap();
        let records = Records::new(dir.path().join("uploads"));
        assert_eq!(records.get("1", "abc").unwrap(), None);
        let partial = Partial {
            kind: MediaKind::Video,
            name: "clip".into(),
            size: 100,
            upload_id: "u1".into(),
            next_offset: 40,
            next_end: 80,
            file_id: None,
            started_at: 1,
        };
        records
            .set_partial("1", "abc", Some(partial.clone()))
            .unwrap();
        assert_eq!(records.partial("1", "abc").unwrap(), Some(partial));
        let entry = Entry {
            kind: MediaKind::Video,
            id: "v1".into(),
            name: "clip".into(),
            size: 100,
            material_id: None,
            uploaded_at: "2026-12-07T00:00:00Z".into(),
        };
        records.put("1", "abc", entry.clone()).unwrap();
        assert_eq!(records.get("1", "abc").unwrap(), Some(entry));
        assert_eq!(records.partial("1", "abc").unwrap(), None);
        assert_eq!(records.get("2", "abc").unwrap(), None, "another account");
        records.forget("1", &["abc".into()]).unwrap();
        assert!(records.files("1").unwrap().is_empty());
    }
}
