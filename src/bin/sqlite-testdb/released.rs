//! `check --since REF`: every migration file that exists at the git revision REF is
//! released. A released file must stay byte for byte as it was (refinery and sqlx checksum
//! applied migrations and refuse to run when one changed), must stay, and no new migration
//! may sort below the highest released one (runners abort on databases that have the later
//! ones applied).
//!
//! Reads the repository with the `git` command: `rev-parse`, `ls-tree` and `cat-file`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sqlite_testdb::{Error, Migrations, Version};

use crate::annotation::{Annotation, first_changed_line};
use crate::failure::Failure;

/// What the comparison with the released migrations found.
#[derive(Debug, Default)]
pub(crate) struct Released {
    /// `released-migration-changed`, `released-migration-removed`, `migration-out-of-order`.
    pub(crate) annotations: Vec<Annotation>,
    /// The versions (in today's folder) of the migrations that were released: their other
    /// findings are not the change's.
    pub(crate) versions: BTreeSet<Version>,
}

/// A migration file, by its path relative to the migrations folder.
struct File {
    version: Version,
    name: String,
    /// Its path on disk (today's) or in the revision (released).
    path: PathBuf,
    bytes: Vec<u8>,
}

/// Compares the migrations of `dir` (loaded as `current`) with the migration files that
/// exist in `dir` at the git revision `since`.
pub(crate) fn compare(current: &Migrations, dir: &Path, since: &str) -> Result<Released, Failure> {
    let top = git_top(dir)?;
    let commit = resolve(&top, since)?;
    let dir_full = canonical(dir)?;
    let inside = dir_full
        .strip_prefix(&top)
        .unwrap_or(Path::new(""))
        .to_path_buf();
    let released = released_files(&top, &commit, &inside, since)?;
    let today = current_files(current)?;
    let repo_path = |relative: &Path| inside.join(relative);
    Ok(judge(&today, &released, since, &repo_path, dir))
}

/// The comparison itself: files matched by their path in the folder, or by version when a
/// released file was renamed.
fn judge(
    today: &BTreeMap<PathBuf, File>,
    released: &BTreeMap<PathBuf, File>,
    since: &str,
    repo_path: &dyn Fn(&Path) -> PathBuf,
    dir: &Path,
) -> Released {
    let mut out = Released::default();
    let mut matched_today = BTreeSet::new();
    for (relative, old) in released {
        let (now_relative, now) = match today.get(relative) {
            Some(now) => (relative, now),
            None => match today
                .iter()
                .find(|(r, f)| f.version == old.version && !released.contains_key(*r))
            {
                Some((r, now)) => (r, now),
                None => {
                    let mut a = Annotation::error(
                        "released-migration-removed",
                        format!("released migration V{}__{} removed", old.version, old.name),
                        format!(
                            "V{}__{} ({}) was released at {since} and is gone: databases that \
                             applied it keep it in their history, and the application's runner \
                             rejects a history with a migration it does not have",
                            old.version,
                            old.name,
                            repo_path(relative).display()
                        ),
                    );
                    a.file = Some(dir.join(relative));
                    a.migration = Some(format!("V{}__{}", old.version, old.name));
                    a.subject = Some(repo_path(relative).display().to_string());
                    out.annotations.push(a);
                    continue;
                }
            },
        };
        matched_today.insert(now_relative.clone());
        out.versions.insert(now.version);
        let renamed = now_relative != relative;
        if !renamed && now.bytes == old.bytes {
            continue;
        }
        let old_text = String::from_utf8_lossy(&old.bytes);
        let new_text = String::from_utf8_lossy(&now.bytes);
        let what = if renamed {
            format!(
                "was renamed from {} to {}",
                repo_path(relative).display(),
                repo_path(now_relative).display()
            )
        } else if words(&old_text) == words(&new_text) {
            "changed in whitespace only".to_owned()
        } else {
            "changed".to_owned()
        };
        let migration = format!("V{}__{}", now.version, now.name);
        let mut a = Annotation::error(
            "released-migration-changed",
            format!("released migration {migration} {what}"),
            format!(
                "{migration} was released at {since} and {what}; the application's runner \
                 rejects it all the same: refinery and sqlx checksum every applied migration \
                 and refuse to run when one differs. Put the change in a new migration"
            ),
        );
        a.file = Some(now.path.clone());
        a.line = if renamed {
            Some(1)
        } else {
            first_changed_line(&old_text, &new_text)
        };
        a.migration = Some(migration);
        a.version = Some(now.version);
        a.subject = Some(repo_path(relative).display().to_string());
        out.annotations.push(a);
    }
    let Some(highest) = out.versions.iter().next_back().copied() else {
        return out;
    };
    for (relative, now) in today {
        if matched_today.contains(relative) || now.version >= highest {
            continue;
        }
        let migration = format!("V{}__{}", now.version, now.name);
        let mut a = Annotation::error(
            "migration-out-of-order",
            format!("new migration {migration} sorts below released V{highest}"),
            format!(
                "{migration} is new since {since} but sorts below V{highest}, which was released: \
                 databases already at V{highest} never run it, and refinery aborts on them \
                 (\"missing\" migration). Give it a version above V{highest}"
            ),
        );
        a.file = Some(now.path.clone());
        a.line = Some(1);
        a.migration = Some(migration);
        a.version = Some(now.version);
        a.subject = Some(repo_path(relative).display().to_string());
        out.annotations.push(a);
    }
    out
}

