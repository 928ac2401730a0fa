//! Running migrations with refinery, naming the migration that failed and its file, which
//! refinery's own error does not.

use std::path::Path;

use refinery::{Migration, Runner, Target};
use rusqlite::Connection;

use super::history;
use super::set::Migrations;
use super::version::Version;
use crate::{Error, Result};

/// Runs `migrations` up to `target` on `conn` with refinery. A failure names the migration
/// that failed and its file, which refinery's own error does not.
pub(crate) fn run(
    conn: &mut Connection,
    migrations: &Migrations,
    target: Version,
    path: &Path,
) -> Result<()> {
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
    let applied = history::last_applied(conn, path).ok().flatten();
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
