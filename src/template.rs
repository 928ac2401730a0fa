//! The template cache: one migrated database file per [`Fingerprint`], built once per machine
//! and copied for every test.
//!
//! Layout of the cache folder, for a fingerprint `F`:
//!
//! | file | what |
//! |---|---|
//! | `F.sqlite` | the template: migrated, seeded, WAL mode, checkpointed to a single file |
//! | `F.record` | beside it: the fingerprint, size and content digest the template must have |
//! | `F.lock` | present only while a process builds `F` (an OS file lock) |
//! | `.build-F-*/` | present only while a process builds `F`: the private build folder |
//! | `builds.log` | one line per template built: what, by which process, how long it took |
//!
//! A template is published by renaming a finished, fsynced file into place, so no reader ever
//! sees a half-built one; a template whose record does not match it (a crash between the two
//! renames, a truncated or edited file) is rebuilt, never used. The lock only keeps processes
//! from building the same template twice; correctness never depends on it.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Instant, SystemTime};

use rusqlite::{Connection, OpenFlags};

use crate::connect::ConnectOptions;
use crate::fingerprint::{self, Fingerprint};
use crate::{Error, Migrations, Result, Version, cache};

/// `PRAGMA page_size` of every template (SQLite's default).
pub(crate) const PAGE_SIZE: u32 = 4096;
/// `PRAGMA journal_mode` of every template: WAL is stored in the file header, so copies open
/// in WAL mode without a journal switch.
pub(crate) const JOURNAL_MODE: &str = "wal";

const RECORD_HEADER: &str = "sqlite-testdb template record";
const BUILD_LOG: &str = "builds.log";

/// What a template is made of.
pub(crate) struct Request<'a> {
    pub(crate) migrations: &'a Migrations,
    pub(crate) target: Version,
    pub(crate) seeds: &'a [String],
    pub(crate) connect: &'a ConnectOptions,
    pub(crate) cache_dir: Option<&'a Path>,
}

impl Request<'_> {
    pub(crate) fn fingerprint(&self) -> Result<Fingerprint> {
        Ok(Fingerprint::new(&fingerprint::Shape {
            migrations: self.migrations.digest_to(self.target)?,
            target: self.target,
            seeds: self.seeds,
            page_size: PAGE_SIZE,
            journal_mode: JOURNAL_MODE,
        }))
    }
}

/// A built, checked template, ready to be copied.
#[derive(Clone, Debug)]
pub(crate) struct Template {
    path: PathBuf,
    /// The file's stamp when this process checked it: looked at again before each copy.
    stamp: Stamp,
    /// A shared lock on the template while this process may copy it, so that no other
    /// process removes it as unused.
    _in_use: Option<Arc<File>>,
    /// How this process copies the template, and its bytes once read (see [`Content`]).
    content: Arc<Content>,
}

/// How this process copies a template, and its bytes once read.
///
/// The first copy is a reflink where the file system has them (Btrfs, XFS: constant time,
/// whatever the size), else an in-kernel copy. After a copy that was not a reflink, copies
/// are written from the template's bytes in memory: that skips reading the template
/// through the kernel every time (a quarter of a 2 MiB copy on ext4), and threads copying
/// at once share nothing but this buffer.
#[derive(Debug, Default)]
struct Content {
    /// Copies made so far: the bytes are read on the second copy, so a process that makes
    /// one database (a test under `cargo nextest`) never reads them.
    copies: AtomicUsize,
    /// Whether a copy was a reflink: then copies keep coming from the file.
    clones: AtomicBool,
    /// `None` inside when the file was larger than [`MAX_CONTENT_IN_MEMORY`], did not fit in
    /// [`MAX_CONTENTS_IN_MEMORY`] with the others, or changed while it was read: copies then
    /// come from the file.
    bytes: OnceLock<Option<Arc<[u8]>>>,
}

/// Templates larger than this are copied from the file every time, not kept in memory.
const MAX_CONTENT_IN_MEMORY: u64 = 64 * 1024 * 1024;
/// At most this many bytes of templates are kept in memory by a process at once.
const MAX_CONTENTS_IN_MEMORY: u64 = 256 * 1024 * 1024;
/// Bytes of templates this process keeps in memory now.
static CONTENTS_IN_MEMORY: AtomicU64 = AtomicU64::new(0);

