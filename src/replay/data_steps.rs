//! The checks over rows: one database holding rows steps forward through the set. Before
//! each migration it is at the version before, with the rows generated so far (or a real
//! database's rows, on an upgrade); the migration must apply, leave `integrity_check` and
//! `foreign_key_check` clean and keep every row and value, and its down script must give
//! them back. After each migration, the tables it created or changed, and the empty ones,
//! get a new batch of rows: no migration is run twice to prepare the next one.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::Duration;

use refinery::Migration;
use rusqlite::Connection;

use super::affected::Reach;
use super::explanation::{OrphanKey, Orphans, explain};
use super::reproduction_script::{Section, write_script};
use super::schema_steps::{CHECK_DOWN_RUNS, finding};
use super::settings::Settings;
use super::table_contents::{Tables, capture, compare};
use crate::error::root_message;
use crate::report::{DataChange, Finding, FindingKind, GeneratedRows, StepData};
use crate::rows::generator::Generator;
use crate::rows::implied::created_tables;
use crate::schema::integrity::{integrity_problems, integrity_problems_of};
use crate::sql::literal::{quote_identifier, text_literal};
use crate::{DataOptions, Error, Result, Snapshot, TestDb, Version};

const CHECK_APPLY: &str = "must apply to a database holding generated rows";
const CHECK_INTEGRITY: &str = "PRAGMA integrity_check must be ok with generated rows";
const CHECK_FOREIGN_KEYS: &str = "PRAGMA foreign_key_check must find nothing with generated rows";
const CHECK_KEEP: &str = "must keep every generated row and value";
const CHECK_DOWN_APPLY: &str = "down script must apply to a database holding generated rows";
const CHECK_DOWN_KEEP: &str = "down script must keep the rows of the tables that existed before up";
const CHECK_TIME: &str = "must finish within the time limit over generated rows";
const CHECK_DOWN_TIME: &str = "down script must finish within the time limit over generated rows";

const UPGRADE_APPLY: &str = "must apply to the database";
const UPGRADE_INTEGRITY: &str = "PRAGMA integrity_check must be ok on the database";
const UPGRADE_FOREIGN_KEYS: &str = "PRAGMA foreign_key_check must find nothing on the database";
const UPGRADE_KEEP: &str = "must keep every row and value of the database";
const UPGRADE_DOWN_APPLY: &str = "down script must apply to the database";
const UPGRADE_DOWN_KEEP: &str = "down script must give the database's rows back";

/// The database holding rows, stepping forward.
pub(crate) struct DataReplay<'s> {
    settings: &'s Settings,
    /// The generator and its settings; `None` on an upgrade, whose rows are real.
    generator: Option<(&'s DataOptions, Generator)>,
    /// Declared before `db`: closed before its folder goes.
    conn: Connection,
    db: TestDb,
    previous: Option<Version>,
    reach: Reach,
    /// The rows a finding has named as referencing no row: later steps do not name them
    /// again.
    orphans_reported: BTreeSet<OrphanKey>,
}

/// What became of one migration on the database holding rows.
pub(crate) struct DataStep {
    pub(crate) data: StepData,
    /// Whether it applied.
    pub(crate) applied: bool,
}

