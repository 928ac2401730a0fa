//! [`Generator`]: the row generator over the life of one database, filling tables as they
//! appear and change, each new batch of a table numbered after the rows it already got.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use rusqlite::Connection;

use super::fill_order::fill_order;
use super::filler::Filler;
use super::table::{Context, read_table, user_tables};
use crate::report::{GeneratedRows, TableRows};
use crate::{Error, Result};

/// Generates rows into one database, again and again: a table filled a second time gets
/// rows that continue its sequence (new unique values, new rows numbers) instead of
/// repeating the first ones.
#[derive(Debug)]
pub(crate) struct Generator {
    /// Rows per table and fill.
    rows: usize,
    seed: u64,
    /// Per table (lower case): rows generated so far, inserted or skipped.
    next: HashMap<String, usize>,
    /// Per table, what every fill generated, in the order tables were first filled.
    totals: Vec<TableRows>,
    /// Tables later migrations create (lower case): columns named after them are `NULL`.
    later: BTreeSet<String>,
}

impl Generator {
    pub(crate) fn new(rows: usize, seed: u64) -> Self {
        Generator {
            rows,
            seed,
            next: HashMap::new(),
            totals: Vec::new(),
            later: BTreeSet::new(),
        }
    }

    /// The tables later migrations create, lower case: a column named after one of them
    /// (`team_id` before `teams` exists) references nothing yet, and is left `NULL`.
    pub(crate) fn later_tables(mut self, later: BTreeSet<String>) -> Self {
        self.later = later;
        self
    }

    /// Fills the tables of the database of `conn` (at `path`) named in `only`, or every
    /// table, with a batch of rows each, parents before the tables that reference them, in
    /// one transaction. Returns what this fill generated.
    pub(crate) fn fill(
        &mut self,
        conn: &Connection,
        path: &Path,
        only: Option<&BTreeSet<String>>,
    ) -> Result<GeneratedRows> {
        let sqlite = |e| Error::sqlite("fill with generated rows", path, e);
        let all = user_tables(conn).map_err(sqlite)?;
        let context = Context {
            tables: all.iter().map(|t| t.to_lowercase()).collect(),
            later: self.later.clone(),
        };
        let tables = all
            .iter()
            .filter(|name| only.is_none_or(|only| only.contains(&name.to_lowercase())))
            .map(|name| read_table(conn, name, &context))
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(sqlite)?;
        conn.execute_batch("BEGIN").map_err(sqlite)?;
        let mut generated = GeneratedRows::default();
        for index in fill_order(&tables) {
            let table = &tables[index];
            let key = table.name.to_lowercase();
            let start = self.next.get(&key).copied().unwrap_or(0);
            let rows = Filler::new(conn, table, self.rows, self.seed, start).run();
            self.next.insert(key, start + self.rows);
            self.add_to_totals(&rows);
            generated.tables.push(rows);
        }
        if !conn.is_autocommit() {
            conn.execute_batch("COMMIT").map_err(sqlite)?;
        }
        Ok(generated)
    }

    /// Everything generated so far into the tables that exist in the database of `conn`
    /// now.
    pub(crate) fn totals(&self, conn: &Connection, path: &Path) -> Result<GeneratedRows> {
        let existing: BTreeSet<String> = user_tables(conn)
            .map_err(|e| Error::sqlite("read the tables of", path, e))?
            .iter()
            .map(|t| t.to_lowercase())
            .collect();
        Ok(GeneratedRows {
            tables: self
                .totals
                .iter()
                .filter(|t| existing.contains(&t.table.to_lowercase()))
                .cloned()
                .collect(),
        })
    }

    /// Forgets what was generated so far (the database was replaced), keeping the numbering.
    pub(crate) fn forget_totals(&mut self) {
        self.totals.clear();
    }

    fn add_to_totals(&mut self, rows: &TableRows) {
        let found = self
            .totals
            .iter_mut()
            .find(|t| t.table.eq_ignore_ascii_case(&rows.table));
        match found {
            Some(total) => {
                total.inserted += rows.inserted;
                total.skipped += rows.skipped;
                if total.skip_reason.is_none() {
                    total.skip_reason.clone_from(&rows.skip_reason);
                }
                total.inserts.extend(rows.inserts.iter().cloned());
            }
            None => self.totals.push(rows.clone()),
        }
    }
}
