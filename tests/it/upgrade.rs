//! Upgrades of databases that hold data, rollbacks with down scripts, snapshots.

use crate::common;
use crate::common::{example_migrations, tables, test_migrations};
use sqlite_testdb::{Error, Migrations, TestDb};

type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// The test users will copy: rows inserted at V3 survive V4 (a column split) and V5 (a
/// table rebuild), transformed, and the rows that reference them stay attached.
#[test]
fn rows_inserted_at_v3_survive_the_split_and_the_rebuild() -> TestResult {
    let m = Migrations::from_dir(test_migrations("upgrade"))?;
    let db = TestDb::builder(&m).version(3).build()?;
    {
        let conn = db.connect()?;
        conn.execute_batch(
            "INSERT INTO users (id, email, full_name) VALUES
                 (1, 'ada@example.com', 'Ada Lovelace'),
                 (2, 'plato@example.com', 'Plato');
             INSERT INTO orders (user_id, total_cents) VALUES (1, 1200), (1, 300), (2, 50);",
        )?;
    }

    db.migrate_to(5)?;
    assert_eq!(db.version()?, Some(5));

    let conn = db.connect()?;
    let users: Vec<(i64, String, String)> = conn
        .prepare("SELECT id, given_name, family_name FROM users ORDER BY id")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    assert_eq!(
        users,
        [
            (1, "Ada".to_owned(), "Lovelace".to_owned()),
            (2, "Plato".to_owned(), String::new())
        ]
    );
    let totals: Vec<(i64, i64)> = conn
        .prepare("SELECT user_id, sum(total_cents) FROM orders GROUP BY user_id ORDER BY user_id")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    assert_eq!(totals, [(1, 1500), (2, 50)]);
    let full_name = conn.prepare("SELECT full_name FROM users");
    assert!(full_name.is_err(), "full_name was dropped by V5");
    let orphans: i64 =
        conn.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })?;
    assert_eq!(orphans, 0);
    Ok(())
}

#[test]
fn migrate_to_the_current_version_does_nothing() -> TestResult {
    let m = example_migrations()?;
    let db = TestDb::builder(&m).version(4).build()?;
    db.migrate_to(4)?;
    assert_eq!(db.version()?, Some(4));
    Ok(())
}

