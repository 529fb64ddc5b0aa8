//! Atomic, owner-only file writes shared by the config and credentials files, and the lock
//! that makes their read-modify-write safe when several tiktok-ads processes run at once.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// An exclusive advisory lock on `<file>.lock` beside `file`, held until dropped. Readers need
/// none (files are replaced by rename, never rewritten in place); every read-modify-write
/// takes it, so two logins at once cannot lose each other's token. The lock file itself is
/// left in place (removing it would race with a process about to lock it).
pub(crate) struct FileLock {
    _file: std::fs::File,
}

pub(crate) fn lock(file: &Path) -> Result<FileLock> {
    let dir = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    create_private_dir(dir)?;
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    let path: PathBuf = dir.join(name);
    let mut options = std::fs::OpenOptions::new();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let handle = options
        .open(&path)
        .with_context(|| format!("opening the lock {}", path.display()))?;
    handle
        .lock()
        .with_context(|| format!("locking {}", path.display()))?;
    Ok(FileLock { _file: handle })
}

/// An exclusive advisory lock on the file `path` (created when missing), if no other process
/// holds it: `None` then, without waiting.
pub(crate) fn try_lock(path: &Path) -> Result<Option<FileLock>> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let handle = options
        .open(path)
        .with_context(|| format!("opening the lock {}", path.display()))?;
    match handle.try_lock() {
        Ok(()) => Ok(Some(FileLock { _file: handle })),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("locking {}", path.display()))
        }
    }
}

/// Writes `bytes` to `path` through a temp file in the same directory and a rename, so readers
/// never see a half-written file. The file is readable by its owner only (0600), the directory
/// is created 0700 when missing.
pub(crate) fn write_private_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    create_private_dir(dir)?;
    // tempfile creates the file with mode 0600 on Unix.
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .with_context(|| format!("writing {}", path.display()))?;
    tmp.persist(path)
        .with_context(|| format!("replacing {}", path.display()))?;
    Ok(())
}

pub(crate) fn create_private_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))
}
