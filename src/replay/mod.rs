//! Replay checks of a whole migration set: does every step apply, cleanly, the same way
//! step by step as all at once, and do the down scripts undo their migrations? And, with
//! generated rows in every table ([`check_with_data`]), do the migrations keep the data?
//!
//! # Examples
//!
//! ```
//! # let m = sqlite_testdb::Migrations::from_migrations([
//! #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT NOT NULL);")?,
//! #     refinery::Migration::unapplied("V2__names", "ALTER TABLE users ADD COLUMN name TEXT;")?,
//! # ])?;
//! use sqlite_testdb::{DataOptions, replay};
//!
//! let report = replay::check(&m)?;                                    // empty databases
//! assert_eq!(report.without_down_script(), [1, 2]);
//! let report = replay::check_with_data(&m, DataOptions::default())?;  // 20 rows per table
//! assert_eq!(report.steps()[1].generated().map(|g| g.inserted()), Some(20));
//! println!("{report}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod acknowledgements;
mod affected;
mod builder;
mod data_steps;
mod explanation;
mod findings;
mod reproduction_script;
mod run;
mod schema_changes;
mod schema_steps;
mod settings;
mod table_contents;
mod upgrade;

pub use crate::report::{
    Check, DataChange, Down, Finding, FindingKind, GeneratedRows, Progress, ReplayReport, Severity,
    StepReport, TableRows,
};
pub use builder::Replay;

use crate::error::Result;
use crate::migrations::Migrations;
use crate::rows::DataOptions;

/// Checks a migration set in fresh databases, version by version, every version on its
/// own, so that one run finds every failure:
///
/// - every prefix applies, each step on a new connection, and `PRAGMA integrity_check` and
///   `PRAGMA foreign_key_check` are clean after each step;
/// - where a down script exists: up(n) then down(n) leaves no trace (the schema equals the
///   one before up(n)), and up(n) again gives the same schema as the first time;
/// - applying step by step gives exactly the schema of applying all at once;
/// - running the runner again on the migrated database changes nothing.
///
/// # Errors
///
/// [`Error::Findings`](crate::Error::Findings) when any check failed: its report lists
/// every [`Finding`], each naming the migration, its file, the check and what differed (a
/// schema diff, a pragma's output, the error of a migration that does not apply). After a
/// migration that does not apply, nothing can be checked: the versions after it are
/// reported as not checked.
///
/// # Examples
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// # std::fs::write(dir.path().join("V1__users.sql"), "CREATE TABLE users(id INTEGER PRIMARY KEY);")?;
/// # std::fs::write(dir.path().join("V1__users.down.sql"), "DROP TABLE users;")?;
/// # std::fs::write(dir.path().join("V2__posts.sql"), "CREATE TABLE posts(id INTEGER PRIMARY KEY);")?;
/// let m = sqlite_testdb::Migrations::from_dir(dir.path())?;
/// let report = sqlite_testdb::replay::check(&m)?;
/// assert_eq!(report.without_down_script(), [2]);
/// println!("{report}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn check(migrations: &Migrations) -> Result<ReplayReport> {
    Replay::new(migrations).run()
}

