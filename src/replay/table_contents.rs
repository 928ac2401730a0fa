//! The rows of every table, captured before and after a migration, and compared: the rows
//! and values the migration lost, as [`DataChange`]s.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rusqlite::Connection;
use rusqlite::types::ValueRef;

use super::explanation::SHOWN;
use crate::report::DataChange;
use crate::rows::table::{ordinary_columns, user_tables};
use crate::sql::literal::{quote_identifier, shown};

/// A stored value, comparable and hashable (reals by their bits, `-0.0` as `0.0`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Datum {
    Null,
    Integer(i64),
    Real(u64),
    Text(Vec<u8>),
    Blob(Vec<u8>),
}

impl Datum {
    /// `value` as compared: a number is the same number whatever SQLite stores it as, so a
    /// column whose type changes (`1` → `1.0` under REAL affinity, `42` → `'42'` under TEXT)
    /// keeps its values. An integer beyond 2^53 is the real SQLite would convert it to. A
    /// text is a number only when it is written the way SQLite writes that number (`'42'`,
    /// `'1.5'`; not `'042'` or `' 42'`).
    fn of(value: ValueRef<'_>) -> Datum {
        match value {
            ValueRef::Null => Datum::Null,
            ValueRef::Integer(i) => Datum::integer(i),
            ValueRef::Real(r) => Datum::real(r),
            ValueRef::Text(t) => std::str::from_utf8(t)
                .ok()
                .and_then(Datum::number_text)
                .unwrap_or_else(|| Datum::Text(t.to_vec())),
            ValueRef::Blob(b) => Datum::Blob(b.to_vec()),
        }
    }

    /// Integers a real holds exactly: up to 2^53.
    const EXACT: u64 = 1 << 53;

    /// An integer; beyond 2^53, the real it would be stored as under REAL affinity.
    #[allow(clippy::cast_precision_loss)]
    fn integer(i: i64) -> Datum {
        if i.unsigned_abs() > Self::EXACT {
            Datum::real(i as f64)
        } else {
            Datum::Integer(i)
        }
    }

    /// A real, as the integer it is when it is one (up to 2^53).
    fn real(r: f64) -> Datum {
        #[allow(clippy::cast_precision_loss)]
        let whole = r.fract() == 0.0 && r.abs() <= Self::EXACT as f64;
        if whole {
            // Exact: |r| <= 2^53.
            #[allow(clippy::cast_possible_truncation)]
            return Datum::Integer(r as i64);
        }
        Datum::Real(if r == 0.0 { 0.0f64 } else { r }.to_bits())
    }

    /// The number `text` is written as, if it is written as SQLite writes numbers.
    fn number_text(text: &str) -> Option<Datum> {
        if let Ok(i) = text.parse::<i64>() {
            return (i.to_string() == text).then(|| Datum::integer(i));
        }
        let r = text.parse::<f64>().ok()?;
        let canonical = r.is_finite() && (format!("{r:?}") == text || format!("{r}") == text);
        canonical.then(|| Datum::real(r))
    }

    fn shown(&self) -> String {
        match self {
            Datum::Null => shown(ValueRef::Null),
            Datum::Integer(i) => shown(ValueRef::Integer(*i)),
            Datum::Real(bits) => shown(ValueRef::Real(f64::from_bits(*bits))),
            Datum::Text(t) => shown(ValueRef::Text(t)),
            Datum::Blob(b) => shown(ValueRef::Blob(b)),
        }
    }
}

/// The rows of one table.
pub(crate) struct TableData {
    name: String,
    columns: Vec<String>,
    rows: Vec<Vec<Datum>>,
}

