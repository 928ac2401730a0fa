//! The rstest fixture [`test_db`](fn@test_db) (feature `rstest`, on by default).
//!
//! This is the one module that panics: a fixture has no other way to fail a test. The panic
//! message carries the whole error chain and what to do next.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};

use rstest::fixture;

use super::database::TestDb;
use crate::error::Error;
use crate::migrations::Migrations;

/// A fresh [`TestDb`] at the latest version of the migrations in
/// `$CARGO_MANIFEST_DIR/migrations`: the `migrations/` folder of the crate under test, found
/// at run time (cargo and nextest set `CARGO_MANIFEST_DIR` for every test they run).
///
/// The folder is loaded once per process; the template is built once per machine. Where
/// the database lives (a file of its own, the shared folder, memory) follows
/// `SQLITE_TESTDB_STORAGE`, as for [`TestDb::new`]: open it from the application by
/// [`TestDb::uri`], which works in every mode.
///
/// # Panics
///
/// When the folder is missing or its migrations fail. The message names the folder or the
/// failing migration's file, and carries SQLite's own message.
///
/// # Examples
///
/// ```no_run
/// use rstest::rstest;
/// use sqlite_testdb::{test_db, TestDb};
///
/// #[rstest]
/// fn creates_user(test_db: TestDb) {
///     let conn = test_db.connect().unwrap();
///     conn.execute("INSERT INTO users(email) VALUES (?1)", ["a@x"]).unwrap();
/// }
/// ```
///
/// For migrations in another folder, write a fixture of your own around [`TestDb::new`]:
///
/// ```no_run
/// use rstest::{fixture, rstest};
/// use sqlite_testdb::{Migrations, TestDb};
///
/// #[fixture]
/// fn db() -> TestDb {
///     let m = Migrations::from_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/db/migrations")).unwrap();
///     TestDb::new(&m).unwrap()
/// }
///
/// #[rstest]
/// fn counts_users(db: TestDb) {
///     let n: i64 = db.connect().unwrap().query_row("SELECT count(*) FROM users", [], |r| r.get(0)).unwrap();
///     assert_eq!(n, 0);
/// }
/// ```
///
/// Never make a `TestDb` fixture `#[once]`: rstest **never drops** a `#[once]` value, and the
/// database would be shared by every test. A `#[once]` fixture of [`Migrations`] is fine.
#[fixture]
pub fn test_db() -> TestDb {
    let dir = match manifest_migrations_dir() {
        Ok(dir) => dir,
        Err(message) => panic!("{message}"),
    };
    let migrations = match load(&dir) {
        Ok(m) => m,
        Err(e) => panic!("{}", report(&e, &dir)),
    };
    match TestDb::new(&migrations) {
        Ok(db) => db,
        Err(e) => panic!("{}", report(&e, &dir)),
    }
}

fn manifest_migrations_dir() -> Result<PathBuf, String> {
    let Some(manifest) = std::env::var_os("CARGO_MANIFEST_DIR") else {
        return Err(
            "sqlite-testdb: the test_db fixture reads $CARGO_MANIFEST_DIR/migrations, \
                    but CARGO_MANIFEST_DIR is not set: run the tests with `cargo test` or \
                    `cargo nextest run`, or write a fixture of your own around \
                    TestDb::new(&Migrations::from_dir(..)?)"
                .to_owned(),
        );
    };
    let dir = PathBuf::from(manifest).join("migrations");
    if dir.is_dir() {
        Ok(dir)
    } else {
        Err(format!(
            "sqlite-testdb: the test_db fixture found no migrations folder at {}\n\
             hint: put your refinery migrations (V1__name.sql, ...) there, or write a fixture \
             of your own for another folder:\n\
             \n    #[fixture]\n    fn db() -> TestDb {{\n        \
             let m = Migrations::from_dir(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/db/migrations\")).unwrap();\n        \
             TestDb::new(&m).unwrap()\n    }}",
            dir.display()
        ))
    }
}

/// The folder's migrations, loaded once per process.
fn load(dir: &Path) -> Result<Migrations, Error> {
    static LOADED: OnceLock<Mutex<HashMap<PathBuf, Migrations>>> = OnceLock::new();
    let mut loaded = LOADED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(m) = loaded.get(dir) {
        return Ok(m.clone());
    }
    let m = Migrations::from_dir(dir)?;
    loaded.insert(dir.to_path_buf(), m.clone());
    Ok(m)
}

/// The error with its whole `source()` chain, one cause per line, and a hint.
fn report(error: &Error, dir: &Path) -> String {
    let mut text = format!(
        "sqlite-testdb: test_db fixture failed: {}",
        error.with_causes_indented("  ", None)
    );
    let hint = match error {
        Error::Migration { .. } => {
            "fix the migration named above; the template is rebuilt \
                                    when a migration changes"
        }
        Error::Env { .. } => "fix or unset the environment variable named above",
        _ => "see the error above",
    };
    let _ = write!(
        text,
        "\nhint: the migrations are in {}; {hint}",
        dir.display()
    );
    text
}
