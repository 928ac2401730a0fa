//! Replay checks of a whole migration set: does every step apply, cleanly, the same way
//! step by step as all at once, and do the down scripts undo their migrations? And, with
//! generated rows in every table ([`check_with_data`]), do the migrations keep the data?
//!
//! # Examples
//!
//! ```
//! # let m = sqlite_testdb::Migrations::from_migrations([
//! #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT NOT NULL);")?,
//! #     refinery::Migration::unapplied("V2__names", "ALTER TABLE users ADD COLUMN name TEXT;")?,
//! # ])?;
//! use sqlite_testdb::{DataOptions, replay};
//!
//! let report = replay::check(&m)?;                                    // empty databases
//! assert_eq!(report.without_down_script(), [1, 2]);
//! let report = replay::check_with_data(&m, DataOptions::default())?;  // 20 rows per table
//! assert_eq!(report.steps()[1].generated().map(|g| g.inserted()), Some(20));
//! println!("{report}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use refinery::Migration;

pub use crate::data::DataOptions;
pub(crate) use crate::data_step::table_and_column;
pub use crate::generated_rows::{GeneratedRows, TableRows};
pub use crate::replay_report::{DataChange, Down, Progress, ReplayReport, StepReport};
pub(crate) use crate::reproduction_script::reproduce_hint;

use crate::data_step::DataStep;
use crate::db::run_migrations;
use crate::integrity::{foreign_key_problems, integrity_problems};
use crate::{Builder, Error, Migrations, Result, TestDb, Version};

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
    progress: impl FnMut(Progress<'_>),
) -> Result<ReplayReport> {
    run(builder, None, progress)
}

/// [`check`], and for every version n, in a fresh database at n-1 holding generated rows in
/// every table (see [`DataOptions`]):
///
/// - migration n applies over the rows, and `PRAGMA integrity_check` and
///   `PRAGMA foreign_key_check` stay clean;
/// - no row disappears silently: every table that still exists keeps its row count and,
///   in the columns that still exist, its values (compared as multisets, so a table
///   rebuild that renumbers rows is fine);
/// - where a down script exists, down(n) keeps the rows of the tables that existed before
///   n, compared the same way with the rows before up(n).
///
/// A migration marked with [`DataOptions::expect_changes`] may lose or change rows: the
/// changes are listed in its [`StepReport::data_changes`] instead. After the last step,
/// a database at the latest version is filled too, so every table gets rows.
///
/// Bundled SQLite has foreign keys on, and `PRAGMA foreign_keys=OFF` does nothing inside
/// refinery's per-migration transaction: a table rebuild over referenced rows fails (or
/// cascades) here as it would on a real database.
///
/// # Errors
///
/// The first failure: those of [`check`] (which run first, on empty databases), then
/// [`Error::ReplayData`] naming the migration, its file, the check, the table and column,
/// the generated rows involved, and a kept SQL script that reproduces it
/// (`reproduce with: sqlite3 < /tmp/…/V3__name.sql`).
///
/// # Examples
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// # std::fs::write(dir.path().join("V1__users.sql"), "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT NOT NULL, team TEXT);")?;
/// # std::fs::write(dir.path().join("V2__team_index.sql"), "CREATE UNIQUE INDEX users_team_uq ON users(team);")?;
/// use sqlite_testdb::{DataOptions, Error, Migrations, replay};
///
/// let m = Migrations::from_dir(dir.path())?;
/// replay::check(&m)?;                                   // fine on an empty database
/// let err = replay::check_with_data(&m, DataOptions::default().rows_per_table(50).seed(7))
///     .unwrap_err();                                    // teams repeat in real data
/// assert!(matches!(&err, Error::ReplayData { migration, .. } if migration == "V2__team_index"));
/// assert!(err.to_string().contains("UNIQUE constraint failed: users.team"));
/// assert!(err.to_string().contains("reproduce with: sqlite3 < "));
/// # if let Error::ReplayData { script: Some(script), .. } = &err { std::fs::remove_dir_all(script.parent().unwrap())?; }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn check_with_data(migrations: &Migrations, options: DataOptions) -> Result<ReplayReport> {
    check_with_data_using(&TestDb::builder(migrations), options)
}

