//! `replay::check`: whole migration sets, good and deliberately bad.
#![cfg(feature = "check")]

use crate::common;
use std::time::Duration;

use crate::common::{example_migrations, test_migrations};
use sqlite_testdb::replay::{self, Check, Down, Finding, Replay};
use sqlite_testdb::{DataOptions, Error, Migrations, TestDb};

type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// Every finding of `replay::check` on the set `set`; an error when it passes.
fn findings_of(m: &Migrations) -> Result<Vec<Finding>, Box<dyn std::error::Error>> {
    match replay::check(m) {
        Err(Error::Findings { report }) => Ok(report.findings().into_iter().cloned().collect()),
        Err(other) => Err(other.into()),
        Ok(_) => Err("the set passed replay::check".into()),
    }
}

/// The one finding of `replay::check` on the test set `set`.
fn only_finding(set: &str) -> Result<Finding, Box<dyn std::error::Error>> {
    let found = findings_of(&Migrations::from_dir(test_migrations(set))?)?;
    match <[Finding; 1]>::try_from(found) {
        Ok([finding]) => Ok(finding),
        Err(found) => Err(format!("{set}: expected one finding, got {found:#?}").into()),
    }
}

/// The migration, check and detail of the one finding of `set`.
fn replay_failure(set: &str) -> Result<(String, Check, String), Box<dyn std::error::Error>> {
    let finding = only_finding(set)?;
    Ok((
        finding.migration().to_owned(),
        finding.check(),
        finding.detail().to_owned(),
    ))
}

#[test]
fn example_migrations_pass_every_replay_check() -> TestResult {
    let m = example_migrations()?;
    let report = replay::check(&m)?;
    assert_eq!(report.steps().len(), 7);
    assert!(report.steps().iter().all(|s| s.down() == Down::Reverses));
    assert!(report.without_down_script().is_empty());
    assert!(report.irreversible().is_empty());
    let text = report.to_string();
    assert_eq!(text.lines().count(), 8, "{text}");
    assert!(
        text.lines()
            .next()
            .is_some_and(|l| l.starts_with("V1__users ")
                && l.ends_with("applies; integrity ok; foreign keys ok; down reverses it")),
        "{text}"
    );
    Ok(())
}

#[test]
fn report_lists_missing_and_irreversible_down_scripts() -> TestResult {
    let upgrade = replay::check(&Migrations::from_dir(test_migrations("upgrade"))?)?;
    assert_eq!(upgrade.without_down_script(), [5]);
    assert!(upgrade.to_string().contains("V5__drop_full_name"));

    let irreversible = replay::check(&Migrations::from_dir(test_migrations("irreversible"))?)?;
    assert_eq!(irreversible.irreversible(), [2]);
    assert!(
        irreversible
            .to_string()
            .contains("down script is only comments: irreversible"),
        "{irreversible}"
    );
    Ok(())
}

#[test]
fn down_script_that_forgets_an_index_fails_naming_it() -> TestResult {
    let finding = only_finding("down_forgets_index")?;
    let (migration, file, check, detail) = (
        finding.migration(),
        finding.file(),
        finding.check(),
        finding.detail(),
    );
    assert_eq!(migration, "V2__profiles");
    assert!(file.is_some_and(|f| f.ends_with("V2__profiles.sql")));
    assert_eq!(check, Check::DownLeavesTrace);
    assert!(
        detail.contains("+create index users_email_idx on users(email);"),
        "{detail}"
    );
    let text = finding.to_string();
    assert!(
        text.starts_with("replay check failed at V2__profiles ("),
        "{text}"
    );
    assert!(
        text.contains("--- before up\n+++ after up and down"),
        "{text}"
    );
    Ok(())
}

#[test]
fn migration_that_cannot_run_again_after_its_down_script_fails() -> TestResult {
    let (migration, check, detail) = replay_failure("not_replayable")?;
    assert_eq!(migration, "V2__default_theme");
    assert_eq!(check, Check::RedoMustApply);
    assert!(
        detail.contains("UNIQUE constraint failed: settings.key"),
        "{detail}"
    );
    Ok(())
}

#[test]
fn migration_that_leaves_an_orphan_fails_the_foreign_key_check_naming_the_table() -> TestResult {
    let (migration, check, detail) = replay_failure("breaks_foreign_key")?;
    assert_eq!(migration, "V2__rebuild_users");
    assert_eq!(check, Check::ForeignKeyCheck);
    assert_eq!(
        detail,
        "table posts: rowid 1 references a missing row of users"
    );
    Ok(())
}

