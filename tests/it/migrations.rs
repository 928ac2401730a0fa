//! Loading migrations: refinery's loader, down scripts, and clear errors for bad folders.

use std::fs;
use std::path::Path;

use crate::common::{example_migrations, folder, test_migrations};
use sqlite_testdb::{Error, Migrations, TestDb};

type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

mod embedded {
    refinery::embed_migrations!("migrations");
}

fn canonical(path: &Path) -> std::path::PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

#[test]
fn example_folder_loads_seven_migrations_each_with_a_down_script() -> TestResult {
    let m = example_migrations()?;
    assert_eq!(m.versions().collect::<Vec<_>>(), [1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(
        m.iter().map(|m| m.name().to_owned()).collect::<Vec<_>>(),
        [
            "users",
            "clients",
            "client_secret_versions",
            "key_rotation_events",
            "tokens",
            "sessions",
            "authorization_requests"
        ]
    );
    for v in m.versions() {
        let down = m.down_script(v).ok_or(format!("V{v} has no down script"))?;
        let file = down.path().ok_or("down script has no path")?;
        assert!(file.to_string_lossy().ends_with(".down.sql"), "{file:?}");
        assert!(down.sql().contains("DROP"), "V{v}: {}", down.sql());
        let up = m.file(v).ok_or("no up file")?;
        assert!(up.to_string_lossy().ends_with(".sql"));
    }
    Ok(())
}

#[test]
fn runner_and_folder_of_the_same_files_share_one_template() -> TestResult {
    let from_dir = example_migrations()?;
    let from_runner = Migrations::from_runner(embedded::migrations::runner())?;
    assert_eq!(from_runner.len(), from_dir.len());
    assert!(from_runner.down_script(1).is_none());
    assert_eq!(
        TestDb::builder(&from_runner).fingerprint()?,
        TestDb::builder(&from_dir).fingerprint()?
    );
    let db = TestDb::new(&from_runner)?;
    assert_eq!(db.version()?, Some(7));
    Ok(())
}

#[test]
fn sub_folders_are_read_as_refinery_reads_them() -> TestResult {
    let dir = folder(&[
        ("2026/V1__a.sql", "CREATE TABLE a(x);"),
        ("2026/V1__a.down.sql", "DROP TABLE a;"),
        ("2027/V2__b.sql", "CREATE TABLE b(x);"),
        ("README.md", "not a migration"),
        (".gitkeep", ""),
    ])?;
    let m = Migrations::from_dir(dir.path())?;
    assert_eq!(m.versions().collect::<Vec<_>>(), [1, 2]);
    assert!(m.down_script(1).is_some() && m.down_script(2).is_none());
    Ok(())
}

#[test]
fn missing_folder_is_an_error_naming_it() {
    let err = Migrations::from_dir("/no/such/folder/migrations").err();
    assert!(
        matches!(&err, Some(Error::Io { path, .. }) if path == Path::new("/no/such/folder/migrations")),
        "{err:?}"
    );
    assert_eq!(
        err.map(|e| e.to_string()),
        Some("failed to read migrations folder \"/no/such/folder/migrations\"".to_owned())
    );
}

#[test]
fn folder_without_migrations_is_an_error_naming_it() -> TestResult {
    let dir = folder(&[("notes.txt", "nothing here")])?;
    let err = Migrations::from_dir(dir.path()).err().ok_or("loaded")?;
    let text = err.to_string();
    assert!(matches!(err, Error::NoMigrations { .. }), "{err:?}");
    assert!(
        text.contains(&canonical(dir.path()).display().to_string()),
        "{text}"
    );
    Ok(())
}

#[test]
fn badly_named_sql_file_is_an_error_naming_it() -> TestResult {
    for bad in [
        "V2_single_underscore.sql",
        "v2__lowercase.sql",
        "2__no_prefix.sql",
        "V2__dash-name.sql",
    ] {
        let dir = folder(&[("V1__ok.sql", "CREATE TABLE a(x);"), (bad, "SELECT 1;")])?;
        let err = Migrations::from_dir(dir.path()).err();
        let expected = canonical(dir.path()).join(bad);
        assert!(
            matches!(&err, Some(Error::BadMigrationName { path }) if *path == expected),
            "{bad}: {err:?}"
        );
        let text = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(
            text.contains(bad) && text.contains("V{version}__{name}.sql"),
            "{text}"
        );
    }
    Ok(())
}

#[test]
fn two_files_with_one_version_is_an_error_naming_both() -> TestResult {
    let dir = folder(&[
        ("V1__users.sql", "CREATE TABLE users(x);"),
        ("V1__accounts.sql", "CREATE TABLE accounts(x);"),
    ])?;
    let err = Migrations::from_dir(dir.path()).err().ok_or("loaded")?;
    assert!(
        matches!(err, Error::DuplicateVersion { version: 1, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("V1__users.sql") && text.contains("V1__accounts.sql"),
        "{text}"
    );
    Ok(())
}

#[test]
fn down_script_without_its_up_file_is_an_error() -> TestResult {
    let dir = folder(&[
        ("V1__users.sql", "CREATE TABLE users(x);"),
        ("V2__typo.down.sql", "DROP TABLE nothing;"),
    ])?;
    let err = Migrations::from_dir(dir.path()).err();
    assert!(
        matches!(&err, Some(Error::OrphanDownScript { path, expected })
            if path.ends_with("V2__typo.down.sql") && expected.ends_with("V2__typo.sql")),
        "{err:?}"
    );
    Ok(())
}

#[test]
fn rust_migration_in_a_folder_is_an_error_pointing_to_from_runner() -> TestResult {
    let dir = folder(&[
        ("V1__users.sql", "CREATE TABLE users(x);"),
        (
            "V2__backfill.rs",
            "pub fn migration() -> String { String::new() }",
        ),
    ])?;
    let err = Migrations::from_dir(dir.path()).err().ok_or("loaded")?;
    assert!(
        matches!(&err, Error::RustMigrationInFolder { path } if path.ends_with("V2__backfill.rs")),
        "{err:?}"
    );
    assert!(err.to_string().contains("from_runner"), "{err}");
    Ok(())
}

#[test]
fn migration_file_that_is_not_utf8_is_an_error_naming_it() -> TestResult {
    let dir = folder(&[("V1__users.sql", "CREATE TABLE users(x);")])?;
    fs::write(dir.path().join("V2__latin1.sql"), b"-- caf\xe9\nSELECT 1;")?;
    let err = Migrations::from_dir(dir.path()).err();
    assert!(
        matches!(&err, Some(Error::Io { path, .. }) if path.ends_with("V2__latin1.sql")),
        "{err:?}"
    );
    Ok(())
}

#[test]
fn empty_runner_is_an_error() {
    let err = Migrations::from_runner(refinery::Runner::new(&[])).err();
    assert!(matches!(err, Some(Error::NoMigrations { .. })), "{err:?}");
}

#[test]
fn runner_with_a_repeated_version_is_an_error_at_load_time() -> TestResult {
    let runner = refinery::Runner::new(&[
        refinery::Migration::unapplied("V1__a", "CREATE TABLE a(x);")?,
        refinery::Migration::unapplied("V1__b", "CREATE TABLE b(x);")?,
    ]);
    let err = Migrations::from_runner(&runner).err();
    assert!(
        matches!(&err, Some(Error::DuplicateVersion { version: 1, first, second })
            if first == "V1__a" && second == "V1__b"),
        "{err:?}"
    );
    Ok(())
}

#[test]
fn parts_from_an_embedded_runner_give_the_same_template_as_the_folder() -> TestResult {
    let runner = embedded::migrations::runner();
    let parts = Migrations::from_parts(
        runner
            .get_migrations()
            .iter()
            .map(|m| (m.version(), m.name(), m.sql().unwrap_or_default())),
    )?;
    let folder = example_migrations()?;
    assert_eq!(
        TestDb::builder(&parts).fingerprint()?,
        TestDb::builder(&folder).fingerprint()?
    );
    assert_eq!(TestDb::new(&parts)?.version()?, Some(7));
    Ok(())
}

#[test]
fn parts_refinery_would_not_accept_are_errors_naming_them() {
    let bad_name = Migrations::from_parts([(1, "users table", "CREATE TABLE users(id);")]).err();
    assert!(
        matches!(&bad_name, Some(Error::BadMigration { version: 1, name, .. }) if name == "users table"),
        "{bad_name:?}"
    );
    let message = bad_name.map(|e| e.to_string()).unwrap_or_default();
    assert!(
        message.starts_with("migration V1__users table cannot be used: "),
        "{message}"
    );

    let too_big = Migrations::from_parts([(20_240_115_120_000_i64, "users", "SELECT 1;")]).err();
    assert!(
        matches!(&too_big, Some(Error::BadMigration { version: 20_240_115_120_000, reason, .. })
            if reason.contains("does not fit")),
        "{too_big:?}"
    );
    let twice = Migrations::from_parts([(1, "a", "SELECT 1;"), (1, "b", "SELECT 2;")]).err();
    assert!(matches!(
        twice,
        Some(Error::DuplicateVersion { version: 1, .. })
    ));
    let none = Migrations::from_parts(Vec::<(i32, &str, &str)>::new()).err();
    assert!(matches!(none, Some(Error::NoMigrations { .. })));
}

#[test]
fn version_gaps_are_allowed_as_refinery_allows_them() -> TestResult {
    let m = Migrations::from_dir(test_migrations("broken_v3"))?;
    assert_eq!(m.versions().collect::<Vec<_>>(), [1, 2, 3, 4]);
    let gappy = Migrations::from_migrations([
        refinery::Migration::unapplied("V1__a", "CREATE TABLE a(x);")?,
        refinery::Migration::unapplied("V10__b", "CREATE TABLE b(x);")?,
    ])?;
    let db = TestDb::new(&gappy)?;
    assert_eq!(db.version()?, Some(10));
    Ok(())
}

/// A copy of the example migrations in diesel's layout.
fn diesel_copy() -> Result<tempfile::TempDir, Box<dyn std::error::Error>> {
    let m = example_migrations()?;
    let dir = tempfile::tempdir()?;
    for migration in m.iter() {
        let folder = dir.path().join(format!(
            "2024-01-{:02}-120000_{}",
            migration.version(),
            migration.name()
        ));
        fs::create_dir(&folder)?;
        fs::write(folder.join("up.sql"), migration.sql().unwrap_or_default())?;
        let down = m.down_script(migration.version()).ok_or("no down script")?;
        fs::write(folder.join("down.sql"), down.sql())?;
    }
    Ok(dir)
}

#[test]
fn diesel_layout_folders_become_versions_in_order() -> TestResult {
    let dir = diesel_copy()?;
    let diesel = Migrations::from_dir(dir.path())?;
    let refinery = example_migrations()?;
    assert_eq!(
        diesel.iter().map(ToString::to_string).collect::<Vec<_>>(),
        refinery.iter().map(ToString::to_string).collect::<Vec<_>>()
    );
    let up = diesel.file(3).ok_or("no file")?;
    assert!(
        up.ends_with("2024-01-03-120000_client_secret_versions/up.sql"),
        "{up:?}"
    );
    let down = diesel
        .down_script(3)
        .and_then(|d| d.path())
        .ok_or("no down")?;
    assert!(down.ends_with("2024-01-03-120000_client_secret_versions/down.sql"));
    // Same SQL, names and versions, but diesel's history table: another template.
    assert_ne!(
        TestDb::builder(&diesel).fingerprint()?,
        TestDb::builder(&refinery).fingerprint()?
    );
    #[cfg(feature = "check")]
    assert_eq!(sqlite_testdb::replay::check(&diesel)?.steps().len(), 7);
    Ok(())
}

#[test]
fn diesel_down_script_of_only_comments_is_irreversible() -> TestResult {
    let dir = folder(&[
        (
            "2024-01-01-000000_users/up.sql",
            "CREATE TABLE users(id INTEGER PRIMARY KEY);",
        ),
        ("2024-01-01-000000_users/down.sql", "DROP TABLE users;"),
        (
            "2024-02-01-000000_purge/up.sql",
            "-- Your SQL goes here\nDELETE FROM users;",
        ),
        (
            "2024-02-01-000000_purge/down.sql",
            "-- This file should undo anything in `up.sql`\n",
        ),
    ])?;
    let m = Migrations::from_dir(dir.path())?;
    assert_eq!(m.versions().collect::<Vec<_>>(), [1, 2]);
    assert!(m.down_script(2).is_some_and(|d| d.is_irreversible()));
    let db = TestDb::new(&m)?;
    let err = db.rollback_to(1).err();
    assert!(
        matches!(&err, Some(Error::MissingDownScript { migration, irreversible: true, expected: Some(p) })
            if migration == "2024-02-01-000000_purge" && p.ends_with("2024-02-01-000000_purge/down.sql")),
        "{err:?}"
    );
    Ok(())
}

#[test]
fn diesel_folder_with_a_bad_name_or_no_up_sql_is_an_error_naming_it() -> TestResult {
    let dir = folder(&[
        (
            "2024-01-01-000000_users/up.sql",
            "CREATE TABLE users(id INTEGER PRIMARY KEY);",
        ),
        ("notes/readme.txt", "not a migration"),
    ])?;
    let err = Migrations::from_dir(dir.path()).err();
    assert!(
        matches!(&err, Some(Error::BadDieselMigration { path, .. }) if path.ends_with("notes")),
        "{err:?}"
    );
    let dir = folder(&[
        (
            "2024-01-01-000000_users/up.sql",
            "CREATE TABLE users(id INTEGER PRIMARY KEY);",
        ),
        ("2024-01-02-000000_posts/down.sql", "DROP TABLE posts;"),
    ])?;
    let err = Migrations::from_dir(dir.path()).err();
    assert!(
        matches!(&err, Some(Error::BadDieselMigration { path, reason: "it has no up.sql" }) if path.ends_with("2024-01-02-000000_posts")),
        "{err:?}"
    );
    Ok(())
}

#[test]
fn diesel_folder_names_are_a_version_then_any_name_as_diesel_reads_them() -> TestResult {
    let dir = folder(&[
        (
            "00000000000000_diesel_initial_setup/up.sql",
            "CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT);",
        ),
        (
            "2018-12-25-164502_media-cover-deletion/up.sql",
            "CREATE TABLE media(id INTEGER PRIMARY KEY, cover_id INTEGER);",
        ),
        (
            "2018-12-25-164502_media-cover-deletion/down.sql",
            "DROP TABLE media;",
        ),
        (
            "2024-03-13_170000_sso_userscascade/up.sql",
            "CREATE TABLE sso_users(id INTEGER PRIMARY KEY);",
        ),
        (
            "2024.05.01_add notes/up.sql",
            "CREATE TABLE notes(id INTEGER PRIMARY KEY);",
        ),
    ])?;
    let m = Migrations::from_dir(dir.path())?;
    let names: Vec<String> = m.iter().map(ToString::to_string).collect();
    assert_eq!(
        names,
        [
            "V1__diesel_initial_setup",
            "V2__media_cover_deletion",
            "V3__170000_sso_userscascade",
            "V4__add_notes",
        ]
    );
    assert!(
        m.file(2)
            .is_some_and(|f| f.ends_with("2018-12-25-164502_media-cover-deletion/up.sql"))
    );
    assert_eq!(m.down_script(2).map(|d| d.sql()), Some("DROP TABLE media;"));
    #[cfg(feature = "check")]
    sqlite_testdb::replay::check(&m)?;

    // No `_`, or nothing on one side of it: not a migration folder.
    for bad in ["20240101", "_users", "2024-01-01_"] {
        let dir = folder(&[(&format!("{bad}/up.sql"), "SELECT 1;")])?;
        let err = Migrations::from_dir(dir.path()).err();
        assert!(
            matches!(&err, Some(Error::BadDieselMigration { path, reason })
                if path.ends_with(bad) && reason.contains("<version>_<name>")),
            "{bad}: {err:?}"
        );
    }
    Ok(())
}
