//! `replay::check_from`: the upgrade of a real database, checked on a copy of it, whose
//! original is never written.
#![cfg(feature = "check")]

use std::fs;
use std::path::Path;

use crate::common::{example_migrations, folder};
use sqlite_testdb::replay::{self, Check, Replay};
use sqlite_testdb::{Error, Migrations, TestDb};

type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// The file's bytes and modification time: what "never written" is checked against.
fn state(path: &Path) -> std::io::Result<(Vec<u8>, std::time::SystemTime)> {
    Ok((fs::read(path)?, fs::metadata(path)?.modified()?))
}

/// A database at `version` of the example migrations holding rows, as a user's would, kept
/// in a folder of its own; its path.
fn users_database(
    version: i32,
    parent: &Path,
) -> Result<std::path::PathBuf, Box<dyn std::error::Error>> {
    let db = TestDb::builder(&example_migrations()?)
        .version(version)
        .seed_sql(
            "INSERT INTO users(email, display_name) VALUES ('ada@example.com', 'Ada'), \
             ('grace@example.com', 'Grace'), ('linus@example.com', NULL);",
        )
        .build_in(parent)?;
    let path = db.keep()?;
    Ok(path)
}

#[test]
fn a_database_at_v3_with_rows_upgrades_to_the_latest_and_is_left_as_it_was() -> TestResult {
    let parent = tempfile::tempdir()?;
    let path = users_database(3, parent.path())?;
    let before = state(&path)?;
    let report = replay::check_from(&example_migrations()?, &path)?;
    let pending: Vec<&str> = report.steps().iter().map(|s| s.migration()).collect();
    assert_eq!(
        pending,
        [
            "V4__key_rotation_events",
            "V5__tokens",
            "V6__sessions",
            "V7__authorization_requests"
        ]
    );
    assert!(report.passed() && report.steps().iter().all(|s| s.checked()));
    let text = report.to_string();
    assert!(
        text.starts_with(&format!(
            "upgrade of a copy of {} (at V3)\n",
            path.display()
        )),
        "{text}"
    );
    assert!(text.contains("the rows kept"), "{text}");
    // The original: the same bytes, never touched, still at V3.
    assert_eq!(state(&path)?, before);
    let version: i64 = rusqlite::Connection::open(&path)?.query_row(
        "SELECT max(version) FROM refinery_schema_history",
        [],
        |r| r.get(0),
    )?;
    assert_eq!(version, 3);
    Ok(())
}

#[test]
fn a_migration_that_drops_a_columns_values_is_caught_on_the_real_rows() -> TestResult {
    let dir = folder(&[
        (
            "V1__users.sql",
            "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, nickname TEXT);",
        ),
        (
            "V2__email_check.sql",
            "CREATE TABLE users_new (id INTEGER PRIMARY KEY, email TEXT NOT NULL CHECK (email LIKE '%@%'), nickname TEXT);\n\
             INSERT INTO users_new (id, email) SELECT id, email FROM users;\n\
             DROP TABLE users;\nALTER TABLE users_new RENAME TO users;",
        ),
    ])?;
    let m = Migrations::from_dir(dir.path())?;
    let parent = tempfile::tempdir()?;
    let old = TestDb::builder(&m)
        .version(1)
        .seed_sql("INSERT INTO users (email, nickname) VALUES ('ada@example.com', 'ada'), ('bob@example.com', NULL)")
        .build_in(parent.path())?;
    let before = state(old.path())?;
    let err = replay::check_from(&m, old.path())
        .err()
        .ok_or("the nicknames went unnoticed")?;
    let report = err.report().ok_or("not a finding")?;
    let finding = report.findings()[0];
    assert_eq!(
        (
            finding.migration(),
            finding.check(),
            finding.table(),
            finding.column()
        ),
        (
            "V2__email_check",
            Check::DataLost,
            Some("users"),
            Some("nickname")
        )
    );
    assert!(
        finding.detail().contains("'ada' → NULL"),
        "{}",
        finding.detail()
    );
    assert!(finding.lost_data() && finding.script().is_none());
    let text = report.to_string();
    assert!(
        text.contains("\nupgrade failed at V2__email_check ("),
        "{text}"
    );
    // The error itself is one line, naming the finding by its code.
    let line = err.to_string();
    assert!(
        line.starts_with("1 finding in 1 migration of ") && line.ends_with(": V2 data-lost"),
        "{line}"
    );
    assert_eq!(state(old.path())?, before);

    // Marked as deliberate, the change is listed instead.
    let report = Replay::new(&m)
        .upgrade(old.path())
        .expect_changes(2)
        .run()?;
    assert_eq!(
        report.steps()[0].data_changes()[0].column(),
        Some("nickname")
    );
    Ok(())
}

