//! [`Failure`]: why a run stopped, its exit code, and how it is told (text or JSON).

use std::io;
use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::{Value, json};
use sqlite_testdb::Error;

use crate::output::{chain, path_text, print_json};

/// Why a run stopped.
pub(crate) enum Failure {
    /// The folder could not be read as a migration set, a version is not in it, or a
    /// database to upgrade cannot be.
    Input(Error),
    /// Checks failed: the report was printed already, this is its summary.
    Findings(String),
    /// Any other error from the library: a failing migration, or trouble.
    Lib(Error),
    /// An extension that does not load.
    Extension {
        path: PathBuf,
        source: rusqlite::Error,
    },
    /// A config file that cannot be read or holds what the command does not know.
    Config { path: PathBuf, message: String },
    /// Arguments that do not go together.
    Usage(String),
    /// Input the command cannot use, told in full: a folder outside git, an unknown
    /// revision, a lock, schema or baseline file that cannot be read.
    InputText(String),
    /// The template cache folder could not be created.
    CacheDir(io::Error),
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        match error {
            Error::UnknownVersion { .. }
            | Error::NotADatabase { .. }
            | Error::NoHistory { .. }
            | Error::HistoryMismatch { .. }
            | Error::NewerDatabase { .. } => Failure::Input(error),
            _ => Failure::Lib(error),
        }
    }
}

impl Failure {
    /// 1 when the migrations are at fault, 2 when the input is or the command could not run.
    fn exit_code(&self) -> u8 {
        match self {
            Failure::Findings(_)
            | Failure::Lib(
                Error::Migration { .. }
                | Error::DownScript { .. }
                | Error::ForeignKeyViolations { .. },
            ) => 1,
            _ => 2,
        }
    }

    /// The error with its source chain, as printed on stderr.
    fn message(&self) -> String {
        let mut message = self.untrimmed_message();
        message.truncate(message.trim_end().len());
        message
    }

    fn untrimmed_message(&self) -> String {
        match self {
            Failure::Input(error) | Failure::Lib(error) => error.with_causes(),
            Failure::Findings(summary) => summary.clone(),
            Failure::Extension { path, source } => {
                format!(
                    "cannot load SQLite extension {:?}\ncaused by: {source}",
                    path.display().to_string()
                )
            }
            Failure::Config { path, message } => {
                format!(
                    "bad config file {:?}: {message}",
                    path.display().to_string()
                )
            }
            Failure::Usage(message) | Failure::InputText(message) => message.clone(),
            Failure::CacheDir(source) => format!(
                "failed to create a temporary template cache folder in {:?}\ncaused by: {source}",
                std::env::temp_dir()
            ),
        }
    }

    /// The error as JSON: what failed, where, which check and what differed.
    fn to_json(&self) -> Value {
        let message = self.message();
        let error = match self {
            Failure::Lib(Error::Migration {
                migration,
                file,
                applied,
                source,
                ..
            }) => json!({
                "kind": "migration",
                "migration": migration,
                "file": file.as_deref().map(path_text),
                "check": "migration must apply",
                "detail": chain(source),
                "applied": applied,
                "message": message,
            }),
            Failure::Lib(Error::DownScript {
                migration,
                file,
                source,
            }) => json!({
                "kind": "down_script",
                "migration": migration,
                "file": file.as_deref().map(path_text),
                "check": "down script must run",
                "detail": chain(source),
                "message": message,
            }),
            Failure::Findings(_) => json!({ "kind": "findings", "message": message }),
            Failure::Input(_) | Failure::InputText(_) => {
                json!({ "kind": "bad_input", "message": message })
            }
            Failure::Extension { path, .. } => json!({
                "kind": "extension",
                "path": path_text(path),
                "message": message,
            }),
            Failure::Config { path, .. } => json!({
                "kind": "config",
                "path": path_text(path),
                "message": message,
            }),
            Failure::Usage(_) => json!({ "kind": "usage", "message": message }),
            Failure::Lib(_) | Failure::CacheDir(_) => {
                json!({ "kind": "error", "message": message })
            }
        };
        json!({ "ok": false, "exit_code": self.exit_code(), "error": error })
    }

    /// Tells the failure: on stderr, and as JSON on stdout with `--json` (a report with
    /// findings has printed its own JSON already).
    pub(crate) fn report(self, json: bool) -> ExitCode {
        if json && !matches!(self, Failure::Findings(_)) {
            print_json(&self.to_json());
        }
        eprintln!("error: {}", self.message());
        ExitCode::from(self.exit_code())
    }
}
