//! The template cache folder: trusted only when private, and cleaned of templates nobody
//! uses, never of one a process holds.

use std::fs::{self, File};
use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::common::{entries, example_migrations};
use sqlite_testdb::{Error, TestDb};

type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// A template and record that look like another migration set's, last used `age` ago.
fn plant_template(cache: &Path, fingerprint: &str, age: Duration) -> std::io::Result<()> {
    let when = SystemTime::now() - age;
    for ext in ["sqlite", "record"] {
        let path = cache.join(format!("{fingerprint}.{ext}"));
        fs::write(&path, b"planted")?;
        File::options()
            .write(true)
            .open(&path)?
            .set_modified(when)?;
    }
    Ok(())
}

fn fake_fingerprint(n: usize) -> String {
    format!("{n:032x}")
}

#[cfg(unix)]
#[test]
fn a_cache_folder_everyone_can_write_is_not_trusted() -> TestResult {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir()?;
    let cache = parent.path().join("shared");
    fs::create_dir(&cache)?;
    fs::set_permissions(&cache, fs::Permissions::from_mode(0o777))?;
    let err = TestDb::builder(&example_migrations()?)
        .cache_dir(&cache)
        .build()
        .err()
        .ok_or("built in a world-writable cache")?;
    assert!(
        matches!(&err, Error::UntrustedCacheDir { path, .. } if *path == cache),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "template cache folder {cache:?} is not trusted: everyone can write to it \
             (mode 777); use a folder of your own"
        )
    );
    assert!(entries(&cache).is_empty(), "{:?}", entries(&cache));
    Ok(())
}

#[cfg(unix)]
#[test]
fn a_cache_folder_of_another_user_is_not_trusted() -> TestResult {
    use std::os::unix::fs::MetadataExt;
    let parent = tempfile::tempdir()?;
    let cache = parent.path().join("theirs");
    fs::create_dir(&cache)?;
    let me = fs::metadata(parent.path())?.uid();
    // Only root can give a folder away; elsewhere, the check is the same code path as above.
    if me != 0 {
        eprintln!("not root: cannot chown {cache:?} to another user to test this");
        return Ok(());
    }
    std::os::unix::fs::chown(&cache, Some(4242), None)?;
    let err = TestDb::builder(&example_migrations()?)
        .cache_dir(&cache)
        .build()
        .err()
        .ok_or("built in another user's cache")?;
    assert!(
        err.to_string()
            .contains("is owned by uid 4242, not by this user (uid 0)"),
        "{err}"
    );
    Ok(())
}

#[test]
fn a_cache_path_that_is_a_file_is_a_clear_error_naming_it() -> TestResult {
    let parent = tempfile::tempdir()?;
    let cache = parent.path().join("not-a-folder");
    fs::write(&cache, b"x")?;
    let err = TestDb::builder(&example_migrations()?)
        .cache_dir(&cache)
        .build()
        .err()
        .ok_or("built in a file")?;
    assert!(
        matches!(&err, Error::Io { path, .. } if *path == cache),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("create template cache folder"),
        "{err}"
    );
    Ok(())
}

#[test]
fn templates_unused_for_a_week_are_removed_when_another_is_built() -> TestResult {
    let cache = tempfile::tempdir()?;
    plant_template(cache.path(), &fake_fingerprint(1), 8 * DAY)?;
    plant_template(cache.path(), &fake_fingerprint(2), DAY)?;
    let db = TestDb::builder(&example_migrations()?)
        .cache_dir(cache.path())
        .build()?;
    assert_eq!(db.version()?, Some(7));
    let left = entries(cache.path());
    assert!(
        !left.iter().any(|e| e.starts_with(&fake_fingerprint(1))),
        "{left:?}"
    );
    assert!(
        left.contains(&format!("{}.sqlite", fake_fingerprint(2))),
        "{left:?}"
    );
    assert!(
        left.contains(&format!("{}.record", fake_fingerprint(2))),
        "{left:?}"
    );
    Ok(())
}

#[test]
fn at_most_thirty_two_other_templates_are_kept_the_least_recently_used_go() -> TestResult {
    let cache = tempfile::tempdir()?;
    for n in 0..40 {
        // n = 0 is the most recently used.
        plant_template(
            cache.path(),
            &fake_fingerprint(n),
            Duration::from_secs(60 * n as u64),
        )?;
    }
    TestDb::builder(&example_migrations()?)
        .cache_dir(cache.path())
        .build()?;
    let left = entries(cache.path());
    for n in 0..32 {
        assert!(
            left.contains(&format!("{}.sqlite", fake_fingerprint(n))),
            "{n}: {left:?}"
        );
    }
    for n in 32..40 {
        assert!(
            !left.contains(&format!("{}.sqlite", fake_fingerprint(n))),
            "{n}: {left:?}"
        );
    }
    Ok(())
}

