//! Bad and awkward input: each bad one is an error naming the file, version or path, and
//! leaves nothing in the cache; each awkward but legal one works.

use crate::common;
use std::fs;
use std::path::Path;

use crate::common::{chain, entries, folder, test_migrations};
use rusqlite::functions::FunctionFlags;
use sqlite_testdb::{Error, Migrations, TestDb};

type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// Builds `m` in a fresh cache; on failure also checks nothing but `builds.log` is left.
fn build(m: &Migrations) -> Result<sqlite_testdb::Result<TestDb>, Box<dyn std::error::Error>> {
    let cache = tempfile::tempdir()?;
    let result = TestDb::builder(m).cache_dir(cache.path()).build();
    if result.is_err() {
        let left: Vec<String> = entries(cache.path())
            .into_iter()
            .filter(|e| e != "builds.log")
            .collect();
        assert!(left.is_empty(), "left in the cache: {left:?}");
        assert!(common::build_log(cache.path()).is_empty());
    }
    Ok(result)
}

fn migration_error(m: &Migrations) -> Result<Error, Box<dyn std::error::Error>> {
    build(m)?.err().ok_or_else(|| "built".into())
}

fn assert_names(err: &Error, migration: &str, file: &str) {
    assert!(
        matches!(err, Error::Migration { migration: m, file: Some(f), .. }
            if m == migration && f.ends_with(file)),
        "{err:?}"
    );
}

#[test]
fn sql_error_in_the_first_migration_names_it() -> TestResult {
    let dir = folder(&[
        (
            "V1__users.sql",
            "CREATE TABLE users (id INTEGER PRIMARY KEY,);",
        ),
        (
            "V2__posts.sql",
            "CREATE TABLE posts (id INTEGER PRIMARY KEY);",
        ),
    ])?;
    let err = migration_error(&Migrations::from_dir(dir.path())?)?;
    assert_names(&err, "V1__users", "V1__users.sql");
    assert!(matches!(err, Error::Migration { applied: None, .. }));
    assert!(
        err.to_string()
            .contains("no migration was applied before it"),
        "{err}"
    );
    assert!(chain(&err).contains("syntax error"), "{}", chain(&err));
    Ok(())
}

#[test]
fn sql_error_in_the_last_migration_names_it() -> TestResult {
    let dir = folder(&[
        (
            "V1__users.sql",
            "CREATE TABLE users (id INTEGER PRIMARY KEY);",
        ),
        ("V2__posts.sql", "INSERT INTO nowhere VALUES (1);"),
    ])?;
    let err = migration_error(&Migrations::from_dir(dir.path())?)?;
    assert_names(&err, "V2__posts", "V2__posts.sql");
    assert!(
        chain(&err).contains("no such table: nowhere"),
        "{}",
        chain(&err)
    );
    Ok(())
}

#[test]
fn sql_error_inside_a_trigger_body_names_the_migration() -> TestResult {
    let dir = folder(&[
        (
            "V1__users.sql",
            "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);",
        ),
        (
            "V2__audit.sql",
            "CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN
                 INSERT INTO audit_log (user_id) VALUES (NEW.id)
             END;",
        ),
    ])?;
    let err = migration_error(&Migrations::from_dir(dir.path())?)?;
    assert_names(&err, "V2__audit", "V2__audit.sql");
    assert!(chain(&err).contains("syntax error"), "{}", chain(&err));
    Ok(())
}

#[test]
fn a_migration_that_leaves_a_foreign_key_violation_is_an_error_naming_the_table() -> TestResult {
    let m = Migrations::from_dir(test_migrations("breaks_foreign_key"))?;
    let err = migration_error(&m)?;
    assert!(
        matches!(&err, Error::ForeignKeyViolations { version: 2, violations, .. }
            if violations == &["table posts: rowid 1 references a missing row of users"]),
        "{err:?}"
    );
    assert!(err.to_string().contains("replay::check"), "{err}");
    Ok(())
}

#[test]
fn a_migration_needing_a_hook_function_works_with_it_and_fails_clearly_without() -> TestResult {
    let dir = folder(&[(
        "V1__codes.sql",
        "CREATE TABLE codes (code TEXT NOT NULL); INSERT INTO codes VALUES (make_code(7));",
    )])?;
    let m = Migrations::from_dir(dir.path())?;
    let err = migration_error(&m)?;
    assert_names(&err, "V1__codes", "V1__codes.sql");
    assert!(
        chain(&err).contains("no such function: make_code"),
        "{}",
        chain(&err)
    );

    let cache = tempfile::tempdir()?;
    let db = TestDb::builder(&m)
        .cache_dir(cache.path())
        .on_connect(|conn| {
            conn.create_scalar_function(
                "make_code",
                1,
                FunctionFlags::SQLITE_DETERMINISTIC,
                |ctx| Ok(format!("C-{:04}", ctx.get::<i64>(0)?)),
            )
        })
        .build()?;
    let code: String = db
        .connect()?
        .query_row("SELECT code FROM codes", [], |r| r.get(0))?;
    assert_eq!(code, "C-0007");
    Ok(())
}

#[test]
fn a_failing_seed_names_its_position() -> TestResult {
    let dir = folder(&[(
        "V1__users.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT UNIQUE);",
    )])?;
    let m = Migrations::from_dir(dir.path())?;
    let cache = tempfile::tempdir()?;
    let err = TestDb::builder(&m)
        .cache_dir(cache.path())
        .seed_sql("INSERT INTO users(email) VALUES ('a@x')")
        .seed_sql("INSERT INTO users(email) VALUES ('a@x')")
        .build()
        .err()
        .ok_or("a failing seed built")?;
    assert!(matches!(err, Error::Seed { index: 2, .. }), "{err:?}");
    assert!(
        chain(&err).contains("UNIQUE constraint failed: users.email"),
        "{}",
        chain(&err)
    );
    Ok(())
}

