//! The checks on empty databases: one database steps forward through the set; each
//! migration applies, leaves the database clean, and its down script undoes it and lets it
//! apply again. Then the whole set at once, and once more.

use refinery::Migration;
use rusqlite::Connection;

use super::affected::Reach;
use super::findings::finding;
use super::schema_changes::SchemaChanges;
use super::settings::Settings;
use crate::error::{Error, Result};
use crate::report::{Check, Down, Finding, FindingKind};
use crate::schema::Schema;
use crate::schema::integrity::{foreign_key_problems_in, integrity_problems_of};
use crate::testdb::{Snapshot, TestDb};
use crate::version::Version;

/// The database stepping forward, schema only, and what it looked like before the next
/// migration.
pub(crate) struct SchemaReplay<'s> {
    settings: &'s Settings,
    /// For the checks between migrations; declared before `db`, closed before it goes.
    conn: Connection,
    pub(crate) db: TestDb,
    before: Schema,
    previous: Option<Version>,
    reach: Reach,
    changes: SchemaChanges,
}

/// What became of one migration on the empty database.
pub(crate) struct SchemaStep {
    /// Whether it applied; nothing after it can be checked when it did not.
    pub(crate) applied: bool,
    pub(crate) down: Down,
}

impl<'s> SchemaReplay<'s> {
    pub(crate) fn new(settings: &'s Settings) -> Result<Self> {
        let db = settings.scratch()?;
        let conn = db.connect()?;
        let before = Schema::capture(&conn)?;
        let changes = SchemaChanges::new(settings, &conn)?;
        Ok(SchemaReplay {
            settings,
            conn,
            db,
            before,
            previous: None,
            reach: Reach::default(),
            changes,
        })
    }

    fn schema(&self) -> Result<Schema> {
        Schema::capture(&self.conn)
    }

    /// Applies the migrations up to `version` on a new connection, as every step does: what
    /// a migration leaves in its connection must not reach the next one.
    fn migrate(&self, version: Version) -> Result<()> {
        let mut conn = self.db.connect()?;
        self.settings.migrate(&mut conn, version, self.db.path())
    }

    /// Runs the down scripts down to `version` on a new connection.
    fn roll_back(&self, version: Version) -> Result<()> {
        let mut conn = self.db.connect()?;
        self.settings.roll_back(&mut conn, version, self.db.path())
    }

    /// Applies `migration` and checks it, adding what fails to `findings`.
    pub(crate) fn step(
        &mut self,
        migration: &Migration,
        findings: &mut Vec<Finding>,
    ) -> Result<SchemaStep> {
        let version = migration.version();
        self.changes
            .before_up(self.settings, &self.conn, migration, findings)?;
        match self.migrate(version) {
            Ok(()) => {}
            Err(error @ Error::Migration { .. }) => {
                findings.push(self.finding(
                    migration,
                    Check::MustApply,
                    error.with_causes_in(migration.sql().unwrap_or_default()),
                ));
                return Ok(SchemaStep {
                    applied: false,
                    down: Down::NotChecked,
                });
            }
            Err(other) => return Err(other),
        }
        self.check_clean(migration, findings)?;
        let shape = self
            .changes
            .after_up(self.settings, &self.conn, migration, findings)?;
        let after = self.schema()?;
        let down = match self.settings.migrations.down_script(version) {
            None => Down::Missing,
            Some(script) if script.is_irreversible() => Down::Irreversible,
            Some(_) => self.check_down(migration, &after, findings)?,
        };
        self.before = after;
        self.changes.advance(shape);
        self.previous = Some(version);
        Ok(SchemaStep {
            applied: true,
            down,
        })
    }

