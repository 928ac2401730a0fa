//! `sqlite-testdb`: check a folder of SQLite migrations (refinery's, diesel's or sqlx's) from
//! the command line, print its normalized schema at a version, or diff two versions.
//!
//! Built with the `cli` feature: `cargo install sqlite-testdb --features cli`.
//!
//! Exit codes: 0 when everything passed, 1 when a migration failed or a check failed, 2 on
//! bad input (missing folder, badly named file, duplicate version, unknown version, an
//! extension that does not load, bad usage) or when the command could not run.

mod allow;
mod annotation;
mod args;
mod baseline;
mod ci;
mod config;
mod extensions;
mod failure;
mod github;
mod lock;
mod output;
mod released;
mod sarif;
mod schema_file;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use serde_json::Value;
use sqlite_testdb::replay::{self, Finding, Replay};
use sqlite_testdb::{
    Builder, DataOptions, Error, Keep, Layout, Migrations, Schema, TestDb, Version,
};

use args::{CheckArgs, Cli, Command};
use extensions::{check_extensions, load_extensions};
use failure::Failure;
use output::{ProgressLine, diff_json, object_json, print_json, print_text, report_json};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.command.json();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(json),
    }
}

fn run(command: Command) -> Result<(), Failure> {
    let common = command.common();
    let migrations = Migrations::from_dir(&common.dir).map_err(Failure::Input)?;
    let extensions = Arc::new(common.load_extensions.clone());
    check_extensions(&extensions)?;

    // A fresh cache per run, removed when this function returns: the command leaves no
    // template behind, and SQLITE_TESTDB_CACHE_DIR is not used.
    let cache = tempfile::Builder::new()
        .prefix("sqlite-testdb-cli-")
        .tempdir()
        .map_err(Failure::CacheDir)?;
    let mut builder = TestDb::builder(&migrations);
    builder.cache_dir(cache.path()).keep(Keep::Never);
    if !extensions.is_empty() {
        let extensions = Arc::clone(&extensions);
        builder.on_connect(move |conn| load_extensions(conn, &extensions));
    }

    match command {
        Command::Check {
            common,
            check: args,
        } => check(
            &migrations,
            &common.dir,
            &extensions,
            &mut builder,
            common.json,
            &args,
        ),
        Command::Lock { common } => {
            let path = lock::write(&migrations, &common.dir)?;
            eprintln!(
                "wrote {} migration(s) to {}",
                migrations.len(),
                path.display()
            );
            Ok(())
        }
        Command::Schema {
            common, version, ..
        } => {
            let version = match version {
                Some(text) => allow::version_arg(&migrations, &text)?,
                None => migrations.latest(),
            };
            let schema = schema_at(&mut builder, version)?;
            if common.json {
                print_json(&Value::Array(
                    schema.objects().iter().map(object_json).collect(),
                ));
            } else {
                print_text(&schema.to_string());
            }
            Ok(())
        }
        Command::Diff { common, from, to } => {
            let label = |v: Version| match migrations.layout() {
                Some(Layout::Refinery) | None => format!("V{v}"),
                Some(_) => migrations.label(v).unwrap_or_else(|| format!("V{v}")),
            };
            let (from, to) = (
                allow::version_arg(&migrations, &from)?,
                allow::version_arg(&migrations, &to)?,
            );
            let a = schema_at(&mut builder, from)?;
            let b = schema_at(&mut builder, to)?;
            let diff = a.diff_labeled(&b, &label(from), &label(to));
            if common.json {
                print_json(&diff_json(from, to, &a, &b, &diff));
            } else if diff.is_empty() {
                eprintln!("no schema change between {} and {}", label(from), label(to));
            } else {
                print_text(&diff);
            }
            Ok(())
        }
    }
}

