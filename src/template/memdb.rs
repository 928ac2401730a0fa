//! In-memory databases on SQLite's `memdb` VFS, filled with a template's bytes in one copy.
//!
//! A database named `file:/NAME?vfs=memdb` lives in memory and is shared by every connection
//! of this process that opens that name. SQLite's backup API could fill it page by page, but
//! every page then goes through SQLite's page cache, which the bundled SQLite shares between
//! all connections under one mutex (`SQLITE_ENABLE_MEMORY_MANAGEMENT`): threads making
//! databases at once wait on each other. Here the bytes are written straight into the
//! `memdb` file, one `memcpy`, before the connection has read anything.

use std::ffi::{c_int, c_void};

use rusqlite::{Connection, OpenFlags, ffi};

/// Byte offsets 18 and 19 of the database header: the file format versions, 2 for WAL, 1 for
/// a rollback journal. A `memdb` database cannot be in WAL mode.
const FORMAT_VERSIONS: u64 = 18;

/// Opens the in-memory database `name` (a `memdb` URI, which must not be open yet) with
/// `flags`, and makes it a copy of the database file `image` (a template in WAL mode).
pub(crate) fn open_copy(
    name: &str,
    flags: OpenFlags,
    image: &[u8],
) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(name, flags | OpenFlags::SQLITE_OPEN_CREATE)?;
    write_main_file(&conn, image, 0)?;
    if image.len() as u64 >= FORMAT_VERSIONS + 2 {
        write_main_file(&conn, &[1, 1], FORMAT_VERSIONS)?;
    }
    Ok(conn)
}

/// Writes `bytes` at `offset` into the main database file of `conn`, through its VFS and
/// behind its pager. Only sound before the connection has read the file: its page cache
/// would not know.
#[allow(unsafe_code)]
fn write_main_file(conn: &Connection, bytes: &[u8], offset: u64) -> rusqlite::Result<()> {
    let failure = |code: c_int, what: &str| {
        rusqlite::Error::SqliteFailure(ffi::Error::new(code), Some(what.to_owned()))
    };
    let len = c_int::try_from(bytes.len())
        .map_err(|_| failure(ffi::SQLITE_TOOBIG, "template larger than 2 GiB"))?;
    let offset = i64::try_from(offset).map_err(|_| failure(ffi::SQLITE_TOOBIG, "offset"))?;
    let mut file: *mut ffi::sqlite3_file = std::ptr::null_mut();
    // SAFETY: `conn.handle()` is the open connection `conn` owns, used on this thread only
    // for this call; `SQLITE_FCNTL_FILE_POINTER` stores a `sqlite3_file *` at the address
    // given, which is `file`'s.
    let rc = unsafe {
        ffi::sqlite3_file_control(
            conn.handle(),
            c"main".as_ptr(),
            ffi::SQLITE_FCNTL_FILE_POINTER,
            (&raw mut file).cast::<c_void>(),
        )
    };
    if rc != ffi::SQLITE_OK {
        return Err(failure(rc, "no main database file"));
    }
    // SAFETY: `file` is null or the main database file of `conn`, open for as long as `conn`
    // is; an open file's `pMethods` is null or points to its VFS's method table.
    let write = unsafe { file.as_ref().and_then(|f| f.pMethods.as_ref()) }.and_then(|m| m.xWrite);
    let Some(write) = write else {
        return Err(failure(
            ffi::SQLITE_MISUSE,
            "database file cannot be written",
        ));
    };
    // SAFETY: `write` is the file's own `xWrite`, called with that file and a buffer of
    // `len` readable bytes, which it copies before returning.
    let rc = unsafe { write(file, bytes.as_ptr().cast::<c_void>(), len, offset) };
    if rc != ffi::SQLITE_OK {
        return Err(failure(rc, "write to in-memory database"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_reads_like_its_image_and_is_shared_by_name() -> rusqlite::Result<()> {
        let dir = tempfile::tempdir().map_err(|e| failure_io(&e))?;
        let path = dir.path().join("image.sqlite");
        let source = Connection::open(&path)?;
        source.execute_batch(
            "PRAGMA journal_mode=WAL; CREATE TABLE t(x); INSERT INTO t VALUES (1), (2);
             PRAGMA wal_checkpoint(TRUNCATE);",
        )?;
        drop(source);
        let image = std::fs::read(&path).map_err(|e| failure_io(&e))?;

        let name = "file:/memdb-test-copy?vfs=memdb";
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_URI;
        let conn = open_copy(name, flags, &image)?;
        let sum: i64 = conn.query_row("SELECT sum(x) FROM t", [], |r| r.get(0))?;
        assert_eq!(sum, 3);
        let other = Connection::open_with_flags(name, flags)?;
        other.execute("INSERT INTO t VALUES (4)", [])?;
        let sum: i64 = conn.query_row("SELECT sum(x) FROM t", [], |r| r.get(0))?;
        assert_eq!(sum, 7);
        let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        assert_eq!(check, "ok");
        Ok(())
    }

    fn failure_io(e: &std::io::Error) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(ffi::Error::new(ffi::SQLITE_IOERR), Some(e.to_string()))
    }
}
