//! Embedded refinery migrations of any refinery version in one call: the
//! [`migrations!`](crate::migrations!) macro, which reads a runner once per process.

use std::sync::OnceLock;

use super::set::Migrations;
use crate::error::Result;

/// The migrations `cell` holds, else those `load` gives, kept in `cell` when it succeeds
/// (an error is returned and tried again next time).
#[doc(hidden)]
pub fn cached(
    cell: &OnceLock<Migrations>,
    load: impl FnOnce() -> Result<Migrations>,
) -> Result<Migrations> {
    if let Some(m) = cell.get() {
        return Ok(m.clone());
    }
    let loaded = load()?;
    Ok(cell.get_or_init(|| loaded).clone())
}

/// The [`Migrations`] of a refinery runner of any refinery version (0.8, 0.9, 0.10), such as
/// the one `refinery::embed_migrations!` generates, in one call: read once per process for
/// each place the macro is written, then a cheap clone of the same set.
///
/// It reads the runner's `get_migrations()` and each migration's `version()`, `name()` and
/// `sql()`, which every refinery version has, so the runner's type need not be this crate's
/// refinery 0.10 (as [`Migrations::from_runner`] needs). The result is a
/// `sqlite_testdb::Result<Migrations>`; no `OnceLock` of your own is needed.
///
/// # Errors
///
/// As [`Migrations::from_parts`]: [`Error::NoMigrations`](crate::Error::NoMigrations) for an
/// empty runner, [`Error::DuplicateVersion`](crate::Error::DuplicateVersion),
/// [`Error::BadMigration`](crate::Error::BadMigration). An error is not kept: the next call
/// reads the runner again.
///
/// # Examples
///
/// ```
/// mod embedded {
///     refinery::embed_migrations!("migrations");
/// }
///
/// fn migrations() -> sqlite_testdb::Result<sqlite_testdb::Migrations> {
///     sqlite_testdb::migrations!(embedded::migrations::runner())
/// }
///
/// let m = migrations()?;
/// let again = migrations()?; // the runner is not read again
/// assert_eq!(m.latest(), again.latest());
/// let db = sqlite_testdb::TestDb::new(&m)?;
/// assert_eq!(db.version()?, Some(m.latest()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[macro_export]
macro_rules! migrations {
    ($runner:expr $(,)?) => {{
        static MIGRATIONS: ::std::sync::OnceLock<$crate::Migrations> = ::std::sync::OnceLock::new();
        $crate::__migrations_cached(&MIGRATIONS, || {
            let runner = $runner;
            $crate::Migrations::from_parts(
                runner
                    .get_migrations()
                    .iter()
                    .map(|m| (m.version(), m.name(), m.sql().unwrap_or_default())),
            )
        })
    }};
}
