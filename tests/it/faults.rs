//! Faults: a builder killed midway, many cold processes at once, unwritable folders, open
//! connections at drop, and a soak for leaked descriptors and folders. Real processes, real
//! files.

use crate::common;
use std::fs::{self, File};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{build_log, child_command, entries, example_migrations, run_child};
use sqlite_testdb::{Error, Migrations, TestDb};

type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

const CHILD: &str = "SQLITE_TESTDB_TEST_CHILD";
/// The migrations folder a child uses, when not the example one.
const CHILD_MIGRATIONS: &str = "SQLITE_TESTDB_TEST_MIGRATIONS";

/// A migration set whose template takes a while to build: long enough to kill its builder
/// midway.
fn slow_migrations(dir: &Path) -> std::io::Result<()> {
    fs::write(
        dir.join("V1__numbers.sql"),
        "CREATE TABLE numbers (n INTEGER PRIMARY KEY, square INTEGER NOT NULL);",
    )?;
    fs::write(
        dir.join("V2__fill.sql"),
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1500000)
         INSERT INTO numbers (n, square) SELECT x, x * x FROM c;
         CREATE INDEX numbers_square_idx ON numbers (square);",
    )
}

fn child_migrations() -> sqlite_testdb::Result<Migrations> {
    match std::env::var_os(CHILD_MIGRATIONS) {
        Some(dir) => Migrations::from_dir(dir),
        None => example_migrations(),
    }
}

/// Child: one database from `SQLITE_TESTDB_CACHE_DIR`, checked, reported on stdout.
#[test]
#[ignore = "run as a child process by the fault tests"]
fn child_builds_one_database() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let m = child_migrations().unwrap_or_else(|e| panic!("{e}"));
    let db = TestDb::new(&m).unwrap_or_else(|e| panic!("{e}"));
    let check: String = db
        .connect()
        .and_then(|c| {
            c.query_row("PRAGMA integrity_check", [], |r| r.get(0))
                .map_err(|e| Error::Sqlite {
                    op: "check",
                    path: db.path().to_path_buf(),
                    source: e,
                })
        })
        .unwrap_or_else(|e| panic!("{e}"));
    println!(
        "child result: version={:?} check={check}",
        db.version().ok().flatten()
    );
}

fn spawn_child(
    test: &str,
    cache: &Path,
    migrations: Option<&Path>,
) -> std::io::Result<std::process::Child> {
    let cache = cache.to_string_lossy();
    let mut envs = vec![(CHILD, "1"), ("SQLITE_TESTDB_CACHE_DIR", &*cache)];
    let migrations = migrations.map(|m| m.to_string_lossy());
    if let Some(dir) = &migrations {
        envs.push((CHILD_MIGRATIONS, dir));
    }
    child_command(test, &envs)?
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
}

fn build_folders(cache: &Path) -> Vec<String> {
    entries(cache)
        .into_iter()
        .filter(|e| e.starts_with(".build-"))
        .collect()
}

#[test]
fn a_builder_killed_midway_leaves_nothing_that_is_used_and_no_lock_held() -> TestResult {
    let migrations = tempfile::tempdir()?;
    slow_migrations(migrations.path())?;
    let cache = tempfile::tempdir()?;

    let mut builder = spawn_child(
        "child_builds_one_database",
        cache.path(),
        Some(migrations.path()),
    )?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while build_folders(cache.path()).is_empty() {
        assert!(
            Instant::now() < deadline,
            "the child never started building"
        );
        assert!(
            builder.try_wait()?.is_none(),
            "the child ended before building"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(100));
    builder.kill()?; // SIGKILL
    builder.wait()?;
    assert!(
        build_log(cache.path()).is_empty(),
        "the build finished before the kill: make the slow migration slower"
    );
    let left = entries(cache.path());
    assert!(!left.iter().any(|e| e.ends_with(".sqlite")), "{left:?}");
    // The lock file may remain, but no one holds its lock any more.
    for lock in left.iter().filter(|e| e.ends_with(".lock")) {
        let file = File::open(cache.path().join(lock))?;
        assert!(file.try_lock().is_ok(), "{lock} is still locked");
    }

    let next = spawn_child(
        "child_builds_one_database",
        cache.path(),
        Some(migrations.path()),
    )?
    .wait_with_output()?;
    let stdout = String::from_utf8_lossy(&next.stdout);
    assert!(
        next.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&next.stderr)
    );
    assert!(
        stdout.contains("child result: version=Some(2) check=ok"),
        "{stdout}"
    );
    assert_eq!(build_log(cache.path()).len(), 1);
    let left = entries(cache.path());
    assert!(build_folders(cache.path()).is_empty(), "{left:?}");
    assert!(!left.iter().any(|e| e.ends_with(".lock")), "{left:?}");
    Ok(())
}

