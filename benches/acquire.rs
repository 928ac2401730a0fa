//! What a test pays for its own migrated database: `TestDb` (a copy of the cached template)
//! against running the migrations per test with refinery, on a file and in memory, and
//! against the floor of copying the template file by hand.
//!
//! The migration sets are generated here, deterministically: N = 10, 50 and 200 migrations
//! of tables with foreign keys, indexes and rows, plus views, triggers, added columns and
//! data updates. Each run uses a fresh template cache folder, built once before the warm
//! groups are measured.
//!
//! Groups (each with one benchmark per N):
//!
//! | group | what one iteration is |
//! |---|---|
//! | `testdb_new` | `Builder::build` with a warm cache, then dropping the `TestDb` |
//! | `testdb_new_query` | the same, plus `connect()` and `SELECT count(*) FROM t0` |
//! | `testdb_new_shared` | `testdb_new` with `Builder::shared_folder` (no folder per database) |
//! | `testdb_new_shared_query` | the same, plus `connect()` and `SELECT count(*) FROM t0` |
//! | `testdb_new_tmpfs` | `testdb_new` with `Builder::build_in("/dev/shm")` (Linux tmpfs; skipped elsewhere) |
//! | `testdb_memory` | `Builder::in_memory().build()`, then dropping the `TestDb` |
//! | `testdb_memory_query` | the same, plus `connect()` and `SELECT count(*) FROM t0` |
//! | `refinery_file` | a new temp folder, a new file, refinery's `Runner::run`, cleanup |
//! | `refinery_memory` | `Connection::open_in_memory`, refinery's `Runner::run` |
//! | `copy_floor` | `fs::copy` of the template into a ready folder, open, first query, remove |
//! | `copy_only` | `fs::copy` of the template into a ready folder, remove (no connection) |
//! | `cold_build` | `template`: a template built from scratch in a new cache folder, plus its first copy; `plain_refinery_file`: one refinery run on a new file (folders made and removed outside the timing) |
//! | `threads_2`, `threads_8` | that many threads building and dropping 64 databases between them, `file/N`, `shared/N` (shared folder) or `memory/N`; throughput is in databases |
//!
//! Run with `cargo bench`; `cargo bench -- testdb_new/` runs one group.

use std::fs;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Barrier;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{
    BatchSize, BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group,
    measurement::WallTime,
};
use refinery::{Migration, Runner};
use rusqlite::Connection;
use sqlite_testdb::{Builder, Keep, Migrations, TestDb};
use tempfile::TempDir;

mod migration_set;

use migration_set::{bench_refinery_run, generate, migrate_file, must};

/// The migration set sizes.
const SIZES: [usize; 3] = [10, 50, 200];

/// Databases acquired per iteration of a `threads_*` benchmark, split over the threads.
const DATABASES_PER_ROUND: usize = 64;

/// The first query of a test: needs the schema parsed.
const FIRST_QUERY: &str = "SELECT count(*) FROM t0";

/// A tmpfs on Linux, for `testdb_new_tmpfs`.
const TMPFS: &str = "/dev/shm";

/// One migration set, ready for every group.
struct Set {
    n: usize,
    /// The refinery migrations, for the per-test baselines.
    raw: Vec<Migration>,
    migrations: Migrations,
    /// This run's template cache folder.
    cache: TempDir,
    /// `<cache>/<fingerprint>.sqlite`, once built.
    template: PathBuf,
}