impl Drop for Content {
    fn drop(&mut self) {
        if let Some(Some(bytes)) = self.bytes.get() {
            CONTENTS_IN_MEMORY.fetch_sub(bytes.len() as u64, Ordering::Relaxed);
        }
    }
}

impl Template {
    fn in_use(path: PathBuf, stamp: Stamp) -> Self {
        let in_use = cache::mark_in_use(&path).map(Arc::new);
        Template {
            path,
            stamp,
            _in_use: in_use,
            content: Arc::default(),
        }
    }

    /// Whether the file is still the one this process checked (same size, modification
    /// time and inode): a truncated, rewritten or replaced template is checked again.
    fn unchanged(&self) -> bool {
        Stamp::of(&self.path).is_some_and(|s| s == self.stamp)
    }

    /// Copies the template to a new file `dest` (readable by this user only), which must not
    /// exist yet: a reflink where the file system allows, from memory after the first copy
    /// where it does not (see [`Content`]).
    pub(crate) fn copy_to(&self, dest: &Path) -> io::Result<()> {
        let content = &self.content;
        if content.copies.fetch_add(1, Ordering::Relaxed) > 0
            && !content.clones.load(Ordering::Relaxed)
            && let Some(bytes) = self.bytes()
        {
            return write_new(dest, |out| out.write_all(&bytes));
        }
        let mut source = File::open(&self.path)?;
        write_new(dest, |out| {
            if reflink(&source, out) {
                content.clones.store(true, Ordering::Relaxed);
                return Ok(());
            }
            // Between two files, `copy_file_range` on Linux: an in-kernel copy.
            io::copy(&mut source, out).map(drop)
        })
    }

    /// The template's bytes, read now if they were not yet; `None` when the file is too
    /// large to keep in memory or no longer the file this process checked.
    fn bytes(&self) -> Option<Arc<[u8]>> {
        self.content
            .bytes
            .get_or_init(|| {
                let len = self.stamp.len;
                let fits = len <= MAX_CONTENT_IN_MEMORY
                    && CONTENTS_IN_MEMORY
                        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |kept| {
                            (kept + len <= MAX_CONTENTS_IN_MEMORY).then_some(kept + len)
                        })
                        .is_ok();
                if !fits {
                    return None;
                }
                let bytes = self.read_whole().filter(|b| b.len() as u64 == len);
                if bytes.is_none() {
                    CONTENTS_IN_MEMORY.fetch_sub(len, Ordering::Relaxed);
                }
                bytes.map(Arc::from)
            })
            .clone()
    }

    /// The whole file, if it is still the one this process checked: the same stamp after
    /// reading it.
    fn read_whole(&self) -> Option<Vec<u8>> {
        let mut file = File::open(&self.path).ok()?;
        let mut bytes = Vec::with_capacity(usize::try_from(self.stamp.len).ok()?);
        io::Read::read_to_end(&mut file, &mut bytes).ok()?;
        (Stamp::of_file(&file)? == self.stamp).then_some(bytes)
    }

    /// The template's bytes: kept in memory (see [`bytes`](Self::bytes)), or read from the
    /// file for this once.
    fn image(&self) -> io::Result<Arc<[u8]>> {
        match self.bytes() {
            Some(bytes) => Ok(bytes),
            None => fs::read(&self.path).map(Arc::from),
        }
    }
}

/// Makes `dest` a reflink of `source` (the same extents, copied on write) where the file
/// system can; whether it did.
#[cfg(target_os = "linux")]
fn reflink(source: &File, dest: &File) -> bool {
    rustix::fs::ioctl_ficlone(dest, source).is_ok()
}

#[cfg(not(target_os = "linux"))]
fn reflink(_: &File, _: &File) -> bool {
    false
}

/// Creates `path`, which must not exist, readable and writable by this user only, and fills
/// it with `fill`. A file that cannot be filled is removed.
fn write_new(path: &Path, fill: impl FnOnce(&mut File) -> io::Result<()>) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    fill(&mut file).inspect_err(|_| {
        drop(file);
        let _ = fs::remove_file(path);
    })
}

