//! Replay checks of a whole migration set: does every step apply, cleanly, the same way
//! step by step as all at once, and do the down scripts undo their migrations? And, with
//! generated rows in every table ([`check_with_data`]), do the migrations keep the data?

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use refinery::Migration;
use rusqlite::Connection;
use rusqlite::types::ValueRef;

pub use crate::data::{DataOptions, GeneratedRows, TableRows};
use crate::data::{literal_ref, ordinary_columns, quote_identifier, user_tables};
use crate::db::run_migrations;
use crate::integrity::{foreign_key_problems, integrity_problems};
use crate::{Builder, Error, Migrations, Result, Snapshot, TestDb, Version};

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
    data: Option<StepData>,
}

/// What [`check_with_data`] found for one migration.
#[derive(Debug, Clone, PartialEq, Eq)]
struct StepData {
    generated: GeneratedRows,
    changes: Vec<DataChange>,
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

    /// The rows [`check_with_data`] generated in the database at the version before this
    /// one, before applying it; `None` for [`check`], which generates none.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?,
    /// #     refinery::Migration::unapplied("V2__names", "ALTER TABLE users ADD COLUMN name TEXT;")?,
    /// # ])?;
    /// use sqlite_testdb::{DataOptions, replay};
    ///
    /// let report = replay::check_with_data(&m, DataOptions::default().rows_per_table(5))?;
    /// let v2 = &report.steps()[1];
    /// assert_eq!(v2.generated().map(|g| g.inserted()), Some(5));   // 5 users before V2
    /// assert!(replay::check(&m)?.steps()[1].generated().is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn generated(&self) -> Option<&GeneratedRows> {
        self.data.as_ref().map(|d| &d.generated)
    }

    /// The rows and values this migration (or its down script) lost or changed: listed for
    /// a migration marked with [`DataOptions::expect_changes`]; for any other,
    /// [`check_with_data`] fails instead, so this is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?,
    /// #     refinery::Migration::unapplied("V2__purge", "DELETE FROM users WHERE id > 3;")?,
    /// # ])?;
    /// use sqlite_testdb::{DataOptions, replay};
    ///
    /// let options = DataOptions::default().rows_per_table(10).expect_changes(2);
    /// let report = replay::check_with_data(&m, options)?;
    /// let change = &report.steps()[1].data_changes()[0];
    /// assert_eq!((change.table(), change.rows_lost()), ("users", 7));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn data_changes(&self) -> &[DataChange] {
        self.data.as_ref().map_or(&[], |d| &d.changes)
    }
}

/// Rows or values of one table that a migration, or its down script, did not keep: found by
/// [`check_with_data`], listed in [`StepReport::data_changes`].
///
/// Its `Display` is one line: `users: 7 of 10 rows lost, e.g. (id, email) = (4, 'a@x')` or
/// `users.name: 10 of 10 values changed, e.g. id 1: 'ada' → 'ADA!'`.
///
/// # Examples
///
/// ```
/// # let m = sqlite_testdb::Migrations::from_migrations([
/// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL);")?,
/// #     refinery::Migration::unapplied("V2__upper", "UPDATE users SET name = upper(name) || '!';")?,
/// # ])?;
/// use sqlite_testdb::{DataOptions, replay};
///
/// let report = replay::check_with_data(&m, DataOptions::default().expect_changes(2))?;
/// let change = &report.steps()[1].data_changes()[0];
/// assert_eq!((change.table(), change.column()), ("users", Some("name")));
/// assert_eq!(change.values_changed(), 20);
/// assert!(!change.by_down_script());
/// println!("{change}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataChange {
    table: String,
    column: Option<String>,
    before: usize,
    lost: usize,
    examples: Vec<String>,
    down: bool,
}

impl DataChange {
    /// The table, as named before the migration.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The column whose values changed; `None` when rows were lost.
    pub fn column(&self) -> Option<&str> {
        self.column.as_deref()
    }

    /// Rows the table had before the migration.
    pub fn rows_before(&self) -> usize {
        self.before
    }

    /// Rows lost: how many fewer the table has (0 for a change of a column's values).
    pub fn rows_lost(&self) -> usize {
        if self.column.is_none() { self.lost } else { 0 }
    }

    /// Values of the column that are no longer found in it, beyond those of lost rows (0 for
    /// lost rows). Values are compared as multisets, so rows that only moved (a table
    /// rebuild with new rowids) are not changed.
    pub fn values_changed(&self) -> usize {
        if self.column.is_some() { self.lost } else { 0 }
    }

    /// A few of the rows lost (`(id, name) = (4, 'x')`) or values changed (`id 4: 'x' → 'X'`,
    /// matched by a column that identifies the rows; else `'x' no longer found`), values as
    /// SQL literals, long texts shortened.
    pub fn examples(&self) -> &[String] {
        &self.examples
    }

    /// Whether the down script lost them (compared with the rows before the migration),
    /// rather than the migration itself.
    pub fn by_down_script(&self) -> bool {
        self.down
    }
}

