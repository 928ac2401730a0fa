//! The digest of a migration chain: a stable hash of every migration up to one version,
//! which a template's fingerprint starts from.

use refinery::Migration;
use uuid::Uuid;

/// The digest of an empty migration chain.
pub(crate) const MIGRATIONS_ROOT: Uuid = Uuid::from_u128(0x5d0f_5f4b_31a4_4a28_9a52_2b0e_3c1f_7a11);

/// Extends a migration chain's digest by one migration.
pub(crate) fn chain(previous: &Uuid, migration: &Migration) -> Uuid {
    let mut bytes = Encoder::default();
    bytes.str(&migration.prefix().to_string());
    bytes.i64(migration.version().into());
    bytes.str(migration.name());
    bytes.str(migration.sql().unwrap_or_default());
    Uuid::new_v5(previous, &bytes.0)
}

/// Length-prefixed, little-endian fields: no two inputs encode to the same bytes.
#[derive(Default)]
pub(crate) struct Encoder(pub(crate) Vec<u8>);

impl Encoder {
    pub(crate) fn u64(&mut self, n: u64) {
        self.0.extend_from_slice(&n.to_le_bytes());
    }

    pub(crate) fn i64(&mut self, n: i64) {
        self.0.extend_from_slice(&n.to_le_bytes());
    }

    pub(crate) fn str(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }

    pub(crate) fn raw(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editing_a_migrations_sql_changes_its_chain_digest() {
        let before = refinery::Migration::unapplied("V1__a", "CREATE TABLE a(x);");
        let after = refinery::Migration::unapplied("V1__a", "CREATE TABLE a(x, y);");
        let (Ok(before), Ok(after)) = (before, after) else {
            panic!("valid migration names")
        };
        assert_ne!(
            chain(&MIGRATIONS_ROOT, &before),
            chain(&MIGRATIONS_ROOT, &after)
        );
    }
}
