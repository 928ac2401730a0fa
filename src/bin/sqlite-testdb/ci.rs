//! What `check` does for CI besides the replay: released migrations (`--since`, the lock
//! file), the committed schema (`--schema`), baselines, and the GitHub and SARIF outputs.
//! Every finding goes through an [`Annotation`].

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use clap::ValueEnum;
use serde_json::{Value, json};
use sqlite_testdb::replay::{Check, Finding, ReplayReport};
use sqlite_testdb::{Migrations, Schema, Version};

use crate::annotation::{self, Annotation, Level, display_path};
use crate::baseline::{self, Key};
use crate::failure::Failure;
use crate::output::{path_text, print_json, print_text};
use crate::sarif::Baseline;
use crate::{github, lock, released, sarif, schema_file};

/// What `check` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// The report as a person reads it (the default)
    Text,
    /// The report as JSON (the same as --json)
    Json,
    /// GitHub Actions workflow commands: annotations on the pull request
    Github,
    /// A SARIF 2.1.0 log, for code scanning
    Sarif,
}

/// The codes of the CI checks and their help, for SARIF's rules.
pub(crate) const RULES: &[(&str, &str)] = &[
    (
        "released-migration-changed",
        "A released migration was edited. refinery and sqlx checksum every applied migration \
         and refuse to run when one differs, even in whitespace: put the change in a new \
         migration.",
    ),
    (
        "released-migration-removed",
        "A released migration was deleted. Databases that applied it keep it in their history, \
         and the runner rejects a history with a migration it does not have.",
    ),
    (
        "migration-out-of-order",
        "A new migration sorts below one already released. Databases already past it never run \
         it, and refinery aborts on them: give it a version above the highest released.",
    ),
    (
        "schema-file-drift",
        "The committed schema file is not the schema the migrations produce: rewrite it with \
         `sqlite-testdb schema DIR > FILE`.",
    ),
];

/// SARIF's rules: the CI checks, then every replay check with its reason.
fn rules() -> Vec<(String, String)> {
    let ci = RULES
        .iter()
        .map(|(code, help)| ((*code).to_owned(), (*help).to_owned()));
    let replay = Check::ALL.iter().map(|check| {
        let help = format!("{check}: {}.", check.why());
        (check.code().to_owned(), help)
    });
    ci.chain(replay).collect()
}

/// How a finding counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    /// Fails the run.
    Failing,
    /// In the baseline: listed, not failed.
    Baselined,
    /// A finding of a released migration: not the change's, listed, not failed.
    Released,
    /// A warning or note.
    Informational,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Failing => "failing",
            Status::Baselined => "baselined",
            Status::Released => "released",
            Status::Informational => "informational",
        }
    }
}

/// The CI settings of one `check` run.
pub(crate) struct Settings<'a> {
    pub(crate) dir: &'a Path,
    pub(crate) since: Option<&'a str>,
    pub(crate) schema_file: Option<PathBuf>,
    pub(crate) baseline: Option<&'a Path>,
    pub(crate) write_baseline: Option<&'a Path>,
    pub(crate) format: Format,
}

/// The CI checks' own findings, gathered before the replay runs (they fail fast on bad
/// input), and the settings that judge the replay's.
pub(crate) struct Ci<'a> {
    settings: Settings<'a>,
    /// Released, lock and schema-file findings.
    own: Vec<Annotation>,
    /// Versions released (by git or the lock file); `None` when neither was asked.
    released: Option<BTreeSet<Version>>,
    baseline: Option<BTreeSet<Key>>,
}

impl<'a> Ci<'a> {
    /// Runs the checks that do not need the replay. `schema` gives the migrated schema,
    /// asked only with a schema file.
    pub(crate) fn gather(
        migrations: &Migrations,
        settings: Settings<'a>,
        schema: impl FnOnce() -> Result<Schema, Failure>,
    ) -> Result<Self, Failure> {
        let baseline = settings.baseline.map(baseline::read).transpose()?;
        let mut own = Vec::new();
        let mut released: Option<BTreeSet<Version>> = None;
        if let Some(since) = settings.since {
            let found = released::compare(migrations, settings.dir, since)?;
            own.extend(found.annotations);
            released.get_or_insert_default().extend(found.versions);
        }
        if let Some(found) = lock::verify(migrations, settings.dir)? {
            own.extend(found.annotations);
            released.get_or_insert_default().extend(found.versions);
        }
        if let Some(file) = &settings.schema_file {
            own.extend(schema_file::compare(&schema()?, file)?);
        }
        Ok(Ci {
            settings,
            own,
            released,
            baseline,
        })
    }

    /// Whether anything beyond the plain report was asked for or found.
    fn active(&self) -> bool {
        self.settings.since.is_some()
            || self.released.is_some()
            || self.settings.schema_file.is_some()
            || self.baseline.is_some()
            || self.settings.write_baseline.is_some()
            || matches!(self.settings.format, Format::Github | Format::Sarif)
    }

    /// Every finding, the replay's first, with how it counts.
    fn judged(
        &self,
        report: &ReplayReport,
        text: &dyn Fn(&Finding) -> String,
    ) -> Vec<(Annotation, Status)> {
        let findings = report.findings();
        findings
            .iter()
            .map(|f| annotation::from_finding(f, text(f)))
            .chain(self.own.iter().cloned())
            .map(|a| {
                let status = if a.level != Level::Error {
                    Status::Informational
                } else if self
                    .baseline
                    .as_ref()
                    .is_some_and(|b| b.contains(&Key::of(&a)))
                {
                    Status::Baselined
                } else if !a.code.starts_with("released-")
                    && a.code != "migration-out-of-order"
                    && a.version
                        .is_some_and(|v| self.released.as_ref().is_some_and(|r| r.contains(&v)))
                {
                    Status::Released
                } else {
                    Status::Failing
                };
                (a, status)
            })
            .collect()
    }

