//! Replay checks of a whole migration set: does every step apply, cleanly, the same way
//! step by step as all at once, and do the down scripts undo their migrations?

use std::fmt;
use std::path::PathBuf;

use refinery::Migration;

use crate::db::run_migrations;
use crate::integrity::{foreign_key_problems, integrity_problems};
use crate::{Builder, Error, Migrations, Result, TestDb, Version};

/// How far [`check_with_progress`] has come.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Progress<'a> {
    /// Migrations checked so far.
    pub done: usize,
    /// Migrations in the set.
    pub total: usize,
    /// The migration just checked.
    pub step: &'a StepReport,
}

/// What [`check`] found for one migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepReport {
    migration: String,
    version: Version,
    file: Option<PathBuf>,
    down: Down,
}

/// What [`check`] could tell of a migration's down script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Down {
    /// up, then down, left no trace; up again gave the same schema as the first time.
    Reverses,
    /// The migration has no down script.
    Missing,
    /// The down script holds only comments: the migration is irreversible.
    Irreversible,
}

impl StepReport {
    /// The migration, as refinery names it: `V3__client_secret_versions`.
    pub fn migration(&self) -> &str {
        &self.migration
    }

    /// Its version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// Its file, `None` for a migration from a runner or built in code.
    pub fn file(&self) -> Option<&std::path::Path> {
        self.file.as_deref()
    }

    /// What became of its down script.
    pub fn down(&self) -> Down {
        self.down
    }
}

/// The result of [`check`] on a migration set that passed: one [`StepReport`] per version.
///
/// Its `Display` is one line per version, then a summary:
///
/// ```text
/// V1__users                     applies; integrity ok; foreign keys ok; down reverses it
/// V2__clients                   applies; integrity ok; foreign keys ok; no down script
/// step by step = all at once; re-running the runner changes nothing
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayReport {
    steps: Vec<StepReport>,
}

impl ReplayReport {
    /// One report per migration, by version.
    pub fn steps(&self) -> &[StepReport] {
        &self.steps
    }

    /// The versions that have no down script.
    pub fn without_down_script(&self) -> Vec<Version> {
        self.versions_where(Down::Missing)
    }

    /// The versions whose down script holds only comments.
    pub fn irreversible(&self) -> Vec<Version> {
        self.versions_where(Down::Irreversible)
    }

    fn versions_where(&self, down: Down) -> Vec<Version> {
        self.steps
            .iter()
            .filter(|s| s.down == down)
            .map(|s| s.version)
            .collect()
    }
}

impl fmt::Display for ReplayReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .steps
            .iter()
            .map(|s| s.migration.len())
            .max()
            .unwrap_or(0);
        for step in &self.steps {
            let down = match step.down {
                Down::Reverses => "down reverses it",
                Down::Missing => "no down script",
                Down::Irreversible => "down script is only comments: irreversible",
            };
            writeln!(
                f,
                "{:width$}  applies; integrity ok; foreign keys ok; {down}",
                step.migration
            )?;
        }
        writeln!(
            f,
            "step by step = all at once; re-running the runner changes nothing"
        )
    }
}

/// Checks a migration set in fresh databases, version by version:
///
/// - every prefix applies, each step on a new connection, and `PRAGMA integrity_check` and
///   `PRAGMA foreign_key_check` are clean after each step;
/// - where a down script exists: up(n) then down(n) leaves no trace (the schema equals the
///   one before up(n)), and up(n) again gives the same schema as the first time;
/// - applying step by step gives exactly the schema of applying all at once;
/// - running the runner again on the migrated database changes nothing.
///
/// # Errors
///
/// The first failure: [`Error::Replay`] naming the migration, its file, the check and the
/// schema difference, or [`Error::Migration`] when a migration does not apply.
///
/// # Examples
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// # std::fs::write(dir.path().join("V1__users.sql"), "CREATE TABLE users(id INTEGER PRIMARY KEY);")?;
/// # std::fs::write(dir.path().join("V1__users.down.sql"), "DROP TABLE users;")?;
/// # std::fs::write(dir.path().join("V2__posts.sql"), "CREATE TABLE posts(id INTEGER PRIMARY KEY);")?;
/// let m = sqlite_testdb::Migrations::from_dir(dir.path())?;
/// let report = sqlite_testdb::replay::check(&m)?;
/// assert_eq!(report.without_down_script(), [2]);
/// println!("{report}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn check(migrations: &Migrations) -> Result<ReplayReport> {
    check_with(&TestDb::builder(migrations))
}

/// [`check`] with the connection settings of `builder`: its
/// [`on_connect`](crate::Builder::on_connect) hook (for migrations that need a function or
/// an extension) and busy timeout. Its version, seeds and cache folder play no part.
///
/// # Errors
///
/// See [`check`].
///
/// # Examples
///
/// ```
/// use rusqlite::functions::FunctionFlags;
/// use sqlite_testdb::{Migrations, TestDb, replay};
///
/// let m = Migrations::from_migrations([refinery::Migration::unapplied(
///     "V1__answers",
///     "CREATE TABLE answers(n INTEGER DEFAULT (answer()));",
/// )?])?;
/// let report = replay::check_with(TestDb::builder(&m).on_connect(|conn| {
///     conn.create_scalar_function("answer", 0, FunctionFlags::SQLITE_DETERMINISTIC, |_| Ok(42))
/// }))?;
/// assert_eq!(report.steps().len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn check_with(builder: &Builder<'_>) -> Result<ReplayReport> {
    check_with_progress(builder, |_| {})
}

