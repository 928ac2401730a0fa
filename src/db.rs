//! [`TestDb`]: one test's own database file, copied from the template, removed on drop.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;
use tempfile::TempDir;
use uuid::Uuid;

use crate::connect::ConnectOptions;
#[cfg(feature = "r2d2")]
use crate::connect::Pool;
use crate::template::{self, Request};
use crate::{
    Attached, DownScript, Error, Fingerprint, Migrations, Result, Schema, Snapshot, Version, cache,
    env,
};

/// refinery's history table (its default name, which refinery's runner uses unless told
/// otherwise).
pub(crate) const HISTORY_TABLE: &str = "refinery_schema_history";

/// What happens to a test database's files when its [`TestDb`] is dropped.
///
/// The default comes from `SQLITE_TESTDB_KEEP` (`on-failure`, `always` or `never`), and is
/// [`Keep::OnFailure`] when the variable is unset; [`Builder::keep`] overrides both.
///
/// # Examples
///
/// ```
/// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?])?;
/// use sqlite_testdb::{Keep, TestDb};
///
/// let db = TestDb::builder(&m).keep(Keep::Never).build()?;
/// let path = db.path().to_path_buf();
/// drop(db);
/// assert!(!path.exists());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Keep {
    /// Always remove the files, even when the test failed.
    Never,
    /// Keep the files when the thread is panicking, that is when the test failed, and print
    /// their path on stderr. This is the default.
    ///
    /// A panic counts as a failure even in a `#[should_panic]` test.
    #[default]
    OnFailure,
    /// Always keep the files, and print their path on stderr.
    Always,
}

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
    storage: Storage,
}

/// Where a test database lives.
enum Storage {
    /// A file in a folder of its own; `None` once kept or closed.
    File(Option<TempDir>),
    /// A file in a folder shared with other databases ([`Builder::shared_folder`]): the file
    /// and SQLite's `-wal`, `-shm` and `-journal` files beside it; `false` once kept or
    /// closed.
    SharedFolder(bool),
    /// An in-memory database (SQLite's `memdb` VFS, shared by the connections of this
    /// process that open its name), alive while this connection is open; `None` once closed.
    Memory(Option<Mutex<Connection>>),
}

