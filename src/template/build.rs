//! Building a template: under an OS file lock (one build per machine), in a private build
//! folder, migrated, seeded, checkpointed and fsynced, then published by renaming it and
//! its record into place.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::time::{Instant, SystemTime};

use rusqlite::{Connection, OpenFlags};

use super::cache::{self, Paths};
use super::copy::Template;
use super::fingerprint::{self, Fingerprint};
use super::record::{self, Record, Stamp};
use super::request::{JOURNAL_MODE, PAGE_SIZE, Request};
use crate::error::{Error, Result};
use crate::migrations::runner;
use crate::schema::integrity;

const BUILD_LOG: &str = "builds.log";

/// Builds the template of `request` under its lock, unless another process published it
/// while this one waited.
pub(super) fn build_under_lock(
    request: &Request<'_>,
    paths: &Paths,
    fingerprint: Fingerprint,
) -> Result<Template> {
    let lock = lock_file(&paths.lock)?;

    // Another process may have published the template while this one waited.
    let result = match record::check(paths, fingerprint) {
        Ok(Some(stamp)) => Ok(Template::in_use(paths.template.clone(), stamp)),
        Ok(None) => {
            remove_stale_builds(paths, fingerprint);
            build(request, paths, fingerprint)
        }
        Err(e) => Err(e),
    };

    // The template is published (or the build failed): leave no lock file behind. A process
    // still waiting on this file's lock checks the template again once it gets it.
    let _ = fs::remove_file(&paths.lock);
    drop(lock);
    result
}

/// Opens and locks the lock file at `path`, waiting for the process that holds it. A holder
/// removes the file when done; whoever was waiting on the removed file then tries again
/// with the file now at `path`, so two processes never build under two different files.
fn lock_file(path: &Path) -> Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    loop {
        let lock = options
            .open(path)
            .map_err(|e| Error::io("create lock file", path, e))?;
        lock.lock().map_err(|e| Error::io("lock", path, e))?;
        if is_same_file(&lock, path) {
            return Ok(lock);
        }
    }
}

/// Whether `path` still names the open file `file`.
#[cfg(unix)]
fn is_same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn is_same_file(_: &File, path: &Path) -> bool {
    path.exists()
}

/// Removes the build folders of builders of this fingerprint that died midway. Called under
/// the fingerprint's lock, so no live builder owns them.
fn remove_stale_builds(paths: &Paths, fingerprint: Fingerprint) {
    let prefix = format!(".build-{fingerprint}-");
    let Ok(entries) = fs::read_dir(&paths.dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

fn build(request: &Request<'_>, paths: &Paths, fingerprint: Fingerprint) -> Result<Template> {
    let started = Instant::now();
    let staging = tempfile::Builder::new()
        .prefix(&format!(".build-{fingerprint}-"))
        .tempdir_in(&paths.dir)
        .map_err(|e| Error::io("create build folder in", &paths.dir, e))?;
    let db = staging.path().join("template.sqlite");

    migrate_new_file(request, &db, &paths.template)?;

    let bytes = fs::read(&db).map_err(|e| Error::io("read built template", &db, e))?;
    File::open(&db)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io("sync built template", &db, e))?;
    let stamp = Stamp::of(&db)
        .ok_or_else(|| Error::io("read built template", &db, io::Error::other("no metadata")))?;
    let record = Record {
        fingerprint,
        stamp,
        content: fingerprint::content_digest(&bytes),
    };
    let record_tmp = staging.path().join("template.record");
    write_synced(&record_tmp, record.to_string().as_bytes())?;

    // Publish: the template first, then its record. A reader that looks in between finds
    // them disagreeing and waits for the lock, behind this builder.
    fs::rename(&db, &paths.template)
        .map_err(|e| Error::io("publish template", &paths.template, e))?;
    fs::rename(&record_tmp, &paths.record)
        .map_err(|e| Error::io("publish template record", &paths.record, e))?;
    let _ = File::open(&paths.dir).and_then(|d| d.sync_all());

    log_build(paths, request, fingerprint, started);
    let template = Template::in_use(paths.template.clone(), stamp);
    cache::remove_unused(&paths.dir, &fingerprint.to_string());
    Ok(template)
}

/// Creates `db` and brings it to the requested version: WAL mode, `synchronous=OFF` (a lost
/// template is rebuilt), migrations, seeds, then a checkpoint so the file stands alone.
/// Errors name `template`, the file being built.
fn migrate_new_file(request: &Request<'_>, db: &Path, template: &Path) -> Result<()> {
    let sqlite = |op| move |e| Error::sqlite(op, template, e);
    let mut conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_PRIVATE_CACHE,
    )
    .map_err(sqlite("create template"))?;
    conn.pragma_update(None, "page_size", PAGE_SIZE)
        .map_err(sqlite("set page size of template"))?;
    let mode: String = conn
        .query_row(&format!("PRAGMA journal_mode={JOURNAL_MODE}"), [], |row| {
            row.get(0)
        })
        .map_err(sqlite("switch to WAL mode template"))?;
    if !mode.eq_ignore_ascii_case(JOURNAL_MODE) {
        return Err(Error::sqlite(
            "switch to WAL mode template",
            template,
            rusqlite::Error::InvalidParameterName(format!("journal_mode is {mode}")),
        ));
    }
    conn.pragma_update(None, "synchronous", "OFF")
        .map_err(sqlite("set synchronous=OFF on template"))?;
    request
        .connect
        .prepare(&mut conn)
        .map_err(sqlite("apply connection settings to template"))?;

    runner::run(&mut conn, request.migrations, request.target, template)?;

    for (i, seed) in request.seeds.iter().enumerate() {
        conn.execute_batch(seed).map_err(|e| Error::Seed {
            index: i + 1,
            path: template.to_path_buf(),
            source: e,
        })?;
    }
    let violations = integrity::foreign_key_problems(&conn);
    if !violations.is_empty() {
        return Err(Error::ForeignKeyViolations {
            path: template.to_path_buf(),
            version: request.target,
            violations,
        });
    }
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .map_err(sqlite("checkpoint template"))?;
    conn.close()
        .map_err(|(_, e)| Error::sqlite("close template", template, e))
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    File::create(path)
        .and_then(|mut f| {
            f.write_all(bytes)?;
            f.sync_all()
        })
        .map_err(|e| Error::io("write", path, e))
}

/// Appends one line to `builds.log`: the honest count of template builds on this machine.
fn log_build(paths: &Paths, request: &Request<'_>, fingerprint: Fingerprint, started: Instant) {
    let at = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let line = format!(
        "built {fingerprint} pid={} at={at} ms={:.1} target=V{} migrations={} seeds={} from={}\n",
        std::process::id(),
        started.elapsed().as_secs_f64() * 1e3,
        request.target,
        request.migrations.len(),
        request.seeds.len(),
        request.migrations.origin(),
    );
    let log = paths.dir.join(BUILD_LOG);
    // One write of one short line with O_APPEND: lines from processes do not interleave.
    let _ = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .and_then(|mut f| f.write_all(line.as_bytes()));
}
