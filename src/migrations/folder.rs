//! Migration folders: refinery's layout (`V{n}__{name}.sql`, with `V{n}__{name}.down.sql`
//! beside it), read with refinery's own loader, and diesel's (`<timestamp>_<name>/up.sql`
//! and `down.sql`).

use std::fs;
use std::path::{Path, PathBuf};

use refinery::Migration;

use super::down_script::DownScript;
use super::version::Version;
use crate::{Error, Result};

/// The suffix of a down script: `V3__sessions.down.sql` undoes `V3__sessions.sql`.
const DOWN_SUFFIX: &str = ".down.sql";

/// How a folder of migrations is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Layout {
    /// refinery's: `V{n}__{name}.sql`, with `V{n}__{name}.down.sql` beside it.
    Refinery,
    /// diesel's: `<timestamp>_<name>/up.sql` and `down.sql`.
    Diesel,
}

/// What a folder holds: its migrations with their files and down scripts.
pub(super) struct Folder {
    /// The folder, canonical.
    pub(super) dir: PathBuf,
    pub(super) layout: Layout,
    pub(super) entries: Vec<(Migration, Option<PathBuf>, Option<DownScript>)>,
}

/// Loads the folder `dir`: refinery's layout, or diesel's when it has no refinery file and
/// sub-folders holding `up.sql`.
pub(super) fn load(dir: &Path) -> Result<Folder> {
    let canonical = dir
        .canonicalize()
        .map_err(|e| Error::io("read migrations folder", dir, e))?;
    if !canonical.is_dir() {
        return Err(Error::io(
            "read migrations folder",
            dir,
            std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a folder"),
        ));
    }

    let ups: Vec<PathBuf> =
        refinery_core::find_migration_files(&canonical, refinery_core::MigrationType::Sql)
            .map_err(|e| Error::Refinery {
                op: "list migrations in",
                path: dir.to_path_buf(),
                source: e,
            })?
            .collect();
    if ups.is_empty() && is_diesel_layout(&canonical) {
        return load_diesel(canonical);
    }

    let mut entries = Vec::with_capacity(ups.len());
    for path in &ups {
        let sql = read(path)?;
        let stem = file_stem(path);
        let migration = Migration::unapplied(&stem, &sql).map_err(|_| {
            // refinery's regex accepted the name, but the version does not fit its type.
            Error::BadMigrationName { path: path.clone() }
        })?;
        entries.push((migration, Some(path.clone()), None));
    }

    // Every file refinery skipped: down scripts, typos, Rust migrations.
    for item in walkdir::WalkDir::new(&canonical).sort_by_file_name() {
        let item = item.map_err(|e| {
            let path = e.path().unwrap_or(&canonical).to_path_buf();
            Error::io("read migrations folder", path, e.into())
        })?;
        let path = item.path();
        if !item.file_type().is_file() || ups.iter().any(|up| up == path) {
            continue;
        }
        let name = item.file_name().to_string_lossy();
        if let Some(stem) = name.strip_suffix(DOWN_SUFFIX) {
            let up = path.with_file_name(format!("{stem}.sql"));
            let Some(entry) = entries
                .iter_mut()
                .find(|(_, file, _)| file.as_ref() == Some(&up))
            else {
                return Err(Error::OrphanDownScript {
                    path: path.to_path_buf(),
                    expected: up,
                });
            };
            entry.2 = Some(DownScript::new(Some(path.to_path_buf()), read(path)?));
        } else if name.ends_with(".sql") {
            return Err(Error::BadMigrationName {
                path: path.to_path_buf(),
            });
        } else if name.ends_with(".rs") && refinery_core::parse_migration_name(&name).is_ok() {
            return Err(Error::RustMigrationInFolder {
                path: path.to_path_buf(),
            });
        }
    }

    Ok(Folder {
        dir: canonical,
        layout: Layout::Refinery,
        entries,
    })
}

/// Diesel's layout: one folder per migration, `<timestamp>_<name>/up.sql` and
/// `down.sql`. Folders are versions 1, 2, 3, … in the order of their names.
fn load_diesel(dir: PathBuf) -> Result<Folder> {
    let listing = fs::read_dir(&dir).map_err(|e| Error::io("read migrations folder", &dir, e))?;
    let mut folders: Vec<PathBuf> = listing
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .collect();
    folders.sort();
    let mut entries = Vec::with_capacity(folders.len());
    for (index, folder) in folders.into_iter().enumerate() {
        let folder_name = folder
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let name = diesel_name(&folder_name).ok_or_else(|| Error::BadDieselMigration {
            path: folder.clone(),
            reason: "its name is not <version>_<name>",
        })?;
        let up = folder.join("up.sql");
        if !up.is_file() {
            return Err(Error::BadDieselMigration {
                path: folder.clone(),
                reason: "it has no up.sql",
            });
        }
        let version = Version::try_from(index + 1).unwrap_or(Version::MAX);
        let migration =
            Migration::unapplied(&format!("V{version}__{name}"), &read(&up)?).map_err(|_| {
                Error::BadDieselMigration {
                    path: folder.clone(),
                    reason: "its name is not <version>_<name>",
                }
            })?;
        let down = folder.join("down.sql");
        let down = if down.is_file() {
            Some(DownScript::new(Some(down.clone()), read(&down)?))
        } else {
            None
        };
        entries.push((migration, Some(up), down));
    }
    Ok(Folder {
        dir,
        layout: Layout::Diesel,
        entries,
    })
}

/// Where the down script of the migration in `up` is, or would be.
pub(super) fn expected_down_path(layout: Layout, up: &Path) -> PathBuf {
    match layout {
        Layout::Refinery => up.with_file_name(format!("{}{DOWN_SUFFIX}", file_stem(up))),
        Layout::Diesel => up.with_file_name("down.sql"),
    }
}

/// Whether `dir` is in diesel's layout: sub-folders holding `up.sql`.
fn is_diesel_layout(dir: &Path) -> bool {
    fs::read_dir(dir)
        .is_ok_and(|entries| entries.flatten().any(|e| e.path().join("up.sql").is_file()))
}

/// The name of a diesel migration folder as refinery takes names: what follows the first
/// `_` (before it is diesel's version), with every character refinery does not accept in a
/// name (`-`, `.`, a space, …) written `_`. `2018-12-25-164502_media-cover-deletion` →
/// `media_cover_deletion`; `2024-03-13_170000_sso_userscascade` →
/// `170000_sso_userscascade`. `None` when there is no version or no name.
fn diesel_name(folder: &str) -> Option<String> {
    let (version, name) = folder.split_once('_')?;
    if version.is_empty() || name.is_empty() {
        return None;
    }
    Some(
        name.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect(),
    )
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::io("read migration file", path, e))
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}