impl TestDb {
    /// A fresh database at the latest version of `migrations`, with the default settings.
    ///
    /// # Errors
    ///
    /// A migration that fails while the template is built ([`Error::Migration`], naming it
    /// and its file), a cache or temp folder that cannot be written ([`Error::Io`]), or an
    /// invalid `SQLITE_TESTDB_KEEP` ([`Error::Env`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?])?;
    /// let db = sqlite_testdb::TestDb::new(&m)?;
    /// assert!(db.path().exists());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(migrations: &Migrations) -> Result<Self> {
        Builder::new(migrations).build()
    }

    /// A database with no migration applied, not from a template: where replay checks start.
    pub(crate) fn empty(builder: &Builder<'_>) -> Result<Self> {
        let (dir, path) = new_database_folder(&std::env::temp_dir())?;
        let connect = builder.connect.clone();
        drop(connect.open(&path, true)?);
        Ok(TestDb {
            uri: file_uri(&path),
            path,
            migrations: builder.migrations.clone(),
            connect: Arc::new(connect),
            keep: Keep::Never,
            storage: Storage::File(Some(dir)),
        })
    }

    /// A [`Builder`] for a database at another version, with seed data or other settings.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?,
    /// #     refinery::Migration::unapplied("V2__names", "ALTER TABLE users ADD COLUMN name TEXT;")?,
    /// # ])?;
    /// use sqlite_testdb::TestDb;
    ///
    /// let db = TestDb::builder(&m)
    ///     .version(1)
    ///     .seed_sql("INSERT INTO users(email) VALUES ('a@x')")
    ///     .build()?;
    /// assert_eq!(db.version()?, Some(1));
    /// let n: i64 = db.connect()?.query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
    /// assert_eq!(n, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder(migrations: &Migrations) -> Builder<'_> {
        Builder::new(migrations)
    }

    /// The database file.
    ///
    /// # Panics
    ///
    /// For an [in-memory](Builder::in_memory) database, which has no file: the message says
    /// so and gives its [`uri`](Self::uri), the way to open it. Check
    /// [`is_in_memory`](Self::is_in_memory) first in code that takes both kinds.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?])?;
    /// let db = sqlite_testdb::TestDb::new(&m)?;
    /// assert!(db.path().is_file());
    /// assert_eq!(db.path().extension(), Some(std::ffi::OsStr::new("sqlite")));
    /// let plain = rusqlite::Connection::open(db.path())?; // any SQLite client can open it
    /// # drop(plain);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[track_caller]
    pub fn path(&self) -> &Path {
        assert!(
            !self.is_in_memory(),
            "sqlite-testdb: {} is an in-memory test database, which has no file and so no \
             path: open it by its URI, TestDb::uri(), with SQLITE_OPEN_URI (rusqlite's \
             Connection::open sets it)",
            self.uri
        );
        &self.path
    }

    /// A `file:` URI that opens this database: the file's path as a URI, or for an
    /// [in-memory](Builder::in_memory) database its name in SQLite's `memdb` VFS
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

    /// Whether this is an [in-memory](Builder::in_memory) database, which has a
    /// [`uri`](Self::uri) but no [`path`](Self::path).
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
        matches!(self.storage, Storage::Memory(_))
    }

    /// Hands the database to an application type that owns its connection or pool (a
    /// store, a repository): `open` makes it from this database, and the [`Attached`] guard
    /// returned derefs to it and drops it **before** the database, so its connections close
    /// before the file goes. Without it, a test keeps the `TestDb` beside the store and must
    /// drop them in the right order by hand: a pool whose file is gone quietly creates a new,
    /// empty, unmigrated one.
    ///
    /// Works as an rstest fixture, with the database's [`Keep`] policy unchanged: a failed
    /// test keeps the file.
    ///
    /// # Errors
    ///
    /// Whatever `open` returns; the database is dropped with the error.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?])?;
    /// use sqlite_testdb::{rusqlite::Connection, TestDb};
    ///
    /// /// The application's own type, opened from a path.
    /// struct Store { conn: Connection }
    /// impl Store {
    ///     fn open(path: &std::path::Path) -> rusqlite::Result<Store> {
    ///         Ok(Store { conn: Connection::open(path)? })
    ///     }
    ///     fn add_user(&self, email: &str) -> rusqlite::Result<usize> {
    ///         self.conn.execute("INSERT INTO users(email) VALUES (?1)", [email])
    ///     }
    /// }
    ///
    /// let store = TestDb::new(&m)?.attach(|db| Store::open(db.path()))?;
    /// store.add_user("a@x")?;                       // derefs to the Store
    /// assert_eq!(store.db().version()?, Some(1));   // the database is still at hand
    /// drop(store);                                  // the Store first, then the file
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn attach<T, E>(
        self,
        open: impl FnOnce(&TestDb) -> std::result::Result<T, E>,
    ) -> std::result::Result<Attached<T>, E> {
        let value = open(&self)?;
        Ok(Attached::new(value, self))
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
    /// [`Builder::on_connect`] hook; never SQLite's shared cache.
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
    /// [`Builder::pool_max_size`], default 4).
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

    /// The highest version in refinery's history table, `None` when nothing is applied.
    ///
    /// # Errors
    ///
    /// [`Error::Refinery`] naming the file when the history cannot be read.
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
        let mut conn = self.connect()?;
        last_applied(&mut conn, &self.path)
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
        self.migrations.check_version(version)?;
        let mut conn = self.connect()?;
        match last_applied(&mut conn, &self.path)? {
            Some(current) if version < current => Err(Error::MigrateBackwards {
                path: self.path.clone(),
                current,
                requested: version,
            }),
            Some(current) if version == current => Ok(()),
            _ => run_migrations(&mut conn, &self.migrations, version, &self.path),
        }
    }

    /// Undoes every applied migration above `version`, newest first: runs its down script
    /// (`V{n}__{name}.down.sql`) and removes its row from refinery's history table, in one
    /// transaction per migration, each on a new connection. [`migrate_to`](Self::migrate_to)
    /// can apply them again afterwards.
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
        let below_first = self
            .migrations
            .versions()
            .next()
            .is_some_and(|f| version < f);
        if !below_first {
            self.migrations.check_version(version)?;
        }
        let mut conn = self.connect()?;
        let applied = refinery::Runner::new(&[])
            .get_applied_migrations(&mut conn)
            .map_err(|e| Error::Refinery {
                op: "read migration history of",
                path: self.path.clone(),
                source: e,
            })?;
        drop(conn);
        let current = applied.iter().map(refinery::Migration::version).max();
        if current.is_none_or(|c| c < version) && !(current.is_none() && below_first) {
            return Err(Error::RollbackForwards {
                path: self.path.clone(),
                current,
                requested: version,
            });
        }
        let mut undo: Vec<&refinery::Migration> =
            applied.iter().filter(|m| m.version() > version).collect();
        undo.sort_by_key(|m| std::cmp::Reverse(m.version()));
        let scripts = undo
            .into_iter()
            .map(|applied| self.down_script_of(applied))
            .collect::<Result<Vec<_>>>()?;
        for (version, migration, down) in scripts {
            self.run_down_script(version, &migration, down)?;
        }
        Ok(())
    }

    fn down_script_of(
        &self,
        applied: &refinery::Migration,
    ) -> Result<(Version, String, &DownScript)> {
        let version = applied.version();
        let name = self
            .migrations
            .get(version)
            .map_or_else(|| applied.to_string(), ToString::to_string);
        match self.migrations.down_script(version) {
            Some(down) if !down.is_irreversible() => Ok((version, name, down)),
            down => Err(Error::MissingDownScript {
                migration: name,
                expected: down
                    .and_then(|d| d.path().map(Path::to_path_buf))
                    .or_else(|| self.migrations.expected_down_path(version)),
                irreversible: down.is_some(),
            }),
        }
    }

    fn run_down_script(&self, version: Version, migration: &str, down: &DownScript) -> Result<()> {
        let failed = |e| Error::DownScript {
            migration: migration.to_owned(),
            file: down.path().map(Path::to_path_buf),
            source: e,
        };
        let mut conn = self.connect()?;
        let tx = conn.transaction().map_err(failed)?;
        tx.execute_batch(down.sql()).map_err(failed)?;
        tx.execute(
            &format!("DELETE FROM {HISTORY_TABLE} WHERE version = ?1"),
            [version],
        )
        .map_err(failed)?;
        tx.commit().map_err(failed)
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
    /// [`Keep`] policy. Returns the database file's path.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?])?;
    /// let db = sqlite_testdb::TestDb::new(&m)?;
    /// let path = db.keep();
    /// assert!(path.exists());
    /// # std::fs::remove_dir_all(path.parent().unwrap())?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn keep(mut self) -> PathBuf {
        self.keep_files().unwrap_or_default()
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
        match &mut self.storage {
            Storage::Memory(conn) => match conn.take().map(Mutex::into_inner) {
                Some(Ok(conn)) => conn
                    .close()
                    .map_err(|(_, e)| Error::sqlite("close", &self.path, e)),
                _ => Ok(()),
            },
            _ => self.remove_files(),
        }
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
    fn drop(&mut self) {
        let reason = match self.keep {
            Keep::Always => "keep policy: always",
            Keep::OnFailure if std::thread::panicking() => "test panicked",
            _ => return self.remove(),
        };
        let Some(path) = self.keep_files() else {
            return;
        };
        let path = path.display();
        eprintln!(
            "sqlite-testdb: kept database at {path} ({reason}); open it with: sqlite3 '{path}'"
        );
    }
}

