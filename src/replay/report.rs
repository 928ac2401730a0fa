//! What the replay checks found: a [`ReplayReport`] with one [`StepReport`] per migration,
//! [`Down`] for what became of its down script, [`DataChange`] for the rows and values a
//! migration marked to change data did change, and the [`Progress`] handed out on the way.

use std::fmt;
use std::path::PathBuf;

use crate::Version;
use crate::rows::GeneratedRows;

/// How far [`Replay::progress`](super::Replay::progress) has come.
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

/// What [`check`](super::check) found for one migration.
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
}

/// What [`check_with_data`](super::check_with_data) found for one migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StepData {
    pub(crate) generated: GeneratedRows,
    pub(crate) changes: Vec<DataChange>,
}

/// What [`check`](super::check) could tell of a migration's down script.
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

    /// The rows [`check_with_data`](super::check_with_data) generated in the database at the version before this
    /// one, before applying it; `None` for [`check`](super::check), which generates none.
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
    /// a migration marked with [`DataOptions::expect_changes`](crate::DataOptions::expect_changes); for any other,
    /// [`check_with_data`](super::check_with_data) fails instead, so this is empty.
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
    /// let options = DataOptions::default().rows_per_table(10).expect_changes(2);
    /// let report = replay::check_with_data(&m, options)?;
    /// let change = &report.steps()[1].data_changes()[0];
    /// assert_eq!((change.table(), change.rows_lost()), ("users", 7));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn data_changes(&self) -> &[DataChange] {
        self.data.as_ref().map_or(&[], |d| &d.changes)
    }
}

/// Rows or values of one table that a migration, or its down script, did not keep: found by
/// [`check_with_data`](super::check_with_data), listed in [`StepReport::data_changes`].
///
/// Its `Display` is one line: `users: 7 of 10 rows lost, e.g. (id, email) = (4, 'a@x')` or
/// `users.name: 10 of 10 values changed, e.g. id 1: 'ada' → 'ADA!'`.
///
/// # Examples
///
/// ```
/// # let m = sqlite_testdb::Migrations::from_migrations([
/// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL);")?,
/// #     refinery::Migration::unapplied("V2__upper", "UPDATE users SET name = upper(name) || '!';")?,
/// # ])?;
/// use sqlite_testdb::{DataOptions, replay};
///
/// let report = replay::check_with_data(&m, DataOptions::default().expect_changes(2))?;
/// let change = &report.steps()[1].data_changes()[0];
/// assert_eq!((change.table(), change.column()), ("users", Some("name")));
/// assert_eq!(change.values_changed(), 20);
/// assert!(!change.by_down_script());
/// println!("{change}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataChange {
    pub(crate) table: String,
    pub(crate) column: Option<String>,
    pub(crate) before: usize,
    pub(crate) lost: usize,
    pub(crate) examples: Vec<String>,
    pub(crate) down: bool,
}

