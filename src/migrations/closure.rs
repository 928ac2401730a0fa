//! Migrations given as a function ([`Migrations::from_fn`]): any migrator that takes a
//! `rusqlite::Connection`, such as rusqlite_migration's or one written by hand.

use std::fmt::Debug;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::Arc;

use refinery::Migration;
use rusqlite::Connection;
use uuid::Uuid;

use super::digest::{self, Encoder};
use super::layout::Layout;
use super::library::{BoxError, MigrateFn};
use super::set::Migrations;
use crate::error::{Error, Result};

impl Migrations {
    /// Migrations given as a function that migrates an empty database to the latest
    /// version: any migrator that works on a `rusqlite::Connection`, such as
    /// rusqlite_migration's `Migrations::to_latest`, or one written by hand around
    /// `PRAGMA user_version`.
    ///
    /// `key` stands for the migrations: it goes into the template's fingerprint, so it must
    /// change whenever they change (a version number, the number of migrations, or the text
    /// of the SQL they run). The function runs once per machine, into the template; every
    /// test database is a copy of what it wrote, `PRAGMA user_version` included.
    ///
    /// The function's error converts from the migrator's own (anything that implements
    /// `std::error::Error + Send + Sync`), so `?` works inside it; when it fails, building
    /// the template is an [`Error::MigrationFn`] that keeps it as the source.
    ///
    /// A function only goes to the latest version: [`TestDb::new`](crate::TestDb::new),
    /// its schema, keep, connections and pools work; stopping at a version
    /// ([`Builder::version`](crate::Builder::version)), `migrate_to`, `rollback_to`,
    /// `version()` and replay checks are an [`Error::NotSupportedForFn`] naming the
    /// operation. The set holds one placeholder migration, `V1__migration_function`.
    ///
    /// # Errors
    ///
    /// None in practice: [`Error::BadMigration`] if refinery refused the placeholder's name.
    ///
    /// # Examples
    ///
    /// A migrator written by hand, with its version in `PRAGMA user_version`:
    ///
    /// ```
    /// use sqlite_testdb::{Migrations, TestDb};
    ///
    /// const STEPS: &[&str] = &[
    ///     "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT NOT NULL);",
    ///     "CREATE INDEX users_email ON users(email);",
    /// ];
    ///
    /// fn migrate(conn: &mut rusqlite::Connection) -> rusqlite::Result<()> {
    ///     let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    ///     for (version, step) in (1_i64..).zip(STEPS).skip_while(|(v, _)| *v <= current) {
    ///         let tx = conn.transaction()?;
    ///         tx.execute_batch(step)?;
    ///         tx.pragma_update(None, "user_version", version)?;
    ///         tx.commit()?;
    ///     }
    ///     Ok(())
    /// }
    ///
    /// let m = Migrations::from_fn(STEPS, migrate)?;
    /// let db = TestDb::new(&m)?;
    /// let version: i64 = db.connect()?.pragma_query_value(None, "user_version", |r| r.get(0))?;
    /// assert_eq!(version, 2);
    /// db.schema()?.require_tables(&["users"])?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// With rusqlite_migration (`rusqlite_migration::Migrations::new(vec![M::up(…), …])`),
    /// on the rusqlite it shares with this crate:
    ///
    /// ```text
    /// static MIGRATIONS: LazyLock<rusqlite_migration::Migrations<'static>> = …;
    /// let m = Migrations::from_fn(MIGRATION_SQL, |conn| MIGRATIONS.to_latest(conn))?;
    /// ```
    pub fn from_fn<K, F, E>(key: K, migrate: F) -> Result<Self>
    where
        K: Hash + Debug,
        F: Fn(&mut Connection) -> std::result::Result<(), E> + Send + Sync + 'static,
        E: Into<BoxError>,
    {
        let mut hasher = StableHasher::default();
        key.hash(&mut hasher);
        let root = Uuid::new_v5(&digest::MIGRATIONS_ROOT, b"from_fn");
        let key_digest = Uuid::new_v5(&root, &hasher.0.0);
        let closure: Arc<MigrateFn> = Arc::new(move |conn| migrate(conn).map_err(Into::into));
        let origin = format!("the migration function with key {key:?}");
        let placeholder = Migration::unapplied("V1__migration_function", "");
        let built = placeholder.map_err(|e| Error::BadMigration {
            version: 1,
            name: "migration_function".to_owned(),
            reason: e.to_string(),
        });
        Self::assemble_with(
            origin,
            None,
            Layout::Refinery,
            vec![(built?, None, None)],
            Vec::new(),
            Some((closure, key_digest)),
        )
    }

    /// An error naming `operation` when the set is a migration function, which only
    /// migrates to the latest version.
    pub(crate) fn require_steps(&self, operation: &'static str) -> Result<()> {
        match &self.inner().closure {
            Some(_) => Err(Error::NotSupportedForFn {
                operation,
                origin: self.inner().origin.clone(),
            }),
            None => Ok(()),
        }
    }
}

/// Runs the function of a `from_fn` set on the empty database of `conn` (at `path`).
pub(crate) fn run(conn: &mut Connection, migrations: &Migrations, path: &Path) -> Result<bool> {
    let Some(migrate) = &migrations.inner().closure else {
        return Ok(false);
    };
    migrate(conn).map_err(|source| Error::MigrationFn {
        origin: migrations.inner().origin.clone(),
        path: path.to_path_buf(),
        source,
    })?;
    Ok(true)
}

/// A hasher whose output is the bytes it was given: stable across Rust releases, unlike
/// `DefaultHasher`, and digested with SHA-1 (uuid v5) afterwards.
#[derive(Default)]
struct StableHasher(Encoder);

impl Hasher for StableHasher {
    fn finish(&self) -> u64 {
        0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.raw(bytes);
    }
}
