//! The history tables: refinery's `refinery_schema_history`, sqlx's `_sqlx_migrations`
//! and diesel's `__diesel_schema_migrations`, each read and written as its library does,
//! and the one reader of them.

use std::path::Path;

use refinery::Migration;
use rusqlite::Connection;

use super::layout::Layout;
use super::library::Record;
use super::set::Migrations;
use crate::error::{Error, Result};
use crate::version::Version;

/// refinery's history table (its default name, which refinery's runner uses unless told
/// otherwise).
pub(crate) const HISTORY_TABLE: &str = "refinery_schema_history";

/// Every library's history table: refinery's, diesel's and sqlx's.
#[cfg(feature = "check")]
pub(crate) const HISTORY_TABLES: [&str; 3] = [
    HISTORY_TABLE,
    "__diesel_schema_migrations",
    "_sqlx_migrations",
];

/// Whether `name` is one of the libraries' history tables, which schemas leave out.
pub(crate) fn is_history_table(name: &str) -> bool {
    Layout::ALL
        .iter()
        .any(|l| name.eq_ignore_ascii_case(l.history_table()))
}

/// Whether the database of `conn` has the history table of the set's library.
pub(crate) fn exists(conn: &Connection, path: &Path, migrations: &Migrations) -> Result<bool> {
    table_exists(conn, path, layout_of(migrations).history_table())
}

fn table_exists(conn: &Connection, path: &Path, table: &str) -> Result<bool> {
    conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [table],
        |r| r.get(0),
    )
    .map_err(|e| Error::sqlite("read the schema of", path, e))
}

fn layout_of(migrations: &Migrations) -> Layout {
    migrations.layout().unwrap_or(Layout::Refinery)
}

/// The migrations recorded as applied in the database of `conn` (at `path`), ordered by
/// version; empty when the database has no history table yet.
///
/// For sqlx and diesel, each row is matched to the set's migration with the library's
/// version. A sqlx row whose checksum differs comes back with other SQL (so its refinery
/// checksum differs too); a row of a version the set does not have comes back numbered
/// after the set's latest.
pub(crate) fn applied(
    conn: &mut Connection,
    path: &Path,
    migrations: &Migrations,
) -> Result<Vec<Migration>> {
    let layout = layout_of(migrations);
    if !exists(conn, path, migrations)? {
        return Ok(Vec::new());
    }
    if layout == Layout::Refinery {
        let mut applied = refinery::Runner::new(&[])
            .get_applied_migrations(conn)
            .map_err(|e| Error::Refinery {
                op: "read migration history of",
                path: path.to_path_buf(),
                source: e,
            })?;
        applied.sort_by_key(Migration::version);
        return Ok(applied);
    }
    let rows = library_rows(conn, layout)
        .map_err(|e| Error::sqlite("read migration history of", path, e))?;
    let mut unknown = migrations.latest();
    let mut applied = Vec::with_capacity(rows.len());
    for (version_text, checksum) in rows {
        let known = migrations
            .version_of(&version_text)
            .and_then(|v| Some((v, migrations.get(v)?, migrations.record(v)?)));
        let migration = match known {
            Some((_, m, Record::Sqlx { checksum: ours, .. }))
                if Some(ours) != checksum.as_ref() =>
            {
                Migration::unapplied(&m.to_string(), "-- changed after it was applied")
            }
            Some((_, m, _)) => Ok(m.clone()),
            None => {
                unknown = unknown.saturating_add(1);
                Migration::unapplied(&format!("V{unknown}__not_in_the_migrations"), "")
            }
        };
        let migration = migration.map_err(|e| Error::Refinery {
            op: "read migration history of",
            path: path.to_path_buf(),
            source: e,
        })?;
        applied.push(migration);
    }
    applied.sort_by_key(Migration::version);
    Ok(applied)
}

