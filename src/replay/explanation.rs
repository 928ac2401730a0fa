//! What in the generated rows makes a migration fail: the rows that repeat the values of a
//! `UNIQUE` key, that hold `NULL` in a `NOT NULL` column, or that reference no row, shown
//! with their values for the failure message.

use std::collections::BTreeSet;

use rusqlite::Connection;

use super::settings::Settings;
use crate::error::sqlite_message;
use crate::error::{Error, Result};
use crate::rows::table::{ordinary_columns, user_tables};
use crate::schema::integrity::existing;
use crate::sql::literal::{quote_identifier, shown};
use crate::sql::tokens::{TokenKind, lex};
use crate::testdb::TestDb;

/// How many generated rows a failure message shows.
pub(crate) const SHOWN: usize = 3;

/// What in the generated rows a failure comes from.
#[derive(Default)]
pub(crate) struct Explanation {
    pub(crate) table: Option<String>,
    pub(crate) column: Option<String>,
    pub(crate) text: String,
}

/// What in the generated rows made `sql` fail with `message`. `work` is at the state
/// `sql` ran on; `settings` make a scratch copy of it.
pub(crate) fn explain(settings: &Settings, work: &TestDb, sql: &str, message: &str) -> Explanation {
    let Ok(conn) = work.connect() else {
        return Explanation::default();
    };
    if let Some(rest) = message.strip_prefix("UNIQUE constraint failed: ") {
        explain_unique(&conn, sql, rest)
    } else if let Some(rest) = message.strip_prefix("NOT NULL constraint failed: ") {
        explain_not_null(&conn, rest)
    } else if message.starts_with("FOREIGN KEY constraint failed") {
        drop(conn);
        explain_foreign_key(settings, work, sql).unwrap_or_default()
    } else {
        Explanation::default()
    }
}

/// Runs `sql` again in a scratch copy, with foreign keys off and outside refinery, and
/// lists the rows `PRAGMA foreign_key_check` then finds.
fn explain_foreign_key(settings: &Settings, work: &TestDb, sql: &str) -> Result<Explanation> {
    let scratch = settings.scratch()?;
    scratch.restore(&work.snapshot()?)?;
    let conn = scratch.connect()?;
    let sqlite = |e| {
        Error::sqlite(
            "re-run the migration with foreign keys off in",
            scratch.path(),
            e,
        )
    };
    conn.pragma_update(None, "foreign_keys", false)
        .map_err(sqlite)?;
    let ran = conn.execute_batch(sql).err();
    let orphans = Orphans::find(&conn, None, &BTreeSet::new()).map_err(sqlite)?;
    let mut text = if orphans.count == 0 && ran.is_none() {
        "with foreign keys off (outside refinery's transaction) it leaves no row that \
         references a missing one: if the application runs its migrations with foreign keys \
         off, as SQLite's procedure for table changes says, check it that way \
         (Replay::foreign_keys_off, the command's --foreign-keys-off)"
            .to_owned()
    } else if orphans.count == 0 {
        "with foreign keys off (outside refinery's transaction) it leaves no row that \
         references a missing one"
            .to_owned()
    } else {
        format!(
            "with foreign keys off (outside refinery's transaction) it leaves {} generated \
             rows that reference no row:\n{}",
            orphans.count,
            orphans.lines.join("\n")
        )
    };
    if let Some(e) = ran {
        text.push_str(&format!(
            "\n(and it fails with foreign keys off too: {})",
            sqlite_message(&e)
        ));
    }
    Ok(Explanation {
        table: orphans.table,
        column: orphans.column,
        text,
    })
}

