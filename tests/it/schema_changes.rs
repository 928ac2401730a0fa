//! The schema-change classes: for every code, a folder that triggers it and one that must
//! not; acknowledgements by `Replay::allow` and inline comments; stale ones.
#![cfg(feature = "check")]

use rstest::rstest;
use sqlite_testdb::replay::{Check, Finding, Replay};
use sqlite_testdb::{DataOptions, Error, Migrations};

use crate::common::folder;

type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// V1 of every case: users with a unique index and a trigger, posts referencing users,
/// events with an AUTOINCREMENT id, a legacy table.
const V1: &str = "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, \
                  nick TEXT DEFAULT 'anon', bio TEXT CHECK (length(bio) < 500));\n\
                  CREATE INDEX users_nick ON users (nick);\n\
                  CREATE TABLE audit (id INTEGER PRIMARY KEY, what TEXT);\n\
                  CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN \
                  INSERT INTO audit (what) VALUES ('user'); END;\n\
                  CREATE TABLE posts (id INTEGER PRIMARY KEY, \
                  user_id INTEGER REFERENCES users (id) ON DELETE CASCADE, body TEXT);\n\
                  CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, what TEXT NOT NULL);\n\
                  CREATE TABLE legacy (id INTEGER PRIMARY KEY, data TEXT);\n";

/// A rebuild of users done right: same columns and constraints, index and trigger again.
const USERS_REBUILT: &str = "CREATE TABLE users_new (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, \
     nick TEXT DEFAULT 'anon', bio TEXT CHECK (length(bio) < 500), joined TEXT);\n\
     INSERT INTO users_new (id, email, nick, bio) SELECT id, email, nick, bio FROM users;\n\
     DROP TABLE users;\nALTER TABLE users_new RENAME TO users;\n\
     CREATE INDEX users_nick ON users (nick);\n\
     CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN \
     INSERT INTO audit (what) VALUES ('user'); END;\n";

/// `users` rebuilt from `columns` (the new table's column definitions), copying `copy`.
fn users_rebuilt(columns: &str, copy: &str) -> String {
    format!(
        "CREATE TABLE users_new ({columns});\n\
         INSERT INTO users_new ({copy}) SELECT {copy} FROM users;\n\
         DROP TABLE users;\nALTER TABLE users_new RENAME TO users;\n\
         CREATE INDEX users_nick ON users (nick);\n\
         CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN \
         INSERT INTO audit (what) VALUES ('user'); END;\n"
    )
}

/// `posts` rebuilt with `user_id` declared as `user_id`.
fn posts_rebuilt(user_id: &str) -> String {
    format!(
        "CREATE TABLE posts_new (id INTEGER PRIMARY KEY, {user_id}, body TEXT);\n\
         INSERT INTO posts_new SELECT id, user_id, body FROM posts;\n\
         DROP TABLE posts;\nALTER TABLE posts_new RENAME TO posts;\n"
    )
}

/// The failing and acknowledged findings of V1 then `v2`, checked by `configure`d replay.
fn findings_of(
    v2: &str,
    configure: impl FnOnce(&mut Replay<'_>),
) -> Result<Vec<Finding>, Box<dyn std::error::Error>> {
    let dir = folder(&[("V1__init.sql", V1), ("V2__change.sql", v2)])?;
    let m = Migrations::from_dir(dir.path())?;
    let mut replay = Replay::new(&m);
    configure(&mut replay);
    Ok(match replay.run() {
        Ok(report) => report.findings().into_iter().cloned().collect(),
        Err(Error::Findings { report }) => report.findings().into_iter().cloned().collect(),
        Err(other) => return Err(other.into()),
    })
}

fn codes(findings: &[Finding]) -> Vec<&'static str> {
    findings.iter().map(|f| f.check().code()).collect()
}

