//! SQL as text, the lowest layer of the crate: tokens, statements normalized for comparison,
//! and values and names written as SQL literals. Imports nothing else of the crate.

// The lint, its versions and the acknowledgements are wired into the replay's step loop
// next; until then only their tests use them.
#[cfg(feature = "check")]
#[allow(dead_code)]
pub(crate) mod allow_comment;
#[cfg(feature = "check")]
#[allow(dead_code)]
pub(crate) mod lint;
#[cfg(feature = "check")]
pub(crate) mod literal;
pub(crate) mod position;
#[cfg(feature = "check")]
#[allow(dead_code)]
pub(crate) mod sqlite_version;
pub(crate) mod text;
pub(crate) mod tokens;

pub(crate) use text::{has_statement, normalize};
