//! Integrity and foreign key checks of a database, as one line per problem.

use rusqlite::Connection;

/// What `PRAGMA integrity_check` reports, one line per problem; empty when it says `ok`.
pub(crate) fn integrity_problems(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let lines: Vec<String> = conn
        .prepare("PRAGMA integrity_check")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(if lines == ["ok"] { Vec::new() } else { lines })
}

/// One line per row that violates a foreign key, naming its table; a foreign key that points
/// at no unique key ("foreign key mismatch") is one line too.
pub(crate) fn foreign_key_problems(conn: &Connection) -> Vec<String> {
    let read = || -> rusqlite::Result<Vec<String>> {
        let mut stmt = conn.prepare("PRAGMA foreign_key_check")?;
        let rows = stmt.query_map([], |r| {
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
    read().unwrap_or_else(|e| vec![e.to_string()])
}
