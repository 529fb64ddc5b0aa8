//! Unique keys of any number of rows in flat memory, in order. Keys (a hash, or a row of
//! hashes) gather in a bounded buffer; a list that outgrows it is spread by leading byte into
//! 256 buckets, each gathered in a small buffer of its own and written, a segment at a time,
//! to one temporary file (hashes only, never raw values). At the end each bucket is read back
//! from its segments, sorted and deduplicated on its own — on a second thread, one bucket
//! ahead of the caller — and handed over in order. SHA-256 hashes spread evenly, so a bucket
//! of a 10-million-row list is about 1.2 MB; a bucket that still outgrows the buffer (one value
//! repeated millions of times, or a list of hundreds of millions) is deduplicated in sorted
//! runs merged from disk and handed over a buffer at a time.
//!
//! One file rather than a file per bucket: creating and removing 512 files a run cost about
//! 0.2 s of CPU in the file system's inode and block bookkeeping (a profile of 10 million rows).

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};

use anyhow::{Context as _, Result};

/// A SHA-256.
pub type Hash = [u8; 32];

/// Hashes held in memory before the list is spread over buckets: 16 MiB.
pub const BUFFER_HASHES: usize = 1 << 19;

const BUCKETS: usize = 256;
/// A bucket's keys gathered before they are written as one segment of the file.
const SEGMENT_BYTES: usize = 16 * 1024;

/// What is deduplicated: a fixed number of bytes each.
pub trait Key: Ord + Send + 'static {
    fn bytes(&self) -> &[u8];
    fn from_bytes(bytes: &[u8]) -> Self;
    /// The bucket of the key; never decreasing in the keys' order, so that buckets taken one
    /// after the other stay in order.
    fn bucket(&self) -> u8;
    /// The keys' order, fast: most keys differ in their first eight bytes.
    fn compare(&self, other: &Self) -> Ordering {
        let prefix = |b: &[u8]| {
            let mut head = [0u8; 8];
            let n = b.len().min(8);
            head[..n].copy_from_slice(&b[..n]);
            u64::from_be_bytes(head)
        };
        let (a, b) = (self.bytes(), other.bytes());
        prefix(a).cmp(&prefix(b)).then_with(|| a.cmp(b))
    }
    /// `keys` in order, each once.
    fn sort_distinct(keys: &mut Vec<Self>)
    where
        Self: Sized,
    {
        sort_then_dedup(keys);
    }
}