#[test]
fn migration_with_a_syntax_error_fails_naming_version_and_file() -> TestResult {
    let m = Migrations::from_dir(test_migrations("broken_v4"))?;
    let err = replay::check(&m).err().ok_or("a broken V4 passed")?;
    let report = err.report().ok_or("not a finding")?;
    let finding = report.findings()[0];
    assert_eq!(
        (finding.migration(), finding.check()),
        ("V4__invites", Check::MustApply)
    );
    assert!(
        finding.detail().contains("applied before it: up to V3"),
        "{}",
        finding.detail()
    );
    assert!(report.to_string().contains("V4__invites.sql"), "{report}");
    assert!(
        err.to_string().ends_with(": V4 must-apply; V5 not checked"),
        "{err}"
    );
    // Nothing after a migration that does not apply can be checked.
    let checked: Vec<(i32, bool)> = report
        .steps()
        .iter()
        .map(|s| (s.version(), s.checked()))
        .collect();
    assert_eq!(
        checked,
        [(1, true), (2, true), (3, true), (4, true), (5, false)]
    );
    Ok(())
}

#[test]
fn step_by_step_differs_from_all_at_once_when_a_migration_leaves_connection_state() -> TestResult {
    // V2 leaves `legacy_alter_table` on for the rest of the connection; V3's rename then
    // behaves differently all at once (one connection) than step by step (one each).
    let m = Migrations::from_migrations([
        refinery::Migration::unapplied(
            "V1__tables",
            "CREATE TABLE a(id INTEGER PRIMARY KEY); \
             CREATE VIEW a_ids AS SELECT id FROM a;",
        )?,
        refinery::Migration::unapplied("V2__legacy", "PRAGMA legacy_alter_table = ON;")?,
        refinery::Migration::unapplied(
            "V3__rename",
            "-- sqlite-testdb: allow table-renamed\nALTER TABLE a RENAME TO b;",
        )?,
    ])?;
    let err = replay::check(&m).err().ok_or("passed")?;
    let text = err.report().map(ToString::to_string).unwrap_or_default();
    let checks: Vec<(Check, bool)> = err
        .report()
        .map(|r| {
            r.findings()
                .iter()
                .map(|f| (f.check(), f.acknowledged()))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        checks,
        [
            (Check::TableRenamed, true),
            (Check::StepByStepDiffers, false)
        ],
        "{text}"
    );
    assert!(text.contains("--- all at once\n+++ step by step"), "{text}");
    Ok(())
}

#[test]
fn replay_builder_honours_every_setting() -> TestResult {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use rusqlite::functions::FunctionFlags;
    use sqlite_testdb::DataOptions;
    use sqlite_testdb::replay::Replay;

    let m = Migrations::from_migrations([
        refinery::Migration::unapplied(
            "V1__users",
            "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT, n INTEGER DEFAULT (answer()));",
        )?,
        refinery::Migration::unapplied("V2__upper", "UPDATE users SET name = upper(name);")?,
    ])?;
    // The hook runs on every connection the replay opens, after the busy timeout is set.
    let timeouts = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&timeouts);
    let mut progress = Vec::new();
    let report = Replay::new(&m)
        .busy_timeout(Duration::from_millis(1234))
        .on_connect(move |conn| {
            let ms: i64 = conn.query_row("PRAGMA busy_timeout", [], |r| r.get(0))?;
            seen.lock()
                .map_err(|_| rusqlite::Error::InvalidQuery)?
                .push(ms);
            conn.create_scalar_function("answer", 0, FunctionFlags::SQLITE_DETERMINISTIC, |_| {
                Ok(42)
            })
        })
        .with_data(DataOptions::default().rows_per_table(7))
        .expect_changes(2)
        .progress(|p| progress.push((p.done, p.total, p.step.migration().to_owned())))
        .run()?;
    let timeouts = timeouts.lock().map_err(|_| "poisoned")?.clone();
    assert!(!timeouts.is_empty());
    assert!(timeouts.iter().all(|&ms| ms == 1234), "{timeouts:?}");
    assert_eq!(
        progress,
        [
            (1, 2, "V1__users".to_owned()),
            (2, 2, "V2__upper".to_owned())
        ]
    );
    assert_eq!(report.steps()[1].generated().map(|g| g.inserted()), Some(7));
    assert_eq!(report.steps()[1].data_changes()[0].column(), Some("name"));

    // Without the mark, the same replay fails at V2.
    let err = Replay::new(&m)
        .on_connect(|conn| {
            conn.create_scalar_function("answer", 0, FunctionFlags::SQLITE_DETERMINISTIC, |_| {
                Ok(42)
            })
        })
        .with_data(DataOptions::default().rows_per_table(7))
        .run()
        .err()
        .ok_or("V2 changes every name")?;
    let finding = err
        .report()
        .map(|r| r.findings()[0].clone())
        .ok_or("not a finding")?;
    assert_eq!(finding.migration(), "V2__upper");
    Ok(())
}

