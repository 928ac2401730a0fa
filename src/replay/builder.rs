//! [`Replay`]: the one way to configure a replay beyond [`check`](super::check) and
//! [`check_with_data`](super::check_with_data).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use rusqlite::Connection;

use super::run;
use super::settings::Settings;
use crate::connection::ConnectOptions;
use crate::error::{Error, Result};
use crate::migrations::Migrations;
use crate::report::{Check, Progress, ReplayReport};
use crate::rows::DataOptions;
use crate::version::Version;

/// A replay of a migration set, configured: connection settings for migrations that need a
/// custom function or an extension, generated rows, migrations that change data on
/// purpose, a time limit, a progress callback. Settings that cannot combine (generated rows
/// and an upgrade, expected changes with no rows to change) make [`run`](Self::run) fail
/// with [`Error::ConflictingSettings`] rather than one of them playing no part.
///
/// [`check`](super::check) is `Replay::new(&m).run()`, and
/// [`check_with_data`](super::check_with_data) is `Replay::new(&m).with_data(options).run()`.
///
/// Setters take and return `&mut Self`; [`run`](Self::run) can be called again.
///
/// # Examples
///
/// ```
/// use rusqlite::functions::FunctionFlags;
/// use sqlite_testdb::{DataOptions, Migrations, replay::Replay};
///
/// let m = Migrations::from_migrations([
///     refinery::Migration::unapplied("V1__answers", "CREATE TABLE answers(n INTEGER CHECK (n <> answer()));")?,
///     refinery::Migration::unapplied("V2__index", "CREATE INDEX answers_n ON answers(n);")?,
/// ])?;
/// let mut seen = Vec::new();
/// let report = Replay::new(&m)
///     .on_connect(|conn| {
///         conn.create_scalar_function("answer", 0, FunctionFlags::SQLITE_DETERMINISTIC, |_| Ok(42))
///     })
///     .with_data(DataOptions::default().rows_per_table(10))
///     .progress(|p| seen.push(format!("{}/{} {}", p.done, p.total, p.step.migration())))
///     .run()?;
/// assert_eq!(report.steps()[1].generated().map(|g| g.inserted()), Some(10));
/// assert_eq!(seen, ["1/2 V1__answers", "2/2 V2__index"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Replay<'a> {
    settings: Settings,
    progress: Option<ProgressCallback<'a>>,
}

/// What [`Replay::progress`] keeps.
type ProgressCallback<'a> = Box<dyn FnMut(Progress<'_>) + 'a>;