impl fmt::Display for DataChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.down {
            f.write_str("down script: ")?;
        }
        match &self.column {
            None => {
                write!(
                    f,
                    "{}: {} of {} rows lost",
                    self.table, self.lost, self.before
                )?;
                if !self.examples.is_empty() {
                    write!(f, ", e.g. {}", self.examples.join("; "))?;
                }
            }
            Some(column) => {
                write!(
                    f,
                    "{}.{column}: {} of {} values changed",
                    self.table, self.lost, self.before
                )?;
                if !self.examples.is_empty() {
                    write!(f, ", e.g. {}", self.examples.join("; "))?;
                }
            }
        }
        Ok(())
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
///
/// From [`check_with_data`], each line also says what became of the generated rows, the
/// changes of a migration marked [`DataOptions::expect_changes`] follow it, indented, and a
/// last line tells of the rows generated at the latest version:
///
/// ```text
/// V1__users    applies; integrity ok; foreign keys ok; down reverses it; no table to fill before it
/// V2__clients  applies; integrity ok; foreign keys ok; down reverses it; 50 generated rows in 1 table kept
/// V3__purge    applies; integrity ok; foreign keys ok; no down script; 100 generated rows in 2 tables, changed as expected:
///     users: 12 of 50 rows lost, e.g. (id, email) = (3, 'user2@example.com')
/// step by step = all at once; re-running the runner changes nothing
/// at V3__purge: 150 generated rows in 3 tables; integrity ok; foreign keys ok
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayReport {
    steps: Vec<StepReport>,
    latest: Option<GeneratedRows>,
}

impl ReplayReport {
    /// One report per migration, by version.
    pub fn steps(&self) -> &[StepReport] {
        &self.steps
    }

    /// The rows [`check_with_data`] generated in a database at the latest version, after
    /// the last step (so every table gets rows, also those the last migration creates);
    /// `None` for [`check`].
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?])?;
    /// use sqlite_testdb::{DataOptions, replay};
    ///
    /// let report = replay::check_with_data(&m, DataOptions::default().rows_per_table(3))?;
    /// assert_eq!(report.generated_at_latest().map(|g| g.inserted()), Some(3));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn generated_at_latest(&self) -> Option<&GeneratedRows> {
        self.latest.as_ref()
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
            write!(
                f,
                "{:width$}  applies; integrity ok; foreign keys ok; {down}",
                step.migration
            )?;
            match &step.data {
                None => writeln!(f)?,
                Some(data) if data.generated.tables().is_empty() => {
                    writeln!(f, "; no table to fill before it")?;
                }
                Some(data) => {
                    let outcome = if data.changes.is_empty() {
                        " kept"
                    } else {
                        ", changed as expected:"
                    };
                    writeln!(f, "; {}{outcome}", rows_summary(&data.generated))?;
                    for change in &data.changes {
                        writeln!(f, "    {change}")?;
                    }
                }
            }
        }
        writeln!(
            f,
            "step by step = all at once; re-running the runner changes nothing"
        )?;
        if let (Some(latest), Some(last)) = (&self.latest, self.steps.last()) {
            writeln!(
                f,
                "at {}: {}; integrity ok; foreign keys ok",
                last.migration,
                rows_summary(latest)
            )?;
        }
        Ok(())
    }
}

/// `150 generated rows in 3 tables (2 skipped)`.
fn rows_summary(rows: &GeneratedRows) -> String {
    let tables = rows.tables().len();
    let mut text = format!(
        "{} generated rows in {tables} table{}",
        rows.inserted(),
        if tables == 1 { "" } else { "s" }
    );
    if rows.skipped() > 0 {
        text.push_str(&format!(" ({} skipped)", rows.skipped()));
    }
    text
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

// ---------------------------------------------------------------------------------------
// Replay with data.

const CHECK_APPLY: &str = "must apply to a database holding generated rows";
const CHECK_INTEGRITY: &str = "PRAGMA integrity_check must be ok with generated rows";
const CHECK_FOREIGN_KEYS: &str = "PRAGMA foreign_key_check must find nothing with generated rows";
const CHECK_KEEP: &str = "must keep every generated row and value";
const CHECK_DOWN_APPLY: &str = "down script must apply to a database holding generated rows";
const CHECK_DOWN_KEEP: &str = "down script must keep the rows of the tables that existed before up";

/// How many generated rows a failure message shows.
const SHOWN: usize = 3;

/// One migration's checks with generated rows.
struct DataStep<'a, 'm> {
    builder: &'a Builder<'m>,
    options: &'a DataOptions,
    /// The database the rows are generated in, restored from the schema-only one.
    work: &'a TestDb,
    migration: &'a Migration,
    /// The version the database is at before `migration`.
    previous: Option<Version>,
}

/// What a reproduction script starts with: the schema before the migration and the rows.
struct Prelude {
    schema: Vec<String>,
    inserts: String,
    inserted: usize,
}

/// Which script of the migration ran.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Up,
    Down,
}

impl DataStep<'_, '_> {
    /// Fills a copy of `at_previous` (the schema at n-1), applies the migration, compares,
    /// runs the down script (`down`), compares again.
    fn check(&self, at_previous: &Snapshot, down: Down) -> Result<StepData> {
        let work = self.work;
        let version = self.migration.version();
        work.restore(at_previous)?;
        let (generated, prelude, before) = self.fill()?;

        if let Err(error) = work.migrate_to(version) {
            return Err(self.apply_failure(error, Direction::Up, &prelude));
        }
        self.check_filled(&prelude, vec![self.up_section()])?;
        let after = self.capture()?;
        let mut changes = compare(&before, &after, false);

        if down == Down::Reverses {
            let below = self.previous.unwrap_or_else(|| version.saturating_sub(1));
            if let Err(error) = work.rollback_to(below) {
                return Err(self.apply_failure(error, Direction::Down, &prelude));
            }
            let undone = self.capture()?;
            changes.extend(compare(&before, &undone, true));
        }

        if !changes.is_empty() && !self.options.expects_changes(version) {
            return Err(self.lost(&changes, &prelude));
        }
        Ok(StepData { generated, changes })
    }

