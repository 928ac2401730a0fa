//! sqlx 0.8 on tokio: test databases from a sqlx migration folder carry `_sqlx_migrations`
//! as sqlx writes it, so the application's `Migrator::run` finds nothing to do.

use sqlite_testdb::{Layout, Migrations, TestDb};
use sqlite_testdb_compat_libs::folder;
use sqlx::migrate::{Migrate, Migrator};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

async fn pool_on(db: &TestDb) -> Result<SqlitePool, sqlx::Error> {
    SqlitePoolOptions::new()
        .max_connections(2)
        .connect_with(SqliteConnectOptions::new().filename(db.path()))
        .await
}

async fn history(pool: &SqlitePool) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT version, execution_time FROM _sqlx_migrations ORDER BY version")
        .fetch_all(pool)
        .await
}

#[tokio::test]
async fn sqlx_migrator_finds_nothing_to_do_on_a_test_database() -> TestResult {
    let m = Migrations::from_dir(folder("sqlx"))?;
    assert_eq!(m.layout(), Some(Layout::Sqlx));
    let db = TestDb::new(&m)?;
    let pool = pool_on(&db).await?;
    let before = history(&pool).await?;
    assert_eq!(before.len(), 3);

    let migrator = Migrator::new(folder("sqlx")).await?;
    // Neither re-runs a migration (CREATE TABLE users would fail) nor reports one as
    // modified (a checksum that differs is `VersionMismatch`).
    migrator.run(&pool).await?;
    assert_eq!(history(&pool).await?, before);

    let mut conn = pool.acquire().await?;
    let applied = conn.list_applied_migrations().await?;
    let ours: Vec<(i64, Vec<u8>)> = migrator
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .map(|m| (m.version, m.checksum.to_vec()))
        .collect();
    let theirs: Vec<(i64, Vec<u8>)> = applied
        .iter()
        .map(|a| (a.version, a.checksum.to_vec()))
        .collect();
    assert_eq!(theirs, ours);
    assert_eq!(conn.dirty_version().await?, None);
    Ok(())
}

#[tokio::test]
async fn sqlx_builds_on_a_test_database_stopped_at_a_version() -> TestResult {
    let m = Migrations::from_dir(folder("sqlx"))?;
    let first = m.version_of("20240101000000").ok_or("no such version")?;
    let db = TestDb::builder(&m).version(first).build()?;
    let pool = pool_on(&db).await?;
    sqlx::query("INSERT INTO users(email) VALUES ('a@x')")
        .execute(&pool)
        .await?;
    // The application's migrator applies the rest over the rows.
    Migrator::new(folder("sqlx")).await?.run(&pool).await?;
    assert_eq!(history(&pool).await?.len(), 3);
    assert_eq!(db.version()?, Some(m.latest()));
    Ok(())
}

#[tokio::test]
async fn down_migrations_run_through_the_crate_and_through_sqlx() -> TestResult {
    let m = Migrations::from_dir(folder("sqlx"))?;
    let db = TestDb::new(&m)?;
    // Through the crate: `.down.sql` files, sqlx's rows removed.
    db.rollback_to(m.version_of("20240101000000").ok_or("no such version")?)?;
    assert_eq!(db.schema()?.tables(), ["users"]);
    let pool = pool_on(&db).await?;
    assert_eq!(history(&pool).await?.len(), 1);
    // sqlx sees two pending migrations and applies them.
    let migrator = Migrator::new(folder("sqlx")).await?;
    migrator.run(&pool).await?;
    assert_eq!(history(&pool).await?.len(), 3);
    // And sqlx's own undo on a test database.
    migrator.undo(&pool, 20240215093000).await?;
    pool.close().await;
    assert_eq!(db.version()?, m.version_of("20240215093000"));
    assert!(!db.schema()?.to_string().contains("posts_by_user"));
    Ok(())
}

#[test]
fn tests_in_parallel_get_separate_databases() -> TestResult {
    let m = Migrations::from_dir(folder("sqlx"))?;
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let m = m.clone();
            std::thread::spawn(move || -> Result<(std::path::PathBuf, i64), String> {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| e.to_string())?;
                runtime.block_on(async {
                    let db = TestDb::new(&m).map_err(|e| e.to_string())?;
                    let pool = pool_on(&db).await.map_err(|e| e.to_string())?;
                    sqlx::query("INSERT INTO users(email) VALUES (?1)")
                        .bind(format!("user{i}@x"))
                        .execute(&pool)
                        .await
                        .map_err(|e| e.to_string())?;
                    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
                        .fetch_one(&pool)
                        .await
                        .map_err(|e| e.to_string())?;
                    Ok((db.path().to_path_buf(), count))
                })
            })
        })
        .collect();
    let mut paths = Vec::new();
    for thread in threads {
        let (path, count) = thread.join().map_err(|_| "a thread panicked")??;
        assert_eq!(count, 1, "each database holds only its own row");
        paths.push(path);
    }
    paths.sort();
    paths.dedup();
    assert_eq!(paths.len(), 8);
    Ok(())
}

#[tokio::test]
async fn sqlx_opens_an_in_memory_test_database_by_its_memdb_name() -> TestResult {
    let m = Migrations::from_dir(folder("sqlx"))?;
    let db = TestDb::builder(&m).in_memory().build()?;
    // `file:/sqlite-testdb-<uuid>.sqlite?vfs=memdb`: sqlx takes the name and the VFS apart.
    let name = db
        .uri()
        .strip_prefix("file:")
        .and_then(|rest| rest.strip_suffix("?vfs=memdb"))
        .ok_or("not a memdb URI")?
        .to_owned();
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(SqliteConnectOptions::new().filename(name).vfs("memdb"))
        .await?;
    Migrator::new(folder("sqlx")).await?.run(&pool).await?;
    assert_eq!(history(&pool).await?.len(), 3);
    sqlx::query("INSERT INTO users(email) VALUES ('a@x')")
        .execute(&pool)
        .await?;
    let seen: i64 = db
        .connect()?
        .query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
    assert_eq!(seen, 1, "one database, seen from sqlx and from rusqlite");
    Ok(())
}
