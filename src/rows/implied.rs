//! References an application keeps without declaring them: a column named like
//! `organization_uuid`, `user_id` or `owner_id`, beside a table `organizations` or `users`
//! with a matching key, holds that table's keys; so does one named by the table's initials
//! (`qu_id` beside `quantity_units`) or with a role after its key (`qu_id_stock`). Generated rows follow them, so that a
//! later migration that declares the reference (`REFERENCES organizations(uuid)`) meets data
//! the application could have written, not random values.

use std::collections::BTreeSet;

use rusqlite::Connection;

/// The keys a referencing column can be named after: `<parent>_id`, `<parent>_uuid`, …
const KEYS: [&str; 4] = ["id", "uuid", "guid", "key"];

/// Names that stand for a user whatever the table is called.
const USER_ROLES: [&str; 9] = [
    "owner",
    "author",
    "creator",
    "created_by",
    "updated_by",
    "modified_by",
    "assignee",
    "sender",
    "recipient",
];

/// What a column's name says it references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Implied {
    /// A table of the database, by its key column.
    Table { parent: String, key: String },
    /// A table that does not exist yet but a later migration creates: the application
    /// could not have stored its keys, so the column holds `NULL` where it may.
    Later,
}

/// The tables a migration set creates, lower case: the names after `CREATE TABLE` and
/// `RENAME TO` in its SQL.
pub(crate) fn created_tables<'a>(sqls: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for sql in sqls {
        let tokens = crate::sql::tokens::lex(sql);
        for (i, token) in tokens.iter().enumerate() {
            let before =
                |keywords: &[&str]| i > 0 && keywords.iter().any(|k| tokens[i - 1].is_keyword(k));
            let names_a_table = (token.is_keyword("table")
                && before(&["create", "temp", "temporary"]))
                || (token.is_keyword("to") && before(&["rename"]));
            if !names_a_table {
                continue;
            }
            let mut at = i + 1;
            // `IF NOT EXISTS`, then the name (maybe `schema.name`).
            while tokens.get(at).is_some_and(|t| {
                t.is_keyword("if") || t.is_keyword("not") || t.is_keyword("exists")
            }) {
                at += 1;
            }
            if tokens
                .get(at + 1)
                .is_some_and(|t| t.kind == crate::sql::tokens::TokenKind::Punct('.'))
            {
                at += 2;
            }
            if let Some(name) = tokens.get(at).and_then(|t| t.identifier()) {
                names.insert(name.to_lowercase());
            }
        }
    }
    names
}

/// What the column `column` of `table` references by its name, if anything: a table of the
/// database (of `tables`, lower case) whose columns name its key, or one that a later
/// migration creates (of `later`).
pub(crate) fn implied(
    conn: &Connection,
    table: &str,
    column: &str,
    tables: &BTreeSet<String>,
    later: &BTreeSet<String>,
) -> rusqlite::Result<Option<Implied>> {
    let name = column.to_lowercase();
    let Some((stem, key)) = stem_and_key(&name) else {
        return Ok(None);
    };
    let own = table.to_lowercase();
    let mut names = candidates(stem);
    names.extend(by_initials(stem, tables.iter().chain(later)));
    for candidate in names {
        if candidate == own {
            continue;
        }
        if tables.contains(&candidate) {
            if let Some(key) = key_column(conn, &candidate, key)? {
                return Ok(Some(Implied::Table {
                    parent: candidate,
                    key,
                }));
            }
        } else if later.contains(&candidate) {
            return Ok(Some(Implied::Later));
        }
    }
    Ok(None)
}

/// `organization_uuid` → (`organization`, `uuid`); a role after the key too: `qu_id_stock`
/// → (`qu`, `id`).
fn stem_and_key(name: &str) -> Option<(&str, &'static str)> {
    KEYS.iter().find_map(|key| {
        let stem = match name.strip_suffix(key).and_then(|s| s.strip_suffix('_')) {
            Some(stem) => stem,
            None => {
                let (stem, role) = name.rsplit_once(&format!("_{key}_"))?;
                if role.is_empty() || role.contains('_') {
                    return None;
                }
                stem
            }
        };
        (!stem.is_empty()).then_some((stem, *key))
    })
}

