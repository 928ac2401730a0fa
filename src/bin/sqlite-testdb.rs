//! `sqlite-testdb`: check a folder of SQLite migrations (refinery's or diesel's layout) from
//! the command line, print its normalized schema at a version, or diff two versions.
//!
//! Built with the `cli` feature: `cargo install sqlite-testdb --features cli`.
//!
//! Exit codes: 0 when everything passed, 1 when a migration failed or a check failed, 2 on
//! bad input (missing folder, badly named file, duplicate version, unknown version, an
//! extension that does not load, bad usage) or when the command could not run.

use std::error::Error as StdError;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use rusqlite::Connection;
use serde_json::{Value, json};
use sqlite_testdb::replay::{self, Down, ReplayReport};
use sqlite_testdb::{
    Builder, DataOptions, Error, Keep, Migrations, Schema, SchemaObject, TestDb, Version,
};

/// Check, inspect and diff a folder of SQLite migrations.
///
/// DIR holds refinery migrations (V1__users.sql, with optional V1__users.down.sql beside
/// them) or diesel migrations (2024-01-15-120000_users/up.sql and down.sql; the folders
/// become versions 1, 2, 3, ... in name order).
///
/// Every run uses fresh databases and a fresh template cache in the system temp folder, and
/// removes them before it exits: the migration folder is only read.
#[derive(Debug, Parser)]
#[command(name = "sqlite-testdb", version, about, long_about, after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

const AFTER_HELP: &str = "\
Examples:
  sqlite-testdb check migrations/              replay, roll back and redo every migration
  sqlite-testdb schema migrations/ --version 3 the schema after V3
  sqlite-testdb diff migrations/ 5 6           what V6 changes in the schema

Exit codes:
  0  everything passed
  1  a migration failed to apply, or a check failed
  2  bad input (missing folder, badly named file, duplicate or unknown version, an
     extension that does not load, bad usage), or the command could not run";

#[derive(Debug, Subcommand)]
enum Command {
    /// Replay every migration in fresh databases and report, version by version
    ///
    /// For each migration: it applies; PRAGMA integrity_check and foreign_key_check are
    /// clean after it; where it has a down script, up then down leaves no trace and up again
    /// gives the same schema. Then: applying step by step gives the schema of applying all at
    /// once, and running the migrations again changes nothing.
    ///
    /// Prints one line per migration and a summary on stdout. On the first failure, prints
    /// the migration, its file, the check and the schema difference on stderr, and exits 1.
    #[command(after_help = "\
Examples:
  sqlite-testdb check migrations/
  sqlite-testdb check migrations/ --json > replay.json
  sqlite-testdb check migrations/ --load-extension ./vector0.so
  sqlite-testdb check migrations/ --with-data --rows 50 --seed 7")]
    Check {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        data: DataArgs,
    },

    /// Print the normalized schema at a version (default: the latest)
    ///
    /// Normalized: comments dropped, whitespace collapsed, identifier quoting removed,
    /// lower case; tables, then indexes, views and triggers, each by name; refinery's history
    /// table left out. Two schemas a person would call the same print the same.
    #[command(after_help = "\
Examples:
  sqlite-testdb schema migrations/
  sqlite-testdb schema migrations/ --version 3
  sqlite-testdb schema migrations/ --json")]
    Schema {
        #[command(flatten)]
        common: Common,
        /// The migration version to stop at (one of the folder's versions)
        #[arg(long, value_name = "N")]
        version: Option<Version>,
    },

    /// Print the schema change from version A to version B, as a unified diff
    ///
    /// Lines starting with - are only in A's schema, lines with + only in B's. Prints
    /// nothing on stdout (and "no schema change" on stderr) when the schemas are the same.
    #[command(after_help = "\
Examples:
  sqlite-testdb diff migrations/ 5 6
  sqlite-testdb diff migrations/ 1 7 --json")]
    Diff {
        #[command(flatten)]
        common: Common,
        /// The version to diff from
        #[arg(value_name = "A")]
        from: Version,
        /// The version to diff to
        #[arg(value_name = "B")]
        to: Version,
    },
}

/// The replay with generated data of `check --with-data`.
#[derive(Debug, Args)]
struct DataArgs {
    /// Also replay every migration over generated rows: it must apply with them present,
    /// keep every row and value of the tables and columns that remain, and its down script
    /// must give the rows back
    #[arg(long)]
    with_data: bool,
    /// Rows generated per table, with --with-data
    #[arg(long, value_name = "N", default_value_t = 20, requires = "with_data")]
    rows: usize,
    /// Seed of the generator, with --with-data: the same seed gives the same rows
    #[arg(long, value_name = "SEED", default_value_t = 0, requires = "with_data")]
    seed: u64,
    /// A version whose data changes are deliberate: listed, not failed (repeatable)
    #[arg(long, value_name = "VERSION", requires = "with_data")]
    expect_changes: Vec<Version>,
}