/// Which script of the migration ran.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
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
            generator: Some((options, generator)),
            conn,
            db,
            previous: None,
            reach: Reach::default(),
            orphans_reported: BTreeSet::new(),
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
            generator: None,
            conn: db.connect()?,
            db,
            previous: version,
            reach: Reach::default(),
            orphans_reported: BTreeSet::new(),
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

    fn kind(&self) -> FindingKind {
        match self.generator {
            Some(_) => FindingKind::Data,
            None => FindingKind::Upgrade,
        }
    }

    /// Applies `migration` over the rows and checks it, adding what fails to `findings`.
    /// `schema` is the empty database at the same version, which the rows start from again
    /// when the migration does not apply over them.
    pub(crate) fn step(
        &mut self,
        migration: &Migration,
        schema: Option<&TestDb>,
        findings: &mut Vec<Finding>,
    ) -> Result<DataStep> {
        let version = migration.version();
        let generated = self.generated_so_far()?;
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
        let limit = self.time_limit();
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
                self.apply_failure(error, Direction::Up, migration, &at_previous)?
            };
            findings.push(found);
            let applied = match (schema, self.generator.is_some()) {
                (Some(schema), true) => {
                    // Start again from the empty database at this version, with new rows.
                    self.restore(&schema.snapshot()?)?;
                    if let Some((_, generator)) = &mut self.generator {
                        generator.forget_totals();
                        generator.fill(&self.conn, self.db.path(), None)?;
                    }
                    true
                }
                _ => false,
            };
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
        let after = self.capture(&scope)?;
        let mut changes = compare(&before, &after, false);
        // A down script that fails on the empty database has been reported already: over
        // rows it would only fail again.
        let down_fails = findings
            .iter()
            .any(|f| f.version == version && f.check == CHECK_DOWN_RUNS);
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
                    found.push(self.apply_failure(
                        error,
                        Direction::Down,
                        migration,
                        &at_previous,
                    )?);
                }
                Err(other) => return Err(other),
            }
            self.restore(&at_version)?;
        }
        if !changes.is_empty() && !self.settings.expects_changes(version) {
            found.push(self.lost(&changes, migration, &at_previous)?);
            changes.clear();
        }
        findings.extend(found);

        if let Some((_, generator)) = &mut self.generator {
            let conn = &self.conn;
            let sqlite = |e| Error::sqlite("read the schema of", self.db.path(), e);
            let tables_after = table_definitions(conn).map_err(sqlite)?;
            let known: BTreeSet<&String> = tables_before.iter().map(|(name, _)| name).collect();
            let (new, changed): (BTreeSet<String>, BTreeSet<String>) = tables_after
                .difference(&tables_before)
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
        }
        self.previous = Some(version);
        Ok(DataStep {
            data: StepData { generated, changes },
            applied: true,
        })
    }

    /// How long a migration may run over generated rows: none on an upgrade, whose rows
    /// are a real database's and may be many.
    fn time_limit(&self) -> Option<Duration> {
        self.generator.as_ref().map(|(options, _)| options.limit())
    }

    /// The migration (or its down script) ran past its time limit over the generated rows
    /// and was stopped.
    fn too_slow(
        &self,
        direction: Direction,
        migration: &Migration,
        at_previous: &Snapshot,
    ) -> Finding {
        let (limit, rows) = self
            .generator
            .as_ref()
            .map_or((Duration::ZERO, 0), |(options, _)| {
                (options.limit(), options.rows())
            });
        let detail = format!(
            "stopped after {:?} over {rows} generated rows per table (DataOptions::time_limit, \
             --time-limit): a recursive view or trigger that never ends over rows that \
             reference each other, say, or work that grows with the square of the rows",
            limit,
        );
        let (check, sections) = match direction {
            Direction::Up => (CHECK_TIME, vec![self.up_section(migration)]),
            Direction::Down => (
                CHECK_DOWN_TIME,
                vec![self.up_section(migration), self.down_section(migration)],
            ),
        };
        let script = self.script(migration, at_previous, &sections);
        self.finding(migration, check, None, None, detail, script)
    }

    /// Every row generated so far, in the tables that exist now.
    pub(crate) fn generated_so_far(&self) -> Result<GeneratedRows> {
        match &self.generator {
            Some((_, generator)) => generator.totals(&self.conn, self.db.path()),
            None => Ok(GeneratedRows::default()),
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
        let upgrade = self.generator.is_none();
        if !integrity.is_empty() {
            let mut sections: Vec<Section> = ran
                .then(|| self.up_section(migration))
                .into_iter()
                .collect();
            sections.push(Section::plain("check", "PRAGMA integrity_check;"));
            let check = if upgrade {
                UPGRADE_INTEGRITY
            } else {
                CHECK_INTEGRITY
            };
            let script = self.script(migration, at, &sections);
            found.push(self.finding(migration, check, None, None, integrity.join("\n"), script));
        }
        let orphans = Orphans::find(conn, scope, &self.orphans_reported)
            .map_err(|e| Error::sqlite("check", path, e))?;
        if orphans.count > 0 {
            self.orphans_reported.extend(orphans.keys.iter().cloned());
            let mut sections: Vec<Section> = ran
                .then(|| self.up_section(migration))
                .into_iter()
                .collect();
            sections.push(Section::plain("check", "PRAGMA foreign_key_check;"));
            let detail = format!(
                "{} rows reference no row:\n{}",
                orphans.count,
                orphans.lines.join("\n")
            );
            let check = if upgrade {
                UPGRADE_FOREIGN_KEYS
            } else {
                CHECK_FOREIGN_KEYS
            };
            let script = self.script(migration, at, &sections);
            found.push(self.finding(
                migration,
                check,
                orphans.table,
                orphans.column,
                detail,
                script,
            ));
        }
        Ok(found)
    }

    /// The migration (or its down script) failed over the rows: SQLite's message, what in
    /// the rows made it fail, and a script. The failed script's transaction was rolled back:
    /// the database is as it was before it.
    fn apply_failure(
        &self,
        error: Error,
        direction: Direction,
        migration: &Migration,
        at_previous: &Snapshot,
    ) -> Result<Finding> {
        let message = root_message(&error);
        let upgrade = self.generator.is_none();
        let (sql, check) = match (direction, upgrade) {
            (Direction::Up, false) => (migration.sql().unwrap_or_default(), CHECK_APPLY),
            (Direction::Up, true) => (migration.sql().unwrap_or_default(), UPGRADE_APPLY),
            (Direction::Down, false) => (self.down_sql(migration), CHECK_DOWN_APPLY),
            (Direction::Down, true) => (self.down_sql(migration), UPGRADE_DOWN_APPLY),
        };
        let explained = explain(self.settings, &self.db, sql, &message);
        let mut detail = message;
        if !explained.text.is_empty() {
            detail.push('\n');
            detail.push_str(&explained.text);
        }
        let mut sections = vec![self.up_section(migration)];
        if direction == Direction::Down {
            sections.push(self.down_section(migration));
        }
        let script = self.script(migration, at_previous, &sections);
        Ok(self.finding(
            migration,
            check,
            explained.table,
            explained.column,
            detail,
            script,
        ))
    }

    /// The rows and values lost, as a finding.
    fn lost(
        &self,
        changes: &[DataChange],
        migration: &Migration,
        at_previous: &Snapshot,
    ) -> Result<Finding> {
        let first = changes.iter().find(|c| !c.down).or_else(|| changes.first());
        let by_down = first.is_some_and(|c| c.down);
        let check = match (by_down, self.generator.is_none()) {
            (false, false) => CHECK_KEEP,
            (true, false) => CHECK_DOWN_KEEP,
            (false, true) => UPGRADE_KEEP,
            (true, true) => UPGRADE_DOWN_KEEP,
        };
        let detail: Vec<String> = changes.iter().map(ToString::to_string).collect();

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
            self.up_section(migration),
        ];
        if changes.iter().any(|c| c.down) {
            sections.push(self.down_section(migration));
        }
        sections.push(Section::plain("rows after it", &counts));
        let script = self.script(migration, at_previous, &sections);
        let mut found = self.finding(
            migration,
            check,
            first.map(|c| c.table.clone()),
            first.and_then(|c| c.column.clone()),
            detail.join("\n"),
            script,
        );
        found.lost_data = true;
        Ok(found)
    }

    fn finding(
        &self,
        migration: &Migration,
        check: &'static str,
        table: Option<String>,
        column: Option<String>,
        detail: String,
        script: Option<std::result::Result<PathBuf, Error>>,
    ) -> Finding {
        let mut found = finding(self.settings, migration, self.kind(), check, detail);
        found.table = table;
        found.column = column;
        match script {
            Some(Ok(path)) => found.script = Some(path),
            Some(Err(e)) => found.detail.push_str(&format!(
                "\n(no script to reproduce it: {})",
                e.with_causes().replace('\n', "; ")
            )),
            None => {}
        }
        found
    }

    fn down_sql(&self, migration: &Migration) -> &'s str {
        self.settings
            .migrations
            .down_script(migration.version())
            .map_or("", |d| d.sql())
    }

    fn up_section(&self, migration: &Migration) -> Section {
        Section {
            comment: format!("{migration}: the migration, as refinery runs it"),
            sql: migration.sql().unwrap_or_default().to_owned(),
            transaction: true,
        }
    }

    fn down_section(&self, migration: &Migration) -> Section {
        Section {
            comment: format!("{migration}: its down script"),
            sql: self.down_sql(migration).to_owned(),
            transaction: true,
        }
    }

    /// The script that reproduces a failure from the database at `at_previous`; none on an
    /// upgrade, whose rows are the user's.
    fn script(
        &self,
        migration: &Migration,
        at_previous: &Snapshot,
        sections: &[Section],
    ) -> Option<std::result::Result<PathBuf, Error>> {
        let (options, _) = self.generator.as_ref()?;
        let write = || {
            let copy = self.settings.scratch()?;
            copy.restore(at_previous)?;
            write_script(&copy, migration, self.previous, options, sections)
        };
        Some(write())
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
