//! `replay::check_with_data`: migrations that pass on an empty database and fail, or lose
//! data, on one holding rows; the row generator; determinism; `expect_changes`.
#![cfg(feature = "check")]

use crate::common;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::common::{EXAMPLE_TABLES, example_migrations, test_migrations};
use rusqlite::Connection;
use sqlite_testdb::replay::{self, Check, DataChange, Replay, ReplayReport};
use sqlite_testdb::{DataOptions, Migrations, TestDb};

type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// The options the issue asks for.
fn options() -> DataOptions {
    DataOptions::default().rows_per_table(50).seed(7)
}

/// The fields of an `Error::ReplayData`.
#[derive(Debug)]
struct Failure {
    migration: String,
    file: Option<PathBuf>,
    check: Check,
    table: Option<String>,
    column: Option<String>,
    detail: String,
    script: PathBuf,
    message: String,
}

impl Failure {
    /// The script's text, after which its folder (kept with `keep_scripts`) is removed.
    fn take_script(&self) -> std::io::Result<String> {
        let text = std::fs::read_to_string(&self.script)?;
        if let Some(dir) = self.script.parent() {
            std::fs::remove_dir_all(dir)?;
        }
        Ok(text)
    }
}

/// Loads a bad set, checks that it passes `replay::check` on empty databases, and returns
/// how `check_with_data` fails on it.
fn data_failure(set: &str) -> Result<Failure, Box<dyn std::error::Error>> {
    let m = Migrations::from_dir(test_migrations(set))?;
    replay::check(&m).map_err(|e| format!("{set} fails replay::check on empty databases: {e}"))?;
    let err = replay::check_with_data(&m, options())
        .err()
        .ok_or_else(|| format!("{set} passed check_with_data"))?;
    let report = err
        .report()
        .ok_or_else(|| format!("expected findings, got {err:?}"))?;
    let findings = report.findings();
    // The scripts' folder goes with the report: keep it for `take_script`, which removes it.
    report.keep_scripts();
    let first = findings.first().ok_or("no finding")?;
    Ok(Failure {
        migration: first.migration().to_owned(),
        file: first.file().map(Path::to_path_buf),
        check: first.check(),
        table: first.table().map(String::from),
        column: first.column().map(String::from),
        detail: first.detail().to_owned(),
        script: first
            .script()
            .ok_or("no reproduction script")?
            .to_path_buf(),
        message: first.to_string(),
    })
}

/// Runs a reproduction script the way `sqlite3 < script` does, in memory, stopping at the
/// first error; returns the connection and SQLite's message of that error, if any.
fn run_script(text: &str) -> Result<(Connection, Option<String>), Box<dyn std::error::Error>> {
    let conn = Connection::open_in_memory()?;
    let failed = match conn.execute_batch(text) {
        Ok(()) => None,
        Err(rusqlite::Error::SqliteFailure(_, Some(message))) => Some(message),
        Err(e) => Some(e.to_string()),
    };
    Ok((conn, failed))
}

fn file_name(path: Option<&Path>) -> Option<String> {
    path.and_then(Path::file_name)
        .map(|n| n.to_string_lossy().into_owned())
}

#[test]
fn example_migrations_pass_with_rows_in_every_table() -> TestResult {
    let report = replay::check_with_data(&example_migrations()?, options())?;
    assert_eq!(report.steps().len(), 7);
    assert!(report.steps().iter().all(|s| s.data_changes().is_empty()));

    // Rows before each step: V1 has no table before it; V2 finds users; … Each table got 50
    // rows when it was created; users 12 more (a quarter batch) after V6 added a column to
    // it, so rows written before and after the change both reach the later steps.
    let first = &report.steps()[0];
    assert_eq!(first.generated().map(|g| g.tables().len()), Some(0));
    for (i, step) in report.steps().iter().enumerate().skip(1) {
        let generated = step.generated().ok_or("no generated rows")?;
        assert_eq!(generated.tables().len(), i, "{}", step.migration());
        assert_eq!(generated.skipped(), 0, "{}", step.migration());
        let after_v6 = step.version() > 6;
        assert!(
            generated.tables().iter().all(|t| t.inserted()
                == if after_v6 && t.table() == "users" {
                    62
                } else {
                    50
                }),
            "{}: {:?}",
            step.migration(),
            generated.tables()
        );
    }

    // … and the latest version has rows in all seven tables.
    let latest = report
        .generated_at_latest()
        .ok_or("no rows at the latest version")?;
    let filled: BTreeSet<&str> = latest
        .tables()
        .iter()
        .filter(|t| t.inserted() >= 50 && t.skipped() == 0)
        .map(|t| t.table())
        .collect();
    assert_eq!(filled, EXAMPLE_TABLES.into_iter().collect());
    assert_eq!(latest.inserted(), 362);

    let text = report.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 9, "{text}");
    assert!(
        lines[0].starts_with("V1__users ")
            && lines[0].ends_with(
                "applies; integrity ok; foreign keys ok; down reverses it; no table to fill before it"
            ),
        "{text}"
    );
    assert!(
        lines[1].ends_with("down reverses it; 50 generated rows in 1 table kept"),
        "{text}"
    );
    assert!(
        lines[6].ends_with("down reverses it; 312 generated rows in 6 tables kept"),
        "{text}"
    );
    assert_eq!(
        lines[8],
        "at V7__authorization_requests: 362 generated rows in 7 tables; integrity ok; foreign keys ok"
    );
    Ok(())
}