    /// Prints the outcome in the GitHub or SARIF format, or adds the CI findings to the text
    /// or JSON report (`text`, `document`), and says how the run ends.
    pub(crate) fn finish(
        &self,
        report: &ReplayReport,
        finding_text: &dyn Fn(&Finding) -> String,
        text: &mut String,
        document: &mut Value,
    ) -> Result<(), Failure> {
        if !self.active() {
            return if report.passed() {
                Ok(())
            } else {
                Err(Failure::Findings(report.summary()))
            };
        }
        let judged = self.judged(report, finding_text);
        let found: BTreeSet<Key> = judged.iter().map(|(a, _)| Key::of(a)).collect();
        let stale: Vec<&Key> = self
            .baseline
            .iter()
            .flatten()
            .filter(|k| !found.contains(k))
            .collect();
        let failing: Vec<&Annotation> = judged
            .iter()
            .filter(|(_, s)| *s == Status::Failing)
            .map(|(a, _)| a)
            .collect();
        let labels: Vec<String> = failing.iter().map(|a| Key::of(a).to_string()).collect();
        let summary = format!(
            "{} finding(s) fail the check: {}",
            failing.len(),
            labels.join("; ")
        );
        match self.settings.format {
            Format::Github => {
                let mut lines = String::new();
                for (a, status) in &judged {
                    lines.push_str(&github::command(a, *status == Status::Failing));
                    lines.push('\n');
                }
                for key in &stale {
                    lines.push_str(&format!(
                        "::notice title=stale-baseline-entry::{}\n",
                        github::data(&format!("baseline entry no longer found: {key}"))
                    ));
                }
                print_text(&lines);
            }
            Format::Sarif => {
                let results: Vec<(Annotation, Baseline)> = judged
                    .iter()
                    .map(|(a, status)| {
                        let state = match (&self.baseline, status) {
                            (None, _) => Baseline::None,
                            (Some(_), Status::Baselined) => Baseline::Unchanged,
                            (Some(_), _) => Baseline::New,
                        };
                        (a.clone(), state)
                    })
                    .collect();
                print_json(&sarif::log(&results, rules()));
            }
            Format::Text => {
                text.push_str(&self.text_section(&judged, &stale));
            }
            Format::Json => {
                let error = (!failing.is_empty()).then_some(summary.as_str());
                json_section(document, &judged, &stale, error);
            }
        }
        if let Some(path) = self.settings.write_baseline {
            let all: Vec<Annotation> = judged.into_iter().map(|(a, _)| a).collect();
            let count = baseline::write(path, &all)?;
            eprintln!("wrote {count} finding(s) to baseline {}", path.display());
            return Ok(());
        }
        if failing.is_empty() {
            return Ok(());
        }
        Err(Failure::Findings(summary))
    }

    fn text_section(&self, judged: &[(Annotation, Status)], stale: &[&Key]) -> String {
        let mut text = String::new();
        for a in &self.own {
            text.push_str(&format!(
                "\n{}: {}\n{}\n",
                a.code,
                a.title,
                a.message.trim_end()
            ));
            if let Some(file) = &a.file {
                let line = a.line.map(|l| format!(":{l}")).unwrap_or_default();
                text.push_str(&format!("at {}{line}\n", display_path(file)));
            }
        }
        let list = |status: Status| -> Vec<String> {
            judged
                .iter()
                .filter(|(_, s)| *s == status)
                .map(|(a, _)| format!("  {}\n", Key::of(a)))
                .collect()
        };
        let baselined = list(Status::Baselined);
        if let (Some(path), false) = (self.settings.baseline, baselined.is_empty()) {
            text.push_str(&format!(
                "\nin the baseline {} (listed, not failed):\n{}",
                path.display(),
                baselined.concat()
            ));
        }
        let released = list(Status::Released);
        if !released.is_empty() {
            text.push_str(&format!(
                "\nfindings of released migrations (listed, not failed):\n{}",
                released.concat()
            ));
        }
        if let (Some(path), false) = (self.settings.baseline, stale.is_empty()) {
            text.push_str(&format!(
                "\nbaseline entries of {} no longer found (stale; remove them):\n",
                path.display()
            ));
            for key in stale {
                text.push_str(&format!("  {key}\n"));
            }
        }
        text
    }
}

/// Adds every finding with its status, and the stale baseline entries, to the JSON report.
fn json_section(
    document: &mut Value,
    judged: &[(Annotation, Status)],
    stale: &[&Key],
    error: Option<&str>,
) {
    let annotations: Vec<Value> = judged
        .iter()
        .map(|(a, status)| {
            json!({
                "code": a.code,
                "level": a.level.as_str(),
                "status": status.as_str(),
                "title": a.title,
                "migration": a.migration,
                "version": a.version,
                "subject": a.subject,
                "file": a.file.as_deref().map(path_text),
                "line": a.line,
                "message": a.message,
            })
        })
        .collect();
    document["annotations"] = json!(annotations);
    document["stale_baseline"] = json!(stale.iter().map(|k| k.to_string()).collect::<Vec<_>>());
    document["ok"] = json!(error.is_none());
    if let Some(map) = document.as_object_mut() {
        match error {
            None => {
                map.remove("exit_code");
                map.remove("error");
            }
            Some(message) => {
                map.insert("exit_code".to_owned(), json!(1));
                map.insert(
                    "error".to_owned(),
                    json!({ "kind": "findings", "message": message }),
                );
            }
        }
    }
}
