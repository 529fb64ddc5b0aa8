//! A customer list made ready for TikTok on this machine: read as it streams (a CSV with a
//! header, or one value per line), the ID column(s) found by name or chosen, each value
//! normalised and hashed (or kept when already a SHA-256), blanks and duplicates dropped, and
//! the hashes written as LF-terminated parts of at most 50 MB with the MD5 of each. Raw values
//! exist only in the reader's buffer: errors and counts never carry one, and nothing but
//! hashes is ever written (the temporary runs and parts are removed when dropped).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use super::dedup::{BUFFER_HASHES, Dedup, Hash};
use super::normalize::{self, EmailRules, IdKind, Invalid};
pub use super::parts::Part;
use super::parts::PartWriter;

/// TikTok's limit for one file of hashes (REFERENCE 18.2: ≤ 50 MB a file).
pub const PART_BYTES: u64 = 50 * 1000 * 1000;
/// Line numbers kept per reason a value is invalid.
const FIRST_LINES: usize = 5;
/// TikTok targets an audience of at least this many people.
pub const TARGETING_FLOOR: u64 = 1_000;

/// `--type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeChoice {
    Email,
    Phone,
    /// IDFA or GAID, mixed.
    Maid,
    Multiple,
}

#[derive(Debug, Clone)]
pub struct Options {
    /// `--column`: kinds (`email`, `phone`, `idfa`, `gaid`) or header names.
    pub columns: Vec<String>,
    pub kind: Option<TypeChoice>,
    pub default_country: Option<phonenumber::country::Id>,
    pub email: EmailRules,
    pub part_bytes: u64,
    pub allow_invalid: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            columns: Vec::new(),
            kind: None,
            default_country: None,
            email: EmailRules::default(),
            part_bytes: PART_BYTES,
            allow_invalid: false,
        }
    }
}

/// What a list comes to: what a privacy reviewer asks before anything is sent.
#[derive(Debug, Clone, Default)]
pub struct Preview {
    pub rows: u64,
    pub blank: u64,
    pub valid: u64,
    pub already_hashed: u64,
    pub duplicates: u64,
    pub unique: u64,
    /// Per reason: how many, and the first line numbers.
    pub invalid: BTreeMap<Invalid, (u64, Vec<u64>)>,
    /// The columns read and the kind of each.
    pub columns: Vec<(String, IdKind)>,
    pub calculate_type: &'static str,
    pub parts: Vec<Part>,
    pub warnings: Vec<String>,
}

impl Preview {
    /// The counts of a later chunk of the same list added to these.
    fn add(&mut self, later: Preview) {
        self.rows += later.rows;
        self.blank += later.blank;
        self.valid += later.valid;
        self.already_hashed += later.already_hashed;
        for (why, (n, lines)) in later.invalid {
            let entry = self.invalid.entry(why).or_insert((0, Vec::new()));
            entry.0 += n;
            let room = FIRST_LINES.saturating_sub(entry.1.len());
            entry.1.extend(lines.into_iter().take(room));
        }
    }

    pub fn invalid_total(&self) -> u64 {
        self.invalid.values().map(|(n, _)| n).sum()
    }
}

/// A prepared list: its preview and, when written, the directory holding its parts.
pub struct Prepared {
    pub preview: Preview,
    pub dir: Option<tempfile::TempDir>,
}

/// Why a list cannot be used (a usage error: nothing was sent).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

fn kind_of_header(header: &str) -> Option<IdKind> {
    let name: String = header
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    if name.contains("email") || name == "mail" {
        Some(IdKind::Email)
    } else if name.contains("phone") || name.contains("mobile") || name == "tel" {
        Some(IdKind::Phone)
    } else if name.contains("idfa") {
        Some(IdKind::Idfa)
    } else if name.contains("gaid") || name == "adid" {
        Some(IdKind::Gaid)
    } else {
        None
    }
}

/// Not text (a spreadsheet, an archive): a NUL byte or bytes that are not UTF-8 at its start.
fn check_text(path: &Path) -> Result<(), Refused> {
    let shown = path.display();
    let mut head = Vec::with_capacity(8192);
    std::fs::File::open(path)
        .and_then(|f| f.take(8192).read_to_end(&mut head))
        .map_err(|e| Refused(format!("{shown}: {e}")))?;
    if head.iter().all(u8::is_ascii_whitespace) {
        return Err(Refused(format!("{shown} is empty: there is no one to add")));
    }
    let text = match std::str::from_utf8(&head) {
        Ok(t) => t.len(),
        Err(e) if e.error_len().is_none() => e.valid_up_to(),
        Err(_) => 0,
    };
    if head.contains(&0) || text == 0 {
        return Err(Refused(format!(
            "{shown} is not text (a spreadsheet or an archive?): export it as CSV (UTF-8)"
        )));
    }
    Ok(())
}

