//! The in-memory mode: the template copied into a private in-memory database, with
//! connections, pools and migration testing working as on files.

use crate::common::{EXAMPLE_TABLES, example_migrations, run_child, tables};
use sqlite_testdb::TestDb;

type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

const CHILD: &str = "SQLITE_TESTDB_TEST_CHILD";

#[test]
fn in_memory_database_is_migrated_and_has_no_file() -> TestResult {
    let m = example_migrations()?;
    let db = TestDb::builder(&m).in_memory().build()?;
    let name = db.uri();
    assert!(
        name.starts_with("file:/sqlite-testdb-") && name.ends_with("?vfs=memdb"),
        "{name}"
    );
    assert!(db.is_in_memory());
    // No file: `file()` says so, and `path()` gives the URI instead of panicking.
    assert_eq!(db.file(), None);
    let asked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| db.path().to_owned()));
    let path = asked.map_err(|_| "path() of an in-memory database panicked")?;
    assert_eq!(path, std::path::Path::new(name));
    assert!(!path.exists(), "{path:?}");
    // What `path()` gives opens the same database, as `uri()` does.
    db.connect()?
        .execute("INSERT INTO users(email) VALUES ('seen@example.com')", [])?;
    let seen: i64 = rusqlite::Connection::open(&path)?.query_row(
        "SELECT count(*) FROM users WHERE email = 'seen@example.com'",
        [],
        |r| r.get(0),
    )?;
    assert_eq!(seen, 1);
    assert_eq!(db.version()?, Some(7));
    assert_eq!(tables(&db.connect()?)?, EXAMPLE_TABLES);
    let (fk, check): (i64, String) = db.connect()?.query_row(
        "SELECT (SELECT foreign_keys FROM pragma_foreign_keys), \
                (SELECT integrity_check FROM pragma_integrity_check)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    assert_eq!((fk, check.as_str()), (1, "ok"));
    Ok(())
}

#[test]
#[cfg(feature = "r2d2")]
fn connections_and_pool_of_one_in_memory_database_share_it() -> TestResult {
    let m = example_migrations()?;
    let db = TestDb::builder(&m).in_memory().build()?;
    let other = TestDb::builder(&m).in_memory().build()?;
    let writer = db.connect()?;
    writer.execute("INSERT INTO users(email) VALUES ('mem@example.com')", [])?;
    let pool = db.pool()?;
    let seen: i64 = pool
        .get()?
        .query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
    let elsewhere: i64 = other
        .connect()?
        .query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
    assert_eq!((seen, elsewhere), (1, 0));
    Ok(())
}

#[test]
fn migration_testing_works_in_memory() -> TestResult {
    let m = example_migrations()?;
    let db = TestDb::builder(&m)
        .in_memory()
        .version(3)
        .seed_sql("INSERT INTO users(email) VALUES ('seed@example.com')")
        .build()?;
    let at_three = db.snapshot()?;
    db.migrate_to(7)?;
    assert_eq!(db.version()?, Some(7));
    db.rollback_to(5)?;
    assert_eq!(db.version()?, Some(5));
    db.restore(&at_three)?;
    assert_eq!(db.version()?, Some(3));
    db.schema()?
        .require_tables(&["users", "clients", "client_secret_versions"])?;
    let seeded: i64 = db
        .connect()?
        .query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
    assert_eq!(seeded, 1);
    Ok(())
}

#[test]
fn keep_writes_an_in_memory_database_to_a_file() -> TestResult {
    let db = TestDb::builder(&example_migrations()?)
        .in_memory()
        .build()?;
    db.connect()?
        .execute("INSERT INTO users(email) VALUES ('kept@example.com')", [])?;
    let path = db.keep()?;
    let email: String =
        rusqlite::Connection::open(&path)?
            .query_row("SELECT email FROM users", [], |r| r.get(0))?;
    assert_eq!(email, "kept@example.com");
    if let Some(folder) = path.parent() {
        std::fs::remove_dir_all(folder)?;
    }
    Ok(())
}

/// Child of `a_panicking_test_keeps_its_in_memory_database_as_a_file`.
#[test]
#[ignore = "run as a child process by the in-memory keep-on-failure test"]
fn child_panics_with_an_in_memory_database() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let m = example_migrations().unwrap_or_else(|e| panic!("{e}"));
    let db = TestDb::builder(&m)
        .in_memory()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    db.connect()
        .unwrap_or_else(|e| panic!("{e}"))
        .execute(
            "INSERT INTO users(email) VALUES ('evidence@example.com')",
            [],
        )
        .unwrap_or_else(|e| panic!("{e}"));
    panic!("the test failed on purpose");
}

#[test]
fn a_panicking_test_keeps_its_in_memory_database_as_a_file() -> TestResult {
    let out = run_child("child_panics_with_an_in_memory_database", &[(CHILD, "1")])?;
    assert!(!out.status.success(), "the child test must fail");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let path = stderr
        .lines()
        .find_map(|l| l.strip_prefix("sqlite-testdb: kept database at "))
        .and_then(|rest| rest.split(" (test panicked)").next())
        .map(std::path::PathBuf::from)
        .ok_or_else(|| format!("no kept database line:\n{stderr}"))?;
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
fn threads_making_in_memory_databases_at_once_each_get_a_whole_private_copy() -> TestResult {
    let m = example_migrations()?;
    let mut builder = TestDb::builder(&m);
    builder.in_memory();
    let builder = &builder;
    let outcomes: Vec<Result<(), String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|thread| {
                scope.spawn(move || -> Result<(), String> {
                    for i in 0..25 {
                        let db = builder.build().map_err(|e| e.to_string())?;
                        let conn = db.connect().map_err(|e| e.to_string())?;
                        let email = format!("t{thread}-{i}@example.com");
                        conn.execute("INSERT INTO users(email) VALUES (?1)", [&email])
                            .map_err(|e| e.to_string())?;
                        let (users, check): (i64, String) = conn
                            .query_row(
                                "SELECT (SELECT count(*) FROM users), \
                                        (SELECT integrity_check FROM pragma_integrity_check)",
                                [],
                                |r| Ok((r.get(0)?, r.get(1)?)),
                            )
                            .map_err(|e| e.to_string())?;
                        if (users, check.as_str()) != (1, "ok") {
                            return Err(format!("{}: {users} users, {check}", db.uri()));
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("thread panicked".to_owned()))
            })
            .collect()
    });
    let failures: Vec<_> = outcomes.into_iter().filter_map(Result::err).collect();
    assert!(failures.is_empty(), "{failures:#?}");
    Ok(())
}