/// The library's rows: the version as text and, for sqlx, the checksum.
fn library_rows(
    conn: &Connection,
    layout: Layout,
) -> rusqlite::Result<Vec<(String, Option<Vec<u8>>)>> {
    match layout {
        Layout::Sqlx => conn
            .prepare(
                "SELECT version, checksum FROM _sqlx_migrations WHERE success ORDER BY version",
            )?
            .query_map([], |r| {
                Ok((r.get::<_, i64>(0)?.to_string(), Some(r.get(1)?)))
            })?
            .collect(),
        Layout::Diesel => conn
            .prepare("SELECT version FROM __diesel_schema_migrations ORDER BY version")?
            .query_map([], |r| Ok((r.get::<_, String>(0)?, None)))?
            .collect(),
        Layout::Refinery => Ok(Vec::new()),
    }
}

/// The highest applied version; `None` when nothing is applied or the table does not exist
/// yet.
pub(crate) fn last_applied(
    conn: &mut Connection,
    path: &Path,
    migrations: &Migrations,
) -> Result<Option<Version>> {
    Ok(applied(conn, path, migrations)?
        .last()
        .map(Migration::version))
}

/// Creates the history table of sqlx or diesel when it is missing, with the columns the
/// library gives it.
pub(crate) fn ensure(conn: &Connection, migrations: &Migrations) -> rusqlite::Result<()> {
    match layout_of(migrations) {
        Layout::Sqlx => conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS _sqlx_migrations (version BIGINT PRIMARY KEY, \
             description TEXT NOT NULL, \
             installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, \
             success BOOLEAN NOT NULL, checksum BLOB NOT NULL, execution_time BIGINT NOT NULL);",
        ),
        Layout::Diesel => conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS __diesel_schema_migrations (\
             version VARCHAR(50) PRIMARY KEY NOT NULL, \
             run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);",
        ),
        Layout::Refinery => Ok(()),
    }
}

/// Records `version` as applied, inside the caller's transaction when the library uses one:
/// sqlx's row with its description and checksum (execution time -1, as sqlx writes it
/// before it measures), diesel's version string.
pub(crate) fn record(
    conn: &Connection,
    migrations: &Migrations,
    version: Version,
) -> rusqlite::Result<()> {
    match migrations.record(version) {
        Some(Record::Sqlx {
            version,
            description,
            checksum,
            ..
        }) => conn
            .execute(
                "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
                 VALUES (?1, ?2, TRUE, ?3, -1)",
                rusqlite::params![version, description, checksum],
            )
            .map(drop),
        Some(Record::Diesel { version, .. }) => conn
            .execute(
                "INSERT INTO __diesel_schema_migrations (version) VALUES (?1)",
                [version],
            )
            .map(drop),
        Some(Record::Refinery) | None => Ok(()),
    }
}

/// Writes the time a sqlx migration took, after its transaction, as sqlx does.
pub(crate) fn record_time(
    conn: &Connection,
    migrations: &Migrations,
    version: Version,
    nanos: i64,
) -> rusqlite::Result<()> {
    if let Some(Record::Sqlx { version, .. }) = migrations.record(version) {
        conn.execute(
            "UPDATE _sqlx_migrations SET execution_time = ?1 WHERE version = ?2",
            rusqlite::params![nanos, version],
        )?;
    }
    Ok(())
}

/// Removes `version` from the history, inside the caller's transaction: its down script
/// ran.
pub(crate) fn forget(
    conn: &Connection,
    migrations: &Migrations,
    version: Version,
) -> rusqlite::Result<()> {
    match migrations.record(version) {
        Some(Record::Sqlx { version, .. }) => conn
            .execute("DELETE FROM _sqlx_migrations WHERE version = ?1", [version])
            .map(drop),
        Some(Record::Diesel { version, .. }) => conn
            .execute(
                "DELETE FROM __diesel_schema_migrations WHERE version = ?1",
                [version],
            )
            .map(drop),
        Some(Record::Refinery) | None => conn
            .execute(
                &format!("DELETE FROM {HISTORY_TABLE} WHERE version = ?1"),
                [version],
            )
            .map(drop),
    }
}
