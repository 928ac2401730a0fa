//! [`Schema`]: the normalized contents of `sqlite_master`, to compare, print and diff.

#[cfg(feature = "check")]
pub(crate) mod change;
#[cfg(feature = "check")]
pub(crate) mod double_quotes;
pub(crate) mod integrity;
#[cfg(feature = "check")]
pub(crate) mod sequence;
#[cfg(feature = "check")]
pub(crate) mod shape;

use std::fmt;

use rusqlite::Connection;

use crate::error::{Error, Result};
use crate::migrations::history::is_history_table;
use crate::sql;

/// The schema of a database: its tables, indexes, views and triggers, normalized so that
/// what a person would call the same schema is equal.
///
/// Normalized means: comments dropped, whitespace collapsed, identifier quoting removed
/// (`"users"`, `[users]` and `users` are one name: SQLite quotes names after
/// `ALTER TABLE … RENAME`), keywords and names in lower case, string literals kept as
/// written. SQLite's own objects (`sqlite_sequence`, automatic indexes) and refinery's
/// history table are left out.
///
/// Its [`Display`](fmt::Display) is stable text, one object per statement and one column
/// per line, ordered tables, indexes, views, triggers and then by name: good for snapshot
/// tests and for [`diff`](Self::diff).
///
/// # Examples
///
/// ```
/// use rusqlite::Connection;
/// use sqlite_testdb::Schema;
///
/// let a = Connection::open_in_memory()?;
/// a.execute_batch("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)")?;
/// let b = Connection::open_in_memory()?;
/// b.execute_batch(r#"create table "users"(
///     id integer primary key, -- the key
///     email text
/// )"#)?;
/// assert_eq!(Schema::capture(&a)?, Schema::capture(&b)?);
/// assert_eq!(Schema::capture(&a)?.tables(), ["users"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Schema {
    objects: Vec<SchemaObject>,
}

/// One table, index, view or trigger of a [`Schema`].
///
/// # Examples
///
/// ```
/// let conn = rusqlite::Connection::open_in_memory()?;
/// conn.execute_batch("CREATE TABLE Users(id INTEGER PRIMARY KEY, email TEXT);
///                     CREATE INDEX users_email ON users(email);")?;
/// let schema = sqlite_testdb::Schema::capture(&conn)?;
/// let index = schema.get("users_email").ok_or("no index")?;
/// assert_eq!((index.kind(), index.name(), index.table()), ("index", "users_email", "users"));
/// assert_eq!(index.to_string(), "create index users_email on users(email)");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SchemaObject {
    kind: Kind,
    name: String,
    table: String,
    sql: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Kind {
    Table,
    Index,
    View,
    Trigger,
}

impl Kind {
    fn parse(kind: &str) -> Option<Kind> {
        match kind {
            "table" => Some(Kind::Table),
            "index" => Some(Kind::Index),
            "view" => Some(Kind::View),
            "trigger" => Some(Kind::Trigger),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Kind::Table => "table",
            Kind::Index => "index",
            Kind::View => "view",
            Kind::Trigger => "trigger",
        }
    }
}

