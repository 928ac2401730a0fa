//! sqlx's and diesel's migration folders, and migration functions: each test database
//! carries the library's own history table, written as the library writes it.

use crate::common::folder;
use sha2::{Digest, Sha384};
#[cfg(feature = "check")]
use sqlite_testdb::replay;
use sqlite_testdb::{Error, Layout, Migrations, TestDb};

type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

const USERS: &str = "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT NOT NULL);\n";
const TAGS_UP: &str = "CREATE TABLE tags(id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n";
const TAGS_DOWN: &str = "DROP TABLE tags;\n";
const INDEX_UP: &str = "CREATE INDEX users_email ON users(email);\n";
const INDEX_DOWN: &str = "DROP INDEX users_email;\n";

fn sqlx_folder() -> std::io::Result<tempfile::TempDir> {
    folder(&[
        ("20240101000000_create_users.sql", USERS),
        ("20240202000000_tags.up.sql", TAGS_UP),
        ("20240202000000_tags.down.sql", TAGS_DOWN),
        ("20240303000000_users_email.up.sql", INDEX_UP),
        ("20240303000000_users_email.down.sql", INDEX_DOWN),
        ("README.md", "not a migration"),
    ])
}

fn diesel_folder() -> std::io::Result<tempfile::TempDir> {
    folder(&[
        ("00000000000000_diesel_initial_setup/up.sql", USERS),
        (
            "00000000000000_diesel_initial_setup/down.sql",
            "DROP TABLE users;",
        ),
        ("2024-02-02-000000_tags/up.sql", TAGS_UP),
        ("2024-02-02-000000_tags/down.sql", TAGS_DOWN),
        ("2024-03-03-000000_users_email/up.sql", INDEX_UP),
        ("2024-03-03-000000_users_email/down.sql", INDEX_DOWN),
    ])
}

/// One of sqlx's rows: version, description, success, checksum.
type SqlxRow = (i64, String, bool, Vec<u8>);

fn sqlx_rows(db: &TestDb) -> rusqlite::Result<Vec<SqlxRow>> {
    db.connect()
        .map_err(|e| rusqlite::Error::InvalidPath(e.to_string().into()))?
        .prepare(
            "SELECT version, description, success, checksum FROM _sqlx_migrations ORDER BY version",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect()
}

fn diesel_versions(db: &TestDb) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    Ok(db
        .connect()?
        .prepare("SELECT version FROM __diesel_schema_migrations ORDER BY version")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?)
}

fn has_table(db: &TestDb, table: &str) -> Result<bool, Box<dyn std::error::Error>> {
    Ok(db.connect()?.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE name = ?1",
        [table],
        |r| r.get(0),
    )?)
}