fn sort_then_dedup<K: Key>(keys: &mut Vec<K>) {
    keys.sort_unstable_by(K::compare);
    keys.dedup();
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
    fn bucket(&self) -> u8 {
        self[0]
    }
    /// Hashes spread evenly: one counting pass by a leading byte (the first that differs:
    /// a bucket's keys share the first) leaves 256 small runs, each sorted on its own — half
    /// the comparisons of sorting the whole bucket, on runs that fit the cache.
    fn sort_distinct(keys: &mut Vec<Self>) {
        if keys.len() < 4096 {
            return sort_then_dedup(keys);
        }
        let first = keys[0][0];
        let by = usize::from(keys.iter().all(|k| k[0] == first));
        let mut starts = [0usize; 257];
        for key in keys.iter() {
            starts[usize::from(key[by]) + 1] += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        let mut next = starts;
        let mut spread = vec![[0u8; 32]; keys.len()];
        for key in keys.iter() {
            let at = &mut next[usize::from(key[by])];
            spread[*at] = *key;
            *at += 1;
        }
        for run in starts.windows(2) {
            spread[run[0]..run[1]].sort_unstable_by(Self::compare);
        }
        spread.dedup();
        *keys = spread;
    }
}

/// A row of several hashes (`--type multiple`), all rows of one width: cells of a presence
/// byte and a hash.
impl Key for Vec<u8> {
    fn bytes(&self) -> &[u8] {
        self
    }
    fn from_bytes(bytes: &[u8]) -> Self {
        bytes.to_vec()
    }
    fn bucket(&self) -> u8 {
        let (present, first) = (
            self.first().copied().unwrap_or(0),
            self.get(1).copied().unwrap_or(0),
        );
        (present.min(1) << 7) | (first >> 1)
    }
}

pub struct Dedup<K: Key = Hash> {
    buffer: Vec<K>,
    /// Bytes of each key.
    width: usize,
    limit: usize,
    /// Once the buffer overflowed: where its keys went.
    spilled: Option<Spill>,
    /// Those of other deduplications taken in (`absorb`).
    absorbed: Vec<Spill>,
    added: u64,
}

/// Keys spread by bucket into one temporary file.
struct Spill {
    file: File,
    /// Per bucket: keys not yet written.
    pending: Vec<Vec<u8>>,
    /// Per bucket: its segments in the file (offset, length).
    segments: Vec<Vec<(u64, usize)>>,
    end: u64,
    dir: tempfile::TempDir,
}

impl Spill {
    fn new() -> Result<Self> {
        let dir = temporary_dir("tiktok-ads-hashes-")?;
        let file =
            tempfile::tempfile_in(dir.path()).context("writing hashes to a temporary file")?;
        Ok(Self {
            file,
            pending: vec![Vec::new(); BUCKETS],
            segments: vec![Vec::new(); BUCKETS],
            end: 0,
            dir,
        })
    }

    fn add(&mut self, bucket: u8, key: &[u8]) -> Result<()> {
        let pending = &mut self.pending[usize::from(bucket)];
        if pending.capacity() == 0 {
            pending.reserve_exact(SEGMENT_BYTES + key.len());
        }
        pending.extend_from_slice(key);
        if pending.len() >= SEGMENT_BYTES {
            self.write(usize::from(bucket))?;
        }
        Ok(())
    }

    fn write(&mut self, bucket: usize) -> Result<()> {
        let pending = &mut self.pending[bucket];
        if pending.is_empty() {
            return Ok(());
        }
        self.file
            .write_all(pending)
            .context("writing hashes to a temporary file")?;
        self.segments[bucket].push((self.end, pending.len()));
        self.end += pending.len() as u64;
        pending.clear();
        Ok(())
    }

    /// Everything written; the buffers freed.
    fn flush(&mut self) -> Result<()> {
        for bucket in 0..BUCKETS {
            self.write(bucket)?;
        }
        self.pending = vec![Vec::new(); BUCKETS];
        Ok(())
    }

    fn bytes(&self, bucket: usize) -> u64 {
        self.segments[bucket].iter().map(|(_, n)| *n as u64).sum()
    }
}

/// A bucket's segments, across the files holding it, read one after the other.
struct Segments<'s> {
    left: std::vec::IntoIter<(&'s File, u64, usize)>,
    current: Option<std::io::Take<&'s File>>,
}

impl<'s> Segments<'s> {
    fn of(spills: &'s [Spill], bucket: usize) -> Self {
        let all: Vec<(&File, u64, usize)> = spills
            .iter()
            .flat_map(|s| s.segments[bucket].iter().map(|(at, n)| (&s.file, *at, *n)))
            .collect();
        Self {
            left: all.into_iter(),
            current: None,
        }
    }
}

impl Read for Segments<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if let Some(current) = self.current.as_mut() {
                let n = current.read(buf)?;
                if n > 0 || buf.is_empty() {
                    return Ok(n);
                }
            }
            let Some((mut file, at, length)) = self.left.next() else {
                return Ok(0);
            };
            file.seek(SeekFrom::Start(at))?;
            self.current = Some(file.take(length as u64));
        }
    }
}

impl Dedup<Hash> {
    pub fn new(limit: usize) -> Result<Self> {
        Self::with_width(limit, 32)
    }
}

fn temporary_dir(prefix: &str) -> Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .context("creating a temporary directory for hashes")
}

