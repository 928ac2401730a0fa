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

mod build;
pub(crate) mod cache;
mod copy;
mod fingerprint;
mod memdb;
mod record;
mod request;

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use rusqlite::Connection;

use crate::connection::ConnectOptions;
use crate::error::{Error, Result};
use cache::Paths;
pub(crate) use copy::Template;
pub use fingerprint::Fingerprint;
pub(crate) use request::Request;

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
    let template = match record::check(&paths, fingerprint)? {
        Some(stamp) => Template::in_use(paths.template.clone(), stamp),
        None => build::build_under_lock(request, &paths, fingerprint)?,
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
            if source.kind() == io::ErrorKind::NotFound && !template.path().exists() =>
        {
            forget(&template);
            use_it(&obtain(request)?)
        }
        other => other,
    }
}

/// Makes this process look at the cache again for `template` (after it vanished).
fn forget(template: &Template) {
    let slot = slot(template.path());
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

/// Opens the in-memory database `name` (a `memdb` VFS URI) and copies the template into it,
/// from the template's bytes in memory (read once per process).
pub(crate) fn open_in_memory(
    request: &Request<'_>,
    template: Template,
    name: &str,
) -> Result<Connection> {
    let image = use_template(request, template, |t| {
        t.image()
            .map_err(|e| Error::io("read template", t.path(), e))
    })?;
    memdb::open_copy(name, ConnectOptions::flags(), &image)
        .map_err(|e| Error::sqlite("copy template into in-memory database", name, e))
}
