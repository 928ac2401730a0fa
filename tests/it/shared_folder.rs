//! `Builder::shared_folder`: database files straight in one folder, no folder per test; and
//! how copies are made (from the file first, from memory after), whatever the folder.

use crate::common;
use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::common::{EXAMPLE_TABLES, entries, example_migrations, run_child, tables};
use sqlite_testdb::{Error, Keep, Migrations, TestDb};

type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// Set in the child processes the tests below start.
const CHILD: &str = "SQLITE_TESTDB_TEST_CHILD";

fn count_users(db: &TestDb) -> Result<i64, Box<dyn std::error::Error>> {
    Ok(db
        .connect()?
        .query_row("SELECT count(*) FROM users", [], |r| r.get(0))?)
}

#[test]
fn databases_share_one_folder_in_the_cache_and_stay_apart() -> TestResult {
    let m = example_migrations()?;
    let cache = tempfile::tempdir()?;
    let mut builder = TestDb::builder(&m);
    builder.cache_dir(cache.path()).shared_folder();
    let a = builder.build()?;
    let b = builder.build()?;

    let folder = cache.path().join("databases");
    assert_eq!(a.path().parent(), Some(folder.as_path()));
    assert_eq!(b.path().parent(), Some(folder.as_path()));
    assert_ne!(a.path(), b.path());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(fs::metadata(&folder)?.permissions().mode() & 0o777, 0o700);
    }

    assert_eq!(a.version()?, Some(m.latest()));
    assert_eq!(tables(&b.connect()?)?, EXAMPLE_TABLES);
    a.connect()?
        .execute("INSERT INTO users(email) VALUES ('a@example.com')", [])?;
    assert_eq!((count_users(&a)?, count_users(&b)?), (1, 0));
    Ok(())
}

#[test]
fn drop_removes_the_file_and_its_wal_and_shm_but_not_the_folder() -> TestResult {
    let m = example_migrations()?;
    let cache = tempfile::tempdir()?;
    let mut builder = TestDb::builder(&m);
    builder
        .cache_dir(cache.path())
        .shared_folder()
        .keep(Keep::Never);
    let neighbour = builder.build()?;
    let db = builder.build()?;
    let path = db.path().to_path_buf();

    // A connection left open makes SQLite keep its -wal and -shm files beside the database.
    let conn = db.connect()?;
    conn.execute("INSERT INTO users(email) VALUES ('x@example.com')", [])?;
    let name = |suffix: &str| format!("{}{suffix}", path.display());
    assert!(Path::new(&name("-wal")).exists() && Path::new(&name("-shm")).exists());
    drop(db);
    for suffix in ["", "-wal", "-shm", "-journal"] {
        assert!(
            !Path::new(&name(suffix)).exists(),
            "{} is left",
            name(suffix)
        );
    }
    drop(conn);

    // The neighbour is untouched; the folder holds nothing but it.
    let folder = cache.path().join("databases");
    let file = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
    assert_eq!(
        entries(&folder),
        file(neighbour.path()).into_iter().collect::<Vec<_>>()
    );
    neighbour.close()?;
    assert!(entries(&folder).is_empty(), "{:?}", entries(&folder));
    assert!(folder.is_dir());
    Ok(())
}

#[test]
fn build_in_a_folder_puts_the_file_straight_in_it() -> TestResult {
    let m = example_migrations()?;
    let parent = tempfile::tempdir()?;
    let db = TestDb::builder(&m)
        .shared_folder()
        .build_in(parent.path())?;
    assert_eq!(db.path().parent(), Some(parent.path()));
    assert_eq!(db.version()?, Some(m.latest()));
    let path = db.path().to_path_buf();
    db.close()?;
    assert!(!path.exists());
    assert!(
        entries(parent.path()).is_empty(),
        "{:?}",
        entries(parent.path())
    );
    Ok(())
}

#[test]
fn keep_leaves_the_file_where_it_is() -> TestResult {
    let m = example_migrations()?;
    let cache = tempfile::tempdir()?;
    let db = TestDb::builder(&m)
        .cache_dir(cache.path())
        .shared_folder()
        .build()?;
    let path = db.path().to_path_buf();
    let kept = db.keep()?;
    assert_eq!(kept, path);
    let version: i64 = rusqlite::Connection::open(&kept)?.query_row(
        "SELECT max(version) FROM refinery_schema_history",
        [],
        |r| r.get(0),
    )?;
    assert_eq!(version, i64::from(m.latest()));
    Ok(())
}