#[test]
fn migrate_to_below_the_current_version_is_an_error_that_says_so() -> TestResult {
    let m = example_migrations()?;
    let db = TestDb::new(&m)?;
    let err = db.migrate_to(3).err().ok_or("migrated backwards")?;
    assert!(
        matches!(
            err,
            Error::MigrateBackwards {
                current: 7,
                requested: 3,
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("it is at V7") && text.contains("rollback_to"),
        "{text}"
    );
    assert_eq!(db.version()?, Some(7));
    Ok(())
}

#[test]
fn migrate_to_a_version_that_does_not_exist_is_an_error_that_says_so() -> TestResult {
    let m = example_migrations()?;
    let db = TestDb::builder(&m).version(2).build()?;
    let err = db.migrate_to(42).err();
    assert_eq!(
        err.map(|e| e.to_string()),
        Some(
            "version 42 is not a migration of this set (versions: 1, 2, 3, 4, 5, 6, 7)".to_owned()
        )
    );
    assert_eq!(db.version()?, Some(2));
    Ok(())
}

#[test]
fn a_migration_failing_midway_leaves_the_last_good_version_and_names_the_file() -> TestResult {
    let m = Migrations::from_dir(test_migrations("broken_v4"))?;
    let db = TestDb::builder(&m).version(2).build()?;
    db.connect()?
        .execute("INSERT INTO teams(name) VALUES ('core')", [])?;

    let err = db.migrate_to(5).err().ok_or("a broken V4 applied")?;
    let Error::Migration {
        migration,
        file,
        path,
        applied,
        ..
    } = &err
    else {
        panic!("expected a migration error, got {err:?}");
    };
    assert_eq!(migration, "V4__invites");
    assert!(
        file.as_deref()
            .is_some_and(|f| f.ends_with("broken_v4/V4__invites.sql"))
    );
    assert_eq!(path, db.path());
    assert_eq!(*applied, Some(3));
    // SQLite's own words: older versions stop at "CONSTRAINT", newer ones at "UNIQUE".
    let chain = common::chain(&err);
    assert!(
        chain.contains("near \"UNIQUE\": syntax error")
            || chain.contains("near \"CONSTRAINT\": syntax error"),
        "{chain}"
    );

    // V3 applied, V4's first statement was rolled back with the rest of V4.
    assert_eq!(db.version()?, Some(3));
    assert_eq!(tables(&db.connect()?)?, ["members", "teams", "users"]);
    let teams: i64 = db
        .connect()?
        .query_row("SELECT count(*) FROM teams", [], |r| r.get(0))?;
    assert_eq!(teams, 1);
    Ok(())
}

#[test]
fn rollback_runs_down_scripts_newest_first_and_migrate_to_reapplies() -> TestResult {
    let m = example_migrations()?;
    let db = TestDb::new(&m)?;
    let latest = db.schema()?;
    let at_two = TestDb::builder(&m).version(2).build()?.schema()?;

    db.rollback_to(2)?;
    assert_eq!(db.version()?, Some(2));
    assert_eq!(db.schema()?, at_two, "{}", at_two.diff(&db.schema()?));

    db.migrate_to(7)?;
    assert_eq!(db.version()?, Some(7));
    assert_eq!(db.schema()?, latest);
    Ok(())
}

#[test]
fn rollback_below_the_first_version_undoes_everything() -> TestResult {
    let m = example_migrations()?;
    let db = TestDb::builder(&m).version(3).build()?;
    db.rollback_to(0)?;
    assert_eq!(db.version()?, None);
    assert!(db.schema()?.objects().is_empty(), "{}", db.schema()?);
    db.migrate_to(1)?;
    assert_eq!(db.version()?, Some(1));
    Ok(())
}

#[test]
fn rollback_to_a_version_above_the_current_one_is_an_error() -> TestResult {
    let m = example_migrations()?;
    let db = TestDb::builder(&m).version(2).build()?;
    let err = db.rollback_to(5).err();
    assert!(
        matches!(
            err,
            Some(Error::RollbackForwards {
                current: Some(2),
                requested: 5,
                ..
            })
        ),
        "{err:?}"
    );
    Ok(())
}

#[test]
fn missing_down_script_is_an_error_naming_it_before_anything_runs() -> TestResult {
    let dir = tempfile::tempdir()?;
    for name in ["V1__users", "V2__teams", "V3__members"] {
        let table = name.split("__").nth(1).unwrap_or(name);
        std::fs::write(
            dir.path().join(format!("{name}.sql")),
            format!("CREATE TABLE {table}(id INTEGER PRIMARY KEY);"),
        )?;
    }
    std::fs::write(
        dir.path().join("V3__members.down.sql"),
        "DROP TABLE members;",
    )?;
    let m = Migrations::from_dir(dir.path())?;
    let db = TestDb::new(&m)?;

    let err = db
        .rollback_to(1)
        .err()
        .ok_or("rolled back without V2's down script")?;
    let expected = dir.path().canonicalize()?.join("V2__teams.down.sql");
    assert!(
        matches!(&err, Error::MissingDownScript { migration, expected: Some(path), irreversible: false }
            if migration == "V2__teams" && *path == expected),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!("cannot roll back V2__teams: no down script {expected:?}")
    );
    // V3's down script did not run either.
    assert_eq!(db.version()?, Some(3));
    assert_eq!(tables(&db.connect()?)?, ["members", "teams", "users"]);
    Ok(())
}

#[test]
fn down_script_of_only_comments_marks_its_migration_irreversible() -> TestResult {
    let m = Migrations::from_dir(test_migrations("irreversible"))?;
    assert!(m.down_script(2).is_some_and(|d| d.is_irreversible()));
    assert!(m.down_script(1).is_some_and(|d| !d.is_irreversible()));
    let db = TestDb::new(&m)?;
    let err = db
        .rollback_to(1)
        .err()
        .ok_or("rolled back an irreversible migration")?;
    assert!(
        matches!(&err, Error::MissingDownScript { migration, irreversible: true, .. }
            if migration == "V2__purge_test_users"),
        "{err:?}"
    );
    assert!(err.to_string().contains("irreversible"), "{err}");
    assert_eq!(db.version()?, Some(2));
    Ok(())
}

#[test]
fn snapshot_and_restore_bring_back_rows_schema_and_history() -> TestResult {
    let m = Migrations::from_dir(test_migrations("upgrade"))?;
    let db = TestDb::builder(&m).version(3).build()?;
    db.connect()?.execute(
        "INSERT INTO users (email, full_name) VALUES ('ada@example.com', 'Ada Lovelace')",
        [],
    )?;
    let at_three = db.snapshot()?;
    let schema_at_three = db.schema()?;

    db.migrate_to(5)?;
    db.connect()?.execute("DELETE FROM users", [])?;
    assert_ne!(db.schema()?, schema_at_three);

    db.restore(&at_three)?;
    assert_eq!(db.version()?, Some(3));
    assert_eq!(db.schema()?, schema_at_three);
    let name: String = db
        .connect()?
        .query_row("SELECT full_name FROM users", [], |r| r.get(0))?;
    assert_eq!(name, "Ada Lovelace");

    // Try again from the same starting point.
    db.migrate_to(4)?;
    let given: String = db
        .connect()?
        .query_row("SELECT given_name FROM users", [], |r| r.get(0))?;
    assert_eq!(given, "Ada");
    Ok(())
}

#[test]
fn restore_works_while_another_connection_is_open() -> TestResult {
    let m = example_migrations()?;
    let db = TestDb::new(&m)?;
    let reader = db.connect()?;
    let empty = db.snapshot()?;
    db.connect()?
        .execute("INSERT INTO users(email) VALUES ('gone@example.com')", [])?;
    db.restore(&empty)?;
    let n: i64 = reader.query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
    assert_eq!(n, 0);
    Ok(())
}
