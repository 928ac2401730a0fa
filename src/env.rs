//! The environment variables that steer the crate, each read once per process, strictly.
//!
//! | variable | values | default |
//! |---|---|---|
//! | `SQLITE_TESTDB_KEEP` | `on-failure`, `always`, `never` | `on-failure` |
//! | `SQLITE_TESTDB_CACHE_DIR` | a folder | `<cargo target dir>/sqlite-testdb`, else `<temp>/sqlite-testdb-<uid>` |
//!
//! The library only reads them; settings made on a [`Builder`](crate::Builder) win.

use std::path::PathBuf;
use std::sync::OnceLock;

use crate::{Error, Keep, Result};

/// Name of the variable that sets the default [`Keep`] policy.
pub(crate) const KEEP_VAR: &str = "SQLITE_TESTDB_KEEP";
/// Name of the variable that overrides the template cache folder.
pub(crate) const CACHE_DIR_VAR: &str = "SQLITE_TESTDB_CACHE_DIR";

const KEEP_VALUES: &str = "on-failure, always, never";

/// The keep policy from `SQLITE_TESTDB_KEEP`, [`Keep::OnFailure`] when unset or empty.
///
/// # Errors
///
/// [`Error::Env`] when the variable holds anything else than the documented values.
pub(crate) fn keep() -> Result<Keep> {
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

/// The folder from `SQLITE_TESTDB_CACHE_DIR`, used as given; `None` when unset or empty.
pub(crate) fn cache_dir() -> Option<PathBuf> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        std::env::var_os(CACHE_DIR_VAR)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    })
    .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

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
