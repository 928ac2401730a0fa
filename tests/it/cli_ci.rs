//! The command in CI: released migrations (`--since REF` in a real git repository, the lock
//! file), the committed schema (`--schema`), GitHub annotations, SARIF and baselines.
//!
//! Needs the binary, which the `cli` feature builds: `cargo test --features cli --test it cli_ci::`.
#![cfg(feature = "cli")]

use std::fs;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common::cli::run_in;
use crate::common::folder;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Runs git in `repo`, with no system or user configuration to get in the way.
fn git(repo: &Path, args: &[&str]) -> TestResult {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()?;
    if !out.status.success() {
        return Err(format!(
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(())
}

const MIGRATIONS: &str = "db/migrations";

/// Makes `repo` a git repository (its user set locally) and commits everything in it.
fn release(repo: &Path) -> TestResult {
    git(repo, &["init", "-q"])?;
    git(repo, &["config", "user.name", "Release Bot"])?;
    git(repo, &["config", "user.email", "release@example.com"])?;
    git(repo, &["config", "commit.gpgsign", "false"])?;
    git(repo, &["add", "."])?;
    git(repo, &["commit", "-q", "-m", "release 1"])
}

/// A git repository with four released migrations in `db/migrations` (V1, V2, V3, V5),
/// committed and tagged `v1`.
fn released_repo() -> Result<tempfile::TempDir, Box<dyn std::error::Error>> {
    let repo = folder(&[
        (
            "db/migrations/V1__users.sql",
            "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);\n",
        ),
        (
            "db/migrations/V2__posts.sql",
            "CREATE TABLE posts(id INTEGER PRIMARY KEY, body TEXT);\nCREATE INDEX posts_body ON posts(body);\n",
        ),
        (
            "db/migrations/V3__tags.sql",
            "CREATE TABLE tags(id INTEGER PRIMARY KEY, label TEXT);\n",
        ),
        (
            "db/migrations/V5__notes.sql",
            "CREATE TABLE notes(id INTEGER PRIMARY KEY, text TEXT);\n",
        ),
        ("README.md", "an application\n"),
    ])?;
    release(repo.path())?;
    git(repo.path(), &["tag", "v1"])?;
    Ok(repo)
}

/// The change under review: V2 re-indented (whitespace only), V3 deleted, V4 new below the
/// released V5, V6 new and clean.
fn change(repo: &Path) -> TestResult {
    let dir = repo.join(MIGRATIONS);
    fs::write(
        dir.join("V2__posts.sql"),
        "CREATE TABLE posts(id INTEGER PRIMARY KEY, body TEXT);\nCREATE INDEX posts_body\n    ON posts(body);\n",
    )?;
    fs::remove_file(dir.join("V3__tags.sql"))?;
    fs::write(
        dir.join("V4__likes.sql"),
        "CREATE TABLE likes(id INTEGER PRIMARY KEY, post_id INTEGER);\n",
    )?;
    fs::write(
        dir.join("V6__comments.sql"),
        "CREATE TABLE comments(id INTEGER PRIMARY KEY, body TEXT);\n",
    )?;
    Ok(())
}

/// The (code, migration) pairs of a JSON report's annotations.
fn codes(document: &Value) -> Vec<(String, String)> {
    let mut codes: Vec<(String, String)> = document["annotations"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            (
                a["code"].as_str().unwrap_or_default().to_owned(),
                a["migration"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    codes.sort();
    codes
}

#[test]
fn since_reports_the_edited_removed_and_out_of_order_migrations_and_nothing_else() -> TestResult {
    let repo = released_repo()?;
    let unchanged = run_in(
        repo.path(),
        ["check", MIGRATIONS, "--since", "v1", "--json"],
    )?;
    assert_eq!(unchanged.code, Some(0), "{unchanged:?}");
    assert_eq!(codes(&unchanged.json()?), []);

    change(repo.path())?;
    let run = run_in(
        repo.path(),
        ["check", MIGRATIONS, "--since", "v1", "--json"],
    )?;
    assert_eq!(run.code, Some(1), "{run:?}");
    let document = run.json()?;
    assert_eq!(
        codes(&document),
        [
            ("migration-out-of-order".to_owned(), "V4__likes".to_owned()),
            (
                "released-migration-changed".to_owned(),
                "V2__posts".to_owned()
            ),
            (
                "released-migration-removed".to_owned(),
                "V3__tags".to_owned()
            ),
        ]
    );
    let changed = document["annotations"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["code"] == "released-migration-changed")
        .ok_or("no released-migration-changed")?;
    let message = changed["message"].as_str().unwrap_or_default();
    assert!(message.contains("whitespace only"), "{message}");
    assert!(message.contains("rejects it all the same"), "{message}");
    assert_eq!(changed["line"], 2, "{changed}");
    assert_eq!(document["ok"], false);
    assert!(
        run.stderr.contains("3 finding(s) fail the check"),
        "{run:?}"
    );

    // The same in text, and from a sub-folder: the paths are the repository's.
    let text = run_in(
        &repo.path().join("db"),
        ["check", "migrations", "--since", "v1"],
    )?;
    assert_eq!(text.code, Some(1), "{text:?}");
    assert!(
        text.stdout
            .contains("released-migration-removed: released migration V3__tags removed"),
        "{text:?}"
    );
    assert!(
        text.stdout.contains("db/migrations/V3__tags.sql"),
        "{text:?}"
    );
    Ok(())
}

#[test]
fn since_outside_a_git_work_tree_exits_2_naming_the_folder() -> TestResult {
    let dir = folder(&[(
        "V1__users.sql",
        "CREATE TABLE users(id INTEGER PRIMARY KEY);",
    )])?;
    let run = run_in(dir.path(), ["check", ".", "--since", "HEAD"])?;
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("is not in a git work tree"), "{run:?}");
    assert!(run.stderr.contains("sqlite-testdb lock"), "{run:?}");
    let json = run_in(dir.path(), ["check", ".", "--since", "HEAD", "--json"])?;
    assert_eq!(json.json()?["error"]["kind"], "bad_input", "{json:?}");
    Ok(())
}

#[test]
fn since_an_unknown_revision_exits_2_naming_it() -> TestResult {
    let repo = released_repo()?;
    let run = run_in(
        repo.path(),
        ["check", MIGRATIONS, "--since", "origin/no-such-branch"],
    )?;
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(
        run.stderr
            .contains("unknown git revision \"origin/no-such-branch\""),
        "{run:?}"
    );
    Ok(())
}

#[test]
fn lock_is_written_then_verified_with_the_same_codes() -> TestResult {
    let dir = folder(&[
        (
            "V1__users.sql",
            "CREATE TABLE users(id INTEGER PRIMARY KEY);\n",
        ),
        (
            "V3__posts.sql",
            "CREATE TABLE posts(id INTEGER PRIMARY KEY);\n",
        ),
        (
            "V5__tags.sql",
            "CREATE TABLE tags(id INTEGER PRIMARY KEY);\n",
        ),
    ])?;
    let lock = run_in(dir.path(), ["lock", "."])?;
    assert_eq!(lock.code, Some(0), "{lock:?}");
    let text = fs::read_to_string(dir.path().join("sqlite-testdb.lock"))?;
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("# "), "{text}");
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[1].starts_with("1 users "), "{text}");
    assert!(lines[3].starts_with("5 tags "), "{text}");

    let clean = run_in(dir.path(), ["check", ".", "--json"])?;
    assert_eq!(clean.code, Some(0), "{clean:?}");
    assert_eq!(codes(&clean.json()?), []);

    fs::write(
        dir.path().join("V1__users.sql"),
        "CREATE TABLE users(id INTEGER PRIMARY KEY);  \n",
    )?;
    fs::remove_file(dir.path().join("V3__posts.sql"))?;
    fs::write(
        dir.path().join("V4__likes.sql"),
        "CREATE TABLE likes(id INTEGER PRIMARY KEY);\n",
    )?;
    let run = run_in(dir.path(), ["check", ".", "--json"])?;
    assert_eq!(run.code, Some(1), "{run:?}");
    let document = run.json()?;
    assert_eq!(
        codes(&document),
        [
            ("migration-out-of-order".to_owned(), "V4__likes".to_owned()),
            (
                "released-migration-changed".to_owned(),
                "V1__users".to_owned()
            ),
            (
                "released-migration-removed".to_owned(),
                "V3__posts".to_owned()
            ),
        ]
    );
    let removed = &document["annotations"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["code"] == "released-migration-removed")
        .ok_or("no removed")?;
    assert_eq!(removed["line"], 3, "the lock file's line: {removed}");
    Ok(())
}

#[test]
fn schema_file_passes_while_true_and_fails_with_the_diff_when_it_drifts() -> TestResult {
    let dir = folder(&[
        (
            "migrations/V1__users.sql",
            "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);",
        ),
        (
            "migrations/V2__posts.sql",
            "CREATE TABLE posts(id INTEGER PRIMARY KEY);",
        ),
    ])?;
    let schema = run_in(dir.path(), ["schema", "migrations"])?;
    assert_eq!(schema.code, Some(0), "{schema:?}");
    fs::write(dir.path().join("schema.sql"), &schema.stdout)?;

    let same = run_in(
        dir.path(),
        ["check", "migrations", "--schema", "schema.sql"],
    )?;
    assert_eq!(same.code, Some(0), "{same:?}");
    assert!(!same.stdout.contains("schema-file-drift"), "{same:?}");

    fs::write(
        dir.path().join("migrations/V3__names.sql"),
        "ALTER TABLE users ADD COLUMN name TEXT;",
    )?;
    let drift = run_in(
        dir.path(),
        ["check", "migrations", "--schema", "schema.sql"],
    )?;
    assert_eq!(drift.code, Some(1), "{drift:?}");
    assert!(
        drift.stdout.contains("schema-file-drift: schema.sql"),
        "{drift:?}"
    );
    assert!(
        drift.stdout.contains("--- schema.sql\n+++ migrations\n"),
        "{drift:?}"
    );
    assert!(drift.stdout.contains("+    name text\n"), "{drift:?}");
    assert!(drift.stdout.contains("-    email text\n"), "{drift:?}");

    // The same file named in the config file, relative to it.
    fs::write(
        dir.path().join("migrations/sqlite-testdb.toml"),
        "schema-file = \"../schema.sql\"\n",
    )?;
    let config = run_in(dir.path(), ["check", "migrations", "--json"])?;
    assert_eq!(config.code, Some(1), "{config:?}");
    assert_eq!(
        codes(&config.json()?),
        [("schema-file-drift".to_owned(), String::new())]
    );
    Ok(())
}

#[test]
fn github_format_prints_one_workflow_command_per_finding() -> TestResult {
    let repo = released_repo()?;
    change(repo.path())?;
    let run = run_in(
        repo.path(),
        ["check", MIGRATIONS, "--since", "v1", "--format", "github"],
    )?;
    assert_eq!(run.code, Some(1), "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{run:?}");
    assert!(
        lines.iter().any(|l| l.starts_with(
            "::error file=db/migrations/V2__posts.sql,line=2,title=released-migration-changed::V2__posts was released at v1"
        )),
        "{run:?}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with(
            "::error file=db/migrations/V4__likes.sql,line=1,title=migration-out-of-order::"
        )),
        "{run:?}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with(
            "::error file=db/migrations/V3__tags.sql,title=released-migration-removed::"
        )),
        "{run:?}"
    );
    Ok(())
}