#[rstest]
#[case::table_dropped("DROP TABLE legacy;", Check::TableDropped)]
#[case::column_dropped("ALTER TABLE users DROP COLUMN bio;", Check::ColumnDropped)]
#[case::column_dropped_by_a_rebuild(
    &users_rebuilt("id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, nick TEXT DEFAULT 'anon'", "id, email, nick"),
    Check::ColumnDropped
)]
#[case::table_renamed("ALTER TABLE legacy RENAME TO archive;", Check::TableRenamed)]
#[case::column_renamed(
    "ALTER TABLE users RENAME COLUMN nick TO handle;",
    Check::ColumnRenamed
)]
#[case::column_type_changed(
    &users_rebuilt("id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, nick INTEGER DEFAULT 'anon', bio TEXT CHECK (length(bio) < 500)", "id, email, nick, bio"),
    Check::ColumnTypeChanged
)]
#[case::foreign_key_dropped(&posts_rebuilt("user_id INTEGER"), Check::ForeignKeyDropped)]
#[case::foreign_key_action_changed(
    &posts_rebuilt("user_id INTEGER REFERENCES users (id)"),
    Check::ForeignKeyDropped
)]
#[case::not_null_dropped(
    &users_rebuilt("id INTEGER PRIMARY KEY, email TEXT UNIQUE, nick TEXT DEFAULT 'anon', bio TEXT CHECK (length(bio) < 500)", "id, email, nick, bio"),
    Check::ConstraintDropped
)]
#[case::check_dropped(
    &users_rebuilt("id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, nick TEXT DEFAULT 'anon', bio TEXT", "id, email, nick, bio"),
    Check::ConstraintDropped
)]
#[case::rebuild_lost_object(
    "CREATE TABLE users_new (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, \
     nick TEXT DEFAULT 'anon', bio TEXT CHECK (length(bio) < 500));\n\
     INSERT INTO users_new SELECT * FROM users;\nDROP TABLE users;\n\
     ALTER TABLE users_new RENAME TO users;",
    Check::RebuildLostObject
)]
#[case::pragma_in_transaction(
    "PRAGMA foreign_keys = OFF;\nCREATE TABLE tags (id INTEGER PRIMARY KEY);",
    Check::PragmaInTransaction
)]
#[case::double_quoted_string(
    "UPDATE users SET nick = \"nobody\" WHERE nick IS NULL;",
    Check::DoubleQuotedString
)]
fn each_class_is_found_by_its_code(#[case] v2: &str, #[case] check: Check) -> TestResult {
    let found = findings_of(v2, |_| {})?;
    let hits: Vec<&Finding> = found.iter().filter(|f| f.check() == check).collect();
    assert!(!hits.is_empty(), "{check:?} not in {:?}", codes(&found));
    let hit = hits[0];
    assert_eq!(hit.version(), 2);
    assert!(hit.fails());
    assert!(
        hit.to_string().contains(&format!("[{}]", check.code())),
        "{hit}"
    );
    assert!(hit.detail().contains(check.why()), "{}", hit.detail());
    assert!(
        hit.detail()
            .contains(&format!("-- sqlite-testdb: allow {}", check.code())),
        "{}",
        hit.detail()
    );
    Ok(())
}

#[rstest]
#[case::added_nullable_column("ALTER TABLE users ADD COLUMN age INTEGER;")]
#[case::added_index("CREATE INDEX posts_user ON posts (user_id);")]
#[case::added_table("CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT NOT NULL);")]
#[case::rebuild_done_right(USERS_REBUILT)]
#[case::posts_rebuilt_with_its_reference(&posts_rebuilt(
    "user_id INTEGER REFERENCES users (id) ON DELETE CASCADE"
))]
#[case::index_dropped_by_name(
    "DROP INDEX users_nick;\nCREATE INDEX users_nick2 ON users (nick, email);"
)]
#[case::pragma_that_works_in_a_transaction("PRAGMA defer_foreign_keys = ON;\nDELETE FROM legacy;")]
#[case::pragma_after_ending_the_runners_transaction(
    "COMMIT;\nPRAGMA foreign_keys = OFF;\nBEGIN;\nCREATE TABLE tags (id INTEGER PRIMARY KEY);"
)]
#[case::double_quoted_names("UPDATE \"users\" SET \"nick\" = 'nobody' WHERE \"nick\" IS NULL;")]
fn clean_migrations_give_nothing(#[case] v2: &str) -> TestResult {
    let found = findings_of(v2, |_| {})?;
    assert!(found.is_empty(), "{:?}\n{found:#?}", codes(&found));
    Ok(())
}

