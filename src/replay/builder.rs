//! [`Replay`]: the one way to configure a replay beyond [`check`](super::check) and
//! [`check_with_data`](super::check_with_data).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use rusqlite::Connection;

use super::report::{Progress, ReplayReport};
use super::run;
use super::settings::Settings;
use crate::connection::ConnectOptions;
use crate::{DataOptions, Migrations, Result, Version};

/// A replay of a migration set, configured: connection settings for migrations that need a
/// custom function or an extension, generated rows, migrations that change data on
/// purpose, a progress callback. Every setting is used.
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

    /// Marks a migration that deletes or transforms data on purpose, as
    /// [`DataOptions::expect_changes`]: what it changes is listed in its report instead of
    /// failing the checks with data. Call once per such migration.
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

    /// Runs the checks: those of [`check`](super::check), and with
    /// [`with_data`](Self::with_data) those of [`check_with_data`](super::check_with_data).
    ///
    /// # Errors
    ///
    /// As [`check`](super::check) and [`check_with_data`](super::check_with_data).
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
        match &mut self.progress {
            Some(progress) => run::run(&self.settings, progress.as_mut()),
            None => run::run(&self.settings, &mut |_| {}),
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
