//! [`TestDb`]: one test's own database file, copied from the template, removed on drop.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::Connection;

use super::keep::Keep;
use super::snapshot::Snapshot;
use super::storage::{Backing, Storage, file_uri};
use crate::connection::ConnectOptions;
#[cfg(feature = "r2d2")]
use crate::connection::Pool;
use crate::error::{Error, Result};
use crate::migrations::Migrations;
use crate::migrations::{history, rollback, runner};
use crate::schema::Schema;
use crate::version::Version;

/// One test's own SQLite database: a file named by a UUID v7, in a temp folder of its own,
/// migrated to the requested version (copied from the cached template).
///
/// Like [`tempfile::TempDir`], it is a guard: dropping it removes the folder, unless the
/// [`Keep`] policy says otherwise. Drop never panics; when the folder cannot be removed it
/// says so on stderr, naming it. [`close`](Self::close) removes the files and returns the
/// error instead, [`keep`](Self::keep) keeps them on purpose.
///
/// Close the connections and pools you opened before the `TestDb` drops: SQLite keeps its
/// `-wal` and `-shm` files while a connection is open.
///
/// # Examples
///
/// ```
/// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?])?;
/// use sqlite_testdb::TestDb;
///
/// let db = TestDb::new(&m)?;
/// let conn = db.connect()?;
/// conn.execute("INSERT INTO users(email) VALUES (?1)", ["a@x"])?;
/// assert_eq!(db.version()?, Some(1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct TestDb {
    /// The file, or for an in-memory database its `file:` URI.
    path: PathBuf,
    /// What [`TestDb::uri`] returns.
    uri: String,
    migrations: Migrations,
    connect: Arc<ConnectOptions>,
    keep: Keep,
    /// Declared last: it is dropped after everything else.
    storage: Backing,
}

impl TestDb {
    /// A database with no migration applied, not from a template, in a folder of its own
    /// that is always removed: where replay checks start.
    ///
    /// Its connections skip fsyncs, and it is in WAL mode.
    #[cfg(feature = "check")]
    pub(crate) fn empty(migrations: &Migrations, connect: &ConnectOptions) -> Result<Self> {
        let (storage, path) = Backing::own_folder(&std::env::temp_dir())?;
        let db = TestDb::scratch(path, storage, migrations, connect);
        let conn = db.connect.open(&db.path, true)?;
        conn.pragma_update(None, "journal_mode", "wal")
            .map_err(|e| Error::sqlite("switch to WAL mode", &db.path, e))?;
        drop(conn);
        Ok(db)
    }

    /// A copy of the database file `source` (and of its `-wal` file, if there is one),
    /// never opened itself, in a folder of its own that is always removed: what an upgrade
    /// check works on. Its connections skip fsyncs.
    #[cfg(feature = "check")]
    pub(crate) fn copy_of(
        source: &Path,
        migrations: &Migrations,
        connect: &ConnectOptions,
    ) -> Result<Self> {
        let (storage, path) = Backing::own_folder(&std::env::temp_dir())?;
        std::fs::copy(source, &path).map_err(|e| Error::io("copy database", source, e))?;
        let mut wal = source.as_os_str().to_owned();
        wal.push("-wal");
        let wal = PathBuf::from(wal);
        if wal.is_file() {
            let mut copy = path.as_os_str().to_owned();
            copy.push("-wal");
            std::fs::copy(&wal, PathBuf::from(copy))
                .map_err(|e| Error::io("copy database", &wal, e))?;
        }
        Ok(TestDb::scratch(path, storage, migrations, connect))
    }

    /// A database at `path` in `storage`, always removed, whose connections skip fsyncs:
    /// what the replay checks work on.
    #[cfg(feature = "check")]
    fn scratch(
        path: PathBuf,
        storage: Backing,
        migrations: &Migrations,
        connect: &ConnectOptions,
    ) -> Self {
        let connect = ConnectOptions {
            durable: false,
            ..connect.clone()
        };
        TestDb::assemble(
            path,
            migrations.clone(),
            Arc::new(connect),
            Keep::Never,
            storage,
        )
    }

    /// A test database at `path` (an in-memory one's URI), owning `storage`.
    pub(crate) fn assemble(
        path: PathBuf,
        migrations: Migrations,
        connect: Arc<ConnectOptions>,
        keep: Keep,
        storage: Backing,
    ) -> Self {
        let uri = if storage.is_memory() {
            path.to_string_lossy().into_owned()
        } else {
            file_uri(&path)
        };
        TestDb {
            path,
            uri,
            migrations,
            connect,
            keep,
            storage,
        }
    }

