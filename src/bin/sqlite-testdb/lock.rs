//! The lock file, `sqlite-testdb.lock` in the migrations folder: the released migrations of
//! a project without git history (or that wants them written down). `sqlite-testdb lock DIR`
//! writes it, one line per migration: version, name and refinery's checksum. `check`
//! verifies it when it is there, with the codes of `--since`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use sqlite_testdb::{Migrations, Version};

use crate::annotation::Annotation;
use crate::failure::Failure;
use crate::released::Released;

/// The file's name, in the migrations folder.
pub(crate) const FILE_NAME: &str = "sqlite-testdb.lock";

const HEADER: &str = "# sqlite-testdb.lock: released migrations (version name checksum); \
                      `sqlite-testdb check` fails when one changes or goes. \
                      Rewrite with `sqlite-testdb lock DIR` when releasing.";

/// One line of the file.
struct Entry {
    version: Version,
    name: String,
    checksum: u64,
    line: u32,
}

/// The text of the lock file of `migrations`.
pub(crate) fn text(migrations: &Migrations) -> String {
    let mut text = format!("{HEADER}\n");
    for m in migrations.iter() {
        text.push_str(&format!("{} {} {}\n", m.version(), m.name(), m.checksum()));
    }
    text
}

/// `sqlite-testdb lock DIR`: writes the lock file; returns its path.
pub(crate) fn write(migrations: &Migrations, dir: &Path) -> Result<PathBuf, Failure> {
    let path = dir.join(FILE_NAME);
    std::fs::write(&path, text(migrations)).map_err(|e| {
        Failure::InputText(format!("cannot write lock file {}: {e}", path.display()))
    })?;
    Ok(path)
}

/// Verifies `dir`'s lock file against `migrations`, when there is one.
pub(crate) fn verify(migrations: &Migrations, dir: &Path) -> Result<Option<Released>, Failure> {
    let path = dir.join(FILE_NAME);
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Failure::InputText(format!("cannot read lock file {}: {e}", path.display()))
    })?;
    let entries = parse(&text, &path)?;
    let mut out = Released::default();
    let shown = path.display();
    for entry in &entries {
        let locked = format!("V{}__{}", entry.version, entry.name);
        let Some(now) = migrations.get(entry.version) else {
            let mut a = Annotation::error(
                "released-migration-removed",
                format!("released migration {locked} removed"),
                format!(
                    "{locked} is in {shown} (line {}) but no longer in the folder: databases \
                     that applied it keep it in their history, and the application's runner \
                     rejects a history with a migration it does not have",
                    entry.line
                ),
            );
            a.file = Some(path.clone());
            a.line = Some(entry.line);
            a.migration = Some(locked);
            a.subject = Some(FILE_NAME.to_owned());
            out.annotations.push(a);
            continue;
        };
        out.versions.insert(entry.version);
        if now.name() == entry.name && now.checksum() == entry.checksum {
            continue;
        }
        let migration = format!("V{}__{}", now.version(), now.name());
        let what = if now.name() == entry.name {
            "changed (its checksum differs)".to_owned()
        } else {
            format!("was renamed from {locked}")
        };
        let mut a = Annotation::error(
            "released-migration-changed",
            format!("released migration {migration} {what}"),
            format!(
                "{migration} {what} since it was locked in {shown} (line {}); the application's \
                 runner rejects it all the same: refinery and sqlx checksum every applied \
                 migration and refuse to run when one differs. Put the change in a new migration",
                entry.line
            ),
        );
        a.file = migrations.file(now.version()).map(Path::to_path_buf);
        a.migration = Some(migration);
        a.version = Some(now.version());
        a.subject = Some(FILE_NAME.to_owned());
        out.annotations.push(a);
    }
    let locked: BTreeSet<Version> = entries.iter().map(|e| e.version).collect();
    if let Some(highest) = locked.iter().next_back().copied() {
        for m in migrations.iter() {
            if locked.contains(&m.version()) || m.version() >= highest {
                continue;
            }
            let migration = format!("V{}__{}", m.version(), m.name());
            let mut a = Annotation::error(
                "migration-out-of-order",
                format!("new migration {migration} sorts below released V{highest}"),
                format!(
                    "{migration} is not in {shown} but sorts below V{highest}, which is: \
                     databases already at V{highest} never run it, and refinery aborts on them \
                     (\"missing\" migration). Give it a version above V{highest}"
                ),
            );
            a.file = migrations.file(m.version()).map(Path::to_path_buf);
            a.line = Some(1);
            a.migration = Some(migration);
            a.version = Some(m.version());
            a.subject = Some(FILE_NAME.to_owned());
            out.annotations.push(a);
        }
    }
    Ok(Some(out))
}

/// The entries of a lock file; comments (`#`) and blank lines skipped.
fn parse(text: &str, path: &Path) -> Result<Vec<Entry>, Failure> {
    let mut entries = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let content = raw.trim();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = content.split_whitespace().collect();
        let entry = match fields.as_slice() {
            [version, name, checksum] => {
                version
                    .parse()
                    .ok()
                    .zip(checksum.parse().ok())
                    .map(|(version, checksum)| Entry {
                        version,
                        name: (*name).to_owned(),
                        checksum,
                        line,
                    })
            }
            _ => None,
        };
        let entry = entry.ok_or_else(|| {
            Failure::InputText(format!(
                "bad lock file {}: line {line} is not `version name checksum`: {content:?} \
                 (rewrite it with sqlite-testdb lock)",
                path.display()
            ))
        })?;
        entries.push(entry);
    }
    Ok(entries)
}
