//! [`DataChange`]: rows or values of one table a migration did not keep.

use std::fmt;

/// Rows or values of one table that a migration, or its down script, did not keep: found by
/// [`check_with_data`](crate::replay::check_with_data), listed in [`StepReport::data_changes`](crate::replay::StepReport::data_changes).
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
/// let report = replay::Replay::new(&m).with_data(DataOptions::default()).expect_changes(2).run()?;
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
    /// let options = sqlite_testdb::DataOptions::default().rows_per_table(10);
    /// let report = sqlite_testdb::replay::Replay::new(&m).with_data(options).expect_changes(2).run()?;
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
    /// let options = sqlite_testdb::DataOptions::default().rows_per_table(10);
    /// let report = sqlite_testdb::replay::Replay::new(&m).with_data(options).expect_changes(2).run()?;
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
    /// let options = sqlite_testdb::DataOptions::default().rows_per_table(10);
    /// let report = sqlite_testdb::replay::Replay::new(&m).with_data(options).expect_changes(2).run()?;
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
    /// let options = sqlite_testdb::DataOptions::default().rows_per_table(10);
    /// let report = sqlite_testdb::replay::Replay::new(&m).with_data(options).expect_changes(2).run()?;
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
    /// let options = sqlite_testdb::DataOptions::default().rows_per_table(10);
    /// let report = sqlite_testdb::replay::Replay::new(&m).with_data(options).expect_changes(2).run()?;
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
    /// let options = sqlite_testdb::DataOptions::default().rows_per_table(10);
    /// let report = sqlite_testdb::replay::Replay::new(&m).with_data(options).expect_changes(2).run()?;
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
    /// let options = DataOptions::default().rows_per_table(10);
    /// let report = replay::Replay::new(&m).with_data(options).expect_changes(2).run()?;
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