#[test]
#[ignore = "run as a child process by the keep-on-failure test"]
fn child_panics_with_a_database_in_the_shared_folder() {
    let Some(cache) = std::env::var_os(CHILD) else {
        return;
    };
    let m = example_migrations().unwrap_or_else(|e| panic!("{e}"));
    let db = TestDb::builder(&m)
        .cache_dir(cache)
        .shared_folder()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let conn = db.connect().unwrap_or_else(|e| panic!("{e}"));
    conn.execute(
        "INSERT INTO users(email) VALUES ('evidence@example.com')",
        [],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    drop(conn);
    panic!("the test failed on purpose");
}

#[test]
fn a_panicking_test_keeps_its_database_in_the_shared_folder_and_prints_it() -> TestResult {
    let cache = tempfile::tempdir()?;
    let dir = cache.path().to_string_lossy().into_owned();
    let out = run_child(
        "child_panics_with_a_database_in_the_shared_folder",
        &[(CHILD, &dir)],
    )?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the child test must fail:\n{stderr}");
    let kept = stderr
        .lines()
        .find_map(|l| l.strip_prefix("sqlite-testdb: kept database at "))
        .and_then(|rest| rest.split_once(" (test panicked)"))
        .map(|(path, _)| path.to_owned())
        .ok_or_else(|| format!("no kept database on stderr:\n{stderr}"))?;
    assert_eq!(
        Path::new(&kept).parent(),
        Some(cache.path().join("databases").as_path())
    );
    let email: String =
        rusqlite::Connection::open(&kept)?
            .query_row("SELECT email FROM users", [], |r| r.get(0))?;
    assert_eq!(email, "evidence@example.com");
    Ok(())
}

#[test]
fn files_a_killed_process_left_are_removed_once_a_week_old() -> TestResult {
    let m = example_migrations()?;
    let cache = tempfile::tempdir()?;
    let folder = cache.path().join("databases");
    fs::create_dir(&folder)?;
    let week_and_a_day = Duration::from_secs(8 * 24 * 60 * 60);
    for (name, age) in [
        ("old.sqlite", week_and_a_day),
        ("old.sqlite-wal", week_and_a_day),
        ("recent.sqlite", Duration::from_secs(60)),
    ] {
        let file = fs::File::create(folder.join(name))?;
        file.set_modified(SystemTime::now() - age)?;
    }
    let db = TestDb::builder(&m)
        .cache_dir(cache.path())
        .shared_folder()
        .keep(Keep::Never)
        .build()?;
    drop(db);
    assert_eq!(entries(&folder), ["recent.sqlite"]);
    Ok(())
}

/// The template file of `builder`'s databases.
fn template_of(cache: &Path, m: &Migrations) -> Result<std::path::PathBuf, Error> {
    let fingerprint = TestDb::builder(m).cache_dir(cache).fingerprint()?;
    Ok(cache.join(format!("{fingerprint}.sqlite")))
}

#[test]
fn every_copy_is_the_template_byte_for_byte_and_private() -> TestResult {
    let m = example_migrations()?;
    let cache = tempfile::tempdir()?;
    let template = template_of(cache.path(), &m)?;
    for shared in [false, true] {
        let mut builder = TestDb::builder(&m);
        builder.cache_dir(cache.path()).keep(Keep::Never);
        if shared {
            builder.shared_folder();
        }
        // The first copy of this process comes from the file, the next ones from memory.
        let dbs = (0..4)
            .map(|_| builder.build())
            .collect::<Result<Vec<_>, _>>()?;
        let expected = fs::read(&template)?;
        for db in &dbs {
            assert!(fs::read(db.path())? == expected, "{:?} differs", db.path());
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = fs::metadata(db.path())?.permissions().mode() & 0o777;
                assert_eq!(mode, 0o600, "{:?}", db.path());
            }
        }
    }
    Ok(())
}

#[test]
fn copies_follow_a_template_rebuilt_after_being_kept_in_memory() -> TestResult {
    let m = example_migrations()?;
    let cache = tempfile::tempdir()?;
    let mut builder = TestDb::builder(&m);
    builder.cache_dir(cache.path()).shared_folder();
    for _ in 0..3 {
        drop(builder.build()?);
    }
    // The bytes are in memory now. Replace the template with garbage of the same size: the
    // next database comes from a rebuilt template, not from the old bytes nor the garbage.
    let template = template_of(cache.path(), &m)?;
    let len = fs::metadata(&template)?.len();
    fs::write(&template, vec![0x5a; usize::try_from(len)?])?;
    let db = builder.build()?;
    assert_eq!(tables(&db.connect()?)?, EXAMPLE_TABLES);
    let log = common::build_log(cache.path());
    assert_eq!(log.len(), 2, "{log:?}");
    Ok(())
}