impl<K: Key> Dedup<K> {
    /// Holds up to `limit` keys of `width` bytes in memory.
    pub fn with_width(limit: usize, width: usize) -> Result<Self> {
        Ok(Self {
            buffer: Vec::with_capacity(limit.clamp(1, BUFFER_HASHES)),
            width,
            limit: limit.max(1),
            spilled: None,
            absorbed: Vec::new(),
            added: 0,
        })
    }

    /// Takes in the keys of another deduplication (of the same width), as if added here: two
    /// threads can each fill one and the result is finished once.
    pub fn absorb(&mut self, mut other: Self) -> Result<()> {
        self.added += other.added;
        if other.spilled.is_none() && other.absorbed.is_empty() {
            for key in std::mem::take(&mut other.buffer) {
                self.insert(key)?;
            }
            return Ok(());
        }
        other.spread()?;
        self.spread()?;
        self.absorbed.extend(other.spilled.take());
        self.absorbed.append(&mut other.absorbed);
        Ok(())
    }

    pub fn add(&mut self, key: K) -> Result<()> {
        self.added += 1;
        self.insert(key)
    }

    fn insert(&mut self, key: K) -> Result<()> {
        debug_assert_eq!(key.bytes().len(), self.width);
        // Once spilled, keys go straight to their buckets.
        if let Some(spill) = self.spilled.as_mut() {
            return spill.add(key.bucket(), key.bytes());
        }
        self.buffer.push(key);
        if self.buffer.len() >= self.limit {
            self.spread()?;
        }
        Ok(())
    }

    /// The buffer's keys added to their buckets (and the buffer let go: from here on keys go
    /// to their buckets directly).
    fn spread(&mut self) -> Result<()> {
        if self.spilled.is_none() {
            self.spilled = Some(Spill::new()?);
        }
        if let Some(spill) = self.spilled.as_mut() {
            for key in std::mem::take(&mut self.buffer) {
                spill.add(key.bucket(), key.bytes())?;
            }
        }
        Ok(())
    }

    /// Keys added so far (duplicates included).
    pub fn added(&self) -> u64 {
        self.added
    }

    /// Every distinct key, in order, to `each`.
    pub fn finish(mut self, mut each: impl FnMut(&K) -> Result<()>) -> Result<u64> {
        if self.spilled.is_none() {
            let mut keys = std::mem::take(&mut self.buffer);
            return emit(sorted(&mut keys), &mut each);
        }
        self.spread()?;
        let Some(spill) = self.spilled.take() else {
            return Ok(0);
        };
        let mut spills = vec![spill];
        spills.append(&mut self.absorbed);
        for spill in &mut spills {
            spill.flush()?;
        }
        let (width, limit) = (self.width, self.limit);
        let mut unique = 0;
        std::thread::scope(|scope| -> Result<()> {
            // One bucket sorted ahead on a second thread while the caller takes the last one.
            let (ready, sorted_buckets) = std::sync::mpsc::sync_channel::<Result<Vec<K>>>(1);
            let sorter = std::thread::Builder::new().name("audience-sort".into());
            let spills = &spills;
            sorter.spawn_scoped(scope, move || {
                for bucket in 0..BUCKETS {
                    let mut deliver = |keys: Vec<K>| ready.send(Ok(keys)).is_ok();
                    if let Err(e) = bucket_keys(spills, bucket, width, limit, &mut deliver) {
                        let _ = ready.send(Err(e));
                        return;
                    }
                }
            })?;
            for keys in sorted_buckets {
                unique += emit(&keys?, &mut each)?;
            }
            Ok(())
        })?;
        Ok(unique)
    }
}

fn sorted<K: Key>(keys: &mut Vec<K>) -> &[K] {
    K::sort_distinct(keys);
    keys
}

fn emit<K: Key>(keys: &[K], each: &mut impl FnMut(&K) -> Result<()>) -> Result<u64> {
    for key in keys {
        each(key)?;
    }
    Ok(keys.len() as u64)
}