impl TestDb {
    /// Keeps the database's files, unless they were kept or removed already, and returns
    /// the path to open: the file itself, or for an in-memory database a file it was written
    /// to (`None`, and said on stderr, when that fails).
    fn keep_files(&mut self) -> Option<PathBuf> {
        match &mut self.storage {
            Storage::File(dir) => {
                let _ = dir.take()?.keep();
                Some(self.path.clone())
            }
            Storage::SharedFolder(owned) => std::mem::take(owned).then(|| self.path.clone()),
            Storage::Memory(conn) => match conn.take()?.into_inner() {
                Ok(conn) => save(&conn)
                    .inspect_err(|e| {
                        eprintln!("sqlite-testdb: could not keep {}: {e}", self.path.display());
                    })
                    .ok(),
                Err(_) => None,
            },
        }
    }

    /// Removes the database's files now, unless they were kept or removed already: its
    /// folder, or in a shared folder the file and SQLite's files beside it. An in-memory
    /// database has none.
    fn remove_files(&mut self) -> Result<()> {
        match &mut self.storage {
            Storage::File(dir) => match dir.take() {
                Some(dir) => {
                    let folder = dir.path().to_path_buf();
                    dir.close()
                        .map_err(|e| Error::io("remove test database folder", folder, e))
                }
                None => Ok(()),
            },
            Storage::SharedFolder(owned) => {
                if std::mem::take(owned) {
                    remove_database_files(&self.path)
                } else {
                    Ok(())
                }
            }
            Storage::Memory(_) => Ok(()),
        }
    }

