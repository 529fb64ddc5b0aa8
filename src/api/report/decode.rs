//! A single-pass decoder of `/report/integrated/get/` answers: the envelope and every row are
//! read straight into the caller's column order, with all cell text of a page in one buffer
//! (no allocation per cell), values kept exactly as TikTok sent them.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize as _;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::api::transport::client::Reported;
use crate::api::transport::envelope;
use crate::api::transport::error::ApiError;
use crate::api::transport::http::Answer;
use crate::api::transport::paging::PageInfo;

use super::scan;
use crate::redact::clean;

/// The response header TikTok sets when it truncated a report to the newest 20,000 ads.
pub const THROTTLE_HEADER: &str = "x-tt-ads-throttle";

pub(super) const MISSING: u32 = u32::MAX;

/// Column names and their positions in a row.
#[derive(Debug, Clone)]
pub struct Columns {
    names: Vec<String>,
    /// Each name as a compact JSON key is written: quotes and colon included.
    quoted: Vec<Vec<u8>>,
}

impl Columns {
    pub fn new(names: Vec<String>) -> Self {
        let quoted = names
            .iter()
            .map(|n| format!("\"{n}\":").into_bytes())
            .collect();
        Self { names, quoted }
    }

    /// Column `i`'s name as a compact JSON key is written, `"name":` (empty past the end).
    pub(super) fn quoted(&self, i: usize) -> &[u8] {
        self.quoted.get(i).map_or(&[], Vec::as_slice)
    }

    /// The column after `found`, the one a row most likely lists next.
    pub(super) fn after(&self, found: usize) -> usize {
        (found + 1) % self.names.len()
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The position of column `key`. Rows list their keys in the same order, so the column
    /// after the one found last (`next`) is tried first.
    pub(super) fn find(&self, key: &str, next: &mut usize) -> Option<usize> {
        let found = match self.names.get(*next) {
            Some(name) if name == key => *next,
            _ => self.names.iter().position(|n| n == key)?,
        };
        *next = self.after(found);
        Some(found)
    }
}

/// The text and cell buffers of pages already handed on, for the next pages to fill: a
/// page's buffers are a few hundred KiB, and fresh ones cost the kernel a page fault for every
/// 4 KiB of them (a tenth of a million-row export's CPU before they were kept).
#[derive(Debug, Default)]
pub struct PageBuffers {
    spare: std::sync::Mutex<Vec<Buffers>>,
}

/// A page's text and its cells' ranges in it.
type Buffers = (String, Vec<(u32, u32)>);

impl PageBuffers {
    /// More than the pages in flight at once and the one being handed on.
    const KEEP: usize = 8;

    fn take(&self) -> Buffers {
        self.lock().pop().unwrap_or_default()
    }