/// [`check_with`], calling `progress` after each migration is checked: for a progress line
/// on long migration sets.
///
/// # Errors
///
/// See [`check`].
///
/// # Examples
///
/// ```
/// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?])?;
/// use sqlite_testdb::{TestDb, replay};
///
/// let mut seen = Vec::new();
/// replay::check_with_progress(&TestDb::builder(&m), |p| seen.push((p.done, p.total)))?;
/// assert_eq!(seen, [(1, 1)]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn check_with_progress(
    builder: &Builder<'_>,
    mut progress: impl FnMut(Progress<'_>),
) -> Result<ReplayReport> {
    let migrations = builder.migrations();
    let db = TestDb::empty(builder)?;
    let mut before = db.schema()?;
    let mut previous: Option<Version> = None;
    let mut steps = Vec::with_capacity(migrations.len());

    for migration in migrations.iter() {
        let version = migration.version();
        db.migrate_to(version)?;
        check_clean(&db, migrations, migration)?;
        let after = db.schema()?;

        let down = match migrations.down_script(version) {
            None => Down::Missing,
            Some(script) if script.is_irreversible() => Down::Irreversible,
            Some(_) => {
                let below = previous.unwrap_or_else(|| version.saturating_sub(1));
                db.rollback_to(below)?;
                let undone = db.schema()?;
                if undone != before {
                    return Err(failure(
                        migrations,
                        migration,
                        "up then down must leave no trace",
                        before.diff_labeled(&undone, "before up", "after up and down"),
                    ));
                }
                db.migrate_to(version).map_err(|e| {
                    failure(
                        migrations,
                        migration,
                        "up again after down must apply",
                        chain(&e),
                    )
                })?;
                let redone = db.schema()?;
                if redone != after {
                    return Err(failure(
                        migrations,
                        migration,
                        "up again after down must give the same schema",
                        after.diff_labeled(&redone, "first up", "up after down"),
                    ));
                }
                Down::Reverses
            }
        };
        let step = StepReport {
            migration: migration.to_string(),
            version,
            file: migrations.file(version).map(ToOwned::to_owned),
            down,
        };
        progress(Progress {
            done: steps.len() + 1,
            total: migrations.len(),
            step: &step,
        });
        steps.push(step);
        before = after;
        previous = Some(version);
    }

    let Some(last) = migrations.iter().last() else {
        return Ok(ReplayReport { steps });
    };
    let stepwise = before;
    let at_once = TestDb::empty(builder)?;
    let mut conn = at_once.connect()?;
    run_migrations(&mut conn, migrations, last.version(), at_once.path())?;
    drop(conn);
    let all = at_once.schema()?;
    if all != stepwise {
        return Err(failure(
            migrations,
            last,
            "step by step must give the schema of all at once",
            all.diff_labeled(&stepwise, "all at once", "step by step"),
        ));
    }

    let history_before = history(&at_once)?;
    let mut conn = at_once.connect()?;
    run_migrations(&mut conn, migrations, last.version(), at_once.path())?;
    drop(conn);
    let rerun = at_once.schema()?;
    if rerun != all || history(&at_once)? != history_before {
        return Err(failure(
            migrations,
            last,
            "running the runner again must change nothing",
            all.diff_labeled(&rerun, "first run", "second run"),
        ));
    }
    Ok(ReplayReport { steps })
}

/// `PRAGMA integrity_check` and `PRAGMA foreign_key_check` after `migration`.
fn check_clean(db: &TestDb, migrations: &Migrations, migration: &Migration) -> Result<()> {
    let conn = db.connect()?;
    let integrity = integrity_problems(&conn).map_err(|e| Error::sqlite("check", db.path(), e))?;
    if !integrity.is_empty() {
        return Err(failure(
            migrations,
            migration,
            "PRAGMA integrity_check must be ok",
            integrity.join("\n"),
        ));
    }
    let foreign_keys = foreign_key_problems(&conn);
    if !foreign_keys.is_empty() {
        return Err(failure(
            migrations,
            migration,
            "PRAGMA foreign_key_check must find nothing",
            foreign_keys.join("\n"),
        ));
    }
    Ok(())
}

/// refinery's history: every applied version with its checksum.
fn history(db: &TestDb) -> Result<Vec<(Version, String)>> {
    let conn = db.connect()?;
    conn.prepare("SELECT version, checksum FROM refinery_schema_history ORDER BY version")
        .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
        .map_err(|e| Error::sqlite("read migration history of", db.path(), e))
}

fn failure(
    migrations: &Migrations,
    migration: &Migration,
    check: &'static str,
    detail: String,
) -> Error {
    Error::Replay {
        migration: migration.to_string(),
        file: migrations.file(migration.version()).map(ToOwned::to_owned),
        check,
        detail,
    }
}

fn chain(error: &Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
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
