//! Each class from a small migration of its own on real SQLite: one step that makes it and
//! one that must not; and a seven-migration folder's steps, each classified.

use rusqlite::Connection;

use super::*;
use crate::sql::lint::pragmas_in_transaction;

type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;
type Found = std::result::Result<Vec<(String, String)>, Box<dyn std::error::Error>>;

/// The changes of `step` (run in a transaction, as refinery runs it) on a database made by
/// `before`, as `(code, table.column-or-object)`.
fn classify(before: &str, step: &str) -> Found {
    classify_confirmed(before, step, &|_| None)
}

fn classify_confirmed(
    before: &str,
    step: &str,
    confirm: &dyn Fn(Rename<'_>) -> Option<bool>,
) -> Found {
    let conn = Connection::open_in_memory()?;
    conn.execute_batch(before)?;
    let shape_before = Shape::capture(&conn)?;
    conn.execute_batch(&format!("BEGIN;\n{step}\nCOMMIT;"))?;
    let shape_after = Shape::capture(&conn)?;
    Ok(
        changes_confirmed(&shape_before, &shape_after, step, confirm)
            .into_iter()
            .map(|c| {
                let at = match (&c.column, &c.object) {
                    (Some(column), _) => format!("{}.{column}", c.table),
                    (None, Some(object)) => format!("{}:{object}", c.table),
                    (None, None) => c.table.clone(),
                };
                assert!(
                    c.detail.contains(&format!("`{}", c.table))
                        || c.detail.contains("UNIQUE index"),
                    "{}",
                    c.detail
                );
                (c.class.code().to_owned(), at)
            })
            .collect(),
    )
}

fn found(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

const USERS: &str = "
    CREATE TABLE users(
        id INTEGER PRIMARY KEY,
        email TEXT NOT NULL UNIQUE,
        nick VARCHAR(20) DEFAULT 'anon',
        age INTEGER CHECK (age >= 0)
    );
    CREATE INDEX users_nick ON users(nick);
    CREATE TABLE audit(user_id INTEGER, at TEXT);
    CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN
        INSERT INTO audit VALUES (new.id, 'now');
    END;
    CREATE TABLE posts(
        id INTEGER PRIMARY KEY,
        user_id INTEGER REFERENCES users(id) ON DELETE CASCADE,
        body TEXT
    );";

/// The usual rebuild of `users` into `definition`, copying `columns`.
fn rebuild(definition: &str, select: &str) -> String {
    format!(
        "CREATE TABLE users_new{definition};
         INSERT INTO users_new SELECT {select} FROM users;
         DROP TABLE users;
         ALTER TABLE users_new RENAME TO users;"
    )
}

const SAME: &str = "(id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, \
                    nick VARCHAR(20) DEFAULT 'anon', age INTEGER CHECK (age >= 0))";

const RECREATE: &str = "CREATE INDEX users_nick ON users(nick);
    CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN
        INSERT INTO audit VALUES (new.id, 'now');
    END;";

#[test]
fn a_rebuild_done_right_changes_nothing() -> TestResult {
    let step = format!(
        "PRAGMA foreign_keys = OFF;\n{}\n{RECREATE}",
        rebuild(SAME, "*")
    );
    assert_eq!(classify(USERS, &step)?, []);
    // The index recreated under another name is not lost either.
    let renamed_index = rebuild(SAME, "*")
        + "CREATE INDEX users_by_nick ON users(nick);
           CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN
               INSERT INTO audit VALUES (new.id, 'now');
           END;";
    assert_eq!(classify(USERS, &renamed_index)?, []);
    Ok(())
}

#[test]
fn added_tables_indexes_and_nullable_columns_change_nothing() -> TestResult {
    let step = "CREATE TABLE tags(id INTEGER PRIMARY KEY, name TEXT);
                CREATE UNIQUE INDEX tags_name ON tags(name);
                CREATE INDEX posts_user ON posts(user_id);
                ALTER TABLE users ADD COLUMN bio TEXT;
                CREATE VIEW adults AS SELECT * FROM users WHERE age >= 18;";
    assert_eq!(classify(USERS, step)?, []);
    Ok(())
}

#[test]
fn table_dropped() -> TestResult {
    assert_eq!(
        classify(USERS, "DROP TABLE audit;")?,
        found(&[("table-dropped", "audit")])
    );
    // Its trigger and indexes go with it: the drop says it all.
    assert_eq!(
        classify(USERS, "DROP TABLE posts; DROP TABLE users;")?,
        found(&[("table-dropped", "posts"), ("table-dropped", "users")])
    );
    Ok(())
}

#[test]
fn column_dropped_by_drop_column_or_by_a_rebuild_that_leaves_it_out() -> TestResult {
    assert_eq!(
        classify(USERS, "ALTER TABLE users DROP COLUMN age;")?,
        found(&[("column-dropped", "users.age")])
    );
    let without_age = rebuild(
        "(id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, nick VARCHAR(20) DEFAULT 'anon')",
        "id, email, nick",
    ) + RECREATE;
    assert_eq!(
        classify(USERS, &without_age)?,
        found(&[("column-dropped", "users.age")])
    );
    // An index on the dropped column is lost with it, not by the rebuild.
    let without_nick = rebuild(
        "(id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, age INTEGER CHECK (age >= 0))",
        "id, email, age",
    ) + "CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN
            INSERT INTO audit VALUES (new.id, 'now');
         END;";
    assert_eq!(
        classify(USERS, &without_nick)?,
        found(&[("column-dropped", "users.nick")])
    );
    Ok(())
}

#[test]
fn table_renamed_and_what_moved_with_it_is_not_lost() -> TestResult {
    assert_eq!(
        classify(USERS, "ALTER TABLE users RENAME TO accounts;")?,
        found(&[("table-renamed", "users:accounts")])
    );
    // A rebuild under a new name, index and trigger recreated: a rename, not drop + add;
    // but unlike ALTER TABLE … RENAME, it leaves the references to it dangling.
    let step = format!(
        "CREATE TABLE accounts{SAME};
         INSERT INTO accounts SELECT * FROM users;
         DROP TABLE users;
         CREATE INDEX users_nick ON accounts(nick);
         CREATE TRIGGER users_audit AFTER INSERT ON accounts BEGIN
             INSERT INTO audit VALUES (new.id, 'now');
         END;"
    );
    assert_eq!(
        classify(USERS, &step)?,
        found(&[
            ("table-renamed", "users:accounts"),
            ("foreign-key-dropped", "posts.user_id")
        ])
    );
    assert_eq!(
        changes_of(USERS, &step)?[1].detail,
        "`posts(user_id)` still references `users`, which is gone (now `accounts`)"
    );
    // Told by rows that the values differ: a drop and a new table.
    let confirm = |r: Rename<'_>| matches!(r, Rename::Table { .. }).then_some(false);
    assert_eq!(
        classify_confirmed(USERS, "ALTER TABLE audit RENAME TO log;", &confirm)?,
        found(&[("table-dropped", "audit")])
    );
    Ok(())
}

#[test]
fn column_renamed_by_rename_column_or_in_place_by_a_rebuild() -> TestResult {
    assert_eq!(
        classify(USERS, "ALTER TABLE users RENAME COLUMN email TO mail;")?,
        found(&[("column-renamed", "users.email")])
    );
    assert_eq!(
        classify(USERS, "ALTER TABLE users RENAME age TO years;")?,
        found(&[("column-renamed", "users.age")]),
        "the CHECK follows the column"
    );
    let step = rebuild(
        "(id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, \
          handle VARCHAR(20) DEFAULT 'anon', age INTEGER CHECK (age >= 0))",
        "id, email, nick AS handle, age",
    ) + "CREATE INDEX users_nick ON users(handle);
         CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN
             INSERT INTO audit VALUES (new.id, 'now');
         END;";
    assert_eq!(
        classify(USERS, &step)?,
        found(&[("column-renamed", "users.nick")])
    );
    let no = |_: Rename<'_>| Some(false);
    assert_eq!(
        classify_confirmed(USERS, "ALTER TABLE users RENAME COLUMN email TO mail;", &no)?,
        found(&[("column-dropped", "users.email")])
    );
    Ok(())
}

#[test]
fn a_rebuild_that_copies_a_column_under_a_new_name_elsewhere_renames_it() -> TestResult {
    let before =
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, flag INTEGER NOT NULL DEFAULT 0);";
    let moved = "CREATE TABLE t2 (id INTEGER PRIMARY KEY, kind INTEGER NOT NULL DEFAULT 0, a TEXT);
                 INSERT INTO t2 (id, kind, a) SELECT t.id, flag, a FROM t;
                 DROP TABLE t;
                 ALTER TABLE t2 RENAME TO t;";
    assert_eq!(
        classify(before, moved)?,
        found(&[("column-renamed", "t.flag")])
    );
    // An expression is not a copy: the column is gone.
    let computed = moved.replace("SELECT t.id, flag, a", "SELECT t.id, flag + 1, a");
    assert_eq!(
        classify(before, &computed)?,
        found(&[("column-dropped", "t.flag")])
    );
    Ok(())
}

#[test]
fn column_type_changed_in_affinity_or_declared_type() -> TestResult {
    let step = rebuild(
        "(id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, \
          nick VARCHAR(40) DEFAULT 'anon', age TEXT CHECK (age >= 0))",
        "*",
    ) + RECREATE;
    assert_eq!(
        classify(USERS, &step)?,
        found(&[
            ("column-type-changed", "users.nick"),
            ("column-type-changed", "users.age")
        ])
    );
    // The same type in other letters is the same type.
    let same = rebuild(
        "(id integer primary key, email text not null unique, \
          nick varchar( 20 ) default 'anon', age integer check (age >= 0))",
        "*",
    ) + RECREATE;
    assert_eq!(classify(USERS, &same)?, []);
    Ok(())
}

#[test]
fn foreign_key_dropped_or_its_action_changed() -> TestResult {
    let posts = |definition: &str| {
        format!(
            "CREATE TABLE posts_new{definition};
             INSERT INTO posts_new SELECT * FROM posts;
             DROP TABLE posts;
             ALTER TABLE posts_new RENAME TO posts;"
        )
    };
    assert_eq!(
        classify(
            USERS,
            &posts("(id INTEGER PRIMARY KEY, user_id INTEGER, body TEXT)")
        )?,
        found(&[("foreign-key-dropped", "posts.user_id")])
    );
    let changes = changes_of(
        USERS,
        &posts("(id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), body TEXT)"),
    )?;
    assert_eq!(changes.len(), 1);
    assert_eq!(
        changes[0].detail,
        "reference `posts(user_id)` to `users`: ON DELETE CASCADE became NO ACTION"
    );
    // Kept as it was, or written against the primary key implicitly: nothing.
    let kept =
        "(id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users ON DELETE CASCADE, body TEXT)";
    assert_eq!(classify(USERS, &posts(kept))?, []);
    // The parent renamed: the reference follows it.
    assert_eq!(
        classify(USERS, "ALTER TABLE users RENAME TO accounts;")?,
        found(&[("table-renamed", "users:accounts")])
    );
    Ok(())
}

#[test]
fn a_reference_declared_twice_with_other_actions_is_kept_while_both_are() -> TestResult {
    let twice = "CREATE TABLE m (id INTEGER PRIMARY KEY);
                 CREATE TABLE u (id INTEGER PRIMARY KEY,
                     m_id INTEGER REFERENCES m (id) ON DELETE CASCADE,
                     FOREIGN KEY (m_id) REFERENCES m (id) ON DELETE SET NULL);";
    assert_eq!(classify(twice, "ALTER TABLE u ADD COLUMN note TEXT;")?, []);
    Ok(())
}

#[test]
fn a_reference_to_a_table_that_exists_nowhere_is_not_lost_when_repointed() -> TestResult {
    // `c` references `p_old`, gone since an earlier rebuild of `p`: repointing it to `p`
    // loses nothing.
    let dangling = "CREATE TABLE p (id INTEGER PRIMARY KEY);
                    CREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p_old (id));";
    let repoint = "CREATE TABLE c_new (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p (id));
                   INSERT INTO c_new SELECT * FROM c;
                   DROP TABLE c;
                   ALTER TABLE c_new RENAME TO c;";
    assert_eq!(classify(dangling, repoint)?, []);
    Ok(())
}

