//! Integrity and foreign key checks of a database, as one line per problem.

use std::collections::BTreeSet;

use rusqlite::Connection;

/// What `PRAGMA integrity_check` reports, one line per problem; empty when it says `ok`.
#[cfg(feature = "check")]
pub(crate) fn integrity_problems(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let lines: Vec<String> = conn
        .prepare("PRAGMA integrity_check")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(if lines == ["ok"] { Vec::new() } else { lines })
}

/// [`integrity_problems`] of the tables in `only` (and their indexes) that exist.
#[cfg(feature = "check")]
pub(crate) fn integrity_problems_of(
    conn: &Connection,
    only: &BTreeSet<String>,
) -> rusqlite::Result<Vec<String>> {
    let mut problems = Vec::new();
    let mut check = conn.prepare_cached("SELECT * FROM pragma_integrity_check(?1)")?;
    for table in existing(conn, only)? {
        let lines: Vec<String> = check
            .query_map([&table], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        if lines != ["ok"] {
            problems.extend(lines);
        }
    }
    Ok(problems)
}

/// The tables of `only` that exist in the database of `conn`, as it names them.
pub(crate) fn existing(
    conn: &Connection,
    only: &BTreeSet<String>,
) -> rusqlite::Result<Vec<String>> {
    let mut names = conn.prepare_cached(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND lower(name) = ?1",
    )?;
    let mut found = Vec::new();
    for table in only {
        if let Some(name) = names
            .query_map([table], |r| r.get::<_, String>(0))?
            .next()
            .transpose()?
        {
            found.push(name);
        }
    }
    Ok(found)
}

/// One line per row that violates a foreign key, naming its table; a foreign key that points
/// at no unique key ("foreign key mismatch") is one line too.
pub(crate) fn foreign_key_problems(conn: &Connection) -> Vec<String> {
    foreign_key_problems_in(conn, None)
}

/// [`foreign_key_problems`] of the rows of the tables in `only` (all: `None`).
pub(crate) fn foreign_key_problems_in(
    conn: &Connection,
    only: Option<&BTreeSet<String>>,
) -> Vec<String> {
    let read = |table: Option<&str>| -> rusqlite::Result<Vec<String>> {
        let mut stmt = conn.prepare_cached("SELECT * FROM pragma_foreign_key_check(?1)")?;
        let rows = stmt.query_map([table], |r| {
            let table: String = r.get(0)?;
            let rowid: Option<i64> = r.get(1)?;
            let parent: String = r.get(2)?;
            let rowid = rowid.map_or_else(|| "a row".to_owned(), |id| format!("rowid {id}"));
            Ok(format!(
                "table {table}: {rowid} references a missing row of {parent}"
            ))
        })?;
        rows.collect()
    };
    let found = match only {
        None => read(None),
        Some(only) => existing(conn, only).and_then(|tables| {
            let mut lines = Vec::new();
            for table in tables {
                lines.extend(read(Some(&table))?);
            }
            Ok(lines)
        }),
    };
    found.unwrap_or_else(|e| vec![e.to_string()])
}
