//! A `CHECK` constraint that SQLite refused a row for: its expression (SQLite names a named
//! one only by its name), its literals, and values of the columns it names that satisfy it,
//! searched in memory, fewest changed columns first.

use std::collections::HashSet;

use rusqlite::params_from_iter;
use rusqlite::types::Value;

use crate::affinity::Affinity;
use crate::column_kind::Kind;
use crate::filler::{Cell, Filler};
use crate::literal::{literal, quote_identifier, type_tag};
use crate::sql_tokens::{Token, TokenKind, lex};
use crate::timestamp::shift_time;

/// The most combinations of candidate values tried, in memory, to satisfy one `CHECK`.
const CHECK_SEARCH_BUDGET: usize = 4000;

/// The expression of a failed CHECK: SQLite names an unnamed one by its text, a named one
/// (`CONSTRAINT name CHECK (…)`) by its name, whose text is looked up in the table's SQL.
pub(crate) fn check_expression(table_sql: &str, reported: &str) -> String {
    let tokens = lex(table_sql);
    let named = tokens.windows(3).position(|w| {
        w[0].is_keyword("constraint")
            && w[1]
                .identifier()
                .is_some_and(|n| n.eq_ignore_ascii_case(reported))
            && w[2].is_keyword("check")
    });
    let Some(at) = named else {
        return reported.to_owned();
    };
    let mut depth = 0usize;
    let mut start = None;
    for token in &tokens[at + 3..] {
        match &token.kind {
            TokenKind::Punct('(') => {
                if depth == 0 {
                    start = Some(token.end);
                }
                depth += 1;
            }
            TokenKind::Punct(')') => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return start
                        .and_then(|s| table_sql.get(s..token.start))
                        .map_or_else(|| reported.to_owned(), ToOwned::to_owned);
                }
            }
            _ => {}
        }
    }
    reported.to_owned()
}

/// The literals of a CHECK expression: strings and numbers, numbers with both signs.
fn literals(tokens: &[Token]) -> Vec<Value> {
    let mut out = Vec::new();
    for token in tokens {
        match &token.kind {
            TokenKind::Str(s) => out.push(Value::Text(s.clone())),
            TokenKind::Number(n) => {
                if let Ok(i) = n.parse::<i64>() {
                    out.push(Value::Integer(i));
                    out.push(Value::Integer(-i));
                } else if let Ok(r) = n.parse::<f64>() {
                    out.push(Value::Real(r));
                    out.push(Value::Real(-r));
                }
            }
            _ => {}
        }
    }
    let mut seen = HashSet::new();
    out.retain(|v| seen.insert(format!("{}:{}", type_tag(v), literal(v))));
    out
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
        let literals = literals(&tokens);
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
                Cell::Omit => self.defaults.get(&c).cloned().unwrap_or(Value::Null),
            })
            .collect();
        let mut stmt = self.conn.prepare_cached(sql).ok()?;
        stmt.query_row(params_from_iter(values.iter()), |r| r.get::<_, bool>(0))
            .ok()
    }
}

/// A text of exactly `len` characters that holds `i`, for `length(x) BETWEEN a AND b`.
fn text_of_length(len: usize, i: usize) -> String {
    let mut text = format!("{i}-");
    while text.chars().count() < len {
        text.push('x');
    }
    text.chars().take(len).collect()
}

/// Every combination of one candidate per slot, those that change fewer slots (pick 0 is a
/// slot's current value) first, at most `budget` of them.
fn combinations(lengths: &[usize], budget: usize) -> Vec<Vec<usize>> {
    let slots = lengths.len();
    let mut out = Vec::new();
    for changes in 0..=slots {
        let mut chosen = Vec::new();
        subsets(slots, changes, 0, &mut chosen, &mut |subset| {
            let mut picks = vec![0; slots];
            product(lengths, subset, 0, &mut picks, &mut out, budget);
        });
        if out.len() >= budget {
            break;
        }
    }
    out.truncate(budget);
    out
}

fn subsets(n: usize, k: usize, from: usize, chosen: &mut Vec<usize>, f: &mut dyn FnMut(&[usize])) {
    if chosen.len() == k {
        f(chosen);
        return;
    }
    for s in from..n {
        chosen.push(s);
        subsets(n, k, s + 1, chosen, f);
        chosen.pop();
    }
}

fn product(
    lengths: &[usize],
    subset: &[usize],
    depth: usize,
    picks: &mut Vec<usize>,
    out: &mut Vec<Vec<usize>>,
    budget: usize,
) {
    if out.len() >= budget {
        return;
    }
    let Some(&slot) = subset.get(depth) else {
        out.push(picks.clone());
        return;
    };
    for pick in 1..lengths[slot] {
        picks[slot] = pick;
        product(lengths, subset, depth + 1, picks, out, budget);
    }
    picks[slot] = 0;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_checks_are_found_in_the_table_sql() {
        let sql = "CREATE TABLE t (a INT, CONSTRAINT a_positive CHECK (a > (0)), b TEXT)";
        assert_eq!(check_expression(sql, "a_positive"), "a > (0)");
        assert_eq!(check_expression(sql, "b <> ''"), "b <> ''");
    }

    #[test]
    fn literals_are_read_from_expressions() {
        let tokens = lex("status IN ('active', 'it''s') AND version >= 1 AND x > 2.5");
        let found: Vec<String> = literals(&tokens).iter().map(literal).collect();
        assert_eq!(found, ["'active'", "'it''s'", "1", "-1", "2.5", "-2.5"]);
    }

    #[test]
    fn combinations_change_fewest_columns_first() {
        let combos = combinations(&[2, 3], 100);
        assert_eq!(combos[0], [0, 0]);
        assert_eq!(&combos[1..4], [[1, 0], [0, 1], [0, 2]]);
        assert_eq!(combos.len(), 6);
    }
}
