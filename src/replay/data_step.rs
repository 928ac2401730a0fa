//! One migration's checks of [`replay::check_with_data`](crate::replay::check_with_data): in
//! a database at the version before it, holding generated rows, the migration must apply,
//! leave `integrity_check` and `foreign_key_check` clean and keep every row and value; its
//! down script too. A failure becomes [`Error::ReplayData`], with a reproduction script.

use std::path::PathBuf;

use refinery::Migration;

use super::explanation::{Orphans, explain};
use super::report::{DataChange, Down, StepData};
use super::reproduction_script::{Prelude, Section, schema_statements};
use super::settings::Settings;
use super::table_contents::{Tables, capture, compare};
use crate::error::root_message;
use crate::rows::GeneratedRows;
use crate::schema::integrity::integrity_problems;
use crate::sql::literal::{quote_identifier, text_literal};
use crate::{DataOptions, Error, Result, Snapshot, TestDb, Version};

const CHECK_APPLY: &str = "must apply to a database holding generated rows";
const CHECK_INTEGRITY: &str = "PRAGMA integrity_check must be ok with generated rows";
const CHECK_FOREIGN_KEYS: &str = "PRAGMA foreign_key_check must find nothing with generated rows";
const CHECK_KEEP: &str = "must keep every generated row and value";
const CHECK_DOWN_APPLY: &str = "down script must apply to a database holding generated rows";
const CHECK_DOWN_KEEP: &str = "down script must keep the rows of the tables that existed before up";

/// One migration's checks with generated rows.
pub(crate) struct DataStep<'a> {
    pub(crate) settings: &'a Settings,
    pub(crate) options: &'a DataOptions,
    /// The database the rows are generated in, restored from the schema-only one.
    pub(crate) work: &'a TestDb,
    pub(crate) migration: &'a Migration,
    /// The version the database is at before `migration`.
    pub(crate) previous: Option<Version>,
}

/// Which script of the migration ran.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Up,
    Down,
}

impl DataStep<'_> {
    /// Fills a copy of `at_previous` (the schema at n-1), applies the migration, compares,
    /// runs the down script (`down`), compares again.
    pub(crate) fn check(&self, at_previous: &Snapshot, down: Down) -> Result<StepData> {
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

        if !changes.is_empty() && !self.settings.expects_changes(version) {
            return Err(self.lost(&changes, &prelude));
        }
        Ok(StepData { generated, changes })
    }

    /// Fills a copy of `latest` (the schema at the latest version): every table gets rows,
    /// also those the last migration creates.
    pub(crate) fn fill_latest(&self, latest: &Snapshot) -> Result<GeneratedRows> {
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
        let explained = explain(self.settings, self.work, sql, &message);
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
                    e.with_causes().replace('\n', "; ")
                ));
                None
            }
        };
        let version = self.migration.version();
        Error::ReplayData {
            migration: self.migration.to_string(),
            file: self.settings.migrations.file(version).map(Into::into),
            check,
            table: table.map(String::into_boxed_str),
            column: column.map(String::into_boxed_str),
            detail: detail.into_boxed_str(),
            script: script.map(PathBuf::into_boxed_path),
        }
    }

    fn down_sql(&self) -> &str {
        self.settings
            .migrations
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

    /// Writes the script that reproduces the failure: see [`Prelude::write_script`].
    fn script(&self, prelude: &Prelude, sections: &[Section]) -> Result<PathBuf> {
        prelude.write_script(self.migration, self.previous, self.options, sections)
    }
}