/// `UNIQUE constraint failed: t.a, t.b` (or `index 'name'`): the values that repeat in the
/// generated rows, compared as the key compares them, and two rows that collide.
fn explain_unique(conn: &Connection, sql: &str, rest: &str) -> Explanation {
    let index = match rest.strip_prefix("index ") {
        Some(name) => unique_index(sql, |index, _, _| {
            index.eq_ignore_ascii_case(name.trim_matches(['\'', '"', '`']))
        }),
        None => None,
    };
    let (table, mut columns) = match &index {
        Some((table, _, names)) => (table.clone(), names.clone()),
        None => split_columns(rest),
    };
    let mut explained = Explanation {
        column: (!columns.is_empty()).then(|| columns.join(", ")),
        table: Some(table.clone()),
        text: String::new(),
    };
    let Some(source) = source_table(conn, &table) else {
        return explained;
    };
    let existing = ordinary_columns(conn, &source).unwrap_or_default();
    // An expression's words that are not columns (function names) are left out.
    columns.retain(|c| existing.iter().any(|e| e.eq_ignore_ascii_case(c)));
    if columns.is_empty() {
        return explained;
    }
    explained.column = Some(columns.join(", "));
    // The key as the migration's `CREATE UNIQUE INDEX` writes it, if it has one over these
    // columns; else as stored, then without case, then without the spaces around.
    let index = index.or_else(|| {
        unique_index(sql, |_, on, names| {
            (on.eq_ignore_ascii_case(&table) || on.eq_ignore_ascii_case(&source))
                && names.len() == columns.len()
                && names
                    .iter()
                    .all(|n| columns.iter().any(|c| c.eq_ignore_ascii_case(n)))
        })
    });
    let quoted: Vec<String> = columns.iter().map(|c| quote_identifier(c)).collect();
    let each = |f: &dyn Fn(&str) -> String| quoted.iter().map(|c| f(c)).collect::<Vec<_>>();
    let ways: Vec<(Vec<String>, &str)> = match &index {
        Some((_, keys, _)) => vec![(keys.clone(), "as the new index compares them")],
        None => vec![
            (quoted.clone(), "as stored"),
            (
                each(&|c| format!("{c} COLLATE NOCASE")),
                "without case, as COLLATE NOCASE compares them",
            ),
            (
                each(&|c| format!("trim({c})")),
                "without the spaces around them",
            ),
            (
                each(&|c| format!("lower(trim({c}))")),
                "without case or the spaces around them",
            ),
        ],
    };
    let not_null: Vec<String> = quoted.iter().map(|c| format!("{c} IS NOT NULL")).collect();
    for (keys, how) in &ways {
        let sql = format!(
            "SELECT {cols}, count(*), group_concat(rowid, ', ') FROM {table} WHERE {not_null} \
             GROUP BY {keys} HAVING count(*) > 1 ORDER BY count(*) DESC, {keys} LIMIT {SHOWN}",
            cols = quoted.join(", "),
            keys = keys.join(", "),
            table = quote_identifier(&source),
            not_null = not_null.join(" AND "),
        );
        let n = columns.len();
        let repeats: rusqlite::Result<Vec<(String, String)>> =
            conn.prepare(&sql).and_then(|mut stmt| {
                stmt.query_map([], |r| {
                    let values: Vec<String> = (0..n)
                        .map(|i| r.get_ref(i).map(shown))
                        .collect::<rusqlite::Result<_>>()?;
                    let count: i64 = r.get(n)?;
                    let rowids: String = r.get::<_, Option<String>>(n + 1)?.unwrap_or_default();
                    Ok((
                        format!(
                            "{} in {count} rows (rowid {})",
                            values.join(", "),
                            shorten_list(&rowids, 8)
                        ),
                        rowids,
                    ))
                })?
                .collect()
            });
        let Ok(repeats) = repeats else {
            return explained;
        };
        let Some((_, rowids)) = repeats.first() else {
            continue;
        };
        let pair: Vec<&str> = rowids.split(", ").take(2).collect();
        let (_, _, rows) = matching_rows(conn, &source, &format!("rowid IN ({})", pair.join(", ")));
        let listed: Vec<String> = repeats.iter().map(|(text, _)| text.clone()).collect();
        explained.text = format!(
            "the generated rows of {source} repeat {} {how}: {}\ntwo rows that collide: {}",
            columns.join(", "),
            listed.join("; "),
            rows.join(" and ")
        );
        return explained;
    }
    explained.text = format!(
        "no value of {source}.{} repeats among the generated rows, as stored, without case \
         or without spaces: the migration changes them first, or the key is an expression",
        columns.join(", ")
    );
    explained
}

/// The first `CREATE UNIQUE INDEX name ON table (keys)` of `sql` that `wanted(name, table,
/// columns)` accepts: its table, its keys as written, and the columns they name.
fn unique_index(
    sql: &str,
    wanted: impl Fn(&str, &str, &[String]) -> bool,
) -> Option<(String, Vec<String>, Vec<String>)> {
    let tokens = lex(sql);
    for (i, token) in tokens.iter().enumerate() {
        if !(token.is_keyword("unique") && tokens.get(i + 1).is_some_and(|t| t.is_keyword("index")))
        {
            continue;
        }
        let mut at = i + 2;
        while tokens
            .get(at)
            .is_some_and(|t| t.is_keyword("if") || t.is_keyword("not") || t.is_keyword("exists"))
        {
            at += 1;
        }
        let name = tokens.get(at)?.identifier()?.to_owned();
        let on = tokens.get(at + 1)?;
        if !on.is_keyword("on") {
            continue;
        }
        let table = tokens.get(at + 2)?.identifier()?.to_owned();
        let open = tokens.get(at + 3)?;
        if open.kind != TokenKind::Punct('(') {
            continue;
        }
        // The keys, split at the commas of the outer parentheses.
        let mut depth = 0usize;
        let mut keys = Vec::new();
        let mut start = open.end;
        let mut names = Vec::new();
        for t in &tokens[at + 4..] {
            match t.kind {
                TokenKind::Punct('(') => depth += 1,
                TokenKind::Punct(')') if depth == 0 => {
                    keys.push(sql[start..t.start].trim().to_owned());
                    break;
                }
                TokenKind::Punct(')') => depth -= 1,
                TokenKind::Punct(',') if depth == 0 => {
                    keys.push(sql[start..t.start].trim().to_owned());
                    start = t.end;
                }
                _ => {
                    if let Some(word) = t.identifier()
                        && !t.is_keyword("collate")
                        && !["nocase", "binary", "rtrim", "asc", "desc"]
                            .iter()
                            .any(|k| word.eq_ignore_ascii_case(k))
                        && !names.iter().any(|n: &String| n.eq_ignore_ascii_case(word))
                    {
                        names.push(word.to_owned());
                    }
                }
            }
        }
        if wanted(&name, &table, &names) {
            return Some((table, keys, names));
        }
    }
    None
}