#[test]
fn rebuild_that_makes_a_column_not_null_fails_naming_the_rows_with_null() -> TestResult {
    let failure = data_failure("data_not_null")?;
    assert_eq!(failure.migration, "V2__require_nickname");
    assert_eq!(
        file_name(failure.file.as_deref()).as_deref(),
        Some("V2__require_nickname.sql")
    );
    assert_eq!(failure.check, Check::MustApply);
    assert_eq!(failure.table.as_deref(), Some("users_new"));
    assert_eq!(failure.column.as_deref(), Some("nickname"));
    assert!(
        failure
            .detail
            .starts_with("NOT NULL constraint failed: users_new.nickname\n"),
        "{}",
        failure.detail
    );
    assert!(
        failure
            .detail
            .contains(" of the 50 generated rows of users have nickname NULL (rowid "),
        "{}",
        failure.detail
    );
    assert!(
        failure.detail.contains(", e.g. (id, email, nickname) = ("),
        "{}",
        failure.detail
    );
    assert!(
        failure
            .message
            .starts_with("replay with data failed at V2__require_nickname (")
            && failure.message.contains(
                "V2__require_nickname.sql): must apply to a database holding generated rows \
             [must-apply] (table users_new, column nickname)\nNOT NULL constraint failed: users_new.nickname\n"
            ),
        "{}",
        failure.message
    );
    assert!(
        failure.message.ends_with(&format!(
            "\nreproduce with: sqlite3 < {}",
            failure.script.display()
        )),
        "{}",
        failure.message
    );

    let script = failure.take_script()?;
    assert!(script.contains("-- The database at V1: its tables, their rows (50 in all)"));
    assert!(script.contains("\nCREATE TABLE users"), "{script}");
    assert!(
        script.contains("-- V2__require_nickname: the migration, as refinery runs it\nBEGIN;\n")
    );
    let (_, failed) = run_script(&script)?;
    assert_eq!(
        failed.as_deref(),
        Some("NOT NULL constraint failed: users_new.nickname")
    );
    Ok(())
}

#[test]
fn unique_index_over_repeating_values_fails_showing_the_repeats() -> TestResult {
    let failure = data_failure("data_unique")?;
    assert_eq!(failure.migration, "V2__one_user_per_team");
    assert_eq!(failure.check, Check::MustApply);
    assert_eq!(
        (failure.table.as_deref(), failure.column.as_deref()),
        (Some("users"), Some("team"))
    );
    let (first, rest) = failure.detail.split_once('\n').ok_or("a one-line detail")?;
    assert_eq!(first, "UNIQUE constraint failed: users.team");
    assert!(
        rest.starts_with(
            "the generated rows of users repeat team as the new index compares them: "
        ) && rest.contains(" rows (rowid ")
            && rest.contains("\ntwo rows that collide: (id, email, team) = ("),
        "{rest}"
    );
    assert!(
        failure
            .message
            .contains("(table users, column team)\nUNIQUE constraint failed: users.team\n"),
        "{}",
        failure.message
    );

    // Each value shown does repeat in the script's rows.
    let script = failure.take_script()?;
    let (conn, failed) = run_script(&script)?;
    assert_eq!(
        failed.as_deref(),
        Some("UNIQUE constraint failed: users.team")
    );
    let most: i64 = conn.query_row(
        "SELECT max(n) FROM (SELECT count(*) AS n FROM users WHERE team IS NOT NULL GROUP BY team)",
        [],
        |r| r.get(0),
    )?;
    assert!(most > 1);
    Ok(())
}

#[test]
fn rebuild_that_drops_a_columns_data_fails_naming_the_column() -> TestResult {
    let failure = data_failure("data_drops_column")?;
    assert_eq!(failure.migration, "V2__add_created_at");
    assert_eq!(failure.check, Check::DataLost);
    assert_eq!(
        (failure.table.as_deref(), failure.column.as_deref()),
        (Some("users"), Some("bio"))
    );
    let lines: Vec<&str> = failure.detail.lines().collect();
    assert_eq!(lines.len(), 1, "{}", failure.detail);
    assert!(
        lines[0].starts_with("users.bio: ")
            && lines[0].contains(" of 50 values changed, e.g. id ")
            && lines[0].contains(" → NULL"),
        "{}",
        lines[0]
    );
    // The advice is in the library's terms.
    assert!(
        failure.message.contains(
            "\n(if the migration deletes or changes them on purpose, mark it: Replay::expect_changes(2))\n"
        ),
        "{}",
        failure.message
    );
    assert!(
        failure.message.contains(
            "V2__add_created_at.sql): must keep every generated row and value [data-lost] (table users, column bio)\nusers.bio: "
        ),
        "{}",
        failure.message
    );

    // The script runs through and ends with no bio left.
    let script = failure.take_script()?;
    let (conn, failed) = run_script(&script)?;
    assert_eq!(failed, None);
    let bios: i64 = conn.query_row("SELECT count(bio) FROM users", [], |r| r.get(0))?;
    assert_eq!(bios, 0);
    Ok(())
}

#[test]
fn foreign_key_added_over_orphans_fails_listing_the_orphan_rows() -> TestResult {
    let failure = data_failure("data_fk_orphans")?;
    assert_eq!(failure.migration, "V2__posts_reference_authors");
    assert_eq!(failure.check, Check::MustApply);
    assert_eq!(
        (failure.table.as_deref(), failure.column.as_deref()),
        (Some("posts"), Some("writer"))
    );
    let lines: Vec<&str> = failure.detail.lines().collect();
    assert_eq!(lines[0], "FOREIGN KEY constraint failed");
    assert!(
        lines[1].starts_with("with foreign keys off (outside refinery's transaction) it leaves ")
            && lines[1].ends_with(" generated rows that reference no row:"),
        "{}",
        failure.detail
    );
    assert!(
        lines[2].starts_with("posts rowid ")
            && lines[2]
                .contains(": writer has no match in authors(id); the row: (id, writer, title) = ("),
        "{}",
        failure.detail
    );

    let script = failure.take_script()?;
    let (_, failed) = run_script(&script)?;
    assert_eq!(failed.as_deref(), Some("FOREIGN KEY constraint failed"));
    Ok(())
}