    /// Keeps `page`'s buffers for a page to come.
    pub fn give_back(&self, page: ReportPage) {
        let (mut text, mut cells) = (page.text, page.cells);
        let mut spare = self.lock();
        if spare.len() < Self::KEEP {
            text.clear();
            cells.clear();
            spare.push((text, cells));
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Buffers>> {
        self.spare.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One decoded page: `rows × columns` cells pointing into one text buffer.
#[derive(Debug, Default)]
pub struct ReportPage {
    pub(super) text: String,
    pub(super) cells: Vec<(u32, u32)>,
    width: usize,
    pub page_info: PageInfo,
    pub request_id: String,
    /// TikTok said (header `X-Tt-Ads-Throttle`) that it truncated the data.
    pub truncated: Option<String>,
}

impl ReportPage {
    pub fn rows(&self) -> usize {
        self.cells.len().checked_div(self.width).unwrap_or(0)
    }

    /// What tells this page from any other page of the same report: its first and last rows
    /// (rows are unique by their dimensions, so two different pages never share both).
    pub fn fingerprint(&self) -> u64 {
        let rows = self.rows();
        if rows == 0 {
            return 0;
        }
        let text = |i: usize| {
            self.row(i)
                .map(|c| c.unwrap_or("\u{0}"))
                .collect::<Vec<_>>()
                .join("\u{1f}")
        };
        let (first, last) = (text(0), text(rows - 1));
        crate::api::transport::paging::fingerprint(&[
            &rows.to_le_bytes(),
            first.as_bytes(),
            last.as_bytes(),
        ])
    }

    /// The cells of row `i` in column order; `None` where TikTok sent no value.
    pub fn row(&self, i: usize) -> impl Iterator<Item = Option<&str>> + '_ {
        self.cells[i * self.width..(i + 1) * self.width]
            .iter()
            .map(|&(start, end)| {
                (start != MISSING).then(|| &self.text[start as usize..end as usize])
            })
    }
}

impl ReportPage {
    /// An empty page of rows as wide as `columns`, in buffers from `buffers`.
    pub(super) fn for_columns(columns: &Columns, buffers: &PageBuffers) -> Self {
        let (text, cells) = buffers.take();
        Self {
            text,
            cells,
            width: columns.len(),
            ..Self::default()
        }
    }

    /// Appends one cell's text to the page's buffer; its range there.
    pub(super) fn push(&mut self, value: &str) -> (u32, u32) {
        let start = self.text.len();
        self.text.push_str(value);
        Self::range(start, self.text.len())
    }

    /// A cell's range in the page's text.
    pub(super) fn range(start: usize, end: usize) -> (u32, u32) {
        // A page is far below 4 GiB; saturate rather than wrap if it ever were not.
        let clamp = |n: usize| u32::try_from(n).unwrap_or(MISSING - 1);
        (clamp(start), clamp(end))
    }
}

impl Reported for ReportPage {
    fn summary(&self) -> String {
        format!(
            "code 0 request_id {} rows {} page {}/{} total {}",
            self.request_id,
            self.rows(),
            self.page_info.page,
            self.page_info.total_page,
            self.page_info.total_number
        )
    }
}

/// Decodes one answer of the report endpoint into `columns` order. A success must carry
/// `data` with its `list` and `page_info`: anything less is an inconsistent answer, never an
/// empty page.
pub(super) fn decode(
    path: &str,
    answer: &Answer<'_>,
    columns: &Columns,
    buffers: &PageBuffers,
) -> Result<ReportPage, ApiError> {
    let mut page = ReportPage::for_columns(columns, buffers);
    // The fast reader takes the pages TikTok sends; whatever it gives up on, the general
    // decoder reads from the start (and names what is wrong).
    let read = match scan::read(answer.body, columns, &mut page) {
        Some(envelope) => Ok(envelope),
        None => {
            page.text.clear();
            page.cells.clear();
            page.page_info = PageInfo::default();
            read_general(answer.body, columns, &mut page)
        }
    };
    let envelope = envelope::judge(path, answer, read)?;
    let missing = match envelope.data {
        None => Some("no data"),
        Some(Shape { data: false, .. }) => Some("data: null"),
        Some(Shape { list: false, .. }) => Some("no list in data"),
        Some(Shape {
            page_info: false, ..
        }) => Some("no page_info in data"),
        Some(_) => None,
    };
    if let Some(missing) = missing {
        return Err(ApiError::Inconsistent {
            endpoint: path.to_string(),
            detail: format!(
                "a success with {missing} (request_id {})",
                envelope.request_id
            ),
        });
    }
    page.request_id = envelope.request_id;
    page.truncated = answer.headers.get(THROTTLE_HEADER).map(clean);
    Ok(page)
}

/// The general decoder: serde_json's parser with seeds that copy each cell out.
pub(super) fn read_general(
    body: &[u8],
    columns: &Columns,
    page: &mut ReportPage,
) -> serde_json::Result<envelope::Envelope<Shape>> {
    envelope::read(body, DataSeed { columns, page })
}

/// Which parts of `data` were there.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct Shape {
    pub data: bool,
    pub list: bool,
    pub page_info: bool,
}

struct DataSeed<'a> {
    columns: &'a Columns,
    page: &'a mut ReportPage,
}

impl<'de> DeserializeSeed<'de> for DataSeed<'_> {
    type Value = Shape;
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Shape, D::Error> {
        de.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for DataSeed<'_> {
    type Value = Shape;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("report data")
    }
    fn visit_none<E>(self) -> Result<Shape, E> {
        Ok(Shape::default())
    }
    fn visit_unit<E>(self) -> Result<Shape, E> {
        Ok(Shape::default())
    }
    fn visit_some<D: Deserializer<'de>>(self, de: D) -> Result<Shape, D::Error> {
        de.deserialize_map(self)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shape, A::Error> {
        let mut shape = Shape {
            data: true,
            ..Shape::default()
        };
        while let Some(key) = map.next_key::<Key>()? {
            match key.0.as_ref() {
                "list" if !shape.list => {
                    map.next_value_seed(ListSeed {
                        columns: self.columns,
                        page: &mut *self.page,
                    })?;
                    shape.list = true;
                }
                "page_info" => {
                    self.page.page_info = map.next_value()?;
                    shape.page_info = true;
                }
                "list" => return Err(serde::de::Error::duplicate_field("list")),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(shape)
    }
}

struct ListSeed<'a> {
    columns: &'a Columns,
    page: &'a mut ReportPage,
}

impl<'de> DeserializeSeed<'de> for ListSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ListSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of report rows")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if let Some(hint) = seq.size_hint() {
            self.page.cells.reserve(hint * self.columns.len());
        }
        let mut next_column = 0;
        loop {
            let base = self.page.cells.len();
            self.page
                .cells
                .extend(std::iter::repeat_n((MISSING, MISSING), self.columns.len()));
            let row = RowSeed {
                columns: self.columns,
                page: &mut *self.page,
                base,
                next_column: &mut next_column,
            };
            if seq.next_element_seed(row)?.is_none() {
                self.page.cells.truncate(base);
                return Ok(());
            }
        }
    }
}