/// Which columns to read, and of which kind.
fn choose(
    headers: &[String],
    options: &Options,
    shown: &str,
) -> Result<Vec<(usize, IdKind)>, Refused> {
    let found: Vec<(usize, IdKind)> = if options.columns.is_empty() {
        headers
            .iter()
            .enumerate()
            .filter_map(|(i, h)| kind_of_header(h).map(|k| (i, k)))
            .collect()
    } else {
        let mut chosen = Vec::new();
        for wanted in &options.columns {
            let by_kind = IdKind::parse(wanted);
            let matches: Vec<(usize, IdKind)> = headers
                .iter()
                .enumerate()
                .filter_map(|(i, h)| {
                    let kind = kind_of_header(h);
                    let named = h.eq_ignore_ascii_case(wanted);
                    match (named, by_kind, kind) {
                        (true, _, Some(k)) => Some((i, k)),
                        (true, Some(k), None) => Some((i, k)),
                        (false, Some(k), Some(hk)) if hk == k => Some((i, k)),
                        _ => None,
                    }
                })
                .collect();
            if matches.is_empty() {
                return Err(Refused(format!(
                    "{shown}: no column {wanted:?}; its columns are {}",
                    headers.join(", ")
                )));
            }
            chosen.extend(matches);
        }
        chosen
    };
    if found.is_empty() {
        return Err(Refused(format!(
            "{shown}: no email, phone, idfa or gaid column among its headers ({}): name the \
             column with --column NAME, or give a file of one value per line with --type",
            headers.join(", ")
        )));
    }
    Ok(found)
}

/// The kind of a value-per-line file without a header: `--type`, else the first value tells
/// (an `@`: emails; digits: phones).
fn headerless_kind(first: &str, options: &Options, shown: &str) -> Result<IdKind, Refused> {
    match options.kind {
        Some(TypeChoice::Email) => return Ok(IdKind::Email),
        Some(TypeChoice::Phone) => return Ok(IdKind::Phone),
        Some(TypeChoice::Maid) => return Ok(IdKind::Idfa),
        _ => {}
    }
    let value = first.trim();
    if value.contains('@') {
        Ok(IdKind::Email)
    } else if !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c))
    {
        Ok(IdKind::Phone)
    } else {
        Err(Refused(format!(
            "{shown}: no header names its column and its values are neither emails nor phone \
             numbers: say what they are with --type email|phone|maid"
        )))
    }
}

/// The line (from 1) of the record at each byte offset of the file.
fn lines_at(path: &Path, offsets: &[u64]) -> std::io::Result<BTreeMap<u64, u64>> {
    let mut wanted: Vec<u64> = offsets.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    let mut lines = BTreeMap::new();
    let mut file = std::io::BufReader::new(std::fs::File::open(path)?);
    let (mut at, mut newlines) = (0u64, 0u64);
    let mut buffer = [0u8; 64 * 1024];
    let mut next = wanted.iter().peekable();
    while next.peek().is_some() {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        for byte in &buffer[..read] {
            // A record's offset may fall before the blank lines the reader skipped: its line is
            // where its first character is.
            while next.peek().is_some_and(|t| **t <= at) && !matches!(byte, b'\n' | b'\r') {
                if let Some(offset) = next.next() {
                    lines.insert(*offset, newlines + 1);
                }
            }
            if *byte == b'\n' {
                newlines += 1;
            }
            at += 1;
        }
    }
    for offset in next {
        lines.insert(*offset, newlines + 1);
    }
    Ok(lines)
}

/// TikTok's `calculate_type` for a file of several ID kinds.
pub const MULTIPLE_TYPES: &str = "MULTIPLE_TYPES";
/// TikTok takes each column header at most this many times in a file of several ID kinds.
const SAME_HEADER_AT_MOST: usize = 3;
/// A cell of a row key: whether it holds a hash, then the hash.
const ROW_CELL: usize = 33;

/// What a list's rows come to: single hashes, or rows of hashes (`--type multiple`).
enum Keys {
    Hashes(Dedup<Hash>),
    Rows(Dedup<Vec<u8>>),
}

/// The keys of a chunk of rows, before deduplication.
enum Found {
    Hashes(Vec<Hash>),
    Rows(Vec<Vec<u8>>),
}

impl Keys {
    fn absorb(&mut self, other: Keys) -> anyhow::Result<()> {
        match (self, other) {
            (Keys::Hashes(dedup), Keys::Hashes(other)) => dedup.absorb(other),
            (Keys::Rows(dedup), Keys::Rows(other)) => dedup.absorb(other),
            _ => anyhow::bail!("rows of one kind of list read as another"),
        }
    }

    /// The keys found, moved here (`found` is left empty, its memory kept for the next chunk).
    fn add(&mut self, found: &mut Found) -> anyhow::Result<()> {
        match (self, found) {
            (Keys::Hashes(dedup), Found::Hashes(hashes)) => {
                for hash in hashes.drain(..) {
                    dedup.add(hash)?;
                }
            }
            (Keys::Rows(dedup), Found::Rows(rows)) => {
                for row in rows.drain(..) {
                    dedup.add(row)?;
                }
            }
            _ => anyhow::bail!("rows of one kind of list read as another"),
        }
        Ok(())
    }
}

/// A record the CSV reader cannot read, at a byte offset of the file.
struct Unreadable {
    at: u64,
    why: String,
}

impl Unreadable {
    /// The refusal, naming the record's line.
    fn refused(self, path: &Path) -> Refused {
        let line = lines_at(path, &[self.at])
            .ok()
            .and_then(|lines| lines.get(&self.at).copied())
            .unwrap_or_default();
        Refused(format!(
            "{}: line {line} cannot be read: {}",
            path.display(),
            self.why
        ))
    }
}

/// How each row is read: which columns, of which kinds, under which rules.
struct Reading<'a> {
    columns: &'a [(usize, IdKind)],
    options: &'a Options,
    multiple: bool,
}

