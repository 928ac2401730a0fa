//! A `CHECK` constraint that SQLite refused a row for: its expression (SQLite names a named
//! one only by its name), its literals, and values of the columns it names that satisfy it,
//! searched in memory, fewest changed columns first.

use std::collections::HashSet;

use rusqlite::types::Value;

use crate::sql::literal::{literal, type_tag};
use crate::sql::tokens::{Token, TokenKind, lex};

/// The most combinations of candidate values tried, in memory, to satisfy one `CHECK`.
pub(crate) const CHECK_SEARCH_BUDGET: usize = 4000;

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
pub(crate) fn check_literals(tokens: &[Token]) -> Vec<Value> {
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

/// A text of exactly `len` characters that holds `i`, for `length(x) BETWEEN a AND b`.
pub(crate) fn text_of_length(len: usize, i: usize) -> String {
    let mut text = format!("{i}-");
    while text.chars().count() < len {
        text.push('x');
    }
    text.chars().take(len).collect()
}

/// Every combination of one candidate per slot, those that change fewer slots (pick 0 is a
/// slot's current value) first, at most `budget` of them.
pub(crate) fn combinations(lengths: &[usize], budget: usize) -> Vec<Vec<usize>> {
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
        let found: Vec<String> = check_literals(&tokens).iter().map(literal).collect();
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
