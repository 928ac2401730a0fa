//! [`Settings`]: what a replay runs with, as its [`Replay`](super::Replay) builder set it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use refinery::Migration;
use rusqlite::Connection;

use crate::connection::ConnectOptions;
use crate::error::{Error, Result};
use crate::migrations::Migrations;
use crate::migrations::{rollback, runner};
use crate::report::{Check, Down, StepReport};
use crate::rows::DataOptions;
use crate::sql::sqlite_version::SqliteVersion;
use crate::testdb::TestDb;
use crate::version::Version;

/// The settings of one replay.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) migrations: Migrations,
    /// Every connection's settings: the hook, the busy timeout.
    pub(crate) connect: ConnectOptions,
    /// Generated rows, for the checks with data; `None`: empty databases only.
    pub(crate) data: Option<DataOptions>,
    /// Migrations marked as changing data on purpose, besides those of `data` (deprecated
    /// there).
    pub(crate) expected: Vec<Version>,
    /// How long a migration may run over generated rows; `None`: the one of `data`
    /// (deprecated there), else [`DEFAULT_TIME_LIMIT`].
    pub(crate) time_limit: Option<Duration>,
    /// Stop at the first finding.
    pub(crate) fail_fast: bool,
    /// A real database whose copy is upgraded instead.
    pub(crate) upgrade: Option<PathBuf>,
    /// Whether foreign keys are enforced while migrations and down scripts run.
    pub(crate) foreign_keys: bool,
    /// The folder for reproduction scripts; `None`: one in the temp folder, owned by the
    /// report.
    pub(crate) scripts: Option<PathBuf>,
    /// Findings acknowledged per version ([`Replay::allow`](super::Replay::allow)).
    pub(crate) allows: Vec<(Version, Check)>,
    /// The oldest SQLite the project supports, as given; `None`: not declared.
    pub(crate) min_sqlite: Option<String>,
}

/// How long a migration may run over generated rows unless set.
pub(crate) const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(10);

impl Settings {
    /// [`Error::ConflictingSettings`] for settings that cannot combine, rather than one of
    /// them silently playing no part.
    pub(crate) fn validate(&self) -> Result<()> {
        let conflict = |first, second, reason| {
            Err(Error::ConflictingSettings {
                first,
                second,
                reason,
            })
        };
        let upgrade = self.upgrade.is_some();
        if let (Some(_), true) = (&self.data, upgrade) {
            return conflict(
                "with_data(..)",
                "upgrade(..)",
                "an upgrade checks the database's own rows, not generated ones",
            );
        }
        let expected = !self.expected.is_empty()
            || self.data.as_ref().is_some_and(|d| !d.expected().is_empty());
        if expected && self.data.is_none() && !upgrade {
            return conflict(
                "expect_changes(..)",
                "neither with_data(..) nor upgrade(..)",
                "only the checks over rows see data change",
            );
        }
        if self.scripts.is_some() && self.data.is_none() {
            return conflict(
                "scripts_in(..)",
                "no with_data(..)",
                "reproduction scripts are written for the checks over generated rows",
            );
        }
        if self.time_limit.is_some() && self.data.is_none() {
            return conflict(
                "time_limit(..)",
                "no with_data(..)",
                "the time limit is for migrations over generated rows",
            );
        }
        let deprecated = self.data.as_ref().and_then(DataOptions::limit);
        if let (Some(limit), Some(old)) = (self.time_limit, deprecated)
            && limit != old
        {
            return conflict(
                "time_limit(..)",
                "DataOptions::time_limit(..)",
                "a migration has one time limit",
            );
        }
        for (version, _) in &self.allows {
            self.migrations.check_version(*version)?;
        }
        self.min_sqlite()?;
        Ok(())
    }

    /// The oldest SQLite the project supports, if declared;
    /// [`Error::InvalidSetting`] when it is not a SQLite version.
    pub(crate) fn min_sqlite(&self) -> Result<Option<SqliteVersion>> {
        self.min_sqlite
            .as_deref()
            .map(|text| {
                SqliteVersion::parse(text).map_err(|reason| Error::InvalidSetting {
                    setting: "Replay::min_sqlite",
                    reason,
                })
            })
            .transpose()
    }

    /// How long a migration may run over generated rows.
    pub(crate) fn time_limit(&self) -> Duration {
        self.time_limit
            .or_else(|| self.data.as_ref().and_then(DataOptions::limit))
            .unwrap_or(DEFAULT_TIME_LIMIT)
    }

    /// A new empty database with these connection settings, in a folder of its own that is
    /// always removed.
    pub(crate) fn scratch(&self) -> Result<TestDb> {
        TestDb::empty(&self.migrations, &self.connect)
    }

    /// Whether `version` changes data on purpose.
    pub(crate) fn expects_changes(&self, version: Version) -> bool {
        self.expected.contains(&version)
            || self
                .data
                .as_ref()
                .is_some_and(|d| d.expected().contains(&version))
    }

    /// Applies the migrations after the current version up to `version` on `conn` (to the
    /// database at `path`), with foreign keys as set.
    pub(crate) fn migrate(
        &self,
        conn: &mut Connection,
        version: Version,
        path: &Path,
    ) -> Result<()> {
        self.with_foreign_keys(conn, path, |conn| {
            runner::run(conn, &self.migrations, version, path)
        })
    }

    /// Runs the down scripts that take the database of `conn` down to `version`, with
    /// foreign keys as set.
    pub(crate) fn roll_back(
        &self,
        conn: &mut Connection,
        version: Version,
        path: &Path,
    ) -> Result<()> {
        self.with_foreign_keys(conn, path, |conn| {
            rollback::rollback_on(conn, &self.migrations, version, path)
        })
    }

    /// Runs `run` with foreign keys off when so set (outside any transaction, where the
    /// pragma works), and turns them on again.
    fn with_foreign_keys(
        &self,
        conn: &mut Connection,
        path: &Path,
        run: impl FnOnce(&mut Connection) -> Result<()>,
    ) -> Result<()> {
        if self.foreign_keys {
            return run(conn);
        }
        let switch = |conn: &Connection, on: bool| {
            conn.pragma_update(None, "foreign_keys", on)
                .map_err(|e| Error::sqlite("switch foreign keys on or off in", path, e))
        };
        switch(conn, false)?;
        let result = run(conn);
        switch(conn, true)?;
        result
    }

    /// The report of `migration` when it was not checked: an earlier one did not apply, or
    /// the replay stopped at its first finding.
    pub(crate) fn unchecked(&self, migration: &Migration) -> StepReport {
        let version = migration.version();
        StepReport {
            migration: self.migrations.name_of(migration),
            version,
            file: self.migrations.file(version).map(ToOwned::to_owned),
            down: match self.migrations.down_script(version) {
                None => Down::Missing,
                Some(script) if script.is_irreversible() => Down::Irreversible,
                Some(_) => Down::NotChecked,
            },
            data: None,
            findings: Vec::new(),
            checked: false,
        }
    }
}
