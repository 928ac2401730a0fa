//! diesel 2.2 with diesel_migrations: test databases from a diesel migration folder carry
//! `__diesel_schema_migrations` with diesel's version strings, so the application's
//! harness has no pending migration.

use diesel::{Connection, SqliteConnection};
use diesel_migrations::{FileBasedMigrations, MigrationHarness};
use sqlite_testdb::{Layout, Migrations, TestDb};
use sqlite_testdb_compat_libs::folder;

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

fn connect(db: &TestDb) -> Result<SqliteConnection, diesel::ConnectionError> {
    SqliteConnection::establish(&db.path().to_string_lossy())
}

fn source() -> Result<FileBasedMigrations, diesel_migrations::MigrationError> {
    FileBasedMigrations::from_path(folder("diesel"))
}

#[test]
fn diesel_harness_has_no_pending_migration_on_a_test_database() -> TestResult {
    let m = Migrations::from_dir(folder("diesel"))?;
    assert_eq!(m.layout(), Some(Layout::Diesel));
    let db = TestDb::new(&m)?;
    let mut conn = connect(&db)?;
    assert!(conn.pending_migrations(source()?)?.is_empty());
    let applied: Vec<String> = conn
        .applied_migrations()?
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        applied,
        [
            "20240305170000",
            "20240220080000",
            "20240115120000",
            "00000000000000"
        ]
    );
    assert!(conn.run_pending_migrations(source()?)?.is_empty());
    Ok(())
}

#[test]
fn down_migrations_run_through_the_crate_and_through_diesel() -> TestResult {
    let m = Migrations::from_dir(folder("diesel"))?;
    let db = TestDb::new(&m)?;
    let users = m
        .version_of("2024-01-15-120000_create_users")
        .ok_or("no such version")?;
    // Through the crate: down.sql files, diesel's rows removed.
    db.rollback_to(users)?;
    assert_eq!(db.schema()?.tables(), ["users"]);
    let mut conn = connect(&db)?;
    let pending: Vec<String> = conn
        .pending_migrations(source()?)?
        .iter()
        .map(|m| m.name().version().to_string())
        .collect();
    assert_eq!(pending, ["20240220080000", "20240305170000"]);
    // diesel applies them (the last outside a transaction, as its metadata.toml says).
    conn.run_pending_migrations(source()?)?;
    assert!(conn.pending_migrations(source()?)?.is_empty());
    // And diesel's own revert on a test database.
    let reverted = conn.revert_last_migration(source()?)?;
    assert_eq!(reverted.to_string(), "20240305170000");
    drop(conn);
    assert_eq!(db.version()?, m.version_of("20240220080000"));
    Ok(())
}

#[test]
fn tests_in_parallel_get_separate_databases() -> TestResult {
    let m = Migrations::from_dir(folder("diesel"))?;
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let m = m.clone();
            std::thread::spawn(move || -> Result<i64, String> {
                let db = TestDb::new(&m).map_err(|e| e.to_string())?;
                let conn = db.connect().map_err(|e| e.to_string())?;
                conn.execute("INSERT INTO users(email) VALUES (?1)", [format!("u{i}@x")])
                    .map_err(|e| e.to_string())?;
                conn.query_row("SELECT count(*) FROM users", [], |r| r.get(0))
                    .map_err(|e| e.to_string())
            })
        })
        .collect();
    for thread in threads {
        assert_eq!(thread.join().map_err(|_| "a thread panicked")??, 1);
    }
    Ok(())
}