impl DataArgs {
    fn options(&self) -> Option<DataOptions> {
        self.with_data.then(|| {
            self.expect_changes.iter().fold(
                DataOptions::default()
                    .rows_per_table(self.rows)
                    .seed(self.seed),
                |options, version| options.expect_changes(*version),
            )
        })
    }
}

/// What every subcommand takes.
#[derive(Debug, Args)]
struct Common {
    /// The migrations folder: refinery's layout or diesel's
    #[arg(value_name = "DIR")]
    dir: PathBuf,

    /// Print JSON on stdout instead of text (errors too, as {"ok": false, "error": {...}})
    #[arg(long)]
    json: bool,

    /// Load this SQLite extension on every connection, for migrations that need it
    /// (repeatable). Passed to sqlite3_load_extension as given: a path, or a library name
    /// the system loader finds; SQLite adds .so, .dylib or .dll when missing
    #[arg(long = "load-extension", value_name = "PATH")]
    load_extensions: Vec<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.command.common().json;
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(json),
    }
}

impl Command {
    fn common(&self) -> &Common {
        match self {
            Command::Check { common, .. }
            | Command::Schema { common, .. }
            | Command::Diff { common, .. } => common,
        }
    }
}

/// Why a run stopped.
enum Failure {
    /// The folder could not be read as a migration set, or a version is not in it.
    Input(Error),
    /// Any other error from the library: a failing migration or check, or trouble.
    Lib(Error),
    /// An extension that does not load.
    Extension {
        path: PathBuf,
        source: rusqlite::Error,
    },
    /// The template cache folder could not be created.
    CacheDir(io::Error),
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        match error {
            Error::UnknownVersion { .. } => Failure::Input(error),
            _ => Failure::Lib(error),
        }
    }
}

impl Failure {
    /// 1 when the migrations are at fault, 2 when the input is or the command could not run.
    fn exit_code(&self) -> u8 {
        match self {
            Failure::Lib(
                Error::Replay { .. }
                | Error::ReplayData { .. }
                | Error::Migration { .. }
                | Error::DownScript { .. }
                | Error::ForeignKeyViolations { .. },
            ) => 1,
            _ => 2,
        }
    }

    /// The error with its source chain, as printed on stderr.
    fn message(&self) -> String {
        let mut message = self.untrimmed_message();
        message.truncate(message.trim_end().len());
        message
    }

    fn untrimmed_message(&self) -> String {
        match self {
            Failure::Input(error) | Failure::Lib(error) => error.with_causes(),
            Failure::Extension { path, source } => {
                format!(
                    "cannot load SQLite extension {:?}\ncaused by: {source}",
                    path.display().to_string()
                )
            }
            Failure::CacheDir(source) => format!(
                "failed to create a temporary template cache folder in {:?}\ncaused by: {source}",
                std::env::temp_dir()
            ),
        }
    }

    /// The error as JSON: what failed, where, which check and what differed.
    fn to_json(&self) -> Value {
        let message = self.message();
        let error = match self {
            Failure::Lib(Error::Replay {
                migration,
                file,
                check,
                detail,
            }) => json!({
                "kind": "replay",
                "migration": migration,
                "file": file.as_deref().map(path_text),
                "check": check,
                "detail": detail,
                "message": message,
            }),
            Failure::Lib(Error::Migration {
                migration,
                file,
                applied,
                source,
                ..
            }) => json!({
                "kind": "migration",
                "migration": migration,
                "file": file.as_deref().map(path_text),
                "check": "migration must apply",
                "detail": chain(source),
                "applied": applied,
                "message": message,
            }),
            Failure::Lib(Error::DownScript {
                migration,
                file,
                source,
            }) => json!({
                "kind": "down_script",
                "migration": migration,
                "file": file.as_deref().map(path_text),
                "check": "down script must run",
                "detail": chain(source),
                "message": message,
            }),
            Failure::Lib(Error::ReplayData {
                migration,
                file,
                check,
                table,
                column,
                detail,
                script,
            }) => json!({
                "kind": "replay_data",
                "migration": migration,
                "file": file.as_deref().map(path_text),
                "check": check,
                "table": table.as_deref(),
                "column": column.as_deref(),
                "detail": detail.as_ref(),
                "script": script.as_deref().map(path_text),
                "message": message,
            }),
            Failure::Input(_) => json!({ "kind": "bad_input", "message": message }),
            Failure::Extension { path, .. } => json!({
                "kind": "extension",
                "path": path_text(path),
                "message": message,
            }),
            Failure::Lib(_) | Failure::CacheDir(_) => {
                json!({ "kind": "error", "message": message })
            }
        };
        json!({ "ok": false, "exit_code": self.exit_code(), "error": error })
    }

