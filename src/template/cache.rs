//! The template cache folder: where it is, whether it can be trusted, and the removal of
//! templates nobody has used for a while.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, SystemTime};

use super::fingerprint::Fingerprint;
use crate::error::{Error, Result};

/// Where one template's files live.
pub(crate) struct Paths {
    pub(crate) dir: PathBuf,
    pub(crate) template: PathBuf,
    pub(crate) record: PathBuf,
    pub(crate) lock: PathBuf,
}

impl Paths {
    pub(crate) fn new(dir: PathBuf, fingerprint: Fingerprint) -> Self {
        Paths {
            template: dir.join(format!("{fingerprint}.sqlite")),
            record: dir.join(format!("{fingerprint}.record")),
            lock: dir.join(format!("{fingerprint}.lock")),
            dir,
        }
    }
}

/// Name of the variable that overrides the template cache folder.
const CACHE_DIR_VAR: &str = "SQLITE_TESTDB_CACHE_DIR";

/// The folder from `SQLITE_TESTDB_CACHE_DIR`, read once per process and used as given;
/// `None` when unset or empty.
fn dir_from_env() -> Option<PathBuf> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        std::env::var_os(CACHE_DIR_VAR)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    })
    .clone()
}

/// Templates not used for this long are removed when another template is built.
pub(crate) const MAX_AGE: Duration = Duration::from_secs(7 * 24 * 60 * 60);
/// At most this many other templates are kept when a template is built; the least recently
/// used go first.
pub(crate) const MAX_TEMPLATES: usize = 32;
/// Build folders and lock files older than this belong to builders that died.
const STALE_BUILD: Duration = Duration::from_secs(60 * 60);

/// The cache folder to use: `explicit` (a builder's setting) if given, else
/// `SQLITE_TESTDB_CACHE_DIR`, else `sqlite-testdb/` in the cargo target folder of the running
/// binary, else `<temp>/sqlite-testdb-<uid>`. Created user-only, and checked: a folder owned
/// by another user, or writable by everyone, is not trusted.
///
/// # Errors
///
/// [`Error::Io`] when the folder cannot be created, [`Error::UntrustedCacheDir`] when it is
/// not trusted.
pub(crate) fn dir(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(dir) = explicit {
        prepare(dir)?;
        return Ok(dir.to_path_buf());
    }
    static DEFAULT: OnceLock<PathBuf> = OnceLock::new();
    if let Some(dir) = DEFAULT.get() {
        return Ok(dir.clone());
    }
    let dir = match dir_from_env() {
        Some(dir) => prepare(&dir).map(|()| dir)?,
        None => {
            let in_target = target_dir().map(|t| t.join("sqlite-testdb"));
            match in_target.filter(|dir| prepare(dir).is_ok()) {
                Some(dir) => dir,
                None => {
                    let dir = user_temp_dir();
                    prepare(&dir)?;
                    dir
                }
            }
        }
    };
    Ok(DEFAULT.get_or_init(|| dir).clone())
}

/// `databases/` in the cache folder (see [`dir`]): where [`Builder::shared_folder`] puts
/// test databases. Created user-only; once per process, files in it older than
/// [`MAX_AGE`] (left by test processes that were killed) are removed.
///
/// [`Builder::shared_folder`]: crate::Builder::shared_folder
///
/// # Errors
///
/// As [`dir`], or [`Error::Io`] when `databases/` cannot be created.
pub(crate) fn databases_dir(explicit: Option<&Path>) -> Result<PathBuf> {
    static SWEPT: OnceLock<Mutex<HashSet<PathBuf>>> = OnceLock::new();
    let dir = dir(explicit)?.join("databases");
    let mut swept = SWEPT
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if !swept.contains(&dir) {
        create_private_dir(&dir, "create shared test database folder")?;
        remove_old_files(&dir);
        swept.insert(dir.clone());
    }
    Ok(dir)
}

/// Removes the files in `dir` last modified more than [`MAX_AGE`] ago. Best effort.
fn remove_old_files(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|age| age > MAX_AGE);
        if old && entry.file_type().is_ok_and(|t| t.is_file()) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Creates `dir` if needed and checks it can be trusted, once per process per folder.
fn prepare(dir: &Path) -> Result<()> {
    static TRUSTED: OnceLock<Mutex<HashSet<PathBuf>>> = OnceLock::new();
    let trusted = TRUSTED.get_or_init(Default::default);
    if trusted
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .contains(dir)
    {
        return Ok(());
    }
    create_private_dir(dir, "create template cache folder")?;
    check_trusted(dir)?;
    trusted
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(dir.to_path_buf());
    Ok(())
}

/// Creates `dir` (and its parents); the folder itself is user-only where the OS allows.
fn create_private_dir(dir: &Path, op: &'static str) -> Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| Error::io(op, dir, e))
}

