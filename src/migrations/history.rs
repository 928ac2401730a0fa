//! refinery's history table, `refinery_schema_history`: its name, and the one reader of it.

use std::path::Path;

use refinery::Migration;
use rusqlite::Connection;

use super::version::Version;
use crate::{Error, Result};

/// refinery's history table (its default name, which refinery's runner uses unless told
/// otherwise).
pub(crate) const HISTORY_TABLE: &str = "refinery_schema_history";

/// Whether the database of `conn` has a history table.
pub(crate) fn exists(conn: &Connection, path: &Path) -> Result<bool> {
    conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [HISTORY_TABLE],
        |r| r.get(0),
    )
    .map_err(|e| Error::sqlite("read the schema of", path, e))
}

/// The migrations recorded as applied in the database of `conn` (at `path`), read by
/// refinery, ordered by version; empty when the database has no history table yet.
pub(crate) fn applied(conn: &mut Connection, path: &Path) -> Result<Vec<Migration>> {
    if !exists(conn, path)? {
        return Ok(Vec::new());
    }
    let mut applied = refinery::Runner::new(&[])
        .get_applied_migrations(conn)
        .map_err(|e| Error::Refinery {
            op: "read migration history of",
            path: path.to_path_buf(),
            source: e,
        })?;
    applied.sort_by_key(Migration::version);
    Ok(applied)
}

/// The highest applied version; `None` when nothing is applied or the table does not exist
/// yet.
pub(crate) fn last_applied(conn: &mut Connection, path: &Path) -> Result<Option<Version>> {
    Ok(applied(conn, path)?.last().map(Migration::version))
}

/// Removes `version` from the history, inside the caller's transaction: its down script
/// ran.
pub(crate) fn forget(conn: &Connection, version: Version) -> rusqlite::Result<()> {
    conn.execute(
        &format!("DELETE FROM {HISTORY_TABLE} WHERE version = ?1"),
        [version],
    )
    .map(drop)
}
