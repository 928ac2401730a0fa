//! The `sqlite-testdb` command, run as a user runs it: the built binary on migration folders,
//! asserting its output and exit codes.
//!
//! Needs the binary, which the `cli` feature builds: `cargo test --features cli --test it cli::`.
#![cfg(feature = "cli")]

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};

use crate::common::cli::{Run, command, output, run};
use crate::common::folder;
use rstest::rstest;
use serde_json::Value;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations")
}

fn bad_set(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/migrations")
        .join(name)
}

fn arg(path: &Path) -> &OsStr {
    path.as_os_str()
}

/// A copy of the example migrations in diesel's layout: `2024-01-0N-120000_<name>/up.sql`
/// and `down.sql`.
fn diesel_copy(into: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let mut count = 0;
    for entry in fs::read_dir(examples())? {
        let path = entry?.path();
        let file = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if file.ends_with(".down.sql") {
            continue;
        }
        let Some((version, name)) = file
            .strip_prefix('V')
            .and_then(|rest| rest.strip_suffix(".sql"))
            .and_then(|rest| rest.split_once("__"))
        else {
            continue;
        };
        let folder = into.join(format!("2024-01-0{version}-120000_{name}"));
        fs::create_dir(&folder)?;
        fs::copy(&path, folder.join("up.sql"))?;
        fs::copy(
            path.with_file_name(format!("V{version}__{name}.down.sql")),
            folder.join("down.sql"),
        )?;
        count += 1;
    }
    assert_eq!(count, 7, "the example set has seven migrations");
    Ok(())
}

const EXAMPLE_NAMES: [&str; 7] = [
    "V1__users",
    "V2__clients",
    "V3__client_secret_versions",
    "V4__key_rotation_events",
    "V5__tokens",
    "V6__sessions",
    "V7__authorization_requests",
];

const SUMMARY: &str = "step by step = all at once; re-running the runner changes nothing";

/// The text report of a clean example set: one line per migration, then the summary.
fn assert_clean_example_report(run: &Run) {
    assert_clean_report(run, &EXAMPLE_NAMES);
}

/// The text report of a clean set whose migrations are `names`.
fn assert_clean_report(run: &Run, names: &[&str]) {
    assert_eq!(run.code, Some(0), "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), names.len() + 1, "{}", run.stdout);
    for (line, name) in lines.iter().zip(names) {
        assert!(line.starts_with(&format!("{name} ")), "{line}");
        assert!(
            line.ends_with("applies; integrity ok; foreign keys ok; down reverses it"),
            "{line}"
        );
    }
    assert_eq!(lines[names.len()], SUMMARY);
    // stderr is not a terminal here: no progress line, nothing at all.
    assert_eq!(run.stderr, "");
}

#[test]
fn check_passes_the_example_migrations_with_one_line_per_version() -> TestResult {
    let run = run([OsStr::new("check"), arg(&examples())])?;
    assert_clean_example_report(&run);
    Ok(())
}

#[test]
fn check_reads_the_diesel_layout_naming_migrations_by_their_folders() -> TestResult {
    let dir = tempfile::tempdir()?;
    diesel_copy(dir.path())?;
    let run = run([OsStr::new("check"), arg(dir.path())])?;
    let names: Vec<String> = EXAMPLE_NAMES
        .iter()
        .filter_map(|n| n.strip_prefix('V')?.split_once("__"))
        .map(|(v, name)| format!("2024-01-0{v}-120000_{name}"))
        .collect();
    assert_clean_report(&run, &names.iter().map(String::as_str).collect::<Vec<_>>());
    Ok(())
}

/// A copy of the example migrations in sqlx's layout: `2024010N000000_<name>.up.sql` and
/// `.down.sql`; the names sqlx gives them, in order.
fn sqlx_copy(into: &Path) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let mut names = Vec::new();
    for entry in fs::read_dir(examples())? {
        let path = entry?.path();
        let file = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some((version, name, suffix)) = file.strip_prefix('V').and_then(|rest| {
            let (version, rest) = rest.split_once("__")?;
            let (name, suffix) = match rest.strip_suffix(".down.sql") {
                Some(name) => (name, "down.sql"),
                None => (rest.strip_suffix(".sql")?, "up.sql"),
            };
            Some((version.parse::<i64>().ok()?, name, suffix))
        }) else {
            continue;
        };
        let timestamp = 20240100000000 + version * 1_000_000;
        fs::copy(&path, into.join(format!("{timestamp}_{name}.{suffix}")))?;
        if suffix == "up.sql" {
            names.push(format!("{timestamp} {}", name.replace('_', " ")));
        }
    }
    names.sort();
    assert_eq!(names.len(), 7);
    Ok(names)
}

