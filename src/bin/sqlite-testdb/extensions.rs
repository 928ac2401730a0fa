//! `--load-extension`: SQLite extensions loaded into every connection, checked once first.

use std::path::{Path, PathBuf};

use rusqlite::Connection;

use crate::failure::Failure;

/// Loads every extension once into a scratch connection, so that a bad path is reported as
/// itself, before anything runs.
pub(crate) fn check_extensions(paths: &[PathBuf]) -> Result<(), Failure> {
    if paths.is_empty() {
        return Ok(());
    }
    let conn = Connection::open_in_memory().map_err(|source| Failure::Extension {
        path: paths[0].clone(),
        source,
    })?;
    for path in paths {
        load_extension(&conn, path).map_err(|source| Failure::Extension {
            path: path.clone(),
            source,
        })?;
    }
    Ok(())
}

/// The `on_connect` hook: every extension, in the order given.
pub(crate) fn load_extensions(conn: &mut Connection, paths: &[PathBuf]) -> rusqlite::Result<()> {
    paths.iter().try_for_each(|path| load_extension(conn, path))
}

#[allow(unsafe_code)]
fn load_extension(conn: &Connection, path: &Path) -> rusqlite::Result<()> {
    // SAFETY: loading a library runs its code; the user named it on the command line, which
    // is the trust `--load-extension` asks for. Extension loading is enabled only for this
    // one call (the guard disables it on drop) and no SQL runs meanwhile, so no statement
    // can call `load_extension()` itself.
    unsafe {
        let _guard = rusqlite::LoadExtensionGuard::new(conn)?;
        conn.load_extension(path, None::<&str>)
    }
}
