//! The key of a template: a stable hash of everything that shapes the template file.

use std::fmt;

use uuid::Uuid;

use crate::migrations::digest::Encoder;
use crate::version::Version;

/// Bump whenever the way templates are built or recorded changes, so that templates built by
/// an older version of this crate are never reused.
const FORMAT: u32 = 1;

/// The namespace every fingerprint is derived in.
const TEMPLATE_NAMESPACE: Uuid = Uuid::from_u128(0x8c2e_62a1_0b7d_4e36_a1f0_66d4_2c9e_51b3);

/// The namespace a template file's content digest is derived in.
const CONTENT_NAMESPACE: Uuid = Uuid::from_u128(0x2f6b_9e07_c4d1_4b8a_8e3c_5a90_17f2_d6c4);

/// A stable, platform-independent key of a template: SHA-1 (UUID v5) over the migrations
/// (prefix, version, name and SQL, which also decide refinery's checksum), the target
/// version, the seed SQL, the settings that shape the file (page size, journal mode), this
/// crate's version, the SQLite version and a format number.
///
/// Any change to any of them gives a new fingerprint, and so a new template.
///
/// # Examples
///
/// ```
/// use sqlite_testdb::{Migrations, TestDb};
///
/// let m = Migrations::from_migrations([
///     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?,
/// ])?;
/// let fingerprint = TestDb::builder(&m).fingerprint()?;
/// assert_eq!(fingerprint.to_string().len(), 32);
/// assert_eq!(fingerprint, TestDb::builder(&m).fingerprint()?);
/// assert_ne!(fingerprint, TestDb::builder(&m).seed_sql("SELECT 1").fingerprint()?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(Uuid);

impl fmt::Display for Fingerprint {
    /// 32 lower-case hex digits, safe in a file name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.simple(), f)
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({})", self.0.simple())
    }
}

/// The settings that shape a template file, besides its migrations.
pub(crate) struct Shape<'a> {
    /// Digest of the migrations applied, from the migrations' chain.
    pub(crate) migrations: Uuid,
    /// The version the template stops at.
    pub(crate) target: Version,
    /// Seed SQL run after the migrations, in order.
    pub(crate) seeds: &'a [String],
    /// `PRAGMA page_size` of the file.
    pub(crate) page_size: u32,
    /// `PRAGMA journal_mode` of the file.
    pub(crate) journal_mode: &'a str,
}

impl Fingerprint {
    pub(crate) fn new(shape: &Shape<'_>) -> Self {
        let mut bytes = Encoder::default();
        bytes.u64(FORMAT.into());
        bytes.str(env!("CARGO_PKG_VERSION"));
        bytes.str(rusqlite::version());
        bytes.raw(shape.migrations.as_bytes());
        bytes.i64(shape.target.into());
        bytes.u64(shape.seeds.len() as u64);
        for seed in shape.seeds {
            bytes.str(seed);
        }
        bytes.u64(shape.page_size.into());
        bytes.str(shape.journal_mode);
        Fingerprint(Uuid::new_v5(&TEMPLATE_NAMESPACE, &bytes.0))
    }

    /// Parses the 32 hex digits [`Display`](fmt::Display) writes.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        Uuid::try_parse(text.trim()).ok().map(Fingerprint)
    }
}

/// A digest of a template file's bytes, recorded beside it and checked before it is used.
pub(crate) fn content_digest(bytes: &[u8]) -> String {
    Uuid::new_v5(&CONTENT_NAMESPACE, bytes).simple().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrations::digest::MIGRATIONS_ROOT;

    fn shape<'a>(migrations: Uuid, seeds: &'a [String]) -> Shape<'a> {
        Shape {
            migrations,
            target: 3,
            seeds,
            page_size: 4096,
            journal_mode: "wal",
        }
    }

    #[test]
    fn fingerprint_is_stable_and_round_trips() {
        let a = Fingerprint::new(&shape(MIGRATIONS_ROOT, &[]));
        let b = Fingerprint::new(&shape(MIGRATIONS_ROOT, &[]));
        assert_eq!(a, b);
        assert_eq!(Fingerprint::parse(&a.to_string()), Some(a));
    }

    #[test]
    fn seeds_are_length_prefixed() {
        let ab = ["ab".to_owned()];
        let a_b = ["a".to_owned(), "b".to_owned()];
        assert_ne!(
            Fingerprint::new(&shape(MIGRATIONS_ROOT, &ab)),
            Fingerprint::new(&shape(MIGRATIONS_ROOT, &a_b))
        );
    }
}
