//! The checks of what a step does to the schema, on the empty database: each change
//! classified from SQLite's own schema before and after the step (a table or column dropped
//! or renamed, a type, foreign key or constraint changed, an index or trigger a rebuild
//! lost), and the checks of its SQL text (a PRAGMA its transaction ignores, a feature newer
//! than the project's minimum SQLite, a string in double quotes). A down script is judged
//! alike: what it loses of the schema before up gets the same codes.

use refinery::Migration;
use rusqlite::Connection;

use super::findings::finding;
use super::settings::Settings;
use crate::error::Result;
use crate::report::{Check, Finding, FindingKind};
use crate::schema::change::{Change, changes};
use crate::schema::double_quotes::{DoubleQuotes, double_quotes};
use crate::schema::shape::Shape;
use crate::sql::lint::{Lint, Rule, newer_features, pragmas_in_transaction};
use crate::sql::sqlite_version::SqliteVersion;
use crate::sql::tokens::{TokenKind, lex};
use crate::version::Version;

/// The shape of the schema before the next step, and what the text checks need.
pub(crate) struct SchemaChanges {
    before: Shape,
    min_sqlite: Option<SqliteVersion>,
}

/// Which script of a migration a finding is about.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Script {
    Up,
    Down,
}

impl SchemaChanges {
    /// Starts from the schema of `conn`'s database.
    pub(crate) fn new(settings: &Settings, conn: &Connection) -> Result<Self> {
        Ok(SchemaChanges {
            before: Shape::capture(conn)?,
            min_sqlite: settings.min_sqlite()?,
        })
    }

    /// Before `migration` runs, with `conn` at the version before it: the checks of its SQL
    /// text and of its down script's, and whether it applies with double-quoted strings
    /// off (tried in a savepoint that is rolled back).
    pub(crate) fn before_up(
        &self,
        settings: &Settings,
        conn: &Connection,
        migration: &Migration,
        findings: &mut Vec<Finding>,
    ) -> Result<()> {
        let version = migration.version();
        let sql = migration.sql().unwrap_or_default();
        // Down scripts always run in a transaction of their own.
        let down = settings
            .migrations
            .down_script(version)
            .map(|d| (Script::Down, d.sql(), true));
        let up = (Script::Up, sql, settings.migrations.in_transaction(version));
        for (script, text, in_transaction) in std::iter::once(up).chain(down) {
            let mut lints = pragmas_in_transaction(text, in_transaction);
            if let Some(min) = self.min_sqlite {
                lints.extend(newer_features(text, min));
            }
            for lint in lints {
                findings.push(lint_finding(settings, migration, script, lint));
            }
        }
        if has_double_quotes(sql)
            && let DoubleQuotes::Needed { message } = double_quotes(conn, sql)?
        {
            let check = Check::DoubleQuotedString;
            let detail = check.explained(&format!(
                "with double-quoted string literals off, SQLite says: {message}\n\
                     write strings in single quotes ('done'), names in double quotes"
            ));
            findings.push(finding(
                settings,
                migration,
                FindingKind::Schema,
                Check::DoubleQuotedString,
                detail,
            ));
        }
        Ok(())
    }

    /// After `migration` applied, with `conn` at its version: every change of the schema
    /// that can break a reader or lose something. Returns the shape after it, for
    /// [`after_down`](Self::after_down) and [`advance`](Self::advance).
    pub(crate) fn after_up(
        &self,
        settings: &Settings,
        conn: &Connection,
        migration: &Migration,
        findings: &mut Vec<Finding>,
    ) -> Result<Shape> {
        let after = Shape::capture_since(conn, Some(&self.before))?;
        let sql = migration.sql().unwrap_or_default();
        for change in changes(&self.before, &after, sql) {
            findings.push(change_finding(settings, migration, Script::Up, change));
        }
        Ok(after)
    }

    /// After the down script of `migration` left a trace, with `conn` where it left the
    /// database: what it lost of the schema before up, with the codes of up's changes.
    pub(crate) fn after_down(
        &self,
        settings: &Settings,
        conn: &Connection,
        migration: &Migration,
        findings: &mut Vec<Finding>,
    ) -> Result<()> {
        let Some(down) = settings.migrations.down_script(migration.version()) else {
            return Ok(());
        };
        let undone = Shape::capture_since(conn, Some(&self.before))?;
        for change in changes(&self.before, &undone, down.sql()) {
            findings.push(change_finding(settings, migration, Script::Down, change));
        }
        Ok(())
    }

    /// The next step starts from `shape`.
    pub(crate) fn advance(&mut self, shape: Shape) {
        self.before = shape;
    }
}

/// Whether `sql` has a token in double quotes, the only ones the double-quoted string
/// check can be about.
fn has_double_quotes(sql: &str) -> bool {
    lex(sql)
        .iter()
        .any(|t| matches!(t.kind, TokenKind::Quoted(_)) && sql[t.start..].starts_with('"'))
}

/// The finding of a change: where, what, why it matters, how to acknowledge it.
fn change_finding(
    settings: &Settings,
    migration: &Migration,
    script: Script,
    change: Change,
) -> Finding {
    let mut found = script_finding(settings, migration, script, change.class, &change.detail);
    found.table = Some(change.table);
    found.column = change.column;
    found
}

/// The finding of a check of the SQL text, at its line.
fn lint_finding(settings: &Settings, migration: &Migration, script: Script, lint: Lint) -> Finding {
    let check = match lint.rule {
        Rule::PragmaInTransaction => Check::PragmaInTransaction,
        Rule::NewerSqliteFeature { .. } => Check::NewerSqliteFeature,
    };
    let mut found = script_finding(settings, migration, script, check, &lint.detail);
    found.line = Some(lint.line);
    found
}

/// A finding of `check` about `script` of `migration`: `what` was found, why it matters, how
/// to acknowledge it; a down script's in the down script's file.
fn script_finding(
    settings: &Settings,
    migration: &Migration,
    script: Script,
    check: Check,
    what: &str,
) -> Finding {
    let what = match script {
        Script::Up => what.to_owned(),
        Script::Down => format!("down script: {what}"),
    };
    let detail = check.explained(&what);
    let mut found = finding(settings, migration, FindingKind::Schema, check, detail);
    if script == Script::Down {
        found.file = down_file(settings, migration.version());
    }
    found
}

/// The file of the down script of `version`, if it has one of its own.
fn down_file(settings: &Settings, version: Version) -> Option<std::path::PathBuf> {
    settings
        .migrations
        .down_script(version)
        .and_then(|d| d.path())
        .map(ToOwned::to_owned)
}