    /// The database file; for an [in-memory](crate::Builder::in_memory) database, which has
    /// no file, its [`uri`](Self::uri) as a path (`file:/sqlite-testdb-<uuid>.sqlite?vfs=memdb`).
    ///
    /// Either way `rusqlite::Connection::open(db.path())` opens this database (rusqlite opens
    /// with `SQLITE_OPEN_URI`), but only a file is something to `stat`, copy or hand to the
    /// `sqlite3` shell: code that needs a real file takes [`file`](Self::file), and code
    /// that opens the database from an application takes [`uri`](Self::uri), which works in
    /// every mode.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?])?;
    /// use sqlite_testdb::TestDb;
    ///
    /// let db = TestDb::new(&m)?;
    /// assert!(db.path().is_file());
    /// assert_eq!(db.path().extension(), Some(std::ffi::OsStr::new("sqlite")));
    /// let plain = rusqlite::Connection::open(db.path())?; // any SQLite client can open it
    /// # drop(plain);
    ///
    /// let memory = TestDb::builder(&m).in_memory().build()?;
    /// assert_eq!(memory.path(), std::path::Path::new(memory.uri())); // no file: the URI
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The database file, `None` for an [in-memory](crate::Builder::in_memory) database.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?])?;
    /// use sqlite_testdb::TestDb;
    ///
    /// let db = TestDb::new(&m)?;
    /// assert!(db.file().is_some_and(|f| f.is_file()));
    /// assert_eq!(TestDb::builder(&m).in_memory().build()?.file(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn file(&self) -> Option<&Path> {
        (!self.is_in_memory()).then_some(self.path.as_path())
    }

    /// A `file:` URI that opens this database: the file's path as a URI, or for an
    /// [in-memory](crate::Builder::in_memory) database its name in SQLite's `memdb` VFS
    /// (`file:/sqlite-testdb-<uuid>.sqlite?vfs=memdb`), which opens it from this process
    /// only. SQLite reads it as a URI when the connection is opened with `SQLITE_OPEN_URI`,
    /// which `rusqlite::Connection::open` does.
    ///
    /// An in-memory database lives as long as a connection to it is open: one opened
    /// through this URI keeps it, rows and all, after the `TestDb` is dropped, until that
    /// connection closes.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?])?;
    /// use sqlite_testdb::{rusqlite::Connection, TestDb};
    ///
    /// let db = TestDb::builder(&m).in_memory().build()?;
    /// assert!(db.uri().starts_with("file:/sqlite-testdb-") && db.uri().ends_with("?vfs=memdb"));
    /// let conn = Connection::open(db.uri())?; // what an application's `Store::open` does
    /// conn.execute("INSERT INTO users(email) VALUES ('a@x')", [])?;
    /// let n: i64 = db.connect()?.query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
    /// assert_eq!(n, 1);
    ///
    /// let on_disk = TestDb::new(&m)?;
    /// assert!(on_disk.uri().starts_with("file:/"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// Whether this is an [in-memory](crate::Builder::in_memory) database, which has a
    /// [`uri`](Self::uri) but no [`file`](Self::file).
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?])?;
    /// use sqlite_testdb::TestDb;
    ///
    /// assert!(TestDb::builder(&m).in_memory().build()?.is_in_memory());
    /// assert!(!TestDb::new(&m)?.is_in_memory());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_in_memory(&self) -> bool {
        self.storage.is_memory()
    }

    /// Where this database lives: what [`Builder::storage`](crate::Builder::storage) or
    /// `SQLITE_TESTDB_STORAGE` chose.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?])?;
    /// use sqlite_testdb::{Storage, TestDb};
    ///
    /// let db = TestDb::builder(&m).shared_folder().build()?;
    /// assert_eq!(db.storage(), Storage::SharedFolder);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn storage(&self) -> Storage {
        self.storage.kind()
    }

    /// The migrations this database was made from.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?,
    /// #     refinery::Migration::unapplied("V2__posts", "CREATE TABLE posts(id INTEGER PRIMARY KEY);")?,
    /// # ])?;
    /// let db = sqlite_testdb::TestDb::builder(&m).version(1).build()?;
    /// assert_eq!(db.version()?, Some(1));
    /// assert_eq!(db.migrations().latest(), 2); // the whole set, whatever the version
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn migrations(&self) -> &Migrations {
        &self.migrations
    }

    /// A new connection with the test settings: foreign keys on, the busy timeout, the
    /// [`Builder::on_connect`](crate::Builder::on_connect) hook; never SQLite's shared cache.
    ///
    /// # Errors
    ///
    /// [`Error::Sqlite`] naming the file when it cannot be opened or the hook fails.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?])?;
    /// let db = sqlite_testdb::TestDb::new(&m)?;
    /// let fk: bool = db.connect()?.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
    /// assert!(fk);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn connect(&self) -> Result<Connection> {
        self.connect.open(&self.path, false)
    }

    /// An r2d2 pool of connections with the same settings as [`connect`](Self::connect), for
    /// code under test that takes a pool (feature `r2d2`, on by default): the
    /// `r2d2_sqlite` release that matches the project's rusqlite. Connections are opened on demand (at most
    /// [`Builder::pool_max_size`](crate::Builder::pool_max_size), default 4).
    ///
    /// # Errors
    ///
    /// [`Error::Pool`] naming the file.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?])?;
    /// let db = sqlite_testdb::TestDb::new(&m)?;
    /// let pool = db.pool()?;
    /// pool.get()?.execute("INSERT INTO users DEFAULT VALUES", [])?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "r2d2")]
    pub fn pool(&self) -> Result<Pool> {
        self.connect.pool(&self.path)
    }

    /// The highest version in the history table of the migrations' library (refinery's,
    /// sqlx's or diesel's), `None` when nothing is applied.
    ///
    /// # Errors
    ///
    /// [`Error::Refinery`] or [`Error::Sqlite`] naming the file when the history cannot be
    /// read; [`Error::NotSupportedForFn`] for migrations given as a function (read its
    /// `PRAGMA user_version` instead).
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?])?;
    /// let db = sqlite_testdb::TestDb::new(&m)?;
    /// assert_eq!(db.version()?, Some(1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn version(&self) -> Result<Option<Version>> {
        self.migrations.require_steps("version")?;
        history::last_applied(&mut self.connect()?, &self.path, &self.migrations)
    }

    /// The database's [`Schema`]: tables, indexes, views and triggers, normalized.
    ///
    /// # Errors
    ///
    /// [`Error::Sqlite`] naming the file.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?])?;
    /// let db = sqlite_testdb::TestDb::new(&m)?;
    /// db.schema()?.require_tables(&["users"])?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn schema(&self) -> Result<Schema> {
        Schema::capture(&self.connect()?)
    }

    /// Applies the migrations after the current version, up to and including `version`,
    /// over whatever rows the database holds: the way to test an upgrade of a database with
    /// data in it. Does nothing when the database is at `version` already.
    ///
    /// # Errors
    ///
    /// - [`Error::UnknownVersion`] when `version` is not in the set;
    /// - [`Error::MigrateBackwards`] when the database is past `version`;
    /// - [`Error::Migration`] naming the migration that failed and its file; the database
    ///   stays at the last version that applied.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);")?,
    /// #     refinery::Migration::unapplied("V2__upper", "UPDATE users SET name = upper(name);")?,
    /// # ])?;
    /// let db = sqlite_testdb::TestDb::builder(&m).version(1).build()?;
    /// db.connect()?.execute("INSERT INTO users(name) VALUES ('ada')", [])?;
    /// db.migrate_to(2)?;
    /// let name: String = db.connect()?.query_row("SELECT name FROM users", [], |r| r.get(0))?;
    /// assert_eq!(name, "ADA");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn migrate_to(&self, version: Version) -> Result<()> {
        self.migrations.require_steps("migrate_to")?;
        self.migrations.check_version(version)?;
        let mut conn = self.connect()?;
        match history::last_applied(&mut conn, &self.path, &self.migrations)? {
            Some(current) if version < current => Err(Error::MigrateBackwards {
                path: self.path.clone(),
                current,
                requested: version,
            }),
            Some(current) if version == current => Ok(()),
            _ => runner::run(&mut conn, &self.migrations, version, &self.path),
        }
    }

    /// Undoes every applied migration above `version`, newest first: runs its down script
    /// (`V{n}__{name}.down.sql`, sqlx's `.down.sql`, diesel's `down.sql`) and removes its
    /// row from its library's history table, in one transaction per migration, each on a new
    /// connection. [`migrate_to`](Self::migrate_to) can apply them again afterwards.
    ///
    /// `version` is one of the set's versions, or any version below the first to undo
    /// everything. Every down script needed is checked before any runs.
    ///
    /// Foreign keys are on: a down script that drops a table other tables' rows still
    /// reference fails (or cascades), as it would on a real database.
    ///
    /// # Errors
    ///
    /// - [`Error::UnknownVersion`] for a version not in the set (and not below it);
    /// - [`Error::RollbackForwards`] when the database is below `version`;
    /// - [`Error::MissingDownScript`] naming the first migration without a usable down
    ///   script (none, or only comments), before anything runs;
    /// - [`Error::DownScript`] when a down script fails; the database stays at the version
    ///   it had before that script.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # std::fs::write(dir.path().join("V1__users.sql"), "CREATE TABLE users(id INTEGER PRIMARY KEY);")?;
    /// # std::fs::write(dir.path().join("V2__posts.sql"), "CREATE TABLE posts(id INTEGER PRIMARY KEY);")?;
    /// # std::fs::write(dir.path().join("V2__posts.down.sql"), "DROP TABLE posts;")?;
    /// let m = sqlite_testdb::Migrations::from_dir(dir.path())?;
    /// let db = sqlite_testdb::TestDb::new(&m)?;
    /// db.rollback_to(1)?;
    /// assert_eq!(db.version()?, Some(1));
    /// assert_eq!(db.schema()?.tables(), ["users"]);
    /// db.migrate_to(2)?;
    /// assert_eq!(db.schema()?.tables(), ["posts", "users"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn rollback_to(&self, version: Version) -> Result<()> {
        rollback::rollback_to(&self.migrations, version, &self.path, || self.connect())
    }

    /// A copy of the whole database, in memory, to [`restore`](Self::restore) later: go
    /// back and try again without building a new database.
    ///
    /// # Errors
    ///
    /// [`Error::Sqlite`] naming the file.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?])?;
    /// let db = sqlite_testdb::TestDb::new(&m)?;
    /// let empty = db.snapshot()?;
    /// db.connect()?.execute("INSERT INTO users DEFAULT VALUES", [])?;
    /// db.restore(&empty)?;
    /// let n: i64 = db.connect()?.query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
    /// assert_eq!(n, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn snapshot(&self) -> Result<Snapshot> {
        Snapshot::take(&self.connect()?, &self.path)
    }

    /// Puts the database back to the state of `snapshot`: schema, rows and migration
    /// history.
    ///
    /// # Errors
    ///
    /// [`Error::Sqlite`] naming the file, for example while another connection holds a
    /// write transaction open.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?])?;
    /// let db = sqlite_testdb::TestDb::new(&m)?;
    /// let before = db.snapshot()?;
    /// db.connect()?.execute_batch("DROP TABLE users")?;
    /// db.restore(&before)?;
    /// assert_eq!(db.schema()?.tables(), ["users"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn restore(&self, snapshot: &Snapshot) -> Result<()> {
        snapshot.restore_into(&mut self.connect()?, &self.path)
    }

    /// Keeps the database: the folder and file stay after the guard is gone, whatever the
    /// [`Keep`] policy. Returns the database file's path; an in-memory database is written
    /// to a file in a new temp folder, whose path it returns.
    ///
    /// # Errors
    ///
    /// For an in-memory database, [`Error::Io`] or [`Error::Sqlite`] naming the folder or
    /// file it could not be written to.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?])?;
    /// let db = sqlite_testdb::TestDb::new(&m)?;
    /// let path = db.keep()?;
    /// assert!(path.exists());
    /// # std::fs::remove_dir_all(path.parent().ok_or("no folder")?)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn keep(mut self) -> Result<PathBuf> {
        let path = self.storage.keep(&self.path)?;
        Ok(path.unwrap_or_else(|| self.path.clone()))
    }

    /// Removes the database's folder now (closes an in-memory database) and reports what
    /// went wrong, where drop can only print it. Ignores the [`Keep`] policy.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] naming the folder.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?])?;
    /// let db = sqlite_testdb::TestDb::new(&m)?;
    /// let path = db.path().to_path_buf();
    /// db.close()?;
    /// assert!(!path.exists());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn close(mut self) -> Result<()> {
        self.storage.close(&self.path)
    }
}