    /// Fills a copy of `latest` (the schema at the latest version): every table gets rows,
    /// also those the last migration creates.
    fn fill_latest(&self, latest: &Snapshot) -> Result<GeneratedRows> {
        self.work.restore(latest)?;
        let (generated, prelude, _) = self.fill()?;
        self.check_filled(&prelude, Vec::new())?;
        Ok(generated)
    }

    fn fill(&self) -> Result<(GeneratedRows, Prelude, Tables)> {
        let conn = self.work.connect()?;
        let sqlite = |e| Error::sqlite("read the schema of", self.work.path(), e);
        let schema = schema_statements(&conn).map_err(sqlite)?;
        let generated = self.options.fill_connection(&conn, self.work.path())?;
        let before = capture(&conn).map_err(sqlite)?;
        let prelude = Prelude {
            schema,
            inserts: generated.sql(),
            inserted: generated.inserted(),
        };
        Ok((generated, prelude, before))
    }

    fn capture(&self) -> Result<Tables> {
        let conn = self.work.connect()?;
        capture(&conn).map_err(|e| Error::sqlite("read the rows of", self.work.path(), e))
    }

    /// `integrity_check` and `foreign_key_check` of the work database; a failure's script
    /// runs `sections` (what ran after the rows were generated) before the check.
    fn check_filled(&self, prelude: &Prelude, mut sections: Vec<Section>) -> Result<()> {
        let conn = self.work.connect()?;
        let path = self.work.path();
        let integrity = integrity_problems(&conn).map_err(|e| Error::sqlite("check", path, e))?;
        if !integrity.is_empty() {
            sections.push(Section::plain("check", "PRAGMA integrity_check;"));
            return Err(self.error(
                CHECK_INTEGRITY,
                None,
                None,
                integrity.join("\n"),
                self.script(prelude, &sections),
            ));
        }
        let orphans = Orphans::find(&conn).map_err(|e| Error::sqlite("check", path, e))?;
        if orphans.count > 0 {
            sections.push(Section::plain("check", "PRAGMA foreign_key_check;"));
            let detail = format!(
                "{} rows reference no row:\n{}",
                orphans.count,
                orphans.lines.join("\n")
            );
            return Err(self.error(
                CHECK_FOREIGN_KEYS,
                orphans.table,
                orphans.column,
                detail,
                self.script(prelude, &sections),
            ));
        }
        Ok(())
    }

    /// The migration (or its down script) failed over the generated rows: SQLite's message,
    /// what in the rows made it fail, and a script.
    fn apply_failure(&self, error: Error, direction: Direction, prelude: &Prelude) -> Error {
        if !matches!(error, Error::Migration { .. } | Error::DownScript { .. }) {
            return error;
        }
        let message = root_message(&error);
        let (sql, check) = match direction {
            Direction::Up => (self.migration.sql().unwrap_or_default(), CHECK_APPLY),
            Direction::Down => (self.down_sql(), CHECK_DOWN_APPLY),
        };
        // The failed script's transaction was rolled back: the work database is as it was
        // before it, rows included.
        let explained = self.explain(sql, &message);
        let mut detail = message;
        if !explained.text.is_empty() {
            detail.push('\n');
            detail.push_str(&explained.text);
        }
        let mut sections = vec![self.up_section()];
        if direction == Direction::Down {
            sections.push(self.down_section());
        }
        let script = self.script(prelude, &sections);
        self.error(check, explained.table, explained.column, detail, script)
    }

    /// The rows and values lost, as an error.
    fn lost(&self, changes: &[DataChange], prelude: &Prelude) -> Error {
        let first = changes.iter().find(|c| !c.down).or_else(|| changes.first());
        let by_down = first.is_some_and(|c| c.down);
        let check = if by_down { CHECK_DOWN_KEEP } else { CHECK_KEEP };
        let mut detail: Vec<String> = changes.iter().map(ToString::to_string).collect();
        detail.push(format!(
            "(if the migration deletes or changes them on purpose, mark it: \
             DataOptions::expect_changes({}))",
            self.migration.version()
        ));

        let mut counts: Vec<String> = Vec::new();
        for change in changes {
            let table = quote_identifier(&change.table);
            let query = match &change.column {
                None => format!(
                    "SELECT {} AS \"table\", count(*) AS \"rows\" FROM {table};",
                    text_literal(&change.table)
                ),
                Some(column) => format!(
                    "SELECT {} AS \"column\", count({c}) AS \"values\", \
                     count(DISTINCT {c}) AS \"distinct values\" FROM {table};",
                    text_literal(&format!("{}.{column}", change.table)),
                    c = quote_identifier(column)
                ),
            };
            if !counts.contains(&query) {
                counts.push(query);
            }
        }
        let counts = counts.join("\n");
        let mut sections = vec![
            Section::plain("rows before the migration", &counts),
            self.up_section(),
        ];
        if changes.iter().any(|c| c.down) {
            sections.push(self.down_section());
        }
        sections.push(Section::plain("rows after it", &counts));
        let script = self.script(prelude, &sections);
        self.error(
            check,
            first.map(|c| c.table.clone()),
            first.and_then(|c| c.column.clone()),
            detail.join("\n"),
            script,
        )
    }