#[test]
fn a_rename_column_is_a_rename_not_a_drop_and_an_add() -> TestResult {
    let found = findings_of("ALTER TABLE users RENAME COLUMN nick TO handle;", |_| {})?;
    assert_eq!(codes(&found), ["column-renamed"]);
    assert_eq!(found[0].column(), Some("nick"));
    assert!(
        found[0].detail().contains("handle"),
        "{}",
        found[0].detail()
    );
    Ok(())
}

#[test]
fn newer_sqlite_features_are_found_at_their_line_below_the_minimum_only() -> TestResult {
    let v2 = "-- sqlite-testdb: allow column-dropped\nALTER TABLE users DROP COLUMN bio;";
    let found = findings_of(v2, |r| {
        r.min_sqlite("3.31");
    })?;
    let newer: Vec<&Finding> = found
        .iter()
        .filter(|f| f.check() == Check::NewerSqliteFeature)
        .collect();
    assert_eq!(newer.len(), 1, "{found:#?}");
    assert_eq!(newer[0].line(), Some(2));
    assert!(newer[0].detail().contains("3.35"), "{}", newer[0].detail());
    assert!(
        newer[0].to_string().contains("V2__change.sql:2)"),
        "{}",
        newer[0]
    );

    let found = findings_of(v2, |r| {
        r.min_sqlite("3.35");
    })?;
    assert!(found.iter().all(|f| !f.fails()), "{found:#?}");
    // Not declared: not checked.
    let found = findings_of(v2, |_| {})?;
    assert!(found.iter().all(|f| !f.fails()), "{found:#?}");
    Ok(())
}

#[test]
fn a_minimum_that_is_not_a_sqlite_version_is_an_error_naming_it() -> TestResult {
    let err = findings_of("CREATE TABLE t (id INTEGER PRIMARY KEY);", |r| {
        r.min_sqlite("3.x");
    })
    .err()
    .ok_or("accepted 3.x")?;
    assert!(
        err.to_string().contains("`3.x` is not a SQLite version"),
        "{err}"
    );
    Ok(())
}

#[test]
fn pragma_findings_carry_their_line() -> TestResult {
    let found = findings_of(
        "CREATE TABLE tags (id INTEGER PRIMARY KEY);\nPRAGMA journal_mode = WAL;",
        |_| {},
    )?;
    assert_eq!(codes(&found), ["pragma-in-transaction"]);
    assert_eq!(found[0].line(), Some(2));
    Ok(())
}

#[test]
fn a_pragma_outside_a_transaction_is_fine_where_the_runner_allows_it() -> TestResult {
    // sqlx runs a migration marked `-- no-transaction` outside one.
    let dir = folder(&[
        (
            "20240101000000_users.sql",
            "CREATE TABLE users (id INTEGER PRIMARY KEY);",
        ),
        (
            "20240201000000_fk_off.sql",
            "-- no-transaction\nPRAGMA foreign_keys = OFF;\nCREATE TABLE tags (id INTEGER PRIMARY KEY);",
        ),
        (
            "20240301000000_fk_in_tx.sql",
            "PRAGMA foreign_keys = OFF;\nCREATE TABLE labels (id INTEGER PRIMARY KEY);",
        ),
    ])?;
    let m = Migrations::from_dir(dir.path())?;
    let err = Replay::new(&m).run().err().ok_or("passed")?;
    let report = err.report().ok_or("no report")?;
    let found: Vec<(u32, &str)> = report
        .findings()
        .iter()
        .map(|f| (f.version() as u32, f.check().code()))
        .collect();
    assert_eq!(found, [(3, "pragma-in-transaction")]);
    Ok(())
}

