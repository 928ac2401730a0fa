//! [`ScriptFolder`]: the folder of a replay's reproduction scripts, owned by its report.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// The folder the reproduction scripts of one replay are written to. A folder the replay
/// made in the temp folder is removed when the last report (or clone of it) holding it is
/// dropped, unless kept; a folder the user gave is never removed.
#[derive(Debug)]
pub(crate) struct ScriptFolder {
    path: PathBuf,
    /// Whether dropping it removes the folder.
    remove: AtomicBool,
}

impl ScriptFolder {
    /// A folder the replay made: removed on drop unless [`keep`](Self::keep) is called.
    pub(crate) fn owned(path: PathBuf) -> Self {
        ScriptFolder {
            path,
            remove: AtomicBool::new(true),
        }
    }

    /// The user's folder: never removed.
    pub(crate) fn given(path: PathBuf) -> Self {
        ScriptFolder {
            path,
            remove: AtomicBool::new(false),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Leaves the folder in place when dropped.
    pub(crate) fn keep(&self) {
        self.remove.store(false, Ordering::Relaxed);
    }
}

impl PartialEq for ScriptFolder {
    fn eq(&self, other: &Self) -> bool {
        self.path == other.path
    }
}

impl Eq for ScriptFolder {}

impl Drop for ScriptFolder {
    fn drop(&mut self) {
        // Silent, as a guard's drop is: the folder is in the temp folder at worst.
        if self.remove.load(Ordering::Relaxed) {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}
