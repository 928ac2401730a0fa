//! `TestDb`: a fresh file per test, cleanup on drop, keep on failure, connection settings.

use crate::common;
use std::time::Duration;

use crate::common::{EXAMPLE_TABLES, chain, example_migrations, run_child, tables};
use rusqlite::functions::FunctionFlags;
use sqlite_testdb::{Error, Keep, Migrations, Storage, TestDb};

type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// Set in the child processes the tests below start.
const CHILD: &str = "SQLITE_TESTDB_TEST_CHILD";

#[test]
fn new_database_is_at_the_latest_version_with_every_table() -> TestResult {
    let m = example_migrations()?;
    let db = TestDb::new(&m)?;
    assert_eq!(db.version()?, Some(m.latest()));
    assert_eq!(tables(&db.connect()?)?, EXAMPLE_TABLES);
    let check: String = db
        .connect()?
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    assert_eq!(check, "ok");
    Ok(())
}

#[test]
fn every_database_is_a_file_of_its_own_named_by_a_uuid() -> TestResult {
    let m = example_migrations()?;
    let a = TestDb::new(&m)?;
    let b = TestDb::new(&m)?;
    assert_ne!(a.path(), b.path());
    assert_ne!(a.path().parent(), b.path().parent());
    for db in [&a, &b] {
        let stem = db
            .path()
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned());
        let uuid = stem.as_deref().map(uuid::Uuid::try_parse);
        assert!(
            matches!(uuid, Some(Ok(u)) if u.get_version_num() == 7),
            "{:?}",
            db.path()
        );
    }
    a.connect()?.execute(
        "INSERT INTO users(email) VALUES ('only-in-a@example.com')",
        [],
    )?;
    let in_b: i64 = b
        .connect()?
        .query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
    assert_eq!(in_b, 0);
    Ok(())
}

#[test]
fn template_is_in_wal_mode_so_copies_need_no_journal_switch() -> TestResult {
    let db = TestDb::new(&example_migrations()?)?;
    let mode: String = db
        .connect()?
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    assert_eq!(mode, "wal");
    Ok(())
}

#[test]
fn drop_removes_the_database_and_its_folder() -> TestResult {
    let db = TestDb::new(&example_migrations()?)?;
    let path = db.path().to_path_buf();
    let folder = path.parent().map(ToOwned::to_owned);
    db.connect()?
        .execute("INSERT INTO users(email) VALUES ('a@example.com')", [])?;
    assert!(path.exists());
    drop(db);
    assert!(!path.exists());
    assert!(folder.is_some_and(|f| !f.exists()));
    Ok(())
}

#[test]
fn keep_returns_the_path_and_leaves_the_file() -> TestResult {
    let db = TestDb::new(&example_migrations()?)?;
    db.connect()?
        .execute("INSERT INTO users(email) VALUES ('kept@example.com')", [])?;
    let path = db.keep()?;
    let conn = rusqlite::Connection::open(&path)?;
    let email: String = conn.query_row("SELECT email FROM users", [], |r| r.get(0))?;
    assert_eq!(email, "kept@example.com");
    drop(conn);
    if let Some(folder) = path.parent() {
        std::fs::remove_dir_all(folder)?;
    }
    Ok(())
}

#[test]
fn close_removes_the_folder_and_reports_success() -> TestResult {
    let db = TestDb::builder(&example_migrations()?)
        .keep(Keep::Always)
        .build()?;
    let path = db.path().to_path_buf();
    db.close()?;
    assert!(!path.exists());
    Ok(())
}

#[test]
fn keep_always_keeps_a_passing_tests_database() -> TestResult {
    let db = TestDb::builder(&example_migrations()?)
        .keep(Keep::Always)
        .build()?;
    let path = db.path().to_path_buf();
    drop(db);
    assert!(path.exists());
    if let Some(folder) = path.parent() {
        std::fs::remove_dir_all(folder)?;
    }
    Ok(())
}