#[test]
fn one_run_reports_every_failing_version() -> TestResult {
    let m = Migrations::from_dir(test_migrations("three_findings"))?;
    let err = replay::check_with_data(&m, sqlite_testdb::DataOptions::default())
        .err()
        .ok_or("three failing versions passed")?;
    let report = err.report().ok_or("not a finding")?;
    let findings: Vec<(i32, Check)> = report
        .findings()
        .iter()
        .map(|f| (f.version(), f.check()))
        .collect();
    assert_eq!(
        findings,
        [
            (2, Check::DownLeavesTrace),
            // Once: the down script that fails on the empty database is not run again
            // over rows.
            (3, Check::DownMustApply),
            (4, Check::DataLost),
        ],
        "{err}"
    );
    // Every version was checked, the whole set too.
    assert!(report.steps().iter().all(|s| s.checked()));
    assert_eq!(
        report.summary(),
        "3 of 4 migrations have findings: V2 down-leaves-trace, V3 down-must-apply, V4 data-lost"
    );
    // The error's message is one line; the report, one call away, has every finding in
    // full, then the summary.
    assert_eq!(
        err.to_string(),
        format!(
            "3 findings in 3 migrations of {}: V2 down-leaves-trace, V3 down-must-apply, \
             V4 data-lost",
            test_migrations("three_findings").display()
        )
    );
    let text = report.to_string();
    assert!(
        text.ends_with(&format!("\n{}\n", report.summary())),
        "{text}"
    );
    for needle in [
        "\n\nreplay check failed at V2__profiles (",
        "+create table profile_notes(",
        "\n\nreplay check failed at V3__tags (",
        "no such table: tag",
        "\n\nreplay with data failed at V4__purge_inactive (",
        "mark it: Replay::expect_changes(4))",
    ] {
        assert!(text.contains(needle), "{needle}: {text}");
    }

    // Without rows: the two schema findings.
    let err = replay::check(&m).err().ok_or("passed")?;
    let versions: Vec<i32> = err
        .report()
        .map(|r| r.findings().iter().map(|f| f.version()).collect())
        .unwrap_or_default();
    assert_eq!(versions, [2, 3]);

    // Stopping at the first: one finding, the rest not checked.
    let err = sqlite_testdb::replay::Replay::new(&m)
        .fail_fast()
        .run()
        .err()
        .ok_or("passed")?;
    let report = err.report().ok_or("not a finding")?;
    assert_eq!(report.findings().len(), 1);
    let checked: Vec<bool> = report.steps().iter().map(|s| s.checked()).collect();
    assert_eq!(checked, [true, true, false, false]);
    assert!(
        report
            .summary()
            .ends_with("; V3 to V4 not checked: stopped at the first finding"),
        "{}",
        report.summary()
    );
    Ok(())
}

#[test]
fn a_syntax_error_names_its_line_in_the_file_not_the_rest_of_the_script() -> TestResult {
    let dir = common::folder(&[
        (
            "V1__lists.sql",
            "CREATE TABLE lists (id INTEGER PRIMARY KEY, title TEXT);\n\
             CREATE TABLE items (id INTEGER PRIMARY KEY, list_id INTEGER)\n\
             CREATE INDEX items_list ON items (list_id);\n\
             CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT);\n",
        ),
        (
            "V2__notes.sql",
            "CREATE TABLE notes (id INTEGER PRIMARY KEY);",
        ),
        (
            "V2__notes.down.sql",
            "-- Undo V2.\nDROP TABLE notes;\nINSERT INTO SELECT * FROM lists;\nDROP TABLE lists;\n",
        ),
    ])?;
    // V1 fails: nothing after it is checked.
    let found = findings_of(&Migrations::from_dir(dir.path())?)?;
    let detail = found[0].detail();
    assert!(
        detail.contains(
            "near \"CREATE\": syntax error at line 3, column 1: \
             CREATE INDEX items_list ON items (list_id);"
        ),
        "{detail}"
    );
    assert!(!detail.contains("CREATE TABLE tags"), "{detail}");

    std::fs::write(
        dir.path().join("V1__lists.sql"),
        "CREATE TABLE lists (id INTEGER PRIMARY KEY, title TEXT);\n",
    )?;
    let found = findings_of(&Migrations::from_dir(dir.path())?)?;
    let detail = found[0].detail();
    assert_eq!(found[0].check(), Check::DownMustApply);
    assert!(
        detail.contains(
            "near \"SELECT\": syntax error at line 3, column 13: INSERT INTO SELECT * FROM lists;"
        ),
        "{detail}"
    );
    assert!(!detail.contains("DROP TABLE lists"), "{detail}");
    Ok(())
}