/// The one table whose words' initials are the stem's last word (`qu` → `quantity_units`),
/// for stems of two to four letters; none when no table or several match.
fn by_initials<'a>(stem: &str, tables: impl Iterator<Item = &'a String>) -> Option<String> {
    let last = stem.rsplit('_').next()?;
    if !(2..=4).contains(&last.len()) || !last.chars().all(|c| c.is_ascii_lowercase()) {
        return None;
    }
    let matching: BTreeSet<&String> = tables
        .filter(|table| {
            let initials: String = table
                .split('_')
                .filter_map(|word| word.chars().next())
                .collect();
            initials == last && table.contains('_')
        })
        .collect();
    match matching.into_iter().collect::<Vec<_>>().as_slice() {
        [one] => Some((*one).clone()),
        _ => None,
    }
}

/// The tables a column stem can name, most likely first: `organization` → `organization`,
/// `organizations`; `parent_category` → …, `category`, `categories`; `owner` → `users`.
fn candidates(stem: &str) -> Vec<String> {
    let words: Vec<&str> = stem.split('_').filter(|w| !w.is_empty()).collect();
    let mut names = Vec::new();
    for start in 0..words.len() {
        let base = words[start..].join("_");
        names.push(base.clone());
        names.push(format!("{base}s"));
        names.push(format!("{base}es"));
        if let Some(root) = base.strip_suffix('y') {
            names.push(format!("{root}ies"));
        }
    }
    if USER_ROLES.contains(&stem) || words.last().is_some_and(|w| USER_ROLES.contains(w)) {
        for user in ["users", "user", "accounts", "account"] {
            names.push(user.to_owned());
        }
    }
    names
}

/// The column of `parent` a `<stem>_<key>` column references: one named `key`, or for `id`
/// the table's integer primary key; `None` when there is none.
fn key_column(conn: &Connection, parent: &str, key: &str) -> rusqlite::Result<Option<String>> {
    let columns: Vec<(String, String, bool)> = conn
        .prepare_cached(
            "SELECT name, upper(coalesce(type, '')), pk > 0 FROM pragma_table_xinfo(?1) \
             WHERE hidden = 0",
        )?
        .query_map([parent], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    if let Some((name, _, _)) = columns.iter().find(|(n, _, _)| n.eq_ignore_ascii_case(key)) {
        return Ok(Some(name.clone()));
    }
    let primary: Vec<&(String, String, bool)> = columns.iter().filter(|c| c.2).collect();
    Ok(match primary.as_slice() {
        [(name, declared, _)] if key == "id" && declared == "INTEGER" => Some(name.clone()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_named_after_a_table_references_its_key() -> rusqlite::Result<()> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch(
            "CREATE TABLE organizations(uuid TEXT PRIMARY KEY);
             CREATE TABLE users(id INTEGER PRIMARY KEY);
             CREATE TABLE categories(num INTEGER PRIMARY KEY);
             CREATE TABLE quantity_units(id INTEGER PRIMARY KEY);
             CREATE TABLE ciphers(uuid TEXT PRIMARY KEY, organization_uuid TEXT, owner_id INTEGER,
                 parent_category_id INTEGER, external_id TEXT, team_uuid TEXT, qu_id INTEGER,
                 qu_id_stock INTEGER, from_qu_id INTEGER, xy_id INTEGER);",
        )?;
        let tables: BTreeSet<String> = [
            "organizations",
            "users",
            "categories",
            "quantity_units",
            "ciphers",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        // A table that exists is also among those the set creates.
        let later: BTreeSet<String> = ["teams".to_owned(), "quantity_units".to_owned()].into();
        let of = |column| implied(&conn, "ciphers", column, &tables, &later);
        let table = |parent: &str, key: &str| {
            Some(Implied::Table {
                parent: parent.to_owned(),
                key: key.to_owned(),
            })
        };
        assert_eq!(of("organization_uuid")?, table("organizations", "uuid"));
        assert_eq!(of("owner_id")?, table("users", "id"));
        assert_eq!(of("parent_category_id")?, table("categories", "num"));
        assert_eq!(of("external_id")?, None);
        assert_eq!(of("team_uuid")?, Some(Implied::Later));
        // By the table's initials, with a role after the key, after a prefix.
        assert_eq!(of("qu_id")?, table("quantity_units", "id"));
        assert_eq!(of("qu_id_stock")?, table("quantity_units", "id"));
        assert_eq!(of("from_qu_id")?, table("quantity_units", "id"));
        assert_eq!(of("xy_id")?, None);
        Ok(())
    }

    #[test]
    fn created_tables_are_read_from_the_sql() {
        let names = created_tables([
            "CREATE TABLE IF NOT EXISTS \"Users\"(id); CREATE TEMP TABLE scratch(x);",
            "ALTER TABLE users_new RENAME TO accounts; CREATE TABLE main.teams(id);",
        ]);
        let expected: BTreeSet<String> = ["accounts", "scratch", "teams", "users"]
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(names, expected);
    }
}