    /// Drop's removal: silent unless it fails.
    fn remove(&mut self) {
        match self.remove_files() {
            Ok(()) => {}
            Err(Error::Io { op, path, source }) => {
                eprintln!("sqlite-testdb: could not {op} {}: {source}", path.display());
            }
            Err(other) => eprintln!("sqlite-testdb: {}", other.with_causes()),
        }
    }
}

/// Removes the database file `path` and the files SQLite keeps beside it: its `-wal`,
/// `-shm` and `-journal` files, where they exist.
fn remove_database_files(path: &Path) -> Result<()> {
    let mut result = Ok(());
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        let file = PathBuf::from(file);
        match std::fs::remove_file(&file) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound && result.is_ok() => {
                result = Err(Error::io("remove test database file", file, e));
            }
            _ => {}
        }
    }
    result
}

/// Writes an in-memory database to a file in a new temp folder that is kept.
fn save(conn: &Connection) -> Result<PathBuf> {
    let (dir, path) = new_database_folder(&std::env::temp_dir())?;
    conn.backup(rusqlite::MAIN_DB, &path, None)
        .map_err(|e| Error::sqlite("write in-memory database to", &path, e))?;
    let _ = dir.keep();
    Ok(path)
}

/// Settings for a [`TestDb`]: the version, seed data, keep policy, cache folder and
/// connection settings.
///
/// Setters take and return `&mut Self`, and [`build`](Self::build) takes `&self`, so one
/// builder can make many databases.
///
/// # Examples
///
/// ```
/// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?])?;
/// use sqlite_testdb::{Keep, TestDb};
///
/// let mut builder = TestDb::builder(&m);
/// builder.keep(Keep::Never).seed_sql("INSERT INTO users(email) VALUES ('a@x')");
/// let first = builder.build()?;
/// let second = builder.build()?;
/// assert_ne!(first.path(), second.path());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Builder<'m> {
    migrations: &'m Migrations,
    version: Option<Version>,
    seeds: Vec<Seed>,
    keep: Option<Keep>,
    cache_dir: Option<PathBuf>,
    in_memory: bool,
    shared_folder: bool,
    connect: ConnectOptions,
}

#[derive(Debug, Clone)]
enum Seed {
    Sql(String),
    File(PathBuf),
}

impl<'m> Builder<'m> {
    fn new(migrations: &'m Migrations) -> Self {
        Builder {
            migrations,
            version: None,
            seeds: Vec::new(),
            keep: None,
            cache_dir: None,
            in_memory: false,
            shared_folder: false,
            connect: ConnectOptions::default(),
        }
    }

