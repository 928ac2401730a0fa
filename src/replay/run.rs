//! The replay loop: every migration in turn, on the empty database stepping forward and,
//! with data, on the database holding rows; each one's findings kept, so a failure at one
//! version does not hide the others. Then the whole set at once, and once more.

use super::data_steps::DataReplay;
use super::schema_steps::SchemaReplay;
use super::settings::Settings;
use super::upgrade;
use crate::Result;
use crate::report::{Finding, Progress, ReplayReport, StepReport};

/// The replay of `settings`. Findings are in the report; an error is trouble that stopped
/// it (a file that cannot be written, a database that cannot be opened, bad input).
pub(crate) fn run(
    settings: &Settings,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<ReplayReport> {
    settings.migrations.require_steps("replay")?;
    if let Some(path) = &settings.upgrade {
        return upgrade::run(settings, path, progress);
    }
    let migrations = &settings.migrations;
    let mut schema = SchemaReplay::new(settings)?;
    let mut data = match &settings.data {
        Some(options) => Some(DataReplay::generated(settings, options)?),
        None => None,
    };
    let mut steps: Vec<StepReport> = Vec::with_capacity(migrations.len());
    let mut stop: Option<Stop> = None;
    for migration in migrations.iter() {
        if stop.is_some() {
            steps.push(settings.unchecked(migration));
            continue;
        }
        let mut findings = Vec::new();
        let step = schema.step(migration, &mut findings)?;
        let outcome = if step.applied {
            match &mut data {
                Some(data) => Some(data.step(migration, Some(&schema.db), &mut findings)?),
                None => None,
            }
        } else {
            stop = Some(Stop::DoesNotApply);
            None
        };
        if settings.fail_fast && !findings.is_empty() {
            stop.get_or_insert(Stop::FailFast);
        }
        let report = StepReport {
            migration: migrations.name_of(migration),
            version: migration.version(),
            file: migrations.file(migration.version()).map(ToOwned::to_owned),
            down: step.down,
            data: outcome.map(|o| o.data),
            findings,
            checked: true,
        };
        progress(Progress {
            done: steps.len() + 1,
            total: migrations.len(),
            step: &report,
        });
        steps.push(report);
    }

    let mut whole_set = false;
    let mut latest = None;
    if let (None, Some(last)) = (&stop, migrations.iter().last()) {
        let mut findings: Vec<Finding> = Vec::new();
        whole_set = schema.check_whole_set(last, &mut findings)?;
        if let Some(data) = &mut data {
            latest = Some(data.check_latest(last, &mut findings)?);
        }
        if let Some(step) = steps.last_mut() {
            step.findings.extend(findings);
        }
    }
    Ok(ReplayReport {
        steps,
        latest,
        whole_set,
        upgraded: None,
        stopped_early: matches!(stop, Some(Stop::FailFast)),
    })
}

/// Why the loop stopped checking.
enum Stop {
    /// A migration did not apply to the empty database: nothing after it can be checked.
    DoesNotApply,
    /// `fail_fast`, after a finding.
    FailFast,
}
