//! [`Generator`]: the row generator over the life of one database, filling tables as they
//! appear and change, each new batch of a table numbered after the rows it already got.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use rusqlite::Connection;

use super::fill_order::fill_order;
use super::filler::Filler;
use super::table::{Context, read_table, user_tables};
use crate::error::{Error, Result};
use crate::report::{GeneratedRows, TableRows};

/// Generates rows into one database, again and again: a table filled a second time gets
/// rows that continue its sequence (new unique values, new row numbers) instead of
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
    /// Tables (lower case) whose last batch got no row in: the schema refuses what the
    /// generator makes (a trigger's rule, say).
    barren: BTreeSet<String>,
}

impl Generator {
    /// A generator of batches of `rows` rows from `seed`.
    pub(crate) fn new(rows: usize, seed: u64) -> Self {
        Generator {
            rows,
            seed,
            next: HashMap::new(),
            totals: Vec::new(),
            later: BTreeSet::new(),
            barren: BTreeSet::new(),
        }
    }

    /// Whether the last batch of `table` (lower case) got no row in.
    pub(crate) fn is_barren(&self, table: &str) -> bool {
        self.barren.contains(table)
    }

    /// Rows per batch.
    pub(crate) fn rows(&self) -> usize {
        self.rows
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
        self.fill_with(conn, path, only, self.rows)
    }

    /// [`fill`](Self::fill) with batches of `rows` rows.
    pub(crate) fn fill_with(
        &mut self,
        conn: &Connection,
        path: &Path,
        only: Option<&BTreeSet<String>>,
        rows: usize,
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
            let batch = Filler::new(conn, table, rows, self.seed, start).run();
            if batch.inserted == 0 {
                self.barren.insert(key.clone());
            } else {
                self.barren.remove(&key);
            }
            self.next.insert(key, start + rows);
            self.add_to_totals(&batch);
            generated.tables.push(batch);
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
