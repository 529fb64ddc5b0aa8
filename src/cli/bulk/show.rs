//! A plan as people read it: per account, each entity's changes (from → to), refusals and
//! warnings, then one summary line.

use std::fmt::Write as _;

use crate::bulk::plan::{Plan, Summary, shown};

pub(crate) fn plan(plan: &Plan) -> String {
    let mut out = String::new();
    for (account, entries) in plan.by_account() {
        let account = if account.is_empty() {
            "(no account)"
        } else {
            account
        };
        let _ = writeln!(out, "ad account {account}");
        for entry in entries {
            let name = entry
                .name
                .as_deref()
                .map(|n| format!(" {n:?}"))
                .unwrap_or_default();
            let line = entry
                .line
                .map(|l| format!(" (line {l})"))
                .unwrap_or_default();
            let _ = writeln!(out, "  {} {}{name}{line}", entry.level.name(), entry.id);
            if entry.refused.is_empty() {
                for change in &entry.changes {
                    let _ = writeln!(
                        out,
                        "      {}: {} → {}",
                        change.field,
                        shown(&change.from),
                        shown(&change.to)
                    );
                }
            } else {
                for why in &entry.refused {
                    let _ = writeln!(out, "      refused: {why}");
                }
            }
            for warning in &entry.warnings {
                let _ = writeln!(out, "      warning: {warning}");
            }
        }
    }
    let _ = writeln!(out, "{}", summary(&plan.summary()));
    out
}

pub(crate) fn summary(s: &Summary) -> String {
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    format!(
        "plan: {} to {} in {}; {} refused; {}",
        plural(s.changes, "change", "changes"),
        plural(s.entities, "entity", "entities"),
        plural(s.accounts, "ad account", "ad accounts"),
        s.refused,
        plural(s.warnings, "warning", "warnings"),
    )
}