    fn error(
        &self,
        check: &'static str,
        table: Option<String>,
        column: Option<String>,
        mut detail: String,
        script: std::result::Result<PathBuf, Error>,
    ) -> Error {
        let script = match script {
            Ok(path) => Some(path),
            Err(e) => {
                detail.push_str(&format!(
                    "\n(no script to reproduce it: {})",
                    chain(&e).replace('\n', "; ")
                ));
                None
            }
        };
        let version = self.migration.version();
        Error::ReplayData {
            migration: self.migration.to_string(),
            file: self.builder.migrations().file(version).map(Into::into),
            check,
            table: table.map(String::into_boxed_str),
            column: column.map(String::into_boxed_str),
            detail: detail.into_boxed_str(),
            script: script.map(PathBuf::into_boxed_path),
        }
    }

    fn down_sql(&self) -> &str {
        self.builder
            .migrations()
            .down_script(self.migration.version())
            .map_or("", |d| d.sql())
    }

    fn up_section(&self) -> Section {
        Section {
            comment: format!("{}: the migration, as refinery runs it", self.migration),
            sql: self.migration.sql().unwrap_or_default().to_owned(),
            transaction: true,
        }
    }

    fn down_section(&self) -> Section {
        Section {
            comment: format!("{}: its down script", self.migration),
            sql: self.down_sql().to_owned(),
            transaction: true,
        }
    }

    /// Writes a script that reproduces the failure into a new temp folder that is kept:
    /// the schema before the migration, the generated rows, then `sections`. No path goes
    /// into it.
    fn script(
        &self,
        prelude: &Prelude,
        sections: &[Section],
    ) -> std::result::Result<PathBuf, Error> {
        let mut text = String::new();
        let at = self
            .previous
            .map_or_else(|| "no migration applied".to_owned(), |v| format!("V{v}"));
        text.push_str(&format!(
            "-- sqlite-testdb: reproduces a failure of replay::check_with_data at {}\n\
             -- (seed {}, {} rows per table). Run it with: sqlite3 < this file\n\
             PRAGMA foreign_keys = ON;\n\n-- The schema at {at}, from sqlite_master\n",
            self.migration,
            self.options.seed_value(),
            self.options.rows(),
        ));
        for statement in &prelude.schema {
            text.push_str(statement);
            text.push_str(";\n");
        }
        text.push_str(&format!(
            "\n-- The generated rows ({} inserted)\nBEGIN;\n{}COMMIT;\n",
            prelude.inserted, prelude.inserts
        ));
        for section in sections {
            text.push_str(&format!("\n-- {}\n", section.comment));
            if section.transaction {
                text.push_str("BEGIN;\n");
            }
            text.push_str(section.sql.trim_end());
            text.push('\n');
            if section.transaction {
                text.push_str("COMMIT;\n");
            }
        }

        let parent = std::env::temp_dir();
        let dir = tempfile::Builder::new()
            .prefix("sqlite-testdb-replay-")
            .tempdir_in(&parent)
            .map_err(|e| Error::io("create a folder for a reproduction script in", &parent, e))?
            .keep();
        let path = dir.join(format!("{}.sql", self.migration));
        std::fs::write(&path, text)
            .map_err(|e| Error::io("write reproduction script", &path, e))?;
        Ok(path)
    }

    /// What in the generated rows made `sql` fail with `message`. The work database is at
    /// the state `sql` ran on.
    fn explain(&self, sql: &str, message: &str) -> Explained {
        let Ok(conn) = self.work.connect() else {
            return Explained::default();
        };
        if let Some(rest) = message.strip_prefix("UNIQUE constraint failed: ") {
            explain_unique(&conn, rest)
        } else if let Some(rest) = message.strip_prefix("NOT NULL constraint failed: ") {
            explain_not_null(&conn, rest)
        } else if message.starts_with("FOREIGN KEY constraint failed") {
            drop(conn);
            self.explain_foreign_key(sql).unwrap_or_default()
        } else {
            Explained::default()
        }
    }

    /// Runs `sql` again in a scratch copy, with foreign keys off and outside refinery, and
    /// lists the rows `PRAGMA foreign_key_check` then finds.
    fn explain_foreign_key(&self, sql: &str) -> Result<Explained> {
        let scratch = TestDb::empty(self.builder)?;
        scratch.restore(&self.work.snapshot()?)?;
        let conn = scratch.connect()?;
        let sqlite = |e| {
            Error::sqlite(
                "re-run the migration with foreign keys off in",
                scratch.path(),
                e,
            )
        };
        conn.pragma_update(None, "foreign_keys", false)
            .map_err(sqlite)?;
        let ran = conn.execute_batch(sql).err();
        let orphans = Orphans::find(&conn).map_err(sqlite)?;
        let mut text = if orphans.count == 0 {
            "with foreign keys off (outside refinery's transaction) it leaves no row that \
             references a missing one"
                .to_owned()
        } else {
            format!(
                "with foreign keys off (outside refinery's transaction) it leaves {} generated \
                 rows that reference no row:\n{}",
                orphans.count,
                orphans.lines.join("\n")
            )
        };
        if let Some(e) = ran {
            text.push_str(&format!(
                "\n(and it fails with foreign keys off too: {})",
                crate::data::sqlite_message(&e)
            ));
        }
        Ok(Explained {
            table: orphans.table,
            column: orphans.column,
            text,
        })
    }
}