#[test]
fn down_script_that_loses_rows_fails_showing_them() -> TestResult {
    let failure = data_failure("data_down_loses_rows")?;
    assert_eq!(failure.migration, "V2__roles");
    assert_eq!(failure.check, Check::DownDataLost);
    assert_eq!(
        (failure.table.as_deref(), failure.column.as_deref()),
        (Some("users"), None)
    );
    assert!(
        failure.detail.starts_with("down script: users: ")
            && failure
                .detail
                .contains(" of 50 rows lost, e.g. (id, email, name) = ("),
        "{}",
        failure.detail
    );
    // The rows lost are those without a name, which the down script does not copy.
    let first_line = failure.detail.lines().next().unwrap_or_default();
    assert_eq!(
        first_line.matches(", NULL)").count(),
        first_line.matches("(id, email, name) = (").count(),
        "{first_line}"
    );
    assert!(
        failure
            .message
            .contains("(table users)\ndown script: users: "),
        "{}",
        failure.message
    );

    let script = failure.take_script()?;
    assert!(script.contains("-- V2__roles: its down script\nBEGIN;\n"));
    let (conn, failed) = run_script(&script)?;
    assert_eq!(failed, None);
    let unnamed: i64 =
        conn.query_row("SELECT count(*) FROM users WHERE name IS NULL", [], |r| {
            r.get(0)
        })?;
    assert_eq!(unnamed, 0);
    Ok(())
}

#[test]
fn expected_changes_are_listed_instead_of_failing() -> TestResult {
    let m = Migrations::from_dir(test_migrations("data_purge"))?;
    let failure = data_failure("data_purge")?;
    assert_eq!(
        (
            failure.migration.as_str(),
            failure.table.as_deref(),
            failure.column.as_deref()
        ),
        ("V2__purge_and_normalize", Some("sessions"), None)
    );
    failure.take_script()?;

    let report = Replay::new(&m)
        .with_data(options())
        .expect_changes(2)
        .run()?;
    let changes: &[DataChange] = report.steps()[1].data_changes();
    assert_eq!(changes.len(), 2, "{changes:?}");
    let (rows, values) = (&changes[0], &changes[1]);
    assert_eq!((rows.table(), rows.column()), ("sessions", None));
    assert_eq!(rows.rows_before(), 50);
    assert!(rows.rows_lost() > 0 && rows.rows_lost() < 50, "{rows}");
    assert_eq!(rows.values_changed(), 0);
    assert_eq!(
        (values.table(), values.column()),
        ("sessions", Some("user_email"))
    );
    assert!(values.values_changed() > 0, "{values}");
    assert!(
        values
            .examples()
            .iter()
            .all(|e| e.starts_with("id ") && e.contains(" → ")),
        "{values}"
    );
    assert!(!rows.by_down_script() && !values.by_down_script());

    let text = report.to_string();
    assert!(
        text.contains("; 50 generated rows in 1 table, changed as expected:\n    sessions: "),
        "{text}"
    );
    assert!(text.contains("\n    sessions.user_email: "), "{text}");

    // The same for a rebuild that loses a column, and for a down script that loses rows.
    let drops = Migrations::from_dir(test_migrations("data_drops_column"))?;
    let report = Replay::new(&drops)
        .with_data(options())
        .expect_changes(2)
        .run()?;
    let changes = report.steps()[1].data_changes();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].column(), Some("bio"));

    let down = Migrations::from_dir(test_migrations("data_down_loses_rows"))?;
    let report = Replay::new(&down)
        .with_data(options())
        .expect_changes(2)
        .run()?;
    let changes = report.steps()[1].data_changes();
    assert!(
        changes.len() == 1 && changes[0].by_down_script() && changes[0].rows_lost() > 0,
        "{changes:?}"
    );
    assert!(
        report.to_string().contains("\n    down script: users: "),
        "{report}"
    );
    Ok(())
}

#[test]
fn the_same_seed_gives_the_same_rows_and_report_and_another_seed_other_rows() -> TestResult {
    let m = example_migrations()?;
    let first = replay::check_with_data(&m, options())?;
    let again = replay::check_with_data(&m, options())?;
    assert_eq!(first, again);
    let other = replay::check_with_data(&m, options().seed(8))?;
    assert_ne!(first, other);

    let sql = |report: &ReplayReport| {
        report
            .generated_at_latest()
            .map(|g| g.sql())
            .unwrap_or_default()
    };
    assert_eq!(sql(&first), sql(&again));
    assert_ne!(sql(&first), sql(&other));

    // `fill` on its own: the same rows in two databases, other rows with another seed.
    let fill = |seed: u64| -> Result<String, Box<dyn std::error::Error>> {
        let db = TestDb::new(&m)?;
        Ok(options().seed(seed).fill(&db)?.sql())
    };
    assert_eq!(fill(7)?, fill(7)?);
    assert_ne!(fill(7)?, fill(8)?);

    // A failure names the same rows every time.
    let a = data_failure("data_unique")?;
    let b = data_failure("data_unique")?;
    assert_eq!(a.detail, b.detail);
    assert_eq!(a.take_script()?, b.take_script()?);
    Ok(())
}