impl SchemaObject {
    /// `table`, `index`, `view` or `trigger`.
    ///
    /// # Examples
    ///
    /// ```
    /// # let conn = rusqlite::Connection::open_in_memory()?;
    /// # conn.execute_batch("
    /// #     CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT UNIQUE, active INTEGER);
    /// #     CREATE TABLE audit(user_id INTEGER);
    /// #     CREATE INDEX users_active ON users(active);
    /// #     CREATE VIEW active_users AS SELECT * FROM users WHERE active;
    /// #     CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN INSERT INTO audit VALUES (new.id); END;
    /// # ")?;
    /// let schema = sqlite_testdb::Schema::capture(&conn)?;
    /// let kinds: Vec<&str> = schema.objects().iter().map(|o| o.kind()).collect();
    /// assert_eq!(kinds, ["table", "table", "index", "view", "trigger"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn kind(&self) -> &'static str {
        self.kind.as_str()
    }

    /// The object's name, in lower case.
    ///
    /// # Examples
    ///
    /// ```
    /// let conn = rusqlite::Connection::open_in_memory()?;
    /// conn.execute_batch(r#"CREATE TABLE "Users"(id INTEGER PRIMARY KEY)"#)?;
    /// let schema = sqlite_testdb::Schema::capture(&conn)?;
    /// assert_eq!(schema.objects()[0].name(), "users");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The table it belongs to (for a table or view: its own name), in lower case.
    ///
    /// # Examples
    ///
    /// ```
    /// # let conn = rusqlite::Connection::open_in_memory()?;
    /// # conn.execute_batch("
    /// #     CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT UNIQUE, active INTEGER);
    /// #     CREATE TABLE audit(user_id INTEGER);
    /// #     CREATE INDEX users_active ON users(active);
    /// #     CREATE VIEW active_users AS SELECT * FROM users WHERE active;
    /// #     CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN INSERT INTO audit VALUES (new.id); END;
    /// # ")?;
    /// let schema = sqlite_testdb::Schema::capture(&conn)?;
    /// let trigger = schema.get("users_audit").ok_or("no trigger")?;
    /// assert_eq!(trigger.table(), "users");
    /// assert_eq!(schema.get("audit").ok_or("no table")?.table(), "audit");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Its normalized `CREATE` statement, on one line.
    ///
    /// # Examples
    ///
    /// ```
    /// let conn = rusqlite::Connection::open_in_memory()?;
    /// conn.execute_batch("CREATE TABLE [Users] (
    ///     id   INTEGER PRIMARY KEY,  -- the key
    ///     note TEXT DEFAULT 'Hello'
    /// )")?;
    /// let schema = sqlite_testdb::Schema::capture(&conn)?;
    /// let users = schema.get("users").ok_or("no table")?;
    /// assert_eq!(users.sql(), "create table users(id integer primary key, note text default 'Hello')");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn sql(&self) -> &str {
        &self.sql
    }
}

impl Schema {
    /// Reads the schema of the main database of `conn`.
    ///
    /// # Errors
    ///
    /// [`Error::Sqlite`] when `sqlite_master` cannot be read; the path is the database's
    /// file, empty for an in-memory database.
    ///
    /// # Examples
    ///
    /// ```
    /// let conn = rusqlite::Connection::open_in_memory()?;
    /// conn.execute_batch("CREATE TABLE users(id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT UNIQUE)")?;
    /// let schema = sqlite_testdb::Schema::capture(&conn)?;
    /// assert_eq!(schema.tables(), ["users"]); // no sqlite_sequence
    /// assert!(schema.indexes().is_empty()); // no automatic index for UNIQUE
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn capture(conn: &Connection) -> Result<Schema> {
        let path = conn.path().unwrap_or_default().to_owned();
        let read = || -> rusqlite::Result<Vec<(String, String, String, String)>> {
            conn.prepare(
                "SELECT type, name, tbl_name, sql FROM sqlite_master \
                 WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect()
        };
        let rows = read().map_err(|e| Error::sqlite("read the schema of", path, e))?;
        let mut objects: Vec<SchemaObject> = rows
            .into_iter()
            .filter(|(_, _, table, _)| !is_history_table(table))
            .filter_map(|(kind, name, table, sql)| {
                Some(SchemaObject {
                    kind: Kind::parse(&kind)?,
                    name: name.to_lowercase(),
                    table: table.to_lowercase(),
                    sql: sql::normalize(&sql),
                })
            })
            .collect();
        objects.sort();
        Ok(Schema { objects })
    }

    /// Every object, ordered tables, indexes, views, triggers, then by name.
    ///
    /// # Examples
    ///
    /// ```
    /// # let conn = rusqlite::Connection::open_in_memory()?;
    /// # conn.execute_batch("
    /// #     CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT UNIQUE, active INTEGER);
    /// #     CREATE TABLE audit(user_id INTEGER);
    /// #     CREATE INDEX users_active ON users(active);
    /// #     CREATE VIEW active_users AS SELECT * FROM users WHERE active;
    /// #     CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN INSERT INTO audit VALUES (new.id); END;
    /// # ")?;
    /// let schema = sqlite_testdb::Schema::capture(&conn)?;
    /// let names: Vec<&str> = schema.objects().iter().map(|o| o.name()).collect();
    /// assert_eq!(names, ["audit", "users", "users_active", "active_users", "users_audit"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn objects(&self) -> &[SchemaObject] {
        &self.objects
    }