struct RowSeed<'a> {
    columns: &'a Columns,
    page: &'a mut ReportPage,
    base: usize,
    next_column: &'a mut usize,
}

impl<'de> DeserializeSeed<'de> for RowSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RowSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a report row")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Key>()? {
            match key.0.as_ref() {
                "dimensions" | "metrics" => map.next_value_seed(FieldsSeed {
                    columns: self.columns,
                    page: &mut *self.page,
                    base: self.base,
                    next_column: &mut *self.next_column,
                })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct FieldsSeed<'a> {
    columns: &'a Columns,
    page: &'a mut ReportPage,
    base: usize,
    next_column: &'a mut usize,
}

impl<'de> DeserializeSeed<'de> for FieldsSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for FieldsSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("report dimensions or metrics")
    }
    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_map(self)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Key>()? {
            match self.columns.find(&key.0, self.next_column) {
                Some(i) => {
                    let cell = map.next_value_seed(CellSeed {
                        page: &mut *self.page,
                    })?;
                    self.page.cells[self.base + i] = cell;
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// Appends one value's text to the page buffer and returns its range.
struct CellSeed<'a> {
    page: &'a mut ReportPage,
}

impl CellSeed<'_> {
    fn push(self, value: &str) -> (u32, u32) {
        self.page.push(value)
    }
}

impl<'de> DeserializeSeed<'de> for CellSeed<'_> {
    type Value = (u32, u32);
    /// The value's JSON text is taken as it is: a number keeps every digit it was sent with
    /// (no trip through `f64` or `u64`), a string is unescaped only when it has escapes.
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(u32, u32), D::Error> {
        let raw = <&'de serde_json::value::RawValue>::deserialize(de)?.get();
        match raw.as_bytes().first() {
            Some(b'"') => match raw.get(1..raw.len() - 1) {
                Some(inner) if !inner.contains('\\') => Ok(self.push(inner)),
                _ => {
                    let text: String =
                        serde_json::from_str(raw).map_err(serde::de::Error::custom)?;
                    Ok(self.push(&text))
                }
            },
            Some(b'n') => Ok((MISSING, MISSING)),
            _ => Ok(self.push(raw)),
        }
    }
}

