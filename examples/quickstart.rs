//! Creates a test database from `migrations/` and shows what a test gets: the file, its
//! version, its tables, and what it cost with a cold cache (template built) and a warm one
//! (template copied).
//!
//! ```text
//! cargo run --example quickstart
//! ```

use std::time::Instant;

use sqlite_testdb::{Migrations, TestDb};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let migrations = Migrations::from_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))?;
    println!(
        "migrations: {} in {}",
        migrations.len(),
        migrations
            .dir()
            .map_or("?".into(), |d| d.display().to_string())
    );

    // A cache folder of our own, so the first database really builds the template.
    let cache = tempfile::tempdir()?;
    let mut builder = TestDb::builder(&migrations);
    builder.cache_dir(cache.path());

    let started = Instant::now();
    let db = builder.build()?;
    let cold = started.elapsed();

    let conn = db.connect()?;
    let tables: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name <> 'refinery_schema_history' ORDER BY name",
        )?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;

    println!("database:   {}", db.path().display());
    println!("version:    {:?}", db.version()?);
    println!("tables:     {}", tables.join(", "));
    println!(
        "cold:       {:>8.2} ms  (migrations run once into a template, then copied)",
        ms(cold)
    );

    let rounds = 100;
    let started = Instant::now();
    for _ in 0..rounds {
        drop(builder.build()?);
    }
    let warm = started.elapsed() / rounds;
    println!(
        "warm:       {:>8.2} ms  (template copied; mean of {rounds}, drop included)",
        ms(warm)
    );

    builder.in_memory();
    let started = Instant::now();
    for _ in 0..rounds {
        drop(builder.build()?);
    }
    let memory = started.elapsed() / rounds;
    println!(
        "in memory:  {:>8.2} ms  (Builder::in_memory: no file; mean of {rounds})",
        ms(memory)
    );
    println!("template:   {}", builder.fingerprint()?);
    Ok(())
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