#[test]
fn check_reads_the_sqlx_layout_naming_migrations_as_sqlx_does() -> TestResult {
    let dir = tempfile::tempdir()?;
    let names = sqlx_copy(dir.path())?;
    let run = run([OsStr::new("check"), arg(dir.path())])?;
    assert_clean_report(&run, &names.iter().map(String::as_str).collect::<Vec<_>>());
    Ok(())
}

#[test]
fn check_from_reads_sqlx_history_in_a_real_database() -> TestResult {
    let dir = tempfile::tempdir()?;
    let names = sqlx_copy(dir.path())?;
    let m = sqlite_testdb::Migrations::from_dir(dir.path())?;
    let parent = tempfile::tempdir()?;
    let db = sqlite_testdb::TestDb::builder(&m)
        .version(3)
        .build_in(parent.path())?
        .keep()?;
    let run = run([
        OsStr::new("check"),
        arg(dir.path()),
        OsStr::new("--from"),
        arg(&db),
    ])?;
    assert_eq!(run.code, Some(0), "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{}", run.stdout);
    assert!(
        lines[1].starts_with(&format!("{} ", names[3])),
        "{}",
        run.stdout
    );
    Ok(())
}

#[test]
fn check_fails_when_a_down_script_forgets_an_index_showing_the_diff() -> TestResult {
    let run = run([OsStr::new("check"), arg(&bad_set("down_forgets_index"))])?;
    assert_eq!(run.code, Some(1), "{run:?}");
    // The report on stdout: the failing version's line, the finding in full, the summary.
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines[1].starts_with("V2__profiles ")
            && lines[1].ends_with("FAILED: up then down must leave no trace"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("\nreplay check failed at V2__profiles ("),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("V2__profiles.sql"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("+create index users_email_idx on users(email);"),
        "{}",
        run.stdout
    );
    let summary = "1 of 2 migrations has findings: V2 down-leaves-trace";
    assert_eq!(lines.last().copied(), Some(summary), "{}", run.stdout);
    assert_eq!(run.stderr, format!("error: {summary}\n"));
    Ok(())
}

#[rstest]
#[case::not_replayable(
    "not_replayable",
    "V2__default_theme",
    "UNIQUE constraint failed: settings.key"
)]
#[case::breaks_foreign_key(
    "breaks_foreign_key",
    "V2__rebuild_users",
    "table posts: rowid 1 references a missing row of users"
)]
#[case::broken_v4("broken_v4", "V4__invites", "syntax error")]
fn check_fails_naming_the_migration_at_fault(
    #[case] set: &str,
    #[case] migration: &str,
    #[case] detail: &str,
) -> TestResult {
    let run = run([OsStr::new("check"), arg(&bad_set(set))])?;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stdout.contains(&format!("{migration} (")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!("{migration}.sql")),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains(detail), "{}", run.stdout);
    let version = migration
        .trim_start_matches('V')
        .split("__")
        .next()
        .unwrap_or("");
    assert!(
        run.stderr.starts_with("error: ")
            && run.stderr.contains(" has findings: ")
            && run.stderr.contains(&format!(": V{version} ")),
        "{}",
        run.stderr
    );
    Ok(())
}

#[test]
fn check_of_a_missing_folder_exits_2_naming_it() -> TestResult {
    let missing = tempfile::tempdir()?.path().join("no-such-migrations");
    let run = run([OsStr::new("check"), arg(&missing)])?;
    assert_eq!(run.code, Some(2), "{run:?}");
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr
            .contains(&format!("{:?}", missing.display().to_string())),
        "{}",
        run.stderr
    );
    Ok(())
}

#[test]
fn check_of_a_badly_named_migration_file_exits_2_naming_it() -> TestResult {
    // One underscore in V2: refinery would skip it without a word.
    let dir = folder(&[
        (
            "V1__users.sql",
            "CREATE TABLE users(id INTEGER PRIMARY KEY);",
        ),
        (
            "V2_posts.sql",
            "CREATE TABLE posts(id INTEGER PRIMARY KEY);",
        ),
    ])?;
    let run = run([OsStr::new("check"), arg(dir.path())])?;
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("V2_posts.sql"), "{}", run.stderr);
    assert!(
        run.stderr.contains("is not a valid migration file name"),
        "{}",
        run.stderr
    );
    Ok(())
}

#[test]
fn check_of_a_duplicate_version_exits_2_naming_both_files() -> TestResult {
    let dir = folder(&[
        (
            "V1__users.sql",
            "CREATE TABLE users(id INTEGER PRIMARY KEY);",
        ),
        (
            "V1__posts.sql",
            "CREATE TABLE posts(id INTEGER PRIMARY KEY);",
        ),
    ])?;
    let run = run([OsStr::new("check"), arg(dir.path())])?;
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(
        run.stderr.contains("V1__users.sql") && run.stderr.contains("V1__posts.sql"),
        "{}",
        run.stderr
    );
    Ok(())
}

