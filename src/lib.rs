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
//! rstest:
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
//! # How it works
//!
//! 1. [`Migrations`] are loaded with refinery's own loader, from a folder or a
//!    `refinery::Runner`. Files refinery would silently skip are errors here.
//! 2. A [`Fingerprint`] hashes the migrations, target version, seed SQL, file settings, this
//!    crate's version and SQLite's.
//! 3. The template for that fingerprint is looked up in the cache folder, and built if
//!    missing: under an OS file lock (one build per machine, even with one process per
//!    test under nextest), in a private file, WAL mode, checkpointed, fsynced, then renamed
//!    into place. A template that does not match the record beside it is rebuilt.
//! 4. [`TestDb`] copies the template into a new temp folder and removes it on drop.
//!
//! # Where files go
//!
//! | what | where |
//! |---|---|
//! | templates | `SQLITE_TESTDB_CACHE_DIR`, else `<cargo target dir>/sqlite-testdb/`, else `<temp>/sqlite-testdb-<uid>/` |
//! | test databases | `<temp>/sqlite-testdb-XXXXXX/<uuid v7>.sqlite` ([`Builder::build_in`] for another folder) |
//! | with [`Builder::shared_folder`] | `<template cache folder>/databases/<uuid v7>.sqlite`: no folder per test, about half the cost of a small database |
//!
//! `builds.log` in the cache folder gets one line per template built.
//!
//! # Cleanup and failed tests
//!
//! Dropping a [`TestDb`] removes its folder. When the test panics, the files are kept and one
//! line on stderr says where, and how to open them:
//!
//! ```text
//! sqlite-testdb: kept database at /tmp/sqlite-testdb-Ab12Cd/0193….sqlite (test panicked); open it with: sqlite3 '/tmp/…'
//! ```
//!
//! A panic counts as a failure even in a `#[should_panic]` test.
//!
//! # Environment variables
//!
//! | variable | values | default |
//! |---|---|---|
//! | `SQLITE_TESTDB_KEEP` | `on-failure`, `always`, `never` | `on-failure` |
//! | `SQLITE_TESTDB_CACHE_DIR` | a folder for templates | `<cargo target dir>/sqlite-testdb`, else `<temp>/sqlite-testdb-<uid>` |
//!
//! They are read once per process; [`Builder`] settings win over them.
//!
//! # Foreign keys during migrations
//!
//! Bundled SQLite has foreign keys on, and `PRAGMA foreign_keys=OFF` does nothing inside
//! refinery's per-migration transaction: a table rebuild's `DROP TABLE` cascades, or fails,
//! when other tables hold rows that reference it. Tests that upgrade databases holding data
//! meet this where an empty template does not.
//!
//! [refinery]: https://docs.rs/refinery

#![deny(rustdoc::broken_intra_doc_links)]

// Layers, lowest first; each imports only from those above it in this list.
mod connection;
mod error;
mod migrations;
pub mod replay;
mod rows;
mod schema;
mod sql;
mod template;
mod testdb;

#[cfg(feature = "r2d2")]
pub use connection::Pool;
pub use error::{Error, Result};
pub use migrations::{DownScript, Migrations, Version};
pub use rows::DataOptions;
pub use schema::{Schema, SchemaObject};
pub use template::Fingerprint;
#[cfg(feature = "rstest")]
pub use testdb::test_db;
pub use testdb::{Attached, Builder, Keep, Snapshot, TestDb};

/// The rusqlite this crate was built with: the project's own (one `libsqlite3-sys` per
/// build), so tests can name its types without a dependency line of their own.
pub use rusqlite;

/// The README's examples, compiled and run as doctests (they use the pool and the fixture).
#[cfg(all(doctest, feature = "r2d2", feature = "rstest"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