impl Reading<'_> {
    fn found(&self) -> Found {
        if self.multiple {
            Found::Rows(Vec::new())
        } else {
            Found::Hashes(Vec::new())
        }
    }

    /// One row (`at`: its byte offset, made into a line number at the end).
    fn row(
        &self,
        at: u64,
        cells: &[&str],
        preview: &mut Preview,
        found: &mut Found,
        scratch: &mut String,
    ) -> Result<(), Refused> {
        preview.rows += 1;
        let (columns, options) = (self.columns, self.options);
        match found {
            Found::Hashes(hashes) => {
                for (i, kind) in columns {
                    if let Some(hash) =
                        hash_cell(cells.get(*i).copied(), *kind, options, at, preview, scratch)?
                    {
                        hashes.push(hash);
                    }
                }
            }
            Found::Rows(rows) => {
                let mut row = vec![0u8; columns.len() * ROW_CELL];
                let mut any = false;
                for ((i, kind), cell) in columns.iter().zip(row.chunks_exact_mut(ROW_CELL)) {
                    if let Some(hash) =
                        hash_cell(cells.get(*i).copied(), *kind, options, at, preview, scratch)?
                    {
                        cell[0] = 1;
                        cell[1..].copy_from_slice(&hash);
                        any = true;
                    }
                }
                if any {
                    rows.push(row);
                }
            }
        }
        Ok(())
    }

    /// The rows of a chunk that starts at byte `base` of the file and ends at a record's end.
    /// Its keys are added to `found`.
    fn chunk(&self, bytes: &[u8], base: u64, found: &mut Found) -> Result<Preview, Unreadable> {
        // Without a quote, a record is a line and a cell what lies between commas: the CSV
        // parser's per-byte work is not needed (a third of the reading's time on a long list).
        if memchr::memchr(b'"', bytes).is_none()
            && let Ok(text) = std::str::from_utf8(bytes)
        {
            return self.plain_chunk(text, base, found);
        }
        self.csv_chunk(bytes, base, found)
    }

    /// `chunk` through the CSV parser: quoted cells (commas and line breaks inside them).
    fn csv_chunk(&self, bytes: &[u8], base: u64, found: &mut Found) -> Result<Preview, Unreadable> {
        let mut preview = Preview::default();
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes);
        // One record and one buffer for values, used again and again: no allocation per row.
        let (mut record, mut scratch) = (csv::StringRecord::new(), String::new());
        loop {
            match reader.read_record(&mut record) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    return Err(Unreadable {
                        at: base + e.position().map_or(0, csv::Position::byte),
                        why: e.to_string(),
                    });
                }
            }
            let cells: Vec<&str> = record.iter().collect();
            if cells.iter().all(|c| blank(c)) {
                continue;
            }
            let at = base + record.position().map_or(0, csv::Position::byte);
            self.row(at, &cells, &mut preview, found, &mut scratch)
                .map_err(|Refused(why)| Unreadable { at, why })?;
        }
        Ok(preview)
    }

    /// `chunk` for text without a quote: the same records, split at line ends (`\n`, `\r` or
    /// both, as the CSV reader ends them) and commas.
    fn plain_chunk(&self, text: &str, base: u64, found: &mut Found) -> Result<Preview, Unreadable> {
        let mut preview = Preview::default();
        let mut scratch = String::new();
        let mut cells: Vec<&str> = Vec::new();
        let mut start = 0;
        while start < text.len() {
            let end = memchr::memchr2(b'\n', b'\r', &text.as_bytes()[start..])
                .map_or(text.len(), |i| start + i);
            let line = &text[start..end];
            let at = base + start as u64;
            start = end + 1;
            cells.clear();
            cells.extend(line.split(','));
            if cells.iter().all(|c| blank(c)) {
                continue;
            }
            self.row(at, &cells, &mut preview, found, &mut scratch)
                .map_err(|Refused(why)| Unreadable { at, why })?;
        }
        Ok(preview)
    }
}

/// Only whitespace, as `str::trim` sees it (without looking further than the first visible
/// character).
fn blank(cell: &str) -> bool {
    !cell.bytes().any(|b| b.is_ascii_graphic()) && cell.trim().is_empty()
}

/// Bytes read at a time, cut back to the last record's end.
const CHUNK: usize = 2 << 20;

/// A file from a byte offset on, in chunks that each end where a record ends: at a line end
/// outside quotes (a quoted cell may hold line breaks).
struct Chunks {
    file: std::fs::File,
    carry: Vec<u8>,
    base: u64,
    done: bool,
    size: usize,
}

impl Chunks {
    fn new(path: &Path, start: u64) -> std::io::Result<Self> {
        use std::io::Seek;
        let mut file = std::fs::File::open(path)?;
        file.seek(std::io::SeekFrom::Start(start))?;
        Ok(Self {
            file,
            carry: Vec::new(),
            base: start,
            done: false,
            size: CHUNK,
        })
    }

    /// Where the last complete record of `bytes` ends, if one does. Without a quote, at the
    /// last line end; with quotes, where the CSV parser itself (same settings as the reader's)
    /// ends a record — a quote only quotes at the start of a cell, so counting quotes would be
    /// thrown off by a name such as `O"Brien`.
    fn boundary(bytes: &[u8]) -> Option<usize> {
        if memchr::memchr(b'"', bytes).is_none() {
            return memchr::memrchr2(b'\n', b'\r', bytes).map(|i| i + 1);
        }
        let mut parser = csv_core::Reader::new();
        // The cells themselves are not needed: the same small buffers are written over.
        let (mut cells, mut ends) = ([0u8; 4096], [0usize; 64]);
        let (mut at, mut end) = (0, None);
        loop {
            let (result, read, _, _) = parser.read_record(&bytes[at..], &mut cells, &mut ends);
            at += read;
            match result {
                csv_core::ReadRecordResult::Record => end = Some(at),
                csv_core::ReadRecordResult::OutputFull
                | csv_core::ReadRecordResult::OutputEndsFull => {}
                csv_core::ReadRecordResult::InputEmpty | csv_core::ReadRecordResult::End => {
                    return end;
                }
            }
        }
    }
}

