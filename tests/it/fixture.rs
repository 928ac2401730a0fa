//! The rstest fixture, used as users use it: `test_db` for `$CARGO_MANIFEST_DIR/migrations`,
//! and fixtures of one's own around `TestDb::builder`.
#![cfg(feature = "rstest")]

use crate::common;
use rstest::{fixture, rstest};
use sqlite_testdb::{Migrations, TestDb, Version, test_db};

/// Both tests below insert the same row under a UNIQUE email: in a shared database one of
/// them would fail, and each would see the other's display name.
fn insert_and_count(
    db: &TestDb,
    display_name: &str,
) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let conn = db.connect()?;
    conn.execute(
        "INSERT INTO users(email, display_name) VALUES ('same@example.com', ?1)",
        [display_name],
    )?;
    let names = conn
        .prepare("SELECT display_name FROM users")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(names)
}

#[rstest]
fn first_test_sees_only_its_own_row(test_db: TestDb) {
    let names = insert_and_count(&test_db, "first").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(names, ["first"]);
}

#[rstest]
fn second_test_sees_only_its_own_row(test_db: TestDb) {
    let names = insert_and_count(&test_db, "second").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(names, ["second"]);
}

#[rstest]
fn fixture_database_is_at_the_latest_version(test_db: TestDb) {
    assert_eq!(test_db.version().ok().flatten(), Some(7));
    let tables = test_db
        .connect()
        .ok()
        .and_then(|c| common::tables(&c).ok())
        .unwrap_or_default();
    assert_eq!(tables, common::EXAMPLE_TABLES);
}

/// The migrations, loaded once for every test of this file.
#[fixture]
#[once]
fn migrations() -> Migrations {
    common::example_migrations().unwrap_or_else(|e| panic!("{e}"))
}

/// A fixture of one's own: a database at a given version.
#[fixture]
fn db_at(#[default(7)] version: Version, migrations: &Migrations) -> TestDb {
    TestDb::builder(migrations)
        .version(version)
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

#[rstest]
#[case(1, &["users"])]
#[case(3, &["client_secret_versions", "clients", "users"])]
#[case(5, &["client_secret_versions", "clients", "key_rotation_events", "tokens", "users"])]
fn databases_at_each_version_have_that_versions_tables(
    migrations: &Migrations,
    #[case] version: Version,
    #[case] expected: &[&str],
) {
    let db = TestDb::builder(migrations)
        .version(version)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(db.version().ok().flatten(), Some(version));
    let tables = db
        .connect()
        .ok()
        .and_then(|c| common::tables(&c).ok())
        .unwrap_or_default();
    assert_eq!(tables, expected);
}

#[rstest]
fn fixture_with_a_version_argument(#[with(2)] db_at: TestDb) {
    assert_eq!(db_at.version().ok().flatten(), Some(2));
}

#[rstest]
fn fixture_with_its_default_version(db_at: TestDb) {
    assert_eq!(db_at.version().ok().flatten(), Some(7));
}

/// Child of the tests below: uses `test_db` with whatever `CARGO_MANIFEST_DIR` it was given.
#[rstest]
#[ignore = "run as a child process by the fixture failure tests"]
fn child_uses_the_fixture(test_db: TestDb) {
    println!("child got {}", test_db.path().display());
}

fn run_fixture_child(manifest_dir: &std::path::Path) -> std::io::Result<(bool, String)> {
    let out = crate::common::run_child(
        "child_uses_the_fixture",
        &[("CARGO_MANIFEST_DIR", &manifest_dir.to_string_lossy())],
    )?;
    Ok((
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

#[test]
fn missing_migrations_folder_panics_saying_where_it_looked_and_what_to_do()
-> Result<(), Box<dyn std::error::Error>> {
    let crate_dir = tempfile::tempdir()?;
    let (ok, stderr) = run_fixture_child(crate_dir.path())?;
    assert!(!ok, "the fixture must fail the test");
    let looked = crate_dir.path().join("migrations");
    assert!(
        stderr.contains(&format!(
            "sqlite-testdb: the test_db fixture found no migrations folder at {}",
            looked.display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("Migrations::from_dir("), "{stderr}");
    Ok(())
}

#[test]
fn broken_migration_panics_with_the_file_and_sqlites_message()
-> Result<(), Box<dyn std::error::Error>> {
    let crate_dir = tempfile::tempdir()?;
    let migrations = crate_dir.path().join("migrations");
    std::fs::create_dir(&migrations)?;
    for entry in std::fs::read_dir(common::test_migrations("broken_v3"))? {
        let entry = entry?;
        std::fs::copy(entry.path(), migrations.join(entry.file_name()))?;
    }
    let (ok, stderr) = run_fixture_child(crate_dir.path())?;
    assert!(!ok, "the fixture must fail the test");
    assert!(
        stderr.contains("sqlite-testdb: test_db fixture failed: migration V3__comments ("),
        "{stderr}"
    );
    assert!(stderr.contains("V3__comments.sql"), "{stderr}");
    let causes: Vec<&str> = stderr
        .lines()
        .filter(|l| l.trim_start().starts_with("caused by: "))
        .collect();
    assert!(
        causes
            .iter()
            .any(|c| c.contains("near \"CREAT\": syntax error")),
        "{stderr}"
    );
    // Each message once, although refinery repeats SQLite's in its own.
    assert_eq!(
        stderr.matches("near \"CREAT\": syntax error").count(),
        1,
        "{stderr}"
    );
    Ok(())
}
