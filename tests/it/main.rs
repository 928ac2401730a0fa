//! The integration tests, one module per capability, in one test binary: SQLite is linked
//! once, not once per file. Tests that need a process of their own run this binary again as a
//! child (`common::child_command`).
//!
//! `cargo test --test it MODULE::` runs one capability, e.g. `cargo test --test it replay::`.

mod common;

mod attach;
mod bad_input;
mod cache_folder;
mod check_from;
mod cli;
mod cli_ci;
mod concurrency;
mod faults;
mod fixture;
mod in_memory;
mod layout;
mod migration_libraries;
mod migrations;
mod replay;
mod replay_with_data;
mod schema;
mod schema_changes;
mod shared_folder;
mod template_cache;
mod test_db;
mod upgrade;