#[cfg(unix)]
fn check_trusted(dir: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let meta = fs::metadata(dir).map_err(|e| Error::io("read template cache folder", dir, e))?;
    let untrusted = |reason: String| Error::UntrustedCacheDir {
        path: dir.to_path_buf(),
        reason,
    };
    if !meta.is_dir() {
        return Err(untrusted("it is not a folder".to_owned()));
    }
    if let Some(me) = user_id()
        && meta.uid() != me
    {
        return Err(untrusted(format!(
            "it is owned by uid {}, not by this user (uid {me})",
            meta.uid()
        )));
    }
    if meta.mode() & 0o002 != 0 {
        return Err(untrusted(format!(
            "everyone can write to it (mode {:o})",
            meta.mode() & 0o7777
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_trusted(dir: &Path) -> Result<()> {
    match fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(Error::UntrustedCacheDir {
            path: dir.to_path_buf(),
            reason: "it is not a folder".to_owned(),
        }),
        Err(e) => Err(Error::io("read template cache folder", dir, e)),
    }
}

/// Whether a file in the cache may be trusted: owned by this user (unix).
pub(crate) fn owned_by_me(meta: &fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        user_id().is_none_or(|me| meta.uid() == me)
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        true
    }
}

/// The cargo target folder the running binary was built in: the nearest ancestor of the
/// executable that holds cargo's `CACHEDIR.TAG`.
fn target_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    exe.ancestors()
        .skip(1)
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .map(Path::to_path_buf)
}

/// `<temp>/sqlite-testdb-<uid>`: private to the user.
fn user_temp_dir() -> PathBuf {
    let user = user_id().map_or_else(
        || std::env::var("USERNAME").unwrap_or_else(|_| "user".to_owned()),
        |uid| uid.to_string(),
    );
    std::env::temp_dir().join(format!("sqlite-testdb-{user}"))
}

/// This process's user id: the owner of a file it creates.
#[cfg(unix)]
fn user_id() -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    static UID: OnceLock<Option<u32>> = OnceLock::new();
    *UID.get_or_init(|| {
        let probe = tempfile::tempfile().ok()?;
        Some(probe.metadata().ok()?.uid())
    })
}

#[cfg(not(unix))]
fn user_id() -> Option<u32> {
    None
}

/// Marks `template` as in use by this process for as long as the returned file is open: a
/// shared OS lock, which [`remove_unused`] in other processes respects.
pub(crate) fn mark_in_use(template: &Path) -> Option<File> {
    let file = File::open(template).ok()?;
    file.try_lock_shared().ok()?;
    Some(file)
}

/// Removes what no one needs any more from the cache folder `dir`, sparing `current`:
/// templates whose record was last touched more than [`MAX_AGE`] ago or beyond the
/// [`MAX_TEMPLATES`] most recently used, unless a process holds them in use; build folders
/// and lock files of builders that died. Best effort: nothing here fails a test.
pub(crate) fn remove_unused(dir: &Path, current: &str) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    let age = |path: &Path| {
        fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .unwrap_or_default()
    };
    let mut templates = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(&format!(".build-{current}-")) || name.starts_with(current) {
            continue;
        }
        if name.starts_with(".build-") && age(&path) > STALE_BUILD {
            let _ = fs::remove_dir_all(&path);
        } else if name.ends_with(".lock") {
            if age(&path) > STALE_BUILD && try_lock(&path).is_some() {
                let _ = fs::remove_file(&path);
            }
        } else if let Some(stem) = name.strip_suffix(".record") {
            templates.push((age(&path), dir.join(format!("{stem}.sqlite")), path));
        }
    }
    templates.sort_by_key(|(age, _, _)| *age);
    for (rank, (age, template, record)) in templates.into_iter().enumerate() {
        if age <= MAX_AGE && rank < MAX_TEMPLATES {
            continue;
        }
        // Held under an exclusive lock while removed: a process that marks it in use now
        // waits, then finds it gone and rebuilds.
        let lock = match File::open(&template) {
            Ok(file) => match file.try_lock() {
                Ok(()) => Some(file),
                Err(_) => continue,
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(_) => continue,
        };
        let _ = fs::remove_file(&template);
        let _ = fs::remove_file(&record);
        drop(lock);
    }
}

fn try_lock(path: &Path) -> Option<File> {
    let file = File::open(path).ok()?;
    file.try_lock().ok()?;
    Some(file)
}

/// Records that `record`'s template was just used, for [`remove_unused`].
pub(crate) fn touch(record: &Path) {
    let _ = File::options()
        .write(true)
        .open(record)
        .and_then(|f| f.set_modified(SystemTime::now()));
}
