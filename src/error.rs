//! The crate's one error type.

use std::io;
use std::path::PathBuf;

use crate::report::ReplayReport;
use crate::sql::position::pinpoint;

use crate::version::Version;

/// `Result` with this crate's [`Error`] as the default error type.
///
/// # Examples
///
/// ```
/// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?])?;
/// use sqlite_testdb::{Migrations, Result, TestDb, Version};
///
/// fn migrated_version(m: &Migrations) -> Result<Option<Version>> {
///     TestDb::new(m)?.version()
/// }
/// assert_eq!(migrated_version(&m)?, Some(1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while loading migrations, building a template or handing out
/// a test database.
///
/// Every variant names the file, the migration version or the path involved. The underlying
/// cause (an [`io::Error`], SQLite's own message, refinery's error) is kept as the
/// [`source`](std::error::Error::source), never repeated in the message: print the whole
/// chain to see both.
///
/// # Examples
///
/// ```
/// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREAT TABLE users(id INTEGER PRIMARY KEY);")?])?;
/// use sqlite_testdb::{Error, TestDb};
///
/// let err = TestDb::new(&m).unwrap_err();                       // V1 has a typo
/// assert!(matches!(&err, Error::Migration { migration, applied: None, .. }
///     if migration == "V1__users"));
/// assert!(!err.to_string().contains("syntax error"));           // the cause is the source
/// assert!(err.with_causes().contains("near \"CREAT\": syntax error"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file system operation failed.
    #[error("failed to {op} {path:?}")]
    Io {
        /// What was being done, e.g. `"copy template to"`.
        op: &'static str,
        /// The file or folder it was done to.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },

    /// A migration set holds no migration at all.
    #[error("no migrations found in {origin}: expected files named V{{version}}__{{name}}.sql")]
    NoMigrations {
        /// The folder that was read, or `refinery runner` for a runner.
        origin: String,
    },

    /// A `.sql` file in a migrations folder whose name refinery does not accept, so refinery
    /// would silently skip it.
    #[error(
        "{path:?} is not a valid migration file name: expected V{{version}}__{{name}}.sql \
         (refinery would skip it), or V{{version}}__{{name}}.down.sql for a down script"
    )]
    BadMigrationName {
        /// The offending file.
        path: PathBuf,
    },

    /// A folder of a diesel-layout migration set that is not a migration.
    #[error("{path:?} is not a diesel migration folder: {reason}")]
    BadDieselMigration {
        /// The folder.
        path: PathBuf,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// A migration given in code whose version or name refinery does not accept.
    #[error("migration V{version}__{name} cannot be used: {reason}")]
    BadMigration {
        /// The version as given.
        version: i64,
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A Rust (`.rs`) migration in a folder: it can only run when embedded into a binary.
    #[error(
        "{path:?} is a Rust migration, which can only run embedded: use \
         Migrations::from_runner(embedded::migrations::runner()) for this set"
    )]
    RustMigrationInFolder {
        /// The `.rs` migration file.
        path: PathBuf,
    },

    /// Two migrations share one version number.
    #[error("migration version {version} is used twice: by {first} and by {second}")]
    DuplicateVersion {
        /// The version both use.
        version: Version,
        /// The first migration (its file, where known).
        first: String,
        /// The second migration (its file, where known).
        second: String,
    },

    /// A down script with no up migration of the same name beside it.
    #[error("down script {path:?} has no up migration {expected:?} beside it")]
    OrphanDownScript {
        /// The down script.
        path: PathBuf,
        /// The up migration file it should belong to.
        expected: PathBuf,
    },

    /// A version that is not one of the migration set's versions was asked for.
    #[error("version {version} is not a migration of this set (versions: {available})")]
    UnknownVersion {
        /// The version asked for.
        version: Version,
        /// The versions the set has, e.g. `1, 2, 3`.
        available: String,
    },

    /// A migration failed to apply. Where it ran on a test database, that database stays at
    /// the last version applied before it.
    #[error(
        "migration {migration} ({}) failed on {path:?}; {}",
        file.as_deref().map_or_else(|| "embedded".into(), |f| f.display().to_string()),
        applied.map_or_else(|| "no migration was applied before it".into(), |v| format!("applied before it: up to V{v}"))
    )]
    Migration {
        /// The failing migration, as its library names it: `V3__client_secret_versions`
        /// (refinery), `20240101000000 create users` (sqlx), `2024-01-15-120000_users`
        /// (diesel).
        migration: String,
        /// Its file; `None` for a migration from a runner or built in code.
        file: Option<PathBuf>,
        /// The database it ran on (for a template: the template being built, which is not
        /// kept).
        path: PathBuf,
        /// The last version applied before it, `None` when none was.
        applied: Option<Version>,
        /// refinery's error, whose source is SQLite's.
        #[source]
        source: refinery::Error,
    },

    /// The function of a set made with `Migrations::from_fn` failed while it migrated a
    /// database (for a template: the template being built, which is not kept).
    #[error("{origin} failed on {path:?}")]
    MigrationFn {
        /// The set: `the migration function with key …`.
        origin: String,
        /// The database it ran on.
        path: PathBuf,
        /// The function's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },

    /// An operation that needs the migrations one by one was asked of a set made with
    /// `Migrations::from_fn`, which only migrates to the latest version.
    #[error(
        "{operation} is not supported for {origin}: a migration function only migrates to \
         the latest version (read its version with PRAGMA user_version, or load the \
         migrations with from_dir)"
    )]
    NotSupportedForFn {
        /// The operation: `migrate_to`, `rollback_to`, `version`, `replay`, ….
        operation: &'static str,
        /// The set: `the migration function with key …`.
        origin: String,
    },

    /// `migrate_to` was asked for a version below the database's current one.
    #[error(
        "cannot migrate {path:?} to V{requested}: it is at V{current} already \
         (use rollback_to to go back)"
    )]
    MigrateBackwards {
        /// The database.
        path: PathBuf,
        /// Its current version.
        current: Version,
        /// The version asked for.
        requested: Version,
    },

    /// `rollback_to` was asked for a version above the database's current one.
    #[error(
        "cannot roll back {path:?} to V{requested}: it is at {} (use migrate_to to go forward)",
        current.map_or_else(|| "no version".to_owned(), |v| format!("V{v}"))
    )]
    RollbackForwards {
        /// The database.
        path: PathBuf,
        /// Its current version, `None` when nothing is applied.
        current: Option<Version>,
        /// The version asked for.
        requested: Version,
    },

    /// A rollback needs a down script that a migration does not have, or whose down script
    /// has no statement (only comments): the migration is irreversible. Nothing was run.
    #[error(
        "cannot roll back {migration}: {}",
        match (expected, irreversible) {
            (Some(p), true) => format!("its down script {p:?} has no statement, so it is irreversible"),
            (None, true) => "its down script has no statement, so it is irreversible".to_owned(),
            (Some(p), false) => format!("no down script {p:?}"),
            (None, false) => "it has no down script".to_owned(),
        }
    )]
    MissingDownScript {
        /// The migration, as refinery names it: `V3__client_secret_versions`.
        migration: String,
        /// Where its down script is, or would be, for a migration loaded from a file.
        expected: Option<PathBuf>,
        /// `true` when the down script exists but holds only comments.
        irreversible: bool,
    },

    /// A down script failed to run. The database stays at the version it was at before it.
    #[error(
        "down script of {migration} ({}) failed",
        file.as_deref().map_or_else(|| "given in code".into(), |f| f.display().to_string())
    )]
    DownScript {
        /// The migration it undoes, as refinery names it.
        migration: String,
        /// The down script's file.
        file: Option<PathBuf>,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },

    /// Replay checks failed: the report, whose [`findings`](ReplayReport::findings) are
    /// every check that failed, each naming its migration, file and check. The message is
    /// one line, `3 findings in 2 migrations of <folder>: V2 down-leaves-trace, …`; the
    /// whole report, every finding in full, is [`Error::report`] (its `Display`).
    #[error("{}", report.error_line())]
    Findings {
        /// What the checks found.
        report: Box<ReplayReport>,
    },

    /// A file given as a database to upgrade is not a SQLite database.
    #[error("{path:?} is not a SQLite database")]
    NotADatabase {
        /// The file.
        path: PathBuf,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },

    /// A database to upgrade has no history table of the migrations' library, so its
    /// version is unknown.
    #[error("{path:?} has no migration history (no {table} table): its version is unknown")]
    NoHistory {
        /// The database.
        path: PathBuf,
        /// The history table it lacks: `refinery_schema_history`, `_sqlx_migrations` or
        /// `__diesel_schema_migrations`.
        table: &'static str,
    },

    /// A database to upgrade records migrations the folder does not have, or has them
    /// otherwise.
    #[error("the migration history of {path:?} does not match the migrations: {}", mismatches.join("; "))]
    HistoryMismatch {
        /// The database.
        path: PathBuf,
        /// One line per migration that differs: `V3__users: not in the migrations`,
        /// `V4__posts: its checksum differs from the file's (the file was edited after it
        /// was applied)`.
        mismatches: Vec<String>,
    },

    /// A database to upgrade is at a version past the last migration of the set.
    #[error(
        "{path:?} is at V{version}, newer than the migrations (the last is V{latest}): there \
         is nothing to upgrade"
    )]
    NewerDatabase {
        /// The database.
        path: PathBuf,
        /// Its version.
        version: Version,
        /// The last version of the set.
        latest: Version,
    },

    /// The migrations (or seeds) left rows that violate a foreign key: a template with them
    /// is never handed out. `replay::check` names the migration.
    #[error(
        "foreign key violations in {path:?} at V{version} (run replay::check to find the migration): {}",
        violations.join("; ")
    )]
    ForeignKeyViolations {
        /// The template being built.
        path: PathBuf,
        /// The version it was built to.
        version: Version,
        /// One line per violating row, naming its table.
        violations: Vec<String>,
    },

    /// Seed SQL failed while building a template.
    #[error("seed SQL #{index} failed on {path:?}")]
    Seed {
        /// Which seed, counting from 1, in the order they were given.
        index: usize,
        /// The database it ran on.
        path: PathBuf,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },

    /// A SQLite call failed.
    #[error("failed to {op} {path:?}")]
    Sqlite {
        /// What was being done, e.g. `"open database"`.
        op: &'static str,
        /// The database file.
        path: PathBuf,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },

    /// refinery failed while reading a database's migration history.
    #[error("failed to {op} {path:?}")]
    Refinery {
        /// What was being done, e.g. `"read migration history of"`.
        op: &'static str,
        /// The database file.
        path: PathBuf,
        /// refinery's error.
        #[source]
        source: refinery::Error,
    },

    /// Tables a test required are missing from a schema.
    #[error(
        "missing tables: {} (the schema has: {})",
        missing.join(", "),
        if present.is_empty() { "no tables".to_owned() } else { present.join(", ") }
    )]
    MissingTables {
        /// Every required table that is missing.
        missing: Vec<String>,
        /// The tables the schema has.
        present: Vec<String>,
    },

    /// The template cache folder cannot be trusted: another user could plant templates in it.
    #[error("template cache folder {path:?} is not trusted: {reason}; use a folder of your own")]
    UntrustedCacheDir {
        /// The folder.
        path: PathBuf,
        /// Why, e.g. `everyone can write to it (mode 777)`.
        reason: String,
    },

    /// A connection pool could not be created.
    #[error("failed to create a connection pool for {path:?}")]
    Pool {
        /// The database file.
        path: PathBuf,
        /// r2d2's error (feature `r2d2`).
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// The `open` function given to [`TestDb::attach`](crate::TestDb::attach) failed: the
    /// application's own error is the source (downcast it to get it back).
    #[error("failed to open the application's value on test database {path:?}")]
    Attach {
        /// The database file, or an in-memory database's URI.
        path: PathBuf,
        /// The application's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// Two settings of a [`Builder`](crate::Builder) or of a
    /// [`Replay`](crate::replay::Replay) that cannot be combined.
    #[error("{first} and {second} cannot be combined: {reason}")]
    ConflictingSettings {
        /// The first setting, e.g. `in_memory()` or `with_data(..)`.
        first: &'static str,
        /// The second, e.g. `shared_folder()` or `upgrade(..)`.
        second: &'static str,
        /// Why not.
        reason: &'static str,
    },

    /// A setting was given a value it does not accept.
    #[error("{setting}: {reason}")]
    InvalidSetting {
        /// The setting, e.g. `Replay::min_sqlite`.
        setting: &'static str,
        /// What is wrong with the value, naming it.
        reason: String,
    },

    /// An environment variable holds a value this crate does not accept.
    #[error("invalid value {value:?} for env var {var}: expected one of {expected}")]
    Env {
        /// The variable, e.g. `SQLITE_TESTDB_KEEP`.
        var: &'static str,
        /// What it holds.
        value: String,
        /// The values it may hold.
        expected: &'static str,
    },
}

impl Error {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn sqlite(
        op: &'static str,
        path: impl Into<PathBuf>,
        source: rusqlite::Error,
    ) -> Self {
        Error::Sqlite {
            op,
            path: path.into(),
            source,
        }
    }

    /// The report of [`Error::Findings`]; `None` for any other error.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREAT TABLE users(id INTEGER PRIMARY KEY);")?])?;
    /// let err = sqlite_testdb::replay::check(&m).unwrap_err();       // V1 has a typo
    /// let report = err.report().ok_or("not a finding")?;
    /// assert_eq!(report.findings()[0].check(), sqlite_testdb::replay::Check::MustApply);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn report(&self) -> Option<&ReplayReport> {
        match self {
            Error::Findings { report } => Some(report),
            _ => None,
        }
    }

    /// The message, then each cause in the [`source`](std::error::Error::source) chain whose
    /// text is not already shown, one per line as `caused by: …`. refinery repeats SQLite's
    /// message in its own: it is shown once.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREAT TABLE users(id INTEGER PRIMARY KEY);")?])?;
    /// let err = sqlite_testdb::TestDb::new(&m).unwrap_err();       // V1 has a typo
    /// let text = err.with_causes();
    /// assert!(text.starts_with(&err.to_string()));
    /// assert!(text.contains("\ncaused by: "));
    /// assert_eq!(text.matches("syntax error").count(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_causes(&self) -> String {
        self.with_causes_indented("", None)
    }

    /// [`with_causes`](Self::with_causes) for an error of running `script`: SQLite's error
    /// at a token names its line in the script.
    #[cfg(feature = "check")]
    pub(crate) fn with_causes_in(&self, script: &str) -> String {
        self.with_causes_indented("", Some(script))
    }

    /// [`with_causes`](Self::with_causes) with `indent` before each `caused by:`.
    pub(crate) fn with_causes_indented(&self, indent: &str, script: Option<&str>) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            let message = pinpoint(&cause.to_string(), script);
            if !text.contains(&message) {
                text.push('\n');
                text.push_str(indent);
                text.push_str("caused by: ");
                text.push_str(&message);
            }
            source = cause.source();
        }
        text
    }
}