#[test]
fn check_json_lists_every_migration_with_its_file_and_down_script() -> TestResult {
    let run = run([OsStr::new("check"), arg(&examples()), OsStr::new("--json")])?;
    assert_eq!(run.code, Some(0), "{run:?}");
    let json = run.json()?;
    assert_eq!(json["ok"], true);
    let steps = json["migrations"].as_array().ok_or("no migrations array")?;
    assert_eq!(steps.len(), 7, "{json:#}");
    for (i, (step, name)) in steps.iter().zip(EXAMPLE_NAMES).enumerate() {
        assert_eq!(step["version"], i + 1);
        assert_eq!(step["migration"], name);
        assert_eq!(step["down"], "reverses");
        let file = step["file"].as_str().ok_or("no file")?;
        assert!(file.ends_with(&format!("{name}.sql")), "{file}");
    }
    assert_eq!(json["without_down_script"], serde_json::json!([]));
    assert_eq!(json["irreversible"], serde_json::json!([]));
    Ok(())
}

#[test]
fn check_json_reports_missing_and_irreversible_down_scripts() -> TestResult {
    let upgrade = run([
        OsStr::new("check"),
        arg(&bad_set("upgrade")),
        OsStr::new("--json"),
    ])?
    .json()?;
    assert_eq!(upgrade["without_down_script"], serde_json::json!([5]));
    assert_eq!(upgrade["migrations"][4]["down"], "missing");

    let irreversible = run([
        OsStr::new("check"),
        arg(&bad_set("irreversible")),
        OsStr::new("--json"),
    ])?
    .json()?;
    assert_eq!(irreversible["irreversible"], serde_json::json!([2]));
    assert_eq!(irreversible["migrations"][1]["down"], "irreversible");
    Ok(())
}

#[test]
fn check_json_names_the_failing_migration_file_check_and_detail() -> TestResult {
    let run = run([
        OsStr::new("check"),
        arg(&bad_set("down_forgets_index")),
        OsStr::new("--json"),
    ])?;
    assert_eq!(run.code, Some(1), "{run:?}");
    let json = run.json()?;
    assert_eq!(json["ok"], false);
    assert_eq!(json["exit_code"], 1);
    assert_eq!(json["error"]["kind"], "findings");
    let findings = json["findings"].as_array().ok_or("no findings")?;
    assert_eq!(findings.len(), 1, "{json}");
    let finding = &findings[0];
    assert_eq!(finding["kind"], "replay");
    assert_eq!(finding["migration"], "V2__profiles");
    assert_eq!(finding["version"], 2);
    let file = finding["file"].as_str().ok_or("no file")?;
    assert!(file.ends_with("V2__profiles.sql"), "{file}");
    assert_eq!(finding["check"], "up then down must leave no trace");
    assert_eq!(finding["code"], "down-leaves-trace");
    let detail = finding["detail"].as_str().ok_or("no detail")?;
    assert!(
        detail.contains("+create index users_email_idx on users(email);"),
        "{detail}"
    );
    // Every migration, with what it failed.
    let migrations = json["migrations"].as_array().ok_or("no migrations")?;
    assert_eq!(
        migrations[1]["findings"][0],
        "up then down must leave no trace"
    );
    assert_eq!(migrations[0]["findings"].as_array().map(Vec::len), Some(0));
    // The summary goes to stderr as well, for a person reading the CI log.
    assert!(
        run.stderr.contains("V2 down-leaves-trace"),
        "{}",
        run.stderr
    );
    Ok(())
}

#[test]
fn check_json_names_a_migration_that_does_not_apply() -> TestResult {
    let run = run([
        OsStr::new("check"),
        arg(&bad_set("broken_v4")),
        OsStr::new("--json"),
    ])?;
    assert_eq!(run.code, Some(1), "{run:?}");
    let json = run.json()?;
    let finding = &json["findings"][0];
    assert_eq!(finding["kind"], "replay");
    assert_eq!(finding["migration"], "V4__invites");
    assert_eq!(finding["check"], "must apply");
    assert_eq!(finding["code"], "must-apply");
    let file = finding["file"].as_str().ok_or("no file")?;
    assert!(file.ends_with("V4__invites.sql"), "{file}");
    let detail = finding["detail"].as_str().ok_or("no detail")?;
    assert!(
        detail.contains("syntax error") && detail.contains("applied before it: up to V3"),
        "{detail}"
    );
    // V5 comes after a migration that does not apply: not checked.
    assert_eq!(json["migrations"][4]["checked"], false);
    assert_eq!(json["migrations"][3]["checked"], true);
    Ok(())
}

