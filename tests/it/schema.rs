//! `Schema`: normalized, comparable, printable, diffable.

use crate::common;
use crate::common::example_migrations;
use rusqlite::Connection;
use sqlite_testdb::{Error, Migrations, Schema, TestDb};

type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

fn schema_of(sql: &str) -> Result<Schema, Box<dyn std::error::Error>> {
    let conn = Connection::open_in_memory()?;
    conn.execute_batch(sql)?;
    Ok(Schema::capture(&conn)?)
}

#[test]
fn schema_lists_tables_indexes_views_and_triggers_without_internals() -> TestResult {
    let db = TestDb::new(&example_migrations()?)?;
    let schema = db.schema()?;
    assert_eq!(schema.tables(), common::EXAMPLE_TABLES);
    assert!(schema.indexes().contains(&"users_email_uq"));
    assert_eq!(schema.views(), ["active_sessions"]);
    assert!(schema.triggers().contains(&"users_set_updated_at"));
    for object in schema.objects() {
        assert!(!object.name().starts_with("sqlite_"), "{object}");
        assert_ne!(object.table(), "refinery_schema_history");
    }
    assert_eq!(
        schema.get("USERS").map(|o| o.kind()),
        Some("table"),
        "names compare in any case"
    );
    Ok(())
}

#[test]
fn sqlite_sequence_and_automatic_indexes_are_left_out() -> TestResult {
    let schema = schema_of(
        "CREATE TABLE t(id INTEGER PRIMARY KEY AUTOINCREMENT, code TEXT UNIQUE);
         INSERT INTO t(code) VALUES ('a');",
    )?;
    assert_eq!(schema.tables(), ["t"]);
    assert!(schema.indexes().is_empty(), "{schema}");
    Ok(())
}

#[test]
fn a_rebuilt_table_with_a_quoted_name_equals_the_original() -> TestResult {
    let original = schema_of(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);
         CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id));",
    )?;
    // The usual table rebuild: SQLite stores the renamed table as CREATE TABLE "users" and
    // rewrites the REFERENCES of posts with quotes too.
    let rebuilt = schema_of(
        "CREATE TABLE users_old (id INTEGER PRIMARY KEY, email TEXT NOT NULL);
         CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users_old (id));
         ALTER TABLE users_old RENAME TO users;",
    )?;
    let raw: String = {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch(
            "CREATE TABLE users_old (id INTEGER PRIMARY KEY); ALTER TABLE users_old RENAME TO users;",
        )?;
        conn.query_row(
            "SELECT sql FROM sqlite_master WHERE name = 'users'",
            [],
            |r| r.get(0),
        )?
    };
    assert!(
        raw.contains("\"users\""),
        "SQLite quotes the new name: {raw}"
    );
    assert_eq!(original, rebuilt, "{}", original.diff(&rebuilt));
    Ok(())
}

#[test]
fn display_is_stable_text_with_one_column_per_line() -> TestResult {
    let schema = schema_of(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, -- login
                             status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'gone')));
         CREATE INDEX users_status_idx ON users (status) WHERE status <> 'active';
         CREATE VIEW active_users AS SELECT id, email FROM users WHERE status = 'active';
         CREATE TRIGGER users_no_delete BEFORE DELETE ON users BEGIN SELECT RAISE(ABORT, 'no'); END;",
    )?;
    assert_eq!(
        schema.to_string(),
        "create table users(
    id integer primary key,
    email text not null unique,
    status text not null default 'active' check(status in('active', 'gone'))
);
create index users_status_idx on users(status) where status <> 'active';
create view active_users as select id, email from users where status = 'active';
create trigger users_no_delete before delete on users begin select raise(abort, 'no'); end;
"
    );
    Ok(())
}

#[test]
fn require_tables_lists_every_missing_table() -> TestResult {
    let db = TestDb::builder(&example_migrations()?).version(2).build()?;
    let schema = db.schema()?;
    schema.require_tables(&["users", "CLIENTS"])?;
    let err = schema
        .require_tables(&["users", "sessions", "clients", "tokens"])
        .err()
        .ok_or("no table was missing")?;
    assert!(
        matches!(&err, Error::MissingTables { missing, .. } if missing == &["sessions", "tokens"]),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "missing tables: sessions, tokens (the schema has: clients, users)"
    );
    Ok(())
}

#[test]
fn diff_shows_what_a_migration_changed_line_by_line() -> TestResult {
    let m = example_migrations()?;
    let v5 = TestDb::builder(&m).version(5).build()?.schema()?;
    let v6 = TestDb::builder(&m).version(6).build()?.schema()?;
    assert_eq!(v5.diff(&v5), "");
    let diff = v5.diff_labeled(&v6, "V5", "V6");
    assert!(diff.starts_with("--- V5\n+++ V6\n"), "{diff}");
    assert!(diff.contains("+    last_login_at text\n"), "{diff}");
    assert!(diff.contains("+create table sessions("), "{diff}");
    assert!(
        !diff
            .lines()
            .any(|l| l.starts_with('-') && !l.starts_with("---") && !l.contains("updated_at")),
        "{diff}"
    );
    Ok(())
}

#[test]
fn schemas_of_runner_and_folder_are_equal() -> TestResult {
    let m = example_migrations()?;
    let copy = Migrations::from_migrations(m.iter().cloned())?;
    let cache = tempfile::tempdir()?;
    let a = TestDb::new(&m)?.schema()?;
    let b = TestDb::builder(&copy)
        .cache_dir(cache.path())
        .build()?
        .schema()?;
    assert_eq!(a, b);
    Ok(())
}