    /// Down then up again: no trace, and the same schema again. After a failure the
    /// database is put back as the first up left it.
    fn check_down(
        &mut self,
        migration: &Migration,
        after: &Schema,
        findings: &mut Vec<Finding>,
    ) -> Result<Down> {
        let version = migration.version();
        let at_version = Snapshot::take(&self.conn, self.db.path())?;
        let below = self.previous.unwrap_or_else(|| version.saturating_sub(1));
        let failed = match self.roll_back(below) {
            Err(error @ Error::DownScript { .. }) => {
                let down = self.settings.migrations.down_script(version);
                let script = down.map_or("", |d| d.sql());
                Some((Check::DownMustApply, error.with_causes_in(script)))
            }
            Err(other) => return Err(other),
            Ok(()) => {
                let undone = self.schema()?;
                if undone == self.before {
                    match self.migrate(version) {
                        Err(error @ Error::Migration { .. }) => {
                            let script = migration.sql().unwrap_or_default();
                            Some((Check::RedoMustApply, error.with_causes_in(script)))
                        }
                        Err(other) => return Err(other),
                        Ok(()) => {
                            let redone = self.schema()?;
                            (redone != *after).then(|| {
                                let diff = after.diff_labeled(&redone, "first up", "up after down");
                                (Check::RedoSameSchema, diff)
                            })
                        }
                    }
                } else {
                    self.changes
                        .after_down(self.settings, &self.conn, migration, findings)?;
                    let diff = self
                        .before
                        .diff_labeled(&undone, "before up", "after up and down");
                    Some((Check::DownLeavesTrace, diff))
                }
            }
        };
        let Some((check, detail)) = failed else {
            return Ok(Down::Reverses);
        };
        findings.push(self.finding(migration, check, detail));
        at_version.restore_into(&mut self.conn, self.db.path())?;
        Ok(Down::Fails)
    }

    /// `PRAGMA integrity_check` and `PRAGMA foreign_key_check` after `migration`, of the
    /// tables it can have changed.
    fn check_clean(&mut self, migration: &Migration, findings: &mut Vec<Finding>) -> Result<()> {
        let conn = &self.conn;
        let sqlite = |e| Error::sqlite("check", self.db.path(), e);
        let scope = self
            .reach
            .affected(conn, &[migration.sql().unwrap_or_default()])
            .map_err(sqlite)?;
        let integrity = integrity_problems_of(conn, &scope).map_err(sqlite)?;
        if !integrity.is_empty() {
            findings.push(self.finding(migration, Check::IntegrityCheck, integrity.join("\n")));
        }
        let foreign_keys = foreign_key_problems_in(conn, Some(&scope));
        if !foreign_keys.is_empty() {
            findings.push(self.finding(migration, Check::ForeignKeyCheck, foreign_keys.join("\n")));
        }
        Ok(())
    }

    /// The whole set at once on a new database gives the schema step by step gave, and
    /// running the runner again changes nothing. What fails is a finding of `last`.
    pub(crate) fn check_whole_set(
        &self,
        last: &Migration,
        findings: &mut Vec<Finding>,
    ) -> Result<bool> {
        let migrations = &self.settings.migrations;
        let at_once = self.settings.scratch()?;
        match at_once.migrate_to(last.version()) {
            Ok(()) => {}
            Err(error @ Error::Migration { .. }) => {
                findings.push(self.finding(last, Check::StepByStepDiffers, error.with_causes()));
                return Ok(false);
            }
            Err(other) => return Err(other),
        }
        let all = at_once.schema()?;
        let mut passed = true;
        if all != self.before {
            let diff = all.diff_labeled(&self.before, "all at once", "step by step");
            findings.push(self.finding(last, Check::StepByStepDiffers, diff));
            passed = false;
        }
        let history = |db: &TestDb| -> Result<Vec<(Version, u64)>> {
            let mut conn = db.connect()?;
            Ok(
                crate::migrations::history::applied(&mut conn, db.path(), migrations)?
                    .iter()
                    .map(|m| (m.version(), m.checksum()))
                    .collect(),
            )
        };
        let history_before = history(&at_once)?;
        let mut conn = at_once.connect()?;
        crate::migrations::runner::run(&mut conn, migrations, last.version(), at_once.path())?;
        drop(conn);
        let rerun = at_once.schema()?;
        if rerun != all || history(&at_once)? != history_before {
            let diff = all.diff_labeled(&rerun, "first run", "second run");
            findings.push(self.finding(last, Check::RerunChanges, diff));
            passed = false;
        }
        Ok(passed)
    }

    fn finding(&self, migration: &Migration, check: Check, detail: String) -> Finding {
        finding(self.settings, migration, FindingKind::Schema, check, detail)
    }
}