#[test]
fn sqlx_folder_gives_databases_with_sqlx_history_and_checksums() -> TestResult {
    let dir = sqlx_folder()?;
    let m = Migrations::from_dir(dir.path())?;
    assert_eq!(m.layout(), Some(Layout::Sqlx));
    assert_eq!(m.versions().collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(m.label(2).as_deref(), Some("20240202000000 tags"));
    assert_eq!(m.version_of("20240303000000"), Some(3));
    assert!(m.down_script(1).is_none());
    assert_eq!(m.down_script(2).map(|d| d.sql()), Some(TAGS_DOWN));

    let db = TestDb::new(&m)?;
    assert!(!has_table(&db, "refinery_schema_history")?);
    let rows = sqlx_rows(&db)?;
    let expected = [
        (20240101000000, "create users", USERS),
        (20240202000000, "tags", TAGS_UP),
        (20240303000000, "users email", INDEX_UP),
    ];
    assert_eq!(rows.len(), expected.len());
    for (row, (version, description, sql)) in rows.iter().zip(expected) {
        assert_eq!(row.0, version);
        assert_eq!(row.1, description);
        assert!(row.2, "success");
        assert_eq!(row.3, Sha384::digest(sql.as_bytes()).to_vec());
    }
    let time: i64 = db.connect()?.query_row(
        "SELECT min(execution_time) FROM _sqlx_migrations",
        [],
        |r| r.get(0),
    )?;
    assert!(
        time >= 0,
        "execution time written after the migration: {time}"
    );
    assert_eq!(db.version()?, Some(3));
    // The history table is the library's, not part of the schema.
    assert_eq!(db.schema()?.tables(), ["tags", "users"]);
    Ok(())
}

#[test]
fn sqlx_no_transaction_and_diesel_run_in_transaction_false_run_outside_a_transaction() -> TestResult
{
    // VACUUM fails inside a transaction.
    let sqlx = folder(&[
        ("1_users.sql", USERS),
        ("2_vacuum.sql", "-- no-transaction\nVACUUM;\n"),
    ])?;
    let db = TestDb::new(&Migrations::from_dir(sqlx.path())?)?;
    assert_eq!(sqlx_rows(&db)?.len(), 2);

    let diesel = folder(&[
        ("2024-01-01-000000_users/up.sql", USERS),
        ("2024-01-02-000000_vacuum/up.sql", "VACUUM;"),
        (
            "2024-01-02-000000_vacuum/metadata.toml",
            "run_in_transaction = false\n",
        ),
    ])?;
    let db = TestDb::new(&Migrations::from_dir(diesel.path())?)?;
    assert_eq!(diesel_versions(&db)?, ["20240101000000", "20240102000000"]);

    // Without the opt-out the same migration fails, naming itself.
    let in_tx = folder(&[("1_users.sql", USERS), ("2_vacuum.sql", "VACUUM;\n")])?;
    let err = TestDb::new(&Migrations::from_dir(in_tx.path())?)
        .err()
        .ok_or("VACUUM ran in a transaction")?;
    assert!(
        matches!(&err, Error::Migration { migration, applied: Some(1), .. } if migration == "2 vacuum"),
        "{err:?}"
    );
    Ok(())
}

#[test]
fn diesel_folder_gives_databases_with_diesel_version_strings() -> TestResult {
    let dir = diesel_folder()?;
    let m = Migrations::from_dir(dir.path())?;
    assert_eq!(m.layout(), Some(Layout::Diesel));
    assert_eq!(m.label(2).as_deref(), Some("2024-02-02-000000_tags"));
    assert_eq!(m.version_of("20240202000000"), Some(2));
    assert_eq!(m.version_of("2024-03-03-000000_users_email"), Some(3));
    let db = TestDb::new(&m)?;
    assert!(!has_table(&db, "refinery_schema_history")?);
    assert_eq!(
        diesel_versions(&db)?,
        ["00000000000000", "20240202000000", "20240303000000"]
    );
    assert_eq!(db.version()?, Some(3));
    assert_eq!(db.schema()?.tables(), ["tags", "users"]);
    Ok(())
}

#[test]
fn versions_migrate_to_and_rollback_to_write_and_remove_the_librarys_rows() -> TestResult {
    let dir = sqlx_folder()?;
    let m = Migrations::from_dir(dir.path())?;
    let db = TestDb::builder(&m).version(1).build()?;
    assert_eq!(db.version()?, Some(1));
    assert_eq!(sqlx_rows(&db)?.len(), 1);
    db.migrate_to(3)?;
    assert_eq!(sqlx_rows(&db)?.len(), 3);
    db.rollback_to(1)?;
    assert_eq!(db.version()?, Some(1));
    assert_eq!(
        sqlx_rows(&db)?.iter().map(|r| r.0).collect::<Vec<_>>(),
        [20240101000000]
    );
    assert_eq!(db.schema()?.tables(), ["users"]);
    let err = db.rollback_to(0).err().ok_or("no down script for V1")?;
    assert!(
        matches!(&err, Error::MissingDownScript { migration, expected: Some(p), .. }
            if migration == "20240101000000 create users" && p.ends_with("20240101000000_create_users.down.sql")),
        "{err:?}"
    );

    let dir = diesel_folder()?;
    let m = Migrations::from_dir(dir.path())?;
    let db = TestDb::new(&m)?;
    db.rollback_to(1)?;
    assert_eq!(diesel_versions(&db)?, ["00000000000000"]);
    db.rollback_to(0)?;
    assert!(diesel_versions(&db)?.is_empty());
    assert_eq!(db.version()?, None);
    db.migrate_to(2)?;
    assert_eq!(diesel_versions(&db)?, ["00000000000000", "20240202000000"]);
    Ok(())
}

#[test]
#[cfg(feature = "check")]
fn replay_checks_sqlx_and_diesel_folders_with_their_down_scripts() -> TestResult {
    let names = [
        [
            "20240101000000 create users",
            "20240202000000 tags",
            "20240303000000 users email",
        ],
        [
            "00000000000000_diesel_initial_setup",
            "2024-02-02-000000_tags",
            "2024-03-03-000000_users_email",
        ],
    ];
    for (dir, names) in [sqlx_folder()?, diesel_folder()?].into_iter().zip(names) {
        let m = Migrations::from_dir(dir.path())?;
        let report = replay::check(&m)?;
        let steps: Vec<&str> = report.steps().iter().map(|s| s.migration()).collect();
        assert_eq!(steps, names);
    }
    // With rows: the generator leaves the history tables alone.
    for dir in [sqlx_folder()?, diesel_folder()?] {
        let m = Migrations::from_dir(dir.path())?;
        let report = replay::check_with_data(&m, sqlite_testdb::DataOptions::default())?;
        assert_eq!(report.steps().len(), 3);
    }
    // A down script that forgets the index is found in a sqlx folder too.
    let dir = folder(&[
        ("1_users.sql", USERS),
        ("2_users_email.up.sql", INDEX_UP),
        ("2_users_email.down.sql", "SELECT 1;"),
    ])?;
    let err = replay::check(&Migrations::from_dir(dir.path())?)
        .err()
        .ok_or("the down script leaves the index")?;
    assert!(
        err.report().is_some_and(|r| !r.findings().is_empty()),
        "{err}"
    );
    Ok(())
}

#[test]
fn the_layout_can_be_named_and_is_part_of_the_fingerprint() -> TestResult {
    let sqlx = folder(&[("1_users.sql", USERS)])?;
    let refinery = folder(&[("V1__users.sql", USERS)])?;
    let as_sqlx = Migrations::from_dir_as(sqlx.path(), Layout::Sqlx)?;
    let as_refinery = Migrations::from_dir(refinery.path())?;
    assert_eq!(
        as_sqlx.iter().next().map(|m| m.to_string()),
        Some("V1__users".into())
    );
    assert_ne!(
        TestDb::builder(&as_sqlx).fingerprint()?,
        TestDb::builder(&as_refinery).fingerprint()?
    );
    // Named wrongly: nothing in that layout.
    let err = Migrations::from_dir_as(refinery.path(), Layout::Sqlx).err();
    assert!(
        matches!(
            err,
            Some(Error::NoMigrations { .. }) | Some(Error::BadMigrationName { .. })
        ),
        "{err:?}"
    );
    let err = Migrations::from_dir_as(sqlx.path(), Layout::Diesel).err();
    assert!(matches!(err, Some(Error::NoMigrations { .. })), "{err:?}");
    Ok(())
}

#[test]
fn sqlx_folders_with_bad_names_or_orphan_down_scripts_are_errors_naming_the_file() -> TestResult {
    let dir = folder(&[("1_users.sql", USERS), ("first_tags.sql", TAGS_UP)])?;
    let err = Migrations::from_dir_as(dir.path(), Layout::Sqlx).err();
    assert!(
        matches!(&err, Some(Error::BadMigrationName { path }) if path.ends_with("first_tags.sql")),
        "{err:?}"
    );
    let dir = folder(&[("1_users.sql", USERS), ("2_tags.down.sql", TAGS_DOWN)])?;
    let err = Migrations::from_dir(dir.path()).err();
    assert!(
        matches!(&err, Some(Error::OrphanDownScript { path, expected })
            if path.ends_with("2_tags.down.sql") && expected.ends_with("2_tags.up.sql")),
        "{err:?}"
    );
    Ok(())
}

const STEPS: &[&str] = &[USERS, TAGS_UP, INDEX_UP];

/// A migrator written by hand around `PRAGMA user_version`.
fn migrate_by_hand(conn: &mut rusqlite::Connection) -> rusqlite::Result<()> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for (version, step) in (1_i64..).zip(STEPS).skip_while(|(v, _)| *v <= current) {
        let tx = conn.transaction()?;
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
    }
    Ok(())
}