fn changes_of(
    before: &str,
    step: &str,
) -> std::result::Result<Vec<Change>, Box<dyn std::error::Error>> {
    let conn = Connection::open_in_memory()?;
    conn.execute_batch(before)?;
    let shape_before = Shape::capture(&conn)?;
    conn.execute_batch(step)?;
    Ok(changes(&shape_before, &Shape::capture(&conn)?, step))
}

#[test]
fn constraint_dropped_not_null_default_unique_check() -> TestResult {
    let step = rebuild(
        "(id INTEGER PRIMARY KEY, email TEXT, nick VARCHAR(20), age INTEGER)",
        "*",
    ) + RECREATE;
    assert_eq!(
        classify(USERS, &step)?,
        found(&[
            ("constraint-dropped", "users.email"),
            ("constraint-dropped", "users.nick"),
            ("constraint-dropped", "users.email"),
            ("constraint-dropped", "users:check"),
        ])
    );
    let details: Vec<String> = changes_of(USERS, &step)?
        .into_iter()
        .map(|c| c.detail)
        .collect();
    assert_eq!(
        details,
        [
            "NOT NULL of column `users.email` is gone",
            "DEFAULT 'anon' of column `users.nick` is gone",
            "UNIQUE (email) of table `users` is gone",
            "CHECK (age >= 0) of table `users` is gone",
        ]
    );
    // A UNIQUE index dropped by name is a UNIQUE gone; a plain index is not.
    let unique = "CREATE UNIQUE INDEX posts_body ON posts(body);";
    assert_eq!(
        classify(
            &format!("{USERS}{unique}"),
            "DROP INDEX posts_body; DROP INDEX users_nick;"
        )?,
        found(&[("constraint-dropped", "posts:posts_body")])
    );
    // UNIQUE kept as a unique index instead of a constraint: kept.
    let as_index = rebuild(
        "(id INTEGER PRIMARY KEY, email TEXT NOT NULL, nick VARCHAR(20) DEFAULT 'anon', \
          age INTEGER CHECK (age >= 0))",
        "*",
    ) + RECREATE
        + "CREATE UNIQUE INDEX users_email ON users(email);";
    assert_eq!(classify(USERS, &as_index)?, []);
    Ok(())
}

