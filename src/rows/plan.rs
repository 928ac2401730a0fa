//! A table's [`Plan`]: the per-row choices of its columns worked out once (which carry
//! unique keys, which belong to foreign keys and the parent rows they may take), and a
//! row's [`Cell`]s.

use std::collections::HashMap;

use rusqlite::Connection;
use rusqlite::types::Value;

use super::column_kind::Kind;
use super::table::Table;
use crate::sql::literal::quote_identifier;

/// A column's value in a row to insert: a value, or left out so its default applies (and
/// for a rowid alias, so SQLite numbers the row).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Omit,
    Set(Value),
}

/// The per-row choices of a table's columns, worked out once.
pub(crate) struct Plan {
    /// Values of the column must differ from row to row (it carries a unique key).
    pub(crate) distinct: Vec<bool>,
    /// Each foreign key takes a parent row no other row took (one-to-one).
    pub(crate) fk_distinct: Vec<bool>,
    /// For each column, the foreign key it belongs to.
    pub(crate) fk_of: Vec<Option<usize>>,
    /// For each foreign key, the parent rows' key values; for one to the table itself,
    /// the rows inserted so far.
    pub(crate) parents: Vec<Vec<Vec<Value>>>,
    /// Which foreign keys reference the table itself.
    pub(crate) self_ref: Vec<bool>,
    /// The value of each column's default, by column position.
    pub(crate) defaults: HashMap<usize, Value>,
}

impl Plan {
    /// The plan of `table`, whose parents' rows are in the database of `conn` already.
    pub(crate) fn new(conn: &Connection, table: &Table) -> Self {
        let columns = &table.columns;
        let mut fk_of = vec![None; columns.len()];
        for (k, fk) in table.foreign_keys.iter().enumerate() {
            for &c in &fk.from {
                fk_of[c] = Some(k);
            }
        }
        let mut distinct = vec![false; columns.len()];
        let mut fk_distinct = vec![false; table.foreign_keys.len()];
        for set in &table.unique_sets {
            let covered = set
                .iter()
                .any(|&c| distinct[c] || fk_of[c].is_some_and(|k| fk_distinct[k]));
            if covered {
                continue;
            }
            let own = set
                .iter()
                .copied()
                .filter(|&c| fk_of[c].is_none() && columns[c].kind != Kind::Bool)
                .min_by_key(|&c| usize::from(!columns[c].kind.is_temporal()));
            match own {
                Some(c) => distinct[c] = true,
                None => {
                    if let Some(k) = set.iter().find_map(|&c| fk_of[c]) {
                        fk_distinct[k] = true;
                    } else if let Some(&c) = set.first() {
                        distinct[c] = true;
                    }
                }
            }
        }
        let mut parents = Vec::with_capacity(table.foreign_keys.len());
        let mut self_ref = Vec::with_capacity(table.foreign_keys.len());
        for fk in &table.foreign_keys {
            let is_self = fk.parent.eq_ignore_ascii_case(&table.name);
            self_ref.push(is_self);
            parents.push(if is_self {
                Vec::new()
            } else {
                parent_keys(conn, &fk.parent, &fk.to).unwrap_or_default()
            });
        }
        let mut defaults = HashMap::new();
        for column in columns {
            if let Some(default) = &column.default
                && let Ok(value) =
                    conn.query_row(&format!("SELECT {default}"), [], |r| r.get::<_, Value>(0))
            {
                defaults.insert(column.position, column.affinity.apply(value));
            }
        }
        Plan {
            distinct,
            fk_distinct,
            fk_of,
            parents,
            self_ref,
            defaults,
        }
    }
}

/// The key values of every row of `parent`, in key order.
fn parent_keys(
    conn: &Connection,
    parent: &str,
    to: &[String],
) -> rusqlite::Result<Vec<Vec<Value>>> {
    let columns: Vec<String> = to.iter().map(|c| quote_identifier(c)).collect();
    let not_null: Vec<String> = columns.iter().map(|c| format!("{c} IS NOT NULL")).collect();
    let sql = format!(
        "SELECT DISTINCT {cols} FROM {table} WHERE {not_null} ORDER BY {cols} LIMIT 100000",
        cols = columns.join(", "),
        table = quote_identifier(parent),
        not_null = not_null.join(" AND "),
    );
    conn.prepare(&sql)?
        .query_map([], |r| {
            (0..columns.len()).map(|n| r.get::<_, Value>(n)).collect()
        })?
        .collect()
}