/// `check`: the replay report, with a progress line on a terminal; every finding, then
/// the summary, and exit code 1 when there is any.
fn check(
    migrations: &Migrations,
    dir: &Path,
    extensions: &Arc<Vec<PathBuf>>,
    builder: &mut Builder,
    json: bool,
    args: &CheckArgs,
) -> Result<(), Failure> {
    let config = config::load(args.config.as_deref(), dir)?;
    let format = match args.format {
        _ if json => ci::Format::Json,
        Some(format) => format,
        None => ci::Format::Text,
    };
    let json = format == ci::Format::Json;
    let ci = ci::Ci::gather(
        migrations,
        ci::Settings {
            dir,
            since: args.since.as_deref(),
            schema_file: args.schema.clone().or_else(|| config.schema_file.clone()),
            baseline: args.baseline.as_deref(),
            write_baseline: args.write_baseline.as_deref(),
            format,
        },
        || schema_at(builder, migrations.latest()),
    )?;
    let data = args.with_data || args.from.is_some();
    if !data && !args.expect_changes.is_empty() {
        return Err(Failure::Usage(
            "--expect-changes marks migrations for the checks over rows: add --with-data \
             (or --from FILE)"
                .to_owned(),
        ));
    }

    let mut line = ProgressLine::new();
    let mut replay = Replay::new(migrations);
    if !extensions.is_empty() {
        let extensions = Arc::clone(extensions);
        replay.on_connect(move |conn| load_extensions(conn, &extensions));
    }
    if args.with_data {
        // The library's defaults, but for what the command line or the config file set.
        let mut options = DataOptions::default();
        if let Some(rows) = args.rows.or(config.rows) {
            options = options.rows_per_table(rows);
        }
        if let Some(seed) = args.seed.or(config.seed) {
            options = options.seed(seed);
        }
        replay.with_data(options);
        if let Some(dir) = &args.scripts {
            replay.scripts_in(dir);
        }
        if let Some(limit) = args.time_limit.or(config.time_limit) {
            replay.time_limit(limit);
        }
    }
    if let Some(from) = &args.from {
        replay.upgrade(from);
    }
    // The config file's expected changes are for the runs over rows; a plain `check` of the
    // same folder leaves them out.
    if data {
        for version in &config.expect_changes {
            replay.expect_changes(*version);
        }
        for text in &args.expect_changes {
            replay.expect_changes(allow::version_arg(migrations, text)?);
        }
    }
    if args.fail_fast {
        replay.fail_fast();
    }
    if args.foreign_keys_off || config.foreign_keys == Some(false) {
        replay.foreign_keys_off();
    }
    if let Some(min) = args.min_sqlite.as_ref().or(config.min_sqlite.as_ref()) {
        replay.min_sqlite(min);
    }
    for (version, check) in allow::allows(migrations, &args.allow, &config)? {
        replay.allow(version, check);
    }
    let outcome = replay
        .progress(|p: replay::Progress<'_>| {
            // `p` is the migration just checked; show the one being checked now.
            match migrations.iter().find(|m| m.version() > p.step.version()) {
                Some(next) if p.done < p.total => {
                    line.show(&format!("checking {}/{} {next}", p.done + 1, p.total));
                }
                _ => line.show(&format!(
                    "checked {}/{}; comparing step by step with all at once",
                    p.done, p.total
                )),
            }
        })
        .run();
    drop(replay);
    line.clear();
    let report = match outcome {
        Ok(report) => report,
        Err(Error::Findings { report }) => *report,
        Err(other) => return Err(other.into()),
    };
    // The output names the scripts: they stay after the command exits (in the folder of
    // --scripts, or in the temp folder, for the user to remove).
    let scripts = report.keep_scripts().map(Path::to_path_buf);
    let config_file = config
        .path
        .clone()
        .unwrap_or_else(|| dir.join(config::FILE_NAME));
    let hint = |finding: &Finding| -> Option<String> {
        finding.lost_data().then(|| {
            format!(
                "if the migration deletes or changes them on purpose, mark it: \
                 --expect-changes {v}, or add {v} to expect-changes in {}",
                config_file.display(),
                v = finding.version()
            )
        })
    };
    let as_text = |f: &Finding| f.render(hint(f).as_deref());
    let (mut text, mut document) = (String::new(), Value::Null);
    if json {
        document = report_json(migrations, &report, &hint);
        document["scripts"] = serde_json::json!(scripts.as_deref().map(output::path_text));
    } else if format == ci::Format::Text {
        text = report.render(&hint);
    }
    let end = ci.finish(&report, &as_text, &mut text, &mut document);
    if json {
        print_json(&document);
    } else {
        print_text(&text);
    }
    end
}

/// The normalized schema of a new database at `version`.
fn schema_at(builder: &mut Builder, version: Version) -> Result<Schema, Failure> {
    let mut line = ProgressLine::new();
    line.show(&format!("migrating to V{version}"));
    let db = builder.version(version).build()?;
    line.clear();
    let schema = db.schema()?;
    db.close()?;
    Ok(schema)
}
