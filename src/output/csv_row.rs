//! CSV records as the `csv` crate writes them with its defaults — a cell in quotes only when it
//! holds a comma, a quote or a line break (quotes doubled inside), `\n` after each record, a
//! record of one empty cell written `""` — encoded straight into a line buffer without the
//! crate's per-field state machine: a million-row export writes fourteen million cells. A test
//! holds the two equal.

/// Appends one record of `cells` to `line`.
pub(crate) fn encode<'a>(line: &mut Vec<u8>, cells: impl Iterator<Item = &'a [u8]>) {
    let mut count = 0usize;
    let mut last_empty = true;
    for cell in cells {
        if count > 0 {
            line.push(b',');
        }
        if needs_quotes(cell) {
            quote(line, cell);
        } else {
            line.extend_from_slice(cell);
        }
        count += 1;
        last_empty = cell.is_empty();
    }
    // A line with nothing on it would read back as no record at all.
    if count <= 1 && last_empty {
        line.extend_from_slice(b"\"\"");
    }
    line.push(b'\n');
}

fn needs_quotes(cell: &[u8]) -> bool {
    // No early exit: the loop stays branch-free over the short cells of a report.
    cell.iter().fold(false, |found, &b| {
        found | matches!(b, b',' | b'"' | b'\r' | b'\n')
    })
}

fn quote(line: &mut Vec<u8>, cell: &[u8]) {
    line.push(b'"');
    for piece in cell.split_inclusive(|&b| b == b'"') {
        line.extend_from_slice(piece);
        if piece.last() == Some(&b'"') {
            line.push(b'"');
        }
    }
    line.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_csv_crate(records: &[Vec<&str>]) -> Vec<u8> {
        let mut writer = csv::WriterBuilder::new()
            .flexible(true)
            .from_writer(Vec::new());
        for record in records {
            writer.write_record(record).unwrap();
        }
        writer.into_inner().unwrap()
    }

    fn with_encode(records: &[Vec<&str>]) -> Vec<u8> {
        let mut line = Vec::new();
        for record in records {
            encode(&mut line, record.iter().map(|c| c.as_bytes()));
        }
        line
    }

    #[test]
    fn records_come_out_as_the_csv_crate_writes_them() {
        let tricky = [
            "",
            "a",
            "-",
            "14.680",
            "a,b",
            "\"",
            "a\"b\"",
            "\"\"",
            "line\nbreak",
            "cr\r",
            "\r\n",
            " spaced ",
            "#hash",
            "'single'",
            "tab\there",
            "ünïcødé",
            "😀,",
            ",",
            "a\"\"b",
            "end\"",
        ];
        let mut records: Vec<Vec<&str>> = vec![vec![], vec![""], vec!["", ""], vec!["x"]];
        for a in tricky {
            records.push(vec![a]);
            for b in tricky {
                records.push(vec![a, b]);
                records.push(vec![b, "", a]);
            }
        }
        for record in &records {
            let one = std::slice::from_ref(record);
            assert_eq!(
                String::from_utf8_lossy(&with_encode(one)),
                String::from_utf8_lossy(&with_csv_crate(one)),
                "{record:?}"
            );
        }
        assert_eq!(with_encode(&records), with_csv_crate(&records));
    }
}
