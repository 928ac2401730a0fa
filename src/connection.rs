//! How connections to a test database are opened: the test settings, on single connections
//! and on every connection of a pool alike.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::error::{Error, Result};

/// A pool of connections to one test database (feature `r2d2`, on by default): r2d2's pool
/// over the `r2d2_sqlite` release built on the project's rusqlite.
///
/// # Examples
///
/// ```
/// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?])?;
/// let db = sqlite_testdb::TestDb::new(&m)?;
/// let pool: sqlite_testdb::Pool = db.pool()?;
/// pool.get()?.execute("INSERT INTO users DEFAULT VALUES", [])?;
/// let n: i64 = pool.get()?.query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
/// assert_eq!((n, pool.max_size()), (1, 4));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(feature = "r2d2")]
pub type Pool = r2d2::Pool<r2d2_sqlite::SqliteConnectionManager>;

/// A function run on every new connection: custom SQL functions, collations, extensions.
pub(crate) type ConnectHook = Arc<dyn Fn(&mut Connection) -> rusqlite::Result<()> + Send + Sync>;

/// The settings every connection to a test database gets.
#[derive(Clone)]
pub(crate) struct ConnectOptions {
    /// `PRAGMA busy_timeout`: how long a writer waits for another before "database is locked".
    pub(crate) busy_timeout: Duration,
    /// Run on every new connection, after the pragmas.
    pub(crate) hook: Option<ConnectHook>,
    /// The most connections a pool opens.
    #[cfg_attr(not(feature = "r2d2"), allow(dead_code))]
    pub(crate) pool_max_size: u32,
    /// `false` for scratch databases nobody keeps (those of the replay checks): commits
    /// skip the fsync (`PRAGMA synchronous = OFF`).
    pub(crate) durable: bool,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            busy_timeout: Duration::from_secs(5),
            hook: None,
            pool_max_size: 4,
            durable: true,
        }
    }
}

impl fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("busy_timeout", &self.busy_timeout)
            .field("hook", &self.hook.as_ref().map(|_| "Fn(&mut Connection)"))
            .field("pool_max_size", &self.pool_max_size)
            .field("durable", &self.durable)
            .finish()
    }
}

impl ConnectOptions {
    /// Read-write, never creating the file, and never SQLite's shared cache (the source of
    /// "database table is locked (262)"). Names starting with `file:` are URIs: that is how
    /// in-memory test databases are opened; test database paths are absolute.
    pub(crate) fn flags() -> OpenFlags {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_PRIVATE_CACHE
            | OpenFlags::SQLITE_OPEN_URI
    }

    /// Applies the test settings to a freshly opened connection.
    pub(crate) fn prepare(&self, conn: &mut Connection) -> rusqlite::Result<()> {
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.busy_timeout(self.busy_timeout)?;
        if !self.durable {
            conn.pragma_update(None, "synchronous", "OFF")?;
        }
        if let Some(hook) = &self.hook {
            hook(conn)?;
        }
        Ok(())
    }

    /// Opens `path` with the test settings; `create` also makes the file when missing.
    pub(crate) fn open(&self, path: &Path, create: bool) -> Result<Connection> {
        let flags = if create {
            Self::flags() | OpenFlags::SQLITE_OPEN_CREATE
        } else {
            Self::flags()
        };
        let mut conn = Connection::open_with_flags(path, flags)
            .map_err(|e| Error::sqlite("open database", path, e))?;
        self.prepare(&mut conn)
            .map_err(|e| Error::sqlite("apply connection settings to", path, e))?;
        Ok(conn)
    }

    /// An r2d2 pool over `path` whose every connection gets the test settings. It opens
    /// connections only when asked for them and shares one helper thread with every other
    /// test database's pool.
    #[cfg(feature = "r2d2")]
    pub(crate) fn pool(&self, path: &Path) -> Result<Pool> {
        let options = self.clone();
        let manager = r2d2_sqlite::SqliteConnectionManager::file(path)
            .with_flags(Self::flags())
            .with_init(move |conn| options.prepare(conn));
        r2d2::Pool::builder()
            .max_size(self.pool_max_size)
            .min_idle(Some(0))
            .test_on_check_out(false)
            .thread_pool(helper_threads())
            .build(manager)
            .map_err(|e| Error::Pool {
                path: path.to_path_buf(),
                source: Box::new(e),
            })
    }
}

/// r2d2 starts three helper threads per pool unless given a thread pool: test databases
/// share one.
#[cfg(feature = "r2d2")]
fn helper_threads() -> Arc<scheduled_thread_pool::ScheduledThreadPool> {
    use scheduled_thread_pool::ScheduledThreadPool;
    use std::sync::OnceLock;

    static THREADS: OnceLock<Arc<ScheduledThreadPool>> = OnceLock::new();
    THREADS
        .get_or_init(|| {
            Arc::new(
                ScheduledThreadPool::builder()
                    .num_threads(1)
                    .thread_name_pattern("sqlite-testdb-r2d2-{}")
                    .build(),
            )
        })
        .clone()
}