#[test]
fn generated_rows_are_awkward_but_legal() -> TestResult {
    let m = Migrations::from_migrations([refinery::Migration::unapplied(
        "V1__awkward",
        r#"
        CREATE TABLE teams (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL COLLATE NOCASE UNIQUE,
            captain_id INTEGER REFERENCES people (id) DEFERRABLE INITIALLY DEFERRED,
            slug TEXT NOT NULL CHECK (slug GLOB '[a-z]*' AND slug = lower(slug)),
            CONSTRAINT name_is_long_enough CHECK (length(name) >= 3)
        );
        CREATE TABLE people (
            id INTEGER PRIMARY KEY,
            team_id INTEGER NOT NULL REFERENCES teams (id),
            mentor_id INTEGER REFERENCES people (id),
            age INTEGER NOT NULL CHECK (age BETWEEN 18 AND 130),
            score REAL CHECK (score >= 0.0 AND score <= 1.0),
            data TEXT CHECK (data IS NULL OR json_valid(data)),
            code TEXT NOT NULL,
            upper_code TEXT GENERATED ALWAYS AS (upper(code)) VIRTUAL,
            note TEXT,
            balance INTEGER
        );
        CREATE UNIQUE INDEX people_code_uq ON people (lower(code));
        CREATE TABLE profiles (person_id INTEGER PRIMARY KEY REFERENCES people (id), bio TEXT NOT NULL DEFAULT '');
        CREATE TABLE memberships (
            person_id INTEGER NOT NULL REFERENCES people (id),
            team_id INTEGER NOT NULL REFERENCES teams (id),
            role TEXT NOT NULL CHECK (role IN ('owner', 'member')),
            PRIMARY KEY (person_id, team_id)
        ) WITHOUT ROWID;
        CREATE TABLE typed (k INTEGER PRIMARY KEY, t TEXT NOT NULL, r REAL, b BLOB, a ANY) STRICT;
        CREATE TABLE chain (id INTEGER PRIMARY KEY, previous_id INTEGER NOT NULL REFERENCES chain (id));
        CREATE TABLE periods (starts_on DATE NOT NULL, ends_on DATE NOT NULL, CHECK (ends_on > starts_on));
        CREATE TABLE log (id INTEGER PRIMARY KEY, message TEXT NOT NULL);
        CREATE TRIGGER people_log AFTER INSERT ON people BEGIN INSERT INTO log (message) VALUES ('new ' || NEW.id); END;
        "#,
    )?])?;
    let db = TestDb::new(&m)?;
    let rows = DataOptions::default().rows_per_table(50).fill(&db)?;
    for table in rows.tables() {
        assert_eq!(
            (table.inserted(), table.skipped()),
            (50, 0),
            "{}: {:?}",
            table.table(),
            table.skip_reason()
        );
    }
    // Parents first: teams (its captain left NULL: a cycle) before people before profiles.
    let order: Vec<&str> = rows.tables().iter().map(|t| t.table()).collect();
    let at = |name: &str| order.iter().position(|t| *t == name);
    assert!(
        at("teams") < at("people") && at("people") < at("profiles"),
        "{order:?}"
    );

    let conn = db.connect()?;
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0));
    assert_eq!(count("SELECT count(*) FROM pragma_foreign_key_check")?, 0);
    assert_eq!(
        count("SELECT count(*) FROM log")?,
        100,
        "50 generated, 50 by the trigger"
    );
    assert!(
        count("SELECT count(*) FROM people WHERE note = ''")? > 0,
        "empty strings"
    );
    assert!(
        count("SELECT count(*) FROM people WHERE note IS NULL")? > 0,
        "NULLs"
    );
    assert!(
        count("SELECT count(*) FROM people WHERE length(note) > 1000")? > 0,
        "long text"
    );
    assert!(
        count("SELECT count(*) FROM people WHERE length(CAST(note AS BLOB)) > length(note)")? > 0,
        "unicode"
    );
    assert!(
        count("SELECT count(*) FROM people WHERE balance < 0")? > 0,
        "negative numbers"
    );
    assert!(
        count("SELECT count(*) FROM people WHERE balance > 2147483647 OR balance < -2147483648")?
            > 0,
        "huge numbers"
    );
    assert!(
        count(
            "SELECT max(n) FROM (SELECT count(*) AS n FROM people WHERE note IS NOT NULL GROUP BY note)"
        )? > 1,
        "repeats"
    );
    assert_eq!(
        count("SELECT count(DISTINCT typeof(a)) FROM typed")?,
        count(
            "SELECT count(DISTINCT typeof(a)) FROM typed WHERE typeof(a) IN ('integer', 'real', 'text', 'blob', 'null')"
        )?,
    );
    assert!(
        count("SELECT count(DISTINCT typeof(a)) FROM typed")? >= 3,
        "mixed types in ANY"
    );
    Ok(())
}

#[test]
fn rows_that_cannot_be_inserted_are_skipped_and_counted() -> TestResult {
    let m = Migrations::from_migrations([
        refinery::Migration::unapplied(
            "V1__impossible",
            "CREATE TABLE impossible (x INTEGER NOT NULL CHECK (x > 10 AND x < 5));",
        )?,
        refinery::Migration::unapplied("V2__possible", "CREATE TABLE possible (y TEXT);")?,
    ])?;
    let report = replay::check_with_data(&m, DataOptions::default().rows_per_table(4))?;
    let before_v2 = report.steps()[1].generated().ok_or("no rows")?;
    let impossible = &before_v2.tables()[0];
    assert_eq!(
        (
            impossible.table(),
            impossible.inserted(),
            impossible.skipped()
        ),
        ("impossible", 0, 4)
    );
    assert_eq!(
        impossible.skip_reason(),
        Some("CHECK constraint failed: x > 10 AND x < 5")
    );
    let text = report.to_string();
    assert!(
        text.contains("; 0 generated rows in 1 table (4 skipped) kept"),
        "{text}"
    );
    Ok(())
}