/// `NOT NULL constraint failed: t.c`: the generated rows with `c` NULL, or that `c` is new.
fn explain_not_null(conn: &Connection, rest: &str) -> Explanation {
    let (table, columns) = split_columns(rest);
    let column = columns.first().cloned().unwrap_or_default();
    let mut explained = Explanation {
        table: Some(table.clone()),
        column: Some(column.clone()),
        text: String::new(),
    };
    let Some(source) = source_table(conn, &table) else {
        return explained;
    };
    let total: i64 = conn
        .query_row(
            &format!("SELECT count(*) FROM {}", quote_identifier(&source)),
            [],
            |r| r.get(0),
        )
        .unwrap_or(0);
    let existing = ordinary_columns(conn, &source).unwrap_or_default();
    if !existing.iter().any(|e| e.eq_ignore_ascii_case(&column)) {
        explained.text = format!(
            "{source} has no column {column} before this migration, so its {total} existing \
             rows need a value for it: give the column a DEFAULT, or a value in the \
             INSERT … SELECT"
        );
        return explained;
    }
    let filter = format!("{} IS NULL", quote_identifier(&column));
    let (count, rowids, rows) = matching_rows(conn, &source, &filter);
    explained.text = if count == 0 {
        format!(
            "no generated row of {source} has {column} NULL: the migration's SQL makes the NULL"
        )
    } else {
        format!(
            "{count} of the {total} generated rows of {source} have {column} NULL (rowid {}), \
             e.g. {}",
            shorten_list(&rowids, 8),
            rows.join("; ")
        )
    };
    explained
}

/// How many rows of `table` match `filter`, their rowids (comma separated) and the first
/// few, shown.
fn matching_rows(conn: &Connection, table: &str, filter: &str) -> (i64, String, Vec<String>) {
    let quoted = quote_identifier(table);
    let (count, rowids) = conn
        .query_row(
            &format!("SELECT count(*), group_concat(rowid, ', ') FROM {quoted} WHERE {filter}"),
            [],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                ))
            },
        )
        .unwrap_or((0, String::new()));
    let columns = ordinary_columns(conn, table).unwrap_or_default();
    let select: Vec<String> = columns.iter().map(|c| quote_identifier(c)).collect();
    let rows = if select.is_empty() {
        Vec::new()
    } else {
        let sql = format!(
            "SELECT {} FROM {quoted} WHERE {filter} LIMIT {SHOWN}",
            select.join(", ")
        );
        conn.prepare(&sql)
            .and_then(|mut stmt| {
                stmt.query_map([], |r| row_text(r, &columns))?
                    .collect::<rusqlite::Result<Vec<String>>>()
            })
            .unwrap_or_default()
    };
    (count, rowids, rows)
}

/// `(a, b) = (1, 'x')` for the current row of `r`, whose columns are `columns`.
fn row_text(r: &rusqlite::Row<'_>, columns: &[String]) -> rusqlite::Result<String> {
    let values: Vec<String> = (0..columns.len())
        .map(|i| r.get_ref(i).map(shown))
        .collect::<rusqlite::Result<_>>()?;
    Ok(format!(
        "({}) = ({})",
        columns.join(", "),
        values.join(", ")
    ))
}

/// `t.a, t.b` → (`t`, [`a`, `b`]).
fn split_columns(list: &str) -> (String, Vec<String>) {
    let mut table = String::new();
    let columns = list
        .split(", ")
        .map(|item| match item.split_once('.') {
            Some((t, c)) => {
                table = t.to_owned();
                c.trim().to_owned()
            }
            None => item.trim().to_owned(),
        })
        .collect();
    (table, columns)
}

