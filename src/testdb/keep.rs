//! [`Keep`]: what happens to a test database's files when it is dropped, and its default
//! from `SQLITE_TESTDB_KEEP`, read once per process, strictly.

use std::sync::OnceLock;

use crate::error::{Error, Result};

/// What happens to a test database's files when its [`TestDb`](crate::TestDb) is dropped.
///
/// The default comes from `SQLITE_TESTDB_KEEP` (`on-failure`, `always` or `never`), and is
/// [`Keep::OnFailure`] when the variable is unset; [`Builder::keep`](crate::Builder::keep) overrides both.
///
/// # Examples
///
/// ```
/// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?])?;
/// use sqlite_testdb::{Keep, TestDb};
///
/// let db = TestDb::builder(&m).keep(Keep::Never).build()?;
/// let path = db.path().to_path_buf();
/// drop(db);
/// assert!(!path.exists());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Keep {
    /// Always remove the files, even when the test failed.
    Never,
    /// Keep the files when the thread is panicking, that is when the test failed, and print
    /// their path on stderr. This is the default.
    ///
    /// A panic counts as a failure even in a `#[should_panic]` test.
    #[default]
    OnFailure,
    /// Always keep the files, and print their path on stderr.
    Always,
}

/// Name of the variable that sets the default [`Keep`] policy.
const KEEP_VAR: &str = "SQLITE_TESTDB_KEEP";

const KEEP_VALUES: &str = "on-failure, always, never";

/// The keep policy from `SQLITE_TESTDB_KEEP`, [`Keep::OnFailure`] when unset or empty.
///
/// # Errors
///
/// [`Error::Env`] when the variable holds anything else than the documented values.
pub(crate) fn from_env() -> Result<Keep> {
    static KEEP: OnceLock<std::result::Result<Keep, String>> = OnceLock::new();
    KEEP.get_or_init(|| {
        let value = std::env::var_os(KEEP_VAR).unwrap_or_default();
        parse_keep(&value.to_string_lossy()).ok_or_else(|| value.to_string_lossy().into_owned())
    })
    .clone()
    .map_err(|value| Error::Env {
        var: KEEP_VAR,
        value,
        expected: KEEP_VALUES,
    })
}

fn parse_keep(value: &str) -> Option<Keep> {
    match value.trim().to_ascii_lowercase().as_str() {
        "" | "on-failure" | "on_failure" | "onfailure" => Some(Keep::OnFailure),
        "always" => Some(Keep::Always),
        "never" => Some(Keep::Never),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_defaults_to_on_failure() {
        assert_eq!(Keep::default(), Keep::OnFailure);
    }

    #[test]
    fn keep_values_parse_with_documented_default() {
        assert_eq!(parse_keep(""), Some(Keep::OnFailure));
        assert_eq!(parse_keep("on-failure"), Some(Keep::OnFailure));
        assert_eq!(parse_keep("ALWAYS"), Some(Keep::Always));
        assert_eq!(parse_keep(" never "), Some(Keep::Never));
        assert_eq!(parse_keep("sometimes"), None);
        assert_eq!(parse_keep("1"), None);
    }
}
