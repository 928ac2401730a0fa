//! The replay loop, one for every kind of replay: every migration in turn, on the empty
//! database stepping forward and, with data, on the database holding rows, or on the copy
//! of a real database; each one's findings kept, so a failure at one version does not hide
//! the others. Then, on fresh databases, the whole set at once, and once more.

use std::path::PathBuf;

use refinery::Migration;

use super::acknowledgements::Acknowledgements;
use super::data_steps::DataReplay;
use super::schema_steps::SchemaReplay;
use super::settings::Settings;
use super::upgrade;
use crate::error::Result;
use crate::migrations::Layout;
use crate::report::{Down, Finding, Progress, ReplayReport, StepData, StepReport};
use crate::version::Version;

/// The databases a replay steps forward.
// One per run: the size of its variants does not matter.
#[allow(clippy::large_enum_variant)]
enum Mode<'s> {
    /// Fresh databases: the empty one, and with data the one holding generated rows.
    Fresh {
        schema: SchemaReplay<'s>,
        data: Option<DataReplay<'s>>,
    },
    /// The copy of a real database at `path`, which was at version `at`.
    Upgrade {
        data: DataReplay<'s>,
        path: PathBuf,
        at: Option<Version>,
    },
}

/// What became of one migration.
struct Outcome {
    /// Whether it applied: nothing after it can be checked when it did not.
    applied: bool,
    down: Down,
    data: Option<StepData>,
}

impl<'s> Mode<'s> {
    fn new(settings: &'s Settings) -> Result<Self> {
        if let Some(path) = &settings.upgrade {
            let (data, at) = upgrade::start(settings, path)?;
            return Ok(Mode::Upgrade {
                data,
                path: path.clone(),
                at,
            });
        }
        let data = match &settings.data {
            Some(options) => Some(DataReplay::generated(settings, options)?),
            None => None,
        };
        Ok(Mode::Fresh {
            schema: SchemaReplay::new(settings)?,
            data,
        })
    }

    /// The migrations to check: all of them, or those the real database has not had.
    fn pending<'m>(&self, settings: &'m Settings) -> Vec<&'m Migration> {
        let at = match self {
            Mode::Fresh { .. } => None,
            Mode::Upgrade { at, .. } => *at,
        };
        settings
            .migrations
            .iter()
            .filter(|m| at.is_none_or(|at| m.version() > at))
            .collect()
    }

    /// Applies `migration` and checks it, adding what fails to `findings`.
    fn step(
        &mut self,
        settings: &Settings,
        migration: &Migration,
        findings: &mut Vec<Finding>,
    ) -> Result<Outcome> {
        match self {
            Mode::Fresh { schema, data } => {
                let step = schema.step(migration, findings)?;
                let data = match data {
                    Some(data) if step.applied => {
                        Some(data.step(migration, Some(&schema.db), findings)?.data)
                    }
                    _ => None,
                };
                Ok(Outcome {
                    applied: step.applied,
                    down: step.down,
                    data,
                })
            }
            Mode::Upgrade { data, .. } => {
                let step = data.step(migration, None, findings)?;
                let down = match settings.migrations.down_script(migration.version()) {
                    None => Down::Missing,
                    Some(script) if script.is_irreversible() => Down::Irreversible,
                    Some(_) if !step.applied => Down::NotChecked,
                    Some(_) if findings.iter().any(|f| f.check.of_down_script()) => Down::Fails,
                    Some(_) => Down::Reverses,
                };
                Ok(Outcome {
                    applied: step.applied,
                    down,
                    data: Some(step.data),
                })
            }
        }
    }
}

/// The replay of `settings`. Findings are in the report; an error is trouble that stopped
/// it (a file that cannot be written, a database that cannot be opened, bad input).
pub(crate) fn run(
    settings: &Settings,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<ReplayReport> {
    settings.migrations.require_steps("replay")?;
    let migrations = &settings.migrations;
    let mut mode = Mode::new(settings)?;
    let pending = mode.pending(settings);
    let mut steps: Vec<StepReport> = Vec::with_capacity(pending.len());
    let mut stop: Option<Stop> = None;
    let mut acknowledgements = Acknowledgements::new(settings);
    for migration in &pending {
        if stop.is_some() {
            steps.push(settings.unchecked(migration));
            continue;
        }
        let mut findings = Vec::new();
        let outcome = mode.step(settings, migration, &mut findings)?;
        acknowledgements.acknowledge(&mut findings);
        if !outcome.applied {
            stop = Some(Stop::DoesNotApply);
        } else if settings.fail_fast && findings.iter().any(Finding::fails) {
            stop = Some(Stop::FailFast);
        }
        let report = StepReport {
            migration: migrations.name_of(migration),
            version: migration.version(),
            file: migrations.file(migration.version()).map(ToOwned::to_owned),
            down: outcome.down,
            data: outcome.data,
            findings,
            checked: true,
        };
        progress(Progress {
            done: steps.len() + 1,
            total: pending.len(),
            step: &report,
        });
        steps.push(report);
    }

    let mut report = ReplayReport {
        steps,
        latest: None,
        whole_set: false,
        upgraded: None,
        stopped_early: matches!(stop, Some(Stop::FailFast)),
        origin: migrations.dir().map(ToOwned::to_owned),
        scripts: None,
    };
    match &mut mode {
        Mode::Upgrade { path, at, .. } => {
            // refinery's `V3`; sqlx's and diesel's migrations as their library names them.
            let at = at.map(|v| match migrations.layout() {
                Some(Layout::Refinery) | None => format!("V{v}"),
                Some(_) => migrations.label(v).unwrap_or_else(|| format!("V{v}")),
            });
            report.upgraded = Some((path.clone(), at));
        }
        Mode::Fresh { schema, data } => {
            report.scripts = data.as_ref().and_then(|d| d.scripts.folder());
            if let (None, Some(last)) = (&stop, pending.last()) {
                let mut findings: Vec<Finding> = Vec::new();
                report.whole_set = schema.check_whole_set(last, &mut findings)?;
                if let Some(data) = data {
                    report.latest = Some(data.check_latest(last, &mut findings)?);
                    report.scripts = data.scripts.folder();
                }
                if let Some(step) = report.steps.last_mut() {
                    step.findings.extend(findings);
                }
            }
        }
    }
    for (step, migration) in report.steps.iter_mut().zip(&pending) {
        if step.checked {
            acknowledgements.acknowledge(&mut step.findings);
            let notes = acknowledgements.notes(settings, migration, step);
            step.findings.extend(notes);
        }
    }
    Ok(report)
}

/// Why the loop stopped checking.
enum Stop {
    /// A migration did not apply (to the empty database, or to the real one): nothing
    /// after it can be checked.
    DoesNotApply,
    /// `fail_fast`, after a finding.
    FailFast,
}
