//! The names uploads get in the library. TikTok wants them unique per account (40911) and at
//! most 100 characters; the default, `<file stem>-<first 8 of the MD5>`, is both for any file
//! a user is likely to have, and stays the same for the same bytes (so a rerun asks for the
//! same name).

use std::path::Path;

/// Longest name TikTok keeps (it cuts longer ones, which could make two names one).
pub const MAX_NAME_CHARS: usize = 100;

/// The default template.
pub const DEFAULT_TEMPLATE: &str = "{stem}-{md5}";

/// Why a template cannot name a file.
#[derive(Debug, thiserror::Error)]
pub enum NameError {
    #[error(
        "--name {0:?}: unknown placeholder {{{1}}} (known: {{stem}}, {{ext}}, {{md5}}, {{md5_full}})"
    )]
    UnknownPlaceholder(String, String),
    #[error(
        "{path}: its name {name:?} is {chars} characters, over TikTok's 100: shorten the file's name or give --name a shorter template"
    )]
    TooLong {
        path: String,
        name: String,
        chars: usize,
    },
    #[error("{path}: its name is empty: give --name a template that names it")]
    Empty { path: String },
}

/// The name `template` gives the file at `path` with MD5 `md5`: `{stem}` (file name without
/// its extension), `{ext}`, `{md5}` (first 8 hex digits), `{md5_full}`; `{{`/`}}` for braces.
pub fn render(template: &str, path: &Path, md5: &str) -> Result<String, NameError> {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut name = String::new();
    let mut rest = template;
    while let Some(at) = rest.find(['{', '}']) {
        name.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("{{") {
            name.push('{');
            rest = after;
        } else if let Some(after) = tail.strip_prefix("}}") {
            name.push('}');
            rest = after;
        } else if let Some(close) = tail.find('}').filter(|_| tail.starts_with('{')) {
            let key = &tail[1..close];
            match key {
                "stem" => name.push_str(&stem),
                "ext" => name.push_str(&ext),
                "md5" => name.push_str(md5.get(..8).unwrap_or(md5)),
                "md5_full" => name.push_str(md5),
                other => {
                    return Err(NameError::UnknownPlaceholder(
                        template.to_string(),
                        other.to_string(),
                    ));
                }
            }
            rest = &tail[close + 1..];
        } else {
            name.push_str(&tail[..1]);
            rest = &tail[1..];
        }
    }
    name.push_str(rest);
    let shown = path.display().to_string();
    let chars = name.chars().count();
    if name.trim().is_empty() {
        return Err(NameError::Empty { path: shown });
    }
    if chars > MAX_NAME_CHARS {
        return Err(NameError::TooLong {
            path: shown,
            name,
            chars,
        });
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MD5: &str = "9e107d9d372bb6826bd81d3542a419d6";

    #[test]
    fn the_default_is_the_stem_and_the_start_of_the_md5() {
        let name = render(DEFAULT_TEMPLATE, Path::new("/media/spring promo.mp4"), MD5).unwrap();
        assert_eq!(name, "spring promo-9e107d9d");
        let custom = render(
            "{{launch}} {stem}.{ext} {md5_full}",
            Path::new("a.mov"),
            MD5,
        );
        assert_eq!(custom.unwrap(), format!("{{launch}} a.mov {MD5}"));
    }

    #[test]
    fn names_over_100_characters_and_unknown_placeholders_are_refused() {
        let long = format!("{}.mp4", "é".repeat(95));
        let error = render(DEFAULT_TEMPLATE, Path::new(&long), MD5).unwrap_err();
        assert!(
            matches!(error, NameError::TooLong { chars: 104, .. }),
            "{error}"
        );
        let exact = format!("{}.mp4", "é".repeat(91));
        assert_eq!(
            render(DEFAULT_TEMPLATE, Path::new(&exact), MD5)
                .unwrap()
                .chars()
                .count(),
            100
        );
        assert!(matches!(
            render("{stem}-{date}", Path::new("a.mp4"), MD5),
            Err(NameError::UnknownPlaceholder(_, key)) if key == "date"
        ));
    }
}
