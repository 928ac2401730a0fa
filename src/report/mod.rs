//! What the checks found, as plain data: a [`ReplayReport`] with one [`StepReport`] per
//! migration and every [`Finding`], the [`DataChange`]s of deliberate data changes, the
//! [`GeneratedRows`] of the row generator. The lowest layer of the crate, below the errors
//! that carry a report.

mod check;
mod data_change;
mod finding;
mod generated_rows;
mod render;
mod replay_report;
mod scripts;
mod step;

pub use check::{Check, FindingKind, Severity};
pub use data_change::DataChange;
pub use finding::Finding;
pub use generated_rows::{GeneratedRows, TableRows};
pub use replay_report::ReplayReport;
pub(crate) use scripts::ScriptFolder;
pub(crate) use step::StepData;
pub use step::{Down, Progress, StepReport};
