//! `autoincrement-reset`: a step that lowers a table's `sqlite_sequence` value (typically a
//! rebuild, which starts the new table's counter at the highest id copied) hands out ids of
//! deleted rows again.

use std::collections::BTreeMap;

use rusqlite::Connection;

use super::change::Change;
use crate::error::{Error, Result};
use crate::report::Check;

/// Each AUTOINCREMENT table's counter in `sqlite_sequence` (names in lower case); empty
/// when the database has no such table yet.
pub(crate) fn sequences(conn: &Connection) -> Result<BTreeMap<String, i64>> {
    let path = conn.path().unwrap_or_default().to_owned();
    let read = || -> rusqlite::Result<BTreeMap<String, i64>> {
        let exists: bool = conn.query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'",
            [],
            |r| r.get(0),
        )?;
        if !exists {
            return Ok(BTreeMap::new());
        }
        let mut values = BTreeMap::new();
        let mut statement = conn.prepare_cached("SELECT lower(name), seq FROM sqlite_sequence")?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let (name, seq): (String, Option<i64>) = (row.get(0)?, row.get(1)?);
            let value = values.entry(name).or_insert(0);
            *value = (*value).max(seq.unwrap_or(0));
        }
        Ok(values)
    };
    read().map_err(|e| Error::sqlite("read sqlite_sequence of", path, e))
}

/// The tables whose counter went down from `before` to `after`, still there after the step
/// (`tables_after`, lower case): a counter gone with its table is the table's drop.
pub(crate) fn resets(
    before: &BTreeMap<String, i64>,
    after: &BTreeMap<String, i64>,
    tables_after: &[&str],
) -> Vec<Change> {
    before
        .iter()
        .filter(|(table, _)| tables_after.contains(&table.as_str()))
        .filter_map(|(table, &was)| {
            let now = after.get(table).copied().unwrap_or(0);
            (now < was).then(|| Change {
                class: Check::AutoincrementReset,
                table: table.clone(),
                column: None,
                object: None,
                detail: if after.contains_key(table) {
                    format!(
                        "the AUTOINCREMENT counter of `{table}` went from {was} down to {now}: ids {} to {was} will be handed out again",
                        now + 1
                    )
                } else {
                    format!(
                        "table `{table}` lost its AUTOINCREMENT counter (was {was}): ids up to {was} will be handed out again"
                    )
                },
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;

    type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

    const V1: &str = "CREATE TABLE users(id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT);
                      INSERT INTO users(email) VALUES ('a'), ('b'), ('c');
                      DELETE FROM users WHERE id = 3;";

    /// The resets of `step` on a database at V1 (ids 1, 2 left; counter at 3).
    fn resets_of(step: &str) -> std::result::Result<Vec<Change>, Box<dyn std::error::Error>> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch(V1)?;
        let before = sequences(&conn)?;
        conn.execute_batch(step)?;
        let after = sequences(&conn)?;
        let tables: Vec<String> = conn
            .prepare("SELECT lower(name) FROM sqlite_master WHERE type = 'table'")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let tables: Vec<&str> = tables.iter().map(String::as_str).collect();
        Ok(resets(&before, &after, &tables))
    }

    #[test]
    fn a_rebuild_that_copies_the_rows_lowers_the_counter_to_the_highest_id() -> TestResult {
        let found = resets_of(
            "CREATE TABLE users_new(id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT);
             INSERT INTO users_new SELECT id, email FROM users;
             DROP TABLE users;
             ALTER TABLE users_new RENAME TO users;",
        )?;
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].class, Check::AutoincrementReset);
        assert_eq!(found[0].table, "users");
        assert!(
            found[0].detail.contains("from 3 down to 2"),
            "{}",
            found[0].detail
        );
        Ok(())
    }

    #[test]
    fn a_rebuild_without_autoincrement_loses_the_counter() -> TestResult {
        let found = resets_of(
            "CREATE TABLE users_new(id INTEGER PRIMARY KEY, email TEXT);
             INSERT INTO users_new SELECT id, email FROM users;
             DROP TABLE users;
             ALTER TABLE users_new RENAME TO users;",
        )?;
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0]
                .detail
                .contains("lost its AUTOINCREMENT counter (was 3)")
        );
        Ok(())
    }

    #[test]
    fn a_rebuild_that_carries_the_counter_over_and_a_dropped_table_are_not_resets() -> TestResult {
        let carried = resets_of(
            "CREATE TABLE users_new(id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT);
             INSERT INTO users_new SELECT id, email FROM users;
             UPDATE sqlite_sequence SET seq = (SELECT seq FROM sqlite_sequence WHERE name = 'users')
                 WHERE name = 'users_new';
             DROP TABLE users;
             ALTER TABLE users_new RENAME TO users;",
        )?;
        assert!(carried.is_empty(), "{carried:?}");
        assert!(
            resets_of(
                "ALTER TABLE users ADD COLUMN nick TEXT; INSERT INTO users(email) VALUES ('d');"
            )?
            .is_empty()
        );
        assert!(resets_of("DROP TABLE users")?.is_empty());
        Ok(())
    }
}
