//! Every test gets its own freshly migrated SQLite file, in well under a millisecond.
//!
//! `sqlite-testdb` runs your [refinery] migrations **once** into a template database, cached
//! on disk under a fingerprint of the migrations, and hands every test a **copy** of it in a
//! temp folder of its own. Tests run fully in parallel, threads or processes, with no shared
//! state and no "table already exists" or "database is locked" races, and migrations
//! themselves become testable.
//!
//! # A 30-second tour
//!
//! Keep your refinery migrations (`V1__users.sql`, …) in `migrations/` and write tests with
//! rstest and the `test_db` fixture (feature `rstest`, on by default):
//!
//! ```no_run
//! use rstest::rstest;
//! use sqlite_testdb::{test_db, TestDb};
//!
//! #[rstest]
//! fn creates_user(test_db: TestDb) {
//!     let conn = test_db.connect().unwrap();
//!     conn.execute("INSERT INTO users(email) VALUES (?1)", ["a@x"]).unwrap();
//! }
//! ```
//!
//! Or drive it directly:
//!
//! ```
//! # let dir = tempfile::tempdir()?;
//! # std::fs::write(dir.path().join("V1__users.sql"), "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?;
//! # std::fs::write(dir.path().join("V2__names.sql"), "ALTER TABLE users ADD COLUMN name TEXT;")?;
//! # let migrations_dir = dir.path();
//! use sqlite_testdb::{Migrations, TestDb};
//!
//! let m = Migrations::from_dir(migrations_dir)?;
//! let db = TestDb::new(&m)?;                      // latest version
//! assert_eq!(db.version()?, Some(2));
//!
//! let old = TestDb::builder(&m)
//!     .version(1)                                 // stop at V1
//!     .seed_sql("INSERT INTO users(email) VALUES ('a@x')")
//!     .build()?;
//! let conn = old.connect()?;                      // rusqlite::Connection, foreign keys on
//! let n: i64 = conn.query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
//! assert_eq!(n, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`Builder`] setters take and return `&mut Self` and [`Builder::build`] takes `&self`, so
//! a builder is chained in one statement, as above, or kept in a variable to make many
//! databases with the same settings. `let b = TestDb::builder(&m).version(1);` does not
//! compile (the builder is a dropped temporary): declare `let mut b = TestDb::builder(&m);`
//! first.
//!
//! # Where to go next
//!
//! | to | see |
//! |---|---|
//! | load migrations from a folder, an embedded refinery runner (any refinery version) or code | [`Migrations::from_dir`], [`migrations!`], [`Migrations::from_runner`], [`Migrations::from_parts`], [`Migrations::from_migrations`] |
//! | choose the version, seed data, keep policy, cache folder, connection settings | [`Builder`] |
//! | a database in memory, with no file | [`Builder::in_memory`], opened by [`TestDb::uri`] |
//! | no folder per test | [`Builder::shared_folder`] |
//! | hand the database to your application's own store | [`TestDb::attach`], [`Attached`] |
//! | upgrade a database holding data, roll back, snapshot | [`TestDb::migrate_to`], [`TestDb::rollback_to`], [`TestDb::snapshot`], [`TestDb::restore`] |
//! | compare schemas | [`TestDb::schema`], [`Schema`] |
//! | check a whole migration set, empty or with generated rows (feature `check`, on by default) | [`replay::check`], [`replay::check_with_data`], [`replay::Replay`], [`DataOptions`] |
//! | match on what went wrong | [`Error`] |
//!
//! The repository's `docs/` folder has longer pages on testing migrations, the command
//! line, performance, and why template databases.
//!
//! # How it works
//!
//! 1. [`Migrations`] are loaded with refinery's own loader and `Migration` type, from a
//!    folder, a refinery `Runner` or code, with the down scripts (`V3__name.down.sql`)
//!    beside them. Files refinery would silently skip are errors here.
//! 2. A [`Fingerprint`] (a stable SHA-1 based UUID v5, never `DefaultHasher`) is taken over
//!    every migration's version, name and SQL, the target version, the seed SQL, the file
//!    settings (page size, journal mode), this crate's version and SQLite's. Any change: a
//!    new template.
//! 3. The template for that fingerprint is looked up in the cache folder and checked against
//!    the record beside it. If it is missing or does not match, it is built **once per
//!    machine**: threads of one process wait on an in-process lock, processes on an OS file
//!    lock, and the builder migrates a private file (WAL mode, `synchronous=OFF`),
//!    checkpoints and fsyncs it, then renames it into place. A reader never sees a
//!    half-built template, and a crashed build leaves nothing that is trusted.
//! 4. Each [`TestDb`] is a copy of the template, already in WAL mode: a reflink where the
//!    file system has them (Btrfs, XFS on Linux); elsewhere an in-kernel copy for a
//!    process's first database, then writes from the template's bytes, read once into
//!    memory (templates up to 64 MiB, 256 MiB in all per process).
//!
//! This works the same under `cargo nextest run`, which runs one process per test: the file
//! lock makes the first process build the template and the others copy it, and each process
//! checks the template once, by a `stat` against its record.
//!
//! # Where files go
//!
//! | what | where |
//! |---|---|
//! | templates | `SQLITE_TESTDB_CACHE_DIR`, else `<cargo target dir>/sqlite-testdb/`, else `<temp>/sqlite-testdb-<uid>/` ([`Builder::cache_dir`] for another folder) |
//! | test databases | `<temp>/sqlite-testdb-…/<uuid>.sqlite`, a folder of its own per database, named by a UUID v7 ([`Builder::build_in`] for another parent folder) |
//! | with [`Builder::shared_folder`] or `SQLITE_TESTDB_STORAGE=shared` | `<template cache folder>/databases/<uuid>.sqlite`: no folder per test |
//! | with [`Builder::in_memory`] or `SQLITE_TESTDB_STORAGE=memory` | nowhere: SQLite's `memdb` VFS, in this process |
//!
//! The cargo target dir is found from the running test binary (the nearest folder above it
//! holding cargo's `CACHEDIR.TAG`), so it does not depend on the working directory;
//! binaries that do not live in a target dir (doctests, say) use the per-user temp folder.
//!
//! The cache folder holds, per fingerprint, `<fingerprint>.sqlite` (the template) and
//! `<fingerprint>.record` (the size and content digest it must have); while a template is
//! being built, a `<fingerprint>.lock` file and a `.build-<fingerprint>-…/` folder too. Its
//! `builds.log` gets one line per template built, the honest count of builds however many
//! tests and processes ran:
//!
//! ```text
//! built <fingerprint> pid=13741 at=1795621214 ms=19.4 target=V3 migrations=3 seeds=0 from=<project>/migrations
//! ```
//!
//! The folder must be the user's own and not writable by everyone, or it is not trusted
//! ([`Error::UntrustedCacheDir`]): another user could plant a template in it. Templates are
//! removed when another template is built, if no process has used them for 7 days, or
//! beyond the 32 most recently used; a template a running process holds is never removed.
//! They are rebuilt when missing, so the folder can be deleted whenever no tests are running
//! (`cargo clean` does it).
//!
//! # Cleanup and failed tests
//!
//! Dropping a [`TestDb`] removes its files, silently; [`TestDb::close`] removes them and
//! reports errors, [`TestDb::keep`] keeps them on purpose and returns the path. Close your
//! connections and pools before the `TestDb` drops: SQLite keeps its `-wal` and `-shm`
//! files while a connection is open ([`TestDb::attach`] gets the order right for you).
//! Connections never use SQLite's shared cache (the source of "database table is locked"),
//! and a pool (`TestDb::pool`, feature `r2d2`) opens no connection until asked.
//!
//! When the test panics, the files are kept and one line on stderr, shown with the test's
//! failure output, says where and how to open them (an in-memory database is written to a
//! file first):
//!
//! ```text
//! sqlite-testdb: kept database at <temp>/sqlite-testdb-…/<uuid>.sqlite (test panicked); open it with: sqlite3 '<temp>/sqlite-testdb-…/<uuid>.sqlite'
//! ```
//!
//! Kept databases stay until you delete them. The [`Keep`] policy changes this per builder
//! ([`Builder::keep`]) or per process (`SQLITE_TESTDB_KEEP`). A panic counts as a failure
//! even in a `#[should_panic]` test, whose database is therefore kept: give those tests
//! `.keep(Keep::Never)`.
//!
//! # Environment variables
//!
//! | variable | values | default |
//! |---|---|---|
//! | `SQLITE_TESTDB_KEEP` | `on-failure`, `always`, `never` | `on-failure` |
//! | `SQLITE_TESTDB_STORAGE` | `file` (a folder of its own per database), `shared` (the shared folder), `memory` | `file` |
//! | `SQLITE_TESTDB_CACHE_DIR` | a folder for templates | `<cargo target dir>/sqlite-testdb/`, else `<temp>/sqlite-testdb-<uid>/` |
//!
//! They are read once per process; any other value of `SQLITE_TESTDB_KEEP` or
//! `SQLITE_TESTDB_STORAGE` is an error ([`Error::Env`]), not silently the default.
//! [`Builder`] settings win over them: [`Builder::keep`], [`Builder::storage`] (and its
//! shortcuts [`Builder::in_memory`], [`Builder::shared_folder`]), [`Builder::cache_dir`];
//! [`Builder::build_in`] always makes a file. `SQLITE_TESTDB_STORAGE` switches a whole
//! suite, the `test_db` fixture and [`TestDb::new`] included, between files, the shared
//! folder and memory without a code change: [`Storage`].
//!
//! # Errors
//!
//! Every fallible call returns [`Result`]; [`Error`] is one `#[non_exhaustive]` enum whose
//! messages name the file, migration version or path involved, with the underlying cause
//! (SQLite's message, refinery's error, an `io::Error`) as its `source()`: print the whole
//! chain ([`Error::with_causes`]). refinery on its own reports only "error applying update"
//! and SQLite's message; which migration failed is worked out here. The `test_db` fixture
//! panics with the chain and a hint:
//!
//! ```text
//! sqlite-testdb: test_db fixture failed: migration V3__client_secret_versions (<project>/migrations/V3__client_secret_versions.sql) failed on "<project>/target/sqlite-testdb/<fingerprint>.sqlite"; applied before it: up to V2
//!   caused by: `error applying update`, `no such table: main.client_secret_version`
//!   caused by: Error code 1: SQL logic error
//! hint: the migrations are in <project>/migrations; fix the migration named above; the template is rebuilt when a migration changes
//! ```
//!
//! Problems refinery would only notice when running, or not at all, are caught when the
//! migrations are loaded: a `.sql` file whose name refinery would skip with only a log
//! warning ([`Error::BadMigrationName`]), two migrations with one version
//! ([`Error::DuplicateVersion`]), a down script without its up file
//! ([`Error::OrphanDownScript`]), a Rust migration in a folder
//! ([`Error::RustMigrationInFolder`]), no migrations at all ([`Error::NoMigrations`]). An
//! unknown target version is [`Error::UnknownVersion`], where refinery's own
//! `Target::Version` silently runs to the latest.
//!
//! # Foreign keys during migrations
//!
//! Bundled SQLite has foreign keys on, and `PRAGMA foreign_keys=OFF` does nothing inside
//! refinery's per-migration transaction: a table rebuild's `DROP TABLE` cascades, or fails,
//! when other tables hold rows that reference it. An empty template never shows this; tests
//! that upgrade databases holding data ([`TestDb::migrate_to`] after inserting rows, or
//! [`replay::check_with_data`]) meet it where production would.
//!
//! [refinery]: https://docs.rs/refinery

