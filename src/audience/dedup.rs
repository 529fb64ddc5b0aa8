//! Unique hashes of any number of rows in flat memory: hashes gather in a bounded buffer,
//! which is sorted and written to a temporary run (hashes only, never raw values) when full;
//! the runs are merged at the end, each hash once, in order.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{BufReader, BufWriter, Read, Write};

use anyhow::{Context as _, Result};

/// A SHA-256.
pub type Hash = [u8; 32];

/// Hashes held in memory before a run is written: 16 MiB.
pub const BUFFER_HASHES: usize = 1 << 19;

pub struct Dedup {
    buffer: Vec<Hash>,
    limit: usize,
    runs: Vec<std::fs::File>,
    dir: tempfile::TempDir,
    added: u64,
}

impl Dedup {
    pub fn new(limit: usize) -> Result<Self> {
        Ok(Self {
            buffer: Vec::with_capacity(limit.min(BUFFER_HASHES)),
            limit: limit.max(1),
            runs: Vec::new(),
            dir: tempfile::Builder::new()
                .prefix("tiktok-ads-hashes-")
                .tempdir()
                .context("creating a temporary directory for hashes")?,
            added: 0,
        })
    }

    pub fn add(&mut self, hash: Hash) -> Result<()> {
        self.added += 1;
        self.buffer.push(hash);
        if self.buffer.len() >= self.limit {
            self.spill()?;
        }
        Ok(())
    }

    fn spill(&mut self) -> Result<()> {
        self.buffer.sort_unstable();
        self.buffer.dedup();
        let mut file = tempfile::tempfile_in(self.dir.path()).context("writing a run of hashes")?;
        {
            let mut out = BufWriter::new(&mut file);
            for hash in &self.buffer {
                out.write_all(hash)?;
            }
            out.flush()?;
        }
        use std::io::Seek;
        file.rewind()?;
        self.runs.push(file);
        self.buffer.clear();
        Ok(())
    }

    /// Hashes added so far (duplicates included).
    pub fn added(&self) -> u64 {
        self.added
    }

    /// Every distinct hash, in order, to `each`.
    pub fn finish(mut self, mut each: impl FnMut(&Hash) -> Result<()>) -> Result<u64> {
        if self.runs.is_empty() {
            self.buffer.sort_unstable();
            self.buffer.dedup();
            for hash in &self.buffer {
                each(hash)?;
            }
            return Ok(self.buffer.len() as u64);
        }
        if !self.buffer.is_empty() {
            self.spill()?;
        }
        let mut readers: Vec<BufReader<std::fs::File>> = self
            .runs
            .drain(..)
            .map(|f| BufReader::with_capacity(64 * 1024, f))
            .collect();
        let next = |r: &mut BufReader<std::fs::File>| -> Result<Option<Hash>> {
            let mut hash = [0u8; 32];
            match r.read_exact(&mut hash) {
                Ok(()) => Ok(Some(hash)),
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
                Err(e) => Err(e.into()),
            }
        };
        let mut heap = BinaryHeap::new();
        for (i, reader) in readers.iter_mut().enumerate() {
            if let Some(hash) = next(reader)? {
                heap.push(Reverse((hash, i)));
            }
        }
        let mut last: Option<Hash> = None;
        let mut unique = 0;
        while let Some(Reverse((hash, i))) = heap.pop() {
            if last != Some(hash) {
                each(&hash)?;
                unique += 1;
                last = Some(hash);
            }
            if let Some(following) = next(&mut readers[i])? {
                heap.push(Reverse((following, i)));
            }
        }
        Ok(unique)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_merge_into_each_hash_once_in_order() {
        let mut dedup = Dedup::new(3).unwrap();
        for b in [5u8, 1, 5, 9, 1, 2, 9, 7, 5] {
            dedup.add([b; 32]).unwrap();
        }
        assert_eq!(dedup.added(), 9);
        let mut seen = Vec::new();
        let unique = dedup
            .finish(|h| {
                seen.push(h[0]);
                Ok(())
            })
            .unwrap();
        assert_eq!(seen, [1, 2, 5, 7, 9]);
        assert_eq!(unique, 5);
        let small = Dedup::new(100).unwrap();
        assert_eq!(small.finish(|_| Ok(())).unwrap(), 0);
    }
}