#[test]
fn a_template_held_in_use_is_never_removed() -> TestResult {
    let cache = tempfile::tempdir()?;
    let held = fake_fingerprint(7);
    plant_template(cache.path(), &held, 30 * DAY)?;
    // What a process that uses the template holds: a shared lock on it.
    let in_use = File::open(cache.path().join(format!("{held}.sqlite")))?;
    in_use.lock_shared()?;
    TestDb::builder(&example_migrations()?)
        .cache_dir(cache.path())
        .build()?;
    let left = entries(cache.path());
    assert!(left.contains(&format!("{held}.sqlite")), "{left:?}");
    drop(in_use);

    // Released, it goes with the next build.
    TestDb::builder(&example_migrations()?)
        .version(2)
        .cache_dir(cache.path())
        .build()?;
    let left = entries(cache.path());
    assert!(!left.contains(&format!("{held}.sqlite")), "{left:?}");
    Ok(())
}

#[test]
fn templates_this_process_uses_survive_another_build() -> TestResult {
    let cache = tempfile::tempdir()?;
    let m = example_migrations()?;
    let first = TestDb::builder(&m)
        .version(1)
        .cache_dir(cache.path())
        .build()?;
    let fingerprint = TestDb::builder(&m).version(1).fingerprint()?.to_string();
    // Age it far past the limit: the shared lock still protects it.
    File::options()
        .write(true)
        .open(cache.path().join(format!("{fingerprint}.record")))?
        .set_modified(SystemTime::now() - 30 * DAY)?;
    TestDb::builder(&m)
        .version(2)
        .cache_dir(cache.path())
        .build()?;
    assert!(cache.path().join(format!("{fingerprint}.sqlite")).exists());
    let again = TestDb::builder(&m)
        .version(1)
        .cache_dir(cache.path())
        .build()?;
    assert_eq!((first.version()?, again.version()?), (Some(1), Some(1)));
    Ok(())
}

#[test]
fn leftovers_of_dead_builders_of_other_templates_are_removed_after_an_hour() -> TestResult {
    let cache = tempfile::tempdir()?;
    let old = SystemTime::now() - Duration::from_secs(2 * 60 * 60);
    let stale_dir = cache
        .path()
        .join(format!(".build-{}-dead", fake_fingerprint(3)));
    let fresh_dir = cache
        .path()
        .join(format!(".build-{}-live", fake_fingerprint(4)));
    let stale_lock = cache.path().join(format!("{}.lock", fake_fingerprint(3)));
    fs::create_dir(&stale_dir)?;
    fs::create_dir(&fresh_dir)?;
    File::open(&stale_dir)?.set_modified(old)?;
    fs::write(&stale_lock, b"")?;
    File::options()
        .write(true)
        .open(&stale_lock)?
        .set_modified(old)?;

    TestDb::builder(&example_migrations()?)
        .cache_dir(cache.path())
        .build()?;
    assert!(!stale_dir.exists());
    assert!(!stale_lock.exists());
    assert!(
        fresh_dir.exists(),
        "a build folder younger than an hour may be a live build"
    );
    Ok(())
}

/// A folder bind-mounted read-only over itself for one test, unmounted on drop.
struct ReadOnly(tempfile::TempDir);

impl ReadOnly {
    /// `None` where mounting is not allowed (not root).
    fn mount() -> Option<ReadOnly> {
        let dir = tempfile::tempdir().ok()?;
        let run = |args: &[&str]| {
            std::process::Command::new("mount")
                .args(args)
                .arg(dir.path())
                .arg(dir.path())
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        let mounted = run(&["--bind"]);
        let read_only = mounted && run(&["-o", "remount,ro,bind"]);
        let guard = ReadOnly(dir);
        read_only.then_some(guard)
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(self.0.path())
            .status();
    }
}

#[test]
fn a_read_only_cache_folder_is_a_clear_error_naming_it() -> TestResult {
    let Some(cache) = ReadOnly::mount() else {
        eprintln!("cannot bind-mount read-only here (needs root): the case is not exercised");
        return Ok(());
    };
    let err = TestDb::builder(&example_migrations()?)
        .cache_dir(cache.0.path())
        .build()
        .err()
        .ok_or("built in a read-only cache")?;
    assert!(
        matches!(&err, Error::Io { op: "create lock file", path, source }
            if path.starts_with(cache.0.path()) && source.raw_os_error() == Some(30)),
        "{err:?}"
    );
    assert!(entries(cache.0.path()).is_empty());

    // With the shared folder, `databases/` is the first thing that cannot be created.
    let err = TestDb::builder(&example_migrations()?)
        .cache_dir(cache.0.path())
        .shared_folder()
        .build()
        .err()
        .ok_or("built in a read-only cache")?;
    assert!(
        matches!(&err, Error::Io { op: "create shared test database folder", path, source }
            if *path == cache.0.path().join("databases") && source.raw_os_error() == Some(30)),
        "{err:?}"
    );
    assert!(err.to_string().contains("databases"), "{err}");
    assert!(entries(cache.0.path()).is_empty());
    Ok(())
}