    fn report(self, json: bool) -> ExitCode {
        if json {
            print_json(&self.to_json());
        }
        eprintln!("error: {}", self.message());
        ExitCode::from(self.exit_code())
    }
}

fn run(command: Command) -> Result<(), Failure> {
    let common = command.common();
    let migrations = Migrations::from_dir(&common.dir).map_err(Failure::Input)?;
    let extensions = Arc::new(common.load_extensions.clone());
    check_extensions(&extensions)?;

    // A fresh cache per run, removed when this function returns: the command leaves no
    // template behind, and SQLITE_TESTDB_CACHE_DIR is not used.
    let cache = tempfile::Builder::new()
        .prefix("sqlite-testdb-cli-")
        .tempdir()
        .map_err(Failure::CacheDir)?;
    let mut builder = TestDb::builder(&migrations);
    builder.cache_dir(cache.path()).keep(Keep::Never);
    if !extensions.is_empty() {
        builder.on_connect(move |conn| load_extensions(conn, &extensions));
    }

    match command {
        Command::Check { common, data } => check(&builder, common.json, data.options()),
        Command::Schema {
            common, version, ..
        } => {
            let version = version.unwrap_or_else(|| migrations.latest());
            let schema = schema_at(&mut builder, version)?;
            if common.json {
                print_json(&Value::Array(
                    schema.objects().iter().map(object_json).collect(),
                ));
            } else {
                print_text(&schema.to_string());
            }
            Ok(())
        }
        Command::Diff { common, from, to } => {
            let a = schema_at(&mut builder, from)?;
            let b = schema_at(&mut builder, to)?;
            let diff = a.diff_labeled(&b, &format!("V{from}"), &format!("V{to}"));
            if common.json {
                print_json(&diff_json(from, to, &a, &b, &diff));
            } else if diff.is_empty() {
                eprintln!("no schema change between V{from} and V{to}");
            } else {
                print_text(&diff);
            }
            Ok(())
        }
    }
}

/// `check`: the replay report, with a progress line on a terminal.
fn check(builder: &Builder<'_>, json: bool, data: Option<DataOptions>) -> Result<(), Failure> {
    let total = builder.migrations().len();
    let mut line = ProgressLine::new();
    if let Some(first) = builder.migrations().iter().next() {
        line.show(&format!("checking 1/{total} {first}"));
    }
    let progress = |p: replay::Progress<'_>| {
        // `p` is the migration just checked; show the one being checked now.
        match builder.migrations().iter().nth(p.done) {
            Some(next) => line.show(&format!("checking {}/{} {next}", p.done + 1, p.total)),
            None => line.show(&format!(
                "checked {}/{}; comparing step by step with all at once",
                p.done, p.total
            )),
        }
    };
    let report = match data {
        Some(options) => replay::check_with_data_progress(builder, options, progress),
        None => replay::check_with_progress(builder, progress),
    };
    line.clear();
    let report = report?;
    if json {
        print_json(&report_json(builder.migrations(), &report));
    } else {
        print_text(&report.to_string());
    }
    Ok(())
}

/// The normalized schema of a new database at `version`.
fn schema_at(builder: &mut Builder<'_>, version: Version) -> Result<Schema, Failure> {
    let mut line = ProgressLine::new();
    line.show(&format!("migrating to V{version}"));
    let db = builder.version(version).build()?;
    line.clear();
    let schema = db.schema()?;
    db.close()?;
    Ok(schema)
}

/// Loads every extension once into a scratch connection, so that a bad path is reported as
/// itself, before anything runs.
fn check_extensions(paths: &[PathBuf]) -> Result<(), Failure> {
    if paths.is_empty() {
        return Ok(());
    }
    let conn = Connection::open_in_memory().map_err(|source| Failure::Extension {
        path: paths[0].clone(),
        source,
    })?;
    for path in paths {
        load_extension(&conn, path).map_err(|source| Failure::Extension {
            path: path.clone(),
            source,
        })?;
    }
    Ok(())
}

/// The `on_connect` hook: every extension, in the order given.
fn load_extensions(conn: &mut Connection, paths: &[PathBuf]) -> rusqlite::Result<()> {
    paths.iter().try_for_each(|path| load_extension(conn, path))
}

