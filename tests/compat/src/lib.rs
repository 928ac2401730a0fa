//! The application side: a notes store on rusqlite 0.32 that migrates its own database with
//! refinery 0.8 when it opens it, as applications do at start-up.

use std::path::Path;

use rusqlite::{params, Connection, OpenFlags};

/// The application's migrations, embedded by refinery 0.8.
///
/// sqlite-testdb reads their runner with `sqlite_testdb::migrations!`;
/// `Migrations::from_runner` takes only a refinery 0.10 runner, and says so:
///
/// ```compile_fail,E0277
/// use sqlite_testdb_compat::embedded;
///
/// let m = sqlite_testdb::Migrations::from_runner(embedded::migrations::runner());
/// ```
///
/// ```
/// use sqlite_testdb_compat::embedded;
///
/// let m = sqlite_testdb::migrations!(embedded::migrations::runner()).unwrap();
/// assert_eq!(m.latest(), 3);
/// ```
pub mod embedded {
    refinery::embed_migrations!("migrations");
}

/// What can go wrong in the store.
#[derive(Debug)]
pub enum StoreError {
    /// SQLite's error.
    Sqlite(rusqlite::Error),
    /// refinery's error, from the start-up migration run.
    Migrate(refinery::Error),
    /// The pool's error.
    Pool(r2d2::Error),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Sqlite(e) => write!(f, "sqlite: {e}"),
            StoreError::Migrate(e) => write!(f, "migrations: {e}"),
            StoreError::Pool(e) => write!(f, "pool: {e}"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Sqlite(e)
    }
}

/// The versions refinery applied when the store opened: empty when the database was
/// already up to date.
pub type Applied = Vec<u32>;

/// Runs the application's migrations on `conn` with refinery 0.8, refusing divergent or
/// missing ones, and returns the versions it applied.
pub fn migrate(conn: &mut Connection) -> Result<Applied, StoreError> {
    let report = embedded::migrations::runner()
        .set_abort_divergent(true)
        .set_abort_missing(true)
        .run(conn)
        .map_err(StoreError::Migrate)?;
    Ok(report
        .applied_migrations()
        .iter()
        .map(|m| m.version())
        .collect())
}

/// The application's store: one connection, migrated on open.
pub struct Store {
    conn: Connection,
    /// What the start-up migration run applied.
    pub applied: Applied,
}

impl Store {
    /// Opens the database at `path` (a file path, or a `file:` URI) and brings it up to date.
    pub fn open(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        Store::from_connection(Connection::open_with_flags(path, flags)?)
    }

    /// Takes a connection opened elsewhere and brings its database up to date.
    pub fn from_connection(mut conn: Connection) -> Result<Store, StoreError> {
        conn.pragma_update(None, "foreign_keys", true)?;
        let applied = migrate(&mut conn)?;
        Ok(Store { conn, applied })
    }

    /// Adds an account and returns its id.
    pub fn add_account(&self, email: &str) -> Result<i64, StoreError> {
        self.conn
            .execute("INSERT INTO accounts(email) VALUES (?1)", [email])?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Adds a note to an account.
    pub fn add_note(&self, account: i64, body: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO notes(account_id, body, title) VALUES (?1, ?2, substr(?2, 1, 40))",
            params![account, body],
        )?;
        Ok(())
    }

    /// How many notes an account has.
    pub fn notes_of(&self, account: i64) -> Result<i64, StoreError> {
        Ok(self.conn.query_row(
            "SELECT count(*) FROM notes WHERE account_id = ?1",
            [account],
            |r| r.get(0),
        )?)
    }
}

/// The same store over an r2d2 pool, the way a web application holds it.
pub struct PoolStore {
    pool: r2d2::Pool<r2d2_sqlite::SqliteConnectionManager>,
}

impl PoolStore {
    /// Takes the application's pool type: r2d2 over r2d2_sqlite 0.25.
    pub fn new(pool: r2d2::Pool<r2d2_sqlite::SqliteConnectionManager>) -> PoolStore {
        PoolStore { pool }
    }

    /// How many accounts there are.
    pub fn accounts(&self) -> Result<i64, StoreError> {
        let conn = self.pool.get().map_err(StoreError::Pool)?;
        Ok(conn.query_row("SELECT count(*) FROM accounts", [], |r| r.get(0))?)
    }

    /// Adds an account.
    pub fn add_account(&self, email: &str) -> Result<(), StoreError> {
        let conn = self.pool.get().map_err(StoreError::Pool)?;
        conn.execute("INSERT INTO accounts(email) VALUES (?1)", [email])?;
        Ok(())
    }
}
