//! SQLite's own message of a failure, out of rusqlite's wrapping and out of this crate's
//! error chain.

use crate::Error;

/// SQLite's own message of an error, without rusqlite's wrapping.
pub(crate) fn sqlite_message(error: &rusqlite::Error) -> String {
    match error {
        rusqlite::Error::SqliteFailure(_, Some(message)) => message.clone(),
        other => other.to_string(),
    }
}

/// SQLite's own message, from the rusqlite error in an error's chain (else the last
/// message of the chain).
pub(crate) fn root_message(error: &Error) -> String {
    let mut last = None;
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(sqlite) = cause.downcast_ref::<rusqlite::Error>() {
            return sqlite_message(sqlite);
        }
        last = Some(cause.to_string());
        source = cause.source();
    }
    last.unwrap_or_else(|| error.to_string())
}
