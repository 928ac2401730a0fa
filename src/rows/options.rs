//! [`DataOptions`]: the settings of the row generator behind
//! [`replay::check_with_data`](crate::replay::check_with_data), and [`DataOptions::fill`],
//! which runs it: rows for every table that satisfy its schema as SQLite reports it, the
//! same rows for the same seed.
//!
//! What SQLite reports is read with pragmas: `table_xinfo` (declared type, hence affinity;
//! `NOT NULL`; defaults; primary keys; generated and hidden columns, which are skipped),
//! `index_list`/`index_info` (unique indexes and primary keys, whose columns get distinct
//! values) and `foreign_key_list` (foreign key columns take the values of parent rows that
//! exist: parents are filled first). `CHECK` constraints are not reported by any pragma:
//! when SQLite says `CHECK constraint failed: <expr>`, the columns named in `<expr>` are
//! switched to the literals found in it, to texts of the lengths it names, to their
//! default or to `NULL`, and the row is tried again. A row that still cannot be inserted
//! after a few tries is skipped, and counted.

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

use super::generator::Generator;
use crate::error::{Error, Result};
use crate::report::GeneratedRows;
#[cfg(doc)]
use crate::report::TableRows;
use crate::testdb::TestDb;
use crate::version::Version;

/// Settings of the row generator behind [`replay::check_with_data`](crate::replay::check_with_data)
/// and [`DataOptions::fill`]: how many rows per table, and the seed.
///
/// The default is 20 rows per table and seed 0. Methods take and return the options by
/// value, to chain them. What the checks make of the rows (the migrations that change data
/// on purpose, the time limit) are settings of [`Replay`](crate::replay::Replay).
///
/// # Examples
///
/// ```
/// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT NOT NULL);")?])?;
/// use sqlite_testdb::{DataOptions, replay};
///
/// let report = replay::check_with_data(&m, DataOptions::default().rows_per_table(50).seed(7))?;
/// assert_eq!(report.steps().len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataOptions {
    rows: usize,
    seed: u64,
    /// Deprecated: [`Replay::expect_changes`](crate::replay::Replay::expect_changes).
    expected: Vec<Version>,
    /// Deprecated: [`Replay::time_limit`](crate::replay::Replay::time_limit).
    time_limit: Option<Duration>,
}

impl Default for DataOptions {
    fn default() -> Self {
        DataOptions {
            rows: 20,
            seed: 0,
            expected: Vec::new(),
            time_limit: None,
        }
    }
}

