//! The checks over rows: one database holding rows steps forward through the set. Before
//! each migration it is at the version before, with the rows generated so far (or a real
//! database's rows, on an upgrade); the migration must apply, leave `integrity_check` and
//! `foreign_key_check` clean and keep every row and value, and its down script must give
//! them back. After each migration, the tables it created or changed, and the empty ones,
//! get a new batch of rows: no migration is run twice to prepare the next one.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::Duration;

use refinery::Migration;
use rusqlite::Connection;

use super::affected::Reach;
use super::explanation::{OrphanKey, Orphans};
use super::reproduction_script::{ScriptWriter, Section};
use super::settings::Settings;
use super::table_contents::{Tables, capture, compare};
use crate::error::{Error, Result};
use crate::report::{Check, Finding, FindingKind, GeneratedRows, StepData};
use crate::rows::DataOptions;
use crate::rows::generator::Generator;
use crate::rows::implied::created_tables;
use crate::schema::integrity::{integrity_problems, integrity_problems_of};
use crate::schema::sequence::{resets, sequences};
use crate::testdb::{Snapshot, TestDb};
use crate::version::Version;

/// Whose rows the database holds.
pub(crate) enum Rows<'s> {
    /// Rows generated with `options`, from an empty database.
    Generated {
        options: &'s DataOptions,
        generator: Generator,
    },
    /// A copy of a real database's rows.
    Real,
}

impl Rows<'_> {
    /// Which checks the findings over these rows come from.
    pub(super) fn kind(&self) -> FindingKind {
        match self {
            Rows::Generated { .. } => FindingKind::Data,
            Rows::Real => FindingKind::Upgrade,
        }
    }

    /// How long a migration may run over the rows: no limit over a real database's, which
    /// may be many.
    fn time_limit(&self, settings: &Settings) -> Option<Duration> {
        match self {
            Rows::Generated { .. } => Some(settings.time_limit()),
            Rows::Real => None,
        }
    }
}

/// How far each AUTOINCREMENT counter is moved on before a migration over generated rows:
/// the ids of rows deleted since.
const DELETED_IDS: i64 = 10;

/// The database holding rows, stepping forward.
pub(crate) struct DataReplay<'s> {
    pub(super) settings: &'s Settings,
    pub(super) rows: Rows<'s>,
    /// Declared before `db`: closed before its folder goes.
    conn: Connection,
    pub(super) db: TestDb,
    pub(super) previous: Option<Version>,
    reach: Reach,
    /// The rows a finding has named as referencing no row: later steps do not name them
    /// again.
    orphans_reported: BTreeSet<OrphanKey>,
    /// Where reproduction scripts go.
    pub(super) scripts: ScriptWriter,
}

/// What became of one migration on the database holding rows.
pub(crate) struct DataStep {
    pub(crate) data: StepData,
    /// Whether it applied.
    pub(crate) applied: bool,
}

/// Which script of the migration ran.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Up,
    Down,
}

impl<'s> DataReplay<'s> {
    /// Over generated rows, from an empty database.
    pub(crate) fn generated(settings: &'s Settings, options: &'s DataOptions) -> Result<Self> {
        let db = settings.scratch()?;
        let sqls = settings
            .migrations
            .iter()
            .map(|m| m.sql().unwrap_or_default());
        let generator = options.generator().later_tables(created_tables(sqls));
        let conn = db.connect()?;
        // The generator writes rows with statements of many shapes (each set of columns
        // left to their defaults is one): keep them prepared.
        conn.set_prepared_statement_cache_capacity(256);
        Ok(DataReplay {
            settings,
            rows: Rows::Generated { options, generator },
            conn,
            db,
            previous: None,
            reach: Reach::default(),
            orphans_reported: BTreeSet::new(),
            scripts: ScriptWriter::new(settings.scripts.clone()),
        })
    }

    /// Over the rows of `db`, a copy of a real database at `version`.
    pub(crate) fn upgrade(
        settings: &'s Settings,
        db: TestDb,
        version: Option<Version>,
    ) -> Result<Self> {
        Ok(DataReplay {
            settings,
            rows: Rows::Real,
            conn: db.connect()?,
            db,
            previous: version,
            reach: Reach::default(),
            orphans_reported: BTreeSet::new(),
            scripts: ScriptWriter::new(settings.scripts.clone()),
        })
    }