#[test]
fn a_migration_function_builds_every_copy_with_its_user_version() -> TestResult {
    let m = Migrations::from_fn(("by hand", STEPS), migrate_by_hand)?;
    assert_eq!(m.layout(), None);
    for _ in 0..3 {
        let db = TestDb::new(&m)?;
        let version: i64 = db
            .connect()?
            .pragma_query_value(None, "user_version", |r| r.get(0))?;
        assert_eq!(version, 3);
        assert_eq!(db.schema()?.tables(), ["tags", "users"]);
        // Running the migrator again finds nothing to do.
        migrate_by_hand(&mut db.connect()?)?;
        assert_eq!(db.schema()?.tables(), ["tags", "users"]);
    }
    let other = Migrations::from_fn(("by hand", &STEPS[..2]), migrate_by_hand)?;
    assert_ne!(
        TestDb::builder(&m).fingerprint()?,
        TestDb::builder(&other).fingerprint()?
    );
    Ok(())
}

#[test]
fn a_migration_function_refuses_steps_naming_the_operation() -> TestResult {
    let m = Migrations::from_fn("refuses steps", migrate_by_hand)?;
    let db = TestDb::new(&m)?;
    let refused = [
        ("version", db.version().map(drop).err()),
        ("migrate_to", db.migrate_to(1).err()),
        ("rollback_to", db.rollback_to(0).err()),
        #[cfg(feature = "check")]
        ("replay", replay::check(&m).map(drop).err()),
        (
            "stopping at a version",
            TestDb::builder(&m).version(1).build().map(drop).err(),
        ),
    ];
    for (operation, err) in refused {
        assert!(
            matches!(&err, Some(Error::NotSupportedForFn { operation: o, origin })
                if *o == operation && origin.contains("refuses steps")),
            "{operation}: {err:?}"
        );
        let message = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(message.starts_with(operation), "{message}");
    }
    Ok(())
}