/// Child of the keep-on-failure tests: makes a database, prints its path, panics.
#[test]
#[ignore = "run as a child process by the keep-on-failure tests"]
fn child_panics_while_holding_a_database() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let m = example_migrations().unwrap_or_else(|e| panic!("{e}"));
    let db = TestDb::new(&m).unwrap_or_else(|e| panic!("{e}"));
    let conn = db.connect().unwrap_or_else(|e| panic!("{e}"));
    conn.execute(
        "INSERT INTO users(email) VALUES ('evidence@example.com')",
        [],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    drop(conn);
    println!("child database: {}", db.path().display());
    panic!("the test failed on purpose");
}

fn child_database_path(stdout: &str) -> Option<std::path::PathBuf> {
    stdout
        .lines()
        .find_map(|l| l.split_once("child database: ").map(|(_, path)| path))
        .map(Into::into)
}

#[test]
fn a_panicking_test_keeps_its_database_and_prints_where() -> TestResult {
    let out = run_child("child_panics_while_holding_a_database", &[(CHILD, "1")])?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the child test must fail");
    let path = child_database_path(&stdout)
        .ok_or_else(|| format!("child printed no database path:\n{stdout}\n{stderr}"))?;

    let kept: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("sqlite-testdb: kept database at "))
        .collect();
    assert_eq!(kept.len(), 1, "one line on stderr:\n{stderr}");
    let expected = format!(
        "sqlite-testdb: kept database at {p} (test panicked); open it with: sqlite3 '{p}'",
        p = path.display()
    );
    assert_eq!(kept[0], expected);

    assert!(path.exists(), "{path:?} was not kept");
    let email: String =
        rusqlite::Connection::open(&path)?
            .query_row("SELECT email FROM users", [], |r| r.get(0))?;
    assert_eq!(email, "evidence@example.com");
    if let Some(folder) = path.parent() {
        std::fs::remove_dir_all(folder)?;
    }
    Ok(())
}

#[test]
fn keep_never_removes_the_database_even_when_the_test_panics() -> TestResult {
    let out = run_child(
        "child_panics_while_holding_a_database",
        &[(CHILD, "1"), ("SQLITE_TESTDB_KEEP", "never")],
    )?;
    assert!(!out.status.success(), "the child test must fail");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let path = child_database_path(&stdout)
        .ok_or_else(|| format!("child printed no database path:\n{stdout}\n{stderr}"))?;
    assert!(!path.exists(), "{path:?} was kept");
    assert!(!stderr.contains("kept database"), "{stderr}");
    Ok(())
}

/// Child of `invalid_keep_value_is_an_error_naming_the_variable`.
#[test]
#[ignore = "run as a child process by invalid_keep_value_is_an_error_naming_the_variable"]
fn child_reports_the_keep_error() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let m = example_migrations().unwrap_or_else(|e| panic!("{e}"));
    match TestDb::new(&m) {
        Err(e @ Error::Env { .. }) => println!("child error: {e}"),
        other => panic!("expected an Env error, got {other:?}"),
    }
    // The builder's setting wins over the environment.
    let db = TestDb::builder(&m).keep(Keep::Never).build();
    println!("child builder: {}", if db.is_ok() { "ok" } else { "err" });
}

#[test]
fn invalid_keep_value_is_an_error_naming_the_variable() -> TestResult {
    let out = run_child(
        "child_reports_the_keep_error",
        &[(CHILD, "1"), ("SQLITE_TESTDB_KEEP", "sometimes")],
    )?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains(
            "child error: invalid value \"sometimes\" for env var SQLITE_TESTDB_KEEP: \
             expected one of on-failure, always, never"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("child builder: ok"), "{stdout}");
    Ok(())
}

