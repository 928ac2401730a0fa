//! Migrations: the set ([`Migrations`], loaded from a folder in refinery's or diesel's
//! layout, from a runner or from code), down scripts, refinery's history table (one reader),
//! running them with refinery, and rollback.

// Wired into the replay and the command's config next; until then only its tests use it.
#[allow(dead_code)]
pub(crate) mod allow;
pub(crate) mod digest;
mod down_script;
mod folder;
pub(crate) mod history;
pub(crate) mod rollback;
pub(crate) mod runner;
mod set;
mod version;

pub use down_script::DownScript;
pub use set::Migrations;
pub use version::Version;
