//! The tables a migration can change: those its SQL names, those the triggers of those
//! tables write to, and the tables that reference them by foreign key (cascades, and the
//! rows a foreign key check must look at). Only these are read and checked around it, so a
//! step costs what the migration touches, not what the database holds.

use std::collections::{BTreeSet, HashMap};

use rusqlite::Connection;

use crate::sql::tokens::lex;

/// What the schema says about who can change whom, kept between steps: a table's foreign
/// keys and a trigger's names are read again only when their SQL changed.
#[derive(Debug, Default)]
pub(crate) struct Reach {
    /// Per table (lower case): its `CREATE` statement and the tables it references.
    tables: HashMap<String, (String, Vec<String>)>,
    /// Per trigger `CREATE` statement: the names it uses (lower case).
    triggers: HashMap<String, BTreeSet<String>>,
}

impl Reach {
    /// The tables (lower case) of the database of `conn` that running `sqls` can change, as
    /// the database is now.
    pub(crate) fn affected(
        &mut self,
        conn: &Connection,
        sqls: &[&str],
    ) -> rusqlite::Result<BTreeSet<String>> {
        let objects: Vec<(String, String, String, String)> = conn
            .prepare_cached(
                "SELECT type, lower(name), lower(tbl_name), coalesce(sql, '') FROM sqlite_master \
                 WHERE type IN ('table', 'trigger')",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut tables = HashMap::with_capacity(self.tables.len());
        let mut triggers = Vec::new();
        for (kind, name, on, sql) in objects {
            if kind == "table" {
                let entry = match self.tables.remove(&name) {
                    Some((old, parents)) if old == sql => (old, parents),
                    _ => {
                        let parents = parents_of(conn, &name)?;
                        (sql, parents)
                    }
                };
                tables.insert(name, entry);
            } else {
                if !self.triggers.contains_key(&sql) {
                    let names = names_in(&sql);
                    self.triggers.insert(sql.clone(), names);
                }
                triggers.push((on, sql));
            }
        }
        self.tables = tables;
        self.triggers
            .retain(|sql, _| triggers.iter().any(|(_, t)| t == sql));

        let known = |names: &BTreeSet<String>| -> BTreeSet<String> {
            names
                .iter()
                .filter(|n| self.tables.contains_key(*n))
                .cloned()
                .collect()
        };
        let mut affected: BTreeSet<String> =
            sqls.iter().flat_map(|sql| known(&names_in(sql))).collect();
        loop {
            let mut more = BTreeSet::new();
            for (on, sql) in &triggers {
                if affected.contains(on)
                    && let Some(names) = self.triggers.get(sql)
                {
                    more.extend(known(names));
                }
            }
            for (child, (_, parents)) in &self.tables {
                if parents.iter().any(|p| affected.contains(p)) {
                    more.insert(child.clone());
                }
            }
            let before = affected.len();
            affected.extend(more);
            if affected.len() == before {
                return Ok(affected);
            }
        }
    }
}

/// The tables `table` references by foreign key, lower case.
fn parents_of(conn: &Connection, table: &str) -> rusqlite::Result<Vec<String>> {
    conn.prepare_cached("SELECT DISTINCT lower(\"table\") FROM pragma_foreign_key_list(?1)")?
        .query_map([table], |r| r.get(0))?
        .collect()
}

/// Every name `sql` uses, lower case.
fn names_in(sql: &str) -> BTreeSet<String> {
    lex(sql)
        .iter()
        .filter_map(|t| t.identifier())
        .map(str::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triggers_and_references_spread_what_a_migration_touches() -> rusqlite::Result<()> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch(
            "CREATE TABLE users(id INTEGER PRIMARY KEY);
             CREATE TABLE posts(id INTEGER PRIMARY KEY, user_id REFERENCES users(id) ON DELETE CASCADE);
             CREATE TABLE audit(entry TEXT);
             CREATE TRIGGER posts_audit AFTER DELETE ON posts BEGIN INSERT INTO audit VALUES ('x'); END;
             CREATE TABLE unrelated(x);",
        )?;
        let mut reach = Reach::default();
        let touched = reach.affected(&conn, &["DELETE FROM \"Users\" WHERE id > 3"])?;
        let expected: BTreeSet<String> = ["audit", "posts", "users"]
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(touched, expected);
        assert!(
            reach
                .affected(&conn, &["CREATE INDEX u ON unrelated(x)"])?
                .contains("unrelated")
        );
        // A table that changes is read again: now `unrelated` references users.
        conn.execute_batch(
            "DROP TABLE unrelated; CREATE TABLE unrelated(x REFERENCES users(id));",
        )?;
        assert!(
            reach
                .affected(&conn, &["DELETE FROM users"])?
                .contains("unrelated")
        );
        Ok(())
    }
}
