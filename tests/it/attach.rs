//! Application types that own their database: `TestDb::attach` and the `Attached` guard,
//! on files and in memory, and the database's URI.

use crate::common;
use std::path::Path;

use crate::common::{EXAMPLE_TABLES, example_migrations, tables};
use sqlite_testdb::rusqlite::{Connection, OpenFlags};
use sqlite_testdb::{Attached, Keep, TestDb};

type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// An application's store, as applications write them: opened from a path or handed a
/// connection, owning it from then on.
struct Store {
    conn: Connection,
}

impl Store {
    /// Opens an existing database; never creates one.
    fn open(path: impl AsRef<Path>) -> rusqlite::Result<Store> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_URI;
        Ok(Store {
            conn: Connection::open_with_flags(path, flags)?,
        })
    }

    fn from_connection(conn: Connection) -> Store {
        Store { conn }
    }

    fn add_user(&self, email: &str) -> rusqlite::Result<usize> {
        self.conn
            .execute("INSERT INTO users(email) VALUES (?1)", [email])
    }

    fn users(&self) -> rusqlite::Result<i64> {
        self.conn
            .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
    }
}

#[test]
fn attached_store_derefs_to_the_store_and_sees_the_migrated_database() -> TestResult {
    let m = example_migrations()?;
    let store = TestDb::new(&m)?.attach(|db| Store::open(db.path()))?;
    assert_eq!(tables(&store.conn)?, EXAMPLE_TABLES);
    store.add_user("a@example.com")?;
    assert_eq!(store.users()?, 1);
    let seen: i64 = store
        .db()
        .connect()?
        .query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
    assert_eq!(seen, 1);
    Ok(())
}

#[test]
fn dropping_the_guard_closes_the_store_before_removing_the_file() -> TestResult {
    let m = example_migrations()?;
    let mut builder = TestDb::builder(&m);
    builder.keep(Keep::Never);
    let store = builder.build()?.attach(|db| Store::open(db.path()))?;
    store.add_user("a@example.com")?;
    let folder = store
        .db()
        .path()
        .parent()
        .ok_or("no parent folder")?
        .to_path_buf();
    // The store holds the WAL open: SQLite's -wal and -shm files are beside the database.
    assert!(common::entries(&folder).iter().any(|f| f.ends_with("-wal")));
    drop(store);
    assert!(!folder.exists(), "{:?}", common::entries(&folder));
    Ok(())
}

#[test]
fn a_failing_open_hands_back_its_error_and_removes_the_database() -> TestResult {
    let m = example_migrations()?;
    let mut builder = TestDb::builder(&m);
    builder.keep(Keep::Never);
    let mut seen = None;
    let err = builder
        .build()?
        .attach(|db| {
            seen = Some(db.path().to_path_buf());
            Store::open(db.path().with_extension("missing"))
        })
        .err()
        .ok_or("opening a missing file succeeded")?;
    let path = seen.ok_or("open was not called")?;
    assert!(err.to_string().contains(&format!("{path:?}")), "{err}");
    assert!(common::chain(&err).contains("unable to open"), "{err}");
    assert!(!path.exists());
    Ok(())
}

#[test]
fn into_parts_gives_the_store_and_the_database_apart() -> TestResult {
    let m = example_migrations()?;
    let (store, db) = TestDb::new(&m)?
        .attach(|db| db.connect().map(Store::from_connection))?
        .into_parts();
    store.add_user("a@example.com")?;
    drop(store);
    let path = db.path().to_path_buf();
    db.close()?;
    assert!(!path.exists());
    Ok(())
}

#[test]
fn in_memory_store_opens_by_uri_and_shares_the_database() -> TestResult {
    let m = example_migrations()?;
    let store: Attached<Store> = TestDb::builder(&m)
        .in_memory()
        .build()?
        .attach(|db| Store::open(db.uri()))?;
    store.add_user("mem@example.com")?;
    let seen: i64 = store
        .db()
        .connect()?
        .query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
    assert_eq!((store.users()?, seen), (1, 1));
    Ok(())
}

#[test]
fn a_connection_of_ones_own_keeps_an_in_memory_database_after_the_test_db_is_gone() -> TestResult {
    let m = example_migrations()?;
    let db = TestDb::builder(&m).in_memory().build()?;
    let uri = db.uri().to_owned();
    let own = Connection::open(&uri)?;
    own.execute("INSERT INTO users(email) VALUES ('stays@example.com')", [])?;
    drop(db);
    // Still there, rows and all, through the open connection and any new one.
    let again = Connection::open(&uri)?;
    let n: i64 = again.query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
    assert_eq!(n, 1);
    drop((own, again));
    // Gone with the last connection: a new one opens an empty database.
    let fresh = Connection::open(&uri)?;
    assert!(tables(&fresh)?.is_empty());
    Ok(())
}

#[test]
fn uri_of_a_file_database_opens_it_even_with_uri_characters_in_the_path() -> TestResult {
    let m = example_migrations()?;
    let parent = tempfile::tempdir()?;
    let odd = parent.path().join("a dir?with#odd%chars");
    std::fs::create_dir(&odd)?;
    let db = TestDb::builder(&m).build_in(&odd)?;
    let uri = db.uri();
    assert!(uri.starts_with("file:/"), "{uri}");
    assert!(
        uri.contains("a%20dir%3Fwith%23odd%25chars"),
        "reserved characters must be escaped: {uri}"
    );
    let conn = Connection::open(uri)?;
    conn.execute("INSERT INTO users(email) VALUES ('uri@example.com')", [])?;
    let n: i64 = db
        .connect()?
        .query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
    assert_eq!(n, 1);
    Ok(())
}

