//! The fast reader of report pages: one pass over the body's bytes that notes where each
//! wanted cell's text lies in the page's copy of the body, without a general JSON parser's
//! work per token. It takes
//! on the pages TikTok sends (keys without escapes, cells that are strings, numbers, booleans
//! or null) and gives up on anything else — a key with an escape, a nested value in a cell, a
//! duplicate `data` or `list`, a body that is not UTF-8 or not JSON — so that the general
//! decoder reads that body instead and says what is wrong with it. What it accepts, it reads
//! exactly as the general decoder does (a test holds the two equal, also on every prefix of a
//! page and on bytes changed in it).

use super::decode::{Columns, MISSING, ReportPage, Shape};
use crate::api::transport::envelope::Envelope;
use crate::api::transport::paging::PageInfo;

/// Deeper than any answer TikTok sends; the general decoder takes what is deeper.
const MAX_DEPTH: u32 = 32;

/// Reads `body` into `page`, or `None` (with `page` in any state) for the general decoder.
pub(super) fn read(
    body: &[u8],
    columns: &Columns,
    page: &mut ReportPage,
) -> Option<Envelope<Shape>> {
    let text = std::str::from_utf8(body).ok()?;
    // Cells are ranges of the page's own copy of the body (one copy, not one per cell); a
    // cell that had to be unescaped is appended after it.
    page.text.push_str(text);
    let mut scanner = Scanner {
        text,
        bytes: body,
        at: 0,
        controls: has_controls(body),
    };
    let envelope = scanner.envelope(columns, page)?;
    scanner.skip_space();
    (scanner.at == body.len()).then_some(envelope)
}

/// Whether any byte is below 0x20. JSON allows none inside a string; when a body has none at
/// all (TikTok's have none), strings need not be checked one by one.
fn has_controls(bytes: &[u8]) -> bool {
    bytes
        .chunks(256)
        .any(|chunk| chunk.iter().fold(false, |found, &b| found | (b < 0x20)))
}

/// `haystack.starts_with(needle)` for a needle of a few bytes (a key), compared eight or four
/// bytes at a time in place rather than through a call to `memcmp` for every cell of a page.
fn starts_with(haystack: &[u8], needle: &[u8]) -> bool {
    let Some(head) = haystack.get(..needle.len()) else {
        return false;
    };
    let n = needle.len();
    let word = |s: &[u8], at: usize| {
        s.get(at..at + 8)
            .map(|w| u64::from_le_bytes(w.try_into().unwrap_or_default()))
    };
    let half = |s: &[u8], at: usize| {
        s.get(at..at + 4)
            .map(|w| u32::from_le_bytes(w.try_into().unwrap_or_default()))
    };
    if n >= 8 {
        // Whole words, the last one overlapping the one before it.
        let mut at = 0;
        while at + 8 < n {
            if word(head, at) != word(needle, at) {
                return false;
            }
            at += 8;
        }
        word(head, n - 8) == word(needle, n - 8)
    } else if n >= 4 {
        half(head, 0) == half(needle, 0) && half(head, n - 4) == half(needle, n - 4)
    } else {
        head == needle
    }
}

/// Where the first `"` or `\` is in `bytes`, and whether it is the quote: eight bytes at a
/// time, each word tested for either byte with the usual carry trick (the lowest byte it
/// flags is always a true match).
fn quote_or_backslash(bytes: &[u8]) -> Option<(usize, bool)> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let mut at = 0;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let word = u64::from_le_bytes(chunk.try_into().ok()?);
        let quotes = zero_byte(word ^ (ONES * u64::from(b'"')));
        let found = quotes | zero_byte(word ^ (ONES * u64::from(b'\\')));
        if found != 0 {
            let first = found.trailing_zeros();
            // Known from the masks, not from reading the byte again (which would wait for
            // the position to be computed).
            return Some((at + (first / 8) as usize, quotes.trailing_zeros() == first));
        }
        at += 8;
    }
    let rest = bytes.get(at..)?;
    rest.iter()
        .position(|&b| b == b'"' || b == b'\\')
        .map(|p| (at + p, rest[p] == b'"'))
}

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    controls: bool,
}

