//! The layer rules of `src/lib.rs`, enforced: every module of `src/` imports only the layers
//! (and crates) its row of the table allows. The rules are read from the crate documentation
//! itself, so they are written once; a broken rule names the file and line.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// One row of the table: a layer (module path), the layers it may import, the crates it may
/// not use.
#[derive(Debug)]
struct Rule {
    layer: Vec<String>,
    may_import: Vec<Vec<String>>,
    may_not_use: Vec<String>,
}

/// The `` `a::b` `` names of one table cell.
fn names(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

fn segments(path: &str) -> Vec<String> {
    path.split("::").map(str::to_string).collect()
}

/// The rows of the layer table in the crate documentation.
fn rules(lib_rs: &str) -> Vec<Rule> {
    lib_rs
        .lines()
        .filter_map(|line| line.strip_prefix("//!"))
        .map(str::trim)
        .skip_while(|line| !line.starts_with("| layer |"))
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            Rule {
                layer: segments(&names(cells[1])[0]),
                may_import: names(cells[3]).iter().map(|n| segments(n)).collect(),
                may_not_use: names(cells[4]),
            }
        })
        .collect()
}

/// The rule of the longest layer that `path` is in.
fn rule_for<'a>(rules: &'a [Rule], path: &[String]) -> Option<&'a Rule> {
    rules
        .iter()
        .filter(|r| path.starts_with(&r.layer))
        .max_by_key(|r| r.layer.len())
}

/// The module path of a file under `src/` (`api/transport/client.rs` → `api::transport::client`).
fn module_of(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .with_extension("")
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The crate paths a line of code names: `crate::a::b`, `crate::{a, b::c}`, and `super::`
/// paths that climb out of the module, resolved against `module`.
fn imported(code: &str, module: &[String]) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let bytes = code.as_bytes();
    let mut i = 0;
    while i < code.len() {
        let rest = &code[i..];
        let at_word = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        let (base, after) = if at_word && rest.starts_with("crate::") {
            (Vec::new(), &rest["crate::".len()..])
        } else if at_word && rest.starts_with("super::") {
            let mut climbs = 0;
            let mut after = rest;
            while let Some(more) = after.strip_prefix("super::") {
                climbs += 1;
                after = more;
            }
            if climbs > module.len() {
                break;
            }
            (module[..module.len() - climbs].to_vec(), after)
        } else {
            i += rest.chars().next().map_or(1, char::len_utf8);
            continue;
        };
        for tail in tails(after) {
            let mut path = base.clone();
            path.extend(tail);
            found.push(path);
        }
        i = code.len() - after.len();
    }
    found
}

/// The paths at the start of `text`: `a::b::C` or a `{a::x, b}` group.
fn tails(text: &str) -> Vec<Vec<String>> {
    if let Some(group) = text.strip_prefix('{') {
        let mut depth = 0;
        let mut items = Vec::new();
        let mut start = 0;
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    items.push(&group[start..i]);
                    break;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    items.push(&group[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        return items
            .into_iter()
            .flat_map(|item| tails(item.trim()))
            .collect();
    }
    let path: Vec<String> = text
        .split("::")
        .map(|s| {
            s.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<String>()
        })
        .take_while(|s| !s.is_empty())
        .collect();
    if path.is_empty() { vec![] } else { vec![path] }
}

/// Files declared as test-only modules (`#[cfg(test)] mod name;`).
fn test_only_files(files: &[PathBuf], src: &Path) -> BTreeSet<PathBuf> {
    let mut test_only = BTreeSet::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        let dir = match file.file_name().and_then(|n| n.to_str()) {
            Some("mod.rs" | "lib.rs") => file.parent().unwrap_or(src).to_path_buf(),
            _ => file.with_extension(""),
        };
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        for pair in lines.windows(2) {
            if pair[0] == "#[cfg(test)]"
                && let Some(name) = pair[1]
                    .strip_prefix("mod ")
                    .and_then(|n| n.strip_suffix(';'))
            {
                test_only.insert(dir.join(format!("{name}.rs")));
                test_only.insert(dir.join(name).join("mod.rs"));
            }
        }
    }
    test_only
}

fn rust_files(dir: &Path, into: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path);
        }
    }
}

