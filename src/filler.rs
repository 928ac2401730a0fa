//! Filling one table: a [`Filler`] generates each row, inserts it, and when SQLite refuses
//! it, changes what the message names and tries again.

use std::collections::HashMap;

use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};

use crate::check_constraint::check_expression;
use crate::column_kind::Kind;
use crate::column_values::{awkward, typical};
use crate::data::DataOptions;
use crate::generated_rows::TableRows;
use crate::literal::{literal, quote_identifier};
use crate::rng::{Rng, fnv1a};
use crate::sqlite_message::sqlite_message;
use crate::table::{ForeignKey, Table};

/// How many times a row is tried, fixed after each failure, before it is skipped.
const ATTEMPTS: usize = 12;

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
}

pub(crate) struct Filler<'a> {
    pub(crate) conn: &'a Connection,
    pub(crate) table: &'a Table,
    pub(crate) options: &'a DataOptions,
    pub(crate) plan: Plan,
    pub(crate) rng: Rng,
    pub(crate) defaults: HashMap<usize, Value>,
}

impl<'a> Filler<'a> {
    pub(crate) fn new(
        conn: &'a Connection,
        table: &'a Table,
        options: &'a DataOptions,
    ) -> rusqlite::Result<Self> {
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
            if let Some(default) = &column.default {
                let value = conn
                    .query_row(&format!("SELECT {default}"), [], |r| r.get::<_, Value>(0))
                    .unwrap_or(Value::Null);
                defaults.insert(column.position, column.affinity.apply(value));
            }
        }
        Ok(Filler {
            conn,
            table,
            options,
            plan: Plan {
                distinct,
                fk_distinct,
                fk_of,
                parents,
                self_ref,
            },
            rng: Rng::new(options.seed_value() ^ fnv1a(table.name.to_lowercase().as_bytes())),
            defaults,
        })
    }

    pub(crate) fn run(mut self) -> TableRows {
        let mut rows = TableRows {
            table: self.table.name.clone(),
            inserted: 0,
            skipped: 0,
            skip_reason: None,
            inserts: Vec::new(),
        };
        for i in 0..self.options.rows() {
            let mut row = self.row(i);
            let mut inserted = false;
            let mut last_error = String::new();
            for attempt in 0..ATTEMPTS {
                match self.insert(&row) {
                    Ok(sql) => {
                        rows.inserts.push(sql);
                        inserted = true;
                        break;
                    }
                    Err(message) => {
                        let fixed = self.fix(&mut row, i, attempt, &message);
                        last_error = message;
                        if !fixed {
                            break;
                        }
                    }
                }
            }
            if inserted {
                rows.inserted += 1;
                self.remember_self_reference(&row);
            } else {
                rows.skipped += 1;
                if rows.skip_reason.is_none() {
                    rows.skip_reason = Some(last_error);
                }
            }
        }
        rows
    }

    /// A fresh row `i`: every column generated, then foreign keys pointed at parents.
    fn row(&mut self, i: usize) -> Vec<Cell> {
        let mut row: Vec<Cell> = (0..self.table.columns.len())
            .map(|c| self.generate(c, i))
            .collect();
        for k in 0..self.table.foreign_keys.len() {
            self.point_foreign_key(&mut row, k, i, 0);
        }
        row
    }

    fn generate(&mut self, c: usize, i: usize) -> Cell {
        let column = &self.table.columns[c];
        if column.rowid_alias {
            return Cell::Omit;
        }
        let distinct = self.plan.distinct[c];
        let nullable = !column.not_null && !column.primary_key;
        if nullable && self.rng.percent(12) {
            return Cell::Set(Value::Null);
        }
        let omit_default = column.default.is_some()
            && !distinct
            && !column.kind.is_temporal()
            && self.rng.percent(10);
        if omit_default {
            return Cell::Omit;
        }
        let value = awkward(column, i, distinct, &mut self.rng);
        Cell::Set(column.affinity.apply(value))
    }

    /// Points foreign key `k` of `row` at a parent row; `NULL` where allowed when there is
    /// none (or sometimes, to have some).
    fn point_foreign_key(&mut self, row: &mut [Cell], k: usize, i: usize, attempt: usize) {
        let fk = &self.table.foreign_keys[k];
        let nullable = fk.from.iter().all(|&c| {
            let column = &self.table.columns[c];
            !column.not_null && !column.primary_key
        });
        let parents = &self.plan.parents[k];
        if parents.is_empty() && !nullable && self.plan.self_ref[k] {
            // The first row of a table that must reference itself references itself.
            if let Some(next) = self.next_rowid_key(fk) {
                for &c in &fk.from {
                    row[c] = Cell::Set(Value::Integer(next));
                }
            }
            return;
        }
        let choice = if parents.is_empty() {
            None
        } else if self.plan.fk_distinct[k] {
            let n = i + attempt * self.options.rows();
            (n < parents.len()).then_some(n)
        } else if nullable && self.rng.percent(10) {
            None
        } else {
            let pick = self.rng.below(parents.len() as u64) as usize;
            Some((pick + attempt) % parents.len())
        };
        match choice {
            Some(p) => {
                for (&c, value) in fk.from.iter().zip(&parents[p]) {
                    row[c] = Cell::Set(self.table.columns[c].affinity.apply(value.clone()));
                }
            }
            None => {
                for &c in &fk.from {
                    let column = &self.table.columns[c];
                    if !column.not_null && !column.primary_key {
                        row[c] = Cell::Set(Value::Null);
                    }
                }
            }
        }
    }

    /// The rowid the next row will get, when `fk` references the table's rowid (or its
    /// alias).
    fn next_rowid_key(&self, fk: &ForeignKey) -> Option<i64> {
        let [to] = fk.to.as_slice() else { return None };
        let is_rowid = to.eq_ignore_ascii_case("rowid")
            || self
                .table
                .columns
                .iter()
                .any(|c| c.rowid_alias && c.name.eq_ignore_ascii_case(to));
        if !is_rowid || self.table.without_rowid {
            return None;
        }
        let sql = format!(
            "SELECT coalesce(max(rowid), 0) + 1 FROM {}",
            quote_identifier(&self.table.name)
        );
        self.conn.query_row(&sql, [], |r| r.get(0)).ok()
    }

    /// Inserts `row`; the `INSERT` with its values as literals, or SQLite's message.
    fn insert(&self, row: &[Cell]) -> std::result::Result<String, String> {
        let mut names = Vec::new();
        let mut values = Vec::new();
        for (column, cell) in self.table.columns.iter().zip(row) {
            if let Cell::Set(value) = cell {
                names.push(quote_identifier(&column.name));
                values.push(value.clone());
            }
        }
        let table = quote_identifier(&self.table.name);
        let (sql, literal_sql) = if names.is_empty() {
            let sql = format!("INSERT INTO {table} DEFAULT VALUES");
            (sql.clone(), format!("{sql};"))
        } else {
            let placeholders: Vec<String> = (1..=values.len()).map(|n| format!("?{n}")).collect();
            let literals: Vec<String> = values.iter().map(literal).collect();
            (
                format!(
                    "INSERT INTO {table} ({}) VALUES ({})",
                    names.join(", "),
                    placeholders.join(", ")
                ),
                format!(
                    "INSERT INTO {table} ({}) VALUES ({});",
                    names.join(", "),
                    literals.join(", ")
                ),
            )
        };
        let result = self
            .conn
            .prepare_cached(&sql)
            .and_then(|mut stmt| stmt.execute(params_from_iter(values.iter())));
        match result {
            Ok(_) => Ok(literal_sql),
            Err(e) => Err(sqlite_message(&e)),
        }
    }

    /// Changes `row` after SQLite refused it with `message`; `false` when there is nothing
    /// left to try.
    fn fix(&mut self, row: &mut [Cell], i: usize, attempt: usize, message: &str) -> bool {
        if attempt + 1 >= ATTEMPTS {
            return false;
        }
        if let Some(expr) = message.strip_prefix("CHECK constraint failed: ") {
            let expr = check_expression(&self.table.sql, expr);
            self.satisfy_check(row, i, attempt, &expr);
            true
        } else if let Some(rest) = message.strip_prefix("NOT NULL constraint failed: ") {
            for c in self.named_columns(rest) {
                row[c] = Cell::Set(self.plain(c, i, attempt));
            }
            true
        } else if let Some(rest) = message.strip_prefix("UNIQUE constraint failed: ") {
            let mut named = self.named_columns(rest);
            if named.is_empty() {
                named = (0..row.len()).filter(|&c| self.plan.distinct[c]).collect();
            }
            for c in named {
                match self.plan.fk_of[c] {
                    Some(k) => self.point_foreign_key(row, k, i, attempt + 1),
                    None => row[c] = Cell::Set(self.plain(c, i, attempt + 1)),
                }
            }
            true
        } else if message.starts_with("FOREIGN KEY constraint failed") {
            for k in 0..self.table.foreign_keys.len() {
                self.point_foreign_key(row, k, i, attempt + 1);
            }
            true
        } else if message.starts_with("cannot store") || message.contains("datatype mismatch") {
            let named = message
                .rsplit_once(" column ")
                .map(|(_, rest)| self.named_columns(rest))
                .unwrap_or_default();
            let all: Vec<usize> = (0..row.len()).collect();
            for c in if named.is_empty() { all } else { named } {
                if self.plan.fk_of[c].is_none() && !self.table.columns[c].rowid_alias {
                    row[c] = Cell::Set(self.plain(c, i, attempt));
                }
            }
            true
        } else {
            false
        }
    }

    /// The columns of this table named in `t.a, t.b` (SQLite's constraint messages).
    fn named_columns(&self, list: &str) -> Vec<usize> {
        list.split(", ")
            .filter_map(|item| {
                let name = item
                    .rsplit_once('.')
                    .map_or(item, |(_, c)| c)
                    .trim_end_matches(|c: char| c.is_whitespace());
                self.table
                    .columns
                    .iter()
                    .position(|c| c.name.eq_ignore_ascii_case(name))
            })
            .collect()
    }

    /// A plain value of column `c` for row `i`, that most checks accept; `salt` makes
    /// another distinct one.
    pub(crate) fn plain(&self, c: usize, i: usize, salt: usize) -> Value {
        let column = &self.table.columns[c];
        let n = i + salt * self.options.rows().max(1);
        column
            .affinity
            .apply(typical(column, n, self.options.seed_value()))
    }

    /// After row inserted: its key, for the foreign keys of the table to itself.
    fn remember_self_reference(&mut self, row: &[Cell]) {
        for k in 0..self.table.foreign_keys.len() {
            if !self.plan.self_ref[k] {
                continue;
            }
            let fk = &self.table.foreign_keys[k];
            let key = if self.table.without_rowid {
                fk.to
                    .iter()
                    .map(|to| {
                        self.table
                            .columns
                            .iter()
                            .position(|c| c.name.eq_ignore_ascii_case(to))
                            .and_then(|c| match &row[c] {
                                Cell::Set(v) => Some(v.clone()),
                                Cell::Omit => None,
                            })
                    })
                    .collect::<Option<Vec<Value>>>()
            } else {
                let columns: Vec<String> = fk.to.iter().map(|t| quote_identifier(t)).collect();
                let sql = format!(
                    "SELECT {} FROM {} WHERE rowid = last_insert_rowid()",
                    columns.join(", "),
                    quote_identifier(&self.table.name)
                );
                self.conn
                    .query_row(&sql, [], |r| {
                        (0..columns.len()).map(|n| r.get::<_, Value>(n)).collect()
                    })
                    .ok()
            };
            if let Some(key) = key
                && !key.iter().any(|v| matches!(v, Value::Null))
            {
                self.plan.parents[k].push(key);
            }
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
