//! No row twice in a window. A page that shifts while a window is read (rows added or
//! re-ordered between two pages) can repeat one row and skip another, and TikTok's count
//! still matches. Each row's key — its dimensions: the IDs, the time and any breakdowns — is
//! kept as a 64-bit hash while the window is read (8 bytes a row, freed when the window ends;
//! a collision among a million keys has a probability near 10⁻⁸), and a key that came twice
//! makes the window inconsistent before it is marked complete. A repeat within a page or from
//! the page before (how a shift shows) is caught as it arrives and named by its values; one
//! further apart is found when the window's hashes are sorted at its end.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};

/// The row keys of the window being read.
pub(crate) struct RowKeys {
    /// The names of the leading cells of a row that make its key.
    names: Vec<String>,
    hashes: Vec<u64>,
    /// The keys of the page before and of this one, to name a repeat as it arrives.
    previous: HashSet<u64>,
    current: HashSet<u64>,
    /// The first repeated key seen as it arrived, as `name=value` pairs.
    named: Option<String>,
}

/// A key that came twice in a window.
pub(crate) struct Repeated {
    hash: u64,
    key: Option<String>,
}

impl RowKeys {
    pub(crate) fn new(names: Vec<String>) -> Self {
        Self {
            names,
            hashes: Vec::new(),
            previous: HashSet::new(),
            current: HashSet::new(),
            named: None,
        }
    }

    pub(crate) fn add(&mut self, cells: &[Option<&str>]) {
        let key = &cells[..self.names.len().min(cells.len())];
        let mut hasher = DefaultHasher::new();
        for cell in key {
            cell.hash(&mut hasher);
        }
        let hash = hasher.finish();
        self.hashes.push(hash);
        let seen = self.previous.contains(&hash) || !self.current.insert(hash);
        if seen && self.named.is_none() {
            let pairs: Vec<String> = self
                .names
                .iter()
                .zip(key)
                .map(|(name, value)| format!("{name}={}", value.unwrap_or("(none)")))
                .collect();
            self.named = Some(pairs.join(", "));
        }
    }

    /// A page ended: its keys become the page before.
    pub(crate) fn page_done(&mut self) {
        self.previous = std::mem::take(&mut self.current);
    }

    /// Ends the window: a key that came twice, if one did. The memory is freed.
    pub(crate) fn finish(&mut self) -> Option<Repeated> {
        let mut hashes = std::mem::take(&mut self.hashes);
        self.previous = HashSet::new();
        self.current = HashSet::new();
        let named = self.named.take();
        hashes.sort_unstable();
        let hash = hashes.windows(2).find(|w| w[0] == w[1]).map(|w| w[0])?;
        Some(Repeated { hash, key: named })
    }
}

impl Repeated {
    /// Why the window is not kept.
    pub(crate) fn reason(&self) -> String {
        let key = match &self.key {
            Some(pairs) => format!("the row {pairs}"),
            None => format!("a row (key hash {:016x})", self.hash),
        };
        format!(
            "TikTok sent {key} twice in this window: its pages shifted while they were read, so \
             another row may be missing although the count matches; nothing of it was kept — \
             run it again"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> RowKeys {
        RowKeys::new(vec!["ad_id".into(), "stat_time_day".into()])
    }

    #[test]
    fn a_key_that_comes_twice_is_found_and_metrics_do_not_count() {
        let mut keys = keys();
        keys.add(&[Some("1"), Some("2025-01-01"), Some("3.00")]);
        keys.add(&[Some("2"), Some("2025-01-01"), Some("3.00")]);
        keys.add(&[Some("1"), Some("2025-01-02"), Some("3.00")]);
        keys.add(&[Some("1"), None, Some("3.00")]);
        assert!(keys.finish().is_none(), "distinct keys");
        assert!(keys.hashes.capacity() == 0, "freed with the window");
        keys.add(&[Some("1"), Some("2025-01-01"), Some("3.00")]);
        keys.add(&[Some("1"), Some("2025-01-01"), Some("9.99")]);
        assert!(keys.finish().is_some(), "the same key with other metrics");
        // Cells are told apart: ("12", "3") is not ("1", "23").
        keys.add(&[Some("12"), Some("3")]);
        keys.add(&[Some("1"), Some("23")]);
        assert!(keys.finish().is_none());
    }

    #[test]
    fn a_repeat_from_the_page_before_is_named_one_further_back_by_its_hash() {
        let mut keys = keys();
        keys.add(&[Some("1"), Some("2025-01-01")]);
        keys.add(&[Some("2"), Some("2025-01-01")]);
        keys.page_done();
        keys.add(&[Some("2"), Some("2025-01-01")]);
        let reason = keys.finish().map(|r| r.reason()).unwrap_or_default();
        assert!(
            reason.contains("the row ad_id=2, stat_time_day=2025-01-01 twice"),
            "{reason}"
        );
        keys.add(&[Some("1"), Some("2025-01-01")]);
        for page in 0..3 {
            keys.page_done();
            keys.add(&[Some("9"), Some(["a", "b", "c"][page])]);
        }
        keys.add(&[Some("1"), Some("2025-01-01")]);
        let reason = keys.finish().map(|r| r.reason()).unwrap_or_default();
        assert!(reason.contains("a row (key hash "), "{reason}");
    }
}
