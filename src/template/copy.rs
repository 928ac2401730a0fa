//! [`Template`]: a built, checked template, and how this process copies it: a reflink
//! where the file system has them, else from the template's bytes in memory.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use super::cache;
use super::record::Stamp;

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
    pub(super) fn in_use(path: PathBuf, stamp: Stamp) -> Self {
        let in_use = cache::mark_in_use(&path).map(Arc::new);
        Template {
            path,
            stamp,
            _in_use: in_use,
            content: Arc::default(),
        }
    }

    /// The template file.
    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the file is still the one this process checked (same size, modification
    /// time and inode): a truncated, rewritten or replaced template is checked again.
    pub(super) fn unchanged(&self) -> bool {
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
    pub(super) fn image(&self) -> io::Result<Arc<[u8]>> {
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
