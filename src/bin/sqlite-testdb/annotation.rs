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
    Warning,
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

/// A replay finding as an annotation: its check's code, its migration's file.
pub(crate) fn from_finding(finding: &Finding, text: String) -> Annotation {
    let subject = match (finding.table(), finding.column()) {
        (Some(t), Some(c)) => Some(format!("{t}.{c}")),
        (Some(t), None) => Some(t.to_owned()),
        (None, Some(c)) => Some(c.to_owned()),
        (None, None) => None,
    };
    Annotation {
        code: finding.check().code().to_owned(),
        // An acknowledged finding is a note; one whose check only informs, a warning.
        level: if finding.acknowledged() {
            Level::Note
        } else if finding.fails() {
            Level::Error
        } else {
            Level::Warning
        },
        title: finding.check().to_string(),
        message: text,
        file: finding.file().map(Path::to_path_buf),
        line: finding.line().and_then(|l| u32::try_from(l).ok()),
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