#[test]
fn over_rows_a_rebuild_that_lowers_an_autoincrement_counter_is_found() -> TestResult {
    let rebuild = "CREATE TABLE events_new (id INTEGER PRIMARY KEY AUTOINCREMENT, what TEXT NOT NULL);\n\
                   INSERT INTO events_new SELECT * FROM events;\n\
                   DROP TABLE events;\nALTER TABLE events_new RENAME TO events;";
    let found = findings_of(rebuild, |r| {
        r.with_data(DataOptions::default());
    })?;
    let reset = found
        .iter()
        .find(|f| f.check() == Check::AutoincrementReset)
        .ok_or_else(|| format!("{:?}", codes(&found)))?;
    assert_eq!(reset.table(), Some("events"));
    assert!(
        reset.detail().contains("will be handed out again"),
        "{}",
        reset.detail()
    );
    // Without rows there is no counter to lower.
    let found = findings_of(rebuild, |_| {})?;
    assert!(found.is_empty(), "{found:#?}");
    // A rebuild that carries the counter over keeps it.
    let kept = "CREATE TABLE events_new (id INTEGER PRIMARY KEY AUTOINCREMENT, what TEXT NOT NULL);\n\
                INSERT INTO events_new SELECT * FROM events;\n\
                INSERT INTO sqlite_sequence (name, seq) \
                SELECT 'events_new', seq FROM sqlite_sequence WHERE name = 'events';\n\
                DROP TABLE events;\nALTER TABLE events_new RENAME TO events;";
    let found = findings_of(kept, |r| {
        r.with_data(DataOptions::default());
    })?;
    assert!(found.is_empty(), "{:?}", codes(&found));
    Ok(())
}

#[test]
fn a_down_script_that_loses_what_up_kept_gets_the_same_codes() -> TestResult {
    let dir = folder(&[
        ("V1__init.sql", V1),
        ("V2__joined.sql", USERS_REBUILT),
        (
            "V2__joined.down.sql",
            // Back to the old users, without its index.
            "CREATE TABLE users_old (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, \
             nick TEXT DEFAULT 'anon', bio TEXT CHECK (length(bio) < 500));\n\
             INSERT INTO users_old SELECT id, email, nick, bio FROM users;\n\
             DROP TABLE users;\nALTER TABLE users_old RENAME TO users;\n\
             CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN \
             INSERT INTO audit (what) VALUES ('user'); END;",
        ),
    ])?;
    let m = Migrations::from_dir(dir.path())?;
    let err = Replay::new(&m).run().err().ok_or("passed")?;
    let report = err.report().ok_or("no report")?;
    let found = report.findings();
    let lost = found
        .iter()
        .find(|f| f.check() == Check::RebuildLostObject)
        .ok_or_else(|| format!("{found:#?}"))?;
    assert!(
        lost.detail().starts_with("down script: "),
        "{}",
        lost.detail()
    );
    assert!(lost.detail().contains("users_nick"), "{}", lost.detail());
    assert!(
        lost.file()
            .is_some_and(|f| f.ends_with("V2__joined.down.sql")),
        "{lost:?}"
    );
    assert!(found.iter().any(|f| f.check() == Check::DownLeavesTrace));
    Ok(())
}

#[test]
fn acknowledged_by_the_library_or_an_inline_comment_the_run_passes_and_lists_them() -> TestResult {
    let report_of = |v2: &str, allow: bool| -> Result<Vec<Finding>, Box<dyn std::error::Error>> {
        let dir = folder(&[("V1__init.sql", V1), ("V2__change.sql", v2)])?;
        let m = Migrations::from_dir(dir.path())?;
        let mut replay = Replay::new(&m);
        if allow {
            replay.allow(2, Check::TableDropped);
        }
        let report = replay.run()?;
        assert!(report.passed());
        assert!(
            report.summary().contains("1 acknowledged"),
            "{}",
            report.summary()
        );
        Ok(report.findings().into_iter().cloned().collect())
    };
    for found in [
        report_of("DROP TABLE legacy;", true)?,
        report_of(
            "-- sqlite-testdb: allow table-dropped\nDROP TABLE legacy;",
            false,
        )?,
        report_of(
            "DROP TABLE legacy; -- sqlite-testdb: allow table-dropped",
            false,
        )?,
    ] {
        assert_eq!(codes(&found), ["table-dropped"]);
        assert!(found[0].acknowledged() && !found[0].fails());
        assert!(
            found[0]
                .to_string()
                .starts_with("acknowledged at V2__change"),
            "{}",
            found[0]
        );
    }
    Ok(())
}

