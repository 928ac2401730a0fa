//! Filling one table: a [`Filler`] generates each row, inserts it, and when SQLite refuses
//! it, changes what the message names and tries again.

use std::collections::HashSet;

use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};

use super::affinity::Affinity;
use super::check_constraint::{
    CHECK_SEARCH_BUDGET, check_expression, check_literals, combinations, text_of_length,
};
use super::column_kind::Kind;
use super::column_values::{awkward, typical};
use super::plan::{Cell, Plan};
use super::rng::{Rng, fnv1a};
use super::table::{ForeignKey, Table};
use super::timestamp::shift_time;
use crate::error::sqlite_message;
use crate::report::TableRows;
use crate::sql::literal::{literal, quote_identifier, type_tag};
use crate::sql::tokens::lex;

/// How many times a row is tried, fixed after each failure, before it is skipped.
const ATTEMPTS: usize = 12;

/// After this many rows refused with none inserted, the rest of a batch is not tried.
const HOPELESS: usize = 5;

/// How many values of each column later rows may repeat.
const MAX_EARLIER: usize = 64;

/// Whether values of this kind repeat from row to row in real data: every kind but flags
/// (which repeat anyway) and timestamps (whose order within a row checks compare).
fn repeats(kind: Kind) -> bool {
    !matches!(kind, Kind::Bool | Kind::Time(_) | Kind::Date(_))
}

/// `text` as another row might hold it, the `way`-th of: in upper case, capitalized, in
/// lower case (ASCII letters only, as `COLLATE NOCASE` folds them), with a space before it,
/// after it, or both; never `text` itself.
fn variant(text: &str, way: u64) -> String {
    let capitalized = || {
        let mut chars = text.chars();
        chars.next().map_or_else(String::new, |first| {
            std::iter::once(first.to_ascii_uppercase())
                .chain(chars)
                .collect()
        })
    };
    let ways: [&dyn Fn() -> String; 6] = [
        &|| text.to_ascii_uppercase(),
        &capitalized,
        &|| text.to_ascii_lowercase(),
        &|| format!(" {text}"),
        &|| format!("{text} "),
        &|| format!(" {text} "),
    ];
    let start = (way % 6) as usize;
    (0..ways.len())
        .map(|n| ways[(start + n) % ways.len()]())
        .find(|v| v != text)
        .unwrap_or_else(|| format!("{text} "))
}

/// Generates and inserts the rows of one table.
pub(crate) struct Filler<'a> {
    conn: &'a Connection,
    table: &'a Table,
    /// The number of the first row.
    start: usize,
    /// Rows to generate.
    rows: usize,
    /// The generator's seed.
    seed: u64,
    plan: Plan,
    rng: Rng,
    /// Per column, values of the rows generated so far, for later rows to repeat.
    earlier: Vec<Vec<Value>>,
}

impl<'a> Filler<'a> {
    /// A filler of `table` generating `rows` rows from `seed`, numbered from `start` (the
    /// rows the table got from earlier fills), so that later rows do not repeat earlier ones.
    pub(crate) fn new(
        conn: &'a Connection,
        table: &'a Table,
        rows: usize,
        seed: u64,
        start: usize,
    ) -> Self {
        let round = (start as u64).rotate_left(32);
        Filler {
            conn,
            table,
            start,
            rows,
            seed,
            plan: Plan::new(conn, table),
            rng: Rng::new(seed ^ fnv1a(table.name.to_lowercase().as_bytes()) ^ round),
            earlier: vec![Vec::new(); table.columns.len()],
        }
    }

