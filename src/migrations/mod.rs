//! Migrations: the set ([`Migrations`], loaded from a folder in refinery's, diesel's or
//! sqlx's layout, from a runner, from code or as a function), down scripts, each library's
//! history table (one reader), running them as their library does, and rollback.

// Wired into the replay and the command's config next; until then only its tests use it.
mod closure;
pub(crate) mod digest;
mod down_script;
pub(crate) mod embedded;
mod folder;
pub(crate) mod history;
mod layout;
mod library;
mod refinery_runner;
pub(crate) mod rollback;
pub(crate) mod runner;
mod set;
mod sources;

pub use down_script::DownScript;
pub use layout::Layout;
pub use refinery_runner::RefineryRunner;
pub use set::Migrations;