/// One line about a database the storage tests' child made: its storage, and where it is.
fn describe(what: &str, db: &sqlite_testdb::Result<TestDb>) -> String {
    match db {
        Ok(db) => {
            let place = match db.file() {
                Some(file) if file.parent().is_some_and(|p| p.ends_with("databases")) => {
                    "shared folder"
                }
                Some(file) if file.is_file() => "file",
                Some(_) => "missing file",
                None if db.uri().ends_with("?vfs=memdb") => "memdb",
                None => "no file, no memdb",
            };
            format!("child {what}: {:?} in {place}", db.storage())
        }
        Err(e) => format!("child {what} error: {e}"),
    }
}

/// Child of the `SQLITE_TESTDB_STORAGE` tests: makes databases the default way and with
/// builder settings, and prints where each went.
#[test]
#[ignore = "run as a child process by the SQLITE_TESTDB_STORAGE tests"]
fn child_reports_where_its_databases_live() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let m = example_migrations().unwrap_or_else(|e| panic!("{e}"));
    let parent = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let lines = [
        describe("new", &TestDb::new(&m)),
        describe("builder", &TestDb::builder(&m).build()),
        describe(
            "storage(File)",
            &TestDb::builder(&m).storage(Storage::File).build(),
        ),
        describe("in_memory", &TestDb::builder(&m).in_memory().build()),
        describe(
            "shared_folder",
            &TestDb::builder(&m).shared_folder().build(),
        ),
        describe("build_in", &TestDb::builder(&m).build_in(parent.path())),
    ];
    for line in lines {
        println!("{line}");
    }
    #[cfg(feature = "rstest")]
    {
        let fixture = std::panic::catch_unwind(sqlite_testdb::test_db);
        match fixture {
            Ok(db) => println!("{}", describe("fixture", &Ok(db))),
            Err(_) => println!("child fixture error: panicked"),
        }
    }
}

/// What the storage child printed, with `SQLITE_TESTDB_STORAGE` set to `value` (unset for
/// `None`).
fn storage_child(value: Option<&str>) -> std::result::Result<String, Box<dyn std::error::Error>> {
    let mut envs = vec![(CHILD, "1")];
    if let Some(value) = value {
        envs.push(("SQLITE_TESTDB_STORAGE", value));
    }
    let out = run_child("child_reports_where_its_databases_live", &envs)?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(stdout)
}

/// Asserts `stdout` holds each of `lines`.
fn assert_lines(stdout: &str, lines: &[&str]) {
    for line in lines {
        assert!(
            stdout.lines().any(|l| l.ends_with(line)),
            "no {line:?} in:\n{stdout}"
        );
    }
}

/// The lines every run of the storage child prints, whatever the variable says: builder
/// settings win over it, and `build_in` always makes a file.
const BUILDER_LINES: [&str; 4] = [
    "child storage(File): File in file",
    "child in_memory: Memory in memdb",
    "child shared_folder: SharedFolder in shared folder",
    "child build_in: File in file",
];

#[test]
fn storage_is_a_file_of_its_own_when_the_variable_is_unset_or_file() -> TestResult {
    for value in [None, Some("file"), Some("")] {
        let stdout = storage_child(value)?;
        assert_lines(
            &stdout,
            &["child new: File in file", "child builder: File in file"],
        );
        assert_lines(&stdout, &BUILDER_LINES);
        #[cfg(feature = "rstest")]
        assert_lines(&stdout, &["child fixture: File in file"]);
    }
    Ok(())
}

#[test]
fn storage_variable_shared_puts_databases_in_the_shared_folder() -> TestResult {
    let stdout = storage_child(Some("shared"))?;
    assert_lines(
        &stdout,
        &[
            "child new: SharedFolder in shared folder",
            "child builder: SharedFolder in shared folder",
        ],
    );
    assert_lines(&stdout, &BUILDER_LINES);
    #[cfg(feature = "rstest")]
    assert_lines(&stdout, &["child fixture: SharedFolder in shared folder"]);
    Ok(())
}

