//! [`Layout`]: which migration library a folder of migrations is written for.

/// Which migration library a folder of migrations is written for. It decides how the
/// folder is read and which history table a test database carries, written as that library
/// writes it, so that the application's own migrator finds nothing to do on a test database.
///
/// [`Migrations::from_dir`](crate::Migrations::from_dir) detects the layout;
/// [`Migrations::from_dir_as`](crate::Migrations::from_dir_as) names it.
///
/// # Examples
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// # std::fs::write(dir.path().join("20240101000000_users.sql"), "CREATE TABLE users(id INTEGER PRIMARY KEY);")?;
/// use sqlite_testdb::{Layout, Migrations};
///
/// let m = Migrations::from_dir(dir.path())?; // 20240101000000_users.sql
/// assert_eq!(m.layout(), Some(Layout::Sqlx));
/// assert_eq!(Layout::Sqlx.history_table(), "_sqlx_migrations");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Layout {
    /// refinery's: `V{n}__{name}.sql`, with `V{n}__{name}.down.sql` beside it; history in
    /// `refinery_schema_history`.
    Refinery,
    /// diesel's: one folder per migration, `<version>_<name>/up.sql` and `down.sql` (and
    /// `metadata.toml`); history in `__diesel_schema_migrations`.
    Diesel,
    /// sqlx's: `<version>_<description>.sql`, or `.up.sql` with `.down.sql` beside it;
    /// history in `_sqlx_migrations`.
    Sqlx,
}

impl Layout {
    /// The name of the library's history table.
    ///
    /// # Examples
    ///
    /// ```
    /// use sqlite_testdb::Layout;
    ///
    /// assert_eq!(Layout::Refinery.history_table(), "refinery_schema_history");
    /// assert_eq!(Layout::Diesel.history_table(), "__diesel_schema_migrations");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn history_table(self) -> &'static str {
        match self {
            Layout::Refinery => "refinery_schema_history",
            Layout::Diesel => "__diesel_schema_migrations",
            Layout::Sqlx => "_sqlx_migrations",
        }
    }

    /// Every layout, in the order [`from_dir`](crate::Migrations::from_dir) tries them.
    pub(crate) const ALL: [Layout; 3] = [Layout::Refinery, Layout::Diesel, Layout::Sqlx];

    /// A stable tag for the fingerprint.
    pub(crate) fn tag(self) -> &'static str {
        match self {
            Layout::Refinery => "refinery",
            Layout::Diesel => "diesel",
            Layout::Sqlx => "sqlx",
        }
    }
}
