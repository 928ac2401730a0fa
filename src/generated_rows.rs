//! What [`DataOptions::fill`] generated: [`GeneratedRows`], with
//! one [`TableRows`] per table.

#[cfg(doc)]
use crate::DataOptions;

/// The rows [`DataOptions::fill`] generated: per table, how many were inserted and skipped,
/// and the `INSERT` statements that reproduce them.
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
    pub fn tables(&self) -> &[TableRows] {
        &self.tables
    }

    /// Rows inserted, in every table.
    pub fn inserted(&self) -> usize {
        self.tables.iter().map(|t| t.inserted).sum()
    }

    /// Rows that could not be inserted after a few tries, in every table.
    pub fn skipped(&self) -> usize {
        self.tables.iter().map(|t| t.skipped).sum()
    }

    /// Every `INSERT` statement that ran, one per line, values as SQL literals, in the
    /// order they ran.
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
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Rows inserted.
    pub fn inserted(&self) -> usize {
        self.inserted
    }

    /// Rows that could not be inserted after a few tries.
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// SQLite's error for the first row skipped, if any was.
    pub fn skip_reason(&self) -> Option<&str> {
        self.skip_reason.as_deref()
    }
}
