//! [`StepReport`]: what the checks found for one migration, [`Down`] for what became of its
//! down script, and the [`Progress`] handed out after each.

use std::path::PathBuf;

use super::data_change::DataChange;
use super::finding::Finding;
use super::generated_rows::GeneratedRows;

use crate::version::Version;

/// How far [`Replay::progress`](crate::replay::Replay::progress) has come.
///
/// # Examples
///
/// ```
/// # let m = sqlite_testdb::Migrations::from_migrations([
/// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?,
/// #     refinery::Migration::unapplied("V2__names", "ALTER TABLE users ADD COLUMN name TEXT;")?,
/// # ])?;
/// use sqlite_testdb::replay::Replay;
///
/// let mut lines = Vec::new();
/// Replay::new(&m)
///     .progress(|p| lines.push(format!("{}/{} {}", p.done, p.total, p.step.migration())))
///     .run()?;
/// assert_eq!(lines, ["1/2 V1__users", "2/2 V2__names"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Progress<'a> {
    /// Migrations checked so far.
    pub done: usize,
    /// Migrations in the set.
    pub total: usize,
    /// The migration just checked.
    pub step: &'a StepReport,
}

/// What [`check`](crate::replay::check) found for one migration.
///
/// # Examples
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// # std::fs::write(dir.path().join("V1__users.sql"), "CREATE TABLE users(id INTEGER PRIMARY KEY);")?;
/// # std::fs::write(dir.path().join("V1__users.down.sql"), "DROP TABLE users;")?;
/// use sqlite_testdb::{Migrations, replay::{self, Down}};
///
/// let report = replay::check(&Migrations::from_dir(dir.path())?)?;
/// let step = &report.steps()[0];
/// assert_eq!((step.migration(), step.version(), step.down()), ("V1__users", 1, Down::Reverses));
/// assert_eq!(step.file(), Some(dir.path().join("V1__users.sql").as_path()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepReport {
    pub(crate) migration: String,
    pub(crate) version: Version,
    pub(crate) file: Option<PathBuf>,
    pub(crate) down: Down,
    pub(crate) data: Option<StepData>,
    /// The checks that failed, in the order they ran.
    pub(crate) findings: Vec<Finding>,
    /// `false` when an earlier migration did not apply, so this one could not be checked.
    pub(crate) checked: bool,
}

/// What [`check_with_data`](crate::replay::check_with_data) found for one migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StepData {
    pub(crate) generated: GeneratedRows,
    pub(crate) changes: Vec<DataChange>,
}

/// What [`check`](crate::replay::check) could tell of a migration's down script.
///
/// # Examples
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// # for (file, sql) in [("V1__users.sql", "CREATE TABLE users(id INTEGER PRIMARY KEY);"), ("V1__users.down.sql", "DROP TABLE users;"),
/// #     ("V2__posts.sql", "CREATE TABLE posts(id INTEGER PRIMARY KEY);"),
/// #     ("V3__purge.sql", "DELETE FROM users;"), ("V3__purge.down.sql", "-- deleted rows cannot come back")] {
/// #     std::fs::write(dir.path().join(file), sql)?;
/// # }
/// use sqlite_testdb::{Migrations, replay::{self, Down}};
///
/// let report = replay::check(&Migrations::from_dir(dir.path())?)?;
/// let downs: Vec<Down> = report.steps().iter().map(|s| s.down()).collect();
/// assert_eq!(downs, [Down::Reverses, Down::Missing, Down::Irreversible]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Down {
    /// up, then down, left no trace; up again gave the same schema as the first time.
    Reverses,
    /// The migration has no down script.
    Missing,
    /// The down script holds only comments: the migration is irreversible.
    Irreversible,
    /// The down script failed a check: see [`StepReport::findings`].
    Fails,
    /// The down script was not run: the migration itself could not be checked.
    NotChecked,
}

