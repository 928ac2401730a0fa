//! [`Request`]: what a template is made of, and so its fingerprint.

use std::path::Path;

use super::fingerprint::{Fingerprint, Shape};
use crate::connection::ConnectOptions;
use crate::error::Result;
use crate::migrations::Migrations;
use crate::version::Version;

/// `PRAGMA page_size` of every template (SQLite's default).
pub(crate) const PAGE_SIZE: u32 = 4096;
/// `PRAGMA journal_mode` of every template: WAL is stored in the file header, so copies open
/// in WAL mode without a journal switch.
pub(crate) const JOURNAL_MODE: &str = "wal";

/// What a template is made of.
pub(crate) struct Request<'a> {
    pub(crate) migrations: &'a Migrations,
    pub(crate) target: Version,
    pub(crate) seeds: &'a [String],
    pub(crate) connect: &'a ConnectOptions,
    pub(crate) cache_dir: Option<&'a Path>,
}

impl Request<'_> {
    pub(crate) fn fingerprint(&self) -> Result<Fingerprint> {
        Ok(Fingerprint::new(&Shape {
            migrations: self.migrations.digest_to(self.target)?,
            target: self.target,
            seeds: self.seeds,
            page_size: PAGE_SIZE,
            journal_mode: JOURNAL_MODE,
        }))
    }
}
