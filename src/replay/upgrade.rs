//! The upgrade of a real database, checked on a copy: its refinery history read and
//! matched against the migrations, then every pending migration applied to the copy, one at
//! a time, with the checks over rows after each.

use std::path::Path;

use super::data_steps::DataReplay;
use super::settings::Settings;
use crate::migrations::history;
use crate::report::{Down, Progress, ReplayReport, StepReport};
use crate::{Error, Migrations, Result, TestDb, Version};

/// Copies `path` (never opened itself), and checks the upgrade of the copy to the latest
/// version.
pub(crate) fn run(
    settings: &Settings,
    path: &Path,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<ReplayReport> {
    let migrations = &settings.migrations;
    let copy = TestDb::copy_of(path, migrations, &settings.connect)?;
    let current = version_of(&copy, path, migrations)?;
    let mut data = DataReplay::upgrade(settings, copy, current)?;
    let pending: Vec<_> = migrations
        .iter()
        .filter(|m| current.is_none_or(|c| m.version() > c))
        .collect();
    let mut steps: Vec<StepReport> = Vec::with_capacity(pending.len());
    let mut stopped = false;
    let mut stopped_early = false;
    for migration in &pending {
        if stopped {
            steps.push(settings.unchecked(migration));
            continue;
        }
        let mut findings = Vec::new();
        let step = data.step(migration, None, &mut findings)?;
        let version = migration.version();
        let down = match migrations.down_script(version) {
            None => Down::Missing,
            Some(script) if script.is_irreversible() => Down::Irreversible,
            Some(_) if !step.applied => Down::NotChecked,
            Some(_) if findings.iter().any(|f| f.check.starts_with("down script")) => Down::Fails,
            Some(_) => Down::Reverses,
        };
        stopped = !step.applied || (settings.fail_fast && !findings.is_empty());
        stopped_early = stopped && step.applied;
        let report = StepReport {
            migration: migrations.name_of(migration),
            version,
            file: migrations.file(version).map(ToOwned::to_owned),
            down,
            data: Some(step.data),
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
    Ok(ReplayReport {
        steps,
        latest: None,
        whole_set: false,
        upgraded: Some((path.to_path_buf(), current)),
        stopped_early,
    })
}

/// The version of the database `copy` (a copy of `original`, which errors name) from its
/// refinery history, which must match `migrations`.
fn version_of(copy: &TestDb, original: &Path, migrations: &Migrations) -> Result<Option<Version>> {
    // A plain read of the copy first: the test settings would fail on a file that is not a
    // database with a message about them.
    rusqlite::Connection::open_with_flags(copy.path(), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .and_then(|plain| {
            plain.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
                r.get::<_, i64>(0)
            })
        })
        .map_err(|source| Error::NotADatabase {
            path: original.to_path_buf(),
            source,
        })?;
    let mut conn = copy.connect()?;
    if !history::exists(&conn, original, migrations)? {
        return Err(Error::NoHistory {
            path: original.to_path_buf(),
            table: migrations
                .layout()
                .unwrap_or(crate::Layout::Refinery)
                .history_table(),
        });
    }
    let applied = history::applied(&mut conn, original, migrations)?;
    let Some(current) = applied.last().map(refinery::Migration::version) else {
        return Ok(None);
    };
    let latest = migrations.latest();
    if current > latest {
        return Err(Error::NewerDatabase {
            path: original.to_path_buf(),
            version: current,
            latest,
        });
    }
    let mut mismatches = Vec::new();
    for recorded in &applied {
        let version = recorded.version();
        match migrations.get(version) {
            None => mismatches.push(format!("{recorded}: not in the migrations")),
            Some(local) if local.name() != recorded.name() => mismatches.push(format!(
                "V{version}: named {} in the database, {} in the migrations",
                recorded.name(),
                local.name()
            )),
            Some(local) if local.checksum() != recorded.checksum() => mismatches.push(format!(
                "{recorded}: its checksum in the database ({}) differs from the migration's \
                 ({}): it was changed after it was applied",
                recorded.checksum(),
                local.checksum()
            )),
            Some(_) => {}
        }
    }
    for local in migrations.iter().filter(|m| m.version() < current) {
        if !applied.iter().any(|a| a.version() == local.version()) {
            mismatches.push(format!(
                "{local}: in the migrations but not applied to the database, which is at \
                 V{current}"
            ));
        }
    }
    if mismatches.is_empty() {
        Ok(Some(current))
    } else {
        Err(Error::HistoryMismatch {
            path: original.to_path_buf(),
            mismatches,
        })
    }
}