    /// Stops at this migration version instead of the latest (refinery's
    /// `Target::Version`). It must be one of the set's versions.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?,
    /// #     refinery::Migration::unapplied("V2__posts", "CREATE TABLE posts(id INTEGER PRIMARY KEY);")?,
    /// # ])?;
    /// use sqlite_testdb::{Error, TestDb};
    ///
    /// let db = TestDb::builder(&m).version(1).build()?;
    /// assert_eq!(db.schema()?.tables(), ["users"]);
    /// let unknown = TestDb::builder(&m).version(7).build();
    /// assert!(matches!(unknown, Err(Error::UnknownVersion { version: 7, .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn version(&mut self, version: Version) -> &mut Self {
        self.version = Some(version);
        self
    }

    /// SQL run once in the template after the migrations, so that every copy starts with
    /// its rows. Several seeds run in the order given. Part of the template's fingerprint.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?])?;
    /// let db = sqlite_testdb::TestDb::builder(&m)
    ///     .seed_sql("INSERT INTO users(email) VALUES ('a@x')")
    ///     .seed_sql("UPDATE users SET email = upper(email)") // runs second
    ///     .build()?;
    /// let email: String = db.connect()?.query_row("SELECT email FROM users", [], |r| r.get(0))?;
    /// assert_eq!(email, "A@X");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn seed_sql(&mut self, sql: impl Into<String>) -> &mut Self {
        self.seeds.push(Seed::Sql(sql.into()));
        self
    }

    /// Like [`seed_sql`](Self::seed_sql), with the SQL read from a file when the database
    /// is built.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?])?;
    /// let dir = tempfile::tempdir()?;
    /// let seed = dir.path().join("seed.sql");
    /// std::fs::write(&seed, "INSERT INTO users(email) VALUES ('a@x');")?;
    /// let db = sqlite_testdb::TestDb::builder(&m).seed_file(seed).build()?;
    /// let email: String = db.connect()?.query_row("SELECT email FROM users", [], |r| r.get(0))?;
    /// assert_eq!(email, "a@x");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn seed_file(&mut self, path: impl Into<PathBuf>) -> &mut Self {
        self.seeds.push(Seed::File(path.into()));
        self
    }

    /// What happens to the files on drop; overrides `SQLITE_TESTDB_KEEP`.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?])?;
    /// use sqlite_testdb::{Keep, TestDb};
    ///
    /// let db = TestDb::builder(&m).keep(Keep::Always).build()?;
    /// let path = db.path().to_path_buf();
    /// drop(db); // prints "sqlite-testdb: kept database at …" on stderr
    /// assert!(path.exists());
    /// # std::fs::remove_dir_all(path.parent().ok_or("no folder")?)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn keep(&mut self, keep: Keep) -> &mut Self {
        self.keep = Some(keep);
        self
    }

    /// The template cache folder; overrides `SQLITE_TESTDB_CACHE_DIR` and the default
    /// (`sqlite-testdb/` in the cargo target folder).
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?])?;
    /// let cache = tempfile::tempdir()?;
    /// let mut builder = sqlite_testdb::TestDb::builder(&m);
    /// let db = builder.cache_dir(cache.path()).build()?;
    /// let template = cache.path().join(format!("{}.sqlite", builder.fingerprint()?));
    /// assert!(template.is_file());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cache_dir(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.cache_dir = Some(dir.into());
        self
    }

    /// Makes databases in memory instead of in files: the template is copied into a private
    /// in-memory database (SQLite's `memdb` VFS), which [`TestDb::connect`] and
    /// `TestDb::pool` open by name, from this process only. No file, no folder: the fastest
    /// way to a migrated database, for tests that need no file.
    ///
    /// Such a database has no [`path`](TestDb::path): open it by its [`uri`](TestDb::uri).
    /// It lives while a connection to it is open, so a connection of your own keeps it after
    /// the [`TestDb`] is dropped. A failed test's in-memory database is written to a file,
    /// which is kept and printed as usual.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?])?;
    /// let db = sqlite_testdb::TestDb::builder(&m).in_memory().build()?;
    /// db.connect()?.execute("INSERT INTO users DEFAULT VALUES", [])?;
    /// let other = rusqlite::Connection::open(db.uri())?;
    /// let n: i64 = other.query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
    /// assert_eq!(n, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn in_memory(&mut self) -> &mut Self {
        self.in_memory = true;
        self
    }

    /// Puts the database file straight into a folder shared with other test databases,
    /// instead of a new folder of its own: `databases/` in the template cache folder (which
    /// is private to this user), or the folder given to [`build_in`](Self::build_in).
    ///
    /// This saves creating and removing a folder for every test, which is most of what a
    /// small database costs on ext4: see the README's "Performance" table. Dropping the
    /// [`TestDb`] removes the file and SQLite's `-wal`, `-shm` and `-journal` files beside
    /// it; files the test itself writes beside it are its own to remove. A kept database
    /// stays where it is, and files left in `databases/` by a killed test process are removed
    /// once they are seven days old.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?])?;
    /// let mut builder = sqlite_testdb::TestDb::builder(&m);
    /// builder.shared_folder();
    /// let (a, b) = (builder.build()?, builder.build()?);
    /// assert_eq!(a.path().parent(), b.path().parent());
    /// assert!(a.path().parent().unwrap().ends_with("databases"));
    /// let path = a.path().to_path_buf();
    /// drop(a);
    /// assert!(!path.exists() && path.parent().unwrap().is_dir());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shared_folder(&mut self) -> &mut Self {
        self.shared_folder = true;
        self
    }

    /// How long a connection waits for a lock held by another before SQLite reports
    /// "database is locked". Default: 5 seconds.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?])?;
    /// use std::time::Duration;
    ///
    /// let db = sqlite_testdb::TestDb::builder(&m).busy_timeout(Duration::from_millis(250)).build()?;
    /// let ms: i64 = db.connect()?.query_row("PRAGMA busy_timeout", [], |r| r.get(0))?;
    /// assert_eq!(ms, 250);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn busy_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.connect.busy_timeout = timeout;
        self
    }

    /// The most connections a [`TestDb::pool`] opens (feature `r2d2`). Default: 4.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?])?;
    /// let db = sqlite_testdb::TestDb::builder(&m).pool_max_size(2).build()?;
    /// let pool = db.pool()?;
    /// let _both = (pool.get()?, pool.get()?);
    /// assert!(pool.try_get().is_none()); // no third connection
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "r2d2")]
    pub fn pool_max_size(&mut self, size: u32) -> &mut Self {
        self.connect.pool_max_size = size.max(1);
        self
    }

    /// A function run on every new connection, after the test settings: custom SQL
    /// functions, collations, extensions. It also runs on the connection that builds the
    /// template, so migrations can use what it registers.
    ///
    /// The hook is not part of the template's fingerprint: if changing it changes what the
    /// migrations produce, also change a migration or a seed (or the cache folder).
    ///
    /// # Examples
    ///
    /// ```
    /// use rusqlite::functions::FunctionFlags;
    /// use sqlite_testdb::{Migrations, TestDb};
    ///
    /// let m = Migrations::from_migrations([refinery::Migration::unapplied(
    ///     "V1__answers",
    ///     "CREATE TABLE answers(n INTEGER); INSERT INTO answers VALUES (answer());",
    /// )?])?;
    /// let db = TestDb::builder(&m)
    ///     .on_connect(|conn| {
    ///         conn.create_scalar_function("answer", 0, FunctionFlags::SQLITE_DETERMINISTIC, |_| Ok(42))
    ///     })
    ///     .build()?;
    /// let n: i64 = db.connect()?.query_row("SELECT answer() + n FROM answers", [], |r| r.get(0))?;
    /// assert_eq!(n, 84);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn on_connect<F>(&mut self, hook: F) -> &mut Self
    where
        F: Fn(&mut Connection) -> rusqlite::Result<()> + Send + Sync + 'static,
    {
        self.connect.hook = Some(Arc::new(hook));
        self
    }

    /// The migrations these settings are for.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?,
    /// #     refinery::Migration::unapplied("V2__posts", "CREATE TABLE posts(id INTEGER PRIMARY KEY);")?,
    /// # ])?;
    /// let mut builder = sqlite_testdb::TestDb::builder(&m);
    /// builder.version(1);
    /// assert_eq!(builder.migrations().latest(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn migrations(&self) -> &Migrations {
        self.migrations
    }

    /// The fingerprint of the template these settings use.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownVersion`] for a version not in the set, [`Error::Io`] for a seed file
    /// that cannot be read.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?,
    /// #     refinery::Migration::unapplied("V2__posts", "CREATE TABLE posts(id INTEGER PRIMARY KEY);")?,
    /// # ])?;
    /// use sqlite_testdb::{Keep, TestDb};
    ///
    /// let latest = TestDb::builder(&m).fingerprint()?;
    /// assert_ne!(latest, TestDb::builder(&m).version(1).fingerprint()?);
    /// assert_eq!(latest, TestDb::builder(&m).keep(Keep::Never).fingerprint()?); // not part of it
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fingerprint(&self) -> Result<Fingerprint> {
        let seeds = self.seeds()?;
        self.request(&seeds)?.fingerprint()
    }

    /// A new database in a new folder inside the system temp folder.
    ///
    /// # Errors
    ///
    /// See [`TestDb::new`]; also [`Error::UnknownVersion`] for a version not in the set and
    /// [`Error::Seed`] for seed SQL that fails.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?])?;
    /// let builder = sqlite_testdb::TestDb::builder(&m);
    /// let (a, b) = (builder.build()?, builder.build()?);
    /// assert!(a.path().starts_with(std::env::temp_dir()));
    /// assert_ne!(a.path(), b.path());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn build(&self) -> Result<TestDb> {
        if self.shared_folder && !self.in_memory {
            let folder = cache::databases_dir(self.cache_dir.as_deref())?;
            return self.build_at(Location::SharedFolder(&folder));
        }
        self.build_at(Location::OwnFolderIn(&std::env::temp_dir()))
    }

    /// A new database in a new folder inside `parent` (a tmpfs, say); with
    /// [`shared_folder`](Self::shared_folder), straight in `parent`.
    ///
    /// # Errors
    ///
    /// See [`build`](Self::build).
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?])?;
    /// let parent = tempfile::tempdir()?;
    /// let db = sqlite_testdb::TestDb::builder(&m).build_in(parent.path())?;
    /// assert!(db.path().starts_with(parent.path()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn build_in(&self, parent: impl AsRef<Path>) -> Result<TestDb> {
        let parent = parent.as_ref();
        self.build_at(if self.shared_folder {
            Location::SharedFolder(parent)
        } else {
            Location::OwnFolderIn(parent)
        })
    }

    fn build_at(&self, location: Location<'_>) -> Result<TestDb> {
        let keep = self.keep.map_or_else(env::keep, Ok)?;
        let seeds = self.seeds()?;
        let request = self.request(&seeds)?;
        let template = template::obtain(&request)?;

        let (path, storage) = if self.in_memory {
            let name = format!(
                "file:/sqlite-testdb-{}.sqlite?vfs=memdb",
                Uuid::now_v7().simple()
            );
            let keeper = template::open_in_memory(&request, template, &name)?;
            (
                PathBuf::from(name),
                Storage::Memory(Some(Mutex::new(keeper))),
            )
        } else {
            let (path, storage) = match location {
                Location::OwnFolderIn(parent) => {
                    let (dir, path) = new_database_folder(parent)?;
                    (path, Storage::File(Some(dir)))
                }
                Location::SharedFolder(folder) => (
                    folder.join(database_file_name()),
                    Storage::SharedFolder(true),
                ),
            };
            // On failure a new folder goes with `storage`; `copy_to` removes a half-written file.
            template::use_template(&request, template, |t| {
                t.copy_to(&path)
                    .map_err(|e| Error::io("copy template to", &path, e))
            })?;
            (path, storage)
        };

        Ok(TestDb {
            uri: match &storage {
                Storage::Memory(_) => path.to_string_lossy().into_owned(),
                _ => file_uri(&path),
            },
            path,
            migrations: self.migrations.clone(),
            connect: Arc::new(self.connect.clone()),
            keep,
            storage,
        })
    }

    fn request<'a>(&'a self, seeds: &'a [String]) -> Result<Request<'a>> {
        let target = match self.version {
            Some(v) => {
                self.migrations.check_version(v)?;
                v
            }
            None => self.migrations.latest(),
        };
        Ok(Request {
            migrations: self.migrations,
            target,
            seeds,
            connect: &self.connect,
            cache_dir: self.cache_dir.as_deref(),
        })
    }

    fn seeds(&self) -> Result<Vec<String>> {
        self.seeds
            .iter()
            .map(|seed| match seed {
                Seed::Sql(sql) => Ok(sql.clone()),
                Seed::File(path) => {
                    std::fs::read_to_string(path).map_err(|e| Error::io("read seed file", path, e))
                }
            })
            .collect()
    }
}

