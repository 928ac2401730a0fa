//! The replay loop: every migration in turn on a schema-only database stepping forward,
//! with its down script and, with data, its checks over generated rows; then the whole set
//! at once and once more.

use refinery::Migration;

use super::data_step::DataStep;
use super::report::{Down, Progress, ReplayReport, StepReport};
use super::settings::Settings;
use crate::migrations::{history, runner};
use crate::schema::integrity::{foreign_key_problems, integrity_problems};
use crate::{Error, Migrations, Result, TestDb, Version};

/// The replay of `settings`: with [`Settings::data`], the checks with generated rows too.
pub(crate) fn run(
    settings: &Settings,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<ReplayReport> {
    let migrations = &settings.migrations;
    // `db` holds the schema only, stepping forward; with data, each step copies it into
    // `work` at n-1 and fills that.
    let db = settings.scratch()?;
    let work = match &settings.data {
        Some(options) => Some((options, settings.scratch()?)),
        None => None,
    };
    let mut before = db.schema()?;
    let mut previous: Option<Version> = None;
    let mut steps = Vec::with_capacity(migrations.len());

    for migration in migrations.iter() {
        let version = migration.version();
        let at_previous = match work {
            Some(_) => Some(db.snapshot()?),
            None => None,
        };
        db.migrate_to(version)?;
        check_clean(&db, migrations, migration)?;
        let after = db.schema()?;

        let down = match migrations.down_script(version) {
            None => Down::Missing,
            Some(script) if script.is_irreversible() => Down::Irreversible,
            Some(_) => {
                let below = previous.unwrap_or_else(|| version.saturating_sub(1));
                db.rollback_to(below)?;
                let undone = db.schema()?;
                if undone != before {
                    return Err(failure(
                        migrations,
                        migration,
                        "up then down must leave no trace",
                        before.diff_labeled(&undone, "before up", "after up and down"),
                    ));
                }
                db.migrate_to(version).map_err(|e| {
                    failure(
                        migrations,
                        migration,
                        "up again after down must apply",
                        e.with_causes(),
                    )
                })?;
                let redone = db.schema()?;
                if redone != after {
                    return Err(failure(
                        migrations,
                        migration,
                        "up again after down must give the same schema",
                        after.diff_labeled(&redone, "first up", "up after down"),
                    ));
                }
                Down::Reverses
            }
        };
        let data = match (&work, &at_previous) {
            (Some((options, work)), Some(snapshot)) => {
                let step = DataStep {
                    settings,
                    options,
                    work,
                    migration,
                    previous,
                };
                Some(step.check(snapshot, down)?)
            }
            _ => None,
        };
        let step = StepReport {
            migration: migration.to_string(),
            version,
            file: migrations.file(version).map(ToOwned::to_owned),
            down,
            data,
        };
        progress(Progress {
            done: steps.len() + 1,
            total: migrations.len(),
            step: &step,
        });
        steps.push(step);
        before = after;
        previous = Some(version);
    }

    let Some(last) = migrations.iter().last() else {
        return Ok(ReplayReport {
            steps,
            latest: None,
        });
    };
    let stepwise = before;
    let at_once = settings.scratch()?;
    let mut conn = at_once.connect()?;
    runner::run(&mut conn, migrations, last.version(), at_once.path())?;
    drop(conn);
    let all = at_once.schema()?;
    if all != stepwise {
        return Err(failure(
            migrations,
            last,
            "step by step must give the schema of all at once",
            all.diff_labeled(&stepwise, "all at once", "step by step"),
        ));
    }

    let history_before = history(&at_once)?;
    let mut conn = at_once.connect()?;
    runner::run(&mut conn, migrations, last.version(), at_once.path())?;
    drop(conn);
    let rerun = at_once.schema()?;
    if rerun != all || history(&at_once)? != history_before {
        return Err(failure(
            migrations,
            last,
            "running the runner again must change nothing",
            all.diff_labeled(&rerun, "first run", "second run"),
        ));
    }

    let latest = match &work {
        Some((options, work)) => {
            let step = DataStep {
                settings,
                options,
                work,
                migration: last,
                previous: Some(last.version()),
            };
            Some(step.fill_latest(&db.snapshot()?)?)
        }
        None => None,
    };
    Ok(ReplayReport { steps, latest })
}

/// `PRAGMA integrity_check` and `PRAGMA foreign_key_check` after `migration`.
fn check_clean(db: &TestDb, migrations: &Migrations, migration: &Migration) -> Result<()> {
    let conn = db.connect()?;
    let integrity = integrity_problems(&conn).map_err(|e| Error::sqlite("check", db.path(), e))?;
    if !integrity.is_empty() {
        return Err(failure(
            migrations,
            migration,
            "PRAGMA integrity_check must be ok",
            integrity.join("\n"),
        ));
    }
    let foreign_keys = foreign_key_problems(&conn);
    if !foreign_keys.is_empty() {
        return Err(failure(
            migrations,
            migration,
            "PRAGMA foreign_key_check must find nothing",
            foreign_keys.join("\n"),
        ));
    }
    Ok(())
}

/// refinery's history: every applied version with its checksum.
fn history(db: &TestDb) -> Result<Vec<(Version, u64)>> {
    Ok(history::applied(&mut db.connect()?, db.path())?
        .iter()
        .map(|m| (m.version(), m.checksum()))
        .collect())
}

fn failure(
    migrations: &Migrations,
    migration: &Migration,
    check: &'static str,
    detail: String,
) -> Error {
    Error::Replay {
        migration: migration.to_string(),
        file: migrations.file(migration.version()).map(ToOwned::to_owned),
        check,
        detail,
    }
}