#[test]
fn json_mode_reports_bad_input_as_json_too() -> TestResult {
    let missing = tempfile::tempdir()?.path().join("gone");
    let run = run([OsStr::new("check"), arg(&missing), OsStr::new("--json")])?;
    assert_eq!(run.code, Some(2), "{run:?}");
    let json = run.json()?;
    assert_eq!(json["ok"], false);
    assert_eq!(json["exit_code"], 2);
    assert_eq!(json["error"]["kind"], "bad_input");
    let message = json["error"]["message"].as_str().ok_or("no message")?;
    assert!(message.contains("gone"), "{message}");
    Ok(())
}

/// Two small migrations, for exact schema output.
fn small_set() -> Result<tempfile::TempDir, Box<dyn std::error::Error>> {
    Ok(folder(&[
        (
            "V1__users.sql",
            "CREATE TABLE \"Users\" (\n  id INTEGER PRIMARY KEY, -- the key\n  email TEXT NOT NULL\n);",
        ),
        (
            "V2__posts.sql",
            "CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id), body TEXT);\n\
             CREATE INDEX posts_user_idx ON posts (user_id);",
        ),
        (
            "V3__drafts.sql",
            "ALTER TABLE posts ADD COLUMN draft INTEGER NOT NULL DEFAULT 0;",
        ),
    ])?)
}

#[test]
fn schema_prints_the_normalized_schema_at_a_version() -> TestResult {
    let dir = small_set()?;
    let run = run([
        OsStr::new("schema"),
        arg(dir.path()),
        OsStr::new("--version"),
        OsStr::new("2"),
    ])?;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(
        run.stdout,
        "create table posts(\n    \
             id integer primary key,\n    \
             user_id integer references users(id),\n    \
             body text\n\
         );\n\
         create table users(\n    \
             id integer primary key,\n    \
             email text not null\n\
         );\n\
         create index posts_user_idx on posts(user_id);\n"
    );
    assert_eq!(run.stderr, "");
    Ok(())
}

#[test]
fn schema_defaults_to_the_latest_version() -> TestResult {
    let dir = small_set()?;
    let run = run([OsStr::new("schema"), arg(dir.path())])?;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout
            .contains("    draft integer not null default 0\n"),
        "{}",
        run.stdout
    );
    Ok(())
}

#[test]
fn schema_json_is_a_list_of_objects() -> TestResult {
    let dir = small_set()?;
    let run = run([
        OsStr::new("schema"),
        arg(dir.path()),
        OsStr::new("--version"),
        OsStr::new("2"),
        OsStr::new("--json"),
    ])?;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(
        run.json()?,
        serde_json::json!([
            {
                "kind": "table",
                "name": "posts",
                "table": "posts",
                "sql": "create table posts(id integer primary key, user_id integer references users(id), body text)",
            },
            {
                "kind": "table",
                "name": "users",
                "table": "users",
                "sql": "create table users(id integer primary key, email text not null)",
            },
            {
                "kind": "index",
                "name": "posts_user_idx",
                "table": "posts",
                "sql": "create index posts_user_idx on posts(user_id)",
            },
        ])
    );
    Ok(())
}

#[test]
fn schema_of_an_unknown_version_exits_2_listing_the_versions() -> TestResult {
    let dir = small_set()?;
    let run = run([
        OsStr::new("schema"),
        arg(dir.path()),
        OsStr::new("--version"),
        OsStr::new("9"),
    ])?;
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(
        run.stderr
            .contains("version 9 is not a migration of this set (versions: 1, 2, 3)"),
        "{}",
        run.stderr
    );
    Ok(())
}

#[test]
fn diff_shows_what_a_version_adds() -> TestResult {
    let run = run([
        OsStr::new("diff"),
        arg(&examples()),
        OsStr::new("5"),
        OsStr::new("6"),
    ])?;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stdout.starts_with("--- V5\n+++ V6\n"), "{}", run.stdout);
    assert!(
        run.stdout.contains("\n+create table sessions(\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("\n+    last_login_at text\n"),
        "{}",
        run.stdout
    );
    Ok(())
}

#[test]
fn diff_of_equal_schemas_prints_nothing_and_says_so_on_stderr() -> TestResult {
    let run = run([
        OsStr::new("diff"),
        arg(&examples()),
        OsStr::new("4"),
        OsStr::new("4"),
    ])?;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr, "no schema change between V4 and V4\n");
    Ok(())
}

