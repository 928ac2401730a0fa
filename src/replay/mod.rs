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

mod builder;
mod data_step;
mod explanation;
mod report;
mod reproduction_script;
mod run;
mod settings;
mod table_contents;

pub use crate::rows::{GeneratedRows, TableRows};
pub use builder::Replay;
pub use report::{DataChange, Down, Progress, ReplayReport, StepReport};

use crate::{DataOptions, Migrations, Result};

/// Checks a migration set in fresh databases, version by version:
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
/// The first failure: [`Error::Replay`](crate::Error::Replay) naming the migration, its file, the check and the
/// schema difference, or [`Error::Migration`](crate::Error::Migration) when a migration does not apply.
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

/// [`check`], and for every version n, in a fresh database at n-1 holding generated rows in
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
/// A migration marked with [`DataOptions::expect_changes`] may lose or change rows: the
/// changes are listed in its [`StepReport::data_changes`] instead. After the last step,
/// a database at the latest version is filled too, so every table gets rows.
///
/// Bundled SQLite has foreign keys on, and `PRAGMA foreign_keys=OFF` does nothing inside
/// refinery's per-migration transaction: a table rebuild over referenced rows fails (or
/// cascades) here as it would on a real database.
///
/// # Errors
///
/// The first failure: those of [`check`] (which run first, on empty databases), then
/// [`Error::ReplayData`](crate::Error::ReplayData) naming the migration, its file, the check, the table and column,
/// the generated rows involved, and a kept SQL script that reproduces it
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
/// assert!(matches!(&err, Error::ReplayData { migration, .. } if migration == "V2__team_index"));
/// assert!(err.to_string().contains("UNIQUE constraint failed: users.team"));
/// assert!(err.to_string().contains("reproduce with: sqlite3 < "));
/// # if let Error::ReplayData { script: Some(script), .. } = &err { std::fs::remove_dir_all(script.parent().unwrap())?; }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn check_with_data(migrations: &Migrations, options: DataOptions) -> Result<ReplayReport> {
    Replay::new(migrations).with_data(options).run()
}