/// Every import in `src` that its layer's rule does not allow, as `file:line: why`.
fn violations(src: &Path) -> Vec<String> {
    let lib_rs = std::fs::read_to_string(src.join("lib.rs")).expect("src/lib.rs");
    let rules = rules(&lib_rs);
    assert!(!rules.is_empty(), "no layer table in src/lib.rs");
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let test_only = test_only_files(&files, src);
    let mut found = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(src).expect("under src");
        if matches!(relative.to_str(), Some("lib.rs" | "main.rs")) || test_only.contains(file) {
            continue;
        }
        let module = module_of(relative);
        let Some(rule) = rule_for(&rules, &module) else {
            found.push(format!(
                "src/{}: module {} is in no layer of the table in src/lib.rs",
                relative.display(),
                module.join("::")
            ));
            continue;
        };
        let text = std::fs::read_to_string(file).expect("readable source");
        for (number, line) in text.lines().enumerate() {
            if line.starts_with("#[cfg(test)]") {
                // Unit tests at the bottom of a file may reach further.
                break;
            }
            let code = line.split("//").next().unwrap_or_default();
            let at = format!("src/{}:{}", relative.display(), number + 1);
            for path in imported(code, &module) {
                let Some(target) = rule_for(&rules, &path) else {
                    continue;
                };
                if target.layer != rule.layer && !rule.may_import.contains(&target.layer) {
                    found.push(format!(
                        "{at}: `{}` may not import `{}` (src/lib.rs allows it: {})",
                        rule.layer.join("::"),
                        path.join("::"),
                        if rule.may_import.is_empty() {
                            "nothing".to_string()
                        } else {
                            rule.may_import
                                .iter()
                                .map(|l| l.join("::"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        }
                    ));
                }
            }
            for krate in &rule.may_not_use {
                let uses = code.contains(&format!("{krate}::"))
                    && code
                        .split(&format!("{krate}::"))
                        .next()
                        .is_some_and(|before| {
                            !before.ends_with(|c: char| {
                                c.is_ascii_alphanumeric() || c == '_' || c == ':'
                            })
                        });
                if uses {
                    found.push(format!(
                        "{at}: `{}` may not use the crate `{krate}`",
                        rule.layer.join("::")
                    ));
                }
            }
        }
    }
    found
}

#[test]
fn layers_depend_downward_only() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = violations(&src);
    assert!(
        found.is_empty(),
        "imports against the layer rules of src/lib.rs:\n{}",
        found.join("\n")
    );
}

#[test]
fn a_broken_rule_is_named_with_its_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::write(
        src.join("lib.rs"),
        "//! | layer | what | may import | may not use |\n\
         //! |---|---|---|---|\n\
         //! | `cli` | top | `api` | `reqwest` |\n\
         //! | `api` | middle | `api::transport` | |\n\
         //! | `api::transport` | core | | |\n",
    )
    .unwrap();
    std::fs::create_dir_all(src.join("api/transport")).unwrap();
    std::fs::create_dir_all(src.join("cli")).unwrap();
    std::fs::write(
        src.join("api/campaign.rs"),
        "//! crate::cli in a comment is not an import\nuse super::transport::Client;\nuse crate::{api::x, cli::Args};\n",
    )
    .unwrap();
    std::fs::write(
        src.join("api/transport/client.rs"),
        "use super::super::campaign::CAMPAIGN;\n#[cfg(test)]\nmod tests { use crate::cli::X; }\n",
    )
    .unwrap();
    std::fs::write(
        src.join("cli/mod.rs"),
        "use crate::api::Client;\nlet c = reqwest::Client::new();\n#[cfg(test)]\nmod in_process;\n",
    )
    .unwrap();
    std::fs::write(
        src.join("cli/in_process.rs"),
        "let c = reqwest::get(url);\n",
    )
    .unwrap();
    let found = violations(src);
    assert_eq!(found.len(), 3, "{found:#?}");
    assert!(
        found[0].starts_with("src/api/campaign.rs:3: `api` may not import `cli::Args`"),
        "{found:#?}"
    );
    assert!(
        found[1].starts_with("src/api/transport/client.rs:1: `api::transport` may not import `api::campaign::CAMPAIGN`"),
        "{found:#?}"
    );
    assert_eq!(
        found[2],
        "src/cli/mod.rs:2: `cli` may not use the crate `reqwest`"
    );
}
