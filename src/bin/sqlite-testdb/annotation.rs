//! [`Annotation`]: one finding as the CI outputs show it (GitHub workflow commands, SARIF,
//! baselines), whatever check it came from: a replay finding, a released migration, a lock
//! file, a schema file.

use std::path::{Path, PathBuf};

use sqlite_testdb::Version;
use sqlite_testdb::replay::Finding;

/// How much a finding weighs: errors fail the run, warnings and notes are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    Error,
    #[expect(dead_code, reason = "for the informational schema-change classes")]
    Warning,
    #[expect(dead_code, reason = "for the informational schema-change classes")]
    Note,
}

impl Level {
    /// SARIF's name of the level (`error`, `warning`, `note`).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Note => "note",
        }
    }
}

/// One finding, reduced to what CI outputs show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Annotation {
    /// The stable kebab-case code: `released-migration-changed`, `must-apply`, …
    pub(crate) code: String,
    pub(crate) level: Level,
    /// A one-line title.
    pub(crate) title: String,
    /// The whole finding, as text (may span lines: a diff).
    pub(crate) message: String,
    /// The file it is about, when there is one.
    pub(crate) file: Option<PathBuf>,
    /// The 1-based line in `file`, when known.
    pub(crate) line: Option<u32>,
    /// The migration it is about, as refinery names it: `V3__posts`.
    pub(crate) migration: Option<String>,
    /// The migration's version, when it is one of the folder's.
    pub(crate) version: Option<Version>,
    /// The table, column or object involved (`users.email`), or the file: what identifies
    /// the finding in a baseline besides its code and migration.
    pub(crate) subject: Option<String>,
}

impl Annotation {
    /// An error-level annotation with no place yet.
    pub(crate) fn error(code: &str, title: impl Into<String>, message: impl Into<String>) -> Self {
        Annotation {
            code: code.to_owned(),
            level: Level::Error,
            title: title.into(),
            message: message.into(),
            file: None,
            line: None,
            migration: None,
            version: None,
            subject: None,
        }
    }
}

/// The code of a replay check, from its wording.
///
/// The one place that knows the wording of the library's checks: when findings carry their
/// own code, this function goes.
pub(crate) fn check_code(check: &str) -> &'static str {
    match check {
        "must apply" => "must-apply",
        "PRAGMA integrity_check must be ok" => "integrity-check",
        "PRAGMA foreign_key_check must find nothing" => "foreign-key-check",
        "down script must run" => "down-must-run",
        "up then down must leave no trace" => "down-leaves-trace",
        "up again after down must apply" => "redo-must-apply",
        "up again after down must give the same schema" => "redo-differs",
        "step by step must give the schema of all at once" => "steps-differ-from-all-at-once",
        "running the runner again must change nothing" => "rerun-changes-schema",
        "must apply to a database holding generated rows" => "must-apply-with-rows",
        "PRAGMA integrity_check must be ok with generated rows" => "integrity-check-with-rows",
        "PRAGMA foreign_key_check must find nothing with generated rows" => {
            "foreign-key-check-with-rows"
        }
        "must keep every generated row and value" => "rows-lost",
        "down script must apply to a database holding generated rows" => {
            "down-must-apply-with-rows"
        }
        "down script must keep the rows of the tables that existed before up" => "down-rows-lost",
        "must finish within the time limit over generated rows" => "time-limit",
        "down script must finish within the time limit over generated rows" => "down-time-limit",
        "must apply to the database" => "upgrade-must-apply",
        "PRAGMA integrity_check must be ok on the database" => "upgrade-integrity-check",
        "PRAGMA foreign_key_check must find nothing on the database" => "upgrade-foreign-key-check",
        "must keep every row and value of the database" => "upgrade-rows-lost",
        "down script must apply to the database" => "upgrade-down-must-apply",
        "down script must give the database's rows back" => "upgrade-down-rows-lost",
        _ => "replay-check",
    }
}

/// A replay finding as an annotation: its code from [`check_code`], its migration's file.
pub(crate) fn from_finding(finding: &Finding, text: String) -> Annotation {
    let subject = match (finding.table(), finding.column()) {
        (Some(t), Some(c)) => Some(format!("{t}.{c}")),
        (Some(t), None) => Some(t.to_owned()),
        (None, Some(c)) => Some(c.to_owned()),
        (None, None) => None,
    };
    Annotation {
        code: check_code(finding.check()).to_owned(),
        level: Level::Error,
        title: finding.check().to_owned(),
        message: text,
        file: finding.file().map(Path::to_path_buf),
        line: None,
        migration: Some(finding.migration().to_owned()),
        version: Some(finding.version()),
        subject,
    }
}

/// `path` relative to the current folder when it is inside it (as GitHub and SARIF
/// viewers expect, run from the repository's root), else as given; `/` separated.
pub(crate) fn display_path(path: &Path) -> String {
    let relative = std::env::current_dir()
        .ok()
        .and_then(|cwd| cwd.canonicalize().ok())
        .and_then(|cwd| {
            let full = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
            full.strip_prefix(&cwd).ok().map(Path::to_path_buf)
        })
        .unwrap_or_else(|| path.to_path_buf());
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// The 1-based number of the first line where `new` differs from `old` (a line past the
/// end of `new` counts as its last), `None` when they are equal.
pub(crate) fn first_changed_line(old: &str, new: &str) -> Option<u32> {
    if old == new {
        return None;
    }
    let (old_lines, new_lines): (Vec<&str>, Vec<&str>) =
        (old.lines().collect(), new.lines().collect());
    let same = old_lines
        .iter()
        .zip(&new_lines)
        .take_while(|(a, b)| a == b)
        .count();
    let line = same.min(new_lines.len().saturating_sub(1)) + 1;
    u32::try_from(line).ok()
}