impl fmt::Debug for TestDb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestDb")
            .field("path", &self.path)
            .field("keep", &self.keep)
            .finish_non_exhaustive()
    }
}

impl Drop for TestDb {
    /// Removes the files, or keeps them as the [`Keep`] policy says and prints where; says
    /// on stderr what went wrong, never panics.
    fn drop(&mut self) {
        let reason = match self.keep {
            Keep::Always => "keep policy: always",
            Keep::OnFailure if std::thread::panicking() => "test panicked",
            _ => {
                if let Err(e) = self.storage.remove(&self.path) {
                    eprintln!("sqlite-testdb: {}", describe(&e));
                }
                return;
            }
        };
        match self.storage.keep(&self.path) {
            Ok(Some(path)) => {
                let path = path.display();
                eprintln!(
                    "sqlite-testdb: kept database at {path} ({reason}); open it with: sqlite3 '{path}'"
                );
            }
            Ok(None) => {}
            Err(e) => eprintln!(
                "sqlite-testdb: could not keep {} ({reason}): {}",
                self.uri,
                e.with_causes().replace('\n', "; ")
            ),
        }
    }
}

/// What went wrong in a drop, on one line: `could not remove test database folder …: <OS
/// error>`.
fn describe(error: &Error) -> String {
    match error {
        Error::Io { op, path, source } => format!("could not {op} {}: {source}", path.display()),
        other => other.with_causes().replace('\n', "; "),
    }
}
