//! What [`DataOptions::fill`](crate::DataOptions::fill) generated: [`GeneratedRows`], with
//! one [`TableRows`] per table.

/// The rows [`DataOptions::fill`](crate::DataOptions::fill) generated: per table, how many
/// were inserted and skipped, and the `INSERT` statements that reproduce them.
///
/// # Examples
///
/// ```
/// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?])?;
/// let db = sqlite_testdb::TestDb::new(&m)?;
/// let rows = sqlite_testdb::DataOptions::default().rows_per_table(3).fill(&db)?;
/// assert_eq!(rows.inserted(), 3);
/// assert_eq!(rows.skipped(), 0);
/// assert!(rows.sql().starts_with("INSERT INTO \"users\""));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GeneratedRows {
    pub(crate) tables: Vec<TableRows>,
}

impl GeneratedRows {
    /// One entry per table, in the order they were filled (parents first).
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__blog",
    /// #     "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);
    /// #      CREATE TABLE posts(id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id));")?])?;
    /// let db = sqlite_testdb::TestDb::new(&m)?;
    /// let rows = sqlite_testdb::DataOptions::default().fill(&db)?;
    /// let tables: Vec<&str> = rows.tables().iter().map(|t| t.table()).collect();
    /// assert_eq!(tables, ["users", "posts"]);                  // posts reference users
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn tables(&self) -> &[TableRows] {
        &self.tables
    }

    /// Rows inserted, in every table.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__blog",
    /// #     "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);
    /// #      CREATE TABLE posts(id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id));")?])?;
    /// let db = sqlite_testdb::TestDb::new(&m)?;
    /// let rows = sqlite_testdb::DataOptions::default().rows_per_table(4).fill(&db)?;
    /// assert_eq!(rows.inserted(), 8);                          // 4 users + 4 posts
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn inserted(&self) -> usize {
        self.tables.iter().map(|t| t.inserted).sum()
    }

    /// Rows that could not be inserted after a few tries, in every table.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__flags",
    /// #     "CREATE TABLE flags(id INTEGER PRIMARY KEY, on_off INTEGER NOT NULL UNIQUE CHECK (on_off IN (0, 1)));")?])?;
    /// let db = sqlite_testdb::TestDb::new(&m)?;
    /// let rows = sqlite_testdb::DataOptions::default().rows_per_table(20).fill(&db)?;
    /// assert_eq!((rows.inserted(), rows.skipped()), (2, 18));  // only 0 and 1 fit
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn skipped(&self) -> usize {
        self.tables.iter().map(|t| t.skipped).sum()
    }

    /// Every `INSERT` statement that ran, one per line, values as SQL literals, in the
    /// order they ran.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?])?;
    /// use sqlite_testdb::{DataOptions, TestDb};
    ///
    /// let rows = DataOptions::default().rows_per_table(3).fill(&TestDb::new(&m)?)?;
    /// assert_eq!(rows.sql().lines().count(), 3);
    /// let copy = TestDb::new(&m)?;
    /// copy.connect()?.execute_batch(&rows.sql())?;             // the same rows again
    /// let n: i64 = copy.connect()?.query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
    /// assert_eq!(n, 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn sql(&self) -> String {
        let mut sql = String::new();
        for table in &self.tables {
            for insert in &table.inserts {
                sql.push_str(insert);
                sql.push('\n');
            }
        }
        sql
    }
}

/// The generated rows of one table, part of [`GeneratedRows`].
///
/// # Examples
///
/// ```
/// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, age INTEGER CHECK (age BETWEEN 0 AND 150));")?])?;
/// let db = sqlite_testdb::TestDb::new(&m)?;
/// let rows = sqlite_testdb::DataOptions::default().fill(&db)?;
/// let users = &rows.tables()[0];
/// assert_eq!((users.table(), users.inserted(), users.skipped()), ("users", 20, 0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRows {
    pub(crate) table: String,
    pub(crate) inserted: usize,
    pub(crate) skipped: usize,
    pub(crate) skip_reason: Option<String>,
    pub(crate) inserts: Vec<String>,
}

impl TableRows {
    /// The table.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__blog",
    /// #     "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);
    /// #      CREATE TABLE posts(id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id));")?])?;
    /// let db = sqlite_testdb::TestDb::new(&m)?;
    /// let rows = sqlite_testdb::DataOptions::default().fill(&db)?;
    /// assert_eq!(rows.tables()[1].table(), "posts");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Rows inserted.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__blog",
    /// #     "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);
    /// #      CREATE TABLE posts(id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id));")?])?;
    /// let db = sqlite_testdb::TestDb::new(&m)?;
    /// let rows = sqlite_testdb::DataOptions::default().rows_per_table(5).fill(&db)?;
    /// let per_table: Vec<usize> = rows.tables().iter().map(|t| t.inserted()).collect();
    /// assert_eq!(per_table, [5, 5]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn inserted(&self) -> usize {
        self.inserted
    }

    /// Rows that could not be inserted after a few tries.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__tables",
    /// #     "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);
    /// #      CREATE TABLE flags(id INTEGER PRIMARY KEY, on_off INTEGER NOT NULL UNIQUE CHECK (on_off IN (0, 1)));")?])?;
    /// let db = sqlite_testdb::TestDb::new(&m)?;
    /// let rows = sqlite_testdb::DataOptions::default().fill(&db)?;   // 20 rows per table
    /// let skipped: Vec<_> = rows.tables().iter().map(|t| (t.table(), t.skipped())).collect();
    /// assert_eq!(skipped, [("flags", 18), ("users", 0)]);           // only 0 and 1 fit in flags
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// SQLite's error for the first row skipped, if any was.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__tables",
    /// #     "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);
    /// #      CREATE TABLE flags(id INTEGER PRIMARY KEY, on_off INTEGER NOT NULL UNIQUE CHECK (on_off IN (0, 1)));")?])?;
    /// let db = sqlite_testdb::TestDb::new(&m)?;
    /// let rows = sqlite_testdb::DataOptions::default().fill(&db)?;   // 20 rows per table
    /// let reasons: Vec<Option<&str>> = rows.tables().iter().map(|t| t.skip_reason()).collect();
    /// assert_eq!(reasons, [Some("UNIQUE constraint failed: flags.on_off"), None]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn skip_reason(&self) -> Option<&str> {
        self.skip_reason.as_deref()
    }
}