#[test]
fn data_bearing_migrations_that_keep_the_data_pass() -> TestResult {
    // V4 fills two new columns from full_name, V5 drops full_name: no row or kept value is
    // lost; a column that is gone is not compared.
    let m = Migrations::from_dir(test_migrations("upgrade"))?;
    let report = replay::check_with_data(&m, options())?;
    assert!(report.steps().iter().all(|s| s.data_changes().is_empty()));
    // Before V5: 50 orders, and 62 users: 50 written before V4 split the names (their new
    // columns filled by V4 itself) and a quarter batch of 12 written after, with both
    // columns set.
    let before_v5 = report.steps()[4].generated().ok_or("no rows")?;
    let rows: Vec<(&str, usize)> = before_v5
        .tables()
        .iter()
        .map(|t| (t.table(), t.inserted()))
        .collect();
    assert_eq!(rows, [("users", 62), ("orders", 50)]);
    Ok(())
}

#[test]
fn schema_checks_run_first_and_fail_as_in_check() -> TestResult {
    let m = Migrations::from_dir(test_migrations("down_forgets_index"))?;
    let err = replay::check_with_data(&m, options())
        .err()
        .ok_or("passed")?;
    let checks: Vec<Check> = err
        .report()
        .map(|r| r.findings().iter().map(|f| f.check()).collect())
        .unwrap_or_default();
    assert_eq!(checks, [Check::DownLeavesTrace], "{err}");
    Ok(())
}

/// The findings of `check_with_data` with the default options on migrations given as
/// `(file name, SQL)`; their scripts removed.
fn findings_with_data(
    files: &[(&str, &str)],
) -> Result<Vec<sqlite_testdb::replay::Finding>, Box<dyn std::error::Error>> {
    findings_with(files, |_| {})
}

/// The findings of the checks with data, set up further by `configure`, on migrations given
/// as `(file name, SQL)`; their scripts went with the report.
fn findings_with(
    files: &[(&str, &str)],
    configure: impl FnOnce(&mut Replay<'_>),
) -> Result<Vec<sqlite_testdb::replay::Finding>, Box<dyn std::error::Error>> {
    let dir = common::folder(files)?;
    let m = Migrations::from_dir(dir.path())?;
    let mut replay = Replay::new(&m);
    replay.with_data(DataOptions::default());
    configure(&mut replay);
    let found: Vec<sqlite_testdb::replay::Finding> = match replay.run() {
        Ok(_) => Vec::new(),
        Err(e) => e
            .report()
            .ok_or_else(|| format!("not a finding: {e}"))?
            .findings()
            .into_iter()
            .cloned()
            .collect(),
    };
    Ok(found)
}

#[test]
fn a_unique_index_over_emails_nothing_kept_unique_is_caught_naming_two_rows() -> TestResult {
    let found = findings_with_data(&[
        (
            "V1__contacts.sql",
            "CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT);",
        ),
        (
            "V2__one_contact_per_email.sql",
            "CREATE UNIQUE INDEX contacts_email_uq ON contacts (email);",
        ),
    ])?;
    let [finding] = found.as_slice() else {
        panic!("{found:#?}")
    };
    assert_eq!(
        (finding.version(), finding.table(), finding.column()),
        (2, Some("contacts"), Some("email"))
    );
    let detail = finding.detail();
    assert!(
        detail.starts_with("UNIQUE constraint failed: contacts.email\n"),
        "{detail}"
    );
    assert!(
        detail.contains(
            "the generated rows of contacts repeat email as the new index compares them: "
        ),
        "{detail}"
    );
    let pair = detail
        .lines()
        .find_map(|l| l.strip_prefix("two rows that collide: "))
        .ok_or("no colliding rows")?;
    let rows: Vec<&str> = pair.split(" and ").collect();
    assert_eq!(rows.len(), 2, "{pair}");
    assert!(
        rows.iter().all(|r| r.starts_with("(id, email, name) = (")),
        "{pair}"
    );
    Ok(())
}

#[test]
fn a_nocase_unique_index_over_emails_differing_only_in_case_is_caught() -> TestResult {
    // Unique as stored (bytes), so no email repeats exactly: only in case.
    let found = findings_with_data(&[
        (
            "V1__contacts.sql",
            "CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);",
        ),
        (
            "V2__emails_without_case.sql",
            "CREATE UNIQUE INDEX contacts_email_nocase ON contacts (email COLLATE NOCASE);",
        ),
    ])?;
    let [finding] = found.as_slice() else {
        panic!("{found:#?}")
    };
    assert_eq!(
        (finding.table(), finding.column()),
        (Some("contacts"), Some("email"))
    );
    let pair = finding
        .detail()
        .lines()
        .find_map(|l| l.strip_prefix("two rows that collide: "))
        .ok_or("no colliding rows")?;
    // The two emails shown are equal but for case.
    let emails: Vec<&str> = pair
        .split(" and ")
        .filter_map(|row| row.split_once(", '")?.1.strip_suffix("')"))
        .collect();
    let [a, b] = emails.as_slice() else {
        panic!("{pair}")
    };
    assert!(a != b && a.eq_ignore_ascii_case(b), "{pair}");
    Ok(())
}

#[test]
fn a_reference_kept_before_it_is_declared_is_respected_by_the_generated_rows() -> TestResult {
    // notes.team_uuid names teams, which V2 creates; V3 declares the reference. The
    // application could only have written team keys there (or NULL): no finding.
    let found = findings_with_data(&[
        (
            "V1__notes.sql",
            "CREATE TABLE notes (uuid TEXT NOT NULL PRIMARY KEY, body TEXT NOT NULL, team_uuid TEXT);",
        ),
        (
            "V2__teams.sql",
            "CREATE TABLE teams (uuid TEXT NOT NULL PRIMARY KEY, name TEXT NOT NULL);\n\
             CREATE TABLE members (id INTEGER PRIMARY KEY, team_uuid TEXT NOT NULL, user_name TEXT);",
        ),
        (
            "V3__declare_references.sql",
            "ALTER TABLE notes RENAME TO notes_old;\n\
             CREATE TABLE notes (uuid TEXT NOT NULL PRIMARY KEY, body TEXT NOT NULL, team_uuid TEXT REFERENCES teams (uuid));\n\
             INSERT INTO notes (uuid, body, team_uuid) SELECT uuid, body, team_uuid FROM notes_old;\n\
             DROP TABLE notes_old;\n\
             ALTER TABLE members RENAME TO members_old;\n\
             CREATE TABLE members (id INTEGER PRIMARY KEY, team_uuid TEXT NOT NULL REFERENCES teams (uuid), user_name TEXT);\n\
             INSERT INTO members SELECT * FROM members_old;\n\
             DROP TABLE members_old;",
        ),
    ])?;
    assert!(found.is_empty(), "{found:#?}");

    // A name that says nothing is not followed: random values, and V2 meets orphans.
    let found = findings_with_data(&[
        (
            "V1__tables.sql",
            "CREATE TABLE teams (uuid TEXT NOT NULL PRIMARY KEY);\n\
             CREATE TABLE notes (id INTEGER PRIMARY KEY, owner_group TEXT NOT NULL);",
        ),
        (
            "V2__declare.sql",
            "ALTER TABLE notes RENAME TO notes_old;\n\
             CREATE TABLE notes (id INTEGER PRIMARY KEY, owner_group TEXT NOT NULL REFERENCES teams (uuid));\n\
             INSERT INTO notes SELECT * FROM notes_old;\nDROP TABLE notes_old;",
        ),
    ])?;
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].column(), Some("owner_group"));
    Ok(())
}

