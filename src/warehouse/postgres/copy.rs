//! Rows in COPY's text format, streamed to a part's thread in pieces.

use std::io::Write;

use crate::warehouse::ColumnKind;

/// COPY data handed to a part's thread at once, and how many such pieces may wait.
pub(super) const COPY_PIECE: usize = 256 << 10;

pub(super) const PIECES_WAITING: usize = 8;

/// The piece that says a part's rows are all there (no piece of rows is empty): its thread
/// merges them. A thread whose pieces end without it drops them unmerged (a stopped run).
pub(super) const COMPLETE: Vec<u8> = Vec::new();

/// A value in COPY's text format (`\N` for NULL).
pub(super) fn copy_field(
    out: &mut impl Write,
    value: Option<&str>,
    kind: ColumnKind,
) -> std::io::Result<()> {
    let Some(text) = value else {
        return out.write_all(b"\\N");
    };
    let text = if kind == ColumnKind::Number {
        // TikTok may write a rate with a trailing `%` (REFERENCE 1.5); NUMERIC takes the number.
        text.trim_end_matches('%')
    } else {
        text
    };
    for byte in text.bytes() {
        match byte {
            b'\\' => out.write_all(b"\\\\")?,
            b'\t' => out.write_all(b"\\t")?,
            b'\n' => out.write_all(b"\\n")?,
            b'\r' => out.write_all(b"\\r")?,
            other => out.write_all(&[other])?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_what_copy_reads_specially() {
        let mut out = Vec::new();
        copy_field(&mut out, Some("a\tb\\c\nd"), ColumnKind::Text).unwrap();
        out.push(b'|');
        copy_field(&mut out, None, ColumnKind::Text).unwrap();
        out.push(b'|');
        copy_field(&mut out, Some("1.27%"), ColumnKind::Number).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "a\\tb\\\\c\\nd|\\N|1.27");
    }
}