    /// A copy of the database, to go back to.
    fn snapshot(&self) -> Result<Snapshot> {
        Snapshot::take(&self.conn, self.db.path())
    }

    /// Puts the database back to `snapshot`.
    fn restore(&mut self, snapshot: &Snapshot) -> Result<()> {
        snapshot.restore_into(&mut self.conn, self.db.path())
    }

    /// Applies `migration` over the rows and checks it, adding what fails to `findings`.
    /// `schema` is the empty database at the same version, which generated rows start from
    /// again when the migration does not apply over them.
    pub(crate) fn step(
        &mut self,
        migration: &Migration,
        schema: Option<&TestDb>,
        findings: &mut Vec<Finding>,
    ) -> Result<DataStep> {
        let version = migration.version();
        let generated = self.generated_so_far()?;
        let counters = self.counters()?;
        let at_previous = self.snapshot()?;
        // What the migration and its down script can change: read before and after.
        let sqls = [
            migration.sql().unwrap_or_default(),
            self.down_sql(migration),
        ];
        let sqlite = |e| Error::sqlite("read the schema of", self.db.path(), e);
        let mut scope = self.reach.affected(&self.conn, &sqls).map_err(sqlite)?;
        let before = self.capture(&scope)?;
        let tables_before = table_definitions(&self.conn).map_err(sqlite)?;

        let path = self.db.path().to_path_buf();
        let limit = self.rows.time_limit(self.settings);
        let (migrated, stopped) = within(limit, &mut self.conn, |conn| {
            self.settings.migrate(conn, version, &path)
        });
        if let Err(error) = migrated {
            if !matches!(error, Error::Migration { .. }) {
                return Err(error);
            }
            let found = if stopped {
                self.too_slow(Direction::Up, migration, &at_previous)
            } else {
                self.apply_failure(error, Direction::Up, migration, &at_previous)
            };
            findings.push(found);
            let applied = self.start_again(schema)?;
            self.previous = Some(version);
            return Ok(DataStep {
                data: StepData {
                    generated,
                    changes: Vec::new(),
                },
                applied,
            });
        }

        scope.extend(
            self.reach
                .affected(&self.conn, &sqls)
                .map_err(|e| Error::sqlite("read the schema of", self.db.path(), e))?,
        );
        let mut found = self.check_clean(migration, &at_previous, true, Some(&scope))?;
        found.extend(self.counter_resets(migration, &counters)?);
        let after = self.capture(&scope)?;
        let mut changes = compare(&before, &after, false);
        // A down script that fails on the empty database has been reported already: over
        // rows it would only fail again.
        let down_fails = findings
            .iter()
            .any(|f| f.version == version && f.check == Check::DownMustApply);
        if self.reversible(version) && !down_fails {
            let at_version = self.snapshot()?;
            let below = self.previous.unwrap_or_else(|| version.saturating_sub(1));
            let (rolled_back, stopped) = within(limit, &mut self.conn, |conn| {
                self.settings.roll_back(conn, below, &path)
            });
            match rolled_back {
                Ok(()) => changes.extend(compare(&before, &self.capture(&scope)?, true)),
                Err(Error::DownScript { .. }) if stopped => {
                    found.push(self.too_slow(Direction::Down, migration, &at_previous));
                }
                Err(error @ Error::DownScript { .. }) => {
                    found.push(self.apply_failure(error, Direction::Down, migration, &at_previous));
                }
                Err(other) => return Err(other),
            }
            self.restore(&at_version)?;
        }
        if !changes.is_empty() && !self.settings.expects_changes(version) {
            found.push(self.lost(&changes, migration, &at_previous));
            changes.clear();
        }
        findings.extend(found);
        self.fill_after(&tables_before, &after)?;
        self.previous = Some(version);
        Ok(DataStep {
            data: StepData { generated, changes },
            applied: true,
        })
    }