/// A part of a reproduction script after the generated rows.
struct Section {
    comment: String,
    sql: String,
    transaction: bool,
}

impl Section {
    fn plain(comment: &str, sql: &str) -> Section {
        Section {
            comment: comment.to_owned(),
            sql: sql.to_owned(),
            transaction: false,
        }
    }
}

/// What in the generated rows a failure comes from.
#[derive(Default)]
struct Explained {
    table: Option<String>,
    column: Option<String>,
    text: String,
}

/// SQLite's own message, from the rusqlite error in an error's chain (else the last
/// message of the chain).
fn root_message(error: &Error) -> String {
    let mut last = None;
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(sqlite) = cause.downcast_ref::<rusqlite::Error>() {
            return crate::data::sqlite_message(sqlite);
        }
        last = Some(cause.to_string());
        source = cause.source();
    }
    last.unwrap_or_else(|| error.to_string())
}

/// `UNIQUE constraint failed: t.a, t.b`: the values that repeat in the generated rows.
fn explain_unique(conn: &Connection, rest: &str) -> Explained {
    if rest.starts_with("index ") {
        return Explained::default();
    }
    let (table, columns) = split_columns(rest);
    let mut explained = Explained {
        column: Some(columns.join(", ")),
        table: Some(table.clone()),
        text: String::new(),
    };
    let Some(source) = source_table(conn, &table) else {
        return explained;
    };
    let existing = ordinary_columns(conn, &source).unwrap_or_default();
    let present = columns
        .iter()
        .all(|c| existing.iter().any(|e| e.eq_ignore_ascii_case(c)));
    if !present {
        return explained;
    }
    let quoted: Vec<String> = columns.iter().map(|c| quote_identifier(c)).collect();
    let not_null: Vec<String> = quoted.iter().map(|c| format!("{c} IS NOT NULL")).collect();
    let sql = format!(
        "SELECT {cols}, count(*), group_concat(rowid, ', ') FROM {table} WHERE {not_null} \
         GROUP BY {cols} HAVING count(*) > 1 ORDER BY count(*) DESC, {cols} LIMIT {SHOWN}",
        cols = quoted.join(", "),
        table = quote_identifier(&source),
        not_null = not_null.join(" AND "),
    );
    let n = columns.len();
    let repeats: rusqlite::Result<Vec<String>> = conn.prepare(&sql).and_then(|mut stmt| {
        stmt.query_map([], |r| {
            let values: Vec<String> = (0..n)
                .map(|i| r.get_ref(i).map(shown))
                .collect::<rusqlite::Result<_>>()?;
            let count: i64 = r.get(n)?;
            let rowids: String = r.get::<_, Option<String>>(n + 1)?.unwrap_or_default();
            Ok(format!(
                "{} in {count} rows (rowid {})",
                values.join(", "),
                shorten_list(&rowids, 8)
            ))
        })?
        .collect()
    });
    explained.text = match repeats {
        Ok(repeats) if !repeats.is_empty() => format!(
            "the generated rows of {source} repeat {}: {}",
            columns.join(", "),
            repeats.join("; ")
        ),
        Ok(_) => format!(
            "no value of {source}.{} repeats among the generated rows as stored: the index \
             compares them another way (a COLLATE, an expression), or the migration changes \
             them first",
            columns.join(", ")
        ),
        Err(_) => String::new(),
    };
    explained
}

/// `NOT NULL constraint failed: t.c`: the generated rows with `c` NULL, or that `c` is new.
fn explain_not_null(conn: &Connection, rest: &str) -> Explained {
    let (table, columns) = split_columns(rest);
    let column = columns.first().cloned().unwrap_or_default();
    let mut explained = Explained {
        table: Some(table.clone()),
        column: Some(column.clone()),
        text: String::new(),
    };
    let Some(source) = source_table(conn, &table) else {
        return explained;
    };
    let total: i64 = conn
        .query_row(
            &format!("SELECT count(*) FROM {}", quote_identifier(&source)),
            [],
            |r| r.get(0),
        )
        .unwrap_or(0);
    let existing = ordinary_columns(conn, &source).unwrap_or_default();
    if !existing.iter().any(|e| e.eq_ignore_ascii_case(&column)) {
        explained.text = format!(
            "{source} has no column {column} before this migration, so its {total} existing \
             rows need a value for it: give the column a DEFAULT, or a value in the \
             INSERT … SELECT"
        );
        return explained;
    }
    let filter = format!("{} IS NULL", quote_identifier(&column));
    let (count, rowids, rows) = matching_rows(conn, &source, &filter);
    explained.text = if count == 0 {
        format!(
            "no generated row of {source} has {column} NULL: the migration's SQL makes the NULL"
        )
    } else {
        format!(
            "{count} of the {total} generated rows of {source} have {column} NULL (rowid {}), \
             e.g. {}",
            shorten_list(&rowids, 8),
            rows.join("; ")
        )
    };
    explained
}