/// Child: 16 threads, each making a database at once.
#[test]
#[ignore = "run as a child process by eight_processes_of_sixteen_threads_build_once"]
fn child_sixteen_threads() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let m = example_migrations().unwrap_or_else(|e| panic!("{e}"));
    let barrier = std::sync::Barrier::new(16);
    let ok = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    let db = TestDb::new(&m)?;
                    db.schema()?.require_tables(&common::EXAMPLE_TABLES)?;
                    db.version()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().ok().and_then(|r| r.ok()).flatten())
            .filter(|v| *v == Some(7))
            .count()
    });
    println!("child result: {ok} of 16 correct");
}

#[test]
fn eight_processes_of_sixteen_threads_build_once() -> TestResult {
    let cache = tempfile::tempdir()?;
    let children = (0..8)
        .map(|_| spawn_child("child_sixteen_threads", cache.path(), None))
        .collect::<std::io::Result<Vec<_>>>()?;
    for child in children {
        let out = child.wait_with_output()?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains("child result: 16 of 16 correct"),
            "{stdout}"
        );
    }
    assert_eq!(
        build_log(cache.path()).len(),
        1,
        "{:?}",
        build_log(cache.path())
    );
    Ok(())
}

#[test]
fn an_unusable_temp_folder_is_a_clear_error_and_leaves_nothing() -> TestResult {
    let m = example_migrations()?;
    let scratch = tempfile::tempdir()?;
    let file = scratch.path().join("a-file");
    fs::write(&file, b"x")?;
    for parent in [file.clone(), scratch.path().join("missing")] {
        let err = TestDb::builder(&m).build_in(&parent).err();
        assert!(
            matches!(&err, Some(Error::Io { op: "create test database folder in", path, .. }) if *path == parent),
            "{err:?}"
        );
    }
    assert_eq!(entries(scratch.path()), ["a-file"]);
    Ok(())
}

#[test]
fn dropping_while_another_thread_holds_a_connection_removes_the_file_without_panic() -> TestResult {
    let db = TestDb::new(&example_migrations()?)?;
    let path = db.path().to_path_buf();
    let conn = db.connect()?;
    conn.execute("INSERT INTO users(email) VALUES ('held@example.com')", [])?;
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || -> rusqlite::Result<i64> {
        let _ = rx.recv();
        conn.query_row("SELECT count(*) FROM users", [], |r| r.get(0))
    });
    drop(db);
    assert!(!path.exists(), "{path:?}");
    tx.send(())?;
    // The open connection still reads the (now unlinked) file.
    let n = holder.join().map_err(|_| "holder panicked")??;
    assert_eq!(n, 1);
    Ok(())
}

