//! rusqlite_migration 1.3, through `Migrations::from_fn`: the template is migrated once by
//! `to_latest`, every test database is a copy with its `PRAGMA user_version`.

use std::num::NonZeroUsize;

use rusqlite_migration::SchemaVersion;
use sqlite_testdb::{Error, Migrations, TestDb};
use sqlite_testdb_compat_libs::{migrations, STEPS};

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

fn test_migrations() -> sqlite_testdb::Result<Migrations> {
    Migrations::from_fn(STEPS, |conn| migrations().to_latest(conn))
}

fn at(version: usize) -> SchemaVersion {
    NonZeroUsize::new(version).map_or(SchemaVersion::NoneSet, SchemaVersion::Inside)
}

#[test]
fn to_latest_is_a_no_op_on_a_test_database() -> TestResult {
    let m = test_migrations()?;
    let db = TestDb::new(&m)?;
    let mut conn = db.connect()?;
    assert_eq!(migrations().current_version(&conn)?, at(3));
    let schema = db.schema()?;
    migrations().to_latest(&mut conn)?;
    assert_eq!(migrations().current_version(&conn)?, at(3));
    assert_eq!(db.schema()?, schema);
    assert_eq!(schema.tables(), ["posts", "users"]);
    Ok(())
}

#[test]
fn down_migrations_run_on_a_test_database() -> TestResult {
    let m = test_migrations()?;
    let db = TestDb::new(&m)?;
    let mut conn = db.connect()?;
    migrations().to_version(&mut conn, 1)?;
    assert_eq!(migrations().current_version(&conn)?, at(1));
    assert_eq!(db.schema()?.tables(), ["users"]);
    migrations().to_latest(&mut conn)?;
    assert_eq!(db.schema()?.tables(), ["posts", "users"]);
    // The crate's own steps are for folders; a function's are rusqlite_migration's.
    let err = db.rollback_to(1).err();
    assert!(
        matches!(
            err,
            Some(Error::NotSupportedForFn {
                operation: "rollback_to",
                ..
            })
        ),
        "{err:?}"
    );
    Ok(())
}

#[test]
fn tests_in_parallel_get_separate_databases() -> TestResult {
    let m = test_migrations()?;
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let m = m.clone();
            std::thread::spawn(move || -> Result<(i64, SchemaVersion), String> {
                let db = TestDb::new(&m).map_err(|e| e.to_string())?;
                let conn = db.connect().map_err(|e| e.to_string())?;
                conn.execute("INSERT INTO users(email) VALUES (?1)", [format!("u{i}@x")])
                    .map_err(|e| e.to_string())?;
                let count = conn
                    .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
                    .map_err(|e| e.to_string())?;
                let version = migrations()
                    .current_version(&conn)
                    .map_err(|e| e.to_string())?;
                Ok((count, version))
            })
        })
        .collect();
    for thread in threads {
        let (count, version) = thread.join().map_err(|_| "a thread panicked")??;
        assert_eq!(count, 1);
        assert_eq!(version, at(3));
    }
    Ok(())
}
