//! Acknowledgements: the findings a migration means, per version and code. They come from
//! [`Replay::allow`](super::Replay::allow) (which the command's `--allow V:code` and
//! `[allow]` table call) and from `-- sqlite-testdb: allow code` comments in the migration's
//! up and down files. An acknowledged finding stays in the report and does not fail the run;
//! an acknowledgement that matches no finding of its migration is a `stale-allow` note, and
//! so is a comment that does not read.

use std::path::PathBuf;

use refinery::Migration;

use super::findings::finding;
use super::settings::Settings;
use crate::report::{Check, Finding, FindingKind, StepReport};
use crate::sql::allow_comment::inline_allows;
use crate::version::Version;

/// Every acknowledgement of a replay, and whether each matched a finding.
pub(crate) struct Acknowledgements {
    entries: Vec<Entry>,
    /// Comments that start with the marker but do not read: notes of their migration.
    unreadable: Vec<(Version, Place, String)>,
}

struct Entry {
    version: Version,
    code: String,
    place: Place,
    used: bool,
}

/// Where an acknowledgement was written.
#[derive(Clone)]
enum Place {
    /// A setting: `Replay::allow`, the command's flag or config file.
    Setting,
    /// A comment at `line` of `file`.
    Comment { file: Option<PathBuf>, line: usize },
}

impl Acknowledgements {
    /// Those of `settings` and of the comments in every migration's files.
    pub(crate) fn new(settings: &Settings) -> Self {
        let mut entries: Vec<Entry> = settings
            .allows
            .iter()
            .map(|(version, check)| Entry {
                version: *version,
                code: check.code().to_owned(),
                place: Place::Setting,
                used: false,
            })
            .collect();
        let mut unreadable = Vec::new();
        let migrations = &settings.migrations;
        for migration in migrations.iter() {
            let version = migration.version();
            let up = (
                migration.sql().unwrap_or_default(),
                migrations.file(version).map(ToOwned::to_owned),
            );
            let down = migrations
                .down_script(version)
                .map(|d| (d.sql(), d.path().map(ToOwned::to_owned)));
            for (sql, file) in std::iter::once(up).chain(down) {
                let (allows, bad) = inline_allows(sql);
                for allow in allows {
                    entries.push(Entry {
                        version,
                        code: allow.code,
                        place: Place::Comment {
                            file: file.clone(),
                            line: allow.line,
                        },
                        used: false,
                    });
                }
                for directive in bad {
                    let place = Place::Comment {
                        file: file.clone(),
                        line: directive.line,
                    };
                    unreadable.push((version, place, directive.message));
                }
            }
        }
        Acknowledgements {
            entries,
            unreadable,
        }
    }

    /// Marks the findings an acknowledgement of their version and code covers.
    pub(crate) fn acknowledge(&mut self, findings: &mut [Finding]) {
        for found in findings {
            for entry in &mut self.entries {
                if entry.version == found.version && entry.code == found.check.code() {
                    found.acknowledged = true;
                    entry.used = true;
                }
            }
        }
    }

    /// The notes of `step` (of `migration`), once all its checks ran: the acknowledgements
    /// of its version that matched nothing, and comments that do not read.
    pub(crate) fn notes(
        &self,
        settings: &Settings,
        migration: &Migration,
        step: &StepReport,
    ) -> Vec<Finding> {
        let version = migration.version();
        let mut notes = Vec::new();
        // A migration that did not apply was not checked further: nothing is stale there.
        let applied = !step.findings.iter().any(|f| f.check == Check::MustApply);
        for entry in self.entries.iter().filter(|e| e.version == version) {
            let detail = match Check::from_code(&entry.code) {
                None => format!(
                    "`{}` is not a check's code: nothing is acknowledged (codes: {})",
                    entry.code,
                    codes()
                ),
                Some(check) if !entry.used && applied && could_run(settings, check) => {
                    format!(
                        "the migration has no {} finding to acknowledge: remove the allow",
                        entry.code
                    )
                }
                Some(_) => continue,
            };
            notes.push(note(settings, migration, &entry.place, detail));
        }
        for (_, place, message) in self.unreadable.iter().filter(|(v, ..)| *v == version) {
            notes.push(note(settings, migration, place, message.clone()));
        }
        notes
    }
}

/// Whether this replay makes `check`: the checks over rows need rows, those of the empty
/// database are not made on an upgrade, and the newer-feature check needs a minimum SQLite.
fn could_run(settings: &Settings, check: Check) -> bool {
    let fresh = settings.upgrade.is_none();
    match check {
        Check::TimeLimit | Check::DownTimeLimit => settings.data.is_some(),
        Check::DataLost | Check::DownDataLost | Check::AutoincrementReset => {
            settings.data.is_some() || !fresh
        }
        Check::NewerSqliteFeature => fresh && settings.min_sqlite.is_some(),
        Check::MustApply
        | Check::IntegrityCheck
        | Check::ForeignKeyCheck
        | Check::DownMustApply
        | Check::StaleAllow => true,
        _ => fresh,
    }
}

/// Every check's code, for a note naming an unknown one.
fn codes() -> String {
    Check::ALL
        .iter()
        .map(|c| c.code())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A `stale-allow` note of `migration` at `place`.
fn note(settings: &Settings, migration: &Migration, place: &Place, detail: String) -> Finding {
    let mut found = finding(
        settings,
        migration,
        FindingKind::Schema,
        Check::StaleAllow,
        detail,
    );
    if let Place::Comment { file, line } = place {
        found.file.clone_from(file);
        found.line = Some(*line);
    }
    found
}
