//! The SQL script kept when a check over generated rows fails: the database as it was
//! before the migration (its tables, every row, then its indexes, views and triggers), then
//! what ran, so that `sqlite3 < script` shows the failure again.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use refinery::Migration;
use rusqlite::Connection;

use crate::error::{Error, Result};
use crate::migrations::history::HISTORY_TABLES;
use crate::report::ScriptFolder;
use crate::rows::DataOptions;
use crate::rows::table::{ordinary_columns, user_tables};
use crate::sql::literal::{literal_ref, quote_identifier};
use crate::testdb::TestDb;
use crate::version::Version;

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

/// Where one replay writes its reproduction scripts: the user's folder, or one it makes in
/// the temp folder on the first script, owned by the report.
#[derive(Debug, Default)]
pub(crate) struct ScriptWriter {
    /// The user's folder, if one was given.
    given: Option<PathBuf>,
    folder: RefCell<Option<Arc<ScriptFolder>>>,
    /// The file names written so far: each script gets its own.
    names: RefCell<BTreeSet<String>>,
}

impl ScriptWriter {
    pub(crate) fn new(given: Option<PathBuf>) -> Self {
        ScriptWriter {
            given,
            ..ScriptWriter::default()
        }
    }

    /// The folder written to, for the report; `None` when no script was written.
    pub(crate) fn folder(&self) -> Option<Arc<ScriptFolder>> {
        self.folder.borrow().clone()
    }

    /// The folder, made on the first call.
    fn ensure_folder(&self) -> Result<PathBuf> {
        if let Some(folder) = self.folder.borrow().as_ref() {
            return Ok(folder.path().to_path_buf());
        }
        let folder = match &self.given {
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| Error::io("create the reproduction scripts folder", dir, e))?;
                ScriptFolder::given(dir.clone())
            }
            None => {
                let parent = std::env::temp_dir();
                let dir = tempfile::Builder::new()
                    .prefix("sqlite-testdb-replay-")
                    .tempdir_in(&parent)
                    .map_err(|e| {
                        Error::io("create a folder for reproduction scripts in", &parent, e)
                    })?;
                // Owned from here on by the folder guard, and so by the report.
                ScriptFolder::owned(dir.keep())
            }
        };
        let path = folder.path().to_path_buf();
        *self.folder.borrow_mut() = Some(Arc::new(folder));
        Ok(path)
    }

    /// Writes `text`, the script of a failure of `migration`: `V3__name.sql`, or
    /// `V3__name-2.sql` for its second script in this replay.
    fn write(&self, migration: &Migration, text: &str) -> Result<PathBuf> {
        let dir = self.ensure_folder()?;
        let mut names = self.names.borrow_mut();
        let mut name = format!("{migration}.sql");
        let mut n = 1;
        while names.contains(&name) {
            n += 1;
            name = format!("{migration}-{n}.sql");
        }
        let path = dir.join(&name);
        std::fs::write(&path, text)
            .map_err(|e| Error::io("write reproduction script", &path, e))?;
        names.insert(name);
        Ok(path)
    }
}

/// Writes a script that reproduces a failure of `migration`, which ran on `db` at
/// `previous`, with `scripts`: `db`'s schema and rows, then `sections`. No path goes into
/// it.
pub(crate) fn write_script(
    scripts: &ScriptWriter,
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

    scripts.write(migration, &text)
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