impl<'a> Scanner<'a> {
    fn skip_space(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.bytes.get(self.at) {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_space();
        self.bytes.get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        self.bytes
            .get(self.at..)?
            .starts_with(word)
            .then(|| self.at += word.len())
    }

    /// The string that starts here (quotes included) and whether it holds an escape.
    fn string(&mut self) -> Option<(usize, usize, bool)> {
        self.eat(b'"')?;
        let start = self.at - 1;
        let mut escaped = false;
        loop {
            // Cells and keys are short: a word at a time finds their end sooner than a
            // vector search set up for each.
            let (found, quote) = quote_or_backslash(self.bytes.get(self.at..)?)?;
            let found = self.at + found;
            if quote {
                self.at = found + 1;
                break;
            }
            escaped = true;
            // The escaped byte is never the end of the string; what it means is checked when
            // the string is unescaped.
            self.at = found + 2;
        }
        if self.controls && self.bytes[start..self.at].iter().any(|&b| b < 0x20) {
            return None;
        }
        Some((start, self.at, escaped))
    }

    /// A key without escapes, then its colon.
    fn key(&mut self) -> Option<&'a str> {
        let (start, end, escaped) = self.string()?;
        if escaped {
            return None;
        }
        self.eat(b':')?;
        self.text.get(start + 1..end - 1)
    }

    /// A cell's text: its range in the page's copy of the body, or its unescaped text added
    /// to the page.
    fn cell_string(&mut self, page: &mut ReportPage) -> Option<(u32, u32)> {
        let (start, end, escaped) = self.string()?;
        if escaped {
            let text: String = serde_json::from_str(self.text.get(start..end)?).ok()?;
            Some(page.push(&text))
        } else {
            Some(ReportPage::range(start + 1, end - 1))
        }
    }

