//! The output formats and how `auto` picks one.

use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FormatChoice {
    /// Table on a terminal; otherwise from the -o extension, else CSV.
    #[default]
    Auto,
    Table,
    Csv,
    Json,
    Ndjson,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Csv,
    Json,
    Ndjson,
}

impl FormatChoice {
    /// The format to write: the one chosen, else from the `-o` file's extension (an extension no
    /// format has is an error, not silently CSV), else a table on a terminal and CSV in a pipe.
    pub fn resolve(
        self,
        stdout_is_terminal: bool,
        output: Option<&Path>,
    ) -> Result<Format, String> {
        Ok(match self {
            FormatChoice::Table => Format::Table,
            FormatChoice::Csv => Format::Csv,
            FormatChoice::Json => Format::Json,
            FormatChoice::Ndjson => Format::Ndjson,
            FormatChoice::Auto => match output {
                Some(path) => from_extension(path)?,
                None if stdout_is_terminal => Format::Table,
                None => Format::Csv,
            },
        })
    }
}

fn from_extension(path: &Path) -> Result<Format, String> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        None | Some("csv") => Ok(Format::Csv),
        Some("json") => Ok(Format::Json),
        Some("ndjson" | "jsonl") => Ok(Format::Ndjson),
        Some("txt") => Ok(Format::Table),
        Some(other) => Err(format!(
            "-o {}: no output format is written as .{other}: use .csv, .json, .ndjson (or .jsonl), \
             .txt (a table), or choose one with --format",
            path.display()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_is_table_on_a_terminal_and_csv_in_a_pipe() {
        let auto = |terminal, path: Option<&str>| {
            FormatChoice::Auto.resolve(terminal, path.map(Path::new))
        };
        assert_eq!(auto(true, None), Ok(Format::Table));
        assert_eq!(auto(false, None), Ok(Format::Csv));
        assert_eq!(auto(true, Some("a.json")), Ok(Format::Json));
        assert_eq!(auto(true, Some("a.jsonl")), Ok(Format::Ndjson));
        assert_eq!(auto(true, Some("report")), Ok(Format::Csv));
        assert!(auto(true, Some("a.xlsx")).unwrap_err().contains(".xlsx"));
        assert_eq!(
            FormatChoice::Json.resolve(true, Some(Path::new("a.xlsx"))),
            Ok(Format::Json)
        );
    }
}
