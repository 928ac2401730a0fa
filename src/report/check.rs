//! [`Check`]: which check of a migration a [`Finding`](super::Finding) failed, with its
//! stable code, its wording and why it matters; [`FindingKind`]: over which rows;
//! [`Severity`]: whether it fails the run.

use std::fmt;

/// Which checks a [`Finding`](super::Finding) came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FindingKind {
    /// The checks on empty databases: applies, integrity, down script, step by step.
    Schema,
    /// The checks over generated rows.
    Data,
    /// The checks of an upgrade of a copy of a real database.
    Upgrade,
}

/// Whether a finding of a [`Check`] fails the run or is only listed.
///
/// # Examples
///
/// ```
/// use sqlite_testdb::replay::{Check, Severity};
///
/// assert_eq!(Check::DownLeavesTrace.severity(), Severity::Fails);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Severity {
    /// The finding fails the run: [`ReplayReport::passed`](crate::replay::ReplayReport::passed)
    /// is `false`, the command exits 1.
    Fails,
    /// The finding is listed in the report and does not fail the run.
    Informs,
}

/// Declares [`Check`]: one row per variant, with its code, wording, why and severity, so
/// that a new check is one row here.
macro_rules! checks {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident = $code:literal, $wording:literal, $severity:ident,
            why: $why:literal;
    )*) => {
        /// Which check of a migration failed: what [`Finding::check`](crate::replay::Finding::check)
        /// returns, to match on rather than its text.
        ///
        /// Each check has a stable kebab-case [`code`](Self::code) (in the command's JSON
        /// output and summaries), a [`why`](Self::why) line, and a [`Severity`]. Its `Display`
        /// is its wording over empty databases, or over generated rows for the checks only
        /// made there; a finding's text words it for the rows it ran over
        /// ([`wording`](Self::wording)). The same check over generated rows and over a copy
        /// of a real database is one variant: the finding's
        /// [`kind`](crate::replay::Finding::kind) tells which.
        ///
        /// # Examples
        ///
        /// ```
        /// # let dir = tempfile::tempdir()?;
        /// # std::fs::write(dir.path().join("V1__users.sql"), "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?;
        /// # std::fs::write(dir.path().join("V2__index.sql"), "CREATE INDEX users_email ON users(email);")?;
        /// # std::fs::write(dir.path().join("V2__index.down.sql"), "SELECT 1;")?;
        /// use sqlite_testdb::{Migrations, replay::{self, Check}};
        ///
        /// let err = replay::check(&Migrations::from_dir(dir.path())?).unwrap_err();
        /// let finding = err.report().ok_or("no report")?.findings()[0];
        /// assert_eq!(finding.check(), Check::DownLeavesTrace);
        /// assert_eq!(finding.check().code(), "down-leaves-trace");
        /// assert_eq!(finding.check().to_string(), "up then down must leave no trace");
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        // `IntegrityCheck` and `ForeignKeyCheck` are named after SQLite's PRAGMAs.
        #[allow(clippy::enum_variant_names)]
        pub enum Check {
            $(
                $(#[doc = $doc])*
                $variant,
            )*
        }

        impl Check {
            /// Every check, in the order they run.
            ///
            /// # Examples
            ///
            /// ```
            /// use sqlite_testdb::replay::Check;
            ///
            /// let codes: Vec<&str> = Check::ALL.iter().map(|c| c.code()).collect();
            /// assert!(codes.contains(&"must-apply"));
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            pub const ALL: &'static [Check] = &[$(Check::$variant),*];

            /// The stable kebab-case code: `must-apply`, `down-leaves-trace`, …
            ///
            /// # Examples
            ///
            /// ```
            /// use sqlite_testdb::replay::Check;
            ///
            /// assert_eq!(Check::DataLost.code(), "data-lost");
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            pub fn code(self) -> &'static str {
                match self {
                    $(Check::$variant => $code,)*
                }
            }

            /// The check with this [`code`](Self::code), if any.
            ///
            /// # Examples
            ///
            /// ```
            /// use sqlite_testdb::replay::Check;
            ///
            /// assert_eq!(Check::from_code("rerun-changes"), Some(Check::RerunChanges));
            /// assert_eq!(Check::from_code("no-such-check"), None);
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            pub fn from_code(code: &str) -> Option<Check> {
                Check::ALL.iter().copied().find(|c| c.code() == code)
            }

            /// One line: why a migration that fails this check is a problem.
            ///
            /// # Examples
            ///
            /// ```
            /// use sqlite_testdb::replay::Check;
            ///
            /// assert!(Check::RerunChanges.why().contains("twice"));
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            pub fn why(self) -> &'static str {
                match self {
                    $(Check::$variant => $why,)*
                }
            }

            /// Whether a finding of this check fails the run or is only listed.
            ///
            /// # Examples
            ///
            /// ```
            /// use sqlite_testdb::replay::{Check, Severity};
            ///
            /// assert_eq!(Check::TableDropped.severity(), Severity::Fails);
            /// assert_eq!(Check::StaleAllow.severity(), Severity::Informs);
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            pub fn severity(self) -> Severity {
                match self {
                    $(Check::$variant => Severity::$severity,)*
                }
            }

            /// The check's wording on its own, as `Display` shows it.
            fn plain(self) -> &'static str {
                match self {
                    $(Check::$variant => $wording,)*
                }
            }
        }
    };
}