// Without `check`, the crate docs' links to the checker have nothing to point at.
#![cfg_attr(feature = "check", deny(rustdoc::broken_intra_doc_links))]

// The layers, lowest first: version, sql, report, error, migrations, schema, connection,
// template, testdb, rows, replay. Each imports only from those before it, and from the module
// that owns an item, not through these re-exports (tests/layout.rs checks).
mod connection;
mod error;
mod migrations;
#[cfg(feature = "check")]
pub mod replay;
// Without `check`, only `Error::Findings` uses the report types.
#[cfg_attr(not(feature = "check"), allow(dead_code, unused_imports))]
mod report;
#[cfg(feature = "check")]
mod rows;
mod schema;
mod sql;
mod template;
mod testdb;
mod version;

#[cfg(feature = "r2d2")]
pub use connection::Pool;
pub use error::{Error, Result};
pub use migrations::{DownScript, Layout, Migrations, RefineryRunner};
// What the `migrations!` macro expands to; not part of the API.
#[doc(hidden)]
pub use migrations::embedded::cached as __migrations_cached;
#[cfg(feature = "check")]
pub use rows::DataOptions;
pub use schema::{Schema, SchemaObject};
pub use template::Fingerprint;
#[cfg(feature = "rstest")]
pub use testdb::test_db;
pub use testdb::{Attached, Builder, Keep, Snapshot, Storage, TestDb};
pub use version::Version;

/// The rusqlite this crate was built with: the project's own (one `libsqlite3-sys` per
/// build), so tests can name its types without a dependency line of their own.
pub use rusqlite;

/// The README's examples, compiled and run as doctests (they use the pool and the fixture).
#[cfg(all(doctest, feature = "r2d2", feature = "rstest"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// The examples of docs/migration-testing.md, compiled and run as doctests.
#[cfg(all(doctest, feature = "r2d2", feature = "rstest"))]
#[doc = include_str!("../docs/migration-testing.md")]
struct MigrationTestingDoctests;