#[test]
fn diff_json_lists_added_removed_and_changed_objects() -> TestResult {
    let dir = small_set()?;
    let run = run([
        OsStr::new("diff"),
        arg(dir.path()),
        OsStr::new("1"),
        OsStr::new("3"),
        OsStr::new("--json"),
    ])?;
    assert_eq!(run.code, Some(0), "{run:?}");
    let json = run.json()?;
    assert_eq!(json["from"], 1);
    assert_eq!(json["to"], 3);
    let names = |key: &str| -> Vec<String> {
        json[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|o| format!("{} {}", o["kind"].as_str().unwrap_or("?"), o["name"]))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(
        names("added"),
        ["table \"posts\"", "index \"posts_user_idx\""]
    );
    assert!(names("removed").is_empty(), "{json:#}");
    assert!(names("changed").is_empty(), "{json:#}");
    let diff = json["diff"].as_str().ok_or("no diff")?;
    assert!(diff.starts_with("--- V1\n+++ V3\n"), "{diff}");

    let back = run_diff_json(dir.path(), "3", "2")?;
    assert_eq!(back["changed"][0]["name"], "posts");
    assert_eq!(
        back["changed"][0]["to_sql"],
        "create table posts(id integer primary key, user_id integer references users(id), body text)"
    );
    Ok(())
}

fn run_diff_json(dir: &Path, from: &str, to: &str) -> Result<Value, Box<dyn std::error::Error>> {
    run([
        OsStr::new("diff"),
        arg(dir),
        OsStr::new(from),
        OsStr::new(to),
        OsStr::new("--json"),
    ])?
    .json()
}

#[rstest]
#[case::check(&["check"])]
#[case::schema(&["schema"])]
#[case::diff(&["diff", "DIR", "1", "2"])]
fn an_extension_that_does_not_load_exits_2_naming_it(#[case] args: &[&str]) -> TestResult {
    let missing = tempfile::tempdir()?.path().join("no_such_extension.so");
    let examples = examples();
    let mut cmd_args: Vec<&OsStr> = args
        .iter()
        .map(|a| {
            if *a == "DIR" {
                arg(&examples)
            } else {
                OsStr::new(a)
            }
        })
        .collect();
    if args.len() == 1 {
        cmd_args.push(arg(&examples));
    }
    cmd_args.extend([OsStr::new("--load-extension"), arg(&missing)]);
    let run = run(cmd_args)?;
    assert_eq!(run.code, Some(2), "{run:?}");
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains(&format!(
            "cannot load SQLite extension {:?}",
            missing.display().to_string()
        )),
        "{}",
        run.stderr
    );
    Ok(())
}

/// Every run works in the system temp folder and removes what it made there; it never uses
/// or fills the configured template cache.
#[cfg(unix)]
#[test]
fn commands_leave_nothing_behind() -> TestResult {
    let temp = tempfile::tempdir()?;
    let cache = tempfile::tempdir()?;
    let (examples, bad) = (examples(), bad_set("down_forgets_index"));
    let runs: [&[&OsStr]; 4] = [
        &[OsStr::new("check"), arg(&examples)],
        &[OsStr::new("check"), arg(&bad)],
        &[OsStr::new("schema"), arg(&examples)],
        &[
            OsStr::new("diff"),
            arg(&examples),
            OsStr::new("1"),
            OsStr::new("7"),
        ],
    ];
    for args in runs {
        let mut cmd = command(args);
        cmd.env("TMPDIR", temp.path())
            .env("SQLITE_TESTDB_CACHE_DIR", cache.path())
            .env("SQLITE_TESTDB_KEEP", "always");
        let run = output(cmd)?;
        assert!(matches!(run.code, Some(0 | 1)), "{run:?}");
        let left: Vec<_> = fs::read_dir(temp.path())?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<Result<_, _>>()?;
        assert!(left.is_empty(), "{args:?} left {left:?} in the temp folder");
        assert_eq!(fs::read_dir(cache.path())?.count(), 0, "{args:?}");
    }
    Ok(())
}

#[test]
fn help_explains_every_subcommand_with_an_example() -> TestResult {
    let help = run(["--help"])?;
    assert_eq!(help.code, Some(0), "{help:?}");
    for needle in [
        "check",
        "schema",
        "diff",
        "sqlite-testdb check migrations/",
        "Exit codes:",
    ] {
        assert!(help.stdout.contains(needle), "{needle}: {}", help.stdout);
    }
    for (sub, example) in [
        ("check", "sqlite-testdb check migrations/ --json"),
        ("schema", "sqlite-testdb schema migrations/ --version 3"),
        ("diff", "sqlite-testdb diff migrations/ 5 6"),
    ] {
        let help = run([sub, "--help"])?;
        assert_eq!(help.code, Some(0), "{help:?}");
        assert!(help.stdout.contains(example), "{}", help.stdout);
        assert!(help.stdout.contains("--load-extension"), "{}", help.stdout);
        assert!(help.stdout.contains("--json"), "{}", help.stdout);
    }
    Ok(())
}

#[test]
fn version_prints_the_crate_version() -> TestResult {
    let run = run(["--version"])?;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(
        run.stdout,
        format!("sqlite-testdb {}\n", env!("CARGO_PKG_VERSION"))
    );
    Ok(())
}

