//! What is meant, acknowledged per version: the `[allow]` table of `sqlite-testdb.toml` and
//! the command's `--allow V:code`. (Comments in the migration file itself are read by
//! [`allow_comment`](crate::sql::allow_comment).)
//!
//! ```toml
//! [allow]
//! 3 = ["column-dropped"]
//! 12 = ["table-dropped", "foreign-key-dropped"]
//! ```
//!
//! The command's config reader (`src/bin/sqlite-testdb/config.rs`) is to hand each entry of
//! the table to [`allow_entry`]: the key as written, the items that are strings, and an
//! error of its own (`[allow] 3 must be a list of codes`) for items that are not.

use super::version::Version;
use crate::sql::allow_comment::is_code;

/// A finding of `code` acknowledged at migration `version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Allow {
    pub(crate) version: Version,
    pub(crate) code: String,
}

/// One entry of the `[allow]` table, `key = [codes]`; `known` are the codes findings have.
/// The error names the entry and what is wrong with it.
pub(crate) fn allow_entry(key: &str, codes: &[&str], known: &[&str]) -> Result<Vec<Allow>, String> {
    let version = version(key).ok_or_else(|| {
        format!(
            "[allow] `{key}` is not a migration version: expected e.g. 3 = [\"column-dropped\"]"
        )
    })?;
    if codes.is_empty() {
        return Err(format!("[allow] {key} names no code"));
    }
    codes
        .iter()
        .map(|code| {
            checked(code, known)
                .map(|code| Allow { version, code })
                .map_err(|why| format!("[allow] {key}: {why}"))
        })
        .collect()
}

/// `--allow V:code`, e.g. `3:column-dropped`.
pub(crate) fn allow_flag(text: &str, known: &[&str]) -> Result<Allow, String> {
    let (key, code) = text
        .split_once(':')
        .ok_or_else(|| format!("--allow `{text}`: expected VERSION:CODE, e.g. 3:column-dropped"))?;
    let version = version(key)
        .ok_or_else(|| format!("--allow `{text}`: `{key}` is not a migration version"))?;
    let code = checked(code, known).map_err(|why| format!("--allow `{text}`: {why}"))?;
    Ok(Allow { version, code })
}

/// A version as written in a key or flag: digits, as refinery numbers its files.
fn version(text: &str) -> Option<Version> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn checked(code: &str, known: &[&str]) -> Result<String, String> {
    let code = code.trim();
    if !is_code(code) {
        return Err(format!(
            "`{code}` is not a code: codes are kebab-case, e.g. column-dropped"
        ));
    }
    if !known.contains(&code) {
        return Err(format!(
            "`{code}` is not a code findings have (known: {})",
            known.join(", ")
        ));
    }
    Ok(code.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: [&str; 3] = ["column-dropped", "table-dropped", "must-apply"];

    #[test]
    fn table_entries_give_one_allow_per_code() {
        assert_eq!(
            allow_entry("3", &["column-dropped", "table-dropped"], &KNOWN),
            Ok(vec![
                Allow {
                    version: 3,
                    code: "column-dropped".into()
                },
                Allow {
                    version: 3,
                    code: "table-dropped".into()
                },
            ])
        );
    }

    #[test]
    fn bad_entries_are_named() {
        let err =
            |key: &str, codes: &[&str]| allow_entry(key, codes, &KNOWN).err().unwrap_or_default();
        assert!(
            err("V3", &["column-dropped"]).starts_with("[allow] `V3` is not a migration version")
        );
        assert_eq!(err("3", &[]), "[allow] 3 names no code");
        assert!(err("3", &["Column_Dropped"]).contains("`Column_Dropped` is not a code"));
        assert!(err("3", &["column-gone"]).starts_with(
            "[allow] 3: `column-gone` is not a code findings have (known: column-dropped, "
        ));
    }

    #[test]
    fn flags_are_version_colon_code() {
        assert_eq!(
            allow_flag("12:must-apply", &KNOWN),
            Ok(Allow {
                version: 12,
                code: "must-apply".into()
            })
        );
        for (bad, says) in [
            ("12", "expected VERSION:CODE"),
            ("x:must-apply", "`x` is not a migration version"),
            ("12:", "`` is not a code"),
            ("12:nope", "not a code findings have"),
        ] {
            let err = allow_flag(bad, &KNOWN).err().unwrap_or_default();
            assert!(
                err.starts_with(&format!("--allow `{bad}`")) && err.contains(says),
                "{err}"
            );
        }
    }
}