#[test]
fn github_format_escapes_the_multi_line_message_of_a_replay_finding() -> TestResult {
    let dir = folder(&[
        (
            "V1__users.sql",
            "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);",
        ),
        ("V2__index.sql", "CREATE INDEX users_email ON users(email);"),
        ("V2__index.down.sql", "SELECT 1;"),
    ])?;
    let run = run_in(dir.path(), ["check", ".", "--format", "github"])?;
    assert_eq!(run.code, Some(1), "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{run:?}");
    assert!(
        lines[0].starts_with("::error file=V2__index.sql,title=down-leaves-trace::"),
        "{run:?}"
    );
    assert!(lines[0].contains("%0A+create index users_email"), "{run:?}");
    Ok(())
}

#[test]
fn sarif_lists_a_rule_per_code_and_a_result_per_finding_with_file_and_line() -> TestResult {
    let repo = released_repo()?;
    change(repo.path())?;
    let run = run_in(
        repo.path(),
        ["check", MIGRATIONS, "--since", "v1", "--format", "sarif"],
    )?;
    assert_eq!(run.code, Some(1), "{run:?}");
    let log = run.json()?;
    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"].as_str().is_some_and(|s| s.contains("sarif")));
    let driver = &log["runs"][0]["tool"]["driver"];
    assert_eq!(driver["name"], "sqlite-testdb");
    let rules: Vec<&str> = driver["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["id"].as_str())
        .collect();
    for code in [
        "released-migration-changed",
        "released-migration-removed",
        "migration-out-of-order",
        "schema-file-drift",
    ] {
        assert!(rules.contains(&code), "{code} in {rules:?}");
    }
    assert!(
        driver["rules"][0]["help"]["text"]
            .as_str()
            .is_some_and(|h| h.contains("checksum"))
    );
    let results = log["runs"][0]["results"].as_array().ok_or("no results")?;
    assert_eq!(results.len(), 3, "{results:?}");
    let changed = results
        .iter()
        .find(|r| r["ruleId"] == "released-migration-changed")
        .ok_or("no changed result")?;
    assert_eq!(changed["level"], "error");
    let location = &changed["locations"][0]["physicalLocation"];
    assert_eq!(
        location["artifactLocation"]["uri"],
        "db/migrations/V2__posts.sql"
    );
    assert_eq!(location["region"]["startLine"], 2);
    assert!(
        changed["message"]["text"]
            .as_str()
            .is_some_and(|m| m.contains("whitespace only"))
    );
    Ok(())
}

#[test]
fn baseline_is_written_passes_fails_on_a_new_finding_and_reports_stale_entries() -> TestResult {
    let dir = folder(&[
        (
            "V1__users.sql",
            "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);",
        ),
        ("V2__index.sql", "CREATE INDEX users_email ON users(email);"),
        ("V2__index.down.sql", "SELECT 1;"),
    ])?;
    let write = run_in(
        dir.path(),
        ["check", ".", "--write-baseline", "baseline.json"],
    )?;
    assert_eq!(write.code, Some(0), "{write:?}");
    let recorded: Value =
        serde_json::from_str(&fs::read_to_string(dir.path().join("baseline.json"))?)?;
    assert_eq!(
        recorded["findings"][0]["code"], "down-leaves-trace",
        "{recorded}"
    );
    assert_eq!(
        recorded["findings"][0]["migration"], "V2__index",
        "{recorded}"
    );

    let pass = run_in(dir.path(), ["check", ".", "--baseline", "baseline.json"])?;
    assert_eq!(pass.code, Some(0), "{pass:?}");
    assert!(
        pass.stdout.contains(
            "in the baseline baseline.json (listed, not failed):\n  down-leaves-trace at V2__index"
        ),
        "{pass:?}"
    );

    fs::write(
        dir.path().join("V3__posts.sql"),
        "CREATE TABLE posts(id INTEGER PRIMARY KEY);",
    )?;
    fs::write(dir.path().join("V3__posts.down.sql"), "SELECT 1;")?;
    let new = run_in(
        dir.path(),
        ["check", ".", "--baseline", "baseline.json", "--json"],
    )?;
    assert_eq!(new.code, Some(1), "{new:?}");
    let document = new.json()?;
    let statuses: Vec<(String, String)> = document["annotations"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            (
                a["migration"].as_str().unwrap_or_default().to_owned(),
                a["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("V2__index".to_owned(), "baselined".to_owned()),
            ("V3__posts".to_owned(), "failing".to_owned()),
        ]
    );
    assert!(
        new.stderr
            .contains("1 finding(s) fail the check: down-leaves-trace at V3__posts"),
        "{new:?}"
    );

    fs::remove_file(dir.path().join("V3__posts.down.sql"))?;
    fs::write(dir.path().join("V3__posts.down.sql"), "DROP TABLE posts;")?;
    fs::write(
        dir.path().join("V2__index.down.sql"),
        "DROP INDEX users_email;",
    )?;
    let stale = run_in(dir.path(), ["check", ".", "--baseline", "baseline.json"])?;
    assert_eq!(stale.code, Some(0), "{stale:?}");
    assert!(
        stale.stdout.contains("baseline entries of baseline.json no longer found (stale; remove them):\n  down-leaves-trace at V2__index"),
        "{stale:?}"
    );
    Ok(())
}

#[test]
fn since_reads_the_diesel_layout_by_folder_not_by_position() -> TestResult {
    let repo = folder(&[
        (
            "migrations/2024-01-01-000000_users/up.sql",
            "CREATE TABLE users(id INTEGER PRIMARY KEY);\n",
        ),
        (
            "migrations/2024-01-01-000000_users/down.sql",
            "DROP TABLE users;\n",
        ),
        (
            "migrations/2024-03-01-000000_posts/up.sql",
            "CREATE TABLE posts(id INTEGER PRIMARY KEY);\n",
        ),
        (
            "migrations/2024-03-01-000000_posts/down.sql",
            "DROP TABLE posts;\n",
        ),
    ])?;
    release(repo.path())?;
    // A folder dated between the two released ones: the later one becomes version 3, and
    // is still the same released file.
    let tags = repo.path().join("migrations/2024-02-01-000000_tags");
    fs::create_dir_all(&tags)?;
    fs::write(
        tags.join("up.sql"),
        "CREATE TABLE tags(id INTEGER PRIMARY KEY);\n",
    )?;
    fs::write(tags.join("down.sql"), "DROP TABLE tags;\n")?;
    let run = run_in(
        repo.path(),
        ["check", "migrations", "--since", "HEAD", "--json"],
    )?;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(
        codes(&run.json()?),
        [("migration-out-of-order".to_owned(), "V2__tags".to_owned())]
    );
    Ok(())
}

/// A folder whose V2 drops a table and sets a PRAGMA its transaction ignores (line 2).
fn dropping_folder() -> std::io::Result<tempfile::TempDir> {
    folder(&[
        (
            "V1__init.sql",
            "CREATE TABLE users (id INTEGER PRIMARY KEY, nick TEXT);\n\
             CREATE TABLE legacy (id INTEGER PRIMARY KEY);",
        ),
        (
            "V2__cleanup.sql",
            "DROP TABLE legacy;\nPRAGMA foreign_keys = OFF;",
        ),
    ])
}

#[test]
fn schema_changes_fail_with_their_codes_in_text_json_and_annotations() -> TestResult {
    let dir = dropping_folder()?;
    let text = run_in(dir.path(), ["check", "."])?;
    assert_eq!(text.code, Some(1), "{text:?}");
    assert!(
        text.stdout.contains("[table-dropped] (table legacy)"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains("V2__cleanup.sql:2): must not rely on a PRAGMA"),
        "{}",
        text.stdout
    );
    assert!(
        text.stderr
            .contains("V2 pragma-in-transaction, V2 table-dropped"),
        "{}",
        text.stderr
    );

    let json = run_in(dir.path(), ["check", ".", "--json"])?.json()?;
    let findings = json["findings"].as_array().ok_or("no findings")?;
    let codes: Vec<&str> = findings.iter().filter_map(|f| f["code"].as_str()).collect();
    assert_eq!(codes, ["pragma-in-transaction", "table-dropped"]);
    assert_eq!(findings[0]["line"], 2);
    assert_eq!(findings[1]["table"], "legacy");
    assert!(
        findings
            .iter()
            .all(|f| f["fails"] == true && f["acknowledged"] == false)
    );

    let github = run_in(dir.path(), ["check", ".", "--format", "github"])?;
    assert_eq!(github.code, Some(1), "{github:?}");
    assert!(
        github
            .stdout
            .lines()
            .any(|l| l
                .starts_with("::error file=V2__cleanup.sql,line=2,title=pragma-in-transaction::")),
        "{}",
        github.stdout
    );
    Ok(())
}

#[test]
fn acknowledged_by_flag_or_config_the_check_passes_and_lists_them() -> TestResult {
    let dir = dropping_folder()?;
    let flags = run_in(
        dir.path(),
        [
            "check",
            ".",
            "--allow",
            "2:table-dropped",
            "--allow",
            "2:pragma-in-transaction",
        ],
    )?;
    assert_eq!(flags.code, Some(0), "{flags:?}");
    assert!(
        flags
            .stdout
            .contains("(acknowledged: pragma-in-transaction; acknowledged: table-dropped)"),
        "{}",
        flags.stdout
    );
    assert!(
        flags.stdout.contains("\nacknowledged at V2__cleanup ("),
        "{}",
        flags.stdout
    );

    fs::write(
        dir.path().join("sqlite-testdb.toml"),
        "[allow]\n2 = [\"table-dropped\", \"pragma-in-transaction\"]\n1 = [\"column-dropped\"]\n",
    )?;
    let config = run_in(dir.path(), ["check", ".", "--json"])?;
    assert_eq!(config.code, Some(0), "{config:?}");
    let json = config.json()?;
    let findings = json["findings"].as_array().ok_or("no findings")?;
    let seen: Vec<(&str, bool)> = findings
        .iter()
        .map(|f| (f["code"].as_str().unwrap_or(""), f["acknowledged"] == true))
        .collect();
    // V1's allow matches nothing: a stale-allow note, which does not fail.
    assert_eq!(
        seen,
        [
            ("stale-allow", false),
            ("pragma-in-transaction", true),
            ("table-dropped", true)
        ]
    );
    assert_eq!(findings[0]["fails"], false);

    let github = run_in(dir.path(), ["check", ".", "--format", "github"])?;
    assert_eq!(github.code, Some(0), "{github:?}");
    assert!(
        github
            .stdout
            .contains("::notice file=V2__cleanup.sql,title=table-dropped::"),
        "{}",
        github.stdout
    );
    assert!(
        github
            .stdout
            .contains("::warning file=V1__init.sql,title=stale-allow::"),
        "{}",
        github.stdout
    );
    Ok(())
}

#[test]
fn bad_acknowledgements_are_errors_naming_the_flag_or_the_config_file() -> TestResult {
    let dir = dropping_folder()?;
    let bad_code = run_in(dir.path(), ["check", ".", "--allow", "2:table-droped"])?;
    assert_eq!(bad_code.code, Some(2), "{bad_code:?}");
    assert!(
        bad_code.stderr.contains(
            "--allow `2:table-droped`: `table-droped` is not a check's code (codes: must-apply,"
        ),
        "{}",
        bad_code.stderr
    );
    let no_colon = run_in(dir.path(), ["check", ".", "--allow", "table-dropped"])?;
    assert!(
        no_colon.stderr.contains("expected VERSION:CODE"),
        "{}",
        no_colon.stderr
    );

    fs::write(
        dir.path().join("sqlite-testdb.toml"),
        "[allow]\n9 = [\"table-dropped\"]\n",
    )?;
    let bad_version = run_in(dir.path(), ["check", "."])?;
    assert_eq!(bad_version.code, Some(2), "{bad_version:?}");
    assert!(
        bad_version.stderr.contains("sqlite-testdb.toml"),
        "{}",
        bad_version.stderr
    );
    assert!(
        bad_version.stderr.contains("[allow] 9: no migration of ")
            && bad_version.stderr.contains(" has version `9`"),
        "{}",
        bad_version.stderr
    );
    Ok(())
}

#[test]
fn the_minimum_sqlite_comes_from_the_flag_or_the_config_file() -> TestResult {
    let dir = folder(&[
        (
            "V1__users.sql",
            "CREATE TABLE users (id INTEGER PRIMARY KEY, doc TEXT);",
        ),
        (
            "V2__names.sql",
            "CREATE VIEW names AS\nSELECT doc ->> '$.name' AS name FROM users;",
        ),
    ])?;
    assert_eq!(run_in(dir.path(), ["check", "."])?.code, Some(0));
    let flag = run_in(dir.path(), ["check", ".", "--min-sqlite", "3.37"])?;
    assert_eq!(flag.code, Some(1), "{flag:?}");
    assert!(
        flag.stdout
            .contains("V2__names.sql:2): must run on the oldest SQLite"),
        "{}",
        flag.stdout
    );
    assert!(
        flag.stdout.contains("needs SQLite 3.38.0"),
        "{}",
        flag.stdout
    );
    fs::write(
        dir.path().join("sqlite-testdb.toml"),
        "min-sqlite = \"3.38\"\n",
    )?;
    assert_eq!(run_in(dir.path(), ["check", "."])?.code, Some(0));
    fs::write(
        dir.path().join("sqlite-testdb.toml"),
        "min-sqlite = \"three\"\n",
    )?;
    let bad = run_in(dir.path(), ["check", "."])?;
    assert_eq!(bad.code, Some(2), "{bad:?}");
    assert!(
        bad.stderr.contains("`three` is not a SQLite version"),
        "{}",
        bad.stderr
    );
    Ok(())
}

#[test]
fn schema_diff_and_expect_changes_take_the_librarys_own_versions() -> TestResult {
    let dir = folder(&[
        (
            "20240101000000_users.sql",
            "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);",
        ),
        (
            "20240201000000_posts.sql",
            "CREATE TABLE posts (id INTEGER PRIMARY KEY);\nUPDATE users SET name = upper(name);",
        ),
    ])?;
    let schema = run_in(dir.path(), ["schema", ".", "--version", "20240101000000"])?;
    assert_eq!(schema.code, Some(0), "{schema:?}");
    assert!(!schema.stdout.contains("posts"), "{}", schema.stdout);
    let diff = run_in(
        dir.path(),
        ["diff", ".", "20240101000000", "20240201000000"],
    )?;
    assert_eq!(diff.code, Some(0), "{diff:?}");
    assert!(
        diff.stdout
            .starts_with("--- 20240101000000 users\n+++ 20240201000000 posts\n"),
        "{}",
        diff.stdout
    );
    let data = run_in(
        dir.path(),
        [
            "check",
            ".",
            "--with-data",
            "--expect-changes",
            "20240201000000",
        ],
    )?;
    assert_eq!(data.code, Some(0), "{data:?}");
    let unknown = run_in(dir.path(), ["schema", ".", "--version", "20230101000000"])?;
    assert_eq!(unknown.code, Some(2), "{unknown:?}");
    assert!(
        unknown
            .stderr
            .contains("has version `20230101000000` (the first is 20240101000000 users)"),
        "{}",
        unknown.stderr
    );
    Ok(())
}

#[test]
fn since_fails_schema_changes_of_new_migrations_only() -> TestResult {
    let repo = folder(&[
        (
            "db/migrations/V1__users.sql",
            "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT, nick TEXT);\n\
             CREATE TABLE legacy(id INTEGER PRIMARY KEY);\n",
        ),
        ("db/migrations/V2__no_legacy.sql", "DROP TABLE legacy;\n"),
    ])?;
    release(repo.path())?;
    fs::write(
        repo.path().join(MIGRATIONS).join("V3__no_nick.sql"),
        "ALTER TABLE users DROP COLUMN nick;\n",
    )?;
    let run = run_in(
        repo.path(),
        ["check", MIGRATIONS, "--since", "HEAD", "--format", "github"],
    )?;
    assert_eq!(run.code, Some(1), "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    // The released V2's drop is listed, not failed; the new V3's fails.
    assert!(
        lines.iter().any(|l| l
            .starts_with("::warning file=db/migrations/V2__no_legacy.sql,title=table-dropped::")),
        "{}",
        run.stdout
    );
    assert!(
        lines
            .iter()
            .any(|l| l
                .starts_with("::error file=db/migrations/V3__no_nick.sql,title=column-dropped::")),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("::error file=db/migrations/V2"),
        "{}",
        run.stdout
    );
    Ok(())
}