#[test]
fn a_column_whose_type_changes_keeps_its_numbers() -> TestResult {
    // INTEGER to REAL and INTEGER to TEXT: 1 is stored as 1.0, 42 as '42', the same values.
    let found = findings_with_data(&[
        (
            "V1__parts.sql",
            "CREATE TABLE parts (id INTEGER PRIMARY KEY, qty INTEGER NOT NULL DEFAULT 0, code INTEGER NOT NULL);",
        ),
        (
            "V2__retype.sql",
            "-- sqlite-testdb: allow column-type-changed\n\
             ALTER TABLE parts RENAME TO parts_old;\n\
             CREATE TABLE parts (id INTEGER PRIMARY KEY, qty REAL NOT NULL DEFAULT 0, code TEXT NOT NULL);\n\
             INSERT INTO parts (id, qty, code) SELECT id, qty, code FROM parts_old;\n\
             DROP TABLE parts_old;",
        ),
    ])?;
    assert!(found.iter().all(|f| f.acknowledged()), "{found:#?}");
    // A text that only looks like a number is a change: '007' is not 7.
    let found = findings_with_data(&[
        (
            "V1__codes.sql",
            "CREATE TABLE codes (id INTEGER PRIMARY KEY, code TEXT NOT NULL);",
        ),
        ("V2__seed.sql", "INSERT INTO codes (code) VALUES ('007');"),
        (
            "V3__numbers.sql",
            "ALTER TABLE codes RENAME TO codes_old;\n\
             CREATE TABLE codes (id INTEGER PRIMARY KEY, code INTEGER NOT NULL);\n\
             INSERT INTO codes SELECT * FROM codes_old;\nDROP TABLE codes_old;",
        ),
    ])?;
    assert!(
        found.iter().any(|f| f.version() == 3
            && f.column() == Some("code")
            && f.detail().contains("'007' → 7")),
        "{found:#?}"
    );
    Ok(())
}

#[test]
fn a_rebuild_of_a_referenced_table_passes_with_foreign_keys_off_as_the_application_runs_it()
-> TestResult {
    let dir = common::folder(&[
        (
            "V1__lists.sql",
            "CREATE TABLE lists (id INTEGER PRIMARY KEY, title TEXT NOT NULL, pinned INTEGER NOT NULL DEFAULT 0);\n\
             CREATE TABLE items (id INTEGER PRIMARY KEY, list_id INTEGER NOT NULL REFERENCES lists (id) ON DELETE CASCADE, label TEXT);",
        ),
        (
            "V2__drop_pinned.sql",
            "-- sqlite-testdb: allow column-dropped\n\
             CREATE TABLE lists_new (id INTEGER PRIMARY KEY, title TEXT NOT NULL);\n\
             INSERT INTO lists_new (id, title) SELECT id, title FROM lists;\n\
             DROP TABLE lists;\nALTER TABLE lists_new RENAME TO lists;",
        ),
    ])?;
    let m = Migrations::from_dir(dir.path())?;
    // Foreign keys on: dropping the old lists cascades to every item.
    let err = replay::check_with_data(&m, DataOptions::default())
        .err()
        .ok_or("the cascade went unnoticed")?;
    let report = err.report().ok_or("not a finding")?;
    let finding = report
        .findings()
        .into_iter()
        .find(|f| f.fails())
        .ok_or("no failing finding")?;
    assert_eq!(
        (finding.check(), finding.table()),
        (Check::DataLost, Some("items"))
    );
    // Off, as SQLite's procedure for table changes says: the items stay.
    replay::Replay::new(&m)
        .with_data(DataOptions::default())
        .foreign_keys_off()
        .run()?;
    Ok(())
}

