//! Where a test database lives (a folder of its own, a shared folder, memory), and what is
//! removed or kept when it goes.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::Connection;
use tempfile::TempDir;
use uuid::Uuid;

use crate::{Error, Result};

/// Where a [`Builder`](super::Builder) puts a test database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Placement {
    /// A new folder of its own, in the system temp folder or the folder given to `build_in`.
    #[default]
    OwnFolder,
    /// Straight in one folder shared with other test databases.
    SharedFolder,
    /// In memory, no file.
    InMemory,
}

impl Placement {
    /// The builder method that asks for this placement, for error messages.
    pub(crate) fn setting(self) -> &'static str {
        match self {
            Placement::OwnFolder => "a folder of its own (the default)",
            Placement::SharedFolder => "shared_folder()",
            Placement::InMemory => "in_memory()",
        }
    }
}

/// A test database's files, or its in-memory connection, while its `TestDb` owns them.
pub(crate) enum Storage {
    /// A file in a folder of its own; `None` once kept or removed.
    File(Option<TempDir>),
    /// A file in a folder shared with other databases: the file and SQLite's `-wal`, `-shm`
    /// and `-journal` files beside it; `false` once kept or removed.
    SharedFolder(bool),
    /// An in-memory database (SQLite's `memdb` VFS, shared by the connections of this
    /// process that open its name), alive while this connection is open; `None` once kept
    /// or closed.
    Memory(Option<Mutex<Connection>>),
}

impl Storage {
    /// A new private folder in `parent`, and the path of the database file to put in it.
    pub(crate) fn own_folder(parent: &Path) -> Result<(Storage, PathBuf)> {
        let (dir, path) = new_folder(parent)?;
        Ok((Storage::File(Some(dir)), path))
    }

    /// A new database file's path straight in `folder`.
    pub(crate) fn in_shared_folder(folder: &Path) -> (Storage, PathBuf) {
        (
            Storage::SharedFolder(true),
            folder.join(database_file_name()),
        )
    }

    /// An in-memory database kept alive by `keeper`, and the URI that names it.
    pub(crate) fn memory(keeper: Connection) -> Storage {
        Storage::Memory(Some(Mutex::new(keeper)))
    }

    /// A new in-memory database's name in the `memdb` VFS, as a `file:` URI.
    pub(crate) fn memory_uri() -> String {
        format!(
            "file:/sqlite-testdb-{}.sqlite?vfs=memdb",
            Uuid::now_v7().simple()
        )
    }

    /// Keeps the files of the database at `path`, unless they were kept or removed already
    /// (`None`), and returns the path to open: the file itself, or for an in-memory database
    /// a file it is written to now, in a new temp folder.
    pub(crate) fn keep(&mut self, path: &Path) -> Result<Option<PathBuf>> {
        match self {
            Storage::File(dir) => Ok(dir.take().map(|dir| {
                let _ = dir.keep();
                path.to_path_buf()
            })),
            Storage::SharedFolder(owned) => Ok(std::mem::take(owned).then(|| path.to_path_buf())),
            Storage::Memory(conn) => match conn.take().map(Mutex::into_inner) {
                Some(Ok(conn)) => save(&conn).map(Some),
                _ => Ok(None),
            },
        }
    }

    /// Removes the files of the database at `path` now, unless they were kept or removed
    /// already: its folder, or in a shared folder the file and SQLite's files beside it. An
    /// in-memory database has none: it goes when its last connection closes.
    pub(crate) fn remove(&mut self, path: &Path) -> Result<()> {
        match self {
            Storage::File(dir) => match dir.take() {
                Some(dir) => {
                    let folder = dir.path().to_path_buf();
                    dir.close()
                        .map_err(|e| Error::io("remove test database folder", folder, e))
                }
                None => Ok(()),
            },
            Storage::SharedFolder(owned) => {
                if std::mem::take(owned) {
                    remove_database_files(path)
                } else {
                    Ok(())
                }
            }
            Storage::Memory(_) => Ok(()),
        }
    }

    /// Closes the in-memory database's own connection, reporting SQLite's error; for a file,
    /// [`remove`](Self::remove).
    pub(crate) fn close(&mut self, path: &Path) -> Result<()> {
        match self {
            Storage::Memory(conn) => match conn.take().map(Mutex::into_inner) {
                Some(Ok(conn)) => conn
                    .close()
                    .map_err(|(_, e)| Error::sqlite("close", path, e)),
                _ => Ok(()),
            },
            _ => self.remove(path),
        }
    }

    /// Whether the database is in memory.
    pub(crate) fn is_memory(&self) -> bool {
        matches!(self, Storage::Memory(_))
    }
}

/// Removes the database file `path` and the files SQLite keeps beside it: its `-wal`,
/// `-shm` and `-journal` files, where they exist.
fn remove_database_files(path: &Path) -> Result<()> {
    let mut result = Ok(());
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        let file = PathBuf::from(file);
        match std::fs::remove_file(&file) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound && result.is_ok() => {
                result = Err(Error::io("remove test database file", file, e));
            }
            _ => {}
        }
    }
    result
}

/// Writes an in-memory database to a file in a new temp folder that is kept.
fn save(conn: &Connection) -> Result<PathBuf> {
    let (dir, path) = new_folder(&std::env::temp_dir())?;
    // The progress type names the callback: rusqlite 0.41 takes any `Fn(Progress)`.
    conn.backup(
        rusqlite::MAIN_DB,
        &path,
        None::<fn(rusqlite::backup::Progress)>,
    )
    .map_err(|e| Error::sqlite("write in-memory database to", &path, e))?;
    let _ = dir.keep();
    Ok(path)
}

/// A new private folder in `parent`, and the path of the database file to put in it.
fn new_folder(parent: &Path) -> Result<(TempDir, PathBuf)> {
    let dir = tempfile::Builder::new()
        .prefix("sqlite-testdb-")
        .tempdir_in(parent)
        .map_err(|e| Error::io("create test database folder in", parent, e))?;
    let path = dir.path().join(database_file_name());
    Ok((dir, path))
}

/// A new database file's name: a UUID v7, so names sort by creation time.
fn database_file_name() -> String {
    format!("{}.sqlite", Uuid::now_v7().simple())
}

/// `path` as a `file:` URI: `?`, `#`, `%` and every byte outside ASCII's letters, digits and
/// `/-._~:` percent-encoded, as SQLite's URI filenames want.
pub(crate) fn file_uri(path: &Path) -> String {
    #[cfg(unix)]
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str()).to_vec();
    #[cfg(not(unix))]
    let bytes = path.to_string_lossy().replace('\\', "/").into_bytes();
    let mut uri = String::from("file:");
    if !bytes.starts_with(b"/") {
        uri.push('/');
    }
    for byte in bytes {
        if byte.is_ascii_alphanumeric() || b"/-._~:".contains(&byte) {
            uri.push(char::from(byte));
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_uri_escapes_what_sqlite_reads_as_uri_syntax() {
        assert_eq!(
            file_uri(Path::new("/tmp/a b/x?y#z%.sqlite")),
            "file:/tmp/a%20b/x%3Fy%23z%25.sqlite"
        );
    }
}
