//! Helpers shared by the integration tests.
#![allow(dead_code)]

#[cfg(feature = "cli")]
pub mod cli;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sqlite_testdb::{Migrations, Result};

/// The tables of the example identity schema in `migrations/`.
pub const EXAMPLE_TABLES: [&str; 7] = [
    "authorization_requests",
    "client_secret_versions",
    "clients",
    "key_rotation_events",
    "sessions",
    "tokens",
    "users",
];

/// The crate's example migrations.
pub fn example_migrations() -> Result<Migrations> {
    Migrations::from_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations"))
}

/// A folder of test migrations under `tests/migrations/`.
pub fn test_migrations(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/migrations")
        .join(name)
}

/// A new temp folder holding `files`, given as (path inside the folder, content) pairs;
/// sub-folders are created as needed.
pub fn folder(files: &[(&str, &str)]) -> std::io::Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    for (name, content) in files {
        let path = dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, content)?;
    }
    Ok(dir)
}

/// User tables of the database at `path`, sorted.
pub fn tables(conn: &rusqlite::Connection) -> rusqlite::Result<Vec<String>> {
    conn.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name <> 'refinery_schema_history' ORDER BY name",
    )?
    .query_map([], |row| row.get(0))?
    .collect()
}

/// A command that runs one `#[ignore]`d test of the current test binary in a child process,
/// the way both `cargo test` and `cargo nextest run` run tests, with extra environment
/// variables. The child's `SQLITE_TESTDB_*` variables are cleared first, so only `envs`
/// steer it.
pub fn child_command(test: &str, envs: &[(&str, &str)]) -> std::io::Result<Command> {
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.args([
        test_name(test)?.as_str(),
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    for var in [
        "SQLITE_TESTDB_KEEP",
        "SQLITE_TESTDB_CACHE_DIR",
        "SQLITE_TESTDB_STORAGE",
    ] {
        cmd.env_remove(var);
    }
    cmd.envs(envs.iter().copied());
    Ok(cmd)
}

/// The full name of the `#[ignore]`d test `test` of this binary (`module::test`), as `--exact`
/// wants it: the tests are modules of one binary, so a bare function name matches nothing.
pub fn test_name(test: &str) -> std::io::Result<String> {
    static IGNORED: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let listed = match IGNORED.get() {
        Some(listed) => listed,
        None => {
            let out = Command::new(std::env::current_exe()?)
                .args(["--list", "--ignored"])
                .output()?;
            let names = String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter_map(|l| l.strip_suffix(": test"))
                .map(str::to_owned)
                .collect();
            IGNORED.get_or_init(|| names)
        }
    };
    let suffix = format!("::{test}");
    let mut found = listed.iter().filter(|n| *n == test || n.ends_with(&suffix));
    match (found.next(), found.next()) {
        (Some(name), None) => Ok(name.clone()),
        _ => Err(std::io::Error::other(format!(
            "no single ignored test named {test:?} in this binary: {listed:?}"
        ))),
    }
}

/// Runs [`child_command`] to its end.
pub fn run_child(test: &str, envs: &[(&str, &str)]) -> std::io::Result<Output> {
    child_command(test, envs)?.output()
}

/// The lines of `<cache>/builds.log`: one per template built.
pub fn build_log(cache: &Path) -> Vec<String> {
    std::fs::read_to_string(cache.join("builds.log"))
        .map(|text| text.lines().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Names of the entries of `dir`, sorted.
pub fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// An error's message and every `source()` below it, as a person reads them.
pub fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str("\n  caused by: ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