/// Opens the in-memory database `name` (a `memdb` VFS URI) and copies the template into it,
/// from the template's bytes in memory (read once per process).
pub(crate) fn open_in_memory(
    request: &Request<'_>,
    template: Template,
    name: &str,
) -> Result<Connection> {
    let image = use_template(request, template, |t| {
        t.image()
            .map_err(|e| Error::io("read template", &t.path, e))
    })?;
    crate::memdb::open_copy(name, ConnectOptions::flags(), &image)
        .map_err(|e| Error::sqlite("copy template into in-memory database", name, e))
}

/// Where one template's files live.
struct Paths {
    dir: PathBuf,
    template: PathBuf,
    record: PathBuf,
    lock: PathBuf,
}

impl Paths {
    fn new(dir: PathBuf, fingerprint: Fingerprint) -> Self {
        Paths {
            template: dir.join(format!("{fingerprint}.sqlite")),
            record: dir.join(format!("{fingerprint}.record")),
            lock: dir.join(format!("{fingerprint}.lock")),
            dir,
        }
    }
}

/// The template for `request`: known to this process already, found valid in the cache, or
/// built now (by this process, or by another one this process waits for).
///
/// # Errors
///
/// A migration or seed that fails, or a cache folder that cannot be written.
pub(crate) fn obtain(request: &Request<'_>) -> Result<Template> {
    let fingerprint = request.fingerprint()?;
    let dir = cache::dir(request.cache_dir)?;
    let paths = Paths::new(dir, fingerprint);

    // Threads of this process wait for one build; then every thread reuses the result.
    let slot = slot(&paths.template);
    let mut known = slot.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(template) = known.as_ref().filter(|t| t.unchanged()) {
        return Ok(template.clone());
    }
    let template = match check(&paths, fingerprint)? {
        Some(template) => template,
        None => build_under_lock(request, &paths, fingerprint)?,
    };
    *known = Some(template.clone());
    Ok(template)
}

/// Runs `use_it` on `template`; when that fails because the template vanished from the
/// cache since this process checked it, obtains it again (rebuilt) and runs `use_it` once
/// more.
pub(crate) fn use_template<T>(
    request: &Request<'_>,
    template: Template,
    use_it: impl Fn(&Template) -> Result<T>,
) -> Result<T> {
    match use_it(&template) {
        Err(Error::Io { source, .. })
            if source.kind() == io::ErrorKind::NotFound && !template.path.exists() =>
        {
            forget(&template);
            use_it(&obtain(request)?)
        }
        other => other,
    }
}

/// Makes this process look at the cache again for `template` (after it vanished).
fn forget(template: &Template) {
    let slot = slot(&template.path);
    *slot.lock().unwrap_or_else(PoisonError::into_inner) = None;
}

type Slot = Arc<Mutex<Option<Template>>>;

fn slot(template: &Path) -> Slot {
    static SLOTS: OnceLock<Mutex<HashMap<PathBuf, Slot>>> = OnceLock::new();
    SLOTS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(template.to_path_buf())
        .or_default()
        .clone()
}