/// How many rows of `table` match `filter`, their rowids (comma separated) and the first
/// few, shown.
fn matching_rows(conn: &Connection, table: &str, filter: &str) -> (i64, String, Vec<String>) {
    let quoted = quote_identifier(table);
    let (count, rowids) = conn
        .query_row(
            &format!("SELECT count(*), group_concat(rowid, ', ') FROM {quoted} WHERE {filter}"),
            [],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                ))
            },
        )
        .unwrap_or((0, String::new()));
    let columns = ordinary_columns(conn, table).unwrap_or_default();
    let select: Vec<String> = columns.iter().map(|c| quote_identifier(c)).collect();
    let rows = if select.is_empty() {
        Vec::new()
    } else {
        let sql = format!(
            "SELECT {} FROM {quoted} WHERE {filter} LIMIT {SHOWN}",
            select.join(", ")
        );
        conn.prepare(&sql)
            .and_then(|mut stmt| {
                stmt.query_map([], |r| row_text(r, &columns))?
                    .collect::<rusqlite::Result<Vec<String>>>()
            })
            .unwrap_or_default()
    };
    (count, rowids, rows)
}

/// `(a, b) = (1, 'x')` for the current row of `r`, whose columns are `columns`.
fn row_text(r: &rusqlite::Row<'_>, columns: &[String]) -> rusqlite::Result<String> {
    let values: Vec<String> = (0..columns.len())
        .map(|i| r.get_ref(i).map(shown))
        .collect::<rusqlite::Result<_>>()?;
    Ok(format!(
        "({}) = ({})",
        columns.join(", "),
        values.join(", ")
    ))
}

/// `t.a, t.b` → (`t`, [`a`, `b`]).
fn split_columns(list: &str) -> (String, Vec<String>) {
    let mut table = String::new();
    let columns = list
        .split(", ")
        .map(|item| match item.split_once('.') {
            Some((t, c)) => {
                table = t.to_owned();
                c.trim().to_owned()
            }
            None => item.trim().to_owned(),
        })
        .collect();
    (table, columns)
}

/// The table the generated rows of `table` are in: itself when it exists before the
/// migration, else the one a rebuild copies from (`users_new` → `users`).
fn source_table(conn: &Connection, table: &str) -> Option<String> {
    let tables = user_tables(conn).ok()?;
    let find = |name: &str| {
        tables
            .iter()
            .find(|t| t.eq_ignore_ascii_case(name))
            .cloned()
    };
    if let Some(found) = find(table) {
        return Some(found);
    }
    let lower = table.to_lowercase();
    const AFFIXES: [&str; 8] = ["new", "tmp", "temp", "old", "copy", "backup", "v2", "next"];
    for affix in AFFIXES {
        let stripped = lower
            .strip_suffix(affix)
            .or_else(|| lower.strip_prefix(affix))
            .map(|s| s.trim_matches('_'));
        if let Some(found) = stripped.filter(|s| !s.is_empty()).and_then(find) {
            return Some(found);
        }
    }
    None
}

/// The rows `PRAGMA foreign_key_check` finds, each shown with its values.
struct Orphans {
    count: usize,
    lines: Vec<String>,
    table: Option<String>,
    column: Option<String>,
}

impl Orphans {
    fn find(conn: &Connection) -> rusqlite::Result<Orphans> {
        let found: Vec<(String, Option<i64>, String, i64)> = conn
            .prepare("PRAGMA foreign_key_check")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut orphans = Orphans {
            count: found.len(),
            lines: Vec::new(),
            table: None,
            column: None,
        };
        for (table, rowid, parent, id) in found.iter().take(SHOWN) {
            let keys: Vec<(String, Option<String>)> = conn
                .prepare(
                    "SELECT \"from\", \"to\" FROM pragma_foreign_key_list(?1) WHERE id = ?2 \
                     ORDER BY seq",
                )?
                .query_map((table, id), |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let from: Vec<String> = keys.iter().map(|k| k.0.clone()).collect();
            let to: Vec<String> = keys
                .iter()
                .map(|k| k.1.clone().unwrap_or_else(|| "its primary key".to_owned()))
                .collect();
            let row = rowid.and_then(|id| {
                let (_, _, rows) = matching_rows(conn, table, &format!("rowid = {id}"));
                rows.into_iter().next()
            });
            let at = rowid.map_or_else(String::new, |id| format!(" rowid {id}"));
            orphans.lines.push(format!(
                "{table}{at}: {} has no match in {parent}({}); the row: {}",
                from.join(", "),
                to.join(", "),
                row.unwrap_or_else(|| "(not found)".to_owned())
            ));
            if orphans.table.is_none() {
                orphans.table = Some(table.clone());
                orphans.column = Some(from.join(", "));
            }
        }
        if found.len() > SHOWN {
            orphans
                .lines
                .push(format!("… and {} more", found.len() - SHOWN));
        }
        Ok(orphans)
    }
}

/// The first `n` items of a comma-separated list, then `…`.
fn shorten_list(list: &str, n: usize) -> String {
    let items: Vec<&str> = list.split(", ").collect();
    if items.len() <= n {
        list.to_owned()
    } else {
        format!("{}, …", items[..n].join(", "))
    }
}

/// A value as a SQL literal on one line, long texts and blobs shortened:
/// `'lorem ipsum…' (2160 chars)`, `'a' || char(10) || 'b'`.
fn shown(value: ValueRef<'_>) -> String {
    match value {
        ValueRef::Text(bytes) => {
            let text = String::from_utf8_lossy(bytes);
            let chars = text.chars().count();
            if chars > 40 {
                let head: String = text.chars().take(24).collect();
                format!(
                    "{}…' ({chars} chars)",
                    one_line(&head).trim_end_matches('\'')
                )
            } else {
                one_line(&text)
            }
        }
        ValueRef::Blob(bytes) if bytes.len() > 16 => {
            let head = literal_ref(ValueRef::Blob(&bytes[..8]));
            format!("{}…' ({} bytes)", head.trim_end_matches('\''), bytes.len())
        }
        other => literal_ref(other),
    }
}

/// A text literal with its control characters as `char(n)`, so it stays on one line.
fn one_line(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text_literal(text);
    }
    let mut parts: Vec<String> = Vec::new();
    let mut run = String::new();
    for c in text.chars() {
        if c.is_control() {
            if !run.is_empty() {
                parts.push(text_literal(&std::mem::take(&mut run)));
            }
            parts.push(format!("char({})", u32::from(c)));
        } else {
            run.push(c);
        }
    }
    if !run.is_empty() {
        parts.push(text_literal(&run));
    }
    parts.join(" || ")
}