checks! {
    /// The migration applies (over generated rows, or to the database, for those kinds).
    MustApply = "must-apply", "must apply", Fails,
        why: "a migration that does not apply stops every deployment at it";
    /// `PRAGMA integrity_check` is `ok` after the migration.
    IntegrityCheck = "integrity-check", "PRAGMA integrity_check must be ok", Fails,
        why: "a corrupt index or table gives wrong answers to queries until it is rebuilt";
    /// `PRAGMA foreign_key_check` finds no row that references nothing.
    ForeignKeyCheck = "foreign-key-check", "PRAGMA foreign_key_check must find nothing", Fails,
        why: "rows that reference nothing break joins and fail later writes to their table";
    /// The down script runs (over generated rows, or on the database, for those kinds).
    DownMustApply = "down-must-apply", "down script must run", Fails,
        why: "a down script that fails cannot take a deployment back";
    /// Up then down leaves the schema it found.
    DownLeavesTrace = "down-leaves-trace", "up then down must leave no trace", Fails,
        why: "after a rollback the schema is neither the old one nor the new one";
    /// Up again, after down, applies.
    RedoMustApply = "redo-must-apply", "up again after down must apply", Fails,
        why: "after a rollback the migration cannot be deployed again";
    /// Up again, after down, gives the schema of the first up.
    RedoSameSchema = "redo-same-schema", "up again after down must give the same schema", Fails,
        why: "a database that was rolled back and upgraded again differs from the others";
    /// Applying the migrations one at a time gives the schema of applying them all at once.
    StepByStepDiffers = "step-by-step-differs",
        "step by step must give the schema of all at once", Fails,
        why: "databases upgraded over time differ from new ones";
    /// Running the runner again on a migrated database changes nothing.
    RerunChanges = "rerun-changes", "running the runner again must change nothing", Fails,
        why: "every start of the application, which runs the migrations, changes its database twice";
    /// The migration keeps every row and value of the tables and columns that remain.
    DataLost = "data-lost", "must keep every generated row and value", Fails,
        why: "rows or values lost by an upgrade are lost for every user who upgrades";
    /// The down script keeps the rows of the tables that existed before up.
    DownDataLost = "down-data-lost",
        "down script must keep the rows of the tables that existed before up", Fails,
        why: "a rollback that loses rows loses them for every user it is run for";
    /// The migration finishes within the time limit over generated rows.
    TimeLimit = "time-limit", "must finish within the time limit over generated rows", Fails,
        why: "a migration that runs for ever over a few rows never finishes over real ones";
    /// The down script finishes within the time limit over generated rows.
    DownTimeLimit = "down-time-limit",
        "down script must finish within the time limit over generated rows", Fails,
        why: "a down script that runs for ever over a few rows never finishes over real ones";
    /// The step drops no table (up), or none that was there before up (down).
    TableDropped = "table-dropped", "must not drop a table", Fails,
        why: "its rows are gone, and every query of the running application that names it fails";
    /// The step drops no column, also not by a table rebuild that leaves it out.
    ColumnDropped = "column-dropped", "must not drop a column", Fails,
        why: "its values are gone, and every query that names it fails with \"no such column\"";
    /// The step renames no table (a table gone and one with the same columns added).
    TableRenamed = "table-renamed", "must not rename a table", Fails,
        why: "the application code not yet deployed still queries the old name, which no longer exists";
    /// The step renames no column (`RENAME COLUMN`, or a rebuild that copies it under a new
    /// name).
    ColumnRenamed = "column-renamed", "must not rename a column", Fails,
        why: "the application code not yet deployed still queries the old name, which no longer exists";
    /// The step keeps every column's declared type and affinity.
    ColumnTypeChanged = "column-type-changed", "must not change a column's type", Fails,
        why: "the affinity decides how SQLite stores and compares the values, and ORMs map the declared type";
    /// The step keeps every foreign key and its ON DELETE and ON UPDATE actions.
    ForeignKeyDropped = "foreign-key-dropped",
        "must keep every foreign key and its actions", Fails,
        why: "rows the reference refused, or the action it took on delete or update, now pass silently";
    /// The step keeps every UNIQUE, CHECK, NOT NULL and DEFAULT.
    ConstraintDropped = "constraint-dropped",
        "must keep every UNIQUE, CHECK, NOT NULL and DEFAULT", Fails,
        why: "values the constraint refused now get in silently, and restoring it later fails on them";
    /// The indexes, triggers and views of a table the step rebuilds are still there, unless
    /// the step drops them by name.
    RebuildLostObject = "rebuild-lost-object",
        "must keep the indexes, triggers and views of the tables it rebuilds", Fails,
        why: "DROP TABLE in a table rebuild drops the table's indexes and triggers, and nothing recreated this one";
    /// Over rows: no table's `sqlite_sequence` counter goes down.
    AutoincrementReset = "autoincrement-reset", "must not lower an AUTOINCREMENT counter", Fails,
        why: "ids of deleted rows are handed out again, and rows elsewhere that kept them point at new rows";
    /// No PRAGMA that SQLite ignores or refuses inside the transaction the runner opens.
    PragmaInTransaction = "pragma-in-transaction",
        "must not rely on a PRAGMA that does nothing inside its transaction", Fails,
        why: "the migration runs in a transaction, where SQLite ignores or refuses this PRAGMA";
    /// The migration applies with double-quoted string literals off.
    DoubleQuotedString = "double-quoted-string",
        "must apply with double-quoted string literals off", Fails,
        why: "SQLite takes \"x\" as a string only when no column is named x, and builds without that misfeature refuse it";
    /// The migration uses nothing newer than the minimum SQLite the project declares
    /// ([`Replay::min_sqlite`](crate::replay::Replay::min_sqlite), `min-sqlite`).
    NewerSqliteFeature = "newer-sqlite-feature",
        "must run on the oldest SQLite the project supports", Fails,
        why: "the oldest SQLite the project supports fails on it with a syntax error or no such function";
    /// An acknowledgement (`allow`) matches a finding of its migration.
    StaleAllow = "stale-allow", "an allow must match a finding of its migration", Informs,
        why: "an acknowledgement that matches nothing hides the next real finding of that code";
}

