//! Migrations: the set ([`Migrations`], loaded from a folder in refinery's or diesel's
//! layout, from a runner or from code), down scripts, refinery's history table (one reader),
//! running them with refinery, and rollback.

pub(crate) mod digest;
mod down_script;
pub(crate) mod embedded;
mod folder;
pub(crate) mod history;
mod refinery_runner;
pub(crate) mod rollback;
pub(crate) mod runner;
mod set;
mod version;

pub use down_script::DownScript;
pub use refinery_runner::RefineryRunner;
pub use set::Migrations;
pub use version::Version;