    /// The AUTOINCREMENT counters before a migration. Over generated rows, each is first
    /// moved on by [`DELETED_IDS`], as if the rows with the highest ids had been deleted,
    /// as they are in a real database: a rebuild that copies the rows then starts the new
    /// table's counter lower, and the ids of deleted rows come back.
    fn counters(&self) -> Result<BTreeMap<String, i64>> {
        if matches!(self.rows, Rows::Generated { .. }) {
            let moved = self
                .conn
                .execute("UPDATE sqlite_sequence SET seq = seq + ?1", [DELETED_IDS]);
            match moved {
                Ok(_) => {}
                // No AUTOINCREMENT table yet.
                Err(e) if e.to_string().contains("no such table") => {}
                Err(e) => return Err(Error::sqlite("move the counters of", self.db.path(), e)),
            }
        }
        sequences(&self.conn)
    }

    /// `autoincrement-reset` findings: the tables still there whose counter `migration`
    /// lowered from `before`.
    fn counter_resets(
        &self,
        migration: &Migration,
        before: &BTreeMap<String, i64>,
    ) -> Result<Vec<Finding>> {
        if before.is_empty() {
            return Ok(Vec::new());
        }
        let after = sequences(&self.conn)?;
        let sqlite = |e| Error::sqlite("read the schema of", self.db.path(), e);
        let tables = table_definitions(&self.conn).map_err(sqlite)?;
        let names: Vec<String> = tables.iter().map(|(n, _)| n.to_lowercase()).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        Ok(resets(before, &after, &names)
            .into_iter()
            .map(|change| {
                let detail = change.class.explained(&change.detail);
                let place = (Some(change.table), None);
                self.data_finding(migration, change.class, place, detail, None)
            })
            .collect())
    }

    /// After a migration that did not apply over the rows: generated rows start again from
    /// `schema`, the empty database at its version, with new rows; a real database's cannot
    /// (and nothing after it can be checked). Whether the rows go on.
    fn start_again(&mut self, schema: Option<&TestDb>) -> Result<bool> {
        let (Rows::Generated { generator, .. }, Some(schema)) = (&mut self.rows, schema) else {
            return Ok(false);
        };
        schema
            .snapshot()?
            .restore_into(&mut self.conn, self.db.path())?;
        generator.forget_totals();
        generator.fill(&self.conn, self.db.path(), None)?;
        Ok(true)
    }

    /// After a migration, generated rows for the tables it created or changed, and the
    /// empty ones: no migration is run twice to prepare the next one. Nothing for a real
    /// database's rows.
    fn fill_after(
        &mut self,
        tables_before: &BTreeSet<(String, String)>,
        after: &Tables,
    ) -> Result<()> {
        let Rows::Generated { generator, .. } = &mut self.rows else {
            return Ok(());
        };
        let conn = &self.conn;
        let sqlite = |e| Error::sqlite("read the schema of", self.db.path(), e);
        let tables_after = table_definitions(conn).map_err(sqlite)?;
        let known: BTreeSet<&String> = tables_before.iter().map(|(name, _)| name).collect();
        let (new, changed): (BTreeSet<String>, BTreeSet<String>) = tables_after
            .difference(tables_before)
            .map(|(name, _)| name.clone())
            .partition(|name| !known.contains(name));
        // New tables get a batch, and empty ones again, unless the generator's last
        // rows were all refused and the table has not changed since.
        let mut whole: BTreeSet<String> = new;
        whole.extend(
            after
                .iter()
                .filter(|(name, table)| {
                    table.is_empty() && !generator.is_barren(name) && !changed.contains(*name)
                })
                .map(|(name, _)| name.clone()),
        );
        if !whole.is_empty() {
            generator.fill(conn, self.db.path(), Some(&whole))?;
        }
        // A table the migration changed gets a smaller batch: rows written after the
        // change, beside those written before it.
        if !changed.is_empty() {
            let rows = (generator.rows() / 4).max(1);
            generator.fill_with(conn, self.db.path(), Some(&changed), rows)?;
        }
        Ok(())
    }

    /// Every row generated so far, in the tables that exist now; none for a real database.
    pub(crate) fn generated_so_far(&self) -> Result<GeneratedRows> {
        match &self.rows {
            Rows::Generated { generator, .. } => generator.totals(&self.conn, self.db.path()),
            Rows::Real => Ok(GeneratedRows::default()),
        }
    }

