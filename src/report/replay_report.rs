//! [`ReplayReport`]: what the replay checks found, one [`StepReport`] per migration.

use std::path::Path;
use std::sync::Arc;

use super::finding::Finding;
use super::generated_rows::GeneratedRows;
use super::scripts::ScriptFolder;
use super::step::{Down, StepReport};

use crate::version::Version;

/// The result of the replay checks: one [`StepReport`] per version, and every
/// [`Finding`]. [`check`](crate::replay::check) returns it when nothing failed, and
/// [`Error::Findings`](crate::Error::Findings) carries it when something did.
///
/// Its `Display` is one line per version, then a summary:
///
/// ```text
/// V1__users                     applies; integrity ok; foreign keys ok; down reverses it
/// V2__clients                   applies; integrity ok; foreign keys ok; no down script
/// step by step = all at once; re-running the runner changes nothing
/// ```
///
/// From [`check_with_data`](crate::replay::check_with_data), each line also says what became of the generated rows, the
/// changes of a migration marked [`Replay::expect_changes`](crate::replay::Replay::expect_changes) follow it, indented, and a
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
    pub(crate) steps: Vec<StepReport>,
    pub(crate) latest: Option<GeneratedRows>,
    /// Whether the whole set was also compared with itself: step by step against all at
    /// once, and the runner run again (not when a migration did not apply, nor on an
    /// upgrade).
    pub(crate) whole_set: bool,
    /// The database whose copy was upgraded, and the migration it was at, as its library
    /// names it (`V3__tags`, `20240101000000 create users`).
    pub(crate) upgraded: Option<(std::path::PathBuf, Option<String>)>,
    /// Whether the run stopped at its first finding.
    pub(crate) stopped_early: bool,
    /// The migrations' folder, for the one-line summary; `None` for migrations from code.
    pub(crate) origin: Option<std::path::PathBuf>,
    /// The folder of the reproduction scripts, when any was written: the report owns it.
    pub(crate) scripts: Option<Arc<ScriptFolder>>,
}

