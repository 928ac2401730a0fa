//! The classes of a migration step's change, each with its stable kebab-case code, why it
//! matters on SQLite, and whether it fails a check.
//!
//! Which classes fail a run: all of them. Each is destructive or breaking for some reader:
//! - `table-dropped`, `column-dropped`: data is gone, and so is what reads it;
//! - `table-renamed`, `column-renamed`: the application still running the old code (during
//!   a rolling deploy, or a rollback of the code but not the database) queries the old name;
//! - `column-type-changed`: affinity decides how values are stored and compared, and ORMs and
//!   `sqlx` read the declared type;
//! - `foreign-key-dropped`, `constraint-dropped`: rows the old schema refused now get in,
//!   silently, and a later migration that restores the constraint fails on them;
//! - `rebuild-lost-object`: the loss was not written anywhere, so nobody meant it;
//! - `autoincrement-reset`: ids of deleted rows come back and join to their old rows;
//! - `pragma-in-transaction`: the migration relies on something that did not happen;
//! - `double-quoted-string`: the migration fails on a SQLite built without the misfeature;
//! - `newer-sqlite-feature`: the migration fails on the oldest SQLite the project supports.
//!
//! None is informational only: what is meant is acknowledged per version (`[allow]`,
//! `--allow V:code`, `Replay::allow`, `-- sqlite-testdb: allow code`), which keeps the
//! finding listed without failing the run.

use crate::sql::lint::Rule;

/// What a migration step did that a reader of the schema could trip on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum ChangeClass {
    TableDropped,
    ColumnDropped,
    TableRenamed,
    ColumnRenamed,
    ColumnTypeChanged,
    ForeignKeyDropped,
    ConstraintDropped,
    RebuildLostObject,
    AutoincrementReset,
    PragmaInTransaction,
    DoubleQuotedString,
    NewerSqliteFeature,
}

impl ChangeClass {
    /// Every class, in the order findings list them.
    pub(crate) const ALL: [ChangeClass; 12] = [
        ChangeClass::TableDropped,
        ChangeClass::ColumnDropped,
        ChangeClass::TableRenamed,
        ChangeClass::ColumnRenamed,
        ChangeClass::ColumnTypeChanged,
        ChangeClass::ForeignKeyDropped,
        ChangeClass::ConstraintDropped,
        ChangeClass::RebuildLostObject,
        ChangeClass::AutoincrementReset,
        ChangeClass::PragmaInTransaction,
        ChangeClass::DoubleQuotedString,
        ChangeClass::NewerSqliteFeature,
    ];

    /// The stable kebab-case code of findings of this class.
    pub(crate) fn code(self) -> &'static str {
        match self {
            ChangeClass::TableDropped => "table-dropped",
            ChangeClass::ColumnDropped => "column-dropped",
            ChangeClass::TableRenamed => "table-renamed",
            ChangeClass::ColumnRenamed => "column-renamed",
            ChangeClass::ColumnTypeChanged => "column-type-changed",
            ChangeClass::ForeignKeyDropped => "foreign-key-dropped",
            ChangeClass::ConstraintDropped => "constraint-dropped",
            ChangeClass::RebuildLostObject => "rebuild-lost-object",
            ChangeClass::AutoincrementReset => "autoincrement-reset",
            ChangeClass::PragmaInTransaction => "pragma-in-transaction",
            ChangeClass::DoubleQuotedString => "double-quoted-string",
            ChangeClass::NewerSqliteFeature => "newer-sqlite-feature",
        }
    }

    /// The class of `code`, if it is one of these.
    pub(crate) fn from_code(code: &str) -> Option<ChangeClass> {
        ChangeClass::ALL.into_iter().find(|c| c.code() == code)
    }

    /// Why it matters on SQLite, in one sentence.
    pub(crate) fn why(self) -> &'static str {
        match self {
            ChangeClass::TableDropped => {
                "its rows are gone, and every query of the running application that names it fails"
            }
            ChangeClass::ColumnDropped => {
                "its values are gone, and every query that names it fails with \"no such column\""
            }
            ChangeClass::TableRenamed => {
                "the application code not yet deployed still queries the old name, which no longer exists"
            }
            ChangeClass::ColumnRenamed => {
                "the application code not yet deployed still queries the old name, which no longer exists"
            }
            ChangeClass::ColumnTypeChanged => {
                "the affinity decides how SQLite stores and compares the values, and ORMs map the declared type"
            }
            ChangeClass::ForeignKeyDropped => {
                "rows the reference refused, or the action it took on delete or update, now pass silently"
            }
            ChangeClass::ConstraintDropped => {
                "values the constraint refused now get in silently, and restoring it later fails on them"
            }
            ChangeClass::RebuildLostObject => {
                "DROP TABLE in a table rebuild drops the table's indexes and triggers; nothing recreated this one"
            }
            ChangeClass::AutoincrementReset => {
                "ids of deleted rows are handed out again, and rows elsewhere that kept them point at new rows"
            }
            ChangeClass::PragmaInTransaction => {
                "the migration runs in a transaction, where SQLite ignores or refuses this PRAGMA"
            }
            ChangeClass::DoubleQuotedString => {
                "SQLite takes \"x\" as a string only when no column is named x, and builds without that misfeature refuse it"
            }
            ChangeClass::NewerSqliteFeature => {
                "the oldest SQLite the project supports fails on it with a syntax error or no such function"
            }
        }
    }

    /// Whether a finding of this class fails the run unless acknowledged: all do (see the
    /// module's documentation for why each).
    pub(crate) fn fails_run(self) -> bool {
        true
    }
}

impl From<Rule> for ChangeClass {
    fn from(rule: Rule) -> ChangeClass {
        match rule {
            Rule::PragmaInTransaction => ChangeClass::PragmaInTransaction,
            Rule::NewerSqliteFeature { .. } => ChangeClass::NewerSqliteFeature,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ChangeClass;
    use crate::sql::allow_comment::is_code;

    #[test]
    fn codes_are_kebab_case_unique_and_read_back() {
        for class in ChangeClass::ALL {
            assert!(is_code(class.code()), "{}", class.code());
            assert_eq!(ChangeClass::from_code(class.code()), Some(class));
            assert!(!class.why().is_empty() && !class.why().ends_with('.'));
            assert!(class.fails_run());
        }
        assert_eq!(ChangeClass::from_code("column-gone"), None);
    }
}
