//! Versions as the folder's library writes them, and acknowledgements from the command line (`--allow VERSION:CODE`) and the config file's
//! `[allow]` table, as the library's `(version, check)` pairs. A version is the migration's
//! own: refinery's number, sqlx's timestamp, diesel's folder or its digits.

use sqlite_testdb::replay::Check;
use sqlite_testdb::{Migrations, Version};

use crate::config::Config;
use crate::failure::Failure;

/// Every acknowledgement of `flags` and `config`; the first that does not read is an error
/// naming it (and the config file, for one of its entries).
pub(crate) fn allows(
    migrations: &Migrations,
    flags: &[String],
    config: &Config,
) -> Result<Vec<(Version, Check)>, Failure> {
    let mut found = Vec::new();
    for flag in flags {
        let (version, code) = flag.split_once(':').ok_or_else(|| {
            Failure::Usage(format!(
                "--allow `{flag}`: expected VERSION:CODE, e.g. 3:column-dropped"
            ))
        })?;
        let pair = resolve(migrations, version, code)
            .map_err(|why| Failure::Usage(format!("--allow `{flag}`: {why}")))?;
        found.push(pair);
    }
    for (version, code) in &config.allow {
        let pair = resolve(migrations, version, code).map_err(|why| Failure::Config {
            path: config.path.clone().unwrap_or_default(),
            message: format!("[allow] {version}: {why}"),
        })?;
        found.push(pair);
    }
    Ok(found)
}

/// The version that `text` names as the folder's library writes it (refinery's `3`, sqlx's
/// `20240101000000`, diesel's folder or its digits), or why not.
pub(crate) fn version(migrations: &Migrations, text: &str) -> Result<Version, String> {
    migrations.version_of(text.trim()).ok_or_else(|| {
        let origin = migrations
            .dir()
            .map_or_else(|| "the set".to_owned(), |d| d.display().to_string());
        let first = migrations
            .versions()
            .next()
            .and_then(|v| migrations.label(v));
        let example = first.map_or_else(String::new, |l| format!(" (the first is {l})"));
        format!("no migration of {origin} has version `{text}`{example}")
    })
}

/// [`version`] for an argument; a number the set does not have is left to the library,
/// whose error lists the set's versions.
pub(crate) fn version_arg(migrations: &Migrations, text: &str) -> Result<Version, Failure> {
    version(migrations, text).or_else(|why| text.trim().parse().map_err(|_| Failure::Usage(why)))
}

/// The version and check that `version` and `code` name, or why not.
fn resolve(
    migrations: &Migrations,
    version_text: &str,
    code: &str,
) -> Result<(Version, Check), String> {
    let number = version(migrations, version_text)?;
    let check = Check::from_code(code.trim()).ok_or_else(|| {
        let codes: Vec<&str> = Check::ALL.iter().map(|c| c.code()).collect();
        format!(
            "`{code}` is not a check's code (codes: {})",
            codes.join(", ")
        )
    })?;
    Ok((number, check))
}