/// [`check`], and for every version n, in a database at n-1 holding generated rows in
/// every table (see [`DataOptions`]):
///
/// - migration n applies over the rows, and `PRAGMA integrity_check` and
///   `PRAGMA foreign_key_check` stay clean;
/// - no row disappears silently: every table that still exists keeps its row count and,
///   in the columns that still exist, its values (compared as multisets, so a table
///   rebuild that renumbers rows is fine);
/// - where a down script exists, down(n) keeps the rows of the tables that existed before
///   n, compared the same way with the rows before up(n).
///
/// A migration marked with [`Replay::expect_changes`] may lose or change rows: the
/// changes are listed in its [`StepReport::data_changes`] instead.
///
/// The database holding rows steps forward with the migrations, as a real one does: rows
/// are generated into each table when it appears, and a new batch when a migration changes
/// it (so rows written before and after a column was added both exist) or leaves it empty.
/// No migration runs twice to prepare the next, so the checks take about as long as
/// [`check`] whatever the number of migrations. After a migration that does not apply over
/// the rows, the next ones start again from a new database at its version.
///
/// Bundled SQLite has foreign keys on, and `PRAGMA foreign_keys=OFF` does nothing inside
/// refinery's per-migration transaction: a table rebuild over referenced rows fails (or
/// cascades) here as it would on a real database.
///
/// # Errors
///
/// [`Error::Findings`](crate::Error::Findings) when any check failed: those of [`check`],
/// and those over rows, each naming the migration, its file, the check, the table and
/// column, the generated rows involved, and a kept SQL script that reproduces it
/// (`reproduce with: sqlite3 < <temp>/…/V3__name.sql`).
///
/// # Examples
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// # std::fs::write(dir.path().join("V1__users.sql"), "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT NOT NULL, team TEXT);")?;
/// # std::fs::write(dir.path().join("V2__team_index.sql"), "CREATE UNIQUE INDEX users_team_uq ON users(team);")?;
/// use sqlite_testdb::{DataOptions, Error, Migrations, replay};
///
/// let m = Migrations::from_dir(dir.path())?;
/// replay::check(&m)?;                                   // fine on an empty database
/// let err = replay::check_with_data(&m, DataOptions::default().rows_per_table(50).seed(7))
///     .unwrap_err();                                    // teams repeat in real data
/// let Error::Findings { report } = &err else { panic!("{err}") };
/// let finding = report.findings()[0];
/// assert_eq!((finding.migration(), finding.table()), ("V2__team_index", Some("users")));
/// let text = report.to_string();                       // the error itself is one line
/// assert!(text.contains("UNIQUE constraint failed: users.team"));
/// assert!(text.contains("reproduce with: sqlite3 < "));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn check_with_data(migrations: &Migrations, options: DataOptions) -> Result<ReplayReport> {
    Replay::new(migrations).with_data(options).run()
}

/// Checks the upgrade of a real database to the latest version of `migrations`: a copy of
/// the file at `path` (the file itself is only read, never written), whose refinery history
/// says its version, gets every pending migration applied one at a time, and after each one
/// the checks of [`check_with_data`] run over its rows: the migration applies, `PRAGMA
/// integrity_check` and `PRAGMA foreign_key_check` are clean, no row or value is lost
/// (unless the migration is marked with [`Replay::expect_changes`]), and a down script gives
/// the rows back. "Will this upgrade my users' databases", tested on a copy of one.
///
/// # Errors
///
/// - [`Error::NotADatabase`](crate::Error::NotADatabase) for a file that is not a SQLite
///   database, [`Error::NoHistory`](crate::Error::NoHistory) for one without its library's
///   history table;
/// - [`Error::HistoryMismatch`](crate::Error::HistoryMismatch) when its history names
///   migrations the set does not have, or has them with another name or checksum, or lacks
///   one below its version (each named);
/// - [`Error::NewerDatabase`](crate::Error::NewerDatabase) for a database past the last
///   migration;
/// - [`Error::Findings`](crate::Error::Findings) when a check failed.
///
/// # Examples
///
/// ```
/// # let m = sqlite_testdb::Migrations::from_migrations([
/// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);")?,
/// #     refinery::Migration::unapplied("V2__nickname", "ALTER TABLE users ADD COLUMN nickname TEXT;")?,
/// # ])?;
/// use sqlite_testdb::{TestDb, replay};
///
/// // A database at V1 holding rows, as a user's would be.
/// let old = TestDb::builder(&m).version(1).seed_sql("INSERT INTO users(name) VALUES ('ada')").build()?;
/// let report = replay::check_from(&m, old.path())?;
/// assert_eq!(report.steps().len(), 1);                 // V2, the one pending migration
/// assert_eq!(old.version()?, Some(1));                 // the file itself is untouched
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn check_from(
    migrations: &Migrations,
    path: impl AsRef<std::path::Path>,
) -> Result<ReplayReport> {
    Replay::new(migrations).upgrade(path).run()
}
