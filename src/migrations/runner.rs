//! Running migrations: refinery's with refinery, sqlx's and diesel's as their library runs
//! them (each with its history row, in one transaction unless the migration opts out), a
//! migration function once; a failure names the migration and its file, which refinery's
//! own error does not.

use std::path::Path;
use std::time::Instant;

use refinery::{Migration, Runner, Target};
use refinery_core::error::WrapMigrationError;
use rusqlite::Connection;

use super::closure;
use super::history;
use super::layout::Layout;
use super::set::Migrations;
use crate::error::{Error, Result};
use crate::version::Version;

/// Runs `migrations` up to `target` on `conn` with refinery. A failure names the migration
/// that failed and its file, which refinery's own error does not.
pub(crate) fn run(
    conn: &mut Connection,
    migrations: &Migrations,
    target: Version,
    path: &Path,
) -> Result<()> {
    if migrations.layout().is_none() {
        if target != migrations.latest() {
            migrations.require_steps("stopping at a version")?;
        }
        closure::run(conn, migrations, path)?;
        return Ok(());
    }
    if migrations.layout() != Some(Layout::Refinery) {
        return run_recorded(conn, migrations, target, path);
    }
    let runner = runner_to(migrations, target);
    let Err(error) = runner.run(conn) else {
        return Ok(());
    };
    let applying = matches!(error.kind(), refinery::error::Kind::Connection(msg, _) if msg.contains("applying"));
    if !applying {
        return Err(Error::Refinery {
            op: "run migrations on",
            path: path.to_path_buf(),
            source: error,
        });
    }
    let applied = history::last_applied(conn, path, migrations).ok().flatten();
    let failed = next_after(migrations, applied, target);
    Err(Error::Migration {
        migration: failed.map_or_else(|| "unknown".to_owned(), ToString::to_string),
        file: failed
            .and_then(|m| migrations.file(m.version()))
            .map(Path::to_path_buf),
        path: path.to_path_buf(),
        applied,
        source: error,
    })
}

/// Runs sqlx's or diesel's migrations up to `target` that the history table does not list,
/// each with its history row as the library writes it.
fn run_recorded(
    conn: &mut Connection,
    migrations: &Migrations,
    target: Version,
    path: &Path,
) -> Result<()> {
    history::ensure(conn, migrations)
        .map_err(|e| Error::sqlite("create the migration history table of", path, e))?;
    let applied: Vec<Version> = history::applied(conn, path, migrations)?
        .iter()
        .map(Migration::version)
        .collect();
    let mut last = applied.last().copied();
    for migration in migrations.iter() {
        let version = migration.version();
        if version > target || applied.contains(&version) {
            continue;
        }
        apply(conn, migrations, migration).map_err(|source| Error::Migration {
            migration: migrations.name_of(migration),
            file: migrations.file(version).map(Path::to_path_buf),
            path: path.to_path_buf(),
            applied: last,
            source,
        })?;
        last = Some(version);
    }
    Ok(())
}

/// Applies one migration and records it, in one transaction unless the library runs it
/// outside one (sqlx's `-- no-transaction`, diesel's `run_in_transaction = false`).
fn apply(
    conn: &mut Connection,
    migrations: &Migrations,
    migration: &Migration,
) -> std::result::Result<(), refinery::Error> {
    let version = migration.version();
    let sql = migration.sql().unwrap_or_default();
    let in_transaction = migrations.in_transaction(version);
    let started = Instant::now();
    let result = if in_transaction {
        conn.transaction().and_then(|tx| {
            tx.execute_batch(sql)?;
            history::record(&tx, migrations, version)?;
            tx.commit()
        })
    } else {
        conn.execute_batch(sql)
            .and_then(|()| history::record(conn, migrations, version))
    };
    let nanos = i64::try_from(started.elapsed().as_nanos()).unwrap_or(i64::MAX);
    result
        .and_then(|()| history::record_time(conn, migrations, version, nanos))
        .migration_err(&format!("error applying migration {migration}"), None)
}

/// A refinery runner for the whole set that stops at `target`.
fn runner_to(migrations: &Migrations, target: Version) -> Runner {
    let migrations: Vec<Migration> = migrations.iter().cloned().collect();
    Runner::new(&migrations).set_target(Target::Version(target))
}

/// The migration after the last applied one (`None`: nothing applied), up to `target`:
/// the one refinery was running when it failed.
fn next_after(
    migrations: &Migrations,
    applied: Option<Version>,
    target: Version,
) -> Option<&Migration> {
    migrations
        .iter()
        .filter(|m| m.version() <= target)
        .find(|m| applied.is_none_or(|a| m.version() > a))
}
