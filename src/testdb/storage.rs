//! Where a test database lives (a folder of its own, a shared folder, memory), and what is
//! removed or kept when it goes.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use rusqlite::Connection;
use tempfile::TempDir;
use uuid::Uuid;

use crate::error::{Error, Result};

/// Where a test database lives: a file in a folder of its own, a file in a folder shared
/// with other test databases, or memory.
///
/// The default comes from `SQLITE_TESTDB_STORAGE` (`file`, `shared` or `memory`), read once
/// per process, and is [`Storage::File`] when the variable is unset: a suite switches where
/// its databases live without a code change. [`Builder::storage`](crate::Builder::storage)
/// (or its shortcuts [`in_memory`](crate::Builder::in_memory) and
/// [`shared_folder`](crate::Builder::shared_folder)) overrides it, and
/// [`build_in`](crate::Builder::build_in) always makes a file.
///
/// # Examples
///
/// ```
/// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?])?;
/// use sqlite_testdb::{Storage, TestDb};
///
/// let db = TestDb::builder(&m).storage(Storage::Memory).build()?;
/// assert_eq!(db.file(), None);
/// let conn = rusqlite::Connection::open(db.uri())?;
/// conn.execute("INSERT INTO users DEFAULT VALUES", [])?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Storage {
    /// A file in a new folder of its own, in the system temp folder or the folder given to
    /// [`build_in`](crate::Builder::build_in). This is the default (`file`).
    #[default]
    File,
    /// A file straight in a folder shared with other test databases (`shared`): see
    /// [`Builder::shared_folder`](crate::Builder::shared_folder).
    SharedFolder,
    /// In memory, no file (`memory`): see [`Builder::in_memory`](crate::Builder::in_memory).
    Memory,
}

impl Storage {
    /// The builder method that asks for this storage, for error messages.
    pub(crate) fn setting(self) -> &'static str {
        match self {
            Storage::File => "storage(Storage::File)",
            Storage::SharedFolder => "shared_folder()",
            Storage::Memory => "in_memory()",
        }
    }
}

/// Name of the variable that sets the default [`Storage`].
const STORAGE_VAR: &str = "SQLITE_TESTDB_STORAGE";

const STORAGE_VALUES: &str = "file, shared, memory";

/// The storage from `SQLITE_TESTDB_STORAGE`, read once per process; [`Storage::File`] when
/// unset or empty.
///
/// # Errors
///
/// [`Error::Env`] when the variable holds anything else than the documented values.
pub(crate) fn from_env() -> Result<Storage> {
    static STORAGE: OnceLock<std::result::Result<Storage, String>> = OnceLock::new();
    STORAGE
        .get_or_init(|| {
            let value = std::env::var_os(STORAGE_VAR).unwrap_or_default();
            let value = value.to_string_lossy();
            parse_storage(&value).ok_or_else(|| value.into_owned())
        })
        .clone()
        .map_err(|value| Error::Env {
            var: STORAGE_VAR,
            value,
            expected: STORAGE_VALUES,
        })
}

fn parse_storage(value: &str) -> Option<Storage> {
    match value.trim().to_ascii_lowercase().as_str() {
        "" | "file" => Some(Storage::File),
        "shared" => Some(Storage::SharedFolder),
        "memory" => Some(Storage::Memory),
        _ => None,
    }
}

/// A test database's files, or its in-memory connection, while its `TestDb` owns them.
pub(crate) enum Backing {
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

impl Backing {
    /// A new private folder in `parent`, and the path of the database file to put in it.
    pub(crate) fn own_folder(parent: &Path) -> Result<(Backing, PathBuf)> {
        let (dir, path) = new_folder(parent)?;
        Ok((Backing::File(Some(dir)), path))
    }

    /// A new database file's path straight in `folder`.
    pub(crate) fn in_shared_folder(folder: &Path) -> (Backing, PathBuf) {
        (
            Backing::SharedFolder(true),
            folder.join(database_file_name()),
        )
    }

    /// An in-memory database kept alive by `keeper`, and the URI that names it.
    pub(crate) fn memory(keeper: Connection) -> Backing {
        Backing::Memory(Some(Mutex::new(keeper)))
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
            Backing::File(dir) => Ok(dir.take().map(|dir| {
                let _ = dir.keep();
                path.to_path_buf()
            })),
            Backing::SharedFolder(owned) => Ok(std::mem::take(owned).then(|| path.to_path_buf())),
            Backing::Memory(conn) => match conn.take().map(Mutex::into_inner) {
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
            Backing::File(dir) => match dir.take() {
                Some(dir) => {
                    let folder = dir.path().to_path_buf();
                    dir.close()
                        .map_err(|e| Error::io("remove test database folder", folder, e))
                }
                None => Ok(()),
            },
            Backing::SharedFolder(owned) => {
                if std::mem::take(owned) {
                    remove_database_files(path)
                } else {
                    Ok(())
                }
            }
            Backing::Memory(_) => Ok(()),
        }
    }

    /// Closes the in-memory database's own connection, reporting SQLite's error; for a file,
    /// [`remove`](Self::remove).
    pub(crate) fn close(&mut self, path: &Path) -> Result<()> {
        match self {
            Backing::Memory(conn) => match conn.take().map(Mutex::into_inner) {
                Some(Ok(conn)) => conn
                    .close()
                    .map_err(|(_, e)| Error::sqlite("close", path, e)),
                _ => Ok(()),
            },
            _ => self.remove(path),
        }
    }

    /// Which [`Storage`] this is.
    pub(crate) fn kind(&self) -> Storage {
        match self {
            Backing::File(_) => Storage::File,
            Backing::SharedFolder(_) => Storage::SharedFolder,
            Backing::Memory(_) => Storage::Memory,
        }
    }

    /// Whether the database is in memory.
    pub(crate) fn is_memory(&self) -> bool {
        matches!(self, Backing::Memory(_))
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
    fn storage_values_parse_with_file_as_the_default() {
        assert_eq!(Storage::default(), Storage::File);
        assert_eq!(parse_storage(""), Some(Storage::File));
        assert_eq!(parse_storage("file"), Some(Storage::File));
        assert_eq!(parse_storage(" Shared "), Some(Storage::SharedFolder));
        assert_eq!(parse_storage("MEMORY"), Some(Storage::Memory));
        assert_eq!(parse_storage("disk"), None);
        assert_eq!(parse_storage("in-memory"), None);
    }

    #[test]
    fn file_uri_escapes_what_sqlite_reads_as_uri_syntax() {
        assert_eq!(
            file_uri(Path::new("/tmp/a b/x?y#z%.sqlite")),
            "file:/tmp/a%20b/x%3Fy%23z%25.sqlite"
        );
    }
}