    pub(crate) fn run(mut self) -> TableRows {
        let mut rows = TableRows {
            table: self.table.name.clone(),
            inserted: 0,
            skipped: 0,
            skip_reason: None,
            inserts: Vec::new(),
        };
        for i in self.start..self.start + self.rows {
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
                // The first rows all refused: a trigger's rule the generator cannot meet
                // (`RAISE(ABORT, …)`) refuses the rest too; they are counted, not tried.
                if rows.inserted == 0 && rows.skipped == HOPELESS {
                    rows.skipped = self.rows;
                    break;
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
        if nullable && (column.references_later || self.rng.percent(12)) {
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
        let value = if repeats(column.kind) {
            self.maybe_repeat(c, value, distinct)
        } else {
            value
        };
        Cell::Set(column.affinity.apply(value))
    }

    /// `value`, or as real data has them: a value an earlier row of this column holds (one
    /// row in six, where no unique key forbids it), or one equal to it but for case or the
    /// spaces around it (one in ten; one in five under a unique key, which compares bytes),
    /// which a `COLLATE NOCASE` or `trim()` key added later calls the same.
    fn maybe_repeat(&mut self, c: usize, value: Value, distinct: bool) -> Value {
        let earlier = &self.earlier[c];
        let roll = self.rng.below(100);
        let variants = if distinct { 20 } else { 10 };
        let chosen = if earlier.is_empty() {
            value.clone()
        } else if !distinct && roll < 17 {
            earlier[self.rng.below(earlier.len() as u64) as usize].clone()
        } else if (17..17 + variants).contains(&roll) {
            // Under a unique key, mostly case: what `COLLATE NOCASE` catches.
            let way = if distinct { roll % 3 } else { roll % 6 };
            match &earlier[self.rng.below(earlier.len() as u64) as usize] {
                Value::Text(text) => Value::Text(variant(text, way)),
                _ => value.clone(),
            }
        } else {
            value.clone()
        };
        // Later rows repeat the values generated, not the repeats.
        let earlier = &mut self.earlier[c];
        if earlier.len() < MAX_EARLIER {
            earlier.push(value);
        }
        chosen
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
        // A row that references one parent table twice (a recipe including a recipe, a
        // category under a category) points the second reference past the first, in key
        // order: the rows form no cycle, as the application's never do, and recursive views
        // over them end.
        let after = self.earlier_reference_to(row, k).map_or(0, |p| p + 1);
        let choice = if parents.len() <= after {
            None
        } else if self.plan.fk_distinct[k] {
            let n = i + attempt * (self.start + self.rows);
            (n < parents.len() && n >= after).then_some(n)
        } else if nullable && self.rng.percent(10) {
            None
        } else {
            let span = parents.len() - after;
            let pick = self.rng.below(span as u64) as usize;
            Some(after + (pick + attempt) % span)
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

    /// Where in its parent's keys an earlier reference of `row` to the same parent as
    /// foreign key `k` points, if one does.
    fn earlier_reference_to(&self, row: &[Cell], k: usize) -> Option<usize> {
        let fks = &self.table.foreign_keys;
        let parent = &fks[k].parent;
        if self.plan.self_ref[k] {
            return None;
        }
        (0..k)
            .filter(|&e| fks[e].parent.eq_ignore_ascii_case(parent) && fks[e].to == fks[k].to)
            .filter_map(|e| {
                let values: Vec<&Value> = fks[e]
                    .from
                    .iter()
                    .map(|&c| match &row[c] {
                        Cell::Set(v) => Some(v),
                        Cell::Omit => None,
                    })
                    .collect::<Option<_>>()?;
                self.plan.parents[e]
                    .iter()
                    .position(|keys| keys.iter().zip(&values).all(|(a, b)| a == *b))
            })
            .max()
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
            // A column left out is written as what SQLite would put there (`NULL` numbers a
            // rowid alias; a default, evaluated once): one statement for every row, prepared
            // once, with the table's triggers compiled into it once.
            let value = match cell {
                Cell::Set(value) => Some(value.clone()),
                Cell::Omit if column.rowid_alias => Some(Value::Null),
                Cell::Omit => self.plan.defaults.get(&column.position).cloned(),
            };
            if let Some(value) = value {
                names.push(quote_identifier(&column.name));
                values.push(value);
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
        let n = i + salt * (self.start + self.rows).max(1);
        column.affinity.apply(typical(column, n, self.seed))
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

/// Satisfying a failed `CHECK` in the row a [`Filler`] is inserting.
impl Filler<'_> {
    /// Changes the columns named in `expr` to the first combination of candidate values
    /// that makes `expr` true (or NULL), evaluated in memory; changes as few as it can.
    pub(crate) fn satisfy_check(&mut self, row: &mut [Cell], i: usize, attempt: usize, expr: &str) {
        let tokens = lex(expr);
        let mut named: Vec<usize> = Vec::new();
        for token in &tokens {
            if let Some(word) = token.identifier()
                && let Some(c) = self
                    .table
                    .columns
                    .iter()
                    .position(|c| c.name.eq_ignore_ascii_case(word))
                && !named.contains(&c)
                && !self.table.columns[c].rowid_alias
            {
                named.push(c);
            }
        }
        if named.is_empty() {
            return;
        }
        let literals = check_literals(&tokens);
        let candidates: Vec<Vec<Cell>> = named
            .iter()
            .map(|&c| self.candidates(row, c, i, &literals))
            .collect();
        let lengths: Vec<usize> = candidates.iter().map(Vec::len).collect();
        let sql = self.check_query(expr);
        let combos = combinations(&lengths, CHECK_SEARCH_BUDGET);
        let with = |combo: &[usize]| {
            let mut trial = row.to_vec();
            for (slot, &pick) in combo.iter().enumerate() {
                trial[named[slot]] = candidates[slot][pick].clone();
            }
            trial
        };
        for combo in &combos {
            let trial = with(combo);
            match self.evaluate(&sql, &trial) {
                Some(true) => {
                    row.clone_from_slice(&trial);
                    return;
                }
                Some(false) => {}
                None => {
                    // It cannot be evaluated apart from the table (it names something only
                    // the table has): insert the combinations in order, one per attempt.
                    if let Some(combo) = combos.get(attempt + 1) {
                        row.clone_from_slice(&with(combo));
                    }
                    return;
                }
            }
        }
    }

    /// The values to try for column `c` of `row`, most wanted first: its own, the literals
    /// of the check, texts of the lengths it names, its default, a plain value, `NULL`.
    fn candidates(&mut self, row: &[Cell], c: usize, i: usize, literals: &[Value]) -> Vec<Cell> {
        let column = &self.table.columns[c];
        let mut out: Vec<Cell> = vec![row[c].clone()];
        let nullable = !column.not_null && !column.primary_key;
        if let Some(k) = self.plan.fk_of[c] {
            let fk = &self.table.foreign_keys[k];
            let slot = fk.from.iter().position(|&f| f == c).unwrap_or(0);
            for parent in self.plan.parents[k].iter().take(4) {
                if let Some(v) = parent.get(slot) {
                    out.push(Cell::Set(v.clone()));
                }
            }
        } else {
            let distinct = self.plan.distinct[c];
            let start = if literals.is_empty() {
                0
            } else {
                self.rng.below(literals.len() as u64) as usize
            };
            for n in 0..literals.len() {
                let literal = &literals[(start + n) % literals.len()];
                let mut values = vec![literal.clone()];
                if let Value::Integer(x) = literal {
                    values.push(Value::Integer(x.saturating_add(1)));
                    values.push(Value::Integer(x.saturating_sub(1)));
                    if matches!(column.affinity, Affinity::Text | Affinity::Blob)
                        && let Ok(len) = usize::try_from(*x)
                        && (1..=4096).contains(&len)
                    {
                        values.push(Value::Text(text_of_length(len, i)));
                        values.push(Value::Text(text_of_length(len + 1, i)));
                    }
                }
                if distinct && let Value::Text(s) = literal {
                    values.push(Value::Text(format!("{s}{i}")));
                }
                out.extend(
                    values
                        .into_iter()
                        .map(|v| Cell::Set(column.affinity.apply(v))),
                );
            }
            if column.default.is_some() && !distinct {
                out.push(Cell::Omit);
            }
            out.push(Cell::Set(self.plain(c, i, 0)));
            if let Kind::Time(_) | Kind::Date(_) = column.kind {
                let base = self.plain(c, i, 0);
                for days in [-1, 1, 30] {
                    out.push(Cell::Set(shift_time(&base, days)));
                }
            }
        }
        if nullable {
            out.push(Cell::Set(Value::Null));
        }
        let mut seen = HashSet::new();
        out.retain(|cell| {
            seen.insert(match cell {
                Cell::Omit => "\u{0}omit".to_owned(),
                Cell::Set(v) => format!("{}:{}", type_tag(v), literal(v)),
            })
        });
        out.truncate(24);
        out
    }

    /// `SELECT` that says whether `expr` holds (true or NULL) for the bound row.
    fn check_query(&self, expr: &str) -> String {
        let columns: Vec<String> = self
            .table
            .columns
            .iter()
            .enumerate()
            .map(|(n, c)| format!("?{} AS {}", n + 1, quote_identifier(&c.name)))
            .collect();
        format!(
            "SELECT (({expr}) IS NULL) OR (CAST(({expr}) AS NUMERIC) <> 0) \
             FROM (SELECT {}) AS {}",
            columns.join(", "),
            quote_identifier(&self.table.name)
        )
    }

    fn evaluate(&self, sql: &str, row: &[Cell]) -> Option<bool> {
        let values: Vec<Value> = row
            .iter()
            .enumerate()
            .map(|(c, cell)| match cell {
                Cell::Set(v) => v.clone(),
                Cell::Omit => self.plan.defaults.get(&c).cloned().unwrap_or(Value::Null),
            })
            .collect();
        let mut stmt = self.conn.prepare_cached(sql).ok()?;
        stmt.query_row(params_from_iter(values.iter()), |r| r.get::<_, bool>(0))
            .ok()
    }
}