#[test]
fn a_migration_of_only_comments_applies_as_a_no_op() -> TestResult {
    let dir = folder(&[
        (
            "V1__users.sql",
            "CREATE TABLE users (id INTEGER PRIMARY KEY);",
        ),
        (
            "V2__nothing.sql",
            "-- kept for history: this change was reverted\n/* nothing */\n",
        ),
    ])?;
    let db = build(&Migrations::from_dir(dir.path())?)??;
    assert_eq!(db.version()?, Some(2));
    Ok(())
}

#[test]
fn a_last_statement_without_a_semicolon_runs() -> TestResult {
    let dir = folder(&[(
        "V1__users.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY);\nCREATE INDEX users_id ON users (id)",
    )])?;
    let db = build(&Migrations::from_dir(dir.path())?)??;
    assert_eq!(db.schema()?.indexes(), ["users_id"]);
    Ok(())
}

#[test]
fn a_ten_megabyte_migration_builds_once_and_copies() -> TestResult {
    let mut sql =
        String::from("CREATE TABLE words (id INTEGER PRIMARY KEY, word TEXT NOT NULL);\n");
    let mut id = 0;
    while sql.len() < 10 * 1024 * 1024 {
        id += 1;
        sql.push_str(&format!(
            "INSERT INTO words (id, word) VALUES ({id}, 'word number {id} of a long migration');\n"
        ));
    }
    let dir = folder(&[("V1__words.sql", &sql)])?;
    let m = Migrations::from_dir(dir.path())?;
    let cache = tempfile::tempdir()?;
    let mut builder = TestDb::builder(&m);
    builder.cache_dir(cache.path());
    let (a, b) = (builder.build()?, builder.build()?);
    for db in [&a, &b] {
        let n: i64 = db
            .connect()?
            .query_row("SELECT count(*) FROM words", [], |r| r.get(0))?;
        assert_eq!(n, id);
    }
    assert_eq!(common::build_log(cache.path()).len(), 1);
    Ok(())
}

#[test]
fn a_version_gap_is_allowed() -> TestResult {
    let dir = folder(&[
        (
            "V1__users.sql",
            "CREATE TABLE users (id INTEGER PRIMARY KEY);",
        ),
        (
            "V5__posts.sql",
            "CREATE TABLE posts (id INTEGER PRIMARY KEY);",
        ),
    ])?;
    let m = Migrations::from_dir(dir.path())?;
    assert_eq!(build(&m)??.version()?, Some(5));
    let err = TestDb::builder(&m).version(3).build().err();
    assert!(
        matches!(err, Some(Error::UnknownVersion { version: 3, .. })),
        "{err:?}"
    );
    Ok(())
}

#[test]
fn paths_with_quotes_and_spaces_are_used_as_given() -> TestResult {
    // Paths never go into SQL: a folder name that would break a quoted SQL string is fine.
    let parent = tempfile::tempdir()?;
    let odd = parent
        .path()
        .join("it's a \"folder\"; DROP TABLE users; --");
    fs::create_dir(&odd)?;
    fs::write(
        odd.join("V1__users.sql"),
        "CREATE TABLE users (id INTEGER PRIMARY KEY);",
    )?;
    let cache = odd.join("cache dir");
    let m = Migrations::from_dir(&odd)?;
    let db = TestDb::builder(&m).cache_dir(&cache).build_in(&odd)?;
    assert!(db.path().starts_with(&odd));
    db.schema()?.require_tables(&["users"])?;
    let kept = TestDb::builder(&m)
        .cache_dir(&cache)
        .in_memory()
        .build()?
        .keep()?;
    assert!(kept.exists());
    if let Some(folder) = kept.parent() {
        fs::remove_dir_all(folder)?;
    }
    assert!(Path::new(&cache).is_dir());
    Ok(())
}

#[test]
fn settings_that_cannot_combine_are_errors_naming_both() -> TestResult {
    let m = common::example_migrations()?;
    let parent = tempfile::tempdir()?;

    let mut both = TestDb::builder(&m);
    both.in_memory().shared_folder();
    let err = both
        .build()
        .err()
        .ok_or("in memory and in a shared folder")?;
    assert!(
        matches!(
            &err,
            Error::ConflictingSettings {
                first: "in_memory()",
                second: "shared_folder()",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "in_memory() and shared_folder() cannot be combined: a database goes to one place"
    );
    // The other order names them in that order; building in a folder is refused too.
    let mut other_way = TestDb::builder(&m);
    other_way.shared_folder().in_memory();
    let err = other_way
        .build_in(parent.path())
        .err()
        .ok_or("both, in a folder")?;
    assert!(
        err.to_string()
            .starts_with("shared_folder() and in_memory()"),
        "{err}"
    );

    let err = TestDb::builder(&m)
        .in_memory()
        .build_in(parent.path())
        .err()
        .ok_or("an in-memory database in a folder")?;
    assert_eq!(
        err.to_string(),
        "in_memory() and build_in(..) cannot be combined: an in-memory database has no folder"
    );
    // Nothing was made in the folder.
    assert_eq!(std::fs::read_dir(parent.path())?.count(), 0);

    // Asking twice for one place is fine.
    let db = TestDb::builder(&m)
        .shared_folder()
        .shared_folder()
        .build()?;
    assert!(db.path().parent().is_some_and(|p| p.ends_with("databases")));
    Ok(())
}