/// Child: 1,000 databases across 16 threads in a private folder; prints the open file
/// descriptors before and after, and what is left in the folder.
#[test]
#[ignore = "run as a child process by a_thousand_acquisitions_leak_no_descriptor_or_folder"]
fn child_soak() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let m = example_migrations().unwrap_or_else(|e| panic!("{e}"));
    let parent = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // Warm up: template built, pools' helper thread started.
    #[cfg(feature = "r2d2")]
    drop(TestDb::new(&m).and_then(|db| db.pool().map(drop)));
    #[cfg(not(feature = "r2d2"))]
    drop(TestDb::new(&m));
    let fds = || {
        fs::read_dir("/proc/self/fd")
            .map(|d| d.count())
            .unwrap_or(0)
    };
    let before = fds();
    let failures = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|t| {
                let (m, parent) = (&m, parent.path());
                s.spawn(move || {
                    let per = if t < 8 { 63 } else { 62 };
                    (0..per)
                        .filter(|i| {
                            let run = || -> sqlite_testdb::Result<()> {
                                let db = TestDb::builder(m).build_in(parent)?;
                                let conn = db.connect()?;
                                conn.execute("INSERT INTO users(email) VALUES ('s@x.io')", [])
                                    .map_err(|e| Error::Sqlite {
                                        op: "insert",
                                        path: db.path().into(),
                                        source: e,
                                    })?;
                                if i % 10 == 0 {
                                    #[cfg(feature = "r2d2")]
                                    drop(db.pool()?.get());
                                }
                                Ok(())
                            };
                            run().is_err()
                        })
                        .count()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(usize::MAX))
            .sum::<usize>()
    });
    let after = fds();
    println!(
        "child result: failures={failures} fds_before={before} fds_after={after} left={}",
        entries(parent.path()).len()
    );
}

#[test]
fn a_thousand_acquisitions_leak_no_descriptor_or_folder() -> TestResult {
    let out = run_child("child_soak", &[(CHILD, "1")])?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("child result: ").map(|(_, r)| r.to_owned()))
        .ok_or_else(|| format!("no result:\n{stdout}"))?;
    let field = |name: &str| -> Option<i64> {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .and_then(|v| v.parse().ok())
    };
    assert_eq!(field("failures"), Some(0), "{line}");
    assert_eq!(field("left"), Some(0), "{line}");
    assert_eq!(field("fds_before"), field("fds_after"), "{line}");
    Ok(())
}

/// A tiny tmpfs mounted for one test, unmounted on drop.
struct TinyFs(tempfile::TempDir);

impl TinyFs {
    /// `None` where mounting is not allowed (not root, or no mount namespace rights).
    fn mount(size: &str) -> Option<TinyFs> {
        let dir = tempfile::tempdir().ok()?;
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .stderr(Stdio::null())
            .status()
            .ok()?;
        status.success().then_some(TinyFs(dir))
    }
}

impl Drop for TinyFs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0.path()).status();
    }
}

#[test]
fn a_full_temp_folder_is_a_clear_error_and_leaves_nothing() -> TestResult {
    let m = example_migrations()?;
    let Some(full) = TinyFs::mount("64k") else {
        eprintln!("cannot mount a tmpfs here (needs root): the full-disk case is not exercised");
        return Ok(());
    };
    // The example template is larger than the whole file system.
    let template = TestDb::new(&m)?;
    assert!(fs::metadata(template.path())?.len() > 64 * 1024);
    let err = TestDb::builder(&m).build_in(full.0.path()).err();
    assert!(
        matches!(&err, Some(Error::Io { op: "copy template to", path, source })
            if path.starts_with(full.0.path()) && source.raw_os_error() == Some(28)),
        "{err:?}"
    );
    assert!(
        entries(full.0.path()).is_empty(),
        "{:?}",
        entries(full.0.path())
    );

    // Straight into the full folder: the half-written file is removed, from the file (the
    // first copy of a fresh cache) and from memory (the next ones) alike.
    let cache = tempfile::tempdir()?;
    let mut shared = TestDb::builder(&m);
    shared.cache_dir(cache.path()).shared_folder();
    for attempt in 0..2 {
        let err = shared.build_in(full.0.path()).err();
        assert!(
            matches!(&err, Some(Error::Io { op: "copy template to", path, source })
                if path.parent() == Some(full.0.path()) && source.raw_os_error() == Some(28)),
            "attempt {attempt}: {err:?}"
        );
        assert!(
            entries(full.0.path()).is_empty(),
            "attempt {attempt}: {:?}",
            entries(full.0.path())
        );
    }
    Ok(())
}