#[test]
fn rebuild_lost_object_unless_dropped_by_name() -> TestResult {
    let step = rebuild(SAME, "*");
    assert_eq!(
        classify(USERS, &step)?,
        found(&[
            ("rebuild-lost-object", "users:users_audit"),
            ("rebuild-lost-object", "users:users_nick")
        ])
    );
    let details: Vec<String> = changes_of(USERS, &step)?
        .into_iter()
        .map(|c| c.detail)
        .collect();
    assert_eq!(
        details[1],
        "index `users_nick` on `users` is gone, yet the migration has no DROP INDEX users_nick: \
         the table was dropped and recreated without it"
    );
    let dropped = "DROP INDEX IF EXISTS main.users_nick; DROP TRIGGER users_audit;";
    assert_eq!(classify(USERS, dropped)?, []);
    Ok(())
}

/// The seven migrations of issue 18's example, in SQL of our own.
const FOLDER: [&str; 7] = [
    // V1
    "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT NOT NULL, nick TEXT, bio TEXT);
     CREATE UNIQUE INDEX users_email ON users(email);
     CREATE TABLE user_log(user_id INTEGER, what TEXT);
     CREATE TRIGGER users_logged AFTER UPDATE ON users BEGIN
         INSERT INTO user_log VALUES (new.id, 'updated');
     END;
     CREATE TABLE posts(id INTEGER PRIMARY KEY,
                        user_id INTEGER REFERENCES users(id) ON DELETE CASCADE, body TEXT);
     CREATE TABLE legacy(id INTEGER PRIMARY KEY, payload BLOB);",
    // V2
    "PRAGMA foreign_keys = OFF;
     CREATE TABLE users_new(id INTEGER PRIMARY KEY, email TEXT NOT NULL, nick TEXT, bio TEXT);
     INSERT INTO users_new SELECT id, email, nick, bio FROM users;
     DROP TABLE users;
     ALTER TABLE users_new RENAME TO users;",
    // V3
    "ALTER TABLE users DROP COLUMN nick;",
    // V4
    "ALTER TABLE users RENAME COLUMN email TO mail;",
    // V5
    "CREATE TABLE posts_new(id INTEGER PRIMARY KEY, user_id INTEGER, body TEXT);
     INSERT INTO posts_new SELECT id, user_id, body FROM posts;
     DROP TABLE posts;
     ALTER TABLE posts_new RENAME TO posts;",
    // V6
    "DROP TABLE legacy;",
    // V7: clean
    "CREATE INDEX posts_user ON posts(user_id);
     ALTER TABLE users ADD COLUMN joined TEXT;",
];

