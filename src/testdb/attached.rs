//! [`Attached`]: an application value that owns connections to a test database, dropped
//! before the database.

use std::fmt;
use std::ops::{Deref, DerefMut};

use super::database::TestDb;
use crate::error::{Error, Result};

/// An application value made from a test database (a store, a repository, anything that
/// owns a connection or a pool to it), kept together with that database by
/// [`TestDb::attach`].
///
/// It derefs to the value. Dropping it drops the value first, then the [`TestDb`]: the
/// value's connections are closed before the file is removed, and a failed test keeps the
/// file as usual.
///
/// # Examples
///
/// As an rstest fixture:
///
/// ```no_run
/// use rstest::{fixture, rstest};
/// use sqlite_testdb::rusqlite::Connection;
/// use sqlite_testdb::{test_db, Attached, TestDb};
///
/// struct Store { conn: Connection }
///
/// impl Store {
///     fn from_connection(conn: Connection) -> Store { Store { conn } }
///     fn count_users(&self) -> rusqlite::Result<i64> {
///         self.conn.query_row("SELECT count(*) FROM users", [], |r| r.get(0))
///     }
/// }
///
/// #[fixture]
/// fn store(test_db: TestDb) -> Attached<Store> {
///     test_db.attach(|db| db.connect().map(Store::from_connection)).unwrap()
/// }
///
/// #[rstest]
/// fn starts_empty(store: Attached<Store>) {
///     assert_eq!(store.count_users().unwrap(), 0);
/// }
/// ```
pub struct Attached<T> {
    /// Declared first: dropped before the database, so its connections close first.
    value: T,
    db: TestDb,
}

/// Attaching an application type.
impl TestDb {
    /// Hands the database to an application type that owns its connection or pool (a
    /// store, a repository): `open` makes it from this database, and the [`Attached`] guard
    /// returned derefs to it and drops it **before** the database, so its connections close
    /// before the file goes. Without it, a test keeps the `TestDb` beside the store and must
    /// drop them in the right order by hand: a pool whose file is gone quietly creates a new,
    /// empty, unmigrated one.
    ///
    /// Works as an rstest fixture, with the database's [`Keep`](crate::Keep) policy unchanged: a failed
    /// test keeps the file.
    ///
    /// `open` returns the application's own error, whatever its type: one that converts
    /// into `Box<dyn Error + Send + Sync>` (any `std::error::Error + Send + Sync`, a boxed
    /// error, `anyhow::Error`), so `?` inside it turns this crate's errors into the
    /// application's when the application's error has a `From<sqlite_testdb::Error>`. The
    /// result is this crate's [`Result`](crate::Result), so `?` on it works in a test that
    /// returns the application's error (through that `From`), a boxed error or `anyhow`.
    ///
    /// # Errors
    ///
    /// [`Error::Attach`] naming the database, with `open`'s error as its source (an error of
    /// this crate's own, from `db.connect()` say, is returned as it is); the database is
    /// dropped with the error.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?])?;
    /// use sqlite_testdb::{rusqlite::Connection, TestDb};
    ///
    /// /// The application's own type, opened from a path or a `file:` URI.
    /// struct Store { conn: Connection }
    /// impl Store {
    ///     fn open(path: &str) -> rusqlite::Result<Store> {
    ///         Ok(Store { conn: Connection::open(path)? })
    ///     }
    ///     fn add_user(&self, email: &str) -> rusqlite::Result<usize> {
    ///         self.conn.execute("INSERT INTO users(email) VALUES (?1)", [email])
    ///     }
    /// }
    ///
    /// let store = TestDb::new(&m)?.attach(|db| Store::open(db.uri()))?; // a file or memory
    /// store.add_user("a@x")?;                       // derefs to the Store
    /// assert_eq!(store.db().version()?, Some(1));   // the database is still at hand
    /// drop(store);                                  // the Store first, then the file
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// With the application's own error type, `?` inside and outside:
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?])?;
    /// use sqlite_testdb::{rusqlite::Connection, TestDb};
    ///
    /// #[derive(Debug)]
    /// enum AppError { Db(rusqlite::Error), TestDb(sqlite_testdb::Error) }
    /// # impl std::fmt::Display for AppError {
    /// #     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { write!(f, "{self:?}") }
    /// # }
    /// impl std::error::Error for AppError {}
    /// impl From<rusqlite::Error> for AppError {
    ///     fn from(e: rusqlite::Error) -> Self { AppError::Db(e) }
    /// }
    /// impl From<sqlite_testdb::Error> for AppError {
    ///     fn from(e: sqlite_testdb::Error) -> Self { AppError::TestDb(e) }
    /// }
    ///
    /// struct Store { conn: Connection }
    /// impl Store {
    ///     fn from_connection(conn: Connection) -> Result<Store, AppError> {
    ///         conn.execute_batch("PRAGMA recursive_triggers = ON")?;
    ///         Ok(Store { conn })
    ///     }
    /// }
    ///
    /// fn a_test(m: &sqlite_testdb::Migrations) -> Result<(), AppError> {
    ///     let store = TestDb::new(m)?.attach(|db| Store::from_connection(db.connect()?))?;
    ///     store.conn.execute("INSERT INTO users(email) VALUES ('a@x')", [])?;
    ///     Ok(())
    /// }
    /// a_test(&m)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn attach<T, E>(
        self,
        open: impl FnOnce(&TestDb) -> std::result::Result<T, E>,
    ) -> Result<Attached<T>>
    where
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        match open(&self) {
            Ok(value) => Ok(Attached { value, db: self }),
            Err(e) => match e.into().downcast::<Error>() {
                Ok(own) => Err(*own),
                Err(source) => Err(Error::Attach {
                    path: self.path().to_path_buf(),
                    source,
                }),
            },
        }
    }
}

impl<T> Attached<T> {
    /// The test database the value was made from.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?])?;
    /// let conn = sqlite_testdb::TestDb::new(&m)?.attach(|db| db.connect())?;
    /// assert_eq!(conn.db().version()?, Some(1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn db(&self) -> &TestDb {
        &self.db
    }

    /// The value and the database, apart: dropping them in the right order is the caller's
    /// again.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?])?;
    /// let attached = sqlite_testdb::TestDb::new(&m)?.attach(|db| db.connect())?;
    /// let (conn, db) = attached.into_parts();
    /// drop(conn);
    /// db.close()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_parts(self) -> (T, TestDb) {
        (self.value, self.db)
    }
}

impl<T> Deref for Attached<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> DerefMut for Attached<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

impl<T: fmt::Debug> fmt::Debug for Attached<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attached")
            .field("value", &self.value)
            .field("db", &self.db)
            .finish()
    }
}
