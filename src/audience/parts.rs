//! Files of hashes as TikTok takes them: one lowercase hex hash per line (or, for several ID
//! kinds, a header line and one row of hashes per line), LF-terminated, at most a part's worth
//! of bytes each (50 MB), with the MD5 of each (its `file_signature`).

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Result;
use md5::{Digest, Md5};

/// A hash and its newline.
pub const LINE_BYTES: u64 = 65;

/// One file of hashes.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    pub lines: u64,
    pub bytes: u64,
    /// With the parts written: the file and its MD5 (TikTok's `file_signature`).
    pub path: Option<PathBuf>,
    pub md5: Option<String>,
}

/// Writes lines into parts of `part_bytes` (in `dir`; without one, only counts them).
pub struct PartWriter<'d> {
    dir: Option<&'d Path>,
    prefix: &'static str,
    part_bytes: u64,
    /// The line each part starts with (a header naming the columns), if any.
    header: Option<Vec<u8>>,
    parts: Vec<Part>,
    open: Option<(BufWriter<std::fs::File>, Md5)>,
}

impl<'d> PartWriter<'d> {
    pub fn new(dir: Option<&'d Path>, prefix: &'static str, part_bytes: u64) -> Self {
        Self {
            dir,
            prefix,
            part_bytes,
            header: None,
            parts: Vec::new(),
            open: None,
        }
    }

    /// Starts every part with `line` (its newline included).
    pub fn with_header(mut self, line: Vec<u8>) -> Self {
        self.header = Some(line);
        self
    }

    fn close(&mut self) -> Result<()> {
        if let Some((mut out, md5)) = self.open.take() {
            out.flush()?;
            if let Some(last) = self.parts.last_mut() {
                last.md5 = Some(hex::encode(md5.finalize()));
            }
        }
        Ok(())
    }

    /// Adds one hash (32 bytes) as a line.
    pub fn push(&mut self, hash: &[u8; 32]) -> Result<()> {
        let mut line = [0u8; LINE_BYTES as usize];
        hex::encode_to_slice(hash, &mut line[..64]).map_err(|e| anyhow::anyhow!("{e}"))?;
        line[64] = b'\n';
        self.push_line(&line)
    }

    /// Adds one line (hashes and a newline); a part holds at least one.
    pub fn push_line(&mut self, line: &[u8]) -> Result<()> {
        let full = |p: &Part| p.lines > 0 && p.bytes + line.len() as u64 > self.part_bytes;
        if self.parts.last().is_none_or(full) {
            self.close()?;
            let header = self.header.as_deref().unwrap_or_default();
            let mut part = Part {
                lines: 0,
                bytes: header.len() as u64,
                path: None,
                md5: None,
            };
            if let Some(dir) = self.dir {
                let path = dir.join(format!("{}-{:03}.txt", self.prefix, self.parts.len() + 1));
                let mut out = BufWriter::new(std::fs::File::create(&path)?);
                let mut md5 = Md5::new();
                out.write_all(header)?;
                md5.update(header);
                self.open = Some((out, md5));
                part.path = Some(path);
            }
            self.parts.push(part);
        }
        if let Some((out, md5)) = self.open.as_mut() {
            out.write_all(line)?;
            md5.update(line);
        }
        if let Some(part) = self.parts.last_mut() {
            part.lines += 1;
            part.bytes += line.len() as u64;
        }
        Ok(())
    }

    pub fn finish(mut self) -> Result<Vec<Part>> {
        self.close()?;
        Ok(self.parts)
    }
}
