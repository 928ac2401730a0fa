//! Rollback: the down scripts of applied migrations run newest first, each with its
//! history row removed in one transaction.

use std::path::Path;

use refinery::Migration;
use rusqlite::Connection;

use super::down_script::DownScript;
use super::history;
use super::set::Migrations;
use crate::error::{Error, Result};
use crate::version::Version;

/// Undoes every migration applied to the database at `path` above `version`, newest first,
/// each in one transaction on a new connection from `open`. `version` is one of the set's
/// versions, or any version below the first to undo everything. Every down script needed
/// is checked before any runs.
pub(crate) fn rollback_to(
    migrations: &Migrations,
    version: Version,
    path: &Path,
    open: impl Fn() -> Result<Connection>,
) -> Result<()> {
    migrations.require_steps("rollback_to")?;
    let scripts = plan(migrations, version, path, &mut open()?)?;
    for (version, migration, down) in scripts {
        run_down_script(&mut open()?, migrations, version, &migration, down)?;
    }
    Ok(())
}

/// [`rollback_to`] on one connection, `conn`, as an application would run them.
#[cfg(feature = "check")]
pub(crate) fn rollback_on(
    conn: &mut Connection,
    migrations: &Migrations,
    version: Version,
    path: &Path,
) -> Result<()> {
    for (version, migration, down) in plan(migrations, version, path, conn)? {
        run_down_script(conn, migrations, version, &migration, down)?;
    }
    Ok(())
}

/// The down scripts that take the database of `conn` (at `path`) down to `version`, newest
/// first; an error before any runs when one is missing or the database is below `version`.
fn plan<'m>(
    migrations: &'m Migrations,
    version: Version,
    path: &Path,
    conn: &mut Connection,
) -> Result<Vec<(Version, String, &'m DownScript)>> {
    let below_first = migrations.versions().next().is_some_and(|f| version < f);
    if !below_first {
        migrations.check_version(version)?;
    }
    let applied = history::applied(conn, path, migrations)?;
    let current = applied.last().map(Migration::version);
    if current.is_none_or(|c| c < version) && !(current.is_none() && below_first) {
        return Err(Error::RollbackForwards {
            path: path.to_path_buf(),
            current,
            requested: version,
        });
    }
    applied
        .iter()
        .rev()
        .filter(|m| m.version() > version)
        .map(|applied| down_script_of(migrations, applied))
        .collect()
}

/// The down script that undoes `applied`, with its version and name; an error naming the
/// migration when it has none or only comments.
fn down_script_of<'m>(
    migrations: &'m Migrations,
    applied: &Migration,
) -> Result<(Version, String, &'m DownScript)> {
    let version = applied.version();
    let name = migrations
        .label(version)
        .unwrap_or_else(|| applied.to_string());
    match migrations.down_script(version) {
        Some(down) if !down.is_irreversible() => Ok((version, name, down)),
        down => Err(Error::MissingDownScript {
            migration: name,
            expected: down
                .and_then(|d| d.path().map(Path::to_path_buf))
                .or_else(|| migrations.expected_down_path(version)),
            irreversible: down.is_some(),
        }),
    }
}

/// Runs one down script and removes its migration from the history, in one transaction.
fn run_down_script(
    conn: &mut Connection,
    migrations: &Migrations,
    version: Version,
    migration: &str,
    down: &DownScript,
) -> Result<()> {
    let failed = |e| Error::DownScript {
        migration: migration.to_owned(),
        file: down.path().map(Path::to_path_buf),
        source: e,
    };
    let tx = conn.transaction().map_err(failed)?;
    tx.execute_batch(down.sql()).map_err(failed)?;
    history::forget(&tx, migrations, version).map_err(failed)?;
    tx.commit().map_err(failed)
}