#[cfg(feature = "r2d2")]
#[test]
fn attached_pool_store_is_dropped_before_the_file() -> TestResult {
    struct PoolStore {
        pool: sqlite_testdb::Pool,
    }
    let m = example_migrations()?;
    let mut builder = TestDb::builder(&m);
    builder.keep(Keep::Never);
    let store: Attached<PoolStore> = builder
        .build()?
        .attach(|db| db.pool().map(|pool| PoolStore { pool }))?;
    store
        .pool
        .get()?
        .execute("INSERT INTO users(email) VALUES ('p@example.com')", [])?;
    let path = store.db().path().to_path_buf();
    drop(store);
    assert!(!path.exists());
    assert!(!path.parent().is_some_and(Path::exists));
    Ok(())
}

/// An application's own error, as applications write them: its store's errors and the
/// test databases' errors, each converted by `From`.
#[derive(Debug)]
enum AppError {
    Store(rusqlite::Error),
    TestDb(sqlite_testdb::Error),
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AppError::Store(_) => f.write_str("store failed"),
            AppError::TestDb(_) => f.write_str("test database failed"),
        }
    }
}

impl std::error::Error for AppError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AppError::Store(e) => Some(e),
            AppError::TestDb(e) => Some(e),
        }
    }
}

impl From<rusqlite::Error> for AppError {
    fn from(e: rusqlite::Error) -> Self {
        AppError::Store(e)
    }
}

impl From<sqlite_testdb::Error> for AppError {
    fn from(e: sqlite_testdb::Error) -> Self {
        AppError::TestDb(e)
    }
}

/// A store whose constructors return the application's error.
struct AppStore {
    conn: Connection,
}

impl AppStore {
    fn open(uri: &str) -> Result<AppStore, AppError> {
        Ok(AppStore {
            conn: Connection::open(uri)?,
        })
    }

    fn users(&self) -> Result<i64, AppError> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM users", [], |r| r.get(0))?)
    }
}

#[test]
fn attach_takes_the_applications_own_error_type() -> Result<(), AppError> {
    let m = example_migrations()?;
    // `?` inside converts the test database's errors into the application's, and `?` on the
    // result converts back into it.
    let store = TestDb::new(&m)?.attach(|db| {
        assert_eq!(db.version()?, Some(7));
        AppStore::open(db.uri())
    })?;
    assert_eq!(store.users()?, 0);

    let missing = TestDb::new(&m)?
        .attach(|db| AppStore::open(&format!("{}.missing?mode=rw", db.uri())))
        .err()
        .ok_or(AppError::Store(rusqlite::Error::InvalidQuery))?;
    // The error names the database, and the application's own error is its source.
    assert!(
        matches!(&missing, sqlite_testdb::Error::Attach { path, .. } if path.extension() == Some("sqlite".as_ref())),
        "{missing:?}"
    );
    let source = std::error::Error::source(&missing)
        .and_then(|s| s.downcast_ref::<AppError>())
        .ok_or(AppError::Store(rusqlite::Error::InvalidQuery))?;
    assert!(matches!(source, AppError::Store(_)), "{source:?}");
    // And `?` turns it into the application's error.
    let converted: AppError = missing.into();
    assert!(matches!(converted, AppError::TestDb(_)));
    Ok(())
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A store constructor of an application whose errors are boxed.
fn open_boxed(uri: &str) -> Result<Store, BoxError> {
    if !uri.starts_with("file:") {
        return Err("not a URI".into());
    }
    Ok(Store::open(uri)?)
}

#[test]
fn attach_takes_a_boxed_error_in_a_test_returning_a_boxed_error() -> Result<(), BoxError> {
    let m = example_migrations()?;
    let store = TestDb::new(&m)?.attach(|db| {
        db.version()?;
        open_boxed(db.uri())
    })?;
    assert_eq!(store.users()?, 0);
    Ok(())
}

#[test]
fn attach_takes_a_boxed_error_in_a_test_returning_box_dyn_error() -> TestResult {
    let m = example_migrations()?;
    let store = TestDb::new(&m)?.attach(|db| open_boxed(db.uri()))?;
    assert_eq!(store.users()?, 0);
    let err = TestDb::new(&m)?
        .attach(|db| open_boxed(&db.uri().replace("file:", "")))
        .err()
        .ok_or("a path that is no URI was opened")?;
    assert!(
        common::chain(&err).contains("caused by: not a URI"),
        "{err}"
    );
    Ok(())
}

#[test]
fn attach_returns_the_crates_own_errors_unwrapped() -> TestResult {
    let m = example_migrations()?;
    let err = TestDb::new(&m)?
        .attach(|db| {
            db.migrate_to(99)?;
            db.connect()
        })
        .err()
        .ok_or("migrating to V99 succeeded")?;
    assert!(
        matches!(
            err,
            sqlite_testdb::Error::UnknownVersion { version: 99, .. }
        ),
        "{err:?}"
    );
    Ok(())
}
