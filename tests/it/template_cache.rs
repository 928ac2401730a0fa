//! The template cache: built once, keyed by the fingerprint, never trusted when it does not
//! match its record, nothing left behind by a failed build.

use crate::common;
use std::fs;
use std::path::{Path, PathBuf};

use crate::common::{build_log, chain, entries, example_migrations, run_child, test_migrations};
use sqlite_testdb::{Error, Migrations, TestDb};

type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// Set in the child processes the tests below start.
const CHILD: &str = "SQLITE_TESTDB_TEST_CHILD";

fn copy_folder(from: &Path, to: &Path) -> std::io::Result<()> {
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        fs::copy(entry.path(), to.join(entry.file_name()))?;
    }
    Ok(())
}

fn template_path(cache: &Path, m: &Migrations) -> sqlite_testdb::Result<PathBuf> {
    let fingerprint = TestDb::builder(m).fingerprint()?;
    Ok(cache.join(format!("{fingerprint}.sqlite")))
}

#[test]
fn template_is_built_once_and_then_copied() -> TestResult {
    let m = example_migrations()?;
    let cache = tempfile::tempdir()?;
    let mut builder = TestDb::builder(&m);
    builder.cache_dir(cache.path());
    let dbs = (0..5)
        .map(|_| builder.build())
        .collect::<Result<Vec<_>, _>>()?;
    let log = build_log(cache.path());
    assert_eq!(log.len(), 1, "{log:?}");
    let fingerprint = builder.fingerprint()?.to_string();
    assert!(log[0].starts_with(&format!("built {fingerprint} pid={}", std::process::id())));
    assert!(log[0].contains("target=V7 migrations=7"), "{}", log[0]);
    // `entries` sorts by name, and a fingerprint may sort before "builds.log".
    let mut expected = [
        "builds.log".to_owned(),
        format!("{fingerprint}.record"),
        format!("{fingerprint}.sqlite"),
    ];
    expected.sort();
    assert_eq!(entries(cache.path()), expected);
    for db in &dbs {
        assert_eq!(db.version()?, Some(7));
    }
    Ok(())
}

#[test]
fn editing_a_migration_builds_a_new_template_and_never_uses_the_old_one() -> TestResult {
    let dir = tempfile::tempdir()?;
    let cache = tempfile::tempdir()?;
    copy_folder(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations"),
        dir.path(),
    )?;
    let before = Migrations::from_dir(dir.path())?;
    let old = TestDb::builder(&before).cache_dir(cache.path()).build()?;

    let v7 = dir.path().join("V7__authorization_requests.sql");
    let mut sql = fs::read_to_string(&v7)?;
    sql.push_str("\nCREATE TABLE audit_log (id INTEGER PRIMARY KEY, note TEXT);\n");
    fs::write(&v7, sql)?;
    let after = Migrations::from_dir(dir.path())?;
    assert_ne!(
        TestDb::builder(&before).fingerprint()?,
        TestDb::builder(&after).fingerprint()?
    );
    // The prefix below the edit keeps its template.
    assert_eq!(
        TestDb::builder(&before).version(6).fingerprint()?,
        TestDb::builder(&after).version(6).fingerprint()?
    );

    let new = TestDb::builder(&after).cache_dir(cache.path()).build()?;
    let has_audit = |db: &TestDb| -> sqlite_testdb::Result<bool> {
        Ok(common::tables(&db.connect()?)
            .map_err(|e| Error::Sqlite {
                op: "list tables of",
                path: db.path().to_path_buf(),
                source: e,
            })?
            .contains(&"audit_log".to_owned()))
    };
    assert!(!has_audit(&old)?);
    assert!(has_audit(&new)?);
    assert_eq!(build_log(cache.path()).len(), 2);
    assert!(template_path(cache.path(), &before)?.exists());
    assert!(template_path(cache.path(), &after)?.exists());
    Ok(())
}

#[test]
fn broken_sql_in_v3_names_v3_and_its_file_and_leaves_no_template() -> TestResult {
    let m = Migrations::from_dir(test_migrations("broken_v3"))?;
    let cache = tempfile::tempdir()?;
    let err = TestDb::builder(&m)
        .cache_dir(cache.path())
        .build()
        .err()
        .ok_or("a broken migration built")?;

    let Error::Migration {
        migration,
        file,
        applied,
        ..
    } = &err
    else {
        panic!("expected a migration error, got {err:?}");
    };
    assert_eq!(migration, "V3__comments");
    assert!(
        file.as_deref()
            .is_some_and(|f| f.ends_with("broken_v3/V3__comments.sql")),
        "{file:?}"
    );
    assert_eq!(*applied, Some(2));

    let text = chain(&err);
    assert!(text.starts_with("migration V3__comments ("), "{text}");
    assert!(text.contains("V3__comments.sql"), "{text}");
    assert!(text.contains("applied before it: up to V2"), "{text}");
    assert!(text.contains("near \"CREAT\": syntax error"), "{text}");

    assert!(
        entries(cache.path()).is_empty(),
        "left in the cache: {:?}",
        entries(cache.path())
    );

    // Below the broken migration, databases build fine.
    let db = TestDb::builder(&m)
        .cache_dir(cache.path())
        .version(2)
        .build()?;
    assert_eq!(db.version()?, Some(2));
    Ok(())
}