    /// After the last migration: `integrity_check` and `foreign_key_check` with the rows of
    /// every table, those the last migration created included.
    pub(crate) fn check_latest(
        &mut self,
        last: &Migration,
        findings: &mut Vec<Finding>,
    ) -> Result<GeneratedRows> {
        let at_latest = self.snapshot()?;
        findings.extend(self.check_clean(last, &at_latest, false, None)?);
        self.generated_so_far()
    }

    fn reversible(&self, version: Version) -> bool {
        self.settings
            .migrations
            .down_script(version)
            .is_some_and(|d| !d.is_irreversible())
    }

    /// The rows of the tables in `scope`.
    fn capture(&self, scope: &BTreeSet<String>) -> Result<Tables> {
        capture(&self.conn, Some(scope))
            .map_err(|e| Error::sqlite("read the rows of", self.db.path(), e))
    }

    /// `integrity_check` and `foreign_key_check` after `migration`, of the tables in `scope`
    /// (all: `None`); its script starts from `at`, then runs the migration where `ran` says
    /// it ran after it.
    fn check_clean(
        &mut self,
        migration: &Migration,
        at: &Snapshot,
        ran: bool,
        scope: Option<&BTreeSet<String>>,
    ) -> Result<Vec<Finding>> {
        let conn = &self.conn;
        let path = self.db.path();
        let mut found = Vec::new();
        let integrity = match scope {
            Some(scope) => integrity_problems_of(conn, scope),
            None => integrity_problems(conn),
        }
        .map_err(|e| Error::sqlite("check", path, e))?;
        let sections = |check: &str| {
            let mut sections: Vec<Section> = ran
                .then(|| self.up_section(migration))
                .into_iter()
                .collect();
            sections.push(Section::plain("check", check));
            sections
        };
        if !integrity.is_empty() {
            let script = self.script(migration, at, &sections("PRAGMA integrity_check;"));
            let detail = integrity.join("\n");
            let check = Check::IntegrityCheck;
            found.push(self.data_finding(migration, check, (None, None), detail, script));
        }
        let orphans = Orphans::find(conn, scope, &self.orphans_reported)
            .map_err(|e| Error::sqlite("check", path, e))?;
        if orphans.count > 0 {
            let script = self.script(migration, at, &sections("PRAGMA foreign_key_check;"));
            let detail = format!(
                "{} rows reference no row:\n{}",
                orphans.count,
                orphans.lines.join("\n")
            );
            let place = (orphans.table, orphans.column);
            let check = Check::ForeignKeyCheck;
            found.push(self.data_finding(migration, check, place, detail, script));
            self.orphans_reported.extend(orphans.keys);
        }
        Ok(found)
    }

    pub(super) fn down_sql(&self, migration: &Migration) -> &'s str {
        self.settings
            .migrations
            .down_script(migration.version())
            .map_or("", |d| d.sql())
    }
}

/// Every table's name (lower case) and `CREATE` statement.
fn table_definitions(conn: &Connection) -> rusqlite::Result<BTreeSet<(String, String)>> {
    conn.prepare(
        "SELECT lower(name), coalesce(sql, '') FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
    )?
    .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
    .collect()
}

/// Runs `run` on `conn`, interrupting it once `limit` has passed (no limit: `None`); and
/// whether it was interrupted.
fn within<T>(
    limit: Option<Duration>,
    conn: &mut Connection,
    run: impl FnOnce(&mut Connection) -> T,
) -> (T, bool) {
    let Some(limit) = limit else {
        return (run(conn), false);
    };
    let handle = conn.get_interrupt_handle();
    let (done, wait) = mpsc::channel::<()>();
    let watchdog = thread::spawn(move || {
        let late = matches!(wait.recv_timeout(limit), Err(RecvTimeoutError::Timeout));
        if late {
            handle.interrupt();
        }
        late
    });
    let result = run(conn);
    let _ = done.send(());
    let stopped = watchdog.join().unwrap_or(false);
    (result, stopped)
}