impl ReplayReport {
    /// One report per migration, by version.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?,
    /// #     refinery::Migration::unapplied("V2__names", "ALTER TABLE users ADD COLUMN name TEXT;")?,
    /// # ])?;
    /// let report = sqlite_testdb::replay::check(&m)?;
    /// assert_eq!(report.steps().len(), m.len());
    /// assert_eq!(report.steps()[1].migration(), "V2__names");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn steps(&self) -> &[StepReport] {
        &self.steps
    }

    /// The rows [`check_with_data`](crate::replay::check_with_data) generated in a database at the latest version, after
    /// the last step (so every table gets rows, also those the last migration creates);
    /// `None` for [`check`](crate::replay::check).
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
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # for (file, sql) in [("V1__users.sql", "CREATE TABLE users(id INTEGER PRIMARY KEY);"), ("V1__users.down.sql", "DROP TABLE users;"),
    /// #     ("V2__posts.sql", "CREATE TABLE posts(id INTEGER PRIMARY KEY);"),
    /// #     ("V3__purge.sql", "DELETE FROM users;"), ("V3__purge.down.sql", "-- deleted rows cannot come back")] {
    /// #     std::fs::write(dir.path().join(file), sql)?;
    /// # }
    /// use sqlite_testdb::{Migrations, replay};
    ///
    /// let report = replay::check(&Migrations::from_dir(dir.path())?)?;
    /// assert_eq!(report.without_down_script(), [2]);      // V2__posts.down.sql is missing
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn without_down_script(&self) -> Vec<Version> {
        self.versions_where(Down::Missing)
    }

    /// The versions whose down script holds only comments.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # for (file, sql) in [("V1__users.sql", "CREATE TABLE users(id INTEGER PRIMARY KEY);"), ("V1__users.down.sql", "DROP TABLE users;"),
    /// #     ("V2__posts.sql", "CREATE TABLE posts(id INTEGER PRIMARY KEY);"),
    /// #     ("V3__purge.sql", "DELETE FROM users;"), ("V3__purge.down.sql", "-- deleted rows cannot come back")] {
    /// #     std::fs::write(dir.path().join(file), sql)?;
    /// # }
    /// use sqlite_testdb::{Migrations, replay};
    ///
    /// let report = replay::check(&Migrations::from_dir(dir.path())?)?;
    /// assert_eq!(report.irreversible(), [3]);             // V3__purge.down.sql is only a comment
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn irreversible(&self) -> Vec<Version> {
        self.versions_where(Down::Irreversible)
    }

    /// The folder holding the reproduction scripts of the findings over generated rows
    /// ([`Finding::script`]); `None` when no script was written.
    ///
    /// Unless the replay was given a folder
    /// ([`Replay::scripts_in`](crate::replay::Replay::scripts_in)), it is a
    /// `sqlite-testdb-replay-…` folder in the temp folder that this report owns, as a
    /// `tempfile::TempDir` owns its folder: it is removed when the report (every clone of it,
    /// or the [`Error::Findings`](crate::Error::Findings) carrying it) is dropped, unless
    /// [`keep_scripts`](Self::keep_scripts) is called. A folder given with `scripts_in` is
    /// never removed.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);")?,
    /// #     refinery::Migration::unapplied("V2__upper", "UPDATE users SET name = upper(name);")?,
    /// # ])?;
    /// use sqlite_testdb::{DataOptions, replay};
    ///
    /// let err = replay::check_with_data(&m, DataOptions::default()).unwrap_err();
    /// let folder = err.report().and_then(|r| r.scripts_folder()).ok_or("no scripts")?.to_path_buf();
    /// assert!(folder.is_dir());
    /// drop(err);                                            // the report goes, and its scripts
    /// assert!(!folder.exists());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn scripts_folder(&self) -> Option<&Path> {
        self.scripts.as_deref().map(ScriptFolder::path)
    }

    /// Keeps the folder of the reproduction scripts when the report is dropped, and
    /// returns it (`None` when no script was written). For a failure to look into after
    /// the test: print the path, then remove the folder when done.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);")?,
    /// #     refinery::Migration::unapplied("V2__upper", "UPDATE users SET name = upper(name);")?,
    /// # ])?;
    /// use sqlite_testdb::{DataOptions, replay};
    ///
    /// let err = replay::check_with_data(&m, DataOptions::default()).unwrap_err();
    /// let folder = err.report().and_then(|r| r.keep_scripts()).ok_or("no scripts")?.to_path_buf();
    /// drop(err);
    /// assert!(folder.join("V2__upper.sql").is_file());    // kept: the folder is yours now
    /// std::fs::remove_dir_all(folder)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn keep_scripts(&self) -> Option<&Path> {
        let folder = self.scripts.as_deref()?;
        folder.keep();
        Some(folder.path())
    }

    /// Every finding, by version.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?])?;
    /// let report = sqlite_testdb::replay::check(&m)?;
    /// assert!(report.findings().is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn findings(&self) -> Vec<&Finding> {
        self.steps.iter().flat_map(|s| &s.findings).collect()
    }

    /// Whether every check passed: no finding of a check whose [`Severity`](crate::replay::Severity) fails the run,
    /// and every migration checked.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?])?;
    /// assert!(sqlite_testdb::replay::check(&m)?.passed());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn passed(&self) -> bool {
        self.steps
            .iter()
            .all(|s| s.checked && s.findings.iter().all(|f| !f.fails()))
    }

    /// One line: `3 of 56 migrations have findings: V18 up then down must leave no trace,
    /// …`, or that every check passed; with the versions that could not be checked.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?])?;
    /// assert_eq!(sqlite_testdb::replay::check(&m)?.summary(), "1 migration checked: no findings");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn summary(&self) -> String {
        let total = self.steps.len();
        let failing = self
            .steps
            .iter()
            .filter(|s| s.findings.iter().any(Finding::fails))
            .count();
        let mut text = if failing == 0 {
            format!(
                "{total} migration{} checked: no findings",
                if total == 1 { "" } else { "s" }
            )
        } else {
            let mut labels: Vec<String> = Vec::new();
            for label in self
                .findings()
                .iter()
                .filter(|f| f.fails())
                .map(|f| f.label())
            {
                if !labels.contains(&label) {
                    labels.push(label);
                }
            }
            format!(
                "{failing} of {total} migration{} {} findings: {}",
                if total == 1 { "" } else { "s" },
                if failing == 1 { "has" } else { "have" },
                labels.join(", ")
            )
        };
        let acknowledged = self.findings().iter().filter(|f| f.acknowledged).count();
        let notes = self
            .findings()
            .iter()
            .filter(|f| !f.acknowledged && !f.fails())
            .count();
        if acknowledged > 0 {
            text.push_str(&format!("; {acknowledged} acknowledged"));
        }
        if notes > 0 {
            text.push_str(&format!(
                "; {notes} note{}",
                if notes == 1 { "" } else { "s" }
            ));
        }
        let unchecked: Vec<&StepReport> = self.steps.iter().filter(|s| !s.checked).collect();
        if let (Some(first), Some(last)) = (unchecked.first(), unchecked.last()) {
            let range = if first.version == last.version {
                format!("V{}", first.version)
            } else {
                format!("V{} to V{}", first.version, last.version)
            };
            let reason = if self.stopped_early {
                "stopped at the first finding"
            } else {
                "an earlier migration does not apply"
            };
            text.push_str(&format!("; {range} not checked: {reason}"));
        }
        text
    }

    fn versions_where(&self, down: Down) -> Vec<Version> {
        self.steps
            .iter()
            .filter(|s| s.down == down)
            .map(|s| s.version)
            .collect()
    }
}