/// The words of a text: equal when two texts differ only in whitespace.
fn words(text: &str) -> Vec<&str> {
    text.split_whitespace().collect()
}

/// Today's migration files, by their path in the folder.
fn current_files(current: &Migrations) -> Result<BTreeMap<PathBuf, File>, Failure> {
    files_of(current, None)
}

/// The files of `migrations`, by their path in its folder, each read; a file's `path` is
/// where it is, or its place in `shown_in` (the folder it was copied from).
fn files_of(
    migrations: &Migrations,
    shown_in: Option<&Path>,
) -> Result<BTreeMap<PathBuf, File>, Failure> {
    let base = migrations.dir().map(Path::to_path_buf).unwrap_or_default();
    let mut files = BTreeMap::new();
    for m in migrations.iter() {
        let Some(path) = migrations.file(m.version()) else {
            continue;
        };
        let relative = path.strip_prefix(&base).unwrap_or(path).to_path_buf();
        let bytes = std::fs::read(path).map_err(|source| {
            Failure::Input(Error::Io {
                op: "read",
                path: path.to_path_buf(),
                source,
            })
        })?;
        let shown = shown_in.map_or_else(|| path.to_path_buf(), |dir| dir.join(&relative));
        files.insert(
            relative,
            File {
                version: m.version(),
                name: m.name().to_owned(),
                path: shown,
                bytes,
            },
        );
    }
    Ok(files)
}

/// The migration files in `inside` at `commit`, loaded by the library from a temp copy.
fn released_files(
    top: &Path,
    commit: &str,
    inside: &Path,
    since: &str,
) -> Result<BTreeMap<PathBuf, File>, Failure> {
    let spec = if inside.as_os_str().is_empty() {
        ".".to_owned()
    } else {
        inside.display().to_string()
    };
    let listing = git(
        top,
        &["ls-tree", "-r", "-z", "--name-only", commit, "--", &spec],
    )?;
    let paths: Vec<String> = listing
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .filter(|p| p.ends_with(".sql"))
        .collect();
    let copy = tempfile::Builder::new()
        .prefix("sqlite-testdb-released-")
        .tempdir()
        .map_err(Failure::CacheDir)?;
    let blobs = cat_files(top, commit, &paths)?;
    for (path, bytes) in paths.iter().zip(blobs) {
        let relative = Path::new(path)
            .strip_prefix(inside)
            .unwrap_or(Path::new(path));
        let target = copy.path().join(relative);
        let write = |target: &Path| -> std::io::Result<()> {
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(target, &bytes)
        };
        write(&target).map_err(|source| {
            Failure::Input(Error::Io {
                op: "write",
                path: target.clone(),
                source,
            })
        })?;
    }
    let migrations = match Migrations::from_dir(copy.path()) {
        Ok(m) => m,
        Err(Error::NoMigrations { .. }) => return Ok(BTreeMap::new()),
        Err(error) => {
            return Err(Failure::InputText(format!(
                "the migrations in {spec} at {since} cannot be read: {}",
                error.with_causes()
            )));
        }
    };
    files_of(&migrations, Some(inside))
}

