//! Findings as the checks build them: the migration, its file, the [`Check`] and what was
//! found; over rows also the table and column involved and the script that reproduces it.

use std::path::PathBuf;

use refinery::Migration;

use super::data_steps::{DataReplay, Direction, Rows};
use super::explanation::explain;
use super::reproduction_script::{Section, write_script};
use super::settings::Settings;
use crate::error::root_message;
use crate::error::{Error, Result};
use crate::report::{Check, DataChange, Finding, FindingKind};
use crate::sql::literal::{quote_identifier, text_literal};
use crate::testdb::Snapshot;

/// A finding of `migration` with no table, column or script.
pub(crate) fn finding(
    settings: &Settings,
    migration: &Migration,
    kind: FindingKind,
    check: Check,
    detail: String,
) -> Finding {
    Finding {
        version: migration.version(),
        migration: settings.migrations.name_of(migration),
        file: settings
            .migrations
            .file(migration.version())
            .map(ToOwned::to_owned),
        kind,
        check,
        table: None,
        column: None,
        detail,
        script: None,
        lost_data: false,
        line: None,
        acknowledged: false,
    }
}

/// A script to reproduce a finding over rows: none on an upgrade, whose rows are the user's;
/// the error when it could not be written.
pub(crate) type Script = Option<std::result::Result<PathBuf, Error>>;

impl DataReplay<'_> {
    /// A finding over the rows, at a table and column where known, with its script.
    pub(super) fn data_finding(
        &self,
        migration: &Migration,
        check: Check,
        place: (Option<String>, Option<String>),
        detail: String,
        script: Script,
    ) -> Finding {
        let mut found = finding(self.settings, migration, self.rows.kind(), check, detail);
        (found.table, found.column) = place;
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

    /// The migration (or its down script) ran past its time limit over the generated rows
    /// and was stopped.
    pub(super) fn too_slow(
        &self,
        direction: Direction,
        migration: &Migration,
        at_previous: &Snapshot,
    ) -> Finding {
        let (limit, rows) = match &self.rows {
            Rows::Generated { options, .. } => (self.settings.time_limit(), options.rows()),
            Rows::Real => (std::time::Duration::ZERO, 0),
        };
        let detail = format!(
            "stopped after {limit:?} over {rows} generated rows per table (Replay::time_limit, \
             --time-limit): a recursive view or trigger that never ends over rows that \
             reference each other, say, or work that grows with the square of the rows",
        );
        let (check, sections) = match direction {
            Direction::Up => (Check::TimeLimit, vec![self.up_section(migration)]),
            Direction::Down => (
                Check::DownTimeLimit,
                vec![self.up_section(migration), self.down_section(migration)],
            ),
        };
        let script = self.script(migration, at_previous, &sections);
        self.data_finding(migration, check, (None, None), detail, script)
    }

    /// The migration (or its down script) failed over the rows: SQLite's message, what in
    /// the rows made it fail, and a script. The failed script's transaction was rolled back:
    /// the database is as it was before it.
    pub(super) fn apply_failure(
        &self,
        error: Error,
        direction: Direction,
        migration: &Migration,
        at_previous: &Snapshot,
    ) -> Finding {
        let message = root_message(&error);
        let (sql, check) = match direction {
            Direction::Up => (migration.sql().unwrap_or_default(), Check::MustApply),
            Direction::Down => (self.down_sql(migration), Check::DownMustApply),
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
        let place = (explained.table, explained.column);
        self.data_finding(migration, check, place, detail, script)
    }

    /// The rows and values lost, as a finding.
    pub(super) fn lost(
        &self,
        changes: &[DataChange],
        migration: &Migration,
        at_previous: &Snapshot,
    ) -> Finding {
        let first = changes.iter().find(|c| !c.down).or_else(|| changes.first());
        let check = if first.is_some_and(|c| c.down) {
            Check::DownDataLost
        } else {
            Check::DataLost
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
        let place = (
            first.map(|c| c.table.clone()),
            first.and_then(|c| c.column.clone()),
        );
        let mut found = self.data_finding(migration, check, place, detail.join("\n"), script);
        found.lost_data = true;
        found
    }

    pub(super) fn up_section(&self, migration: &Migration) -> Section {
        Section {
            comment: format!("{migration}: the migration, as refinery runs it"),
            sql: migration.sql().unwrap_or_default().to_owned(),
            transaction: true,
        }
    }

    pub(super) fn down_section(&self, migration: &Migration) -> Section {
        Section {
            comment: format!("{migration}: its down script"),
            sql: self.down_sql(migration).to_owned(),
            transaction: true,
        }
    }

    /// The script that reproduces a failure from the database at `at_previous`; none on an
    /// upgrade, whose rows are the user's.
    pub(super) fn script(
        &self,
        migration: &Migration,
        at_previous: &Snapshot,
        sections: &[Section],
    ) -> Script {
        let Rows::Generated { options, .. } = &self.rows else {
            return None;
        };
        let write = || -> Result<PathBuf> {
            let copy = self.settings.scratch()?;
            copy.restore(at_previous)?;
            write_script(
                &self.scripts,
                &copy,
                migration,
                self.previous,
                options,
                sections,
            )
        };
        Some(write())
    }
}