#[allow(unsafe_code)]
fn load_extension(conn: &Connection, path: &Path) -> rusqlite::Result<()> {
    // SAFETY: loading a library runs its code; the user named it on the command line, which
    // is the trust `--load-extension` asks for. Extension loading is enabled only for this
    // one call (the guard disables it on drop) and no SQL runs meanwhile, so no statement
    // can call `load_extension()` itself.
    unsafe {
        let _guard = rusqlite::LoadExtensionGuard::new(conn)?;
        conn.load_extension(path, None::<&str>)
    }
}

fn report_json(migrations: &Migrations, report: &ReplayReport) -> Value {
    let steps: Vec<Value> = report
        .steps()
        .iter()
        .map(|s| {
            let down = match s.down() {
                Down::Reverses => "reverses",
                Down::Missing => "missing",
                Down::Irreversible => "irreversible",
                _ => "unknown",
            };
            json!({
                "version": s.version(),
                "migration": s.migration(),
                "file": s.file().map(path_text),
                "down": down,
            })
        })
        .collect();
    json!({
        "ok": true,
        "dir": migrations.dir().map(path_text),
        "migrations": steps,
        "without_down_script": report.without_down_script(),
        "irreversible": report.irreversible(),
    })
}

fn object_json(object: &SchemaObject) -> Value {
    json!({
        "kind": object.kind(),
        "name": object.name(),
        "table": object.table(),
        "sql": object.sql(),
    })
}

/// The diff as JSON: the text, and the objects added, removed and changed.
fn diff_json(from: Version, to: Version, a: &Schema, b: &Schema, diff: &str) -> Value {
    let find = |schema: &Schema, o: &SchemaObject| {
        schema
            .objects()
            .iter()
            .find(|x| x.kind() == o.kind() && x.name() == o.name())
            .cloned()
    };
    let removed: Vec<Value> = a
        .objects()
        .iter()
        .filter(|o| find(b, o).is_none())
        .map(object_json)
        .collect();
    let added: Vec<Value> = b
        .objects()
        .iter()
        .filter(|o| find(a, o).is_none())
        .map(object_json)
        .collect();
    let changed: Vec<Value> = a
        .objects()
        .iter()
        .filter_map(|o| {
            let other = find(b, o)?;
            (other.sql() != o.sql()).then(|| {
                json!({
                    "kind": o.kind(),
                    "name": o.name(),
                    "table": other.table(),
                    "from_sql": o.sql(),
                    "to_sql": other.sql(),
                })
            })
        })
        .collect();
    json!({
        "from": from,
        "to": to,
        "diff": diff,
        "added": added,
        "removed": removed,
        "changed": changed,
    })
}

fn path_text(path: &Path) -> String {
    path.display().to_string()
}

/// refinery's or SQLite's error (the source of ours) with every source below it that adds
/// something: [`Error::with_causes`] for an error that is not ours.
fn chain(error: &dyn StdError) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let message = cause.to_string();
        if !text.contains(&message) {
            text.push_str("\ncaused by: ");
            text.push_str(&message);
        }
        source = cause.source();
    }
    text
}

/// Writes to stdout; a closed pipe (`| head`) is not an error worth a panic.
fn print_text(text: &str) {
    let mut out = io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

fn print_json(value: &Value) {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("\"{e}\""));
    print_text(&format!("{text}\n"));
}

/// One line on stderr, rewritten in place; only when stderr is a terminal.
struct ProgressLine {
    enabled: bool,
    width: usize,
}

impl ProgressLine {
    /// Longest line shown: a long migration name must not wrap, or `\r` cannot rewrite it.
    const MAX: usize = 76;

    fn new() -> Self {
        ProgressLine {
            enabled: io::stderr().is_terminal(),
            width: 0,
        }
    }

    fn show(&mut self, text: &str) {
        if !self.enabled {
            return;
        }
        let text: String = text.chars().take(Self::MAX).collect();
        let len = text.chars().count();
        let pad = self.width.saturating_sub(len);
        let mut err = io::stderr().lock();
        let _ = write!(err, "\r{text}{:pad$}", "").and_then(|()| err.flush());
        self.width = len;
    }

    fn clear(&mut self) {
        if self.enabled && self.width > 0 {
            let mut err = io::stderr().lock();
            let _ = write!(err, "\r{:w$}\r", "", w = self.width).and_then(|()| err.flush());
            self.width = 0;
        }
    }
}

impl Drop for ProgressLine {
    fn drop(&mut self) {
        self.clear();
    }
}
