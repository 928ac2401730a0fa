//! What checking a migration folder costs: `replay::check` (every migration on its own
//! against an empty database, down scripts, step by step against all at once) and
//! `replay::check_with_data` (the same, each migration over generated rows), against one
//! plain refinery run of the same migrations on a file.
//!
//! The migration sets are those of `benches/acquire.rs` (N = 10, 50 and 200), written to a
//! folder with a down script for every migration but the data migrations, which are
//! marked with `expect_changes`: both checks pass on them.
//!
//! | group | what one iteration is |
//! |---|---|
//! | `replay/refinery_file` | one refinery run on a new file (the folder made and removed outside the timing) |
//! | `replay/check` | `replay::check` on the folder |
//! | `replay/check_with_data` | `replay::check_with_data` with the default options (20 rows per table) |
//!
//! Run with `cargo bench --bench replay`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, SamplingMode, criterion_group};
use sqlite_testdb::{DataOptions, Migrations, replay};

mod migration_set;

use migration_set::{bench_refinery_run, generate, must, write_dir};

/// `replay::check_with_data` with the default options, `expected` marked as changing data.
fn with_data(
    migrations: &Migrations,
    expected: &[sqlite_testdb::Version],
) -> sqlite_testdb::Result<replay::ReplayReport> {
    let mut replay = replay::Replay::new(migrations);
    replay.with_data(DataOptions::default());
    for version in expected {
        replay.expect_changes(*version);
    }
    replay.run()
}

/// The migration set sizes.
const SIZES: [usize; 3] = [10, 50, 200];

/// One set, as files and as refinery migrations.
struct Set {
    n: usize,
    raw: Vec<refinery::Migration>,
    migrations: Migrations,
    /// The data migrations, marked with `expect_changes`.
    expected: Vec<sqlite_testdb::Version>,
    _dir: tempfile::TempDir,
}

impl Set {
    fn new(n: usize) -> Self {
        let dir = must(tempfile::tempdir(), "create migrations folder");
        let data_migrations = write_dir(n, dir.path());
        let migrations = must(Migrations::from_dir(dir.path()), "load generated folder");
        let expected: Vec<_> = data_migrations.into_iter().collect();
        // Both checks pass before anything is measured.
        must(replay::check(&migrations), "replay::check");
        let report = must(with_data(&migrations, &expected), "replay::check_with_data");
        let rows = report.generated_at_latest().map_or(0, |g| g.inserted());
        eprintln!(
            "N={n}: {} migrations, {} with a down script; {rows} generated rows at the latest version",
            migrations.len(),
            migrations
                .versions()
                .filter(|v| migrations.down_script(*v).is_some())
                .count(),
        );
        Set {
            n,
            raw: generate(n),
            migrations,
            expected,
            _dir: dir,
        }
    }
}

fn all(c: &mut Criterion) {
    let sets: Vec<Set> = SIZES.into_iter().map(Set::new).collect();
    let mut group = c.benchmark_group("replay");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1));
    for set in &sets {
        group.measurement_time(Duration::from_secs(match set.n {
            0..=10 => 5,
            11..=50 => 20,
            _ => 50,
        }));
        bench_refinery_run(
            &mut group,
            BenchmarkId::new("refinery_file", set.n),
            &set.raw,
        );
        group.bench_function(BenchmarkId::new("check", set.n), |b| {
            b.iter(|| black_box(must(replay::check(&set.migrations), "replay::check")));
        });
        group.bench_function(BenchmarkId::new("check_with_data", set.n), |b| {
            b.iter(|| {
                black_box(must(
                    with_data(&set.migrations, &set.expected),
                    "replay::check_with_data",
                ))
            });
        });
    }
    group.finish();
}

criterion_group!(benches, all);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