/// [`check_with_data`] with the connection settings of `builder`, as [`check_with`]: its
/// [`on_connect`](crate::Builder::on_connect) hook and busy timeout.
///
/// # Errors
///
/// See [`check_with_data`].
///
/// # Examples
///
/// ```
/// use rusqlite::functions::FunctionFlags;
/// use sqlite_testdb::{DataOptions, Migrations, TestDb, replay};
///
/// let m = Migrations::from_migrations([
///     refinery::Migration::unapplied("V1__answers", "CREATE TABLE answers(n INTEGER CHECK (n <> answer()));")?,
///     refinery::Migration::unapplied("V2__index", "CREATE INDEX answers_n ON answers(n);")?,
/// ])?;
/// let report = replay::check_with_data_using(
///     TestDb::builder(&m).on_connect(|conn| {
///         conn.create_scalar_function("answer", 0, FunctionFlags::SQLITE_DETERMINISTIC, |_| Ok(42))
///     }),
///     DataOptions::default(),
/// )?;
/// assert_eq!(report.steps()[1].generated().map(|g| g.inserted()), Some(20));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn check_with_data_using(builder: &Builder<'_>, options: DataOptions) -> Result<ReplayReport> {
    check_with_data_progress(builder, options, |_| {})
}

/// [`check_with_data_using`], calling `progress` after each migration is checked.
///
/// # Errors
///
/// See [`check_with_data`].
///
/// # Examples
///
/// ```
/// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?])?;
/// use sqlite_testdb::{DataOptions, TestDb, replay};
///
/// let mut seen = Vec::new();
/// replay::check_with_data_progress(&TestDb::builder(&m), DataOptions::default(), |p| {
///     seen.push(p.step.migration().to_owned())
/// })?;
/// assert_eq!(seen, ["V1__users"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn check_with_data_progress(
    builder: &Builder<'_>,
    options: DataOptions,
    progress: impl FnMut(Progress<'_>),
) -> Result<ReplayReport> {
    run(builder, Some(&options), progress)
}

/// The replay loop of every `check*`: `data` adds the checks with generated rows.
fn run(
    builder: &Builder<'_>,
    data: Option<&DataOptions>,
    mut progress: impl FnMut(Progress<'_>),
) -> Result<ReplayReport> {
    let migrations = builder.migrations();
    // `db` holds the schema only, stepping forward; with data, each step copies it into
    // `work` at n-1 and fills that.
    let db = TestDb::empty(builder)?;
    let work = match data {
        Some(options) => Some((options, TestDb::empty(builder)?)),
        None => None,
    };
    let mut before = db.schema()?;
    let mut previous: Option<Version> = None;
    let mut steps = Vec::with_capacity(migrations.len());

    for migration in migrations.iter() {
        let version = migration.version();
        let at_previous = match work {
            Some(_) => Some(db.snapshot()?),
            None => None,
        };
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
                        e.with_causes(),
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
        let data = match (&work, &at_previous) {
            (Some((options, work)), Some(snapshot)) => {
                let step = DataStep {
                    builder,
                    options,
                    work,
                    migration,
                    previous,
                };
                Some(step.check(snapshot, down)?)
            }
            _ => None,
        };
        let step = StepReport {
            migration: migration.to_string(),
            version,
            file: migrations.file(version).map(ToOwned::to_owned),
            down,
            data,
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
        return Ok(ReplayReport {
            steps,
            latest: None,
        });
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

    let latest = match &work {
        Some((options, work)) => {
            let step = DataStep {
                builder,
                options,
                work,
                migration: last,
                previous: Some(last.version()),
            };
            Some(step.fill_latest(&db.snapshot()?)?)
        }
        None => None,
    };
    Ok(ReplayReport { steps, latest })
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