impl Check {
    /// The check worded for the rows it ran over: `must apply` on an empty database, `must
    /// apply to a database holding generated rows` over generated rows, `must apply to the
    /// database` on an upgrade. What a finding's text and the command's JSON `check` show.
    ///
    /// # Examples
    ///
    /// ```
    /// use sqlite_testdb::replay::{Check, FindingKind};
    ///
    /// assert_eq!(Check::MustApply.wording(FindingKind::Schema), "must apply");
    /// assert_eq!(Check::MustApply.wording(FindingKind::Upgrade), "must apply to the database");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn wording(self, kind: FindingKind) -> &'static str {
        match (kind, self) {
            (FindingKind::Data, Check::MustApply) => {
                "must apply to a database holding generated rows"
            }
            (FindingKind::Data, Check::IntegrityCheck) => {
                "PRAGMA integrity_check must be ok with generated rows"
            }
            (FindingKind::Data, Check::ForeignKeyCheck) => {
                "PRAGMA foreign_key_check must find nothing with generated rows"
            }
            (FindingKind::Data, Check::DownMustApply) => {
                "down script must apply to a database holding generated rows"
            }
            (FindingKind::Upgrade, Check::MustApply) => "must apply to the database",
            (FindingKind::Upgrade, Check::IntegrityCheck) => {
                "PRAGMA integrity_check must be ok on the database"
            }
            (FindingKind::Upgrade, Check::ForeignKeyCheck) => {
                "PRAGMA foreign_key_check must find nothing on the database"
            }
            (FindingKind::Upgrade, Check::DownMustApply) => {
                "down script must apply to the database"
            }
            (FindingKind::Upgrade, Check::DataLost) => {
                "must keep every row and value of the database"
            }
            (FindingKind::Upgrade, Check::DownDataLost) => {
                "down script must give the database's rows back"
            }
            _ => self.plain(),
        }
    }

    /// The detail of a finding of this check, for a change a migration may mean: `what` was
    /// found, why it matters, and how to acknowledge it.
    pub(crate) fn explained(self, what: &str) -> String {
        format!(
            "{what}\n{}\nif it is meant, acknowledge it: `-- sqlite-testdb: allow {}` in the migration",
            self.why(),
            self.code()
        )
    }

    /// Whether the check is of the down script rather than of the migration.
    pub(crate) fn of_down_script(self) -> bool {
        matches!(
            self,
            Check::DownMustApply
                | Check::DownLeavesTrace
                | Check::RedoMustApply
                | Check::RedoSameSchema
                | Check::DownDataLost
                | Check::DownTimeLimit
        )
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.plain())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_kebab_case_and_distinct() {
        let mut codes: Vec<&str> = Check::ALL.iter().map(|c| c.code()).collect();
        assert!(
            codes
                .iter()
                .all(|c| c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '-'))
        );
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), Check::ALL.len());
        assert!(
            Check::ALL
                .iter()
                .all(|c| Check::from_code(c.code()) == Some(*c))
        );
    }
}
