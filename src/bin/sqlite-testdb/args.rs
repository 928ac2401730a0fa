//! The command line: subcommands and their arguments, derived by clap.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// Check, inspect and diff a folder of SQLite migrations.
///
/// DIR holds refinery migrations (V1__users.sql, with optional V1__users.down.sql beside
/// them), diesel migrations (2024-01-15-120000_users/up.sql and down.sql) or sqlx
/// migrations (20240115120000_users.sql, or .up.sql and .down.sql); diesel's and sqlx's
/// become versions 1, 2, 3, ... in order, and are named as their library names them.
///
/// Every run uses fresh databases and a fresh template cache in the system temp folder, and
/// removes them before it exits: the migration folder is only read.
#[derive(Debug, Parser)]
#[command(name = "sqlite-testdb", version, about, long_about, after_help = AFTER_HELP)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
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
#[allow(
    clippy::large_enum_variant,
    reason = "made once per run; check's arguments are most of it"
)]
pub(crate) enum Command {
    /// Replay every migration in fresh databases and report, version by version
    ///
    /// For each migration: it applies; PRAGMA integrity_check and foreign_key_check are
    /// clean after it; where it has a down script, up then down leaves no trace and up again
    /// gives the same schema. Then: applying step by step gives the schema of applying all at
    /// once, and running the migrations again changes nothing.
    ///
    /// Every version is checked on its own, so one run finds every failure. Prints one line
    /// per migration on stdout, then every finding in full (the migration, its file, the
    /// check, the schema difference or the rows involved) and a summary; exits 1 when there
    /// is any finding.
    ///
    /// A file sqlite-testdb.toml in DIR (or --config FILE) can hold the settings of CI runs:
    ///
    ///   expect-changes = [21, 35]   # migrations that change data on purpose
    ///   foreign-keys = false        # migrate with foreign keys off
    ///   rows = 20                   # rows per table, with --with-data
    ///   seed = 0                    # seed of the generated rows
    ///   time-limit = 10             # seconds a migration may run over them
    ///   schema-file = "../schema.sql"  # the committed schema, as with --schema
    #[command(after_help = "\
Examples:
  sqlite-testdb check migrations/
  sqlite-testdb check migrations/ --json > replay.json
  sqlite-testdb check migrations/ --load-extension ./vector0.so
  sqlite-testdb check migrations/ --with-data --rows 50 --seed 7
  sqlite-testdb check migrations/ --with-data --expect-changes 21
  sqlite-testdb check migrations/ --from ./backup/app.db
  sqlite-testdb check migrations/ --since origin/main --format github
  sqlite-testdb check migrations/ --schema schema.sql
  sqlite-testdb check migrations/ --baseline sqlite-testdb-baseline.json")]
    Check {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        check: CheckArgs,
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
        /// The migration version to stop at: one of the folder's versions, as its library
        /// writes it (refinery's 3, sqlx's 20240101000000, diesel's folder or its digits)
        #[arg(long, value_name = "VERSION")]
        version: Option<String>,
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
        /// The version to diff from, as the folder's library writes it
        #[arg(value_name = "A")]
        from: String,
        /// The version to diff to
        #[arg(value_name = "B")]
        to: String,
    },

    /// Write DIR/sqlite-testdb.lock: the released migrations, one line each (version, name,
    /// checksum), which `check` then verifies
    ///
    /// For projects without git history to compare with (`check --since REF`): a migration
    /// in the lock file must be neither changed (refinery's checksum, which the
    /// application's runner compares too) nor removed, and a new one must sort above them.
    /// Run it when releasing, and commit the file.
    #[command(after_help = "\
Examples:
  sqlite-testdb lock migrations/")]
    Lock {
        #[command(flatten)]
        common: Common,
    },
}

