//! Where data goes: stdout, or a file written through a temp file in the same directory and
//! renamed only on success, so a failed run never leaves a partial file behind.

use std::io::{self, BufWriter, Stdout, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub enum Destination {
    Stdout(BufWriter<Stdout>),
    File {
        writer: BufWriter<tempfile::NamedTempFile>,
        path: PathBuf,
    },
}

impl Destination {
    pub fn stdout() -> Self {
        Destination::Stdout(BufWriter::with_capacity(64 * 1024, io::stdout()))
    }

    /// A temp file beside `path`; `commit` renames it into place.
    pub fn file(path: &Path) -> Result<Self> {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let tmp = tempfile::Builder::new()
            .prefix(".tiktok-ads-")
            .suffix(".partial")
            .tempfile_in(&dir)
            .with_context(|| format!("cannot write in {}", dir.display()))?;
        Ok(Destination::File {
            writer: BufWriter::with_capacity(64 * 1024, tmp),
            path: path.to_path_buf(),
        })
    }

    /// Flushes and, for a file, moves it into place. Without this call a file is discarded.
    pub fn commit(self) -> Result<()> {
        match self {
            Destination::Stdout(mut w) => w.flush().context("writing to stdout"),
            Destination::File { writer, path } => {
                let tmp = writer
                    .into_inner()
                    .map_err(|e| e.into_error())
                    .with_context(|| format!("writing {}", path.display()))?;
                tmp.as_file()
                    .sync_all()
                    .with_context(|| format!("writing {}", path.display()))?;
                // Keep the usual permissions of a new file rather than the temp file's 0600.
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    let _ = std::fs::set_permissions(
                        tmp.path(),
                        std::fs::Permissions::from_mode(0o644),
                    );
                }
                tmp.persist(&path)
                    .with_context(|| format!("moving the output into {}", path.display()))?;
                Ok(())
            }
        }
    }
}

impl Write for Destination {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Destination::Stdout(w) => w.write(buf),
            Destination::File { writer, .. } => writer.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Destination::Stdout(w) => w.write_all(buf),
            Destination::File { writer, .. } => writer.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Destination::Stdout(w) => w.flush(),
            Destination::File { writer, .. } => writer.flush(),
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
}