/// Where [`Builder::build_at`] puts a file database.
#[derive(Clone, Copy)]
enum Location<'p> {
    /// In a new folder of its own inside this one.
    OwnFolderIn(&'p Path),
    /// Straight in this folder.
    SharedFolder(&'p Path),
}

/// A new private folder in `parent`, and the path of the database file to put in it.
fn new_database_folder(parent: &Path) -> Result<(TempDir, PathBuf)> {
    let dir = tempfile::Builder::new()
        .prefix("sqlite-testdb-")
        .tempdir_in(parent)
        .map_err(|e| Error::io("create test database folder in", parent, e))?;
    let path = dir.path().join(database_file_name());
    Ok((dir, path))
}

/// `path` as a `file:` URI: `?`, `#`, `%` and every byte outside ASCII's letters, digits and
/// `/-._~` percent-encoded, as SQLite's URI filenames want.
fn file_uri(path: &Path) -> String {
    #[cfg(unix)]
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str()).to_vec();
    #[cfg(not(unix))]
    let bytes = path.to_string_lossy().replace('\\', "/").into_bytes();
    let mut uri = String::from("file:");
    if !bytes.starts_with(b"/") {
        uri.push('/');
    }
    for byte in bytes {
        if byte.is_ascii_alphanumeric() || b"/-._~:".contains(&byte) {
            uri.push(char::from(byte));
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri
}

/// A new database file's name: a UUID v7, so names sort by creation time.
fn database_file_name() -> String {
    format!("{}.sqlite", Uuid::now_v7().simple())
}

/// The highest applied version in refinery's history table of `conn`; `None` when nothing
/// is applied or the table does not exist yet.
pub(crate) fn last_applied(conn: &mut Connection, path: &Path) -> Result<Option<Version>> {
    let has_history: bool = conn
        .query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [HISTORY_TABLE],
            |r| r.get(0),
        )
        .map_err(|e| Error::sqlite("read the schema of", path, e))?;
    if !has_history {
        return Ok(None);
    }
    refinery::Runner::new(&[])
        .get_last_applied_migration(conn)
        .map(|m| m.map(|m| m.version()))
        .map_err(|e| Error::Refinery {
            op: "read migration history of",
            path: path.to_path_buf(),
            source: e,
        })
}

/// Runs `migrations` up to `target` on `conn` with refinery. A failure names the migration
/// that failed and its file, which refinery's own error does not.
pub(crate) fn run_migrations(
    conn: &mut Connection,
    migrations: &Migrations,
    target: Version,
    path: &Path,
) -> Result<()> {
    let runner = migrations.runner_to(target);
    let Err(error) = runner.run(conn) else {
        return Ok(());
    };
    let applying = matches!(error.kind(), refinery::error::Kind::Connection(msg, _) if msg.contains("applying"));
    if !applying {
        return Err(Error::Refinery {
            op: "run migrations on",
            path: path.to_path_buf(),
            source: error,
        });
    }
    let applied = last_applied(conn, path).ok().flatten();
    let failed = migrations.next_after(applied, target);
    Err(Error::Migration {
        migration: failed.map_or_else(|| "unknown".to_owned(), ToString::to_string),
        file: failed
            .and_then(|m| migrations.file(m.version()))
            .map(Path::to_path_buf),
        path: path.to_path_buf(),
        applied,
        source: error,
    })
}

// A test may move its database to another thread or share it: dropping `Send` or `Sync`
// would be a semver-breaking change.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<TestDb>();
    assert_send_sync::<Builder<'static>>();
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_defaults_to_on_failure() {
        assert_eq!(Keep::default(), Keep::OnFailure);
    }
}
