//! The output formats and how `auto` picks one.

use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
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
    pub fn resolve(self, stdout_is_terminal: bool, output: Option<&Path>) -> Format {
        match self {
            FormatChoice::Table => Format::Table,
            FormatChoice::Csv => Format::Csv,
            FormatChoice::Json => Format::Json,
            FormatChoice::Ndjson => Format::Ndjson,
            FormatChoice::Auto => match output {
                Some(path) => from_extension(path),
                None if stdout_is_terminal => Format::Table,
                None => Format::Csv,
            },
        }
    }
}

fn from_extension(path: &Path) -> Format {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("json") => Format::Json,
        Some("ndjson" | "jsonl") => Format::Ndjson,
        Some("txt") => Format::Table,
        _ => Format::Csv,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_is_table_on_a_terminal_and_csv_in_a_pipe() {
        assert_eq!(FormatChoice::Auto.resolve(true, None), Format::Table);
        assert_eq!(FormatChoice::Auto.resolve(false, None), Format::Csv);
        assert_eq!(
            FormatChoice::Auto.resolve(true, Some(Path::new("a.json"))),
            Format::Json
        );
        assert_eq!(
            FormatChoice::Auto.resolve(true, Some(Path::new("a.jsonl"))),
            Format::Ndjson
        );
        assert_eq!(FormatChoice::Json.resolve(true, None), Format::Json);
    }
}
