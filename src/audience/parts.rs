//! Files of hashes as TikTok takes them: one lowercase hex hash per line (or, for several ID
//! kinds, a header line and one row of hashes per line), LF-terminated, at most a part's worth
//! of bytes each (50 MB), with the MD5 of each (its `file_signature`). A part's MD5 is taken on
//! a thread of its own once the part is written (read back from the page cache), so that
//! the MD5s of the parts — the slowest step of preparing a long list — run side by side with
//! each other and with the writing of the next part.

use std::collections::VecDeque;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use anyhow::{Context as _, Result};
use md5::{Digest, Md5};

/// A hash and its newline.
pub const LINE_BYTES: u64 = 65;
/// Parts whose MD5 is being taken at once, at most.
const HASHING_AT_ONCE: usize = 2;

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
    open: Option<BufWriter<std::fs::File>>,
    /// The parts whose MD5 is being taken: their index and thread.
    hashing: VecDeque<(usize, JoinHandle<Result<String>>)>,
}

fn md5_of(path: &Path) -> Result<String> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut md5 = Md5::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        match file.read(&mut buffer)? {
            0 => break,
            n => md5.update(&buffer[..n]),
        }
    }
    Ok(hex::encode(md5.finalize()))
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
            hashing: VecDeque::new(),
        }
    }

    /// Starts every part with `line` (its newline included).
    pub fn with_header(mut self, line: Vec<u8>) -> Self {
        self.header = Some(line);
        self
    }

    /// The oldest MD5 being taken, waited for.
    fn collect_one(&mut self) -> Result<()> {
        if let Some((index, thread)) = self.hashing.pop_front() {
            let md5 = thread
                .join()
                .map_err(|_| anyhow::anyhow!("the thread taking a part's MD5 stopped"))??;
            if let Some(part) = self.parts.get_mut(index) {
                part.md5 = Some(md5);
            }
        }
        Ok(())
    }

    /// The open part written out and its MD5 begun.
    fn close(&mut self) -> Result<()> {
        let Some(mut out) = self.open.take() else {
            return Ok(());
        };
        out.flush()?;
        drop(out);
        let index = self.parts.len() - 1;
        if let Some(path) = self.parts.get(index).and_then(|p| p.path.clone()) {
            while self.hashing.len() >= HASHING_AT_ONCE {
                self.collect_one()?;
            }
            let thread = std::thread::Builder::new()
                .name("audience-md5".into())
                .spawn(move || md5_of(&path))?;
            self.hashing.push_back((index, thread));
        }
        Ok(())
    }

    /// Adds one hash (32 bytes) as a line.
    pub fn push(&mut self, hash: &[u8; 32]) -> Result<()> {
        let mut line = [0u8; LINE_BYTES as usize];
        // SIMD hex (`faster-hex`) rather than a table lookup per byte: a 10-million-row list
        // makes 640 MB of hex lines.
        faster_hex::hex_encode(hash, &mut line[..64]).map_err(|e| anyhow::anyhow!("{e}"))?;
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
                let mut out = BufWriter::with_capacity(
                    1 << 20,
                    std::fs::File::create(&path)
                        .with_context(|| format!("writing {}", path.display()))?,
                );
                out.write_all(header)?;
                self.open = Some(out);
                part.path = Some(path);
            }
            self.parts.push(part);
        }
        if let Some(out) = self.open.as_mut() {
            out.write_all(line)?;
        }
        if let Some(part) = self.parts.last_mut() {
            part.lines += 1;
            part.bytes += line.len() as u64;
        }
        Ok(())
    }

    pub fn finish(mut self) -> Result<Vec<Part>> {
        self.close()?;
        while !self.hashing.is_empty() {
            self.collect_one()?;
        }
        Ok(self.parts)
    }
}
