//! [`Finding`]: one check of one migration that failed.

use std::path::{Path, PathBuf};

use super::check::{Check, FindingKind};

use crate::version::Version;

/// One check of one migration that failed: which migration and file, which check, where
/// (table, column) and what was found, and for a failure over rows, the script that
/// reproduces it. Listed by [`StepReport::findings`](crate::replay::StepReport::findings)
/// and carried by [`Error::Findings`](crate::Error::Findings).
///
/// Its `Display` is the whole finding, as a person reads it:
///
/// ```text
/// replay check failed at V2__profiles (<project>/migrations/V2__profiles.sql): up then down must leave no trace
/// --- before up
/// +++ after up and down
/// …
/// ```
///
/// # Examples
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// # std::fs::write(dir.path().join("V1__users.sql"), "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?;
/// # std::fs::write(dir.path().join("V2__index.sql"), "CREATE INDEX users_email ON users(email);")?;
/// # std::fs::write(dir.path().join("V2__index.down.sql"), "SELECT 1;")?;
/// use sqlite_testdb::{Error, Migrations, replay};
///
/// let err = replay::check(&Migrations::from_dir(dir.path())?).unwrap_err();
/// let Error::Findings { report } = &err else { panic!("{err}") };
/// let finding = &report.findings()[0];
/// assert_eq!((finding.version(), finding.check()), (2, replay::Check::DownLeavesTrace));
/// assert!(finding.detail().contains("+create index users_email on users(email);"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub(crate) version: Version,
    pub(crate) migration: String,
    pub(crate) file: Option<PathBuf>,
    pub(crate) kind: FindingKind,
    pub(crate) check: Check,
    pub(crate) table: Option<String>,
    pub(crate) column: Option<String>,
    pub(crate) detail: String,
    pub(crate) script: Option<PathBuf>,
    pub(crate) lost_data: bool,
    /// The line of the migration's SQL the finding points at, 1-based.
    pub(crate) line: Option<usize>,
    /// Acknowledged by an `allow` of its version and code: listed, not failing.
    pub(crate) acknowledged: bool,
}

impl Finding {
    /// The migration's version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The migration, as refinery names it: `V3__client_secret_versions`.
    pub fn migration(&self) -> &str {
        &self.migration
    }

    /// The migration's file; `None` for one from a runner or built in code.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// Which checks found it.
    pub fn kind(&self) -> FindingKind {
        self.kind
    }

    /// The check that failed: match on it, or show its [`code`](Check::code). Its text in
    /// the finding is [`Check::wording`] for the finding's [`kind`](Self::kind).
    pub fn check(&self) -> Check {
        self.check
    }

    /// The table involved, where known.
    pub fn table(&self) -> Option<&str> {
        self.table.as_deref()
    }

    /// The column involved (several: comma separated), where known.
    pub fn column(&self) -> Option<&str> {
        self.column.as_deref()
    }

    /// What was found: a schema diff, a pragma's output, SQLite's message and the rows
    /// involved, or the rows and values lost.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The SQL script that reproduces a failure over generated rows (`sqlite3 < script`),
    /// kept in a folder of its own in the temp folder.
    pub fn script(&self) -> Option<&Path> {
        self.script.as_deref()
    }

    /// Whether the migration lost or changed rows or values: marking it as a deliberate
    /// change ([`Replay::expect_changes`](crate::replay::Replay::expect_changes), or the
    /// command's `--expect-changes`) lists the changes instead.
    pub fn lost_data(&self) -> bool {
        self.lost_data
    }

    /// The line of the migration's file the finding points at (1-based), where the check
    /// reads the SQL text: the PRAGMA of `pragma-in-transaction`, the feature of
    /// `newer-sqlite-feature`.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// Whether an `allow` of the finding's version and code acknowledges it
    /// ([`Replay::allow`](crate::replay::Replay::allow), the command's `--allow V:code` or
    /// `[allow]` table, or a `-- sqlite-testdb: allow code` comment in the migration): the
    /// finding is listed and does not fail the run.
    pub fn acknowledged(&self) -> bool {
        self.acknowledged
    }

    /// Whether the finding fails the run: its check's [`Severity`](super::Severity) is
    /// `Fails` and no `allow` acknowledges it.
    pub fn fails(&self) -> bool {
        !self.acknowledged && self.check.severity() == super::Severity::Fails
    }

    /// The finding's first line: what failed where, with the check's code in brackets.
    /// An acknowledged finding starts `acknowledged at`, one that only informs `note at`.
    pub fn headline(&self) -> String {
        let what = if self.acknowledged {
            "acknowledged"
        } else if self.check.severity() == super::Severity::Informs {
            "note"
        } else {
            match self.kind {
                FindingKind::Schema => "replay check failed",
                FindingKind::Data => "replay with data failed",
                FindingKind::Upgrade => "upgrade failed",
            }
        };
        let mut file = self
            .file
            .as_deref()
            .map_or_else(|| "embedded".to_owned(), |f| f.display().to_string());
        if let Some(line) = self.line {
            file.push_str(&format!(":{line}"));
        }
        let place = match (&self.table, &self.column) {
            (Some(t), Some(c)) => format!(" (table {t}, column {c})"),
            (Some(t), None) => format!(" (table {t})"),
            (None, Some(c)) => format!(" (column {c})"),
            (None, None) => String::new(),
        };
        format!(
            "{what} at {} ({file}): {} [{}]{place}",
            self.migration,
            self.check.wording(self.kind),
            self.check.code()
        )
    }

    /// The shell command that runs the reproduction script, `sqlite3 < <script>` (quoted for
    /// a shell where it needs to be), if there is one.
    pub fn reproduce_command(&self) -> Option<String> {
        let script = self.script.as_deref()?.display().to_string();
        let plain = script.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | '+' | ':' | '\\')
        });
        let script = if plain {
            script
        } else {
            format!("'{}'", script.replace('\'', r"'\''"))
        };
        Some(format!("sqlite3 < {script}"))
    }

    /// The one-line label of the summary: `V18 down-leaves-trace`.
    pub(crate) fn label(&self) -> String {
        format!("V{} {}", self.version, self.check.code())
    }
}