impl DataChange {
    /// The table, as named before the migration.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL);")?,
    /// #     refinery::Migration::unapplied("V2__purge", "DELETE FROM users WHERE id > 6; UPDATE users SET name = upper(name) || '!';")?,
    /// # ])?;
    /// // V2 deletes 4 of the 10 generated users and upper-cases the names of the 6 left
    /// let options = sqlite_testdb::DataOptions::default().rows_per_table(10).expect_changes(2);
    /// let report = sqlite_testdb::replay::check_with_data(&m, options)?;
    /// let changes = report.steps()[1].data_changes();
    /// let (lost, changed) = (&changes[0], &changes[1]);
    /// assert_eq!((lost.table(), changed.table()), ("users", "users"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The column whose values changed; `None` when rows were lost.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL);")?,
    /// #     refinery::Migration::unapplied("V2__purge", "DELETE FROM users WHERE id > 6; UPDATE users SET name = upper(name) || '!';")?,
    /// # ])?;
    /// // V2 deletes 4 of the 10 generated users and upper-cases the names of the 6 left
    /// let options = sqlite_testdb::DataOptions::default().rows_per_table(10).expect_changes(2);
    /// let report = sqlite_testdb::replay::check_with_data(&m, options)?;
    /// let changes = report.steps()[1].data_changes();
    /// let (lost, changed) = (&changes[0], &changes[1]);
    /// assert_eq!((lost.column(), changed.column()), (None, Some("name")));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn column(&self) -> Option<&str> {
        self.column.as_deref()
    }

    /// Rows the table had before the migration.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL);")?,
    /// #     refinery::Migration::unapplied("V2__purge", "DELETE FROM users WHERE id > 6; UPDATE users SET name = upper(name) || '!';")?,
    /// # ])?;
    /// // V2 deletes 4 of the 10 generated users and upper-cases the names of the 6 left
    /// let options = sqlite_testdb::DataOptions::default().rows_per_table(10).expect_changes(2);
    /// let report = sqlite_testdb::replay::check_with_data(&m, options)?;
    /// let changes = report.steps()[1].data_changes();
    /// let (lost, changed) = (&changes[0], &changes[1]);
    /// assert_eq!((lost.rows_before(), changed.rows_before()), (10, 10));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn rows_before(&self) -> usize {
        self.before
    }

    /// Rows lost: how many fewer the table has (0 for a change of a column's values).
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL);")?,
    /// #     refinery::Migration::unapplied("V2__purge", "DELETE FROM users WHERE id > 6; UPDATE users SET name = upper(name) || '!';")?,
    /// # ])?;
    /// // V2 deletes 4 of the 10 generated users and upper-cases the names of the 6 left
    /// let options = sqlite_testdb::DataOptions::default().rows_per_table(10).expect_changes(2);
    /// let report = sqlite_testdb::replay::check_with_data(&m, options)?;
    /// let changes = report.steps()[1].data_changes();
    /// let (lost, changed) = (&changes[0], &changes[1]);
    /// assert_eq!((lost.rows_lost(), changed.rows_lost()), (4, 0));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn rows_lost(&self) -> usize {
        if self.column.is_none() { self.lost } else { 0 }
    }

    /// Values of the column that are no longer found in it, beyond those of lost rows (0 for
    /// lost rows). Values are compared as multisets, so rows that only moved (a table
    /// rebuild with new rowids) are not changed.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL);")?,
    /// #     refinery::Migration::unapplied("V2__purge", "DELETE FROM users WHERE id > 6; UPDATE users SET name = upper(name) || '!';")?,
    /// # ])?;
    /// // V2 deletes 4 of the 10 generated users and upper-cases the names of the 6 left
    /// let options = sqlite_testdb::DataOptions::default().rows_per_table(10).expect_changes(2);
    /// let report = sqlite_testdb::replay::check_with_data(&m, options)?;
    /// let changes = report.steps()[1].data_changes();
    /// let (lost, changed) = (&changes[0], &changes[1]);
    /// assert_eq!((lost.values_changed(), changed.values_changed()), (0, 6));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn values_changed(&self) -> usize {
        if self.column.is_some() { self.lost } else { 0 }
    }

    /// A few of the rows lost (`(id, name) = (4, 'x')`) or values changed (`id 4: 'x' → 'X'`,
    /// matched by a column that identifies the rows; else `'x' no longer found`), values as
    /// SQL literals, long texts shortened.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL);")?,
    /// #     refinery::Migration::unapplied("V2__purge", "DELETE FROM users WHERE id > 6; UPDATE users SET name = upper(name) || '!';")?,
    /// # ])?;
    /// // V2 deletes 4 of the 10 generated users and upper-cases the names of the 6 left
    /// let options = sqlite_testdb::DataOptions::default().rows_per_table(10).expect_changes(2);
    /// let report = sqlite_testdb::replay::check_with_data(&m, options)?;
    /// let changes = report.steps()[1].data_changes();
    /// let (lost, changed) = (&changes[0], &changes[1]);
    /// assert!(lost.examples()[0].starts_with("(id, name) = (7, "));
    /// assert!(changed.examples().iter().all(|e| e.ends_with("!'")));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn examples(&self) -> &[String] {
        &self.examples
    }

    /// Whether the down script lost them (compared with the rows before the migration),
    /// rather than the migration itself.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # std::fs::write(dir.path().join("V1__users.sql"), "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?;
    /// # std::fs::write(dir.path().join("V2__email_index.sql"), "CREATE INDEX users_email ON users(email);")?;
    /// # std::fs::write(dir.path().join("V2__email_index.down.sql"), "DROP INDEX users_email; DELETE FROM users WHERE id > 3;")?;
    /// use sqlite_testdb::{DataOptions, Migrations, replay};
    ///
    /// let m = Migrations::from_dir(dir.path())?;          // V2's down script also deletes rows
    /// let options = DataOptions::default().rows_per_table(10).expect_changes(2);
    /// let report = replay::check_with_data(&m, options)?;
    /// let change = &report.steps()[1].data_changes()[0];
    /// assert!(change.by_down_script());
    /// assert!(change.to_string().starts_with("down script: users: 7 of 10 rows lost"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn by_down_script(&self) -> bool {
        self.down
    }
}

impl fmt::Display for DataChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.down {
            f.write_str("down script: ")?;
        }
        match &self.column {
            None => write!(
                f,
                "{}: {} of {} rows lost",
                self.table, self.lost, self.before
            )?,
            Some(column) => write!(
                f,
                "{}.{column}: {} of {} values changed",
                self.table, self.lost, self.before
            )?,
        }
        if !self.examples.is_empty() {
            write!(f, ", e.g. {}", self.examples.join("; "))?;
        }
        Ok(())
    }
}

