//! What another migration library records about each migration: sqlx's version,
//! description and checksum, diesel's version string, and whether the library runs the
//! migration in a transaction.

use std::path::Path;

use rusqlite::Connection;
use sha2::{Digest, Sha384};

use super::digest::Encoder;

/// The error a migration function returns, boxed.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A migration function (`Migrations::from_fn`), as stored.
pub(crate) type MigrateFn =
    dyn Fn(&mut Connection) -> std::result::Result<(), BoxError> + Send + Sync;

/// The library's own record of one migration, beside the refinery [`Migration`] it maps
/// onto.
///
/// [`Migration`]: refinery::Migration
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Record {
    /// refinery's own: its history table holds the refinery migration.
    Refinery,
    /// sqlx's: `version` and `description` from the file name, `checksum` the SHA-384 of
    /// the SQL, `no_tx` when the file starts with `-- no-transaction`.
    Sqlx {
        version: i64,
        description: String,
        checksum: Vec<u8>,
        no_tx: bool,
    },
    /// diesel's: `version` is the folder name up to its first `_`, without `-`; `folder`
    /// the whole folder name, as diesel names the migration.
    Diesel {
        version: String,
        folder: String,
        run_in_transaction: bool,
    },
}

impl Record {
    /// A sqlx migration from its file name (`20240101000000_create_users.up.sql`) and SQL;
    /// `None` when the name is not `<i64>_<description>.sql`.
    pub(crate) fn sqlx(file_name: &str, sql: &str) -> Option<(Record, SqlxKind)> {
        let (version, rest) = file_name.split_once('_')?;
        let version: i64 = version.parse().ok()?;
        let (kind, stem) = if let Some(stem) = rest.strip_suffix(".up.sql") {
            (SqlxKind::Up, stem)
        } else if let Some(stem) = rest.strip_suffix(".down.sql") {
            (SqlxKind::Down, stem)
        } else {
            (SqlxKind::Simple, rest.strip_suffix(".sql")?)
        };
        let record = Record::Sqlx {
            version,
            description: stem.replace('_', " "),
            checksum: Sha384::digest(sql.as_bytes()).to_vec(),
            no_tx: sql.starts_with("-- no-transaction"),
        };
        Some((record, kind))
    }

    /// A diesel migration from its folder name and the text of its `metadata.toml`, if any;
    /// `None` when the name has no version.
    pub(crate) fn diesel(folder_name: &str, metadata: Option<&str>) -> Option<Record> {
        let version = folder_name.split('_').next()?.replace('-', "");
        if version.is_empty() {
            return None;
        }
        Some(Record::Diesel {
            version,
            folder: folder_name.to_owned(),
            run_in_transaction: metadata.is_none_or(runs_in_transaction),
        })
    }

    /// Whether the library runs the migration and its history row in one transaction.
    pub(crate) fn in_transaction(&self) -> bool {
        match self {
            Record::Refinery => true,
            Record::Sqlx { no_tx, .. } => !no_tx,
            Record::Diesel {
                run_in_transaction, ..
            } => *run_in_transaction,
        }
    }

    /// The migration as its library names it: `20240101000000 create users` (sqlx's
    /// version and description), `2024-01-15-120000_create_users` (diesel's folder);
    /// `None` for refinery's.
    pub(crate) fn label(&self) -> Option<String> {
        match self {
            Record::Refinery => None,
            Record::Sqlx {
                version,
                description,
                ..
            } => Some(format!("{version} {description}")),
            Record::Diesel { folder, .. } => Some(folder.clone()),
        }
    }

    /// The version as the library writes it in its history table, as text.
    pub(crate) fn version_text(&self) -> Option<String> {
        match self {
            Record::Refinery => None,
            Record::Sqlx { version, .. } => Some(version.to_string()),
            Record::Diesel { version, .. } => Some(version.clone()),
        }
    }

    /// Adds what the library writes, and how it runs the migration, to a digest.
    pub(crate) fn encode(&self, bytes: &mut Encoder) {
        match self {
            Record::Refinery => bytes.str("refinery"),
            Record::Sqlx {
                version,
                description,
                checksum,
                no_tx,
            } => {
                bytes.str("sqlx");
                bytes.i64(*version);
                bytes.str(description);
                bytes.raw(checksum);
                bytes.u64(u64::from(*no_tx));
            }
            Record::Diesel {
                version,
                folder,
                run_in_transaction,
            } => {
                bytes.str("diesel");
                bytes.str(version);
                bytes.str(folder);
                bytes.u64(u64::from(*run_in_transaction));
            }
        }
    }
}

/// Which file of a sqlx migration a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SqlxKind {
    /// `<version>_<description>.sql`: no down migration.
    Simple,
    /// `.up.sql`.
    Up,
    /// `.down.sql`.
    Down,
}

/// Whether diesel's `metadata.toml` leaves the migration in a transaction: anything but
/// `run_in_transaction = false` does.
fn runs_in_transaction(metadata: &str) -> bool {
    !metadata.lines().any(|line| {
        let line = line.split('#').next().unwrap_or_default();
        let mut parts = line.splitn(2, '=').map(str::trim);
        parts.next() == Some("run_in_transaction") && parts.next() == Some("false")
    })
}

/// The file name of `path`, lossily.
pub(crate) fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A name as refinery takes names: every character but letters, digits and `_` written
/// `_`.
pub(crate) fn refinery_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlx_names_give_version_description_and_kind() {
        let (record, kind) = Record::sqlx("20240101000000_create_users.up.sql", "SELECT 1;")
            .unwrap_or_else(|| panic!("a sqlx name"));
        assert_eq!(kind, SqlxKind::Up);
        assert_eq!(
            record.label().as_deref(),
            Some("20240101000000 create users")
        );
        assert!(record.in_transaction());
        assert!(Record::sqlx("V1__users.sql", "").is_none());
        assert!(Record::sqlx("1_users.txt", "").is_none());
        let no_tx = Record::sqlx("2_index.sql", "-- no-transaction\nVACUUM;");
        assert!(no_tx.is_some_and(|(r, _)| !r.in_transaction()));
    }

    #[test]
    fn sqlx_checksum_is_sha384_of_the_sql() {
        let Some((Record::Sqlx { checksum, .. }, _)) = Record::sqlx("1_a.sql", "abc") else {
            panic!("a sqlx name")
        };
        // SHA-384("abc"), FIPS 180-2 appendix D.1.
        assert_eq!(
            checksum[..8],
            [0xcb, 0x00, 0x75, 0x3f, 0x45, 0xa3, 0x5e, 0x8b]
        );
        assert_eq!(checksum.len(), 48);
    }

    #[test]
    fn diesel_versions_drop_dashes_and_metadata_can_leave_the_transaction() {
        let record = Record::diesel("2024-01-15-120000_create_users", None);
        assert_eq!(
            record.as_ref().and_then(Record::version_text).as_deref(),
            Some("20240115120000")
        );
        assert!(record.is_some_and(|r| r.in_transaction()));
        let outside = Record::diesel("1_a", Some("# no\nrun_in_transaction = false\n"));
        assert!(outside.is_some_and(|r| !r.in_transaction()));
        let inside = Record::diesel("1_a", Some("run_in_transaction = true"));
        assert!(inside.is_some_and(|r| r.in_transaction()));
    }
}