#[test]
fn bad_usage_exits_2() -> TestResult {
    for args in [
        &["check"][..],
        &["frobnicate", "x"],
        &["diff", "migrations", "1"],
    ] {
        let run = run(args)?;
        assert_eq!(run.code, Some(2), "{args:?}: {run:?}");
        assert!(run.stderr.contains("Usage:"), "{}", run.stderr);
    }
    Ok(())
}

#[test]
fn check_with_data_passes_on_the_examples_with_rows_in_every_table() -> TestResult {
    let run = run([
        OsStr::new("check"),
        arg(&examples()),
        OsStr::new("--with-data"),
        OsStr::new("--rows"),
        OsStr::new("50"),
        OsStr::new("--seed"),
        OsStr::new("7"),
    ])?;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout.contains(
            "at V7__authorization_requests: 362 generated rows in 7 tables; integrity ok; foreign keys ok"
        ),
        "{}",
        run.stdout
    );
    Ok(())
}

#[test]
fn check_with_data_fails_where_the_empty_check_passes_and_names_the_rows() -> TestResult {
    let set = bad_set("data_unique");
    let empty = run([OsStr::new("check"), arg(&set)])?;
    assert_eq!(empty.code, Some(0), "{empty:?}");

    let with_data = run([OsStr::new("check"), arg(&set), OsStr::new("--with-data")])?;
    assert_eq!(with_data.code, Some(1), "{with_data:?}");
    assert!(
        with_data
            .stdout
            .contains("UNIQUE constraint failed: users.team"),
        "{}",
        with_data.stdout
    );
    assert!(
        with_data.stdout.contains("reproduce with: sqlite3 < "),
        "{}",
        with_data.stdout
    );
    assert!(
        with_data
            .stderr
            .starts_with("error: 1 of 2 migrations has findings: V2 must-apply"),
        "{}",
        with_data.stderr
    );

    let json = run([
        OsStr::new("check"),
        arg(&set),
        OsStr::new("--with-data"),
        OsStr::new("--json"),
    ])?;
    assert_eq!(json.code, Some(1), "{json:?}");
    let value = json.json()?;
    let finding = &value["findings"][0];
    assert_eq!(finding["kind"], "replay_data", "{value}");
    assert_eq!(finding["table"], "users", "{value}");
    assert_eq!(finding["column"], "team", "{value}");
    let script = finding["script"].as_str().ok_or("no script")?;
    assert!(Path::new(script).is_file(), "{script}");
    if let Some(folder) = Path::new(script).parent().filter(|f| f.is_dir()) {
        fs::remove_dir_all(folder)?;
    }
    if let Some(folder) = with_data
        .stdout
        .split("reproduce with: sqlite3 < ")
        .nth(1)
        .and_then(|p| p.lines().next())
        .map(|p| Path::new(p.trim()))
        .and_then(Path::parent)
        .filter(|f| f.is_dir())
    {
        fs::remove_dir_all(folder)?;
    }
    Ok(())
}

#[test]
fn data_options_without_with_data_are_a_usage_error() -> TestResult {
    let run = run([
        OsStr::new("check"),
        arg(&examples()),
        OsStr::new("--rows"),
        OsStr::new("5"),
    ])?;
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("--with-data"), "{}", run.stderr);
    Ok(())
}

/// Removes the folders of the reproduction scripts a run's output names.
fn remove_scripts(output: &str) -> std::io::Result<()> {
    for line in output.lines() {
        if let Some(path) = line.strip_prefix("reproduce with: sqlite3 < ")
            && let Some(folder) = Path::new(path.trim_matches('\'')).parent()
            && folder.is_dir()
        {
            fs::remove_dir_all(folder)?;
        }
    }
    Ok(())
}

