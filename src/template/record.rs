//! A template's record, written beside it when it is built (fingerprint, stamp, content
//! digest), and the check of a template against it before it is used.

use std::fs::{self, File};
use std::io;
use std::path::Path;
use std::time::SystemTime;

use super::cache::{self, Paths};
use super::fingerprint::{self, Fingerprint};
use crate::error::{Error, Result};

const RECORD_HEADER: &str = "sqlite-testdb template record";

/// The stamp of the template at `paths` if it exists and matches its record; `None` if it
/// must be built.
pub(super) fn check(paths: &Paths, fingerprint: Fingerprint) -> Result<Option<Stamp>> {
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
    Ok(Some(stamp))
}

pub(super) fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read", path, e)),
    }
}

/// What a template must be: written beside it when it is built, checked before it is used.
pub(super) struct Record {
    pub(super) fingerprint: Fingerprint,
    pub(super) stamp: Stamp,
    pub(super) content: String,
}

/// What identifies a file's version without reading it: size, modification time, inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Stamp {
    pub(super) len: u64,
    modified_ns: u128,
    inode: u64,
}

impl Stamp {
    pub(super) fn of(path: &Path) -> Option<Stamp> {
        Stamp::from_metadata(&fs::metadata(path).ok()?)
    }

    pub(super) fn of_file(file: &File) -> Option<Stamp> {
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
    use crate::migrations::digest::MIGRATIONS_ROOT;
    use crate::template::fingerprint::Shape;
    use crate::template::request::{JOURNAL_MODE, PAGE_SIZE};

    #[test]
    fn record_round_trips_and_rejects_edits() {
        let record = Record {
            fingerprint: Fingerprint::new(&Shape {
                migrations: MIGRATIONS_ROOT,
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