impl Set {
    fn new(n: usize) -> Self {
        let raw = generate(n);
        let migrations = must(
            Migrations::from_migrations(raw.iter().cloned()),
            "load generated migrations",
        );
        let cache = must(tempfile::tempdir(), "create cache folder");
        let mut set = Set {
            n,
            raw,
            migrations,
            template: PathBuf::new(),
            cache,
        };
        // Warm the cache: the template is built here, once, outside every measurement.
        let started = Instant::now();
        let db = must(set.builder().build(), "build first database");
        let tables: i64 = must(
            must(db.connect(), "connect").query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                [],
                |r| r.get(0),
            ),
            "count tables",
        );
        drop(db);
        let fingerprint = must(set.builder().fingerprint(), "fingerprint");
        set.template = set.cache.path().join(format!("{fingerprint}.sqlite"));
        let size = must(fs::metadata(&set.template), "template metadata").len();
        eprintln!(
            "N={n}: template {} ({} KiB, {tables} tables) built and copied in {:.1} ms",
            set.template.display(),
            size / 1024,
            started.elapsed().as_secs_f64() * 1e3,
        );
        set
    }

    fn builder(&self) -> Builder {
        let mut builder = TestDb::builder(&self.migrations);
        builder.cache_dir(self.cache.path()).keep(Keep::Never);
        builder
    }

    fn shared_builder(&self) -> Builder {
        let mut builder = self.builder();
        builder.shared_folder();
        builder
    }

    fn memory_builder(&self) -> Builder {
        let mut builder = self.builder();
        builder.in_memory();
        builder
    }
}

fn first_query(conn: &Connection) -> i64 {
    must(conn.query_row(FIRST_QUERY, [], |r| r.get(0)), FIRST_QUERY)
}

/// Settings for the groups that take well under a millisecond per iteration.
fn fast(group: &mut BenchmarkGroup<'_, WallTime>) {
    group
        .sample_size(60)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
}

/// Settings for groups of up to ~1 s per iteration: ten one-iteration samples at least.
fn slow(group: &mut BenchmarkGroup<'_, WallTime>, n: usize) {
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(if n >= 200 { 500 } else { 1000 }))
        .measurement_time(Duration::from_secs(match n {
            0..=10 => 2,
            11..=50 => 3,
            _ => 5,
        }));
}

fn warm(c: &mut Criterion, sets: &[Set]) {
    warm_group(c, "testdb_new", sets, Set::builder, build_and_drop);
    warm_group(c, "testdb_new_query", sets, Set::builder, acquire_and_query);
    warm_group(
        c,
        "testdb_new_shared",
        sets,
        Set::shared_builder,
        build_and_drop,
    );
    warm_group(
        c,
        "testdb_new_shared_query",
        sets,
        Set::shared_builder,
        acquire_and_query,
    );
    if Path::new(TMPFS).is_dir() {
        warm_group(c, "testdb_new_tmpfs", sets, Set::builder, |builder| {
            drop(black_box(must(builder.build_in(TMPFS), "build in tmpfs")));
        });
    }
    warm_group(
        c,
        "testdb_memory",
        sets,
        Set::memory_builder,
        build_and_drop,
    );
    warm_group(
        c,
        "testdb_memory_query",
        sets,
        Set::memory_builder,
        acquire_and_query,
    );
}

/// A group of one benchmark per set: `iteration` with the builder `builder` makes for it.
fn warm_group(
    c: &mut Criterion,
    name: &str,
    sets: &[Set],
    builder: fn(&Set) -> Builder,
    iteration: impl Fn(&Builder),
) {
    let mut group = c.benchmark_group(name);
    fast(&mut group);
    for set in sets {
        let builder = builder(set);
        group.bench_function(BenchmarkId::from_parameter(set.n), |b| {
            b.iter(|| iteration(&builder));
        });
    }
    group.finish();
}

/// What a test pays for its database alone: build it, drop it.
fn build_and_drop(builder: &Builder) {
    drop(black_box(must(builder.build(), "build")));
}

/// What a test does first: a database, a connection, a query that needs the schema.
fn acquire_and_query(builder: &Builder) {
    let db = must(builder.build(), "build");
    let conn = must(db.connect(), "connect");
    black_box(first_query(&conn));
    drop(conn);
    drop(db);
}

fn floor(c: &mut Criterion, sets: &[Set]) {
    let dir = must(tempfile::tempdir(), "create copy folder");
    let counter = AtomicU64::new(0);
    let next = || {
        dir.path().join(format!(
            "{}.sqlite",
            counter.fetch_add(1, Ordering::Relaxed)
        ))
    };

    // `copy_floor` opens the copy and runs the first query; `copy_only` does not.
    for (name, query) in [("copy_floor", true), ("copy_only", false)] {
        let mut group = c.benchmark_group(name);
        fast(&mut group);
        for set in sets {
            group.bench_function(BenchmarkId::from_parameter(set.n), |b| {
                b.iter(|| {
                    let path = next();
                    must(fs::copy(&set.template, &path), "copy template");
                    if query {
                        let conn = must(Connection::open(&path), "open copy");
                        black_box(first_query(&conn));
                        drop(conn);
                    }
                    must(fs::remove_file(&path), "remove copy");
                });
            });
        }
        group.finish();
    }
}

