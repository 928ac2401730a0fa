//! The upgrade of a real database, checked on a copy: its refinery history read and
//! matched against the migrations; the replay loop then applies every pending migration to
//! the copy, one at a time, with the checks over rows after each.

use std::path::Path;

use super::data_steps::DataReplay;
use super::settings::Settings;
use crate::error::{Error, Result};
use crate::migrations::Migrations;
use crate::migrations::history;
use crate::testdb::TestDb;
use crate::version::Version;

/// Copies `path` (never opened itself), reads the copy's version from its history, and
/// starts the checks over its rows at that version.
pub(crate) fn start<'s>(
    settings: &'s Settings,
    path: &Path,
) -> Result<(DataReplay<'s>, Option<Version>)> {
    let copy = TestDb::copy_of(path, &settings.migrations, &settings.connect)?;
    let current = version_of(&copy, path, &settings.migrations)?;
    Ok((DataReplay::upgrade(settings, copy, current)?, current))
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
                .unwrap_or(crate::migrations::Layout::Refinery)
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