impl<'a> Replay<'a> {
    /// A replay of `migrations` on empty databases, with the default connection settings.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?])?;
    /// let report = sqlite_testdb::replay::Replay::new(&m).run()?;
    /// assert_eq!(report.without_down_script(), [1]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(migrations: &Migrations) -> Self {
        Replay {
            settings: Settings {
                migrations: migrations.clone(),
                connect: ConnectOptions::default(),
                data: None,
                expected: Vec::new(),
                time_limit: None,
                fail_fast: false,
                upgrade: None,
                foreign_keys: true,
                scripts: None,
                allows: Vec::new(),
                min_sqlite: None,
            },
            progress: None,
        }
    }

    /// A function run on every connection the replay opens, the ones that migrate
    /// included: custom SQL functions, collations, extensions. As
    /// [`Builder::on_connect`](crate::Builder::on_connect).
    ///
    /// # Examples
    ///
    /// ```
    /// use rusqlite::functions::FunctionFlags;
    /// use sqlite_testdb::{Migrations, replay::Replay};
    ///
    /// let m = Migrations::from_migrations([refinery::Migration::unapplied(
    ///     "V1__answers",
    ///     "CREATE TABLE answers(n INTEGER DEFAULT (answer()));",
    /// )?])?;
    /// let report = Replay::new(&m)
    ///     .on_connect(|conn| {
    ///         conn.create_scalar_function("answer", 0, FunctionFlags::SQLITE_DETERMINISTIC, |_| Ok(42))
    ///     })
    ///     .run()?;
    /// assert_eq!(report.steps().len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn on_connect<F>(&mut self, hook: F) -> &mut Self
    where
        F: Fn(&mut Connection) -> rusqlite::Result<()> + Send + Sync + 'static,
    {
        self.settings.connect.hook = Some(Arc::new(hook));
        self
    }

    /// How long a connection waits for a lock held by another. Default: 5 seconds.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?])?;
    /// use std::time::Duration;
    ///
    /// sqlite_testdb::replay::Replay::new(&m).busy_timeout(Duration::from_secs(1)).run()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn busy_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.settings.connect.busy_timeout = timeout;
        self
    }

    /// Adds the checks over generated rows of [`check_with_data`](super::check_with_data),
    /// with these settings of the row generator.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?])?;
    /// use sqlite_testdb::{DataOptions, replay::Replay};
    ///
    /// let report = Replay::new(&m).with_data(DataOptions::default().rows_per_table(5)).run()?;
    /// assert_eq!(report.generated_at_latest().map(|g| g.inserted()), Some(5));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_data(&mut self, options: DataOptions) -> &mut Self {
        self.settings.data = Some(options);
        self
    }

    /// Marks a migration that deletes or transforms data on purpose: what it changes is
    /// listed in its report instead of failing the checks over rows (generated, with
    /// [`with_data`](Self::with_data), or a real database's, with
    /// [`upgrade`](Self::upgrade); with neither, [`run`](Self::run) fails with
    /// [`Error::ConflictingSettings`]). Call once per such migration.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);")?,
    /// #     refinery::Migration::unapplied("V2__upper", "UPDATE users SET name = upper(name);")?,
    /// # ])?;
    /// use sqlite_testdb::{DataOptions, replay::Replay};
    ///
    /// let report = Replay::new(&m).with_data(DataOptions::default()).expect_changes(2).run()?;
    /// assert_eq!(report.steps()[1].data_changes()[0].column(), Some("name"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn expect_changes(&mut self, version: Version) -> &mut Self {
        if !self.settings.expected.contains(&version) {
            self.settings.expected.push(version);
        }
        self
    }

    /// How long one migration or down script may run over the generated rows of
    /// [`with_data`](Self::with_data) (default 10 s; without it, [`run`](Self::run) fails
    /// with [`Error::ConflictingSettings`]). One that runs longer is stopped and reported as
    /// a finding ([`Check::TimeLimit`](crate::replay::Check::TimeLimit)): a recursive view
    /// or trigger that never ends over rows that reference each other, say. The rows are
    /// few, so a migration that needs more than a few seconds over them is rarely just slow.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V1__numbers", "CREATE TABLE numbers(n INTEGER);")?,
    /// #     refinery::Migration::unapplied("V2__count_up", "CREATE TABLE counted AS WITH RECURSIVE up(n) AS (SELECT n FROM numbers UNION ALL SELECT n + 1 FROM up) SELECT count(*) AS c FROM up;")?,
    /// # ])?;
    /// use std::time::Duration;
    /// use sqlite_testdb::{DataOptions, replay::{Check, Replay}};
    ///
    /// // V2 counts up from every row forever: quick on an empty table, endless over rows.
    /// let err = Replay::new(&m)
    ///     .with_data(DataOptions::default())
    ///     .time_limit(Duration::from_millis(200))
    ///     .run()
    ///     .unwrap_err();
    /// assert_eq!(err.report().ok_or("no report")?.findings()[0].check(), Check::TimeLimit);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn time_limit(&mut self, limit: Duration) -> &mut Self {
        self.settings.time_limit = Some(limit);
        self
    }

    /// Writes the reproduction scripts of the checks over generated rows into `dir` (made
    /// if missing, never removed), one file per finding (`V3__name.sql`), replacing those of
    /// an earlier run: a folder CI keeps as an artifact, say. Without it they go to a
    /// `sqlite-testdb-replay-…` folder in the temp folder that the report owns and removes
    /// when dropped ([`ReplayReport::scripts_folder`]). Without
    /// [`with_data`](Self::with_data), [`run`](Self::run) fails with
    /// [`Error::ConflictingSettings`].
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);")?,
    /// #     refinery::Migration::unapplied("V2__upper", "UPDATE users SET name = upper(name);")?,
    /// # ])?;
    /// use sqlite_testdb::{DataOptions, replay::Replay};
    ///
    /// let artifacts = tempfile::tempdir()?;
    /// let err = Replay::new(&m)
    ///     .with_data(DataOptions::default())
    ///     .scripts_in(artifacts.path())
    ///     .run()
    ///     .unwrap_err();
    /// drop(err);
    /// assert!(artifacts.path().join("V2__upper.sql").is_file());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn scripts_in(&mut self, dir: impl AsRef<std::path::Path>) -> &mut Self {
        self.settings.scripts = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Calls `progress` after each migration is checked: for a progress line on long
    /// migration sets.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?])?;
    /// let mut seen = Vec::new();
    /// sqlite_testdb::replay::Replay::new(&m).progress(|p| seen.push((p.done, p.total))).run()?;
    /// assert_eq!(seen, [(1, 1)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn progress(&mut self, progress: impl FnMut(Progress<'_>) + 'a) -> &mut Self {
        self.progress = Some(Box::new(progress));
        self
    }

    /// Runs the migrations and their down scripts with foreign keys off, as an application
    /// that rebuilds referenced tables does (SQLite's procedure for table changes says to).
    /// By default they are on, as SQLite bundled by rusqlite has them.
    ///
    /// Off is `PRAGMA foreign_keys = OFF` before each migration, outside its transaction
    /// (inside, the pragma does nothing), and on again after it: what an application that
    /// rebuilds referenced tables does, as SQLite's procedure for table changes says. Rows
    /// left referencing nothing are still found by the `PRAGMA foreign_key_check` after
    /// each migration.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);
    /// #         CREATE TABLE posts(id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id));")?,
    /// #     refinery::Migration::unapplied("V2__rebuild", "CREATE TABLE users_new(id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '');
    /// #         INSERT INTO users_new SELECT id, coalesce(name, '') FROM users; DROP TABLE users;
    /// #         ALTER TABLE users_new RENAME TO users;")?,
    /// # ])?;
    /// use sqlite_testdb::{DataOptions, replay::Replay};
    ///
    /// // V2 rebuilds `users`, which `posts` references: with foreign keys on, dropping the
    /// // old table fails over rows; with them off, as the application migrates, it passes.
    /// let mut replay = Replay::new(&m);
    /// replay.with_data(DataOptions::default()).expect_changes(2);
    /// let err = replay.run().unwrap_err();
    /// assert!(err.report().ok_or("no report")?.to_string().contains("FOREIGN KEY constraint failed"));
    /// replay.foreign_keys_off().run()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn foreign_keys_off(&mut self) -> &mut Self {
        self.settings.foreign_keys = false;
        self
    }

    /// Stops at the first finding: the migrations after it are reported as not checked.
    /// By default every version is checked, whatever fails before it.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?,
    /// #     refinery::Migration::unapplied("V2__bad", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?,
    /// #     refinery::Migration::unapplied("V3__posts", "CREATE TABLE posts(id INTEGER PRIMARY KEY);")?,
    /// # ])?;
    /// use sqlite_testdb::{Error, replay::Replay};
    ///
    /// let Err(Error::Findings { report }) = Replay::new(&m).fail_fast().run() else {
    ///     panic!("V2 creates users again")
    /// };
    /// assert_eq!(report.findings().len(), 1);
    /// assert!(!report.steps()[2].checked());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fail_fast(&mut self) -> &mut Self {
        self.settings.fail_fast = true;
        self
    }

    /// Acknowledges findings of `check` at migration `version`: they stay in the report
    /// ([`Finding::acknowledged`](super::Finding::acknowledged)) and do not fail the run. For
    /// what a migration does on purpose: a column dropped, a table renamed. An `allow` that
    /// matches no finding of its migration is listed as a
    /// [`Check::StaleAllow`](super::Check::StaleAllow) note. The same as the command's
    /// `--allow V:code`, its config file's `[allow]` table, and a `-- sqlite-testdb: allow
    /// code` comment in the migration file. A version the set does not have makes
    /// [`run`](Self::run) fail with [`Error::UnknownVersion`].
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, nick TEXT);")?,
    /// #     refinery::Migration::unapplied("V2__no_nick", "ALTER TABLE users DROP COLUMN nick;")?,
    /// # ])?;
    /// use sqlite_testdb::replay::{self, Check, Replay};
    ///
    /// let err = replay::check(&m).unwrap_err();
    /// assert_eq!(err.report().ok_or("no report")?.findings()[0].check(), Check::ColumnDropped);
    ///
    /// let report = Replay::new(&m).allow(2, Check::ColumnDropped).run()?;
    /// assert!(report.findings()[0].acknowledged());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn allow(&mut self, version: Version, check: Check) -> &mut Self {
        if !self.settings.allows.contains(&(version, check)) {
            self.settings.allows.push((version, check));
        }
        self
    }

    /// The oldest SQLite the project supports, `"3.31"` or `"3.31.1"`: a migration that
    /// uses a feature newer than it (`RETURNING` or `DROP COLUMN`, 3.35; `STRICT` tables,
    /// 3.37; `->>`, 3.38; …) is a [`Check::NewerSqliteFeature`](super::Check::NewerSqliteFeature)
    /// finding at the feature's line. Not declared, nothing is checked. Anything else than a
    /// SQLite version makes [`run`](Self::run) fail with [`Error::InvalidSetting`].
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, doc TEXT);")?,
    /// #     refinery::Migration::unapplied("V2__names", "CREATE VIEW names AS SELECT doc ->> '$.name' AS name FROM users;")?,
    /// # ])?;
    /// use sqlite_testdb::replay::{Check, Replay};
    ///
    /// let err = Replay::new(&m).min_sqlite("3.31").run().unwrap_err();
    /// let finding = err.report().ok_or("no report")?.findings()[0];
    /// assert_eq!((finding.check(), finding.line()), (Check::NewerSqliteFeature, Some(1)));
    /// assert!(Replay::new(&m).min_sqlite("3.38").run().is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn min_sqlite(&mut self, version: &str) -> &mut Self {
        self.settings.min_sqlite = Some(version.to_owned());
        self
    }

    /// Checks the upgrade of a real database instead, as [`check_from`](super::check_from):
    /// a copy of the file at `path` (the file itself is only read), brought from the version
    /// its refinery history names to the latest, one migration at a time, with the checks
    /// over rows after each one. The rows are the database's: with
    /// [`with_data`](Self::with_data) too, [`run`](Self::run) fails with
    /// [`Error::ConflictingSettings`].
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);")?,
    /// #     refinery::Migration::unapplied("V2__upper", "UPDATE users SET name = upper(name);")?,
    /// # ])?;
    /// use sqlite_testdb::{TestDb, replay::Replay};
    ///
    /// let old = TestDb::builder(&m).version(1).seed_sql("INSERT INTO users(name) VALUES ('ada')").build()?;
    /// let report = Replay::new(&m).upgrade(old.path()).expect_changes(2).run()?;
    /// assert_eq!(report.steps()[0].migration(), "V2__upper");
    /// assert_eq!(report.steps()[0].data_changes()[0].column(), Some("name"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn upgrade(&mut self, path: impl AsRef<std::path::Path>) -> &mut Self {
        self.settings.upgrade = Some(path.as_ref().to_path_buf());
        self
    }

    /// Runs the checks: those of [`check`](super::check), and with
    /// [`with_data`](Self::with_data) those of [`check_with_data`](super::check_with_data), or
    /// with [`upgrade`](Self::upgrade) those of [`check_from`](super::check_from). Every
    /// version is checked on its own, so one run finds every failure (unless
    /// [`fail_fast`](Self::fail_fast)).
    ///
    /// # Errors
    ///
    /// [`Error::Findings`](crate::Error::Findings) when a check failed, carrying the whole
    /// report and every finding; [`Error::ConflictingSettings`] for settings that cannot
    /// combine (see the setters); otherwise the errors of [`check`](super::check) and
    /// [`check_from`](super::check_from) for input that cannot be checked.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?])?;
    /// let mut replay = sqlite_testdb::replay::Replay::new(&m);
    /// let first = replay.run()?;
    /// let again = replay.run()?;
    /// assert_eq!(first.steps().len(), again.steps().len());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn run(&mut self) -> Result<ReplayReport> {
        self.settings.validate()?;
        let report = match &mut self.progress {
            Some(progress) => run::run(&self.settings, progress.as_mut())?,
            None => run::run(&self.settings, &mut |_| {})?,
        };
        if report.passed() {
            Ok(report)
        } else {
            Err(Error::Findings {
                report: Box::new(report),
            })
        }
    }
}

impl fmt::Debug for Replay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Replay")
            .field("settings", &self.settings)
            .field(
                "progress",
                &self.progress.as_ref().map(|_| "FnMut(Progress)"),
            )
            .finish()
    }
}
