//! Migration folders: refinery's layout (`V{n}__{name}.sql`, with `V{n}__{name}.down.sql`
//! beside it), read with refinery's own loader, diesel's (`<timestamp>_<name>/up.sql` and
//! `down.sql`) and sqlx's (`<timestamp>_<description>.sql`, or `.up.sql` and `.down.sql`).

use std::fs;
use std::path::{Path, PathBuf};

use refinery::Migration;

use super::down_script::DownScript;
use super::layout::Layout;
use super::library::{self, Record, SqlxKind};
use crate::error::{Error, Result};
use crate::version::Version;

/// The suffix of a down script: `V3__sessions.down.sql` undoes `V3__sessions.sql`.
const DOWN_SUFFIX: &str = ".down.sql";

/// What a folder holds: its migrations with their files and down scripts.
pub(super) struct Folder {
    /// The folder, canonical.
    pub(super) dir: PathBuf,
    pub(super) layout: Layout,
    pub(super) entries: Vec<(Migration, Option<PathBuf>, Option<DownScript>)>,
    /// The library's record of each entry, in the same order; empty for refinery's.
    pub(super) records: Vec<Record>,
}

/// Loads the folder `dir` in `layout`, or when `None`: refinery's layout, else diesel's
/// when it has sub-folders holding `up.sql`, else sqlx's when it has files named
/// `<version>_<description>.sql`.
pub(super) fn load(dir: &Path, layout: Option<Layout>) -> Result<Folder> {
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
    let layout = layout.unwrap_or(if !ups.is_empty() {
        Layout::Refinery
    } else if is_diesel_layout(&canonical) {
        Layout::Diesel
    } else if is_sqlx_layout(&canonical) {
        Layout::Sqlx
    } else {
        Layout::Refinery
    });
    match layout {
        Layout::Diesel => return load_diesel(canonical),
        Layout::Sqlx => return load_sqlx(canonical),
        Layout::Refinery => {}
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
        records: Vec::new(),
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
    let mut records = Vec::with_capacity(folders.len());
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
        let metadata = folder.join("metadata.toml");
        let metadata = if metadata.is_file() {
            Some(read(&metadata)?)
        } else {
            None
        };
        let record = Record::diesel(&folder_name, metadata.as_deref()).ok_or_else(|| {
            Error::BadDieselMigration {
                path: folder.clone(),
                reason: "its name is not <version>_<name>",
            }
        })?;
        entries.push((migration, Some(up), down));
        records.push(record);
    }
    Ok(Folder {
        dir,
        layout: Layout::Diesel,
        entries,
        records,
    })
}

/// sqlx's layout: `<version>_<description>.sql`, or `.up.sql` with `.down.sql` beside it,
/// in the folder itself (not its sub-folders, as sqlx reads it). Migrations are versions 1,
/// 2, 3, … in the order of sqlx's versions. A `.sql` file sqlx would not read, or a down
/// migration without its up migration, is an error.
fn load_sqlx(dir: PathBuf) -> Result<Folder> {
    let listing = fs::read_dir(&dir).map_err(|e| Error::io("read migrations folder", &dir, e))?;
    let mut files: Vec<PathBuf> = listing
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let mut ups: Vec<(i64, Record, PathBuf, String)> = Vec::new();
    let mut downs: Vec<(i64, PathBuf, String)> = Vec::new();
    for path in files {
        let name = library::file_name(&path);
        if !name.ends_with(".sql") {
            continue;
        }
        let sql = read(&path)?;
        let Some((record, kind)) = Record::sqlx(&name, &sql) else {
            return Err(Error::BadMigrationName { path });
        };
        let Record::Sqlx { version, .. } = record else {
            continue;
        };
        match kind {
            SqlxKind::Down => downs.push((version, path, sql)),
            SqlxKind::Up | SqlxKind::Simple => ups.push((version, record, path, sql)),
        }
    }
    ups.sort_by_key(|(version, ..)| *version);
    let mut entries = Vec::with_capacity(ups.len());
    let mut records = Vec::with_capacity(ups.len());
    for (index, (version, record, path, sql)) in ups.into_iter().enumerate() {
        let stem = library::file_name(&path);
        let description = stem
            .split_once('_')
            .map(|(_, rest)| rest.trim_end_matches(".sql").trim_end_matches(".up"))
            .unwrap_or_default();
        let mapped = Version::try_from(index + 1).unwrap_or(Version::MAX);
        let name = library::refinery_name(description);
        let migration = Migration::unapplied(&format!("V{mapped}__{name}"), &sql)
            .map_err(|_| Error::BadMigrationName { path: path.clone() })?;
        let down = match downs.iter().position(|(v, ..)| *v == version) {
            Some(i) => {
                let (_, down_path, down_sql) = downs.swap_remove(i);
                Some(DownScript::new(Some(down_path), down_sql))
            }
            None => None,
        };
        entries.push((migration, Some(path), down));
        records.push(record);
    }
    if let Some((_, path, _)) = downs.into_iter().next() {
        let expected =
            path.with_file_name(library::file_name(&path).replace(".down.sql", ".up.sql"));
        return Err(Error::OrphanDownScript { path, expected });
    }
    Ok(Folder {
        dir,
        layout: Layout::Sqlx,
        entries,
        records,
    })
}

/// Where the down script of the migration in `up` is, or would be.
pub(super) fn expected_down_path(layout: Layout, up: &Path) -> PathBuf {
    match layout {
        Layout::Refinery => up.with_file_name(format!("{}{DOWN_SUFFIX}", file_stem(up))),
        Layout::Diesel => up.with_file_name("down.sql"),
        Layout::Sqlx => {
            let name = library::file_name(up);
            let stem = name
                .strip_suffix(".up.sql")
                .or_else(|| name.strip_suffix(".sql"))
                .unwrap_or(&name);
            up.with_file_name(format!("{stem}{DOWN_SUFFIX}"))
        }
    }
}

/// Whether `dir` is in sqlx's layout: a file named `<version>_<description>.sql`.
fn is_sqlx_layout(dir: &Path) -> bool {
    fs::read_dir(dir).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            e.path().is_file() && Record::sqlx(&name, "").is_some()
        })
    })
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
    Some(library::refinery_name(name))
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::io("read migration file", path, e))
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}
