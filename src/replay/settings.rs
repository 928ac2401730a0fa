//! [`Settings`]: what a replay runs with, as its [`Replay`](super::Replay) builder set it.

use crate::connection::ConnectOptions;
use crate::{DataOptions, Migrations, Result, TestDb, Version};

/// The settings of one replay.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) migrations: Migrations,
    /// Every connection's settings: the hook, the busy timeout.
    pub(crate) connect: ConnectOptions,
    /// Generated rows, for the checks with data; `None`: empty databases only.
    pub(crate) data: Option<DataOptions>,
    /// Migrations marked as changing data on purpose, besides those of `data`.
    pub(crate) expected: Vec<Version>,
}

impl Settings {
    /// A new empty database with these connection settings, in a folder of its own that is
    /// always removed.
    pub(crate) fn scratch(&self) -> Result<TestDb> {
        TestDb::empty(&self.migrations, &self.connect)
    }

    /// Whether `version` changes data on purpose.
    pub(crate) fn expects_changes(&self, version: Version) -> bool {
        self.expected.contains(&version)
            || self
                .data
                .as_ref()
                .is_some_and(|d| d.expects_changes(version))
    }
}
