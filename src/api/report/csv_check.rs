//! Proof that a downloaded report CSV is whole before anyone reads it: strict CSV (every record
//! has the header's number of fields), a body that ends with a line break (a cut in the last
//! field keeps the field count but not the newline: `59140` cut to `5914`), and a row count
//! that callers compare with TikTok's own.

use std::io::{Read, Seek};

/// What a sound CSV holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvShape {
    pub header: Vec<String>,
    pub rows: u64,
}

/// Checks the CSV in `file` from its start and leaves the file rewound.
pub(super) fn check(file: &mut std::fs::File) -> Result<CsvShape, String> {
    let io = |e: std::io::Error| format!("reading the download: {e}");
    file.rewind().map_err(io)?;
    let mut tally = Tally {
        inner: std::io::BufReader::new(&mut *file),
        bytes: 0,
        quotes: 0,
        last: None,
    };
    let shape = {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(false)
            .from_reader(&mut tally);
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| format!("the download's header row is not CSV: {e}"))?
            .iter()
            .map(str::to_string)
            .collect();
        let mut record = csv::ByteRecord::new();
        let mut rows = 0u64;
        loop {
            match reader.read_byte_record(&mut record) {
                Ok(true) => rows += 1,
                Ok(false) => break,
                Err(e) => return Err(format!("the download is not sound CSV: {e}")),
            }
        }
        CsvShape { header, rows }
    };
    if tally.bytes == 0 {
        return Err("the download is empty (not even a header row)".into());
    }
    if tally.last != Some(b'\n') {
        return Err(format!(
            "the download ends in the middle of a line ({} bytes): it was cut short",
            tally.bytes
        ));
    }
    // Quotes come in pairs (an escaped quote is doubled): an odd count is a quoted field
    // left open by a cut.
    if tally.quotes % 2 == 1 {
        return Err(format!(
            "the download ends inside a quoted field ({} bytes): it was cut short",
            tally.bytes
        ));
    }
    file.rewind().map_err(io)?;
    Ok(shape)
}

/// Counts what passes through: bytes, quote characters, and the last byte.
struct Tally<R> {
    inner: R,
    bytes: u64,
    quotes: u64,
    last: Option<u8>,
}

impl<R: Read> Read for Tally<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let seen = &buf[..n];
        self.bytes += n as u64;
        self.quotes += seen.iter().filter(|&&b| b == b'"').count() as u64;
        if let Some(&last) = seen.last() {
            self.last = Some(last);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn check_text(text: &str) -> Result<CsvShape, String> {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        check(&mut file)
    }

    #[test]
    fn a_whole_csv_is_counted() {
        let shape = check_text("campaign_id,spend\n1,\"1,5\"\n2,59140\n").unwrap();
        assert_eq!(shape.header, ["campaign_id", "spend"]);
        assert_eq!(shape.rows, 2);
        assert_eq!(check_text("campaign_id,spend\r\n").unwrap().rows, 0);
    }

    #[test]
    fn cut_or_ragged_csv_is_refused() {
        let cut_in_a_field = check_text("campaign_id,spend\n1,14.68\n2,5914").unwrap_err();
        assert!(cut_in_a_field.contains("cut short"), "{cut_in_a_field}");
        let ragged = check_text("campaign_id,spend\n1,14.68\n2\n").unwrap_err();
        assert!(ragged.contains("not sound CSV"), "{ragged}");
        assert!(check_text("").unwrap_err().contains("empty"));
        let open = check_text("a,b\n1,\"open quote\n").unwrap_err();
        assert!(open.contains("quoted field"), "{open}");
        assert_eq!(check_text("a,b\n1,\"say \"\"hi\"\"\"\n").unwrap().rows, 1);
    }
}
