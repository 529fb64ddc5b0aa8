//! Unique keys of any number of rows in flat memory: keys (a hash, or a row of hashes) gather
//! in a bounded buffer, which is sorted and written to a temporary run (hashes only, never raw
//! values) when full; the runs are merged at the end, each key once, in order.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{BufReader, BufWriter, Read, Write};

use anyhow::{Context as _, Result};

/// A SHA-256.
pub type Hash = [u8; 32];

/// Hashes held in memory before a run is written: 16 MiB.
pub const BUFFER_HASHES: usize = 1 << 19;

/// What is deduplicated: a fixed number of bytes each.
pub trait Key: Ord {
    fn bytes(&self) -> &[u8];
    fn from_bytes(bytes: &[u8]) -> Self;
}

impl Key for Hash {
    fn bytes(&self) -> &[u8] {
        self
    }
    fn from_bytes(bytes: &[u8]) -> Self {
        let mut hash = [0u8; 32];
        hash.copy_from_slice(bytes);
        hash
    }
}

/// A row of several hashes (`--type multiple`), all rows of one width.
impl Key for Vec<u8> {
    fn bytes(&self) -> &[u8] {
        self
    }
    fn from_bytes(bytes: &[u8]) -> Self {
        bytes.to_vec()
    }
}

pub struct Dedup<K: Key = Hash> {
    buffer: Vec<K>,
    /// Bytes of each key.
    width: usize,
    limit: usize,
    runs: Vec<std::fs::File>,
    dir: tempfile::TempDir,
    added: u64,
}

impl Dedup<Hash> {
    pub fn new(limit: usize) -> Result<Self> {
        Self::with_width(limit, 32)
    }
}

impl<K: Key> Dedup<K> {
    /// Holds up to `limit` keys of `width` bytes in memory.
    pub fn with_width(limit: usize, width: usize) -> Result<Self> {
        Ok(Self {
            buffer: Vec::with_capacity(limit.min(BUFFER_HASHES)),
            width,
            limit: limit.max(1),
            runs: Vec::new(),
            dir: tempfile::Builder::new()
                .prefix("tiktok-ads-hashes-")
                .tempdir()
                .context("creating a temporary directory for hashes")?,
            added: 0,
        })
    }

    pub fn add(&mut self, key: K) -> Result<()> {
        debug_assert_eq!(key.bytes().len(), self.width);
        self.added += 1;
        self.buffer.push(key);
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
            for key in &self.buffer {
                out.write_all(key.bytes())?;
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

    /// Every distinct key, in order, to `each`.
    pub fn finish(mut self, mut each: impl FnMut(&K) -> Result<()>) -> Result<u64> {
        if self.runs.is_empty() {
            self.buffer.sort_unstable();
            self.buffer.dedup();
            for key in &self.buffer {
                each(key)?;
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
        let mut bytes = vec![0u8; self.width];
        let mut next = |r: &mut BufReader<std::fs::File>| -> Result<Option<K>> {
            match r.read_exact(&mut bytes) {
                Ok(()) => Ok(Some(K::from_bytes(&bytes))),
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
        let mut last: Option<K> = None;
        let mut unique = 0;
        while let Some(Reverse((key, i))) = heap.pop() {
            if last.as_ref() != Some(&key) {
                each(&key)?;
                unique += 1;
                last = Some(key);
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