impl TableData {
    /// Whether the table has no row.
    pub(crate) fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// Every table's rows, by lower-case name.
pub(crate) type Tables = BTreeMap<String, TableData>;

/// The rows of every table of the database, or of those in `only` (lower case).
pub(crate) fn capture(
    conn: &Connection,
    only: Option<&BTreeSet<String>>,
) -> rusqlite::Result<Tables> {
    let mut tables = Tables::new();
    for name in user_tables(conn)? {
        if only.is_some_and(|only| !only.contains(&name.to_lowercase())) {
            continue;
        }
        let columns = ordinary_columns(conn, &name)?;
        let rows = if columns.is_empty() {
            Vec::new()
        } else {
            let select: Vec<String> = columns.iter().map(|c| quote_identifier(c)).collect();
            let sql = format!(
                "SELECT {} FROM {}",
                select.join(", "),
                quote_identifier(&name)
            );
            let n = columns.len();
            conn.prepare_cached(&sql)?
                .query_map([], |r| {
                    (0..n)
                        .map(|i| r.get_ref(i).map(Datum::of))
                        .collect::<rusqlite::Result<Vec<_>>>()
                })?
                .collect::<rusqlite::Result<_>>()?
        };
        tables.insert(
            name.to_lowercase(),
            TableData {
                name,
                columns,
                rows,
            },
        );
    }
    Ok(tables)
}

/// What `after` lost of `before`: for every table in both, the rows (by count) and, for
/// every column in both, the values (as multisets) beyond those of the lost rows.
pub(crate) fn compare(before: &Tables, after: &Tables, down: bool) -> Vec<DataChange> {
    let mut changes = Vec::new();
    for (name, old) in before {
        let Some(new) = after.get(name) else { continue };
        let pairs: Vec<(usize, usize)> = old
            .columns
            .iter()
            .enumerate()
            .filter_map(|(i, name)| {
                new.columns
                    .iter()
                    .position(|c| c.eq_ignore_ascii_case(name))
                    .map(|j| (i, j))
            })
            .collect();
        let key = key_column(old, new, &pairs);
        let rows_lost = old.rows.len().saturating_sub(new.rows.len());
        if rows_lost > 0 {
            changes.push(DataChange {
                table: old.name.clone(),
                column: None,
                before: old.rows.len(),
                lost: rows_lost,
                examples: lost_rows(old, new, &pairs, key),
                down,
            });
        }
        for &(i, j) in &pairs {
            let mut left: HashMap<&Datum, usize> = HashMap::new();
            for row in &new.rows {
                *left.entry(&row[j]).or_default() += 1;
            }
            let mut lost = 0;
            let mut missing: Vec<String> = Vec::new();
            for row in &old.rows {
                match left.get_mut(&row[i]) {
                    Some(n) if *n > 0 => *n -= 1,
                    _ => {
                        lost += 1;
                        let shown = format!("{} no longer found", row[i].shown());
                        if missing.len() < SHOWN && !missing.contains(&shown) {
                            missing.push(shown);
                        }
                    }
                }
            }
            if lost > rows_lost {
                let changed = key.map(|key| changed_values(old, new, key, (i, j)));
                changes.push(DataChange {
                    table: old.name.clone(),
                    column: Some(old.columns[i].clone()),
                    before: old.rows.len(),
                    lost: lost - rows_lost,
                    examples: changed.filter(|c| !c.is_empty()).unwrap_or(missing),
                    down,
                });
            }
        }
    }
    changes
}

/// A column in both tables whose values identify the rows in both (unique, not NULL):
/// `id`, say. Prefers one named `id`.
fn key_column(
    old: &TableData,
    new: &TableData,
    pairs: &[(usize, usize)],
) -> Option<(usize, usize)> {
    let identifies = |rows: &[Vec<Datum>], c: usize| {
        let mut seen = std::collections::HashSet::new();
        rows.iter()
            .all(|r| r[c] != Datum::Null && seen.insert(&r[c]))
    };
    let mut candidates: Vec<&(usize, usize)> = pairs.iter().collect();
    candidates.sort_by_key(|(i, _)| !old.columns[*i].eq_ignore_ascii_case("id"));
    candidates
        .into_iter()
        .find(|&&(i, j)| identifies(&old.rows, i) && identifies(&new.rows, j))
        .copied()
}

/// A few rows of `old` that `new` does not have: by key where there is one, else as whole
/// rows over the common columns.
fn lost_rows(
    old: &TableData,
    new: &TableData,
    pairs: &[(usize, usize)],
    key: Option<(usize, usize)>,
) -> Vec<String> {
    let names: Vec<&str> = pairs
        .iter()
        .map(|&(i, _)| old.columns[i].as_str())
        .collect();
    if names.is_empty() {
        return Vec::new();
    }
    let show = |row: &Vec<Datum>| {
        let values: Vec<String> = pairs.iter().map(|&(i, _)| row[i].shown()).collect();
        format!("({}) = ({})", names.join(", "), values.join(", "))
    };
    if let Some((i, j)) = key {
        let kept: std::collections::HashSet<&Datum> = new.rows.iter().map(|r| &r[j]).collect();
        return old
            .rows
            .iter()
            .filter(|r| !kept.contains(&r[i]))
            .take(SHOWN)
            .map(show)
            .collect();
    }
    let mut left: HashMap<Vec<&Datum>, usize> = HashMap::new();
    for row in &new.rows {
        *left
            .entry(pairs.iter().map(|&(_, j)| &row[j]).collect())
            .or_default() += 1;
    }
    let mut examples = Vec::new();
    for row in &old.rows {
        let values: Vec<&Datum> = pairs.iter().map(|&(i, _)| &row[i]).collect();
        match left.get_mut(&values) {
            Some(n) if *n > 0 => *n -= 1,
            _ if examples.len() < SHOWN => examples.push(show(row)),
            _ => {}
        }
    }
    examples
}

/// A few values of column `(i, j)` that changed in rows kept, matched by `key`:
/// `id 3: 'Ada' → 'ADA'`.
fn changed_values(
    old: &TableData,
    new: &TableData,
    (key_old, key_new): (usize, usize),
    (i, j): (usize, usize),
) -> Vec<String> {
    let by_key: HashMap<&Datum, &Vec<Datum>> = new.rows.iter().map(|r| (&r[key_new], r)).collect();
    old.rows
        .iter()
        .filter_map(|row| {
            let now = by_key.get(&row[key_old])?;
            (now[j] != row[i]).then(|| {
                format!(
                    "{} {}: {} → {}",
                    old.columns[key_old],
                    row[key_old].shown(),
                    row[i].shown(),
                    now[j].shown()
                )
            })
        })
        .take(SHOWN)
        .collect()
}