fn text_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The `CREATE` statements of a database, tables first, for a reproduction script:
/// not SQLite's own objects, not refinery's history, not virtual tables' shadow tables.
fn schema_statements(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    conn.prepare(
        "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL \
         AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> ?1 \
         AND tbl_name NOT IN (SELECT name FROM pragma_table_list WHERE type = 'shadow') \
         ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 WHEN 'view' THEN 2 ELSE 3 END, rowid",
    )?
    .query_map([crate::db::HISTORY_TABLE], |r| r.get(0))?
    .collect()
}

/// A stored value, comparable and hashable (reals by their bits, `-0.0` as `0.0`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Datum {
    Null,
    Integer(i64),
    Real(u64),
    Text(Vec<u8>),
    Blob(Vec<u8>),
}

impl Datum {
    fn of(value: ValueRef<'_>) -> Datum {
        match value {
            ValueRef::Null => Datum::Null,
            ValueRef::Integer(i) => Datum::Integer(i),
            ValueRef::Real(r) => Datum::Real(if r == 0.0 { 0.0f64 } else { r }.to_bits()),
            ValueRef::Text(t) => Datum::Text(t.to_vec()),
            ValueRef::Blob(b) => Datum::Blob(b.to_vec()),
        }
    }

    fn shown(&self) -> String {
        match self {
            Datum::Null => shown(ValueRef::Null),
            Datum::Integer(i) => shown(ValueRef::Integer(*i)),
            Datum::Real(bits) => shown(ValueRef::Real(f64::from_bits(*bits))),
            Datum::Text(t) => shown(ValueRef::Text(t)),
            Datum::Blob(b) => shown(ValueRef::Blob(b)),
        }
    }
}

/// The rows of one table.
struct TableData {
    name: String,
    columns: Vec<String>,
    rows: Vec<Vec<Datum>>,
}

/// Every table's rows, by lower-case name.
type Tables = BTreeMap<String, TableData>;

fn capture(conn: &Connection) -> rusqlite::Result<Tables> {
    let mut tables = Tables::new();
    for name in user_tables(conn)? {
        let columns = ordinary_columns(conn, &name)?;
        let rows = if columns.is_empty() {
            Vec::new()
        } else {
            let select: Vec<String> = columns.iter().map(|c| quote_identifier(c)).collect();
            let sql = format!(
                "SELECT {} FROM {}",
                select.join(", "),
                quote_identifier(&name)
            );
            let n = columns.len();
            conn.prepare(&sql)?
                .query_map([], |r| {
                    (0..n)
                        .map(|i| r.get_ref(i).map(Datum::of))
                        .collect::<rusqlite::Result<Vec<_>>>()
                })?
                .collect::<rusqlite::Result<_>>()?
        };
        tables.insert(
            name.to_lowercase(),
            TableData {
                name,
                columns,
                rows,
            },
        );
    }
    Ok(tables)
}