/// The distinct keys of one bucket, sorted, to `deliver` (in chunks of at most `limit` keys;
/// `deliver` says whether to go on).
fn bucket_keys<K: Key>(
    spills: &[Spill],
    bucket: usize,
    width: usize,
    limit: usize,
    deliver: &mut dyn FnMut(Vec<K>) -> bool,
) -> Result<()> {
    let bytes: u64 = spills.iter().map(|s| s.bytes(bucket)).sum();
    let count = usize::try_from(bytes)? / width;
    if count == 0 {
        return Ok(());
    }
    let mut all = Segments::of(spills, bucket);
    if count > limit {
        return merged_runs(all, width, limit, spills[0].dir.path(), deliver);
    }
    let mut raw = vec![0u8; count * width];
    all.read_exact(&mut raw)?;
    let mut keys: Vec<K> = raw.chunks_exact(width).map(K::from_bytes).collect();
    drop(raw);
    sorted(&mut keys);
    deliver(keys);
    Ok(())
}

/// A bucket bigger than the buffer (a value repeated millions of times): sorted runs of the
/// buffer's size written to disk and merged, each key once.
fn merged_runs<K: Key>(
    file: impl Read,
    width: usize,
    limit: usize,
    dir: &std::path::Path,
    deliver: &mut dyn FnMut(Vec<K>) -> bool,
) -> Result<()> {
    let mut reader = BufReader::new(file);
    let mut runs = Vec::new();
    let mut bytes = vec![0u8; width];
    loop {
        let mut run: Vec<K> = Vec::with_capacity(limit.min(BUFFER_HASHES));
        while run.len() < limit {
            match reader.read_exact(&mut bytes) {
                Ok(()) => run.push(K::from_bytes(&bytes)),
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
                Err(e) => return Err(e.into()),
            }
        }
        if run.is_empty() {
            break;
        }
        let mut out = BufWriter::new(tempfile::tempfile_in(dir).context("writing a run")?);
        for key in sorted(&mut run) {
            out.write_all(key.bytes())?;
        }
        let mut run_file = out.into_inner().map_err(|e| e.into_error())?;
        run_file.rewind()?;
        runs.push(BufReader::new(run_file));
    }
    let mut next = |r: &mut BufReader<File>| -> Result<Option<K>> {
        match r.read_exact(&mut bytes) {
            Ok(()) => Ok(Some(K::from_bytes(&bytes))),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
            Err(e) => Err(e.into()),
        }
    };
    let mut heap = BinaryHeap::new();
    for (i, run) in runs.iter_mut().enumerate() {
        if let Some(key) = next(run)? {
            heap.push(Reverse((key, i)));
        }
    }
    let mut chunk: Vec<K> = Vec::new();
    let mut last: Option<Vec<u8>> = None;
    while let Some(Reverse((key, i))) = heap.pop() {
        if last.as_deref() != Some(key.bytes()) {
            last = Some(key.bytes().to_vec());
            chunk.push(key);
            if chunk.len() >= limit && !deliver(std::mem::take(&mut chunk)) {
                return Ok(());
            }
        }
        if let Some(following) = next(&mut runs[i])? {
            heap.push(Reverse((following, i)));
        }
    }
    if !chunk.is_empty() {
        deliver(chunk);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn distinct<K: Key + Clone>(dedup: Dedup<K>) -> (Vec<K>, u64) {
        let mut seen = Vec::new();
        let unique = dedup
            .finish(|k| {
                seen.push(k.clone());
                Ok(())
            })
            .unwrap();
        (seen, unique)
    }

    #[test]
    fn buckets_give_each_hash_once_in_order() {
        let mut dedup = Dedup::new(3).unwrap();
        for b in [5u8, 1, 5, 9, 1, 2, 9, 7, 5, 200, 0] {
            let mut hash = [b; 32];
            hash[31] = b / 2;
            dedup.add(hash).unwrap();
        }
        assert_eq!(dedup.added(), 11);
        let (seen, unique) = distinct(dedup);
        let firsts: Vec<u8> = seen.iter().map(|h| h[0]).collect();
        assert_eq!(firsts, [0, 1, 2, 5, 7, 9, 200]);
        assert_eq!(unique, 7);
        let small = Dedup::new(100).unwrap();
        assert_eq!(small.finish(|_| Ok(())).unwrap(), 0);
    }

    #[test]
    fn hashes_sorted_by_a_leading_byte_come_out_as_a_full_sort_gives_them() {
        use sha2::Digest as _;
        let hash = |n: u32| -> Hash { sha2::Sha256::digest(n.to_le_bytes()).into() };
        // Keys spread over every leading byte, and keys of one bucket (sharing the first).
        let mixed: Vec<Hash> = (0..20_000).map(|n| hash(n % 15_000)).collect();
        let mut one_bucket: Vec<Hash> = (0..400_000)
            .map(hash)
            .filter(|h| h[0] == 7)
            .chain((0..3_000).map(|_| [7u8; 32]))
            .collect();
        one_bucket.extend((0..50_000).map(hash).filter(|h| h[0] == 7));
        for keys in [mixed, one_bucket] {
            assert!(keys.len() >= 4096, "large enough to be spread");
            let mut expected = keys.clone();
            expected.sort();
            expected.dedup();
            let mut got = keys;
            Hash::sort_distinct(&mut got);
            assert_eq!(got, expected);
        }
    }

    #[test]
    fn a_bucket_bigger_than_the_buffer_is_merged_from_runs() {
        // Every key in bucket 7: 40 keys, 10 distinct, through a buffer of 4.
        let mut dedup = Dedup::new(4).unwrap();
        for n in 0..40u8 {
            let mut hash = [7u8; 32];
            hash[1] = ((u16::from(n) * 7) % 10) as u8;
            dedup.add(hash).unwrap();
        }
        let (seen, unique) = distinct(dedup);
        assert_eq!(unique, 10);
        let seconds: Vec<u8> = seen.iter().map(|h| h[1]).collect();
        assert_eq!(seconds, (0..10).collect::<Vec<u8>>());
    }

    #[test]
    fn two_deduplications_finish_as_one() {
        let hash = |n: u8| {
            let mut h = [n.wrapping_mul(37); 32];
            h[31] = n;
            h
        };
        for (limit, spilled) in [(3, true), (100, false)] {
            let (mut one, mut other) = (Dedup::new(limit).unwrap(), Dedup::new(limit).unwrap());
            for n in 0..20u8 {
                one.add(hash(n % 12)).unwrap();
                other.add(hash(n % 15 + 5)).unwrap();
            }
            one.absorb(other).unwrap();
            assert_eq!(one.added(), 40);
            assert_eq!(one.spilled.is_some(), spilled);
            let (seen, unique) = distinct(one);
            let mut expected: Vec<Hash> = (0..20).map(hash).collect();
            expected.sort();
            assert_eq!((seen, unique), (expected, 20));
        }
    }

    #[test]
    fn rows_stay_in_order_across_buckets() {
        let mut dedup: Dedup<Vec<u8>> = Dedup::with_width(2, 4).unwrap();
        let rows: [[u8; 4]; 6] = [
            [1, 255, 0, 0],
            [0, 0, 1, 9],
            [1, 3, 0, 0],
            [0, 0, 1, 9],
            [1, 2, 1, 1],
            [1, 3, 0, 0],
        ];
        for row in rows {
            dedup.add(row.to_vec()).unwrap();
        }
        let (seen, _) = distinct(dedup);
        let mut expected: Vec<Vec<u8>> = rows.iter().map(|r| r.to_vec()).collect();
        expected.sort();
        expected.dedup();
        assert_eq!(seen, expected);
    }
}