#[test]
fn a_migration_that_mangles_text_is_caught() -> TestResult {
    // `+` adds numbers in SQLite: CHAR(13) + CHAR(10) is 0, so every '0' becomes '<br>'.
    let found = findings_with_data(&[
        (
            "V1__items.sql",
            "CREATE TABLE items (id INTEGER PRIMARY KEY, notes TEXT);",
        ),
        (
            "V2__line_breaks.sql",
            "UPDATE items SET notes = replace(notes, char(13) + char(10), '<br>');",
        ),
    ])?;
    assert!(
        found.iter().any(|f| f.check() == Check::DataLost
            && f.column() == Some("notes")
            && f.detail().contains("<br>")),
        "{found:#?}"
    );
    Ok(())
}

#[test]
fn a_migration_that_never_ends_over_rows_is_stopped_and_reported() -> TestResult {
    // Counting up from every row never ends; over an empty table there is nothing to count.
    let endless = "CREATE TABLE counted AS WITH RECURSIVE up(n) AS \
                   (SELECT n FROM numbers UNION ALL SELECT n + 1 FROM up) SELECT count(*) AS c FROM up;";
    let found = findings_with(
        &[
            ("V1__numbers.sql", "CREATE TABLE numbers (n INTEGER);"),
            ("V2__count_up.sql", endless),
            ("V3__words.sql", "CREATE TABLE words (w TEXT);"),
        ],
        |replay| {
            replay.time_limit(Duration::from_millis(300));
        },
    )?;
    let [finding] = found.as_slice() else {
        panic!("{found:#?}")
    };
    assert_eq!((finding.version(), finding.check()), (2, Check::TimeLimit));
    assert!(
        finding
            .detail()
            .starts_with("stopped after 300ms over 20 generated rows"),
        "{}",
        finding.detail()
    );
    Ok(())
}

#[test]
fn a_down_script_that_never_ends_over_rows_is_stopped_and_reported() -> TestResult {
    let endless = "DROP TABLE flags;\nCREATE TABLE counted AS WITH RECURSIVE up(n) AS \
                   (SELECT n FROM numbers UNION ALL SELECT n + 1 FROM up) SELECT count(*) AS c FROM up;\n\
                   DROP TABLE counted;";
    let found = findings_with(
        &[
            ("V1__numbers.sql", "CREATE TABLE numbers (n INTEGER);"),
            ("V2__flags.sql", "CREATE TABLE flags (f INTEGER);"),
            ("V2__flags.down.sql", endless),
        ],
        |replay| {
            replay.time_limit(Duration::from_millis(300));
        },
    )?;
    let [finding] = found.as_slice() else {
        panic!("{found:#?}")
    };
    assert_eq!(
        (finding.version(), finding.check()),
        (2, Check::DownTimeLimit)
    );
    Ok(())
}

#[test]
fn rows_that_reference_one_table_twice_form_no_cycle() -> TestResult {
    // A recipe includes other recipes; the view walks the inclusions down. Rows in a cycle
    // (a includes b includes a) would make it endless; the application never writes them.
    let dir = common::folder(&[
        (
            "V1__recipes.sql",
            "CREATE TABLE recipes (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n\
             CREATE TABLE recipe_nestings (id INTEGER PRIMARY KEY,\n\
                 recipe_id INTEGER NOT NULL REFERENCES recipes (id),\n\
                 includes_recipe_id INTEGER NOT NULL REFERENCES recipes (id));",
        ),
        (
            "V2__resolved.sql",
            "CREATE VIEW recipes_resolved AS WITH RECURSIVE walk(top, recipe) AS (\n\
                 SELECT id, id FROM recipes\n\
                 UNION ALL\n\
                 SELECT walk.top, n.includes_recipe_id FROM walk\n\
                 JOIN recipe_nestings AS n ON n.recipe_id = walk.recipe)\n\
             SELECT top, recipe FROM walk;\n\
             CREATE TABLE resolved_counts AS SELECT top, count(*) AS n FROM recipes_resolved GROUP BY top;",
        ),
    ])?;
    let m = Migrations::from_dir(dir.path())?;
    let report = Replay::new(&m)
        .with_data(DataOptions::default())
        .time_limit(Duration::from_secs(60))
        .run()?;
    let before_v2 = report.steps()[1].generated().ok_or("no rows")?;
    let nestings = before_v2
        .tables()
        .iter()
        .find(|t| t.table() == "recipe_nestings")
        .ok_or("no nestings")?;
    assert_eq!((nestings.inserted(), nestings.skipped()), (20, 0));
    // Every nesting points the same way in key order (which way is the generator's
    // choice), never at its own recipe: no cycle.
    let db = TestDb::new(&m)?;
    DataOptions::default().fill(&db)?;
    let (forward, backward, total): (i64, i64, i64) = db.connect()?.query_row(
        "SELECT sum(includes_recipe_id > recipe_id), sum(includes_recipe_id < recipe_id), \
         count(*) FROM recipe_nestings",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    assert_eq!(total, 20);
    assert!(
        (forward, backward) == (20, 0) || (forward, backward) == (0, 20),
        "{forward} forward, {backward} backward"
    );
    Ok(())
}

#[test]
fn a_table_whose_trigger_refuses_every_row_is_counted_and_not_refilled() -> TestResult {
    let dir = common::folder(&[
        (
            "V1__locked.sql",
            "CREATE TABLE locked (id INTEGER PRIMARY KEY, v TEXT);\n\
             CREATE TRIGGER locked_insert BEFORE INSERT ON locked\n\
             BEGIN SELECT RAISE(ABORT, 'locked is written by the application only'); END;",
        ),
        (
            "V2__notes.sql",
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);",
        ),
        (
            "V3__tags.sql",
            "CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT);",
        ),
    ])?;
    let m = Migrations::from_dir(dir.path())?;
    let report = replay::check_with_data(&m, DataOptions::default())?;
    let locked = |step: usize| -> Result<(usize, usize), Box<dyn std::error::Error>> {
        let generated = report.steps()[step].generated().ok_or("no rows")?;
        let table = generated
            .tables()
            .iter()
            .find(|t| t.table() == "locked")
            .ok_or("no locked")?;
        Ok((table.inserted(), table.skipped()))
    };
    // Its batch before V2 is refused, all of it counted; after that it is not tried again.
    assert_eq!(locked(1)?, (0, 20));
    assert_eq!(locked(2)?, (0, 20));
    let skip = report.steps()[1].generated().ok_or("no rows")?.tables()[0]
        .skip_reason()
        .map(str::to_owned);
    assert_eq!(
        skip.as_deref(),
        Some("locked is written by the application only")
    );
    Ok(())
}