impl Iterator for Chunks {
    /// The chunk's byte offset in the file, and its bytes.
    type Item = std::io::Result<(u64, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done && self.carry.is_empty() {
            return None;
        }
        let mut bytes = std::mem::take(&mut self.carry);
        let mut wanted = self.size;
        loop {
            if !self.done {
                // `read_to_end` fills the buffer without writing zeros over it first.
                let room = wanted.saturating_sub(bytes.len());
                bytes.reserve_exact(room);
                match (&mut self.file).take(room as u64).read_to_end(&mut bytes) {
                    Ok(n) if n < room => self.done = true,
                    Ok(_) => {}
                    Err(e) => return Some(Err(e)),
                }
            }
            if self.done {
                let base = self.base;
                self.base += bytes.len() as u64;
                return (!bytes.is_empty()).then_some(Ok((base, bytes)));
            }
            match Self::boundary(&bytes) {
                Some(end) => {
                    self.carry = bytes.split_off(end);
                    let base = self.base;
                    self.base += bytes.len() as u64;
                    return Some(Ok((base, bytes)));
                }
                // One record longer than a chunk: read on.
                None => wanted = bytes.len() * 2,
            }
        }
    }
}

/// The column header of a kind in a file of several kinds, as TikTok's help centre spells it
/// (REFERENCE 18.2: the API's own spelling is unconfirmed).
pub fn multiple_header(kind: IdKind) -> &'static str {
    match kind {
        IdKind::Email => "Email_SHA256",
        IdKind::Phone => "Phone_SHA256",
        IdKind::Idfa | IdKind::Gaid => "MAID_SHA256",
    }
}

/// A row key written as TikTok reads it: the cells' hex hashes (blank where none), by commas.
fn row_line<'l>(row: &[u8], line: &'l mut Vec<u8>) -> &'l [u8] {
    line.clear();
    for (n, cell) in row.chunks_exact(ROW_CELL).enumerate() {
        if n > 0 {
            line.push(b',');
        }
        if cell[0] == 1 {
            let start = line.len();
            line.resize(start + 64, 0);
            // 32 bytes always fit 64 hex digits.
            let _ = hex::encode_to_slice(&cell[1..], &mut line[start..]);
        }
    }
    line.push(b'\n');
    line
}

/// A file of several kinds names each TikTok header at most three times.
fn check_multiple(
    columns: &[(usize, IdKind)],
    headers: &[String],
    shown: &str,
) -> Result<(), Refused> {
    let mut by_header: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (i, kind) in columns {
        by_header
            .entry(multiple_header(*kind))
            .or_default()
            .push(&headers[*i]);
    }
    for (header, named) in by_header {
        if named.len() > SAME_HEADER_AT_MOST {
            return Err(Refused(format!(
                "{shown}: {} columns become {header} ({}): TikTok takes at most \
                 {SAME_HEADER_AT_MOST}; choose them with --column",
                named.len(),
                named.join(", ")
            )));
        }
    }
    Ok(())
}

/// The hash of one cell, or none when it is blank or invalid (counted either way).
fn hash_cell(
    cell: Option<&str>,
    kind: IdKind,
    options: &Options,
    line: u64,
    preview: &mut Preview,
    scratch: &mut String,
) -> Result<Option<Hash>, Refused> {
    let Some(raw) = cell.filter(|c| !blank(c)) else {
        preview.blank += 1;
        return Ok(None);
    };
    let hash = match normalize::already_hashed(raw) {
        Some(hex_hash) => {
            preview.already_hashed += 1;
            let mut bytes = [0u8; 32];
            hex::decode_to_slice(hex_hash, &mut bytes)
                .map_err(|_| Refused("a hash that is not hex".into()))?;
            bytes
        }
        None => {
            let normalised = match kind {
                IdKind::Email => normalize::email_into(raw, options.email, scratch),
                IdKind::Phone => {
                    normalize::phone(raw, options.default_country).map(|v| *scratch = v)
                }
                IdKind::Idfa | IdKind::Gaid => normalize::mobile_id(raw).map(|v| *scratch = v),
            };
            match normalised {
                Ok(()) => normalize::sha256(scratch.as_bytes()),
                Err(why) => {
                    let entry = preview.invalid.entry(why).or_insert((0, Vec::new()));
                    entry.0 += 1;
                    if entry.1.len() < FIRST_LINES {
                        entry.1.push(line);
                    }
                    return Ok(None);
                }
            }
        }
    };
    preview.valid += 1;
    Ok(Some(hash))
}

/// Reads, checks and hashes the list at `path`; with `write`, writes its parts.
pub fn prepare(path: &Path, options: &Options, write: bool) -> anyhow::Result<Prepared> {
    prepare_with(path, options, write, BUFFER_HASHES)
}

