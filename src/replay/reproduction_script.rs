//! The SQL script kept when a check over generated rows fails: the database as it was
//! before the migration (its tables, every row, then its indexes, views and triggers), then
//! what ran, so that `sqlite3 < script` shows the failure again.

use std::path::PathBuf;

use refinery::Migration;
use rusqlite::Connection;

use crate::migrations::history::HISTORY_TABLES;
use crate::rows::table::{ordinary_columns, user_tables};
use crate::sql::literal::{literal_ref, quote_identifier};
use crate::{DataOptions, Error, Result, TestDb, Version};

/// A part of a reproduction script after the rows.
pub(crate) struct Section {
    pub(crate) comment: String,
    pub(crate) sql: String,
    pub(crate) transaction: bool,
}

impl Section {
    pub(crate) fn plain(comment: &str, sql: &str) -> Section {
        Section {
            comment: comment.to_owned(),
            sql: sql.to_owned(),
            transaction: false,
        }
    }
}

/// Writes a script that reproduces a failure of `migration`, which ran on `db` at
/// `previous`, into a new temp folder that is kept: `db`'s schema and rows, then
/// `sections`. No path goes into it.
pub(crate) fn write_script(
    db: &TestDb,
    migration: &Migration,
    previous: Option<Version>,
    options: &DataOptions,
    sections: &[Section],
) -> Result<PathBuf> {
    let conn = db.connect()?;
    let dump = Dump::of(&conn).map_err(|e| Error::sqlite("read the rows of", db.path(), e))?;
    let mut text = String::new();
    let at = previous.map_or_else(|| "no migration applied".to_owned(), |v| format!("V{v}"));
    text.push_str(&format!(
        "-- sqlite-testdb: reproduces a failure of the checks over generated rows at {migration}\n\
         -- (seed {}, {} rows per table). Run it with: sqlite3 < this file\n\n\
         -- The database at {at}: its tables, their rows ({} in all), then its indexes,\n\
         -- views and triggers, from sqlite_master\n\
         PRAGMA foreign_keys = OFF;\nBEGIN;\n",
        options.seed_value(),
        options.rows(),
        dump.rows,
    ));
    for statement in &dump.tables {
        text.push_str(statement);
        text.push_str(";\n");
    }
    text.push_str(&dump.inserts);
    for statement in &dump.others {
        text.push_str(statement);
        text.push_str(";\n");
    }
    text.push_str("COMMIT;\nPRAGMA foreign_keys = ON;\n");
    for section in sections {
        text.push_str(&format!("\n-- {}\n", section.comment));
        if section.transaction {
            text.push_str("BEGIN;\n");
        }
        text.push_str(section.sql.trim_end());
        text.push('\n');
        if section.transaction {
            text.push_str("COMMIT;\n");
        }
    }

    let parent = std::env::temp_dir();
    let dir = tempfile::Builder::new()
        .prefix("sqlite-testdb-replay-")
        .tempdir_in(&parent)
        .map_err(|e| Error::io("create a folder for a reproduction script in", &parent, e))?
        .keep();
    let path = dir.join(format!("{migration}.sql"));
    std::fs::write(&path, text).map_err(|e| Error::io("write reproduction script", &path, e))?;
    Ok(path)
}

/// A database as SQL: its tables, its rows as `INSERT`s, its other objects.
struct Dump {
    tables: Vec<String>,
    inserts: String,
    rows: usize,
    others: Vec<String>,
}

impl Dump {
    /// Not SQLite's own objects, not refinery's history, not virtual tables' shadow tables.
    fn of(conn: &Connection) -> rusqlite::Result<Dump> {
        let filled = user_tables(conn)?;
        let mut tables = Vec::new();
        let mut others = Vec::new();
        let mut statement = conn.prepare(
            "SELECT type = 'table', name, sql FROM sqlite_master WHERE sql IS NOT NULL \
             AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT IN (?1, ?2, ?3) \
             ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 WHEN 'view' THEN 2 \
             ELSE 3 END, rowid",
        )?;
        let mut rows = statement.query(HISTORY_TABLES)?;
        while let Some(row) = rows.next()? {
            let name: String = row.get(1)?;
            let sql: String = row.get(2)?;
            if !row.get::<_, bool>(0)? {
                others.push(sql);
            } else if filled.contains(&name)
                || sql.to_ascii_uppercase().starts_with("CREATE VIRTUAL")
            {
                // A virtual table makes its shadow tables itself.
                tables.push(sql);
            }
        }
        let mut inserts = String::new();
        let mut count = 0;
        for table in filled {
            let columns = ordinary_columns(conn, &table)?;
            if columns.is_empty() {
                continue;
            }
            let names: Vec<String> = columns.iter().map(|c| quote_identifier(c)).collect();
            let names = names.join(", ");
            let head = format!("INSERT INTO {}({names}) VALUES (", quote_identifier(&table));
            let mut select =
                conn.prepare(&format!("SELECT {names} FROM {}", quote_identifier(&table)))?;
            let mut rows = select.query([])?;
            while let Some(row) = rows.next()? {
                let values = (0..columns.len())
                    .map(|i| row.get_ref(i).map(literal_ref))
                    .collect::<rusqlite::Result<Vec<String>>>()?;
                inserts.push_str(&head);
                inserts.push_str(&values.join(", "));
                inserts.push_str(");\n");
                count += 1;
            }
        }
        Ok(Dump {
            tables,
            inserts,
            rows: count,
            others,
        })
    }
}