/// What `after` lost of `before`: for every table in both, the rows (by count) and, for
/// every column in both, the values (as multisets) beyond those of the lost rows.
fn compare(before: &Tables, after: &Tables, down: bool) -> Vec<DataChange> {
    let mut changes = Vec::new();
    for (name, old) in before {
        let Some(new) = after.get(name) else { continue };
        let pairs: Vec<(usize, usize)> = old
            .columns
            .iter()
            .enumerate()
            .filter_map(|(i, name)| {
                new.columns
                    .iter()
                    .position(|c| c.eq_ignore_ascii_case(name))
                    .map(|j| (i, j))
            })
            .collect();
        let key = key_column(old, new, &pairs);
        let rows_lost = old.rows.len().saturating_sub(new.rows.len());
        if rows_lost > 0 {
            changes.push(DataChange {
                table: old.name.clone(),
                column: None,
                before: old.rows.len(),
                lost: rows_lost,
                examples: lost_rows(old, new, &pairs, key),
                down,
            });
        }
        for &(i, j) in &pairs {
            let mut left: HashMap<&Datum, usize> = HashMap::new();
            for row in &new.rows {
                *left.entry(&row[j]).or_default() += 1;
            }
            let mut lost = 0;
            let mut missing: Vec<String> = Vec::new();
            for row in &old.rows {
                match left.get_mut(&row[i]) {
                    Some(n) if *n > 0 => *n -= 1,
                    _ => {
                        lost += 1;
                        let shown = format!("{} no longer found", row[i].shown());
                        if missing.len() < SHOWN && !missing.contains(&shown) {
                            missing.push(shown);
                        }
                    }
                }
            }
            if lost > rows_lost {
                let changed = key.map(|key| changed_values(old, new, key, (i, j)));
                changes.push(DataChange {
                    table: old.name.clone(),
                    column: Some(old.columns[i].clone()),
                    before: old.rows.len(),
                    lost: lost - rows_lost,
                    examples: changed.filter(|c| !c.is_empty()).unwrap_or(missing),
                    down,
                });
            }
        }
    }
    changes
}

/// A column in both tables whose values identify the rows in both (unique, not NULL):
/// `id`, say. Prefers one named `id`.
fn key_column(
    old: &TableData,
    new: &TableData,
    pairs: &[(usize, usize)],
) -> Option<(usize, usize)> {
    let identifies = |rows: &[Vec<Datum>], c: usize| {
        let mut seen = std::collections::HashSet::new();
        rows.iter()
            .all(|r| r[c] != Datum::Null && seen.insert(&r[c]))
    };
    let mut candidates: Vec<&(usize, usize)> = pairs.iter().collect();
    candidates.sort_by_key(|(i, _)| !old.columns[*i].eq_ignore_ascii_case("id"));
    candidates
        .into_iter()
        .find(|&&(i, j)| identifies(&old.rows, i) && identifies(&new.rows, j))
        .copied()
}

/// A few rows of `old` that `new` does not have: by key where there is one, else as whole
/// rows over the common columns.
fn lost_rows(
    old: &TableData,
    new: &TableData,
    pairs: &[(usize, usize)],
    key: Option<(usize, usize)>,
) -> Vec<String> {
    let names: Vec<&str> = pairs
        .iter()
        .map(|&(i, _)| old.columns[i].as_str())
        .collect();
    if names.is_empty() {
        return Vec::new();
    }
    let show = |row: &Vec<Datum>| {
        let values: Vec<String> = pairs.iter().map(|&(i, _)| row[i].shown()).collect();
        format!("({}) = ({})", names.join(", "), values.join(", "))
    };
    if let Some((i, j)) = key {
        let kept: std::collections::HashSet<&Datum> = new.rows.iter().map(|r| &r[j]).collect();
        return old
            .rows
            .iter()
            .filter(|r| !kept.contains(&r[i]))
            .take(SHOWN)
            .map(show)
            .collect();
    }
    let mut left: HashMap<Vec<&Datum>, usize> = HashMap::new();
    for row in &new.rows {
        *left
            .entry(pairs.iter().map(|&(_, j)| &row[j]).collect())
            .or_default() += 1;
    }
    let mut examples = Vec::new();
    for row in &old.rows {
        let values: Vec<&Datum> = pairs.iter().map(|&(i, _)| &row[i]).collect();
        match left.get_mut(&values) {
            Some(n) if *n > 0 => *n -= 1,
            _ if examples.len() < SHOWN => examples.push(show(row)),
            _ => {}
        }
    }
    examples
}

/// A few values of column `(i, j)` that changed in rows kept, matched by `key`:
/// `id 3: 'Ada' → 'ADA'`.
fn changed_values(
    old: &TableData,
    new: &TableData,
    (key_old, key_new): (usize, usize),
    (i, j): (usize, usize),
) -> Vec<String> {
    let by_key: HashMap<&Datum, &Vec<Datum>> = new.rows.iter().map(|r| (&r[key_new], r)).collect();
    old.rows
        .iter()
        .filter_map(|row| {
            let now = by_key.get(&row[key_old])?;
            (now[j] != row[i]).then(|| {
                format!(
                    "{} {}: {} → {}",
                    old.columns[key_old],
                    row[key_old].shown(),
                    row[i].shown(),
                    now[j].shown()
                )
            })
        })
        .take(SHOWN)
        .collect()
}

/// ` (table t, column c)` for [`Error::ReplayData`]'s message.
pub(crate) fn table_and_column(table: Option<&str>, column: Option<&str>) -> String {
    match (table, column) {
        (Some(t), Some(c)) => format!(" (table {t}, column {c})"),
        (Some(t), None) => format!(" (table {t})"),
        (None, Some(c)) => format!(" (column {c})"),
        (None, None) => String::new(),
    }
}

/// `\nreproduce with: sqlite3 < PATH`, the path quoted for a shell where it needs to be.
pub(crate) fn reproduce_hint(script: &Path) -> String {
    let path = script.display().to_string();
    let plain = path.chars().all(|c| {
        c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | '+' | ':' | '\\')
    });
    let path = if plain {
        path
    } else {
        format!("'{}'", path.replace('\'', r"'\''"))
    };
    format!("\nreproduce with: sqlite3 < {path}")
}