#[test]
fn check_reports_every_failing_version_in_one_run_text_and_json() -> TestResult {
    let set = bad_set("three_findings");
    let run = run([OsStr::new("check"), arg(&set), OsStr::new("--with-data")])?;
    remove_scripts(&run.stdout)?;
    assert_eq!(run.code, Some(1), "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines[0].starts_with("V1__users ") && lines[0].contains("applies;"),
        "{}",
        run.stdout
    );
    for (line, check) in [
        (1, "FAILED: up then down must leave no trace"),
        (2, "FAILED: down script must run"),
        (3, "FAILED: must keep every generated row and value"),
    ] {
        assert!(lines[line].ends_with(check), "{}", run.stdout);
    }
    for needle in [
        "\nreplay check failed at V2__profiles (",
        "\nreplay check failed at V3__tags (",
        "\nreplay with data failed at V4__purge_inactive (",
        // The advice in the command's terms.
        "mark it: --expect-changes 4, or add 4 to expect-changes in ",
    ] {
        assert!(run.stdout.contains(needle), "{needle}: {}", run.stdout);
    }
    assert!(!run.stdout.contains("DataOptions"), "{}", run.stdout);
    let summary = "3 of 4 migrations have findings: V2 down-leaves-trace, V3 down-must-apply, \
                   V4 data-lost";
    assert_eq!(lines.last().copied(), Some(summary));
    assert_eq!(run.stderr, format!("error: {summary}\n"));

    let json = run_json_check(&set, &["--with-data"])?;
    let versions: Vec<i64> = json["findings"]
        .as_array()
        .ok_or("no findings")?
        .iter()
        .filter_map(|f| f["version"].as_i64())
        .collect();
    assert_eq!(versions, [2, 3, 4], "{json}");
    assert_eq!(
        json["findings"][2]["hint"]
            .as_str()
            .map(|h| h.contains("--expect-changes 4")),
        Some(true)
    );
    assert_eq!(json["summary"], summary);

    // --fail-fast: the first finding only.
    let fast = self::run([
        OsStr::new("check"),
        arg(&set),
        OsStr::new("--with-data"),
        OsStr::new("--fail-fast"),
    ])?;
    remove_scripts(&fast.stdout)?;
    assert_eq!(fast.code, Some(1), "{fast:?}");
    assert_eq!(
        fast.stdout.matches("\nreplay ").count(),
        1,
        "{}",
        fast.stdout
    );
    assert!(
        fast.stderr
            .ends_with("; V3 to V4 not checked: stopped at the first finding\n"),
        "{}",
        fast.stderr
    );
    Ok(())
}

/// `check DIR --json EXTRA…`, its JSON; the scripts it keeps are removed.
fn run_json_check(dir: &Path, extra: &[&str]) -> Result<Value, Box<dyn std::error::Error>> {
    let mut args = vec![OsStr::new("check"), arg(dir), OsStr::new("--json")];
    args.extend(extra.iter().map(OsStr::new));
    let run = run(args)?;
    let json = run.json()?;
    for finding in json["findings"].as_array().into_iter().flatten() {
        if let Some(folder) = finding["script"]
            .as_str()
            .and_then(|s| Path::new(s).parent())
            .filter(|f| f.is_dir())
        {
            fs::remove_dir_all(folder)?;
        }
    }
    Ok(json)
}

#[test]
fn a_config_file_beside_the_migrations_marks_deliberate_changes() -> TestResult {
    let dir = tempfile::tempdir()?;
    for entry in fs::read_dir(bad_set("data_purge"))? {
        let entry = entry?;
        fs::copy(entry.path(), dir.path().join(entry.file_name()))?;
    }
    let failing = run([
        OsStr::new("check"),
        arg(dir.path()),
        OsStr::new("--with-data"),
    ])?;
    remove_scripts(&failing.stdout)?;
    assert_eq!(failing.code, Some(1), "{failing:?}");
    let config = dir.path().join("sqlite-testdb.toml");
    assert!(
        failing.stdout.contains(&format!(
            "mark it: --expect-changes 2, or add 2 to expect-changes in {}",
            config.display()
        )),
        "{}",
        failing.stdout
    );

    fs::write(
        &config,
        "# V2 purges old sessions on purpose.\nexpect-changes = [2]\nrows = 30\n",
    )?;
    let passing = run([
        OsStr::new("check"),
        arg(dir.path()),
        OsStr::new("--with-data"),
    ])?;
    assert_eq!(passing.code, Some(0), "{passing:?}");
    assert!(
        passing
            .stdout
            .contains("30 generated rows in 1 table, changed as expected:"),
        "{}",
        passing.stdout
    );

    // A setting the command does not know is an error naming the file and the setting.
    fs::write(&config, "expect_changes = [2]\n")?;
    let bad = run([
        OsStr::new("check"),
        arg(dir.path()),
        OsStr::new("--with-data"),
    ])?;
    assert_eq!(bad.code, Some(2), "{bad:?}");
    assert!(
        bad.stderr.contains("sqlite-testdb.toml")
            && bad.stderr.contains("unknown setting `expect_changes`"),
        "{}",
        bad.stderr
    );
    Ok(())
}