#[test]
fn storage_variable_memory_makes_in_memory_databases() -> TestResult {
    let stdout = storage_child(Some("memory"))?;
    assert_lines(
        &stdout,
        &[
            "child new: Memory in memdb",
            "child builder: Memory in memdb",
        ],
    );
    assert_lines(&stdout, &BUILDER_LINES);
    #[cfg(feature = "rstest")]
    assert_lines(&stdout, &["child fixture: Memory in memdb"]);
    Ok(())
}

#[test]
fn invalid_storage_value_is_an_error_naming_the_variable() -> TestResult {
    let stdout = storage_child(Some("disk"))?;
    let error = "invalid value \"disk\" for env var SQLITE_TESTDB_STORAGE: \
                 expected one of file, shared, memory";
    assert_lines(
        &stdout,
        &[
            &format!("child new error: {error}"),
            &format!("child builder error: {error}"),
        ],
    );
    // A builder that chooses never reads the variable.
    assert_lines(&stdout, &BUILDER_LINES);
    #[cfg(feature = "rstest")]
    assert_lines(&stdout, &["child fixture error: panicked"]);
    Ok(())
}

#[test]
fn connections_have_foreign_keys_on_and_the_busy_timeout() -> TestResult {
    let db = TestDb::builder(&example_migrations()?)
        .busy_timeout(Duration::from_millis(1234))
        .build()?;
    let conn = db.connect()?;
    let fk: i64 = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
    let timeout: i64 = conn.query_row("PRAGMA busy_timeout", [], |r| r.get(0))?;
    assert_eq!((fk, timeout), (1, 1234));
    let orphan = conn.execute(
        "INSERT INTO sessions(user_id, session_key_hash, expires_at) VALUES (999, 'h', '2999-01-01')",
        [],
    );
    assert!(
        orphan
            .as_ref()
            .is_err_and(|e| e.to_string().contains("FOREIGN KEY")),
        "{orphan:?}"
    );
    Ok(())
}