    /// The table names, sorted.
    ///
    /// # Examples
    ///
    /// ```
    /// # let conn = rusqlite::Connection::open_in_memory()?;
    /// # conn.execute_batch("
    /// #     CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT UNIQUE, active INTEGER);
    /// #     CREATE TABLE audit(user_id INTEGER);
    /// #     CREATE INDEX users_active ON users(active);
    /// #     CREATE VIEW active_users AS SELECT * FROM users WHERE active;
    /// #     CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN INSERT INTO audit VALUES (new.id); END;
    /// # ")?;
    /// let schema = sqlite_testdb::Schema::capture(&conn)?;
    /// assert_eq!(schema.tables(), ["audit", "users"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn tables(&self) -> Vec<&str> {
        self.names(Kind::Table)
    }

    /// The index names, sorted.
    ///
    /// # Examples
    ///
    /// ```
    /// # let conn = rusqlite::Connection::open_in_memory()?;
    /// # conn.execute_batch("
    /// #     CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT UNIQUE, active INTEGER);
    /// #     CREATE TABLE audit(user_id INTEGER);
    /// #     CREATE INDEX users_active ON users(active);
    /// #     CREATE VIEW active_users AS SELECT * FROM users WHERE active;
    /// #     CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN INSERT INTO audit VALUES (new.id); END;
    /// # ")?;
    /// let schema = sqlite_testdb::Schema::capture(&conn)?;
    /// assert_eq!(schema.indexes(), ["users_active"]); // not UNIQUE's automatic index
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn indexes(&self) -> Vec<&str> {
        self.names(Kind::Index)
    }

    /// The view names, sorted.
    ///
    /// # Examples
    ///
    /// ```
    /// # let conn = rusqlite::Connection::open_in_memory()?;
    /// # conn.execute_batch("
    /// #     CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT UNIQUE, active INTEGER);
    /// #     CREATE TABLE audit(user_id INTEGER);
    /// #     CREATE INDEX users_active ON users(active);
    /// #     CREATE VIEW active_users AS SELECT * FROM users WHERE active;
    /// #     CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN INSERT INTO audit VALUES (new.id); END;
    /// # ")?;
    /// let schema = sqlite_testdb::Schema::capture(&conn)?;
    /// assert_eq!(schema.views(), ["active_users"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn views(&self) -> Vec<&str> {
        self.names(Kind::View)
    }

    /// The trigger names, sorted.
    ///
    /// # Examples
    ///
    /// ```
    /// # let conn = rusqlite::Connection::open_in_memory()?;
    /// # conn.execute_batch("
    /// #     CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT UNIQUE, active INTEGER);
    /// #     CREATE TABLE audit(user_id INTEGER);
    /// #     CREATE INDEX users_active ON users(active);
    /// #     CREATE VIEW active_users AS SELECT * FROM users WHERE active;
    /// #     CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN INSERT INTO audit VALUES (new.id); END;
    /// # ")?;
    /// let schema = sqlite_testdb::Schema::capture(&conn)?;
    /// assert_eq!(schema.triggers(), ["users_audit"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn triggers(&self) -> Vec<&str> {
        self.names(Kind::Trigger)
    }

    fn names(&self, kind: Kind) -> Vec<&str> {
        self.objects
            .iter()
            .filter(|o| o.kind == kind)
            .map(|o| o.name.as_str())
            .collect()
    }

    /// The object with this name (any case), if there is one.
    ///
    /// # Examples
    ///
    /// ```
    /// # let conn = rusqlite::Connection::open_in_memory()?;
    /// # conn.execute_batch("
    /// #     CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT UNIQUE, active INTEGER);
    /// #     CREATE TABLE audit(user_id INTEGER);
    /// #     CREATE INDEX users_active ON users(active);
    /// #     CREATE VIEW active_users AS SELECT * FROM users WHERE active;
    /// #     CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN INSERT INTO audit VALUES (new.id); END;
    /// # ")?;
    /// let schema = sqlite_testdb::Schema::capture(&conn)?;
    /// assert_eq!(schema.get("USERS").map(|o| o.kind()), Some("table"));
    /// assert!(schema.get("sessions").is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get(&self, name: &str) -> Option<&SchemaObject> {
        let name = name.to_lowercase();
        self.objects.iter().find(|o| o.name == name)
    }

    /// Checks that every table in `tables` exists (names compare in any case, as in SQLite).
    ///
    /// # Errors
    ///
    /// [`Error::MissingTables`] listing **every** missing table, not just the first.
    ///
    /// # Examples
    ///
    /// ```
    /// # let conn = rusqlite::Connection::open_in_memory()?;
    /// # conn.execute_batch("CREATE TABLE users(id INTEGER PRIMARY KEY)")?;
    /// let schema = sqlite_testdb::Schema::capture(&conn)?;
    /// schema.require_tables(&["users"])?;
    /// let err = schema.require_tables(&["users", "sessions", "tokens"]).unwrap_err();
    /// assert_eq!(err.to_string(), "missing tables: sessions, tokens (the schema has: users)");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn require_tables(&self, tables: &[&str]) -> Result<()> {
        let present = self.tables();
        let missing: Vec<String> = tables
            .iter()
            .filter(|t| !present.contains(&t.to_lowercase().as_str()))
            .map(|t| (*t).to_owned())
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(Error::MissingTables {
                missing,
                present: present.into_iter().map(str::to_owned).collect(),
            })
        }
    }

    /// A line diff from `self` to `other`, in unified format (`-` lines only in `self`, `+`
    /// lines only in `other`); empty when the schemas are equal.
    ///
    /// # Examples
    ///
    /// ```
    /// # use rusqlite::Connection;
    /// use sqlite_testdb::Schema;
    ///
    /// let a = Connection::open_in_memory()?;
    /// a.execute_batch("CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT)")?;
    /// let b = Connection::open_in_memory()?;
    /// b.execute_batch("CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT, name TEXT)")?;
    /// let diff = Schema::capture(&a)?.diff(&Schema::capture(&b)?);
    /// assert!(diff.contains("-    email text\n"));
    /// assert!(diff.contains("+    email text,\n+    name text\n"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn diff(&self, other: &Schema) -> String {
        self.diff_labeled(other, "before", "after")
    }

    /// [`diff`](Self::diff) with names for the two sides in the header.
    ///
    /// # Examples
    ///
    /// ```
    /// # use rusqlite::Connection;
    /// use sqlite_testdb::Schema;
    ///
    /// let a = Connection::open_in_memory()?;
    /// a.execute_batch("CREATE TABLE users(id INTEGER PRIMARY KEY)")?;
    /// let b = Connection::open_in_memory()?;
    /// b.execute_batch("CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT)")?;
    /// let diff = Schema::capture(&a)?.diff_labeled(&Schema::capture(&b)?, "V1", "V2");
    /// assert!(diff.starts_with("--- V1\n+++ V2\n"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn diff_labeled(&self, other: &Schema, old: &str, new: &str) -> String {
        if self == other {
            return String::new();
        }
        let (a, b) = (self.to_string(), other.to_string());
        similar::TextDiff::from_lines(&a, &b)
            .unified_diff()
            .context_radius(3)
            .header(old, new)
            .to_string()
    }
}