/// The table the generated rows of `table` are in: itself when it exists before the
/// migration, else the one a rebuild copies from (`users_new` → `users`, `blogs2` →
/// `blogs`).
fn source_table(conn: &Connection, table: &str) -> Option<String> {
    let tables = user_tables(conn).ok()?;
    let find = |name: &str| {
        tables
            .iter()
            .find(|t| t.eq_ignore_ascii_case(name))
            .cloned()
    };
    if let Some(found) = find(table) {
        return Some(found);
    }
    let lower = table.to_lowercase();
    const AFFIXES: [&str; 8] = ["new", "tmp", "temp", "old", "copy", "backup", "v2", "next"];
    for affix in AFFIXES {
        let stripped = lower
            .strip_suffix(affix)
            .or_else(|| lower.strip_prefix(affix))
            .map(|s| s.trim_matches('_'));
        if let Some(found) = stripped.filter(|s| !s.is_empty()).and_then(find) {
            return Some(found);
        }
    }
    let numbered = lower.trim_end_matches(|c: char| c.is_ascii_digit());
    let numbered = numbered.trim_end_matches('_');
    (numbered.len() < lower.len() && !numbered.is_empty())
        .then(|| find(numbered))
        .flatten()
}

/// One row that references no row: its table, its rowid and the table it references
/// (lower case). Rebuilds that keep their rows' ids keep it.
pub(crate) type OrphanKey = (String, Option<i64>, String);

/// The rows `PRAGMA foreign_key_check` finds, each shown with its values.
pub(crate) struct Orphans {
    pub(crate) count: usize,
    pub(crate) lines: Vec<String>,
    pub(crate) table: Option<String>,
    pub(crate) column: Option<String>,
    /// Every row found, `count` of them.
    pub(crate) keys: BTreeSet<OrphanKey>,
}

impl Orphans {
    /// The rows of the tables in `only` (every table: `None`) that reference no row, but
    /// those in `known` (found at an earlier step).
    pub(crate) fn find(
        conn: &Connection,
        only: Option<&BTreeSet<String>>,
        known: &BTreeSet<OrphanKey>,
    ) -> rusqlite::Result<Orphans> {
        let tables: Vec<Option<String>> = match only {
            None => vec![None],
            Some(only) => existing(conn, only)?.into_iter().map(Some).collect(),
        };
        let mut found: Vec<(String, Option<i64>, String, i64)> = Vec::new();
        let mut check = conn.prepare_cached("SELECT * FROM pragma_foreign_key_check(?1)")?;
        for table in &tables {
            let rows = check
                .query_map([table], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            found.extend(rows);
        }
        let key = |(table, rowid, parent, _): &(String, Option<i64>, String, i64)| -> OrphanKey {
            (table.to_lowercase(), *rowid, parent.to_lowercase())
        };
        found.retain(|row| !known.contains(&key(row)));
        let mut orphans = Orphans {
            count: found.len(),
            lines: Vec::new(),
            table: None,
            column: None,
            keys: found.iter().map(key).collect(),
        };
        for (table, rowid, parent, id) in found.iter().take(SHOWN) {
            let keys: Vec<(String, Option<String>)> = conn
                .prepare(
                    "SELECT \"from\", \"to\" FROM pragma_foreign_key_list(?1) WHERE id = ?2 \
                     ORDER BY seq",
                )?
                .query_map((table, id), |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let from: Vec<String> = keys.iter().map(|k| k.0.clone()).collect();
            let to: Vec<String> = keys
                .iter()
                .map(|k| k.1.clone().unwrap_or_else(|| "its primary key".to_owned()))
                .collect();
            let row = rowid.and_then(|id| {
                let (_, _, rows) = matching_rows(conn, table, &format!("rowid = {id}"));
                rows.into_iter().next()
            });
            let at = rowid.map_or_else(String::new, |id| format!(" rowid {id}"));
            orphans.lines.push(format!(
                "{table}{at}: {} has no match in {parent}({}); the row: {}",
                from.join(", "),
                to.join(", "),
                row.unwrap_or_else(|| "(not found)".to_owned())
            ));
            if orphans.table.is_none() {
                orphans.table = Some(table.clone());
                orphans.column = Some(from.join(", "));
            }
        }
        if found.len() > SHOWN {
            orphans
                .lines
                .push(format!("… and {} more", found.len() - SHOWN));
        }
        Ok(orphans)
    }
}

/// The first `n` items of a comma-separated list, then `…`.
fn shorten_list(list: &str, n: usize) -> String {
    let items: Vec<&str> = list.split(", ").collect();
    if items.len() <= n {
        list.to_owned()
    } else {
        format!("{}, …", items[..n].join(", "))
    }
}