/// The contents of `paths` at `commit`, in order, read by one `git cat-file --batch`.
fn cat_files(top: &Path, commit: &str, paths: &[String]) -> Result<Vec<Vec<u8>>, Failure> {
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let failed = |e: std::io::Error| {
        Failure::InputText(format!("cannot run git cat-file in {}: {e}", top.display()))
    };
    let mut child = Command::new("git")
        .arg("-C")
        .arg(top)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(failed)?;
    let requests: String = paths.iter().map(|p| format!("{commit}:{p}\n")).collect();
    let mut stdin = child.stdin.take();
    // Written from a thread: git answers while it reads, and a full pipe would stall both.
    let writer = std::thread::spawn(move || {
        if let Some(stdin) = stdin.as_mut() {
            let _ = stdin.write_all(requests.as_bytes());
        }
    });
    let mut blobs = Vec::with_capacity(paths.len());
    if let Some(stdout) = child.stdout.take() {
        let mut reader = BufReader::new(stdout);
        for path in paths {
            let mut header = String::new();
            reader.read_line(&mut header).map_err(failed)?;
            let size = header
                .split_whitespace()
                .nth(2)
                .and_then(|s| s.parse::<usize>().ok())
                .ok_or_else(|| {
                    Failure::InputText(format!(
                        "git cat-file cannot read {path} at {commit}: {}",
                        header.trim()
                    ))
                })?;
            let mut bytes = vec![0; size + 1];
            reader.read_exact(&mut bytes).map_err(failed)?;
            bytes.pop();
            blobs.push(bytes);
        }
    }
    let _ = writer.join();
    let _ = child.wait();
    Ok(blobs)
}

/// The top folder of the git work tree `dir` is in.
fn git_top(dir: &Path) -> Result<PathBuf, Failure> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["rev-parse", "--show-toplevel"])
        .output()
        .map_err(|e| {
            Failure::InputText(format!(
                "--since needs git, which cannot be run for {}: {e}",
                dir.display()
            ))
        })?;
    if !out.status.success() {
        return Err(Failure::InputText(format!(
            "{} is not in a git work tree, so --since has nothing to compare with (git: {}); \
             without git history, record the released migrations in a lock file: \
             sqlite-testdb lock {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim(),
            dir.display()
        )));
    }
    let top = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    canonical(Path::new(&top))
}

/// The commit `since` names.
fn resolve(top: &Path, since: &str) -> Result<String, Failure> {
    let out = Command::new("git")
        .arg("-C")
        .arg(top)
        .args(["rev-parse", "--verify", "--quiet", "--end-of-options"])
        .arg(format!("{since}^{{commit}}"))
        .output()
        .map_err(|e| Failure::InputText(format!("cannot run git in {}: {e}", top.display())))?;
    let commit = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if !out.status.success() || commit.is_empty() {
        return Err(Failure::InputText(format!(
            "unknown git revision {since:?} in {} (a shallow clone has no history: fetch it, \
             e.g. actions/checkout with fetch-depth: 0)",
            top.display()
        )));
    }
    Ok(commit)
}

/// The output of `git -C top ARGS`, or an error naming the command.
fn git(top: &Path, args: &[&str]) -> Result<Vec<u8>, Failure> {
    let out = Command::new("git")
        .arg("-C")
        .arg(top)
        .args(args)
        .output()
        .map_err(|e| Failure::InputText(format!("cannot run git in {}: {e}", top.display())))?;
    if !out.status.success() {
        return Err(Failure::InputText(format!(
            "git {} failed in {}: {}",
            args.join(" "),
            top.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(out.stdout)
}

fn canonical(path: &Path) -> Result<PathBuf, Failure> {
    path.canonicalize().map_err(|source| {
        Failure::Input(Error::Io {
            op: "resolve",
            path: path.to_path_buf(),
            source,
        })
    })
}
