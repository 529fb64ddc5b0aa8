//! Rules ("pause every ad with CPA over 30 after 3 days"): a TOML file of rules, each a level,
//! a window, a condition over report metrics and entity fields, and an action ([`file`],
//! [`language`]); evaluated against a report and the live entities into the rows of a bulk
//! plan ([`eval`]), so that a rule's changes are checked, guarded, applied, journaled and
//! undone like any bulk change.

pub mod derived;
pub mod eval;
pub mod file;
pub mod language;
