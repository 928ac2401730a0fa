//! `double-quoted-string`: a migration that applies only because SQLite reads a
//! double-quoted name that matches no column as a string literal (`WHERE status = "done"`).
//! SQLite builds with that misfeature off (`SQLITE_DQS=0`, recommended by SQLite itself)
//! refuse such a migration.
//!
//! The check runs the migration with double-quoted strings off
//! (`SQLITE_DBCONFIG_DQS_DML` and `_DDL`) and, when that fails, again with them on, each
//! time inside a savepoint that is rolled back: the database is left as it was.
//!
//! A view is parsed when it is used, not when it is created: a step that reads a view an
//! earlier step wrote with a double-quoted string is the one found.
//!
//! rusqlite has those settings from 0.31 on, and before 0.38 only with its
//! `modern_sqlite` feature, which the crate's `bundled` feature brings in; without it the
//! check cannot be made (`DoubleQuotes::Unknown`) and the replay skips it.

use rusqlite::Connection;

use crate::error::sqlite_message;
use crate::error::{Error, Result};

/// What running a script with double-quoted strings off told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DoubleQuotes {
    /// It applies without the misfeature (or fails with it too: another check says why).
    NotNeeded,
    /// It applies only with it; SQLite's message without it.
    Needed { message: String },
    /// This build cannot switch the misfeature off.
    Unknown,
}

const SAVEPOINT: &str = "sqlite_testdb_double_quotes";

/// Runs `sql` on `conn` with double-quoted strings off, then on when that failed, rolling
/// both back; the connection's settings are restored.
pub(crate) fn double_quotes(conn: &Connection, sql: &str) -> Result<DoubleQuotes> {
    let path = conn.path().unwrap_or_default().to_owned();
    let failed = |e| {
        Error::sqlite(
            "try a migration with double-quoted strings off on",
            path.clone(),
            e,
        )
    };
    let Some(previous) = settings(conn).map_err(failed)? else {
        return Ok(DoubleQuotes::Unknown);
    };
    set(conn, (false, false)).map_err(failed)?;
    let strict = rolled_back(conn, sql);
    set(conn, (true, true)).map_err(failed)?;
    let lenient = match &strict {
        Ok(Ok(())) => Ok(Ok(())),
        _ => rolled_back(conn, sql),
    };
    set(conn, previous).map_err(failed)?;
    match (strict.map_err(failed)?, lenient.map_err(failed)?) {
        (Err(message), Ok(())) => Ok(DoubleQuotes::Needed { message }),
        _ => Ok(DoubleQuotes::NotNeeded),
    }
}

/// `sql` run in a savepoint that is then rolled back: SQLite's message if it failed.
fn rolled_back(conn: &Connection, sql: &str) -> rusqlite::Result<std::result::Result<(), String>> {
    conn.execute_batch(&format!("SAVEPOINT {SAVEPOINT}"))?;
    let outcome = conn.execute_batch(sql).map_err(|e| message(&e));
    conn.execute_batch(&format!("ROLLBACK TO {SAVEPOINT}; RELEASE {SAVEPOINT}"))?;
    Ok(outcome)
}

#[cfg(feature = "bundled")]
fn settings(conn: &Connection) -> rusqlite::Result<Option<(bool, bool)>> {
    use rusqlite::config::DbConfig;
    Ok(Some((
        conn.db_config(DbConfig::SQLITE_DBCONFIG_DQS_DML)?,
        conn.db_config(DbConfig::SQLITE_DBCONFIG_DQS_DDL)?,
    )))
}

#[cfg(feature = "bundled")]
fn set(conn: &Connection, (dml, ddl): (bool, bool)) -> rusqlite::Result<()> {
    use rusqlite::config::DbConfig;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DQS_DML, dml)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DQS_DDL, ddl)?;
    Ok(())
}

/// SQLite's message, without the script rusqlite appends to it.
#[cfg(feature = "bundled")]
fn message(error: &rusqlite::Error) -> String {
    match error {
        rusqlite::Error::SqlInputError { msg, .. } => msg.clone(),
        other => sqlite_message(other),
    }
}

#[cfg(not(feature = "bundled"))]
fn message(error: &rusqlite::Error) -> String {
    sqlite_message(error)
}

#[cfg(not(feature = "bundled"))]
fn settings(_: &Connection) -> rusqlite::Result<Option<(bool, bool)>> {
    Ok(None)
}

#[cfg(not(feature = "bundled"))]
fn set(_: &Connection, _: (bool, bool)) -> rusqlite::Result<()> {
    Ok(())
}

#[cfg(all(test, feature = "bundled"))]
mod tests {
    use rusqlite::Connection;

    use super::*;

    type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

    fn database() -> rusqlite::Result<Connection> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch(
            "CREATE TABLE tasks(id INTEGER PRIMARY KEY, status TEXT);
             INSERT INTO tasks(status) VALUES ('open'), ('done');",
        )?;
        Ok(conn)
    }

    #[test]
    fn a_double_quoted_string_is_found_and_nothing_stays() -> TestResult {
        let conn = database()?;
        let found = double_quotes(&conn, "DELETE FROM tasks WHERE status = \"done\";")?;
        let DoubleQuotes::Needed { message } = found else {
            return Err(format!("not found: {found:?}").into());
        };
        // SQLite quotes the name in its message from 3.46 on.
        assert!(
            message.starts_with("no such column: ") && message.contains("done"),
            "{message}"
        );
        assert!(!message.contains("DELETE"), "{message}");
        let left: i64 = conn.query_row("SELECT count(*) FROM tasks", [], |r| r.get(0))?;
        assert_eq!(left, 2, "rolled back");
        // The connection still takes double-quoted strings as it did.
        conn.execute_batch("DELETE FROM tasks WHERE status = \"done\"")?;
        Ok(())
    }

    #[test]
    fn in_ddl_too() -> TestResult {
        let conn = database()?;
        let index = "CREATE INDEX tasks_open ON tasks(id) WHERE status = \"open\";";
        let found = double_quotes(&conn, index)?;
        assert!(matches!(found, DoubleQuotes::Needed { .. }), "{found:?}");
        Ok(())
    }

    #[test]
    fn single_quotes_real_names_and_failing_scripts_are_not_flagged() -> TestResult {
        let conn = database()?;
        // `DEFAULT "x"` is a string in any build: SQLite's grammar takes a name there.
        for sql in [
            "DELETE FROM tasks WHERE status = 'done';",
            "UPDATE \"tasks\" SET \"status\" = 'open';",
            "CREATE INDEX tasks_status ON tasks(status);",
            "ALTER TABLE tasks ADD COLUMN kind TEXT DEFAULT \"task\";",
            "DELETE FROM nowhere WHERE x = \"y\";",
        ] {
            assert_eq!(double_quotes(&conn, sql)?, DoubleQuotes::NotNeeded, "{sql}");
        }
        Ok(())
    }
}