#[test]
fn rows_left_referencing_nothing_are_reported_once_at_the_version_that_left_them() -> TestResult {
    let dir = common::folder(&[
        (
            "V1__teams.sql",
            "CREATE TABLE teams (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n\
             CREATE TABLE members (id INTEGER PRIMARY KEY, team_id INTEGER NOT NULL REFERENCES teams (id), name TEXT);",
        ),
        // With foreign keys off, deleting teams leaves their members behind.
        (
            "V2__drop_odd_teams.sql",
            "DELETE FROM teams WHERE id % 2 = 1;",
        ),
        // Later migrations over the same tables do not name those members again.
        (
            "V3__member_roles.sql",
            "ALTER TABLE members ADD COLUMN role TEXT;",
        ),
        (
            "V4__team_slugs.sql",
            "ALTER TABLE teams ADD COLUMN slug TEXT;",
        ),
    ])?;
    let m = Migrations::from_dir(dir.path())?;
    let err = replay::Replay::new(&m)
        .with_data(DataOptions::default())
        .expect_changes(2)
        .foreign_keys_off()
        .run()
        .err()
        .ok_or("the orphans went unnoticed")?;
    let report = err.report().ok_or("not a finding")?;
    let found: Vec<(i32, Check, Option<&str>)> = report
        .findings()
        .iter()
        .map(|f| (f.version(), f.check(), f.table()))
        .collect();
    assert_eq!(
        found,
        [(2, Check::ForeignKeyCheck, Some("members"))],
        "{err}"
    );
    Ok(())
}

#[test]
fn a_rebuild_into_a_numbered_copy_that_adds_unique_names_the_repeats_of_the_original() -> TestResult
{
    let found = findings_with_data(&[
        (
            "V1__blogs.sql",
            "CREATE TABLE blogs (id INTEGER PRIMARY KEY, title TEXT NOT NULL, ap_url TEXT NOT NULL DEFAULT '');",
        ),
        (
            "V2__unique_urls.sql",
            "CREATE TABLE blogs2 (id INTEGER PRIMARY KEY, title TEXT NOT NULL, ap_url TEXT NOT NULL DEFAULT '' UNIQUE);\n\
             INSERT INTO blogs2 SELECT * FROM blogs;\nDROP TABLE blogs;\nALTER TABLE blogs2 RENAME TO blogs;",
        ),
    ])?;
    let [finding] = found.as_slice() else {
        panic!("{found:#?}")
    };
    assert_eq!(
        (finding.version(), finding.table(), finding.column()),
        (2, Some("blogs2"), Some("ap_url"))
    );
    assert!(
        finding
            .detail()
            .contains("the generated rows of blogs repeat ap_url as stored: "),
        "{}",
        finding.detail()
    );
    Ok(())
}

#[test]
fn reproduction_scripts_go_with_the_report_unless_kept_or_asked_for() -> TestResult {
    let m = Migrations::from_dir(test_migrations("data_unique"))?;

    // No folder asked for: one in the temp folder, owned by the report (here by the error
    // carrying it), gone once it is dropped.
    let err = replay::check_with_data(&m, options())
        .err()
        .ok_or("passed")?;
    let report = err.report().ok_or("not a finding")?;
    let folder = report.scripts_folder().ok_or("no scripts")?.to_path_buf();
    let script = report.findings()[0]
        .script()
        .ok_or("no script")?
        .to_path_buf();
    assert_eq!(script.parent(), Some(folder.as_path()));
    assert!(
        folder.starts_with(std::env::temp_dir()),
        "{}",
        folder.display()
    );
    let name = folder.file_name().map(|n| n.to_string_lossy().into_owned());
    assert!(name.is_some_and(|n| n.starts_with("sqlite-testdb-replay-")));
    assert!(script.is_file());
    let clone = report.clone();
    drop(err);
    assert!(script.is_file(), "a clone of the report still holds it");
    drop(clone);
    assert!(!folder.exists(), "{} left behind", folder.display());

    // Asked for: the scripts are in the given folder, which stays.
    let artifacts = tempfile::tempdir()?;
    let asked = artifacts.path().join("scripts");
    let err = Replay::new(&m)
        .with_data(options())
        .scripts_in(&asked)
        .run()
        .err()
        .ok_or("passed")?;
    let report = err.report().ok_or("not a finding")?;
    assert_eq!(report.scripts_folder(), Some(asked.as_path()));
    let script = report.findings()[0]
        .script()
        .ok_or("no script")?
        .to_path_buf();
    assert_eq!(script, asked.join("V2__one_user_per_team.sql"));
    drop(err);
    assert!(script.is_file());

    // Kept: the folder outlives the report.
    let err = replay::check_with_data(&m, options())
        .err()
        .ok_or("passed")?;
    let kept = err
        .report()
        .and_then(|r| r.keep_scripts())
        .ok_or("no scripts")?
        .to_path_buf();
    drop(err);
    assert!(kept.join("V2__one_user_per_team.sql").is_file());
    std::fs::remove_dir_all(kept)?;
    Ok(())
}
