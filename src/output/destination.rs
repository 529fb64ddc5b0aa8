//! Where data goes: stdout, or `-o FILE`. A regular file (or a new one) is written through a
//! temp file in the directory of its real location and renamed into place only on success,
//! so a failed run never leaves a partial file behind: a symlink keeps pointing at its target,
//! which gets the new content; an existing file keeps its permissions; a new file gets the
//! umask's. Anything that is not a regular file (a FIFO, a terminal, `/dev/null`,
//! `/dev/stdout`) is written directly, never replaced.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};

/// Temp files are named `.tiktok-ads-XXXXXX.partial`; one older than this, left by a killed
/// run (SIGKILL cannot be caught), is removed by the next run writing in the same directory.
const STALE_AFTER: Duration = Duration::from_secs(24 * 3600);
const TEMP_PREFIX: &str = ".tiktok-ads-";
const TEMP_SUFFIX: &str = ".partial";

pub enum Destination {
    /// Standard output (or a captured stream in tests).
    Stream(BufWriter<Box<dyn Write + Send>>),
    File {
        writer: BufWriter<tempfile::NamedTempFile>,
        path: PathBuf,
        /// The mode of the file being replaced, kept.
        keep_mode: Option<std::fs::Permissions>,
    },
    /// A FIFO, a device or another special file, written in place.
    Special {
        writer: BufWriter<std::fs::File>,
        path: PathBuf,
    },
}

impl Destination {
    pub fn stream(out: Box<dyn Write + Send>) -> Self {
        Destination::Stream(BufWriter::with_capacity(64 * 1024, out))
    }

    /// Whether `-o path` can be written at all, checked before any work is done: not a
    /// directory, and in a directory that exists. Says what is wrong.
    pub fn check(path: &Path) -> Result<(), String> {
        let target = resolve_symlinks(path)
            .map_err(|e| format!("-o {}: following the symbolic link: {e}", path.display()))?;
        if target.is_dir() {
            return Err(format!(
                "-o {}: that is a directory, not a file",
                path.display()
            ));
        }
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !dir.is_dir() {
            return Err(format!(
                "-o {}: the directory {} does not exist (create it first, or write elsewhere)",
                path.display(),
                dir.display()
            ));
        }
        Ok(())
    }

    /// Where `-o path` writes: see the module documentation.
    pub fn file(path: &Path) -> Result<Self> {
        let target = resolve_symlinks(path)
            .with_context(|| format!("following the symbolic link {}", path.display()))?;
        let existing = match std::fs::metadata(&target) {
            Ok(meta) => Some(meta),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e).with_context(|| format!("cannot write {}", path.display())),
        };
        if let Some(meta) = &existing {
            if meta.is_dir() {
                anyhow::bail!("{} is a directory", path.display());
            }
            if !meta.is_file() {
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(&target)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                return Ok(Destination::Special {
                    writer: BufWriter::with_capacity(64 * 1024, file),
                    path: path.to_path_buf(),
                });
            }
        }
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut builder = tempfile::Builder::new();
        builder.prefix(TEMP_PREFIX).suffix(TEMP_SUFFIX);
        // A new output file is created like any other: read-write for all, less the umask
        // (which the system applies at creation).
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        let tmp = builder
            .tempfile_in(&dir)
            .with_context(|| format!("cannot write in {}", dir.display()))?;
        remove_stale_partials(&dir, tmp.path());
        Ok(Destination::File {
            writer: BufWriter::with_capacity(64 * 1024, tmp),
            path: target,
            keep_mode: existing.map(|m| m.permissions()),
        })
    }

    /// Flushes and, for a file, moves it into place. Without this call a file is discarded.
    pub fn commit(self) -> Result<()> {
        match self {
            Destination::Stream(mut w) => w.flush().context("writing to stdout"),
            Destination::Special { mut writer, path } => writer
                .flush()
                .with_context(|| format!("writing {}", path.display())),
            Destination::File {
                writer,
                path,
                keep_mode,
            } => {
                let tmp = writer
                    .into_inner()
                    .map_err(|e| e.into_error())
                    .with_context(|| format!("writing {}", path.display()))?;
                if let Some(mode) = keep_mode {
                    tmp.as_file()
                        .set_permissions(mode)
                        .with_context(|| format!("keeping the mode of {}", path.display()))?;
                }
                tmp.as_file()
                    .sync_all()
                    .with_context(|| format!("writing {}", path.display()))?;
                tmp.persist(&path)
                    .with_context(|| format!("moving the output into {}", path.display()))?;
                Ok(())
            }
        }
    }
}

/// The path a chain of symbolic links ends at (which may not exist yet).
fn resolve_symlinks(path: &Path) -> io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = std::fs::read_link(&current)?;
                current = match current.parent() {
                    Some(parent) if target.is_relative() => parent.join(target),
                    _ => target,
                };
            }
            _ => return Ok(current),
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

/// Removes this tool's temp files in `dir` that are more than a day old and belong to the
/// same user as `ours` (a run that was killed outright).
fn remove_stale_partials(dir: &Path, ours: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let owner = |meta: &std::fs::Metadata| {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            Some(meta.uid())
        }
        #[cfg(not(unix))]
        {
            let _ = meta;
            None::<u32>
        }
    };
    let Ok(our_meta) = std::fs::metadata(ours) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !name.starts_with(TEMP_PREFIX) || !name.ends_with(TEMP_SUFFIX) {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        let old = meta
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .is_some_and(|age| age > STALE_AFTER);
        if old && meta.is_file() && owner(&meta) == owner(&our_meta) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

impl Write for Destination {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Destination::Stream(w) => w.write(buf),
            Destination::File { writer, .. } => writer.write(buf),
            Destination::Special { writer, .. } => writer.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Destination::Stream(w) => w.write_all(buf),
            Destination::File { writer, .. } => writer.write_all(buf),
            Destination::Special { writer, .. } => writer.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Destination::Stream(w) => w.flush(),
            Destination::File { writer, .. } => writer.flush(),
            Destination::Special { writer, .. } => writer.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_appears_only_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        let mut dest = Destination::file(&path).unwrap();
        dest.write_all(b"a,b\n").unwrap();
        assert!(!path.exists());
        dest.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a,b\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn dropped_file_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        {
            let mut dest = Destination::file(&path).unwrap();
            dest.write_all(b"partial").unwrap();
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_keeps_pointing_at_its_target_which_keeps_its_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("real")).unwrap();
        let target = dir.path().join("real/report.csv");
        std::fs::write(&target, "old\n").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("latest.csv");
        std::os::unix::fs::symlink("real/report.csv", &link).unwrap();
        let mut dest = Destination::file(&link).unwrap();
        dest.write_all(b"new\n").unwrap();
        dest.commit().unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new\n");
        let mode = std::fs::metadata(&target).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
    }

    #[cfg(unix)]
    #[test]
    fn stale_partials_of_killed_runs_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let stale = dir.path().join(".tiktok-ads-AbCdEf.partial");
        let fresh = dir.path().join(".tiktok-ads-GhIjKl.partial");
        let other = dir.path().join("notes.partial");
        for f in [&stale, &fresh, &other] {
            std::fs::write(f, "x").unwrap();
        }
        let two_days_ago = SystemTime::now() - Duration::from_secs(48 * 3600);
        for f in [&stale, &other] {
            std::fs::File::options()
                .write(true)
                .open(f)
                .unwrap()
                .set_modified(two_days_ago)
                .unwrap();
        }
        let dest = Destination::file(&dir.path().join("out.csv")).unwrap();
        assert!(!stale.exists());
        assert!(fresh.exists() && other.exists());
        drop(dest);
    }
}
