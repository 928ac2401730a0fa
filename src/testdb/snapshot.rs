//! [`Snapshot`]: a whole test database's state, to go back to.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use rusqlite::Connection;
use rusqlite::backup::Backup;

use crate::error::{Error, Result};

/// The whole content of a test database at one moment, held in memory, made by
/// [`TestDb::snapshot`](crate::TestDb::snapshot) and put back by
/// [`TestDb::restore`](crate::TestDb::restore).
///
/// Both copy pages with SQLite's backup API, which is consistent even while other
/// connections to the database are open.
///
/// # Examples
///
/// ```
/// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?])?;
/// let db = sqlite_testdb::TestDb::builder(&m).seed_sql("INSERT INTO users DEFAULT VALUES").build()?;
/// let seeded = db.snapshot()?;
/// for attempt in 0..3 {
///     db.connect()?.execute("DELETE FROM users", [])?;
///     db.restore(&seeded)?; // every attempt starts from the same rows
///     let n: i64 = db.connect()?.query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
///     assert_eq!(n, 1, "attempt {attempt}");
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Snapshot {
    source: PathBuf,
    pages: Mutex<Connection>,
}

impl Snapshot {
    /// Copies the database at `path`, through `conn`, into memory.
    pub(crate) fn take(conn: &Connection, path: &Path) -> Result<Snapshot> {
        let sqlite = |e| Error::sqlite("snapshot", path, e);
        let mut memory = Connection::open_in_memory().map_err(sqlite)?;
        copy(conn, &mut memory).map_err(sqlite)?;
        Ok(Snapshot {
            source: path.to_path_buf(),
            pages: Mutex::new(memory),
        })
    }

    /// Copies the snapshot back into the database behind `conn`.
    pub(crate) fn restore_into(&self, conn: &mut Connection, path: &Path) -> Result<()> {
        let memory = self.pages.lock().unwrap_or_else(PoisonError::into_inner);
        copy(&memory, conn).map_err(|e| Error::sqlite("restore snapshot into", path, e))
    }

    /// The database the snapshot was taken of.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?])?;
    /// let db = sqlite_testdb::TestDb::new(&m)?;
    /// let snapshot = db.snapshot()?;
    /// assert_eq!(snapshot.source(), db.path());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn source(&self) -> &Path {
        &self.source
    }
}

fn copy(from: &Connection, to: &mut Connection) -> rusqlite::Result<()> {
    Backup::new(from, to)?.run_to_completion(i32::MAX, Duration::from_millis(10), None)
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}