#[test]
#[cfg(feature = "r2d2")]
fn pool_connections_get_the_same_settings_and_hook() -> TestResult {
    let db = TestDb::builder(&example_migrations()?)
        .busy_timeout(Duration::from_millis(777))
        .pool_max_size(2)
        .on_connect(|conn| {
            conn.create_scalar_function(
                "double_it",
                1,
                FunctionFlags::SQLITE_DETERMINISTIC,
                |ctx| Ok(ctx.get::<i64>(0)? * 2),
            )
        })
        .build()?;
    let pool = db.pool()?;
    assert_eq!(pool.max_size(), 2);
    let (a, b) = (pool.get()?, pool.get()?);
    for conn in [&a, &b] {
        let (fk, timeout, doubled): (i64, i64, i64) = conn.query_row(
            "SELECT (SELECT foreign_keys FROM pragma_foreign_keys), \
                    (SELECT timeout FROM pragma_busy_timeout), double_it(21)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        assert_eq!((fk, timeout, doubled), (1, 777, 42));
    }
    a.execute("INSERT INTO users(email) VALUES ('pooled@example.com')", [])?;
    let seen: i64 = b.query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
    assert_eq!(seen, 1);
    Ok(())
}

#[test]
fn on_connect_hook_also_runs_where_the_template_is_built() -> TestResult {
    let m = Migrations::from_migrations([refinery::Migration::unapplied(
        "V1__slugs",
        "CREATE TABLE slugs(s TEXT NOT NULL); INSERT INTO slugs VALUES (slugify('Hello World'));",
    )?])?;
    let cache = tempfile::tempdir()?;
    let hook = |conn: &mut rusqlite::Connection| {
        conn.create_scalar_function("slugify", 1, FunctionFlags::SQLITE_DETERMINISTIC, |ctx| {
            Ok(ctx.get::<String>(0)?.to_lowercase().replace(' ', "-"))
        })
    };
    let db = TestDb::builder(&m)
        .cache_dir(cache.path())
        .on_connect(hook)
        .build()?;
    let slug: String = db
        .connect()?
        .query_row("SELECT s FROM slugs", [], |r| r.get(0))?;
    assert_eq!(slug, "hello-world");

    // Without the hook the migration cannot run: the error names it and SQLite's message.
    let other_cache = tempfile::tempdir()?;
    let err = TestDb::builder(&m)
        .cache_dir(other_cache.path())
        .build()
        .err()
        .ok_or("built without the hook")?;
    assert!(matches!(err, Error::Migration { ref migration, .. } if migration == "V1__slugs"));
    assert!(
        chain(&err).contains("no such function: slugify"),
        "{}",
        chain(&err)
    );
    Ok(())
}

#[test]
fn version_stops_the_database_at_that_migration() -> TestResult {
    let m = example_migrations()?;
    let db = TestDb::builder(&m).version(3).build()?;
    assert_eq!(db.version()?, Some(3));
    assert_eq!(
        tables(&db.connect()?)?,
        ["client_secret_versions", "clients", "users"]
    );
    Ok(())
}

#[test]
fn a_version_not_in_the_set_is_an_error_listing_the_versions() -> TestResult {
    let m = example_migrations()?;
    for bad in [0, 8, -1] {
        let err = TestDb::builder(&m).version(bad).build().err();
        assert_eq!(
            err.map(|e| e.to_string()),
            Some(format!(
                "version {bad} is not a migration of this set (versions: 1, 2, 3, 4, 5, 6, 7)"
            ))
        );
    }
    Ok(())
}

#[test]
fn seed_sql_is_in_every_copy() -> TestResult {
    let m = example_migrations()?;
    let mut builder = TestDb::builder(&m);
    builder
        .seed_sql("INSERT INTO users(email) VALUES ('seed@example.com')")
        .seed_sql("INSERT INTO clients(client_id, name, client_type) VALUES ('client-0001', 'App', 'public')");
    for _ in 0..3 {
        let db = builder.build()?;
        let conn = db.connect()?;
        let (users, clients): (i64, i64) = conn.query_row(
            "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM clients)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        assert_eq!((users, clients), (1, 1));
        conn.execute("DELETE FROM users", [])?;
    }
    Ok(())
}

#[test]
fn seed_file_is_read_when_the_database_is_built() -> TestResult {
    let m = example_migrations()?;
    let dir = tempfile::tempdir()?;
    let seed = dir.path().join("seed.sql");
    std::fs::write(
        &seed,
        "INSERT INTO users(email) VALUES ('file@example.com');",
    )?;
    let db = TestDb::builder(&m).seed_file(&seed).build()?;
    let email: String = db
        .connect()?
        .query_row("SELECT email FROM users", [], |r| r.get(0))?;
    assert_eq!(email, "file@example.com");

    let missing = dir.path().join("missing.sql");
    let err = TestDb::builder(&m).seed_file(&missing).build().err();
    assert!(
        matches!(err, Some(Error::Io { ref path, .. }) if *path == missing),
        "{err:?}"
    );
    Ok(())
}

#[test]
fn failing_seed_sql_is_an_error_and_leaves_no_template() -> TestResult {
    let m = example_migrations()?;
    let cache = tempfile::tempdir()?;
    let err = TestDb::builder(&m)
        .cache_dir(cache.path())
        .seed_sql("INSERT INTO users(email) VALUES ('ok@example.com')")
        .seed_sql("INSERT INTO no_such_table VALUES (1)")
        .build()
        .err()
        .ok_or("a failing seed built")?;
    assert!(matches!(err, Error::Seed { index: 2, .. }), "{err:?}");
    assert!(
        chain(&err).contains("no such table: no_such_table"),
        "{}",
        chain(&err)
    );
    let left: Vec<String> = common::entries(cache.path())
        .into_iter()
        .filter(|e| e != "builds.log")
        .collect();
    assert!(left.is_empty(), "left in the cache: {left:?}");
    Ok(())
}

#[test]
fn test_db_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<TestDb>();
    assert_send_sync::<Migrations>();
}
