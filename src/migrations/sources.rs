//! The library a set of [`Migrations`] was written for: naming the layout of a folder, and
//! each migration's version and name as its library shows them.

use std::path::Path;

use super::layout::Layout;
use super::library::Record;
use super::set::Migrations;
use crate::error::Result;
use crate::version::Version;

impl Migrations {
    /// Loads the migrations in `dir`, laid out for `layout`'s library, without detecting it:
    /// as [`from_dir`](Self::from_dir) does otherwise.
    ///
    /// # Errors
    ///
    /// As [`from_dir`](Self::from_dir); in particular [`Error::NoMigrations`] when `dir`
    /// holds no migration in that layout.
    ///
    /// [`Error::NoMigrations`]: crate::Error::NoMigrations
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # std::fs::write(dir.path().join("20240101000000_users.up.sql"), "CREATE TABLE users(id INTEGER PRIMARY KEY);")?;
    /// # std::fs::write(dir.path().join("20240101000000_users.down.sql"), "DROP TABLE users;")?;
    /// use sqlite_testdb::{Layout, Migrations};
    ///
    /// let m = Migrations::from_dir_as(dir.path(), Layout::Sqlx)?;
    /// assert_eq!(m.versions().collect::<Vec<_>>(), [1]);
    /// assert_eq!(m.label(1).as_deref(), Some("20240101000000 users"));
    /// assert!(m.down_script(1).is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_dir_as(dir: impl AsRef<Path>, layout: Layout) -> Result<Self> {
        Self::load(dir.as_ref(), Some(layout))
    }

    /// The library the set was written for, whose history table a test database carries;
    /// `None` for a migration function ([`from_fn`](Self::from_fn)). Sets from a runner or
    /// built in code are refinery's.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # std::fs::create_dir(dir.path().join("2024-01-15-120000_create_users"))?;
    /// # std::fs::write(dir.path().join("2024-01-15-120000_create_users/up.sql"), "CREATE TABLE users(id INTEGER PRIMARY KEY);")?;
    /// use sqlite_testdb::{Layout, Migrations};
    ///
    /// assert_eq!(Migrations::from_dir(dir.path())?.layout(), Some(Layout::Diesel));
    /// let m = Migrations::from_parts([(1, "users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")])?;
    /// assert_eq!(m.layout(), Some(Layout::Refinery));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn layout(&self) -> Option<Layout> {
        match self.inner().closure {
            Some(_) => None,
            None => Some(self.inner().layout),
        }
    }

    /// A migration as its library names it: sqlx's version and description
    /// (`20240101000000 create users`), diesel's folder (`2024-01-15-120000_create_users`),
    /// refinery's `V3__sessions`. `None` when the set has no such version.
    ///
    /// sqlx and diesel versions map onto 1, 2, 3, … in order ([`Version`] is refinery's
    /// type, too small for sqlx's timestamps); [`version_of`](Self::version_of) finds the
    /// version of a library's own.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # std::fs::create_dir(dir.path().join("2024-01-15-120000_create_users"))?;
    /// # std::fs::write(dir.path().join("2024-01-15-120000_create_users/up.sql"), "CREATE TABLE users(id INTEGER PRIMARY KEY);")?;
    /// let m = sqlite_testdb::Migrations::from_dir(dir.path())?;
    /// assert_eq!(m.label(1).as_deref(), Some("2024-01-15-120000_create_users"));
    /// assert_eq!(m.label(2), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn label(&self, version: Version) -> Option<String> {
        let entry = self.entry(version)?;
        entry
            .record
            .label()
            .or_else(|| self.get(version).map(ToString::to_string))
    }

    /// The version that a library's own version maps onto: sqlx's (`"20240101000000"`) or
    /// diesel's (`"20240115120000"`, the folder name up to `_` without `-`, or the whole
    /// folder name); for refinery's, its number. `None` when no migration has it.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # std::fs::write(dir.path().join("20240101000000_users.sql"), "CREATE TABLE users(id INTEGER PRIMARY KEY);")?;
    /// # std::fs::write(dir.path().join("20240202000000_posts.sql"), "CREATE TABLE posts(id INTEGER PRIMARY KEY);")?;
    /// let m = sqlite_testdb::Migrations::from_dir(dir.path())?;
    /// assert_eq!(m.version_of("20240202000000"), Some(2));
    /// let db = sqlite_testdb::TestDb::builder(&m).version(m.version_of("20240101000000").ok_or("none")?).build()?;
    /// assert_eq!(db.schema()?.tables(), ["users"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn version_of(&self, library_version: &str) -> Option<Version> {
        self.versions().find(|v| {
            self.entry(*v).is_some_and(|e| match &e.record {
                Record::Refinery => v.to_string() == library_version,
                Record::Diesel { folder, .. } if folder == library_version => true,
                record => record.version_text().as_deref() == Some(library_version),
            })
        })
    }

    /// `migration` as its library names it (see [`label`](Self::label)).
    pub(crate) fn name_of(&self, migration: &refinery::Migration) -> String {
        self.label(migration.version())
            .unwrap_or_else(|| migration.to_string())
    }

    /// Whether the migration `version` runs inside a transaction, as its library runs it:
    /// refinery's always; sqlx's unless `-- no-transaction`; diesel's unless
    /// `run_in_transaction = false`.
    pub(crate) fn in_transaction(&self, version: Version) -> bool {
        self.record(version).is_none_or(Record::in_transaction)
    }

    /// What the library records about the migration `version`.
    pub(crate) fn record(&self, version: Version) -> Option<&Record> {
        self.entry(version).map(|e| &e.record)
    }
}