/// Child of the tests below: makes one database from the example migrations with the cache
/// folder from `SQLITE_TESTDB_CACHE_DIR`, checks it, and prints what it got.
#[test]
#[ignore = "run as a child process by template_cache tests"]
fn child_makes_a_database_from_the_cache() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let m = example_migrations().unwrap_or_else(|e| panic!("{e}"));
    let db = TestDb::new(&m).unwrap_or_else(|e| panic!("{}", chain(&e)));
    let conn = db.connect().unwrap_or_else(|e| panic!("{e}"));
    let tables = common::tables(&conn).unwrap_or_else(|e| panic!("{e}"));
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{e}"));
    println!(
        "child result: version={:?} check={check} tables={}",
        db.version().ok().flatten(),
        tables.join(",")
    );
}

fn child_result(cache: Option<&Path>) -> Result<String, Box<dyn std::error::Error>> {
    let cache = cache.map(|c| c.to_string_lossy().into_owned());
    let mut envs = vec![(CHILD, "1")];
    if let Some(cache) = &cache {
        envs.push(("SQLITE_TESTDB_CACHE_DIR", cache));
    }
    let out = run_child("child_makes_a_database_from_the_cache", &envs)?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "child failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    stdout
        .lines()
        .find_map(|l| l.split_once("child result: ").map(|(_, r)| r.to_owned()))
        .ok_or_else(|| format!("no result in:\n{stdout}").into())
}

const GOOD: &str = "version=Some(7) check=ok tables=authorization_requests,client_secret_versions,\
                    clients,key_rotation_events,sessions,tokens,users";

/// Damages a cache entry, given the template file and its record.
type Damage = fn(&Path, &Path) -> std::io::Result<()>;

#[test]
fn a_damaged_template_is_rebuilt_never_copied() -> TestResult {
    let m = example_migrations()?;
    let damages: [(&str, Damage); 5] = [
        ("truncated", |t, _| {
            let len = fs::metadata(t)?.len();
            fs::OpenOptions::new().write(true).open(t)?.set_len(len / 2)
        }),
        ("garbage of the same size", |t, _| {
            let len = fs::metadata(t)?.len();
            fs::write(t, vec![0x5a; usize::try_from(len).unwrap_or(4096)])
        }),
        ("another valid database", |t, _| {
            fs::remove_file(t)?;
            let other = rusqlite::Connection::open(t).map_err(std::io::Error::other)?;
            other
                .execute_batch("CREATE TABLE impostor(x);")
                .map_err(std::io::Error::other)
        }),
        ("record's fingerprint edited", |_, r| {
            let text = fs::read_to_string(r)?;
            let edited: String = text
                .lines()
                .map(|l| match l.strip_prefix("fingerprint ") {
                    Some(_) => "fingerprint 00000000000000000000000000000000\n".to_owned(),
                    None => format!("{l}\n"),
                })
                .collect();
            fs::write(r, edited)
        }),
        ("record missing", |_, r| fs::remove_file(r)),
    ];
    for (what, damage) in damages {
        let cache = tempfile::tempdir()?;
        assert_eq!(
            child_result(Some(cache.path()))?,
            GOOD,
            "{what}: first build"
        );
        let template = template_path(cache.path(), &m)?;
        let record = template.with_extension("record");
        damage(&template, &record)?;
        assert_eq!(
            child_result(Some(cache.path()))?,
            GOOD,
            "{what}: after damage"
        );
        assert_eq!(build_log(cache.path()).len(), 2, "{what}: not rebuilt");
        assert_eq!(
            child_result(Some(cache.path()))?,
            GOOD,
            "{what}: after rebuild"
        );
        assert_eq!(build_log(cache.path()).len(), 2, "{what}: rebuilt twice");
    }
    Ok(())
}

#[test]
fn default_cache_is_inside_the_cargo_target_folder() -> TestResult {
    assert_eq!(child_result(None)?, GOOD);
    let exe = std::env::current_exe()?;
    let target = exe
        .ancestors()
        .find(|d| d.join("CACHEDIR.TAG").is_file())
        .ok_or("test binary is not in a cargo target folder")?;
    let template = template_path(&target.join("sqlite-testdb"), &example_migrations()?)?;
    assert!(template.is_file(), "{template:?}");
    Ok(())
}

#[test]
fn stale_build_folders_of_a_dead_builder_are_cleared() -> TestResult {
    let m = example_migrations()?;
    let cache = tempfile::tempdir()?;
    let fingerprint = TestDb::builder(&m).fingerprint()?;
    let stale = cache.path().join(format!(".build-{fingerprint}-dead01"));
    fs::create_dir(&stale)?;
    fs::write(stale.join("template.sqlite"), b"half-built")?;
    let db = TestDb::builder(&m).cache_dir(cache.path()).build()?;
    assert_eq!(db.version()?, Some(7));
    assert!(!stale.exists());
    Ok(())
}

#[test]
fn a_template_damaged_while_this_process_uses_it_is_checked_again_and_rebuilt() -> TestResult {
    let m = example_migrations()?;
    let cache = tempfile::tempdir()?;
    let mut builder = TestDb::builder(&m);
    builder.cache_dir(cache.path());
    drop(builder.build()?);
    let template = template_path(cache.path(), &m)?;
    let len = fs::metadata(&template)?.len();

    // Truncated: the size differs.
    fs::OpenOptions::new()
        .write(true)
        .open(&template)?
        .set_len(len / 2)?;
    assert_eq!(builder.build()?.version()?, Some(7));
    assert_eq!(build_log(cache.path()).len(), 2);

    // Replaced by garbage of the same size: another file.
    let garbage = cache.path().join("garbage");
    fs::write(&garbage, vec![0x5a; usize::try_from(len)?])?;
    fs::rename(&garbage, &template)?;
    let db = builder.build()?;
    assert_eq!(db.version()?, Some(7));
    assert_eq!(build_log(cache.path()).len(), 3);
    Ok(())
}