#[test]
fn databases_that_cannot_be_upgraded_are_errors_naming_them() -> TestResult {
    let m = example_migrations()?;
    let parent = tempfile::tempdir()?;

    let text_file = parent.path().join("notes.txt");
    fs::write(
        &text_file,
        "not a database, but long enough to have a header: ".repeat(10),
    )?;
    let err = replay::check_from(&m, &text_file).err();
    assert!(
        matches!(&err, Some(Error::NotADatabase { path, .. }) if path == &text_file),
        "{err:?}"
    );

    let plain = parent.path().join("plain.sqlite");
    rusqlite::Connection::open(&plain)?
        .execute_batch("CREATE TABLE users(id INTEGER PRIMARY KEY);")?;
    let err = replay::check_from(&m, &plain).err();
    assert!(
        matches!(&err, Some(Error::NoHistory { path, table: "refinery_schema_history" }) if path == &plain),
        "{err:?}"
    );
    assert!(
        err.map(|e| e.to_string())
            .unwrap_or_default()
            .contains("no migration history"),
    );

    // Migrated with an edited V2: its checksum differs, and the error says which.
    let at_v3 = users_database(3, parent.path())?;
    let edited = folder(&[])?;
    for entry in fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations"))? {
        let entry = entry?;
        fs::copy(entry.path(), edited.path().join(entry.file_name()))?;
    }
    let v2 = edited.path().join("V2__clients.sql");
    fs::write(
        &v2,
        format!(
            "{}\n-- edited after it was applied\n",
            fs::read_to_string(&v2)?
        ),
    )?;
    let err = replay::check_from(&Migrations::from_dir(edited.path())?, &at_v3).err();
    let Some(Error::HistoryMismatch { path, mismatches }) = &err else {
        panic!("expected a history mismatch, got {err:?}");
    };
    assert_eq!(path, &at_v3);
    assert_eq!(mismatches.len(), 1, "{mismatches:?}");
    assert!(
        mismatches[0].starts_with("V2__clients: its checksum in the database (")
            && mismatches[0].ends_with("): it was changed after it was applied"),
        "{}",
        mismatches[0]
    );

    // A history naming a migration the folder does not have.
    let fewer = folder(&[
        (
            "V1__users.sql",
            &fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/V1__users.sql"),
            )?,
        ),
        (
            "V9__later.sql",
            "CREATE TABLE later(id INTEGER PRIMARY KEY);",
        ),
    ])?;
    let err = replay::check_from(&Migrations::from_dir(fewer.path())?, &at_v3).err();
    let Some(Error::HistoryMismatch { mismatches, .. }) = &err else {
        panic!("expected a history mismatch, got {err:?}");
    };
    assert_eq!(
        mismatches,
        &[
            "V2__clients: not in the migrations",
            "V3__client_secret_versions: not in the migrations"
        ]
    );

    // Newer than the folder: at V7, upgraded with V1 to V5.
    let at_v7 = users_database(7, parent.path())?;
    let first_five = folder(&[])?;
    for entry in fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations"))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if ["V6", "V7"].iter().all(|v| !name.starts_with(v)) {
            fs::copy(entry.path(), first_five.path().join(&name))?;
        }
    }
    let err = replay::check_from(&Migrations::from_dir(first_five.path())?, &at_v7).err();
    assert!(
        matches!(
            &err,
            Some(Error::NewerDatabase {
                version: 7,
                latest: 5,
                ..
            })
        ),
        "{err:?}"
    );
    Ok(())
}
