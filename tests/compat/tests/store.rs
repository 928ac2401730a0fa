//! sqlite-testdb from an application on rusqlite 0.32 and refinery 0.8: the `test_db`
//! fixture, store fixtures on files and in memory, the pool, and the application's own
//! refinery runner over a test database.

use rstest::{fixture, rstest};
use sqlite_testdb::{test_db, Attached, Migrations, TestDb};
use sqlite_testdb_compat::{embedded, migrate, PoolStore, Store};

/// The application's migrations, read from its refinery 0.8 runner in one call, once per
/// process.
fn embedded_migrations() -> Migrations {
    sqlite_testdb::migrations!(embedded::migrations::runner()).unwrap()
}

#[test]
fn a_refinery_0_8_runner_is_read_in_one_call_once_per_process() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static RUNNERS_MADE: AtomicUsize = AtomicUsize::new(0);
    let counted = || {
        sqlite_testdb::migrations!({
            RUNNERS_MADE.fetch_add(1, Ordering::SeqCst);
            embedded::migrations::runner()
        })
    };
    let first = counted().unwrap();
    let second = counted().unwrap();
    assert_eq!(
        RUNNERS_MADE.load(Ordering::SeqCst),
        1,
        "the runner was read again"
    );
    let names = |m: &Migrations| m.iter().map(|m| m.name().to_owned()).collect::<Vec<_>>();
    assert_eq!(names(&first), names(&second));
    assert_eq!(
        first.len(),
        embedded::migrations::runner().get_migrations().len()
    );
    assert_eq!(first.latest(), 3);
    let db = TestDb::new(&second).unwrap();
    assert_eq!(db.version().unwrap(), Some(3));
}

#[fixture]
fn store(test_db: TestDb) -> Attached<Store> {
    test_db.attach(|db| Store::open(db.path())).unwrap()
}

#[fixture]
fn memory_store() -> Attached<Store> {
    TestDb::builder(&embedded_migrations())
        .in_memory()
        .build()
        .unwrap()
        .attach(|db| Store::open(db.uri()))
        .unwrap()
}

#[rstest]
fn test_db_fixture_gives_a_migrated_database_of_the_applications_rusqlite(test_db: TestDb) {
    // The application's own rusqlite 0.32 `Connection`, the same type sqlite-testdb uses.
    let conn: rusqlite::Connection = test_db.connect().unwrap();
    let also: &sqlite_testdb::rusqlite::Connection = &conn;
    assert_eq!(test_db.version().unwrap(), Some(3));
    let tables: Vec<String> = also
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'refinery%' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(tables, ["accounts", "notes"]);
}

#[rstest]
fn the_applications_refinery_runner_finds_nothing_to_do(test_db: TestDb) {
    let mut conn = test_db.connect().unwrap();
    let applied = migrate(&mut conn).unwrap();
    assert!(applied.is_empty(), "refinery 0.8 applied {applied:?} again");
}

#[rstest]
fn embedded_migrations_give_the_folders_template(test_db: TestDb) {
    let m = embedded_migrations();
    let folder = test_db.migrations();
    assert_eq!(
        TestDb::builder(&m).fingerprint().unwrap(),
        TestDb::builder(folder).fingerprint().unwrap()
    );
    let from_embedded = TestDb::new(&m).unwrap();
    let applied = migrate(&mut from_embedded.connect().unwrap()).unwrap();
    assert!(applied.is_empty(), "refinery 0.8 applied {applied:?} again");
}

#[rstest]
#[case("ada@example.com")]
#[case("grace@example.com")]
fn store_fixture_gives_each_test_its_own_store(store: Attached<Store>, #[case] email: &str) {
    assert!(store.applied.is_empty(), "{:?}", store.applied);
    // The same email in both cases: a shared database would reject the second.
    let id = store.add_account("same@example.com").unwrap();
    store.add_note(id, email).unwrap();
    assert_eq!(store.notes_of(id).unwrap(), 1);
    assert_eq!(store.db().version().unwrap(), Some(3));
}

#[rstest]
fn in_memory_store_fixture_works_like_the_file_one(memory_store: Attached<Store>) {
    assert!(
        memory_store.applied.is_empty(),
        "{:?}",
        memory_store.applied
    );
    let id = memory_store.add_account("mem@example.com").unwrap();
    memory_store.add_note(id, "kept in memory").unwrap();
    let seen: i64 = memory_store
        .db()
        .connect()
        .unwrap()
        .query_row("SELECT count(*) FROM notes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(seen, 1);
    assert!(memory_store.db().is_in_memory());
}

#[rstest]
fn pool_is_the_applications_r2d2_pool(test_db: TestDb) {
    let store = test_db.attach(|db| db.pool().map(PoolStore::new)).unwrap();
    store.add_account("pooled@example.com").unwrap();
    assert_eq!(store.accounts().unwrap(), 1);
}

#[rstest]
fn store_from_a_connection_of_the_test_db(test_db: TestDb) {
    let store = test_db
        .attach(|db| Store::from_connection(db.connect().unwrap()))
        .unwrap();
    assert!(store.applied.is_empty());
    store.add_account("conn@example.com").unwrap();
}

#[rstest]
fn an_older_test_database_is_upgraded_by_the_applications_runner() {
    let m = embedded_migrations();
    let db = TestDb::builder(&m).version(2).build().unwrap();
    let conn = db.connect().unwrap();
    conn.execute("INSERT INTO accounts(email) VALUES ('old@example.com')", [])
        .unwrap();
    conn.execute(
        "INSERT INTO notes(account_id, body) VALUES (1, 'first line')",
        [],
    )
    .unwrap();
    drop(conn);
    let store = db.attach(|db| Store::open(db.path())).unwrap();
    assert_eq!(store.applied, [3]);
    assert_eq!(store.db().version().unwrap(), Some(3));
    let title: String = store
        .db()
        .connect()
        .unwrap()
        .query_row("SELECT title FROM notes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(title, "first line");
}

#[rstest]
fn rollback_uses_the_folders_down_scripts(test_db: TestDb) {
    // V3 has no down script: the error names it, and nothing is undone.
    let err = test_db.rollback_to(2).unwrap_err();
    assert!(err.to_string().contains("V3__note_titles"), "{err}");
    assert_eq!(test_db.version().unwrap(), Some(3));
    let m = Migrations::from_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations")).unwrap();
    let db = TestDb::builder(&m).version(2).build().unwrap();
    db.rollback_to(1).unwrap();
    assert_eq!(db.version().unwrap(), Some(1));
    let store = db.attach(|db| Store::open(db.path())).unwrap();
    assert_eq!(store.applied, [2, 3]);
}

/// The SQLite library the test binary runs on, as the process's memory map shows it: the
/// system's `libsqlite3.so` when the `bundled` and `sqlcipher` features are off.
#[test]
fn sqlite_is_linked_the_way_the_application_chose() {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    let system = maps.contains("/libsqlite3.so");
    let chose_system = !cfg!(feature = "bundled") && !cfg!(feature = "sqlcipher");
    assert_eq!(system, chose_system, "SQLite {}", rusqlite::version());
    let cipher: Option<String> = TestDb::new(&embedded_migrations())
        .unwrap()
        .connect()
        .unwrap()
        .query_row("PRAGMA cipher_version", [], |r| r.get(0))
        .ok();
    assert_eq!(cipher.is_some(), cfg!(feature = "sqlcipher"), "{cipher:?}");
}