impl fmt::Display for Schema {
    /// One statement per object, tables with one column or constraint per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for object in &self.objects {
            match object.kind {
                Kind::Table => write_table(f, &object.sql)?,
                _ => writeln!(f, "{};", object.sql)?,
            }
        }
        Ok(())
    }
}

impl fmt::Display for SchemaObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.sql)
    }
}

/// Writes `create table t(a, b, ...)` with each top-level element on a line of its own.
fn write_table(f: &mut fmt::Formatter<'_>, sql: &str) -> fmt::Result {
    let Some(open) = sql.find('(') else {
        return writeln!(f, "{sql};");
    };
    let (head, body) = sql.split_at(open);
    let mut depth = 0usize;
    let mut parts = Vec::new();
    let mut start = 1;
    let mut end = body.len();
    let mut in_string = false;
    for (i, c) in body.char_indices() {
        match c {
            '\'' => in_string = !in_string,
            _ if in_string => {}
            '(' => depth += 1,
            ')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    end = i;
                    break;
                }
            }
            ',' if depth == 1 => {
                parts.push(body[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(body[start..end].trim());
    writeln!(f, "{head}(")?;
    for (i, part) in parts.iter().enumerate() {
        let comma = if i + 1 < parts.len() { "," } else { "" };
        writeln!(f, "    {part}{comma}")?;
    }
    writeln!(f, "){};", &body[(end + 1).min(body.len())..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_split_one_element_per_line() {
        let schema = Schema {
            objects: vec![SchemaObject {
                kind: Kind::Table,
                name: "t".into(),
                table: "t".into(),
                sql: crate::sql::normalize(
                    "CREATE TABLE t(a TEXT DEFAULT 'x,y', b INT CHECK (b IN (1, 2))) STRICT",
                ),
            }],
        };
        assert_eq!(
            schema.to_string(),
            "create table t(\n    a text default 'x,y',\n    b int check(b in(1, 2))\n) strict;\n"
        );
    }
}
