//! The config file, `sqlite-testdb.toml` beside the migrations: the settings CI runs
//! `check` with, so that its command line stays short.
//!
//! ```toml
//! # Migrations that delete or change data on purpose: their changes are listed, not failed.
//! expect-changes = [21, 35]
//! # The application runs its migrations with foreign keys off.
//! foreign-keys = false
//! # Rows per table and seed of the generated rows (check --with-data).
//! rows = 20
//! seed = 0
//! # Seconds a migration may run over them before it is stopped and reported.
//! time-limit = 10
//! # The committed schema, checked against the migrations (check --schema FILE); relative
//! # to this file's folder.
//! schema-file = "../schema.sql"
//! # The oldest SQLite the project supports: newer features in a migration fail.
//! min-sqlite = "3.31"
//!
//! # Findings a migration means, per version: listed, not failed.
//! [allow]
//! 3 = ["column-dropped"]
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlite_testdb::Version;

use crate::args::positive_seconds;
use crate::failure::Failure;

/// The file's name, in the migrations folder.
pub(crate) const FILE_NAME: &str = "sqlite-testdb.toml";

/// The settings of a config file; all empty without one.
#[derive(Debug, Default)]
pub(crate) struct Config {
    /// The file read, if any.
    pub(crate) path: Option<PathBuf>,
    pub(crate) expect_changes: Vec<Version>,
    pub(crate) rows: Option<usize>,
    pub(crate) seed: Option<u64>,
    pub(crate) time_limit: Option<Duration>,
    /// `foreign-keys = false`: migrate with foreign keys off.
    pub(crate) foreign_keys: Option<bool>,
    /// `schema-file = "…"`, relative to the config file's folder.
    pub(crate) schema_file: Option<PathBuf>,
    /// `min-sqlite = "3.31"`.
    pub(crate) min_sqlite: Option<String>,
    /// The `[allow]` table: (version as written, code) pairs.
    pub(crate) allow: Vec<(String, String)>,
}

/// Reads `explicit`, else `FILE_NAME` in `dir` when it exists.
pub(crate) fn load(explicit: Option<&Path>, dir: &Path) -> Result<Config, Failure> {
    let path = match explicit {
        Some(path) => path.to_path_buf(),
        None => {
            let beside = dir.join(FILE_NAME);
            if !beside.is_file() {
                return Ok(Config::default());
            }
            beside
        }
    };
    let bad = |message: String| Failure::Config {
        path: path.clone(),
        message,
    };
    let text = std::fs::read_to_string(&path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let mut config = Config {
        path: Some(path.clone()),
        ..Config::default()
    };
    for (key, value) in &table {
        let expected = |what: &str| {
            bad(format!(
                "`{key}` must be {what} (found: {})",
                value.type_str()
            ))
        };
        let number = |value: &toml::Value| value.as_integer().filter(|n| *n >= 0);
        match key.as_str() {
            "expect-changes" => {
                let list = value
                    .as_array()
                    .ok_or_else(|| expected("a list of versions, e.g. [21, 35]"))?;
                for item in list {
                    let version = number(item)
                        .and_then(|n| Version::try_from(n).ok())
                        .ok_or_else(|| expected("a list of versions, e.g. [21, 35]"))?;
                    config.expect_changes.push(version);
                }
            }
            "rows" => {
                let rows = number(value)
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or_else(|| expected("a number of rows"))?;
                config.rows = Some(rows);
            }
            "foreign-keys" => {
                let on = value.as_bool().ok_or_else(|| expected("true or false"))?;
                config.foreign_keys = Some(on);
            }
            "seed" => {
                let seed = number(value)
                    .and_then(|n| u64::try_from(n).ok())
                    .ok_or_else(|| expected("a number"))?;
                config.seed = Some(seed);
            }
            "time-limit" => {
                let seconds = value
                    .as_float()
                    .or_else(|| value.as_integer().map(|n| n as f64))
                    .and_then(positive_seconds)
                    .ok_or_else(|| expected("a number of seconds above zero"))?;
                config.time_limit = Some(seconds);
            }
            "schema-file" => {
                let file = value.as_str().ok_or_else(|| expected("a file name"))?;
                let folder = path.parent().unwrap_or(Path::new(""));
                config.schema_file = Some(folder.join(file));
            }
            "min-sqlite" => {
                let version = value
                    .as_str()
                    .ok_or_else(|| expected("a SQLite version, e.g. \"3.31\""))?;
                config.min_sqlite = Some(version.to_owned());
            }
            "allow" => {
                let entries = value
                    .as_table()
                    .ok_or_else(|| expected("a table, e.g. [allow] 3 = [\"column-dropped\"]"))?;
                for (version, codes) in entries {
                    let codes = codes
                        .as_array()
                        .filter(|codes| !codes.is_empty())
                        .ok_or_else(|| {
                            bad(format!(
                                "[allow] {version} must be a list of codes, e.g. \
                                 [\"column-dropped\"]"
                            ))
                        })?;
                    for code in codes {
                        let code = code.as_str().ok_or_else(|| {
                            bad(format!(
                                "[allow] {version}: codes are strings, found a {}",
                                code.type_str()
                            ))
                        })?;
                        config.allow.push((version.clone(), code.to_owned()));
                    }
                }
            }
            _ => {
                return Err(bad(format!(
                    "unknown setting `{key}` (known: allow, expect-changes, foreign-keys, \
                     min-sqlite, rows, schema-file, seed, time-limit)"
                )));
            }
        }
    }
    Ok(config)
}