#[test]
fn stale_and_unreadable_acknowledgements_are_notes_that_do_not_fail() -> TestResult {
    let dir = folder(&[
        ("V1__init.sql", V1),
        (
            "V2__tags.sql",
            "-- sqlite-testdb: allow column-dropped\n-- sqlite-testdb: allow colum-dropped\n\
             -- sqlite-testdb: permit table-dropped\nCREATE TABLE tags (id INTEGER PRIMARY KEY);",
        ),
    ])?;
    let m = Migrations::from_dir(dir.path())?;
    let report = Replay::new(&m).allow(1, Check::TableDropped).run()?;
    let notes: Vec<(u32, Option<usize>, &str)> = report
        .findings()
        .iter()
        .map(|f| {
            assert_eq!(f.check(), Check::StaleAllow);
            assert!(!f.fails());
            (f.version() as u32, f.line(), f.detail())
        })
        .collect();
    assert_eq!(notes.len(), 4, "{notes:#?}");
    assert_eq!((notes[0].0, notes[0].1), (1, None));
    assert!(
        notes[0].2.contains("no table-dropped finding"),
        "{}",
        notes[0].2
    );
    assert_eq!((notes[1].0, notes[1].1), (2, Some(1)));
    assert_eq!((notes[2].0, notes[2].1), (2, Some(2)));
    assert!(
        notes[2].2.contains("`colum-dropped` is not a check's code"),
        "{}",
        notes[2].2
    );
    assert_eq!((notes[3].0, notes[3].1), (2, Some(3)));
    assert!(notes[3].2.contains("is not understood"), "{}", notes[3].2);
    assert!(
        report.summary().ends_with("no findings; 4 notes"),
        "{}",
        report.summary()
    );
    Ok(())
}

#[test]
fn an_allow_of_a_version_the_set_does_not_have_is_an_error() -> TestResult {
    let err = findings_of("CREATE TABLE t (id INTEGER PRIMARY KEY);", |r| {
        r.allow(9, Check::TableDropped);
    })
    .err()
    .ok_or("accepted V9")?;
    assert!(
        err.to_string().contains("version 9 is not a migration"),
        "{err}"
    );
    Ok(())
}

#[test]
fn the_issues_seven_migration_folder_gets_each_mistake_named() -> TestResult {
    let dir = folder(&[
        (
            "V1__init.sql",
            "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, nick TEXT, bio TEXT);\n\
             CREATE UNIQUE INDEX users_email ON users (email);\n\
             CREATE TABLE audit (id INTEGER PRIMARY KEY, what TEXT);\n\
             CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN INSERT INTO audit (what) VALUES ('user'); END;\n\
             CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id) ON DELETE CASCADE, body TEXT);\n\
             CREATE TABLE legacy (id INTEGER PRIMARY KEY, data TEXT);",
        ),
        (
            "V2__rebuild_users.sql",
            "PRAGMA foreign_keys = OFF;\n\
             CREATE TABLE users_new (id INTEGER PRIMARY KEY, email TEXT NOT NULL, nick TEXT, bio TEXT);\n\
             INSERT INTO users_new SELECT id, email, nick, bio FROM users;\n\
             DROP TABLE users;\nALTER TABLE users_new RENAME TO users;",
        ),
        ("V3__drop_nick.sql", "ALTER TABLE users DROP COLUMN nick;"),
        (
            "V4__rename_email.sql",
            "ALTER TABLE users RENAME COLUMN email TO mail;",
        ),
        ("V5__posts_no_fk.sql", &posts_rebuilt("user_id INTEGER")),
        ("V6__drop_legacy.sql", "DROP TABLE legacy;"),
        (
            "V7__index.sql",
            "CREATE INDEX posts_user ON posts (user_id);",
        ),
    ])?;
    let m = Migrations::from_dir(dir.path())?;
    let err = Replay::new(&m).run().err().ok_or("passed")?;
    let report = err.report().ok_or("no report")?;
    let mut found: Vec<String> = report
        .findings()
        .iter()
        .map(|f| format!("V{} {}", f.version(), f.check().code()))
        .collect();
    found.dedup();
    assert_eq!(
        found,
        [
            "V2 pragma-in-transaction",
            "V2 rebuild-lost-object",
            "V3 column-dropped",
            "V4 column-renamed",
            "V5 foreign-key-dropped",
            "V6 table-dropped",
        ]
    );
    Ok(())
}
