//! [`Builder`]: the settings of test databases (version, seeds, keep policy, cache folder,
//! placement, connection settings), and the making of one from the template.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::Connection;

use super::database::TestDb;
use super::keep::{self, Keep};
use super::storage::{self, Backing, Storage};
use crate::connection::ConnectOptions;
use crate::error::{Error, Result};
use crate::migrations::Migrations;
use crate::template::{self, Fingerprint, Request, cache};
use crate::version::Version;

/// The ways to make a test database.
impl TestDb {
    /// A fresh database at the latest version of `migrations`, with the default settings.
    ///
    /// # Errors
    ///
    /// A migration that fails while the template is built ([`Error::Migration`], naming it
    /// and its file), a cache or temp folder that cannot be written ([`Error::Io`]), or an
    /// invalid `SQLITE_TESTDB_KEEP` or `SQLITE_TESTDB_STORAGE` ([`Error::Env`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?])?;
    /// let db = sqlite_testdb::TestDb::new(&m)?;
    /// assert!(db.file().is_some_and(|f| f.exists()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(migrations: &Migrations) -> Result<Self> {
        Builder::new(migrations).build()
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
    pub fn builder(migrations: &Migrations) -> Builder {
        Builder::new(migrations)
    }
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
pub struct Builder {
    migrations: Migrations,
    version: Option<Version>,
    seeds: Vec<Seed>,
    keep: Option<Keep>,
    cache_dir: Option<PathBuf>,
    /// Where databases go; `None` until a setting chooses, then [`Storage::File`].
    placement: Option<Storage>,
    /// Two placements asked for: the first and the second. An error when building.
    conflict: Option<(Storage, Storage)>,
    connect: ConnectOptions,
}

#[derive(Debug, Clone)]
enum Seed {
    Sql(String),
    File(PathBuf),
}

impl Builder {
    pub(crate) fn new(migrations: &Migrations) -> Self {
        Builder {
            migrations: migrations.clone(),
            version: None,
            seeds: Vec::new(),
            keep: None,
            cache_dir: None,
            placement: None,
            conflict: None,
            connect: ConnectOptions::default(),
        }
    }

    /// Records where databases go; asking for two different places is remembered, and
    /// refused when building.
    fn place(&mut self, placement: Storage) -> &mut Self {
        match self.placement {
            Some(chosen) if chosen != placement => {
                self.conflict.get_or_insert((chosen, placement));
            }
            _ => self.placement = Some(placement),
        }
        self
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
    /// Such a database has no [`file`](TestDb::file) (its [`path`](TestDb::path) is its URI):
    /// open it by its [`uri`](TestDb::uri), which works for files too.
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
        self.place(Storage::Memory)
    }

    /// Puts the database file straight into a folder shared with other test databases,
    /// instead of a new folder of its own: `databases/` in the template cache folder (which
    /// is private to this user), or the folder given to [`build_in`](Self::build_in).
    ///
    /// This saves creating and removing a folder for every test, which is most of what a
    /// small database costs on ext4: see `docs/performance.md` in the repository. Dropping the
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
        self.place(Storage::SharedFolder)
    }

    /// Where databases live: a file in a folder of its own, a file in a shared folder, or
    /// memory. Overrides `SQLITE_TESTDB_STORAGE`; [`in_memory`](Self::in_memory) and
    /// [`shared_folder`](Self::shared_folder) are shortcuts for it. Asking for two different
    /// storages is [`Error::ConflictingSettings`] when building.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?])?;
    /// use sqlite_testdb::{Storage, TestDb};
    ///
    /// // A file, whatever SQLITE_TESTDB_STORAGE says.
    /// let db = TestDb::builder(&m).storage(Storage::File).build()?;
    /// assert!(db.file().is_some_and(|f| f.is_file()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn storage(&mut self, storage: Storage) -> &mut Self {
        self.place(storage)
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
        &self.migrations
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

    /// A new database where [`storage`](Self::storage) says, else where
    /// `SQLITE_TESTDB_STORAGE` says, else in a new folder inside the system temp folder.
    ///
    /// # Errors
    ///
    /// See [`TestDb::new`]; also [`Error::UnknownVersion`] for a version not in the set,
    /// [`Error::Seed`] for seed SQL that fails, [`Error::ConflictingSettings`] for two
    /// storages asked for.
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
        match self.placement()?.map_or_else(storage::from_env, Ok)? {
            Storage::SharedFolder => {
                let folder = cache::databases_dir(self.cache_dir.as_deref())?;
                self.build_at(Storage::SharedFolder, &folder)
            }
            placement => self.build_at(placement, &std::env::temp_dir()),
        }
    }

    /// A new database file in a new folder inside `parent` (a tmpfs, say); with
    /// [`shared_folder`](Self::shared_folder), straight in `parent`. Always a file:
    /// `SQLITE_TESTDB_STORAGE` does not apply.
    ///
    /// # Errors
    ///
    /// See [`build`](Self::build); [`Error::ConflictingSettings`] with
    /// [`in_memory`](Self::in_memory), whose databases have no folder.
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
        let placement = self.placement()?.unwrap_or_default();
        if placement == Storage::Memory {
            return Err(Error::ConflictingSettings {
                first: Storage::Memory.setting(),
                second: "build_in(..)",
                reason: "an in-memory database has no folder",
            });
        }
        self.build_at(placement, parent.as_ref())
    }

    /// Where databases go, `None` when no setting chose, unless two places were asked for.
    fn placement(&self) -> Result<Option<Storage>> {
        match self.conflict {
            Some((first, second)) => Err(Error::ConflictingSettings {
                first: first.setting(),
                second: second.setting(),
                reason: "a database goes to one place",
            }),
            None => Ok(self.placement),
        }
    }

    /// A new database placed as `placement` says, in `folder` (the folder that gets a new
    /// folder of its own, or the shared folder).
    fn build_at(&self, placement: Storage, folder: &Path) -> Result<TestDb> {
        let keep = self.keep.map_or_else(keep::from_env, Ok)?;
        let seeds = self.seeds()?;
        let request = self.request(&seeds)?;
        let template = template::obtain(&request)?;

        let (storage, path) = match placement {
            Storage::Memory => {
                let name = Backing::memory_uri();
                let keeper = template::open_in_memory(&request, template, &name)?;
                (Backing::memory(keeper), PathBuf::from(name))
            }
            Storage::File | Storage::SharedFolder => {
                let (storage, path) = if placement == Storage::File {
                    Backing::own_folder(folder)?
                } else {
                    Backing::in_shared_folder(folder)
                };
                // On failure a new folder goes with `storage`; `copy_to` removes a
                // half-written file.
                template::use_template(&request, template, |t| {
                    t.copy_to(&path)
                        .map_err(|e| Error::io("copy template to", &path, e))
                })?;
                (storage, path)
            }
        };
        Ok(TestDb::assemble(
            path,
            self.migrations.clone(),
            Arc::new(self.connect.clone()),
            keep,
            storage,
        ))
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
            migrations: &self.migrations,
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

// A test may move its database to another thread or share it: dropping `Send` or `Sync`
// would be a semver-breaking change.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<TestDb>();
    assert_send_sync::<Builder>();
};