impl StepReport {
    /// The migration, as refinery names it: `V3__client_secret_versions`.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?,
    /// #     refinery::Migration::unapplied("V2__names", "ALTER TABLE users ADD COLUMN name TEXT;")?,
    /// # ])?;
    /// let report = sqlite_testdb::replay::check(&m)?;
    /// let names: Vec<&str> = report.steps().iter().map(|s| s.migration()).collect();
    /// assert_eq!(names, ["V1__users", "V2__names"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn migration(&self) -> &str {
        &self.migration
    }

    /// Its version.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?,
    /// #     refinery::Migration::unapplied("V10__posts", "CREATE TABLE posts(id INTEGER PRIMARY KEY);")?,
    /// # ])?;
    /// let report = sqlite_testdb::replay::check(&m)?;
    /// let versions: Vec<_> = report.steps().iter().map(|s| s.version()).collect();
    /// assert_eq!(versions, [1, 10]);                      // versions need not be consecutive
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn version(&self) -> Version {
        self.version
    }

    /// Its file, `None` for a migration from a runner or built in code.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let users = "CREATE TABLE users(id INTEGER PRIMARY KEY);";
    /// # std::fs::write(dir.path().join("V1__users.sql"), users)?;
    /// use sqlite_testdb::{Migrations, replay};
    ///
    /// let from_dir = replay::check(&Migrations::from_dir(dir.path())?)?;
    /// assert_eq!(from_dir.steps()[0].file(), Some(dir.path().join("V1__users.sql").as_path()));
    /// # let in_code = Migrations::from_migrations([refinery::Migration::unapplied("V1__users", users)?])?;
    /// assert_eq!(replay::check(&in_code)?.steps()[0].file(), None);   // built in code
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn file(&self) -> Option<&std::path::Path> {
        self.file.as_deref()
    }

    /// What became of its down script.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?])?;
    /// use sqlite_testdb::replay::{self, Down};
    ///
    /// // Down scripts come only from folders (`V1__users.down.sql`): none for one built in code.
    /// assert_eq!(replay::check(&m)?.steps()[0].down(), Down::Missing);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn down(&self) -> Down {
        self.down
    }

    /// The rows [`check_with_data`](crate::replay::check_with_data) generated in the database at the version before this
    /// one, before applying it; `None` for [`check`](crate::replay::check), which generates none.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?,
    /// #     refinery::Migration::unapplied("V2__names", "ALTER TABLE users ADD COLUMN name TEXT;")?,
    /// # ])?;
    /// use sqlite_testdb::{DataOptions, replay};
    ///
    /// let report = replay::check_with_data(&m, DataOptions::default().rows_per_table(5))?;
    /// let v2 = &report.steps()[1];
    /// assert_eq!(v2.generated().map(|g| g.inserted()), Some(5));   // 5 users before V2
    /// assert!(replay::check(&m)?.steps()[1].generated().is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn generated(&self) -> Option<&GeneratedRows> {
        self.data.as_ref().map(|d| &d.generated)
    }

    /// The rows and values this migration (or its down script) lost or changed: listed for
    /// a migration marked with [`Replay::expect_changes`](crate::replay::Replay::expect_changes); for any other,
    /// [`check_with_data`](crate::replay::check_with_data) fails instead, so this is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?,
    /// #     refinery::Migration::unapplied("V2__purge", "DELETE FROM users WHERE id > 3;")?,
    /// # ])?;
    /// use sqlite_testdb::{DataOptions, replay};
    ///
    /// let options = DataOptions::default().rows_per_table(10);
    /// let report = replay::Replay::new(&m).with_data(options).expect_changes(2).run()?;
    /// let change = &report.steps()[1].data_changes()[0];
    /// assert_eq!((change.table(), change.rows_lost()), ("users", 7));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn data_changes(&self) -> &[DataChange] {
        self.data.as_ref().map_or(&[], |d| &d.changes)
    }

    /// The checks this migration failed, in the order they ran; empty when it passed.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # std::fs::write(dir.path().join("V1__users.sql"), "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?;
    /// # std::fs::write(dir.path().join("V2__index.sql"), "CREATE INDEX users_email ON users(email);")?;
    /// # std::fs::write(dir.path().join("V2__index.down.sql"), "SELECT 1;")?;
    /// use sqlite_testdb::{Error, Migrations, replay};
    ///
    /// let Err(Error::Findings { report }) = replay::check(&Migrations::from_dir(dir.path())?) else {
    ///     panic!("V2's down script leaves its index behind")
    /// };
    /// assert!(report.steps()[0].findings().is_empty());
    /// assert_eq!(report.steps()[1].findings()[0].check(), replay::Check::DownLeavesTrace);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// Whether the migration was checked: `false` when an earlier migration did not apply
    /// (on an empty database), so nothing after it could be.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V1__users", "CREAT TABLE users(id INTEGER PRIMARY KEY);")?,
    /// #     refinery::Migration::unapplied("V2__posts", "CREATE TABLE posts(id INTEGER PRIMARY KEY);")?,
    /// # ])?;
    /// use sqlite_testdb::{Error, replay};
    ///
    /// let Err(Error::Findings { report }) = replay::check(&m) else { panic!("V1 has a typo") };
    /// let checked: Vec<bool> = report.steps().iter().map(|s| s.checked()).collect();
    /// assert_eq!(checked, [true, false]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn checked(&self) -> bool {
        self.checked
    }
}