    /// A string's text, unescaped when it has escapes.
    fn string_text(&mut self) -> Option<std::borrow::Cow<'a, str>> {
        let (start, end, escaped) = self.string()?;
        if escaped {
            serde_json::from_str(self.text.get(start..end)?).ok()
        } else {
            self.text.get(start + 1..end - 1).map(Into::into)
        }
    }

    /// A number as JSON writes it, its text untouched.
    fn number(&mut self) -> Option<&'a str> {
        let start = self.at;
        let digits = |s: &mut Self| {
            let first = s.at;
            while let Some(b'0'..=b'9') = s.bytes.get(s.at) {
                s.at += 1;
            }
            (s.at > first).then_some(())
        };
        if self.bytes.get(self.at) == Some(&b'-') {
            self.at += 1;
        }
        match self.bytes.get(self.at)? {
            b'0' => self.at += 1,
            b'1'..=b'9' => digits(self)?,
            _ => return None,
        }
        if self.bytes.get(self.at) == Some(&b'.') {
            self.at += 1;
            digits(self)?;
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.at) {
            self.at += 1;
            if let Some(b'+' | b'-') = self.bytes.get(self.at) {
                self.at += 1;
            }
            digits(self)?;
        }
        self.text.get(start..self.at)
    }

    /// Calls `member` for each key of the object that starts here, the scanner at its value.
    fn object(&mut self, mut member: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        if self.opens(b'{', b'}')? {
            return Some(());
        }
        loop {
            let key = self.key()?;
            member(self, key)?;
            if self.item_ends(b'}')? {
                return Some(());
            }
        }
    }

    /// Reads `open`; `true` when `close` follows at once (and is read too).
    fn opens(&mut self, open: u8, close: u8) -> Option<bool> {
        self.eat(open)?;
        let empty = self.peek()? == close;
        if empty {
            self.at += 1;
        }
        Some(empty)
    }

    /// After a member or element: `false` past a comma, `true` past `close`, the end of the
    /// object or array.
    fn item_ends(&mut self, close: u8) -> Option<bool> {
        let byte = self.peek()?;
        if byte != b',' && byte != close {
            return None;
        }
        self.at += 1;
        Some(byte == close)
    }

    /// Calls `element` for each element of the array that starts here.
    fn array(&mut self, mut element: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        if self.opens(b'[', b']')? {
            return Some(());
        }
        loop {
            element(self)?;
            if self.item_ends(b']')? {
                return Some(());
            }
        }
    }

    /// Goes past any value, checking it is JSON; its text.
    fn skip(&mut self, depth: u32) -> Option<&'a str> {
        if depth > MAX_DEPTH {
            return None;
        }
        let start = match self.peek()? {
            b'"' => {
                let (start, end, _) = self.string()?;
                return self.text.get(start..end);
            }
            _ => self.at,
        };
        match self.bytes[start] {
            b'{' => self.object(|s, _| s.skip(depth + 1).map(drop))?,
            b'[' => self.array(|s| s.skip(depth + 1).map(drop))?,
            b't' => self.literal(b"true")?,
            b'f' => self.literal(b"false")?,
            b'n' => self.literal(b"null")?,
            _ => {
                self.number()?;
            }
        }
        self.text.get(start..self.at)
    }

    fn null(&mut self) -> Option<bool> {
        Some(self.peek()? == b'n' && self.literal(b"null").is_some())
    }

    fn envelope(&mut self, columns: &Columns, page: &mut ReportPage) -> Option<Envelope<Shape>> {
        let mut code = None;
        let mut envelope = Envelope::empty();
        self.object(|s, key| {
            match key {
                "code" => code = Some(s.skip(0)?.parse::<i64>().ok()?),
                "message" if s.null()? => envelope.message.clear(),
                "message" => envelope.message = s.string_text()?.into_owned(),
                "request_id" if s.null()? => envelope.request_id.clear(),
                "request_id" => envelope.request_id = s.string_text()?.into_owned(),
                "data" if envelope.data.is_none() => envelope.data = Some(s.data(columns, page)?),
                "data" => return None,
                _ => {
                    s.skip(0)?;
                }
            }
            Some(())
        })?;
        envelope.code = code?;
        Some(envelope)
    }

    fn data(&mut self, columns: &Columns, page: &mut ReportPage) -> Option<Shape> {
        if self.null()? {
            return Some(Shape::default());
        }
        let mut shape = Shape {
            data: true,
            ..Shape::default()
        };
        self.object(|s, key| {
            match key {
                "list" if !shape.list => {
                    s.list(columns, page)?;
                    shape.list = true;
                }
                "list" => return None,
                "page_info" => {
                    page.page_info = serde_json::from_str::<PageInfo>(s.skip(0)?).ok()?;
                    shape.page_info = true;
                }
                _ => {
                    s.skip(0)?;
                }
            }
            Some(())
        })?;
        Some(shape)
    }

    fn list(&mut self, columns: &Columns, page: &mut ReportPage) -> Option<()> {
        let mut next = 0;
        self.array(|s| {
            let base = page.cells.len();
            page.cells
                .extend(std::iter::repeat_n((MISSING, MISSING), columns.len()));
            s.object(|s, key| match key {
                "dimensions" | "metrics" if s.null()? => Some(()),
                "dimensions" | "metrics" => s.fields(columns, page, base, &mut next),
                _ => s.skip(0).map(drop),
            })
        })
    }

    /// The cells of one `dimensions` or `metrics` object into row `base`'s columns.
    fn fields(
        &mut self,
        columns: &Columns,
        page: &mut ReportPage,
        base: usize,
        next: &mut usize,
    ) -> Option<()> {
        if self.opens(b'{', b'}')? {
            return Some(());
        }
        loop {
            if !self.compact_cell(columns, page, base, next) {
                self.cell(columns, page, base, next)?;
            }
            if self.item_ends(b'}')? {
                return Some(());
            }
        }
    }

    /// The common case of a cell, read in one go: the key expected next (rows list their
    /// keys in the same order) written compactly, `"name":`, compared as bytes (a name holds
    /// no quote or backslash, so a match is the whole key), then a string without escapes.
    /// `false`, with nothing read, for anything else.
    fn compact_cell(
        &mut self,
        columns: &Columns,
        page: &mut ReportPage,
        base: usize,
        next: &mut usize,
    ) -> bool {
        let expected = columns.quoted(*next);
        let Some(rest) = self.bytes.get(self.at..) else {
            return false;
        };
        if self.controls
            || expected.is_empty()
            || !starts_with(rest, expected)
            || rest.get(expected.len()) != Some(&b'"')
        {
            return false;
        }
        let start = self.at + expected.len() + 1;
        let Some((len, true)) = rest.get(expected.len() + 1..).and_then(quote_or_backslash) else {
            return false;
        };
        let end = start + len;
        let Some(cell) = page.cells.get_mut(base + *next) else {
            return false;
        };
        *cell = ReportPage::range(start, end);
        *next = columns.after(*next);
        self.at = end + 1;
        true
    }

    /// Any other cell: a key in any order (or one not asked for), a value of any kind.
    fn cell(
        &mut self,
        columns: &Columns,
        page: &mut ReportPage,
        base: usize,
        next: &mut usize,
    ) -> Option<()> {
        let key = self.key()?;
        let column = columns.find(key, next);
        match column {
            Some(column) => {
                let cell = match self.peek()? {
                    b'"' => self.cell_string(page)?,
                    b'n' => {
                        self.literal(b"null")?;
                        (MISSING, MISSING)
                    }
                    b'{' | b'[' => return None,
                    _ => {
                        let start = self.at;
                        self.skip(0)?;
                        ReportPage::range(start, self.at)
                    }
                };
                page.cells[base + column] = cell;
            }
            None => {
                self.skip(0)?;
            }
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::decode::read_general;
    use super::*;

    fn columns() -> Columns {
        let names = ["ad_id", "stat_time_day", "spend", "ctr", "clicks", "name"];
        Columns::new(names.iter().map(|s| s.to_string()).collect())
    }

    /// What a reader made of a body, in a form two readers can be compared by.
    fn outcome(envelope: &Envelope<Shape>, page: &ReportPage) -> String {
        let info = &page.page_info;
        let rows: Vec<Vec<Option<&str>>> =
            (0..page.rows()).map(|i| page.row(i).collect()).collect();
        format!(
            "code {} message {:?} request_id {:?} data {:?} page_info {} {} {} {} rows {rows:?}",
            envelope.code,
            envelope.message,
            envelope.request_id,
            envelope.data,
            info.page,
            info.page_size,
            info.total_number,
            info.total_page,
        )
    }

    fn fast(body: &[u8]) -> Option<String> {
        let columns = columns();
        let mut page = ReportPage::for_columns(&columns, &Default::default());
        read(body, &columns, &mut page).map(|e| outcome(&e, &page))
    }

    fn general(body: &[u8]) -> Option<String> {
        let columns = columns();
        let mut page = ReportPage::for_columns(&columns, &Default::default());
        read_general(body, &columns, &mut page)
            .ok()
            .map(|e| outcome(&e, &page))
    }

    /// The fast reader either gives up or reads what the general decoder reads.
    fn assert_agrees(body: &[u8]) {
        if let Some(fast) = fast(body) {
            assert_eq!(
                Some(fast),
                general(body),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    const PAGE: &str = r#"{"code":0,"message":"OK","request_id":"2025-r\"1","extra":{"a":[1,-2.5e3,true,null,{}]},"data":{"list":[{"dimensions":{"ad_id":"1800000000000000033","stat_time_day":"2025-01-11 00:00:00"},"metrics":{"spend":"72.61","ctr":"-","clicks":356,"name":"caf\u00e9 \"A\", B","x":"y"}},{"dimensions":{"stat_time_day":"2025-01-12 00:00:00","ad_id":"18"},"metrics":{"spend":0.10000000000000000555,"ctr":null,"clicks":"0","name":""},"other":[]},{"metrics":null,"dimensions":{"ad_id":"19","unknown":{"deep":[1]}}}],"page_info":{"page":2,"page_size":3,"total_number":9,"total_page":3}}}"#;

    #[test]
    fn a_page_as_tiktok_sends_it_is_read_fast_and_as_the_general_decoder_reads_it() {
        let fast = fast(PAGE.as_bytes()).expect("the fast reader takes a page TikTok sends");
        assert_eq!(Some(fast.clone()), general(PAGE.as_bytes()));
        assert!(fast.contains(r#"Some("café \"A\", B")"#), "{fast}");
        assert!(fast.contains(r#"Some("0.10000000000000000555")"#), "{fast}");
        assert!(fast.contains("page_info 2 3 9 3"), "{fast}");
        // Laid out with spaces and line breaks, the same page reads the same.
        let pretty =
            serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(PAGE).unwrap())
                .unwrap();
        assert!(fast_and_general_equal(pretty.as_bytes()));
    }

    fn fast_and_general_equal(body: &[u8]) -> bool {
        let fast = fast(body);
        fast.is_some() && fast == general(body)
    }

    #[test]
    fn no_prefix_of_a_page_is_taken_for_a_page() {
        let body = PAGE.as_bytes();
        for end in 0..body.len() {
            assert_eq!(fast(&body[..end]), None, "cut at {end}");
        }
        assert!(fast_and_general_equal(format!("{PAGE} \n").as_bytes()));
        assert_eq!(fast(format!("{PAGE}x").as_bytes()), None);
    }

    #[test]
    fn a_page_with_any_byte_changed_is_read_as_the_general_decoder_reads_it_or_left_to_it() {
        let body = PAGE.as_bytes();
        let replacements = [
            b'"', b'\\', b',', b':', b'{', b'}', b'[', b']', b' ', b'\n', b'0', b'1', b'-', b'.',
            b'e', b'a', b'n', b't', b'u', 0x01, 0x1f, 0x7f, 0xc3, 0xff,
        ];
        for at in 0..body.len() {
            for &byte in &replacements {
                let mut changed = body.to_vec();
                changed[at] = byte;
                assert_agrees(&changed);
            }
            let mut removed = body.to_vec();
            removed.remove(at);
            assert_agrees(&removed);
        }
    }

    #[test]
    fn what_the_fast_reader_leaves_to_the_general_decoder() {
        let wrap =
            |data: &str| format!(r#"{{"code":0,"message":"OK","request_id":"r","data":{data}}}"#);
        for body in [
            // An escape in a key.
            wrap(r#"{"list":[{"dimensions":{"ad_\u0069d":"1"}}],"page_info":{}}"#),
            // A nested value in a cell.
            wrap(r#"{"list":[{"dimensions":{"ad_id":{"a":1}}}],"page_info":{}}"#),
            // `code` as a string.
            r#"{"code":"0","message":"OK","request_id":"r","data":{"list":[],"page_info":{}}}"#
                .to_string(),
            // `request_id` as a number.
            r#"{"code":0,"message":"OK","request_id":7,"data":{"list":[],"page_info":{}}}"#
                .to_string(),
        ] {
            assert_eq!(fast(body.as_bytes()), None, "{body}");
            assert!(general(body.as_bytes()).is_some(), "{body}");
        }
        // Twice `data`, twice `list`, text that is not UTF-8: neither reads them.
        for body in [
            wrap(r#"{"list":[],"page_info":{}},"data":null"#),
            wrap(r#"{"list":[],"list":[],"page_info":{}}"#),
        ] {
            assert_eq!(fast(body.as_bytes()), None, "{body}");
            assert_eq!(general(body.as_bytes()), None, "{body}");
        }
        let mut latin1 =
            wrap(r#"{"list":[{"dimensions":{"name":"caf?"}}],"page_info":{}}"#).into_bytes();
        let question = latin1.iter().position(|&b| b == b'?').unwrap();
        latin1[question] = 0xe9;
        assert_eq!(fast(&latin1), None);
        assert_eq!(general(&latin1), None);
    }

    #[test]
    fn short_comparisons_and_searches_agree_with_the_standard_ones() {
        let text = b"\"spend\":\"72.61\",\"impressions\":\"20988\",\"a\\\"b\":\"\",\"x\":\"0123456789abcdef\"";
        for start in 0..text.len() {
            let rest = &text[start..];
            assert_eq!(
                quote_or_backslash(rest),
                rest.iter()
                    .position(|&b| b == b'"' || b == b'\\')
                    .map(|p| (p, rest[p] == b'"')),
                "from {start}"
            );
            for len in 0..=rest.len().min(24) {
                for other in 0..text.len().saturating_sub(len) {
                    let needle = &text[other..other + len];
                    assert_eq!(starts_with(rest, needle), rest.starts_with(needle));
                }
            }
        }
    }
}
