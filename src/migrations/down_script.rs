//! [`DownScript`]: the SQL that undoes one migration, from a file beside it.

use std::path::{Path, PathBuf};

/// The SQL that undoes one migration, read from `V{n}__{name}.down.sql` beside its up file.
///
/// refinery has no down migrations and skips these files; this crate keeps them for
/// rollback tests.
///
/// # Examples
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// # std::fs::write(dir.path().join("V1__users.sql"), "CREATE TABLE users(id INTEGER PRIMARY KEY);")?;
/// # std::fs::write(dir.path().join("V1__users.down.sql"), "DROP TABLE users;")?;
/// # std::fs::write(dir.path().join("V2__posts.sql"), "CREATE TABLE posts(id INTEGER PRIMARY KEY);")?;
/// use sqlite_testdb::{DownScript, Migrations};
///
/// let m = Migrations::from_dir(dir.path())?;
/// let down: &DownScript = m.down_script(1).ok_or("no down script")?;
/// assert_eq!(down.sql(), "DROP TABLE users;");
/// assert!(m.down_script(2).is_none()); // V2 has no down script
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownScript {
    path: Option<PathBuf>,
    sql: String,
}

impl DownScript {
    pub(crate) fn new(path: Option<PathBuf>, sql: String) -> Self {
        DownScript { path, sql }
    }

    /// The down script's file, `None` for one given in code.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # std::fs::write(dir.path().join("V1__users.sql"), "CREATE TABLE users(id INTEGER PRIMARY KEY);")?;
    /// # std::fs::write(dir.path().join("V1__users.down.sql"), "DROP TABLE users;")?;
    /// # std::fs::write(dir.path().join("V2__posts.sql"), "CREATE TABLE posts(id INTEGER PRIMARY KEY);")?;
    /// let m = sqlite_testdb::Migrations::from_dir(dir.path())?;
    /// let down = m.down_script(1).ok_or("no down script")?;
    /// assert!(down.path().is_some_and(|p| p.ends_with("V1__users.down.sql")));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The SQL of the down script.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # std::fs::write(dir.path().join("V1__users.sql"), "CREATE TABLE users(id INTEGER PRIMARY KEY);")?;
    /// # std::fs::write(dir.path().join("V1__users.down.sql"), "DROP TABLE users;")?;
    /// # std::fs::write(dir.path().join("V2__posts.sql"), "CREATE TABLE posts(id INTEGER PRIMARY KEY);")?;
    /// let m = sqlite_testdb::Migrations::from_dir(dir.path())?;
    /// assert_eq!(m.down_script(1).ok_or("no down script")?.sql(), "DROP TABLE users;");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// Whether the script holds no statement, only comments (as diesel generates for a
    /// migration that cannot be undone): its migration is irreversible.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # std::fs::write(dir.path().join("V1__users.sql"), "CREATE TABLE users(id INTEGER PRIMARY KEY);")?;
    /// # std::fs::write(dir.path().join("V1__users.down.sql"), "DROP TABLE users;")?;
    /// # std::fs::write(dir.path().join("V2__purge.sql"), "DELETE FROM users;")?;
    /// std::fs::write(dir.path().join("V2__purge.down.sql"), "-- Deleted rows cannot be brought back.")?;
    /// let m = sqlite_testdb::Migrations::from_dir(dir.path())?;
    /// assert!(!m.down_script(1).ok_or("no down script")?.is_irreversible());
    /// assert!(m.down_script(2).ok_or("no down script")?.is_irreversible());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_irreversible(&self) -> bool {
        !crate::sql::has_statement(&self.sql)
    }
}