/// The result of [`check`](super::check) on a migration set that passed: one [`StepReport`] per version.
///
/// Its `Display` is one line per version, then a summary:
///
/// ```text
/// V1__users                     applies; integrity ok; foreign keys ok; down reverses it
/// V2__clients                   applies; integrity ok; foreign keys ok; no down script
/// step by step = all at once; re-running the runner changes nothing
/// ```
///
/// From [`check_with_data`](super::check_with_data), each line also says what became of the generated rows, the
/// changes of a migration marked [`DataOptions::expect_changes`](crate::DataOptions::expect_changes) follow it, indented, and a
/// last line tells of the rows generated at the latest version:
///
/// ```text
/// V1__users    applies; integrity ok; foreign keys ok; down reverses it; no table to fill before it
/// V2__clients  applies; integrity ok; foreign keys ok; down reverses it; 50 generated rows in 1 table kept
/// V3__purge    applies; integrity ok; foreign keys ok; no down script; 100 generated rows in 2 tables, changed as expected:
///     users: 12 of 50 rows lost, e.g. (id, email) = (3, 'user2@example.com')
/// step by step = all at once; re-running the runner changes nothing
/// at V3__purge: 150 generated rows in 3 tables; integrity ok; foreign keys ok
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayReport {
    pub(crate) steps: Vec<StepReport>,
    pub(crate) latest: Option<GeneratedRows>,
}

impl ReplayReport {
    /// One report per migration, by version.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?,
    /// #     refinery::Migration::unapplied("V2__names", "ALTER TABLE users ADD COLUMN name TEXT;")?,
    /// # ])?;
    /// let report = sqlite_testdb::replay::check(&m)?;
    /// assert_eq!(report.steps().len(), m.len());
    /// assert_eq!(report.steps()[1].migration(), "V2__names");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn steps(&self) -> &[StepReport] {
        &self.steps
    }

    /// The rows [`check_with_data`](super::check_with_data) generated in a database at the latest version, after
    /// the last step (so every table gets rows, also those the last migration creates);
    /// `None` for [`check`](super::check).
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?])?;
    /// use sqlite_testdb::{DataOptions, replay};
    ///
    /// let report = replay::check_with_data(&m, DataOptions::default().rows_per_table(3))?;
    /// assert_eq!(report.generated_at_latest().map(|g| g.inserted()), Some(3));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn generated_at_latest(&self) -> Option<&GeneratedRows> {
        self.latest.as_ref()
    }

    /// The versions that have no down script.
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
    /// use sqlite_testdb::{Migrations, replay};
    ///
    /// let report = replay::check(&Migrations::from_dir(dir.path())?)?;
    /// assert_eq!(report.without_down_script(), [2]);      // V2__posts.down.sql is missing
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn without_down_script(&self) -> Vec<Version> {
        self.versions_where(Down::Missing)
    }

    /// The versions whose down script holds only comments.
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
    /// use sqlite_testdb::{Migrations, replay};
    ///
    /// let report = replay::check(&Migrations::from_dir(dir.path())?)?;
    /// assert_eq!(report.irreversible(), [3]);             // V3__purge.down.sql is only a comment
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn irreversible(&self) -> Vec<Version> {
        self.versions_where(Down::Irreversible)
    }

    fn versions_where(&self, down: Down) -> Vec<Version> {
        self.steps
            .iter()
            .filter(|s| s.down == down)
            .map(|s| s.version)
            .collect()
    }
}

impl fmt::Display for ReplayReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .steps
            .iter()
            .map(|s| s.migration.len())
            .max()
            .unwrap_or(0);
        for step in &self.steps {
            let down = match step.down {
                Down::Reverses => "down reverses it",
                Down::Missing => "no down script",
                Down::Irreversible => "down script is only comments: irreversible",
            };
            write!(
                f,
                "{:width$}  applies; integrity ok; foreign keys ok; {down}",
                step.migration
            )?;
            match &step.data {
                None => writeln!(f)?,
                Some(data) if data.generated.tables().is_empty() => {
                    writeln!(f, "; no table to fill before it")?;
                }
                Some(data) => {
                    let outcome = if data.changes.is_empty() {
                        " kept"
                    } else {
                        ", changed as expected:"
                    };
                    writeln!(f, "; {}{outcome}", rows_summary(&data.generated))?;
                    for change in &data.changes {
                        writeln!(f, "    {change}")?;
                    }
                }
            }
        }
        writeln!(
            f,
            "step by step = all at once; re-running the runner changes nothing"
        )?;
        if let (Some(latest), Some(last)) = (&self.latest, self.steps.last()) {
            writeln!(
                f,
                "at {}: {}; integrity ok; foreign keys ok",
                last.migration,
                rows_summary(latest)
            )?;
        }
        Ok(())
    }
}

/// `150 generated rows in 3 tables (2 skipped)`.
fn rows_summary(rows: &GeneratedRows) -> String {
    let tables = rows.tables().len();
    let mut text = format!(
        "{} generated rows in {tables} table{}",
        rows.inserted(),
        if tables == 1 { "" } else { "s" }
    );
    if rows.skipped() > 0 {
        text.push_str(&format!(" ({} skipped)", rows.skipped()));
    }
    text
}