/// A map key, borrowed from the input when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
        }
        de.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::transport::http::Headers;

    fn columns(names: &[&str]) -> Columns {
        Columns::new(names.iter().map(|s| s.to_string()).collect())
    }

    fn ok(body: &[u8], cols: &Columns) -> Result<ReportPage, ApiError> {
        with_headers(body, cols, &Headers::default())
    }

    fn with_headers(
        body: &[u8],
        cols: &Columns,
        headers: &Headers,
    ) -> Result<ReportPage, ApiError> {
        let answer = Answer {
            status: 200,
            headers,
            body,
            streamed: None,
        };
        decode(
            "/report/integrated/get/",
            &answer,
            cols,
            &PageBuffers::default(),
        )
    }

    fn rows(page: &ReportPage) -> Vec<Vec<Option<String>>> {
        (0..page.rows())
            .map(|i| page.row(i).map(|c| c.map(str::to_string)).collect())
            .collect()
    }

    #[test]
    fn rows_come_out_in_column_order_with_values_untouched() {
        let body = br#"{"code":0,"message":"OK","request_id":"r1","data":{"page_info":{"page":1,"page_size":2,"total_number":2,"total_page":1},
            "list":[{"metrics":{"spend":"14.680","ctr":"-","x":"ignored"},"dimensions":{"stat_time_day":"2025-01-01 00:00:00","campaign_id":"1812345678901234"}},
                    {"dimensions":{"campaign_id":"18\u0031","stat_time_day":"2025-01-02 00:00:00"},"metrics":{"spend":3,"ctr":null}}]}}"#;
        let cols = columns(&["campaign_id", "stat_time_day", "spend", "ctr", "clicks"]);
        let page = ok(body, &cols).unwrap();
        assert_eq!(page.request_id, "r1");
        assert_eq!(page.page_info.total_number, 2);
        let s = |v: &str| Some(v.to_string());
        assert_eq!(
            rows(&page),
            vec![
                vec![
                    s("1812345678901234"),
                    s("2025-01-01 00:00:00"),
                    s("14.680"),
                    s("-"),
                    None
                ],
                vec![s("181"), s("2025-01-02 00:00:00"), s("3"), None, None],
            ]
        );
    }

    #[test]
    fn numbers_keep_every_digit_and_escapes_are_undone() {
        let body = br#"{"code":0,"message":"OK","request_id":"r","data":{"page_info":{"page":1,"page_size":10,"total_number":1,"total_page":1},
            "list":[{"dimensions":{"campaign_id":1812345678901234567},"metrics":{"spend":123456789012345678901234567890,"ctr":0.10000000000000000555,"name":"a\"b\u00e9","x":true}}]}}"#;
        let cols = columns(&["campaign_id", "spend", "ctr", "name", "x"]);
        let page = ok(body, &cols).unwrap();
        let s = |v: &str| Some(v.to_string());
        assert_eq!(
            rows(&page),
            vec![vec![
                s("1812345678901234567"),
                s("123456789012345678901234567890"),
                s("0.10000000000000000555"),
                s("a\"b\u{e9}"),
                s("true"),
            ]]
        );
    }

    #[test]
    fn error_envelopes_and_throttle_header() {
        let cols = columns(&["spend"]);
        let err = ok(
            br#"{"code":40100,"message":"slow down","request_id":"r2","data":{}}"#,
            &cols,
        )
        .unwrap_err();
        assert_eq!(err.code(), Some(40100));
        let mut map = reqwest::header::HeaderMap::new();
        map.insert(THROTTLE_HEADER, "20000".parse().unwrap());
        let page = with_headers(
            br#"{"code":0,"message":"OK","request_id":"r","data":{"list":[],"page_info":{}}}"#,
            &cols,
            &Headers::new(map),
        )
        .unwrap();
        assert_eq!(page.truncated.as_deref(), Some("20000"));
        assert_eq!(page.rows(), 0);
    }

    #[test]
    fn a_success_without_its_list_is_not_an_empty_page() {
        let cols = columns(&["spend"]);
        for body in [
            &br#"{"code":0,"message":"OK","request_id":"r"}"#[..],
            br#"{"code":0,"message":"OK","request_id":"r","data":null}"#,
            br#"{"code":0,"message":"OK","request_id":"r","data":{"page_info":{"page":1}}}"#,
            br#"{"code":0,"message":"OK","request_id":"r","data":{"list":[]}}"#,
            br#"{"code":0,"message":"OK","request_id":"r","data":{"list":[{"metrics":{"spend":"1"}}"#,
        ] {
            let err = ok(body, &cols).unwrap_err();
            assert!(matches!(err, ApiError::Inconsistent { .. }), "{err}");
            assert!(err.is_retryable());
        }
    }

    #[test]
    fn a_page_given_back_lends_its_buffers_to_the_next_with_nothing_left_in_them() {
        let cols = columns(&["id", "spend"]);
        let body = |ids: &[&str]| {
            let list: Vec<String> = ids
                .iter()
                .map(|id| {
                    format!(r#"{{"dimensions":{{"id":"{id}"}},"metrics":{{"spend":"1.{id}"}}}}"#)
                })
                .collect();
            format!(
                r#"{{"code":0,"message":"OK","request_id":"r","data":{{"page_info":{{}},"list":[{}]}}}}"#,
                list.join(",")
            )
        };
        let buffers = PageBuffers::default();
        let decode_with = |text: &str, buffers: &PageBuffers| {
            let headers = Headers::default();
            let answer = Answer {
                status: 200,
                headers: &headers,
                body: text.as_bytes(),
                streamed: None,
            };
            decode("/report/integrated/get/", &answer, &cols, buffers).unwrap()
        };
        let first = decode_with(&body(&["1", "2", "3", "4"]), &buffers);
        let lent = first.text.as_ptr();
        buffers.give_back(first);
        let second = decode_with(&body(&["9"]), &buffers);
        assert_eq!(
            second.text.as_ptr(),
            lent,
            "the first page's text buffer is reused"
        );
        assert_eq!(
            rows(&second),
            rows(&decode_with(&body(&["9"]), &PageBuffers::default()))
        );
        assert_eq!(
            rows(&second),
            vec![vec![Some("9".to_string()), Some("1.9".to_string())]]
        );
    }

    #[test]
    fn fingerprints_tell_pages_apart() {
        let cols = columns(&["id"]);
        let page = |ids: &str| {
            let list: Vec<String> = ids
                .split(',')
                .map(|id| format!(r#"{{"dimensions":{{"id":"{id}"}}}}"#))
                .collect();
            let body = format!(
                r#"{{"code":0,"message":"OK","request_id":"r","data":{{"page_info":{{}},"list":[{}]}}}}"#,
                list.join(",")
            );
            ok(body.as_bytes(), &cols).unwrap().fingerprint()
        };
        assert_eq!(page("1,2,3"), page("1,2,3"));
        assert_ne!(page("1,2,3"), page("4,5,6"));
        assert_ne!(page("1,2,3"), page("1,2"));
    }
}
