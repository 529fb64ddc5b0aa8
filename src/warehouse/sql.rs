//! SQL shared by the databases: quoted identifiers, and the statements that make a table fit
//! a shape (create it, or add a column per new metric; never drop anything).

use super::{ColumnKind, TableShape, WarehouseError};

/// An SQL identifier, quoted.
pub(crate) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// How a database spells a table's columns.
pub(crate) struct Dialect {
    pub column_type: fn(ColumnKind) -> &'static str,
    /// The type of `synced_at`.
    pub timestamp: &'static str,
    /// After `CREATE TABLE (...)`.
    pub table_options: &'static str,
}

/// The statements that make a table fit `shape`, given the columns it has (none: it does not
/// exist) and its key: a `CREATE TABLE`, or an `ALTER TABLE ... ADD COLUMN` per new metric. A
/// table with another key is refused, with the fix; nothing is ever dropped.
pub(crate) fn fit_table(
    shape: &TableShape,
    existing: &[String],
    existing_key: &[String],
    dialect: &Dialect,
) -> Result<Vec<String>, WarehouseError> {
    let table = quote(&shape.name);
    let key_names: Vec<&str> = shape.key.iter().map(|c| c.name.as_str()).collect();
    if existing.is_empty() {
        let columns: Vec<String> = shape
            .key
            .iter()
            .chain(&shape.metrics)
            .map(|c| format!("{} {}", quote(&c.name), (dialect.column_type)(c.kind)))
            .chain(std::iter::once(format!(
                "synced_at {} NOT NULL",
                dialect.timestamp
            )))
            .collect();
        let key: Vec<String> = key_names.iter().map(|k| quote(k)).collect();
        return Ok(vec![format!(
            "CREATE TABLE {table} ({}, PRIMARY KEY ({})){}",
            columns.join(", "),
            key.join(", "),
            dialect.table_options
        )]);
    }
    let mut wanted = key_names.clone();
    let mut have: Vec<&str> = existing_key.iter().map(String::as_str).collect();
    wanted.sort_unstable();
    have.sort_unstable();
    if wanted != have {
        return Err(WarehouseError::Shape(format!(
            "table {} exists with another shape (key {}; this sync's is {}): nothing was \
             changed. Sync this report into another table with --table NAME, or rename the old \
             table yourself",
            shape.name,
            existing_key.join(", "),
            key_names.join(", ")
        )));
    }
    Ok(shape
        .metrics
        .iter()
        .filter(|m| !existing.contains(&m.name))
        .map(|m| {
            format!(
                "ALTER TABLE {table} ADD COLUMN {} {}",
                quote(&m.name),
                (dialect.column_type)(m.kind)
            )
        })
        .collect())
}
