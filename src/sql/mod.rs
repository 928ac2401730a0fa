//! SQL as text, the lowest layer of the crate: tokens, statements normalized for comparison,
//! and values and names written as SQL literals. Imports nothing else of the crate.

#[cfg(feature = "check")]
pub(crate) mod allow_comment;
#[cfg(feature = "check")]
pub(crate) mod lint;
#[cfg(feature = "check")]
pub(crate) mod literal;
pub(crate) mod position;
#[cfg(feature = "check")]
pub(crate) mod sqlite_version;
pub(crate) mod text;
pub(crate) mod tokens;

pub(crate) use text::{has_statement, normalize};