#[test]
fn check_from_upgrades_a_copy_of_a_real_database_and_bad_ones_exit_2() -> TestResult {
    let parent = tempfile::tempdir()?;
    let m = sqlite_testdb::Migrations::from_dir(examples())?;
    let db = sqlite_testdb::TestDb::builder(&m)
        .version(3)
        .seed_sql("INSERT INTO users(email) VALUES ('ada@example.com'), ('grace@example.com')")
        .build_in(parent.path())?
        .keep()?;
    let before = fs::read(&db)?;
    let run = run([
        OsStr::new("check"),
        arg(&examples()),
        OsStr::new("--from"),
        arg(&db),
    ])?;
    assert_eq!(run.code, Some(0), "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines[0],
        format!("upgrade of a copy of {} (at V3)", db.display())
    );
    assert_eq!(lines.len(), 5, "{}", run.stdout);
    assert!(
        lines[1].starts_with("V4__key_rotation_events "),
        "{}",
        run.stdout
    );
    assert_eq!(fs::read(&db)?, before);

    let text = parent.path().join("notes.txt");
    fs::write(
        &text,
        "no database here, only words and words and words ".repeat(20),
    )?;
    let plain = parent.path().join("plain.sqlite");
    rusqlite::Connection::open(&plain)?.execute_batch("CREATE TABLE t(x);")?;
    for (file, says) in [
        (&text, "is not a SQLite database"),
        (&plain, "has no migration history"),
    ] {
        let bad = self::run([
            OsStr::new("check"),
            arg(&examples()),
            OsStr::new("--from"),
            arg(file),
        ])?;
        assert_eq!(bad.code, Some(2), "{bad:?}");
        assert!(
            bad.stderr.contains(&file.display().to_string()) && bad.stderr.contains(says),
            "{}",
            bad.stderr
        );
        let json = self::run([
            OsStr::new("check"),
            arg(&examples()),
            OsStr::new("--from"),
            arg(file),
            OsStr::new("--json"),
        ])?
        .json()?;
        assert_eq!(json["error"]["kind"], "bad_input", "{json}");
    }
    Ok(())
}

#[test]
fn a_migration_that_never_ends_over_rows_is_stopped_at_the_time_limit() -> TestResult {
    let dir = tempfile::tempdir()?;
    fs::write(
        dir.path().join("V1__numbers.sql"),
        "CREATE TABLE numbers (n INTEGER);",
    )?;
    fs::write(
        dir.path().join("V2__count_up.sql"),
        "CREATE TABLE counted AS WITH RECURSIVE up(n) AS \
         (SELECT n FROM numbers UNION ALL SELECT n + 1 FROM up) SELECT count(*) AS c FROM up;",
    )?;
    let check = |extra: &[&str]| -> Result<Run, Box<dyn std::error::Error>> {
        let mut args = vec![
            OsStr::new("check"),
            arg(dir.path()),
            OsStr::new("--with-data"),
        ];
        args.extend(extra.iter().map(OsStr::new));
        let run = run(args)?;
        remove_scripts(&run.stdout)?;
        Ok(run)
    };
    let stopped = check(&["--time-limit", "0.3"])?;
    assert_eq!(stopped.code, Some(1), "{stopped:?}");
    assert!(
        stopped
            .stdout
            .contains("FAILED: must finish within the time limit over generated rows")
            && stopped
                .stdout
                .contains("stopped after 300ms over 20 generated rows"),
        "{}",
        stopped.stdout
    );

    // The same limit from the config file; a limit that is not a number of seconds exits 2.
    fs::write(dir.path().join("sqlite-testdb.toml"), "time-limit = 0.3\n")?;
    let from_config = check(&[])?;
    assert_eq!(from_config.code, Some(1), "{from_config:?}");
    assert!(
        from_config.stdout.contains("stopped after 300ms"),
        "{}",
        from_config.stdout
    );
    let bad = check(&["--time-limit", "soon"])?;
    assert_eq!(bad.code, Some(2), "{bad:?}");
    assert!(
        bad.stderr
            .contains("`soon` is not a number of seconds above zero"),
        "{}",
        bad.stderr
    );
    fs::write(dir.path().join("sqlite-testdb.toml"), "time-limit = -1\n")?;
    let bad_config = check(&[])?;
    assert_eq!(bad_config.code, Some(2), "{bad_config:?}");
    assert!(
        bad_config
            .stderr
            .contains("`time-limit` must be a number of seconds above zero"),
        "{}",
        bad_config.stderr
    );
    Ok(())
}

#[test]
fn check_with_data_writes_scripts_into_the_folder_asked_for_and_names_it() -> TestResult {
    let artifacts = tempfile::tempdir()?;
    let run = run([
        OsStr::new("check"),
        arg(&bad_set("data_unique")),
        OsStr::new("--with-data"),
        OsStr::new("--scripts"),
        artifacts.path().as_os_str(),
        OsStr::new("--json"),
    ])?;
    assert_eq!(run.code, Some(1), "{run:?}");
    let json = run.json()?;
    assert_eq!(
        json["scripts"],
        artifacts.path().display().to_string(),
        "{json}"
    );
    let script = json["findings"][0]["script"].as_str().ok_or("no script")?;
    assert!(Path::new(script).starts_with(artifacts.path()), "{script}");
    assert!(Path::new(script).is_file(), "{script}");
    assert_eq!(json["findings"][0]["code"], "must-apply");
    Ok(())
}
