//! The migration sets of the benches, generated deterministically: tables with foreign
//! keys, indexes and rows, plus views, triggers, added columns and data updates.
// Each bench uses part of it.
#![allow(dead_code)]

use std::fs;
use std::path::Path;

use criterion::measurement::WallTime;
use criterion::{BatchSize, BenchmarkGroup, BenchmarkId};
use refinery::{Migration, Runner};
use rusqlite::Connection;

/// Rows each new table gets from the migration that creates it.
const ROWS_PER_TABLE: usize = 10;

/// Unwraps a result in bench setup, where a failure is a broken bench.
pub fn must<T, E: std::fmt::Display>(result: Result<T, E>, what: &str) -> T {
    result.unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// `n` deterministic, realistic migrations, cycling through ten kinds: six create a table
/// (foreign key to an earlier table, a unique constraint, a check, two indexes, rows), then
/// one each adds a column with a partial index, creates a view over a join, creates a
/// trigger, and runs a data migration.
pub fn generate(n: usize) -> Vec<Migration> {
    parts(n)
        .into_iter()
        .map(|part| {
            must(
                Migration::unapplied(&part.name, &part.sql),
                "generated migration",
            )
        })
        .collect()
}

/// The same `n` migrations as files in `dir`, each with a down script but the data
/// migrations (whose changes cannot be undone), and the versions of those.
pub fn write_dir(n: usize, dir: &Path) -> Vec<refinery::SchemaVersion> {
    let mut data_migrations = Vec::new();
    for (i, part) in parts(n).into_iter().enumerate() {
        must(
            fs::write(dir.join(format!("{}.sql", part.name)), &part.sql),
            "write migration",
        );
        match &part.down {
            Some(down) => must(
                fs::write(dir.join(format!("{}.down.sql", part.name)), down),
                "write down script",
            ),
            None => data_migrations.push(must(refinery::SchemaVersion::try_from(i + 1), "version")),
        }
    }
    data_migrations
}

/// One generated migration: `V{n}__{what}`, its SQL and its down script.
struct Part {
    name: String,
    sql: String,
    down: Option<String>,
}

fn parts(n: usize) -> Vec<Part> {
    let mut tables = 0usize;
    (0..n)
        .map(|i| {
            let kind = i % 10;
            let newest = tables.saturating_sub(1);
            let (name, sql, down) = match kind {
                0..=5 => {
                    let k = tables;
                    tables += 1;
                    (
                        format!("create_t{k}"),
                        create_table(k),
                        Some(format!("DROP TABLE t{k};\n")),
                    )
                }
                6 => {
                    let t = (i * 7) % tables;
                    (
                        format!("add_note_to_t{t}"),
                        format!(
                            "ALTER TABLE t{t} ADD COLUMN note_{i} TEXT;\n\
                             CREATE INDEX t{t}_note_{i}_idx ON t{t}(note_{i}) WHERE note_{i} IS NOT NULL;\n\
                             UPDATE t{t} SET note_{i} = 'migrated ' || id WHERE id % 3 = 0;\n"
                        ),
                        Some(format!(
                            "DROP INDEX t{t}_note_{i}_idx;\nALTER TABLE t{t} DROP COLUMN note_{i};\n"
                        )),
                    )
                }
                7 => {
                    let parent = newest / 2;
                    (
                        format!("view_v{i}"),
                        format!(
                            "CREATE VIEW v{i} AS\n\
                             SELECT c.id, c.code, c.status, c.amount, p.code AS parent_code\n\
                             FROM t{newest} c JOIN t{parent} p ON p.id = c.parent_id\n\
                             WHERE c.status <> 'closed';\n"
                        ),
                        Some(format!("DROP VIEW v{i};\n")),
                    )
                }
                8 => (
                    format!("trigger_tr{i}"),
                    format!(
                        "CREATE TRIGGER tr{i} AFTER UPDATE OF amount ON t{newest}\n\
                         FOR EACH ROW WHEN NEW.amount > 100 AND NEW.status = 'new'\n\
                         BEGIN\n\
                         \x20   UPDATE t{newest} SET status = 'active' WHERE id = NEW.id;\n\
                         END;\n"
                    ),
                    Some(format!("DROP TRIGGER tr{i};\n")),
                ),
                _ => {
                    let t = (i * 3) % tables;
                    (
                        format!("backfill_t{t}"),
                        format!(
                            "UPDATE t{t} SET amount = amount + 1, label = upper(label)\n\
                             WHERE status = 'new';\n\
                             INSERT INTO t{t} (parent_id, code, label, amount)\n\
                             SELECT parent_id, 'm{i}-' || code, label, amount FROM t{t} WHERE id <= 3;\n"
                        ),
                        None,
                    )
                }
            };
            Part {
                name: format!("V{}__{name}", i + 1),
                sql,
                down,
            }
        })
        .collect()
}

/// The SQL of the migration that creates table `t{k}`; `t0` is the root, every other table
/// references `t{k/2}`.
fn create_table(k: usize) -> String {
    let mut sql = if k == 0 {
        "CREATE TABLE t0 (\n\
         \x20   id INTEGER PRIMARY KEY,\n\
         \x20   parent_id INTEGER,\n\
         \x20   code TEXT NOT NULL UNIQUE,\n\
         \x20   label TEXT,\n\
         \x20   amount INTEGER NOT NULL DEFAULT 0,\n\
         \x20   status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'active', 'closed')),\n\
         \x20   created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP\n\
         );\n"
            .to_owned()
    } else {
        let parent = k / 2;
        format!(
            "CREATE TABLE t{k} (\n\
             \x20   id INTEGER PRIMARY KEY,\n\
             \x20   parent_id INTEGER NOT NULL REFERENCES t{parent}(id) ON DELETE CASCADE,\n\
             \x20   code TEXT NOT NULL,\n\
             \x20   label TEXT,\n\
             \x20   amount INTEGER NOT NULL DEFAULT 0,\n\
             \x20   status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'active', 'closed')),\n\
             \x20   created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,\n\
             \x20   UNIQUE (parent_id, code)\n\
             );\n"
        )
    };
    sql.push_str(&format!(
        "CREATE INDEX t{k}_parent_idx ON t{k}(parent_id);\n\
         CREATE INDEX t{k}_status_created_idx ON t{k}(status, created_at);\n\
         INSERT INTO t{k} (parent_id, code, label, amount, status) VALUES\n"
    ));
    let statuses = ["new", "active", "closed"];
    let rows: Vec<String> = (0..ROWS_PER_TABLE)
        .map(|j| {
            let parent = if k == 0 {
                "NULL".to_owned()
            } else {
                (1 + j % ROWS_PER_TABLE).to_string()
            };
            format!(
                "    ({parent}, 'c{k}-{j}', 'row {j} of t{k}', {}, '{}')",
                (j * 37 + k) % 250,
                statuses[j % 3]
            )
        })
        .collect();
    sql.push_str(&rows.join(",\n"));
    sql.push_str(";\n");
    sql
}

/// Runs refinery on a new file in `dir`, the way a per-test migration does.
pub fn migrate_file(raw: &[Migration], dir: &Path) {
    let mut conn = must(Connection::open(dir.join("test.sqlite")), "open file");
    must(Runner::new(raw).run(&mut conn), "refinery run on a file");
    must(conn.close().map_err(|(_, e)| e), "close");
}

/// A benchmark of one plain refinery run of `raw` on a new file (rusqlite's defaults:
/// rollback journal, `synchronous=FULL`), the folder made before and removed after the
/// timing.
pub fn bench_refinery_run(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: BenchmarkId,
    raw: &[Migration],
) {
    group.bench_function(id, |b| {
        b.iter_batched(
            || must(tempfile::tempdir(), "create temp folder"),
            |dir| {
                migrate_file(raw, dir.path());
                dir
            },
            BatchSize::PerIteration,
        );
    });
}