#[test]
fn the_seven_migration_folder_gets_exactly_its_findings() -> TestResult {
    let conn = Connection::open_in_memory()?;
    let mut all = Vec::new();
    let mut before = Shape::capture(&conn)?;
    for (i, step) in FOLDER.iter().enumerate() {
        conn.execute_batch(&format!("BEGIN;\n{step}\nCOMMIT;"))?;
        // Each step's shape reuses the unchanged tables of the one before.
        let after = Shape::capture_since(&conn, Some(&before))?;
        assert_eq!(after, Shape::capture(&conn)?);
        for lint in pragmas_in_transaction(step, true) {
            all.push(format!("V{} {:?} line {}", i + 1, lint.rule, lint.line));
        }
        for change in changes(&before, &after, step) {
            let what = change.column.or(change.object).unwrap_or_default();
            all.push(format!(
                "V{} {} {} {what}",
                i + 1,
                change.class.code(),
                change.table
            ));
        }
        before = after;
    }
    assert_eq!(
        all,
        [
            "V2 PragmaInTransaction line 1",
            "V2 rebuild-lost-object users users_email",
            "V2 rebuild-lost-object users users_logged",
            "V3 column-dropped users nick",
            "V4 column-renamed users email",
            "V5 foreign-key-dropped posts user_id",
            "V6 table-dropped legacy ",
        ]
    );
    Ok(())
}