/// SQLite's own message of an error, without rusqlite's wrapping.
#[cfg(feature = "check")]
pub(crate) fn sqlite_message(error: &rusqlite::Error) -> String {
    match error {
        rusqlite::Error::SqliteFailure(_, Some(message)) => message.clone(),
        other => other.to_string(),
    }
}

/// SQLite's own message, from the rusqlite error in an error's chain (else the last
/// message of the chain).
#[cfg(feature = "check")]
pub(crate) fn root_message(error: &Error) -> String {
    let mut last = None;
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(sqlite) = cause.downcast_ref::<rusqlite::Error>() {
            return sqlite_message(sqlite);
        }
        last = Some(cause.to_string());
        source = cause.source();
    }
    last.unwrap_or_else(|| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_send_and_sync_and_static() {
        // A semver-breaking change if this stops compiling.
        fn assert_bounds<T: Send + Sync + 'static>() {}
        assert_bounds::<Error>();
    }

    #[test]
    fn io_error_names_path_and_keeps_cause_as_source() {
        let err = Error::io(
            "read migrations folder",
            "/nowhere/migrations",
            io::Error::new(io::ErrorKind::NotFound, "gone"),
        );
        assert_eq!(
            err.to_string(),
            "failed to read migrations folder \"/nowhere/migrations\""
        );
        let source = std::error::Error::source(&err).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("gone"));
    }
}