/// What `check` takes besides the folder.
#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// Also replay every migration over generated rows: it must apply with them present,
    /// keep every row and value of the tables and columns that remain, and its down script
    /// must give the rows back
    #[arg(long, conflicts_with = "from")]
    pub(crate) with_data: bool,
    /// Rows generated per table, with --with-data (default 20, or `rows` in the config file)
    #[arg(long, value_name = "N", requires = "with_data")]
    pub(crate) rows: Option<usize>,
    /// Seed of the generator, with --with-data: the same seed gives the same rows (default
    /// 0, or `seed` in the config file)
    #[arg(long, value_name = "SEED", requires = "with_data")]
    pub(crate) seed: Option<u64>,
    /// How long one migration may run over the generated rows before it is stopped and
    /// reported, with --with-data (default 10, or `time-limit` in the config file)
    #[arg(long, value_name = "SECONDS", requires = "with_data", value_parser = seconds)]
    pub(crate) time_limit: Option<Duration>,
    /// Write the scripts that reproduce failures over generated rows into DIR (made if
    /// missing; files of an earlier run replaced), with --with-data. Without it they are
    /// kept in a new sqlite-testdb-replay-… folder in the temp folder, named in the output
    #[arg(long, value_name = "DIR", requires = "with_data")]
    pub(crate) scripts: Option<PathBuf>,
    /// A version whose data changes are deliberate: listed, not failed (repeatable; with
    /// --with-data or --from). Added to `expect-changes` of the config file
    #[arg(long, value_name = "VERSION")]
    pub(crate) expect_changes: Vec<String>,
    /// Acknowledge a finding that a migration means, as VERSION:CODE (3:column-dropped;
    /// for sqlx and diesel, their own version): listed, not failed (repeatable). Added to
    /// the `[allow]` table of the config file and the migrations' own
    /// `-- sqlite-testdb: allow CODE` comments
    #[arg(long, value_name = "VERSION:CODE")]
    pub(crate) allow: Vec<String>,
    /// The oldest SQLite the project supports ("3.31"): a migration using a feature newer
    /// than it (RETURNING, DROP COLUMN, STRICT, ->>, …) fails. Or `min-sqlite` in the
    /// config file
    #[arg(long, value_name = "VERSION")]
    pub(crate) min_sqlite: Option<String>,
    /// Stop at the first finding instead of checking every version
    #[arg(long)]
    pub(crate) fail_fast: bool,
    /// Run the migrations and down scripts with foreign keys off (PRAGMA foreign_keys = OFF
    /// before each), as applications that rebuild referenced tables do; rows left
    /// referencing nothing are still found. Or `foreign-keys = false` in the config file
    #[arg(long)]
    pub(crate) foreign_keys_off: bool,
    /// Check the upgrade of a real database instead: a copy of FILE (FILE itself is only
    /// read) is brought from the version its history table names (refinery's, sqlx's or
    /// diesel's, as the folder's) to the latest, one
    /// migration at a time, with the checks over rows after each
    #[arg(long, value_name = "FILE")]
    pub(crate) from: Option<PathBuf>,
    /// The config file (default: sqlite-testdb.toml in DIR, when there is one)
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// A git revision (origin/main, HEAD, a tag): every migration file in DIR at REF is
    /// released, and must be neither changed nor removed; a new migration must sort above
    /// them. Findings of released migrations do not fail the run
    #[arg(long, value_name = "REF")]
    pub(crate) since: Option<String>,
    /// The committed schema file (what `sqlite-testdb schema DIR` printed): fails when the
    /// migrations no longer produce it, with the diff. Or `schema-file` in the config file
    #[arg(long, value_name = "FILE")]
    pub(crate) schema: Option<PathBuf>,
    /// What to print: text, json (the same as --json), github (workflow annotations) or
    /// sarif (SARIF 2.1.0 for code scanning)
    #[arg(long, value_name = "FORMAT", conflicts_with = "json")]
    pub(crate) format: Option<crate::ci::Format>,
    /// Fail only on findings not recorded in FILE (written by --write-baseline); those in it
    /// are listed, and entries no longer found are reported as stale
    #[arg(long, value_name = "FILE", conflicts_with = "write_baseline")]
    pub(crate) baseline: Option<PathBuf>,
    /// Record today's findings in FILE, for --baseline, and pass
    #[arg(long, value_name = "FILE")]
    pub(crate) write_baseline: Option<PathBuf>,
}

/// A number of seconds, above zero: `10`, `2.5`.
fn seconds(text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .and_then(positive_seconds)
        .ok_or_else(|| format!("`{text}` is not a number of seconds above zero"))
}

/// `seconds` as a duration, when it is a finite number above zero (the command line's and
/// the config file's time limit).
pub(crate) fn positive_seconds(seconds: f64) -> Option<Duration> {
    Some(seconds)
        .filter(|s| s.is_finite() && *s > 0.0)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
}

/// What every subcommand takes.
#[derive(Debug, Args)]
pub(crate) struct Common {
    /// The migrations folder: refinery's, diesel's or sqlx's layout
    #[arg(value_name = "DIR")]
    pub(crate) dir: PathBuf,

    /// Print JSON on stdout instead of text (errors too, as {"ok": false, "error": {...}})
    #[arg(long)]
    pub(crate) json: bool,

    /// Load this SQLite extension on every connection, for migrations that need it
    /// (repeatable). Passed to sqlite3_load_extension as given: a path, or a library name
    /// the system loader finds; SQLite adds .so, .dylib or .dll when missing
    #[arg(long = "load-extension", value_name = "PATH")]
    pub(crate) load_extensions: Vec<PathBuf>,
}

impl Command {
    pub(crate) fn common(&self) -> &Common {
        match self {
            Command::Check { common, .. }
            | Command::Schema { common, .. }
            | Command::Diff { common, .. }
            | Command::Lock { common } => common,
        }
    }

    /// Whether errors are told as JSON too: `--json`, or `check --format json`.
    pub(crate) fn json(&self) -> bool {
        self.common().json
            || matches!(self, Command::Check { check, .. } if check.format == Some(crate::ci::Format::Json))
    }
}