fn build_under_lock(
    request: &Request<'_>,
    paths: &Paths,
    fingerprint: Fingerprint,
) -> Result<Template> {
    let lock = lock_file(&paths.lock)?;

    // Another process may have published the template while this one waited.
    let result = match check(paths, fingerprint) {
        Ok(Some(template)) => Ok(template),
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

/// The template at `paths` if it exists and matches its record; `None` if it must be built.
fn check(paths: &Paths, fingerprint: Fingerprint) -> Result<Option<Template>> {
    let Some(record) = read_optional(&paths.record)? else {
        return Ok(None);
    };
    let Some(record) = Record::parse(&String::from_utf8_lossy(&record)) else {
        return Ok(None);
    };
    if record.fingerprint != fingerprint {
        return Ok(None);
    }
    // Only this user can write to the folder, but a file someone else placed is not trusted.
    match fs::metadata(&paths.template) {
        Ok(meta) if cache::owned_by_me(&meta) => {}
        Ok(_) => return Ok(None),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("read", &paths.template, e)),
    }
    // The file as published (same size, modification time and inode) needs no reading; any
    // other is read and its content digest compared.
    let Some(stamp) = Stamp::of(&paths.template) else {
        return Ok(None);
    };
    if stamp != record.stamp {
        let Some(bytes) = read_optional(&paths.template)? else {
            return Ok(None);
        };
        if bytes.len() as u64 != stamp.len
            || bytes.len() as u64 != record.stamp.len
            || fingerprint::content_digest(&bytes) != record.content
        {
            return Ok(None);
        }
    }
    cache::touch(&paths.record);
    Ok(Some(Template::in_use(paths.template.clone(), stamp)))
}

fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read", path, e)),
    }
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

    crate::db::run_migrations(&mut conn, request.migrations, request.target, template)?;

    for (i, seed) in request.seeds.iter().enumerate() {
        conn.execute_batch(seed).map_err(|e| Error::Seed {
            index: i + 1,
            path: template.to_path_buf(),
            source: e,
        })?;
    }
    let violations = crate::integrity::foreign_key_problems(&conn);
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

/// What a template must be: written beside it when it is built, checked before it is used.
struct Record {
    fingerprint: Fingerprint,
    stamp: Stamp,
    content: String,
}

/// What identifies a file's version without reading it: size, modification time, inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified_ns: u128,
    inode: u64,
}

impl Stamp {
    fn of(path: &Path) -> Option<Stamp> {
        Stamp::from_metadata(&fs::metadata(path).ok()?)
    }

    fn of_file(file: &File) -> Option<Stamp> {
        Stamp::from_metadata(&file.metadata().ok()?)
    }

    fn from_metadata(meta: &fs::Metadata) -> Option<Stamp> {
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(meta);
        #[cfg(not(unix))]
        let inode = 0;
        Some(Stamp {
            len: meta.len(),
            modified_ns: meta
                .modified()
                .ok()?
                .duration_since(SystemTime::UNIX_EPOCH)
                .ok()?
                .as_nanos(),
            inode,
        })
    }
}

impl Record {
    fn parse(text: &str) -> Option<Record> {
        let mut lines = text.lines();
        if lines.next()? != RECORD_HEADER {
            return None;
        }
        let mut field = |name: &str| {
            lines
                .next()?
                .strip_prefix(name)?
                .strip_prefix(' ')
                .map(str::to_owned)
        };
        Some(Record {
            fingerprint: Fingerprint::parse(&field("fingerprint")?)?,
            stamp: Stamp {
                len: field("size")?.parse().ok()?,
                modified_ns: field("modified-ns")?.parse().ok()?,
                inode: field("inode")?.parse().ok()?,
            },
            content: field("content-sha1-uuid5")?,
        })
    }
}

impl std::fmt::Display for Record {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{RECORD_HEADER}")?;
        writeln!(f, "fingerprint {}", self.fingerprint)?;
        writeln!(f, "size {}", self.stamp.len)?;
        writeln!(f, "modified-ns {}", self.stamp.modified_ns)?;
        writeln!(f, "inode {}", self.stamp.inode)?;
        writeln!(f, "content-sha1-uuid5 {}", self.content)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_round_trips_and_rejects_edits() {
        let record = Record {
            fingerprint: Fingerprint::new(&fingerprint::Shape {
                migrations: fingerprint::MIGRATIONS_ROOT,
                target: 1,
                seeds: &[],
                page_size: PAGE_SIZE,
                journal_mode: JOURNAL_MODE,
            }),
            stamp: Stamp {
                len: 8192,
                modified_ns: 1_700_000_000_000_000_000,
                inode: 42,
            },
            content: fingerprint::content_digest(b"abc"),
        };
        let text = record.to_string();
        let parsed = Record::parse(&text);
        assert!(
            parsed
                .as_ref()
                .is_some_and(|p| p.fingerprint == record.fingerprint
                    && p.stamp == record.stamp
                    && p.content == record.content)
        );
        assert!(Record::parse(&text.replace("size 8192", "size x")).is_none());
        assert!(Record::parse("garbage").is_none());
    }
}