impl DataOptions {
    /// How many rows to generate in every table (default 20). Triggers may add more;
    /// rows that cannot be inserted are skipped and counted.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?])?;
    /// let rows = sqlite_testdb::DataOptions::default()
    ///     .rows_per_table(5)
    ///     .fill(&sqlite_testdb::TestDb::new(&m)?)?;
    /// assert_eq!(rows.inserted(), 5);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn rows_per_table(mut self, rows: usize) -> Self {
        self.rows = rows;
        self
    }

    /// The seed of the generator (default 0): the same seed gives the same rows.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?])?;
    /// use sqlite_testdb::{DataOptions, TestDb};
    ///
    /// let a = DataOptions::default().seed(7).fill(&TestDb::new(&m)?)?;
    /// let b = DataOptions::default().seed(7).fill(&TestDb::new(&m)?)?;
    /// assert_eq!(a.sql(), b.sql());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Marks a migration that deletes or transforms data on purpose, as
    /// [`Replay::expect_changes`](crate::replay::Replay::expect_changes) does, where the
    /// setting now lives (with the other judgements of the checks).
    ///
    /// # Examples
    ///
    /// ```
    /// #![allow(deprecated)]
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);")?,
    /// #     refinery::Migration::unapplied("V2__upper", "UPDATE users SET name = upper(name);")?,
    /// # ])?;
    /// use sqlite_testdb::{DataOptions, replay};
    ///
    /// let report = replay::check_with_data(&m, DataOptions::default().expect_changes(2))?;
    /// assert_eq!(report.steps()[1].data_changes()[0].column(), Some("name"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    #[deprecated = "use Replay::expect_changes"]
    pub fn expect_changes(mut self, version: Version) -> Self {
        if !self.expected.contains(&version) {
            self.expected.push(version);
        }
        self
    }

    /// How long one migration or down script may run over the generated rows, as
    /// [`Replay::time_limit`](crate::replay::Replay::time_limit) sets it, where the setting
    /// now lives. Setting both to different limits is
    /// [`Error::ConflictingSettings`](crate::Error::ConflictingSettings).
    ///
    /// # Examples
    ///
    /// ```
    /// #![allow(deprecated)]
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__numbers", "CREATE TABLE numbers(n INTEGER);")?])?;
    /// use std::time::Duration;
    /// use sqlite_testdb::{DataOptions, replay};
    ///
    /// replay::check_with_data(&m, DataOptions::default().time_limit(Duration::from_secs(5)))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    #[deprecated = "use Replay::time_limit"]
    pub fn time_limit(mut self, limit: Duration) -> Self {
        self.time_limit = Some(limit);
        self
    }

    /// Fills every table of `db` (not SQLite's own, not refinery's history) with generated
    /// rows, parents before the tables that reference them, in one transaction. Useful on
    /// its own for a database full of awkward but legal rows.
    ///
    /// # Errors
    ///
    /// [`Error::Sqlite`](crate::Error::Sqlite) naming the file when its schema cannot be read or the transaction
    /// fails; [`Error::ConflictingSettings`](crate::Error::ConflictingSettings) for options
    /// with the deprecated `expect_changes` or `time_limit`, which judge migrations and play
    /// no part in filling a database (rather than being ignored). A row that cannot be inserted is not an error: it is skipped and counted in
    /// [`TableRows::skipped`].
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__blog",
    /// #     "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);
    /// #      CREATE TABLE posts(id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), title TEXT);")?])?;
    /// use sqlite_testdb::{DataOptions, TestDb};
    ///
    /// let db = TestDb::new(&m)?;
    /// let rows = DataOptions::default().rows_per_table(10).fill(&db)?;
    /// assert_eq!(rows.inserted(), 20);
    /// assert_eq!(rows.tables()[0].table(), "users");          // parents first
    /// let orphans: i64 = db.connect()?.query_row(
    ///     "SELECT count(*) FROM posts WHERE user_id NOT IN (SELECT id FROM users)", [], |r| r.get(0))?;
    /// assert_eq!(orphans, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fill(&self, db: &TestDb) -> Result<GeneratedRows> {
        let judgement = if !self.expected.is_empty() {
            Some("DataOptions::expect_changes(..)")
        } else if self.time_limit.is_some() {
            Some("DataOptions::time_limit(..)")
        } else {
            None
        };
        if let Some(first) = judgement {
            return Err(Error::ConflictingSettings {
                first,
                second: "DataOptions::fill(..)",
                reason: "fill runs no migration: that setting judges migrations, on Replay",
            });
        }
        let conn = db.connect()?;
        self.fill_connection(&conn, db.path())
    }

    /// [`fill`](Self::fill) through an open connection to the database at `path`.
    pub(crate) fn fill_connection(&self, conn: &Connection, path: &Path) -> Result<GeneratedRows> {
        self.generator().fill(conn, path, None)
    }

    /// A generator of rows with these settings, for a database filled step by step.
    pub(crate) fn generator(&self) -> Generator {
        Generator::new(self.rows, self.seed)
    }

    /// The migrations marked with the deprecated `expect_changes`.
    pub(crate) fn expected(&self) -> &[Version] {
        &self.expected
    }

    /// The seed, for the generator and the reproduction scripts.
    pub(crate) fn seed_value(&self) -> u64 {
        self.seed
    }

    /// Rows per table, for the generator and the reproduction scripts.
    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    /// The time limit of the deprecated `time_limit`, if set.
    pub(crate) fn limit(&self) -> Option<Duration> {
        self.time_limit
    }
}