pub(crate) fn prepare_with(
    path: &Path,
    options: &Options,
    write: bool,
    buffer: usize,
) -> anyhow::Result<Prepared> {
    let shown = path.display().to_string();
    check_text(path)?;
    let multiple = options.kind == Some(TypeChoice::Multiple);
    let file = std::fs::File::open(path).map_err(|e| Refused(format!("{shown}: {e}")))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(std::io::BufReader::with_capacity(1 << 16, file));
    let mut first = csv::StringRecord::new();
    match reader.read_record(&mut first) {
        Ok(true) => {}
        Ok(false) => {
            return Err(Refused(format!("{shown} is empty: there is no one to add")).into());
        }
        Err(e) => return Err(Refused(format!("{shown}: line 1 cannot be read: {e}")).into()),
    }
    let first_cells: Vec<String> = first
        .iter()
        .map(|c| c.trim_start_matches('\u{feff}').trim().to_string())
        .collect();
    // A CSV of several columns has a header; a single column may be values only.
    let has_header = first_cells.len() > 1
        || first_cells.iter().any(|c| kind_of_header(c).is_some())
        || (!options.columns.is_empty()
            && first_cells
                .iter()
                .any(|c| options.columns.iter().any(|w| w.eq_ignore_ascii_case(c))));
    let (columns, headers): (Vec<(usize, IdKind)>, Vec<String>) = if has_header {
        (choose(&first_cells, options, &shown)?, first_cells.clone())
    } else if multiple {
        return Err(Refused(format!(
            "{shown}: --type multiple needs a header row naming each column (email, phone, \
             idfa, gaid)"
        ))
        .into());
    } else {
        let kind = headerless_kind(
            first_cells.first().map_or("", String::as_str),
            options,
            &shown,
        )?;
        (vec![(0, kind)], vec!["(one value per line)".to_string()])
    };
    let kinds: std::collections::BTreeSet<IdKind> = columns.iter().map(|(_, k)| *k).collect();
    let maid = kinds
        .iter()
        .all(|k| matches!(k, IdKind::Idfa | IdKind::Gaid));
    if multiple {
        check_multiple(&columns, &headers, &shown)?;
    } else if kinds.len() > 1 && !maid {
        let named: Vec<String> = columns
            .iter()
            .map(|(i, k)| format!("{} ({})", headers[*i], k.name()))
            .collect();
        return Err(Refused(format!(
            "{shown}: columns of different kinds ({}): choose one kind with --column, or \
             send them together with --type multiple",
            named.join(", ")
        ))
        .into());
    }
    let calculate_type = if multiple {
        MULTIPLE_TYPES
    } else if kinds.len() > 1 || options.kind == Some(TypeChoice::Maid) {
        "FIRST_SHA256"
    } else {
        columns[0].1.calculate_type()
    };
    let mut preview = Preview {
        columns: columns
            .iter()
            .map(|(i, k)| (headers[*i].clone(), *k))
            .collect(),
        calculate_type,
        ..Preview::default()
    };
    // Two threads read, each keeping half of the buffer.
    let half = (buffer / 2).max(1);
    let new_keys = || -> anyhow::Result<Keys> {
        Ok(if multiple {
            let width = columns.len() * ROW_CELL;
            Keys::Rows(Dedup::with_width(half * 32 / width, width)?)
        } else {
            Keys::Hashes(Dedup::new(half)?)
        })
    };
    let mut keys = new_keys()?;
    let reading = Reading {
        columns: &columns,
        options,
        multiple,
    };
    if !has_header {
        let mut found = reading.found();
        let at = first.position().map_or(0, csv::Position::byte);
        let cells: Vec<&str> = first.iter().collect();
        reading.row(at, &cells, &mut preview, &mut found, &mut String::new())?;
        keys.add(&mut found)?;
    }
    // The rest of the file in chunks that end at a record's end, taken in turn by two threads
    // as each is free (never in lockstep, so that neither waits for the other), each keeping
    // its own keys; the counts are added up in file order at the end.
    let chunks = Chunks::new(path, reader.position().byte())
        .map_err(|e| Refused(format!("{shown}: {e}")))?;
    drop(reader);
    let chunks = Mutex::new(chunks.enumerate());
    let failed = AtomicBool::new(false);
    let read_chunks =
        |keys: &mut Keys| -> anyhow::Result<Vec<(usize, Result<Preview, Unreadable>)>> {
            let (mut counts, mut found) = (Vec::new(), reading.found());
            while !failed.load(Ordering::Relaxed) {
                let next = chunks
                    .lock()
                    .map_err(|_| anyhow::anyhow!("a thread reading {shown} stopped"))?
                    .next();
                let Some((n, chunk)) = next else { break };
                let (base, bytes) = chunk.map_err(|e| Refused(format!("{shown}: {e}")))?;
                match reading.chunk(&bytes, base, &mut found) {
                    Ok(count) => {
                        keys.add(&mut found)?;
                        counts.push((n, Ok(count)));
                    }
                    // The chunks before this one are all read (they were taken first): it is the
                    // first unreadable record of the file.
                    Err(unreadable) => {
                        failed.store(true, Ordering::Relaxed);
                        counts.push((n, Err(unreadable)));
                    }
                }
            }
            Ok(counts)
        };
    // Whatever stops one thread (a file that cannot be read, a full disk) stops the other too,
    // rather than let it read to the end of a list whose run has failed.
    let read = |keys: &mut Keys| {
        let counts = read_chunks(keys);
        if counts.is_err() {
            failed.store(true, Ordering::Relaxed);
        }
        counts
    };
    let (mut counts, helper_keys) = std::thread::scope(|scope| {
        let (read, new_keys) = (&read, &new_keys);
        let helper = std::thread::Builder::new()
            .name("audience-read".into())
            .spawn_scoped(scope, move || -> anyhow::Result<_> {
                let mut keys = new_keys()?;
                Ok((read(&mut keys)?, keys))
            })?;
        let mine = read(&mut keys);
        let (theirs, helper_keys) = helper
            .join()
            .map_err(|_| anyhow::anyhow!("a thread reading {shown} stopped"))??;
        let mut counts = mine?;
        counts.extend(theirs);
        anyhow::Ok((counts, helper_keys))
    })?;
    counts.sort_unstable_by_key(|(n, _)| *n);
    for (_, count) in counts {
        preview.add(count.map_err(|u| u.refused(path))?);
    }
    keys.absorb(helper_keys)?;
    if !preview.invalid.is_empty() {
        let offsets: Vec<u64> = preview
            .invalid
            .values()
            .flat_map(|(_, o)| o.iter().copied())
            .collect();
        let lines = lines_at(path, &offsets).map_err(|e| Refused(format!("{shown}: {e}")))?;
        for (_, found) in preview.invalid.values_mut() {
            for offset in found.iter_mut() {
                *offset = lines.get(offset).copied().unwrap_or_default();
            }
        }
    }
    let invalid = preview.invalid_total();
    if invalid * 2 > invalid + preview.valid && !options.allow_invalid {
        return Err(Refused(format!(
            "{shown}: {invalid} of {} values are invalid ({}): almost certainly the wrong column \
             or --default-country; check them, or pass --allow-invalid",
            invalid + preview.valid,
            preview
                .invalid
                .iter()
                .map(|(why, (n, lines))| format!(
                    "{n} {}, first on lines {}",
                    why.reason(),
                    lines
                        .iter()
                        .map(u64::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .collect::<Vec<_>>()
                .join("; ")
        ))
        .into());
    }
    let dir = if write {
        Some(
            tempfile::Builder::new()
                .prefix("tiktok-ads-audience-")
                .tempdir()
                .map_err(|e| anyhow::anyhow!("creating a temporary directory: {e}"))?,
        )
    } else {
        None
    };
    let mut writer = PartWriter::new(
        dir.as_ref().map(tempfile::TempDir::path),
        "part",
        options.part_bytes,
    );
    let (added, unique) = match keys {
        Keys::Hashes(dedup) => (dedup.added(), dedup.finish(|hash| writer.push(hash))?),
        Keys::Rows(dedup) => {
            let names: Vec<&str> = columns.iter().map(|(_, k)| multiple_header(*k)).collect();
            writer = writer.with_header(format!("{}\n", names.join(",")).into_bytes());
            let mut line = Vec::new();
            let added = dedup.added();
            (
                added,
                dedup.finish(|row| writer.push_line(row_line(row, &mut line)))?,
            )
        }
    };
    let parts = writer.finish()?;
    preview.unique = unique;
    preview.duplicates = added - unique;
    preview.parts = parts;
    if unique < TARGETING_FLOOR {
        preview.warnings.push(format!(
            "{unique} distinct IDs: TikTok does not target an audience of fewer than {TARGETING_FLOOR} matched people"
        ));
    }
    Ok(Prepared { preview, dir })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use md5::Digest as _;

    use super::*;

    fn file(dir: &Path, name: &str, text: &[u8]) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn refused(result: anyhow::Result<Prepared>) -> String {
        match result {
            Ok(_) => panic!("accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_list_is_counted_hashed_deduplicated_and_split_into_parts() {
        let dir = tempfile::tempdir().unwrap();
        let jane = normalize::sha256_hex("janedoe@gmail.com");
        let list = format!(
            "Name,Email\nJane,janedoe@gmail.com\nJane again,Jane.Doe+shop@Gmail.com\nNobody,\n\
             Broken,not-an-email\nHashed,{}\nBob,bob@example.com\n",
            jane.to_uppercase()
        );
        let path = file(dir.path(), "list.csv", list.as_bytes());
        let options = Options {
            part_bytes: 65,
            ..Options::default()
        };
        for buffer in [1, 2, BUFFER_HASHES] {
            let prepared = prepare_with(&path, &options, true, buffer).unwrap();
            let p = &prepared.preview;
            assert_eq!((p.rows, p.blank, p.valid, p.already_hashed), (6, 1, 4, 1));
            assert_eq!(
                (p.unique, p.duplicates),
                (2, 2),
                "jane three times, bob once"
            );
            assert_eq!(p.invalid[&Invalid::NoAt], (1, vec![5]));
            assert_eq!(p.calculate_type, "EMAIL_SHA256");
            assert_eq!(p.parts.len(), 2, "one hash a part at 65 bytes");
            let mut hashes = Vec::new();
            for part in &p.parts {
                let text = std::fs::read(part.path.as_ref().unwrap()).unwrap();
                assert_eq!(
                    part.md5.as_deref(),
                    Some(&*hex::encode(md5::Md5::digest(&text)))
                );
                assert_eq!(text.len() as u64, part.bytes);
                hashes.push(String::from_utf8(text).unwrap());
            }
            let all = hashes.concat();
            assert!(all.contains(&jane), "{all}");
            assert!(!all.contains('@') && !all.contains("jane"), "hashes only");
            let dir_path = prepared.dir.as_ref().unwrap().path().to_path_buf();
            drop(prepared);
            assert!(!dir_path.exists(), "the parts go with the run");
        }
        let dry = prepare(&path, &Options::default(), false).unwrap();
        assert!(
            dry.dir.is_none() && dry.preview.parts[0].path.is_none(),
            "a preview writes nothing"
        );
        assert!(
            dry.preview.warnings[0].contains("fewer than 1000"),
            "{:?}",
            dry.preview.warnings
        );
    }

    #[test]
    fn several_kinds_become_rows_of_hashes_under_tiktoks_headers() {
        let dir = tempfile::tempdir().unwrap();
        let list = "Email,Phone,Work email\n\
                    janedoe@gmail.com,+374 93 828222,\n\
                    Jane.Doe@gmail.com,+37493828222,\n\
                    ,+1 657 777 0000,bob@example.com\n\
                    not-an-email,,\n\
                    ,,\n\
                    carol@example.com,,carol@work.example\n";
        let path = file(dir.path(), "crm.csv", list.as_bytes());
        let options = Options {
            kind: Some(TypeChoice::Multiple),
            part_bytes: 200,
            ..Options::default()
        };
        let header = "Email_SHA256,Phone_SHA256,Email_SHA256\n";
        let jane = normalize::sha256_hex("janedoe@gmail.com");
        let armenia = normalize::sha256_hex("37493828222");
        for buffer in [1, BUFFER_HASHES] {
            let prepared = prepare_with(&path, &options, true, buffer).unwrap();
            let p = &prepared.preview;
            assert_eq!(p.calculate_type, "MULTIPLE_TYPES");
            assert_eq!(p.rows, 5, "the blank row is skipped");
            assert_eq!((p.valid, p.unique, p.duplicates), (8, 3, 1), "jane twice");
            assert_eq!(p.invalid[&Invalid::NoAt], (1, vec![5]));
            let mut rows = Vec::new();
            for part in &p.parts {
                let text = std::fs::read_to_string(part.path.as_ref().unwrap()).unwrap();
                assert!(
                    text.starts_with(header),
                    "every part names its columns: {text}"
                );
                assert!(text.len() as u64 <= 200 && text.len() as u64 == part.bytes);
                assert_eq!(
                    part.md5.as_deref(),
                    Some(&*hex::encode(md5::Md5::digest(text.as_bytes())))
                );
                rows.extend(text.lines().skip(1).map(str::to_string));
            }
            assert!(p.parts.len() > 1, "split at 200 bytes");
            assert_eq!(rows.len(), 3);
            assert!(rows.contains(&format!("{jane},{armenia},")), "{rows:?}");
            assert!(
                rows.iter()
                    .any(|r| r.starts_with(',') && r.split(',').count() == 3)
            );
            assert!(rows.iter().all(|r| !r.contains('@')), "hashes only");
        }
        let four = file(
            dir.path(),
            "four.csv",
            b"email,email2,email3,email4\na@b.co,c@d.co,e@f.co,g@h.co\n",
        );
        let why = refused(prepare(&four, &options, false));
        assert!(why.contains("4 columns become Email_SHA256"), "{why}");
        let plain = file(dir.path(), "plain.txt", b"a@b.co\nc@d.co\n");
        assert!(refused(prepare(&plain, &options, false)).contains("needs a header row"));
    }

    #[test]
    fn chunks_end_where_records_end() {
        let dir = tempfile::tempdir().unwrap();
        let text = "email,note\r\na@b.co,\"two\nlines\"\r\nc@d.co,\"say \"\"hi\"\"\nand\r\nbye\"\n\
                    e@f.co,plain\rg@h.co,\"a long cell that is longer than a chunk\"\n\
                    o@b.co,O\"Brien\nx@y.co,\"quoted\"\nz@y.co,end\n";
        let path = file(dir.path(), "notes.csv", text.as_bytes());
        let records = |bytes: &[u8]| -> Vec<Vec<String>> {
            csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(bytes)
                .records()
                .map(|r| r.unwrap().iter().map(str::to_string).collect())
                .collect()
        };
        for size in [1, 3, 7, 16, 1 << 20] {
            let mut chunks = Chunks::new(&path, 12).unwrap();
            chunks.size = size;
            let (mut joined, mut parsed) = (Vec::new(), Vec::new());
            for chunk in chunks {
                let (base, bytes) = chunk.unwrap();
                assert_eq!(base, 12 + joined.len() as u64, "offsets follow the file");
                parsed.extend(records(&bytes));
                joined.extend(bytes);
            }
            assert_eq!(joined, &text.as_bytes()[12..], "chunk size {size}");
            assert_eq!(parsed, records(&text.as_bytes()[12..]), "chunk size {size}");
        }
        // A quote inside a cell quotes nothing: the chunks after it stay small.
        let mut stray = String::from("email,name\nob@b.co,O\"Brien\n");
        for i in 0..200 {
            stray.push_str(&format!("user{i}@example.com,n\n"));
        }
        let path = file(dir.path(), "stray.csv", stray.as_bytes());
        let mut chunks = Chunks::new(&path, 11).unwrap();
        chunks.size = 64;
        let sizes: Vec<usize> = chunks.map(|c| c.unwrap().1.len()).collect();
        assert!(sizes.len() > 20, "{sizes:?}");
        assert!(sizes.iter().all(|&n| n <= 64), "{sizes:?}");
    }

    #[test]
    fn a_list_read_in_many_chunks_counts_as_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = String::from("email,note\n");
        // About 5 MB: three chunks, read by two threads.
        for i in 0..120_000 {
            if i % 50_000 == 7 {
                text.push_str("broken,\"a note\nover two lines\"\n");
            } else {
                text.push_str(&format!("user.{i}@example.com,\"fine\"\n"));
            }
        }
        let path = file(dir.path(), "big.csv", text.as_bytes());
        let p = prepare(&path, &Options::default(), false).unwrap().preview;
        assert_eq!((p.rows, p.valid, p.unique), (120_000, 119_997, 119_997));
        // Line numbers: the header, the rows before, and a second line for each such note above.
        assert_eq!(p.invalid[&Invalid::NoAt], (3, vec![9, 50_010, 100_011]));
        let mut bad = text.into_bytes();
        let at = bad.len() - 30;
        bad[at] = 0xFF;
        let path = file(dir.path(), "bad.csv", &bad);
        let why = refused(prepare(&path, &Options::default(), false));
        assert!(why.contains("line 120004 cannot be read"), "{why}");
    }

    #[test]
    fn a_chunk_without_quotes_reads_as_the_csv_parser_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        let text = "Jane,Jane.Doe+x@Gmail.com,1\r\n\r\nbob,BOB@example.com\n  ,  \n,\n\
                    nobody,,\nshort\rbroken,not-an-email\n\t,\u{200b}\nJosé,JOSÉ@Example.COM\n\
                    spaced, jane doe@example.com ,x,y\nlast,last@example.com";
        let path = file(dir.path(), "plain.csv", text.as_bytes());
        let options = Options::default();
        let columns = [(1, IdKind::Email)];
        let reading = Reading {
            columns: &columns,
            options: &options,
            multiple: false,
        };
        let lines = |p: &Preview| -> BTreeMap<Invalid, (u64, Vec<u64>)> {
            let offsets: Vec<u64> = p.invalid.values().flat_map(|(_, o)| o.clone()).collect();
            let at = lines_at(&path, &offsets).unwrap();
            let mut invalid = p.invalid.clone();
            for (_, found) in invalid.values_mut() {
                found.iter_mut().for_each(|o| *o = at[o]);
            }
            invalid
        };
        let (mut plain_found, mut parsed_found) = (reading.found(), reading.found());
        let (Ok(plain), Ok(parsed)) = (
            reading.plain_chunk(text, 0, &mut plain_found),
            reading.csv_chunk(text.as_bytes(), 0, &mut parsed_found),
        ) else {
            panic!("both read the chunk");
        };
        let (Found::Hashes(plain_hashes), Found::Hashes(parsed_hashes)) =
            (plain_found, parsed_found)
        else {
            panic!("hashes found");
        };
        assert_eq!(plain_hashes, parsed_hashes);
        assert_eq!(plain_hashes.len(), 4);
        let counts = |p: &Preview| (p.rows, p.blank, p.valid, p.already_hashed);
        assert_eq!(counts(&plain), counts(&parsed));
        assert_eq!(counts(&plain), (9, 2, 4, 0));
        assert_eq!(lines(&plain), lines(&parsed));
        assert_eq!(lines(&plain)[&Invalid::NoAt].1, vec![7, 8]);
        assert_eq!(lines(&plain)[&Invalid::BadEmail].1, vec![10]);
        // Bytes that are not UTF-8 in a chunk without quotes: the CSV parser says where.
        let mut found = reading.found();
        match reading.chunk(b"a,b@example.com\nx,\xff@example.com\n", 100, &mut found) {
            Err(unreadable) => assert_eq!(unreadable.at, 116, "{}", unreadable.why),
            Ok(_) => panic!("bytes that are not UTF-8 were read"),
        }
    }

    #[test]
    fn bad_lists_are_refused_with_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let options = Options::default();
        let binary = file(dir.path(), "list.xlsx", b"PK\x03\x04\x00\x00binary");
        assert!(refused(prepare(&binary, &options, false)).contains("is not text"));
        let empty = file(dir.path(), "empty.csv", b"\n\n");
        assert!(refused(prepare(&empty, &options, false)).contains("is empty"));
        let no_column = file(dir.path(), "names.csv", b"name,city\nJane,Paris\n");
        let why = refused(prepare(&no_column, &options, false));
        assert!(
            why.contains("(name, city)") && why.contains("--column"),
            "{why}"
        );
        let mixed = file(
            dir.path(),
            "mixed.csv",
            b"email,phone\na@b.c,+16577770000\n",
        );
        assert!(refused(prepare(&mixed, &options, false)).contains("different kinds"));
        let chosen = prepare(
            &mixed,
            &Options {
                columns: vec!["phone".into()],
                ..Options::default()
            },
            false,
        )
        .unwrap();
        assert_eq!(chosen.preview.calculate_type, "PHONE_SHA256");
        let phones = file(dir.path(), "phones.txt", b"(657) 777-0000\n657 777 0001\n");
        let why = refused(prepare(&phones, &options, false));
        assert!(
            why.contains("2 of 2 values are invalid") && why.contains("--default-country"),
            "{why}"
        );
        let us = Options {
            default_country: Some(phonenumber::country::Id::US),
            ..Options::default()
        };
        assert_eq!(prepare(&phones, &us, false).unwrap().preview.unique, 2);
        let wrong = file(dir.path(), "wrong.csv", b"email\nx\ny\nz@example.com\n");
        assert!(refused(prepare(&wrong, &options, false)).contains("--allow-invalid"));
        // Line numbers are the file's own, blank lines counted.
        let gaps = file(
            dir.path(),
            "gaps.csv",
            b"email\na@example.com\n\n\nbroken\nb@example.com\nc@example.com\n",
        );
        let counted = prepare(&gaps, &options, false).unwrap();
        assert_eq!(counted.preview.invalid[&Invalid::NoAt], (1, vec![5]));
        let allowed = Options {
            allow_invalid: true,
            ..Options::default()
        };
        assert_eq!(prepare(&wrong, &allowed, false).unwrap().preview.valid, 1);
    }
}