#[test]
fn a_finding_is_matched_by_its_check_variant_not_its_text() -> TestResult {
    let finding = only_finding("down_forgets_index")?;
    let what = match finding.check() {
        Check::DownLeavesTrace => "the down script leaves something behind",
        Check::MustApply | Check::DownMustApply => "a script fails",
        _ => "something else",
    };
    assert_eq!(what, "the down script leaves something behind");
    let check = finding.check();
    assert_eq!(check.code(), "down-leaves-trace");
    assert_eq!(Check::from_code(check.code()), Some(check));
    assert!(Check::ALL.contains(&check));
    assert!(!check.why().is_empty());
    // The text is the wording, as before the checks had variants.
    assert!(
        finding
            .to_string()
            .contains(": up then down must leave no trace")
    );
    Ok(())
}

/// The `first` and `second` setting of the `Error::ConflictingSettings` of `replay.run()`.
fn conflict(replay: &mut Replay<'_>) -> Result<(&'static str, &'static str), String> {
    match replay.run() {
        Err(Error::ConflictingSettings { first, second, .. }) => Ok((first, second)),
        other => Err(format!("expected conflicting settings, got {other:?}")),
    }
}

#[test]
fn replay_settings_that_cannot_combine_are_errors_naming_both() -> TestResult {
    let m = Migrations::from_dir(test_migrations("down_forgets_index"))?;
    let old = TestDb::builder(&m).version(1).build()?;

    let mut both = Replay::new(&m);
    both.with_data(DataOptions::default()).upgrade(old.path());
    assert_eq!(conflict(&mut both)?, ("with_data(..)", "upgrade(..)"));

    let mut nothing_to_change = Replay::new(&m);
    nothing_to_change.expect_changes(2);
    assert_eq!(
        conflict(&mut nothing_to_change)?,
        (
            "expect_changes(..)",
            "neither with_data(..) nor upgrade(..)"
        )
    );

    let mut no_rows_to_time = Replay::new(&m);
    no_rows_to_time.time_limit(Duration::from_secs(1));
    assert_eq!(
        conflict(&mut no_rows_to_time)?,
        ("time_limit(..)", "no with_data(..)")
    );

    let mut scripts_of_nothing = Replay::new(&m);
    scripts_of_nothing.scripts_in(std::env::temp_dir());
    assert_eq!(
        conflict(&mut scripts_of_nothing)?,
        ("scripts_in(..)", "no with_data(..)")
    );

    #[allow(deprecated)]
    let old_limit = DataOptions::default().time_limit(Duration::from_secs(2));
    let mut two_limits = Replay::new(&m);
    two_limits
        .with_data(old_limit)
        .time_limit(Duration::from_secs(1));
    assert_eq!(
        conflict(&mut two_limits)?,
        ("time_limit(..)", "DataOptions::time_limit(..)")
    );

    // The message names both and says why.
    let message = Replay::new(&m)
        .expect_changes(2)
        .run()
        .err()
        .ok_or("ran")?
        .to_string();
    assert!(message.contains("cannot be combined"), "{message}");
    Ok(())
}

#[test]
#[allow(deprecated)]
fn deprecated_data_options_settings_still_work_and_fill_does_not_ignore_them() -> TestResult {
    let m = Migrations::from_migrations([
        refinery::Migration::unapplied(
            "V1__users",
            "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);",
        )?,
        refinery::Migration::unapplied("V2__upper", "UPDATE users SET name = upper(name) || '!';")?,
    ])?;
    let old = DataOptions::default().rows_per_table(5).expect_changes(2);
    let report = replay::check_with_data(&m, old.clone())?;
    assert_eq!(report.steps()[1].data_changes()[0].values_changed(), 5);

    let db = TestDb::new(&m)?;
    let err = old.fill(&db).err().ok_or("fill ignored expect_changes")?;
    assert!(
        matches!(
            err,
            Error::ConflictingSettings {
                first: "DataOptions::expect_changes(..)",
                second: "DataOptions::fill(..)",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        DataOptions::default()
            .rows_per_table(5)
            .fill(&db)?
            .inserted(),
        5
    );
    Ok(())
}