fn per_test_migration(c: &mut Criterion, sets: &[Set]) {
    let mut group = c.benchmark_group("refinery_file");
    for set in sets {
        slow(&mut group, set.n);
        group.bench_function(BenchmarkId::from_parameter(set.n), |b| {
            b.iter(|| {
                let dir = must(tempfile::tempdir(), "create temp folder");
                migrate_file(&set.raw, dir.path());
                must(dir.close(), "remove temp folder");
            });
        });
    }
    group.finish();

    let mut group = c.benchmark_group("refinery_memory");
    for set in sets {
        slow(&mut group, set.n);
        group.bench_function(BenchmarkId::from_parameter(set.n), |b| {
            b.iter(|| {
                let mut conn = must(Connection::open_in_memory(), "open in memory");
                must(
                    Runner::new(&set.raw).run(&mut conn),
                    "refinery run in memory",
                );
                black_box(first_query(&conn));
            });
        });
    }
    group.finish();
}

fn cold(c: &mut Criterion, sets: &[Set]) {
    let mut group = c.benchmark_group("cold_build");
    for set in sets {
        slow(&mut group, set.n);
        // Template: build from scratch into a new cache folder, then the first copy. The
        // folder is made before and removed after the timing.
        group.bench_function(BenchmarkId::new("template", set.n), |b| {
            b.iter_batched(
                || must(tempfile::tempdir(), "create cache folder"),
                |cache| {
                    let db = must(
                        TestDb::builder(&set.migrations)
                            .cache_dir(cache.path())
                            .keep(Keep::Never)
                            .build(),
                        "cold build",
                    );
                    (db, cache)
                },
                BatchSize::PerIteration,
            );
        });
        bench_refinery_run(
            &mut group,
            BenchmarkId::new("plain_refinery_file", set.n),
            &set.raw,
        );
    }
    group.finish();
}

fn threads(c: &mut Criterion, sets: &[Set]) {
    for threads in [2usize, 8] {
        let mut group = c.benchmark_group(format!("threads_{threads}"));
        group
            .sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3))
            .throughput(Throughput::Elements(DATABASES_PER_ROUND as u64));
        let per_thread = DATABASES_PER_ROUND / threads;
        for set in sets {
            for (mode, builder) in [
                ("file", set.builder()),
                ("shared", set.shared_builder()),
                ("memory", set.memory_builder()),
            ] {
                group.bench_function(BenchmarkId::new(mode, set.n), |b| {
                    b.iter_custom(|rounds| {
                        let start = Barrier::new(threads + 1);
                        let builds = usize::try_from(rounds).unwrap_or(usize::MAX) * per_thread;
                        std::thread::scope(|scope| {
                            for _ in 0..threads {
                                scope.spawn(|| {
                                    start.wait();
                                    for _ in 0..builds {
                                        drop(black_box(must(builder.build(), "build")));
                                    }
                                });
                            }
                            start.wait();
                            // Leaving the scope joins every thread.
                            Instant::now()
                        })
                        .elapsed()
                    });
                });
            }
        }
        group.finish();
    }
}

fn all(c: &mut Criterion) {
    eprintln!(
        "sqlite-testdb benches: SQLite {}, {} CPUs, temp folder {}",
        rusqlite::version(),
        std::thread::available_parallelism().map_or(0, usize::from),
        std::env::temp_dir().display(),
    );
    let sets: Vec<Set> = SIZES.into_iter().map(Set::new).collect();
    warm(c, &sets);
    floor(c, &sets);
    per_test_migration(c, &sets);
    cold(c, &sets);
    threads(c, &sets);
}

criterion_group!(benches, all);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
