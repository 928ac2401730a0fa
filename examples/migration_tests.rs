//! Tests a migration set the way a CI job would: replays it version by version, checks the
//! down scripts, then upgrades a database that holds data.
//!
//! ```text
//! cargo run --example migration_tests            # the example migrations/
//! cargo run --example migration_tests -- DIR     # any folder of refinery migrations
//! ```

use std::path::PathBuf;

use sqlite_testdb::{Migrations, TestDb, replay};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args_os().nth(1).map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("migrations"),
        PathBuf::from,
    );
    let m = Migrations::from_dir(&dir)?;

    // 1. Every version applies, cleanly, and its down script undoes it.
    match replay::check(&m) {
        Ok(report) => print!("{report}"),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }

    // 2. The schema at each version, and what each migration changes.
    let mut before = TestDb::builder(&m)
        .version(m.versions().next().unwrap_or(0))
        .build()?
        .schema()?;
    println!(
        "\nV{}: tables {}",
        m.versions().next().unwrap_or(0),
        before.tables().join(", ")
    );
    for version in m.versions().skip(1) {
        let after = TestDb::builder(&m).version(version).build()?.schema()?;
        let added: Vec<&str> = after
            .objects()
            .iter()
            .filter(|o| !before.objects().contains(o))
            .map(|o| o.name())
            .collect();
        println!("V{version}: adds or changes {}", added.join(", "));
        before = after;
    }

    // 3. Roll the latest version back and forth on a database with a row in it.
    let db = TestDb::new(&m)?;
    let latest = m.latest();
    if let Some(previous) = m.versions().rev().nth(1)
        && m.down_script(latest).is_some_and(|d| !d.is_irreversible())
    {
        let snapshot = db.snapshot()?;
        db.rollback_to(previous)?;
        println!(
            "\nrolled back to V{previous}: {}",
            db.schema()?.tables().join(", ")
        );
        db.migrate_to(latest)?;
        db.restore(&snapshot)?;
        println!("migrated to V{latest} again and restored the snapshot");
    }
    Ok(())
}