#[test]
fn a_failing_migration_function_is_an_error_keeping_its_cause() -> TestResult {
    let m = Migrations::from_fn("fails", |conn: &mut rusqlite::Connection| {
        conn.execute_batch("CREATE TABLE a(x); CREAT TABLE b(y);")
    })?;
    let err = TestDb::new(&m).err().ok_or("the function failed")?;
    assert!(
        matches!(&err, Error::MigrationFn { origin, .. } if origin.contains("\"fails\"")),
        "{err:?}"
    );
    let cause = std::error::Error::source(&err)
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(cause.contains("CREAT"), "{cause}");
    Ok(())
}

#[test]
#[cfg(feature = "check")]
fn check_from_reads_sqlx_and_diesel_history_in_a_real_database() -> TestResult {
    for dir in [sqlx_folder()?, diesel_folder()?] {
        let m = Migrations::from_dir(dir.path())?;
        let real = tempfile::tempdir()?;
        let path = real.path().join("app.sqlite");
        {
            let db = TestDb::builder(&m).version(1).build()?;
            db.connect()?
                .execute("INSERT INTO users(email) VALUES ('a@x')", [])?;
            std::fs::copy(db.path(), &path)?;
        }
        let report = replay::check_from(&m, &path)?;
        let checked: Vec<_> = report.steps().iter().map(|s| s.version()).collect();
        assert_eq!(checked, [2, 3], "upgraded from V1");
        // The version it was at, as the library names it.
        let at = format!("(at {})\n", m.label(1).ok_or("no V1")?);
        assert!(report.overview().contains(&at), "{}", report.overview());
    }

    // An edited sqlx migration: its checksum in the database differs.
    let dir = sqlx_folder()?;
    let m = Migrations::from_dir(dir.path())?;
    let real = tempfile::tempdir()?;
    let path = real.path().join("app.sqlite");
    std::fs::copy(TestDb::builder(&m).version(2).build()?.path(), &path)?;
    rusqlite::Connection::open(&path)?.execute(
        "UPDATE _sqlx_migrations SET checksum = x'00' WHERE version = 20240202000000",
        [],
    )?;
    let err = replay::check_from(&m, &path).err();
    assert!(
        matches!(&err, Some(Error::HistoryMismatch { mismatches, .. })
            if mismatches.len() == 1 && mismatches[0].contains("changed after it was applied")),
        "{err:?}"
    );

    // A refinery database checked against a sqlx folder has no sqlx history.
    let plain = real.path().join("plain.sqlite");
    rusqlite::Connection::open(&plain)?.execute_batch(USERS)?;
    let err = replay::check_from(&m, &plain).err();
    assert!(
        matches!(
            &err,
            Some(Error::NoHistory {
                table: "_sqlx_migrations",
                ..
            })
        ),
        "{err:?}"
    );
    Ok(())
}
