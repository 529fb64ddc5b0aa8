//! No row twice in a window. A page that shifts while a window is read (rows added or
//! re-ordered between two pages) can repeat one row and skip another, and TikTok's count
//! still matches. Each row's key — its dimensions: the IDs, the time and any breakdowns — is
//! kept as a 64-bit hash while the window is read (8 bytes a row, freed when the window ends;
//! a collision among a million keys has a probability near 10⁻⁸), and a key that came twice
//! makes the window inconsistent before it is marked complete.

use std::hash::{DefaultHasher, Hash, Hasher};

/// The row keys of the window being read.
pub(crate) struct RowKeys {
    /// The leading cells of a row that make its key.
    key_cells: usize,
    hashes: Vec<u64>,
}

impl RowKeys {
    pub(crate) fn new(key_cells: usize) -> Self {
        Self {
            key_cells,
            hashes: Vec::new(),
        }
    }

    pub(crate) fn add(&mut self, cells: &[Option<&str>]) {
        let mut hasher = DefaultHasher::new();
        for cell in cells.iter().take(self.key_cells) {
            cell.hash(&mut hasher);
        }
        self.hashes.push(hasher.finish());
    }

    /// Ends the window: the hash of a key that came twice, if one did. The memory is freed.
    pub(crate) fn finish(&mut self) -> Option<u64> {
        let mut hashes = std::mem::take(&mut self.hashes);
        hashes.sort_unstable();
        hashes.windows(2).find(|w| w[0] == w[1]).map(|w| w[0])
    }
}

/// Why a window with a repeated key is not kept.
pub(crate) fn repeated(hash: u64) -> String {
    format!(
        "TikTok sent a row twice in this window (key hash {hash:016x}): its pages shifted while \
         they were read, so another row may be missing although the count matches; nothing of \
         it was kept — run it again"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_that_comes_twice_is_found_and_metrics_do_not_count() {
        let mut keys = RowKeys::new(2);
        keys.add(&[Some("1"), Some("2025-01-01"), Some("3.00")]);
        keys.add(&[Some("2"), Some("2025-01-01"), Some("3.00")]);
        keys.add(&[Some("1"), Some("2025-01-02"), Some("3.00")]);
        keys.add(&[Some("1"), None, Some("3.00")]);
        assert_eq!(keys.finish(), None, "distinct keys");
        assert!(keys.hashes.capacity() == 0, "freed with the window");
        keys.add(&[Some("1"), Some("2025-01-01"), Some("3.00")]);
        keys.add(&[Some("1"), Some("2025-01-01"), Some("9.99")]);
        assert!(keys.finish().is_some(), "the same key with other metrics");
        // Cells are told apart: ("12", "3") is not ("1", "23").
        keys.add(&[Some("12"), Some("3")]);
        keys.add(&[Some("1"), Some("23")]);
        assert_eq!(keys.finish(), None);
    }
}
