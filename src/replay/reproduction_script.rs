//! The SQL script kept when [`replay::check_with_data`](crate::replay::check_with_data)
//! fails: the schema before the migration, the generated rows, then what ran, so that
//! `sqlite3 < script` shows the failure again.

use std::path::PathBuf;

use refinery::Migration;
use rusqlite::Connection;

use crate::migrations::history::HISTORY_TABLE;
use crate::{DataOptions, Error, Result, Version};

/// What a reproduction script starts with: the schema before the migration and the rows.
pub(crate) struct Prelude {
    pub(crate) schema: Vec<String>,
    pub(crate) inserts: String,
    pub(crate) inserted: usize,
}

impl Prelude {
    /// Writes a script that reproduces a failure of `migration`, which ran on a database at
    /// `previous`, into a new temp folder that is kept: the schema before the migration, the
    /// generated rows, then `sections`. No path goes into it.
    pub(crate) fn write_script(
        &self,
        migration: &Migration,
        previous: Option<Version>,
        options: &DataOptions,
        sections: &[Section],
    ) -> Result<PathBuf> {
        let mut text = String::new();
        let at = previous.map_or_else(|| "no migration applied".to_owned(), |v| format!("V{v}"));
        text.push_str(&format!(
            "-- sqlite-testdb: reproduces a failure of replay::check_with_data at {migration}\n\
             -- (seed {}, {} rows per table). Run it with: sqlite3 < this file\n\
             PRAGMA foreign_keys = ON;\n\n-- The schema at {at}, from sqlite_master\n",
            options.seed_value(),
            options.rows(),
        ));
        for statement in &self.schema {
            text.push_str(statement);
            text.push_str(";\n");
        }
        text.push_str(&format!(
            "\n-- The generated rows ({} inserted)\nBEGIN;\n{}COMMIT;\n",
            self.inserted, self.inserts
        ));
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
        std::fs::write(&path, text)
            .map_err(|e| Error::io("write reproduction script", &path, e))?;
        Ok(path)
    }
}

/// A part of a reproduction script after the generated rows.
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

/// The `CREATE` statements of a database, tables first, for a reproduction script:
/// not SQLite's own objects, not refinery's history, not virtual tables' shadow tables.
pub(crate) fn schema_statements(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    conn.prepare(
        "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL \
         AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> ?1 \
         AND tbl_name NOT IN (SELECT name FROM pragma_table_list WHERE type = 'shadow') \
         ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 WHEN 'view' THEN 2 ELSE 3 END, rowid",
    )?
    .query_map([HISTORY_TABLE], |r| r.get(0))?
    .collect()
}
