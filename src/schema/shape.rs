//! [`Shape`]: a database's schema as structure, read with SQLite's own pragmas, for telling
//! what a migration step changed (a column's type, a lost UNIQUE, a reference's action).
//!
//! [`Schema`](super::Schema) compares `CREATE` statements as text; a shape compares what they
//! mean, so a table rebuilt with the same columns reads as the same table.

use rusqlite::Connection;

use crate::error::{Error, Result};
use crate::migrations::history::HISTORY_TABLE;
use crate::sql;
use crate::sql::tokens::{TokenKind, lex};

/// History tables of the migration libraries the crate reads, left out of a shape.
const HISTORY_TABLES: [&str; 3] = [
    HISTORY_TABLE,
    "_sqlx_migrations",
    "__diesel_schema_migrations",
];

/// The tables, indexes, triggers and views of a database's main schema, without SQLite's
/// own objects and the history tables. Names are in lower case, as SQLite compares them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Shape {
    /// Ordered by name.
    pub(crate) tables: Vec<Table>,
    /// Indexes written with `CREATE INDEX` (not those behind UNIQUE and PRIMARY KEY),
    /// triggers and views, ordered by name.
    pub(crate) objects: Vec<Object>,
}

/// A table of a [`Shape`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Table {
    pub(crate) name: String,
    /// Its `CREATE TABLE` statement as SQLite keeps it.
    pub(crate) create: String,
    /// In declaration order, generated ones included.
    pub(crate) columns: Vec<Column>,
    pub(crate) foreign_keys: Vec<ForeignKey>,
    /// The columns of each `UNIQUE` constraint of the table's definition.
    pub(crate) uniques: Vec<Vec<String>>,
    /// Each `CHECK` expression, normalized (`check(x > 0)`).
    pub(crate) checks: Vec<String>,
    pub(crate) autoincrement: bool,
}

/// A column of a [`Table`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Column {
    pub(crate) name: String,
    /// The declared type in upper case, blanks collapsed (`VARCHAR(20)`); empty for none.
    pub(crate) declared: String,
    /// SQLite's affinity for the declared type: `INTEGER`, `TEXT`, `BLOB`, `REAL`,
    /// `NUMERIC`.
    pub(crate) affinity: &'static str,
    pub(crate) not_null: bool,
    /// The `DEFAULT` expression, normalized.
    pub(crate) default: Option<String>,
    /// Its place in the primary key, from 1; 0 when not in it.
    pub(crate) primary_key: u32,
    pub(crate) generated: bool,
}

/// A `REFERENCES` of a [`Table`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ForeignKey {
    pub(crate) columns: Vec<String>,
    /// The referenced table.
    pub(crate) table: String,
    /// The referenced columns; empty for the referenced table's primary key.
    pub(crate) to: Vec<String>,
    pub(crate) on_update: String,
    pub(crate) on_delete: String,
}

/// What an [`Object`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ObjectKind {
    Index,
    Trigger,
    View,
}

impl ObjectKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Index => "index",
            ObjectKind::Trigger => "trigger",
            ObjectKind::View => "view",
        }
    }
}

/// An index, trigger or view of a [`Shape`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Object {
    pub(crate) kind: ObjectKind,
    pub(crate) name: String,
    /// For an index or trigger its table; for a view the tables its query names.
    pub(crate) tables: Vec<String>,
    /// Its `CREATE` statement, normalized.
    pub(crate) sql: String,
    /// A `CREATE UNIQUE INDEX`.
    pub(crate) unique: bool,
    /// Its `CREATE` statement as SQLite keeps it.
    pub(crate) create: String,
}

impl Shape {
    /// Reads the shape of the main database of `conn`.
    pub(crate) fn capture(conn: &Connection) -> Result<Shape> {
        Shape::capture_since(conn, None)
    }

    /// [`capture`](Self::capture), taking from `previous` (the shape before a step) every
    /// table whose `CREATE TABLE` is unchanged: a step's cost follows what it changed, not
    /// the size of the schema.
    pub(crate) fn capture_since(conn: &Connection, previous: Option<&Shape>) -> Result<Shape> {
        let path = conn.path().unwrap_or_default().to_owned();
        read(conn, previous).map_err(|e| Error::sqlite("read the schema of", path, e))
    }

    /// The table named `name` (lower case).
    pub(crate) fn table(&self, name: &str) -> Option<&Table> {
        self.tables
            .binary_search_by(|t| t.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.tables[i])
    }

    /// The index, trigger or view named `name` (lower case).
    pub(crate) fn object(&self, name: &str) -> Option<&Object> {
        self.objects
            .binary_search_by(|o| o.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.objects[i])
    }
}

impl Table {
    pub(crate) fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// Left out of a shape: SQLite's own tables and the history tables.
fn ignored(name: &str) -> bool {
    name.starts_with("sqlite_") || HISTORY_TABLES.contains(&name)
}

fn read(conn: &Connection, previous: Option<&Shape>) -> rusqlite::Result<Shape> {
    let mut tables: Vec<Table> = Vec::new();
    let mut objects = Vec::new();
    let mut rows = conn
        .prepare_cached(
            "SELECT type, lower(name), lower(tbl_name), sql FROM sqlite_master \
             WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY lower(name)",
        )?
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.retain(|(_, _, table, _)| !ignored(table));
    let table_names: Vec<&str> = rows
        .iter()
        .filter(|(kind, ..)| kind == "table")
        .map(|(_, name, ..)| name.as_str())
        .collect();
    let same_tables = previous.is_some_and(|p| {
        p.tables.len() == table_names.len()
            && p.tables.iter().zip(&table_names).all(|(t, n)| t.name == *n)
    });
    for (kind, name, table, text) in &rows {
        let kind = match kind.as_str() {
            "table" => {
                // What the pragmas say of a table follows from its own CREATE TABLE alone.
                let kept = previous
                    .and_then(|p| p.table(name))
                    .filter(|t| t.create == *text);
                tables.push(match kept {
                    Some(table) => table.clone(),
                    None => read_table(conn, name, text)?,
                });
                continue;
            }
            "index" => ObjectKind::Index,
            "trigger" => ObjectKind::Trigger,
            "view" => ObjectKind::View,
            _ => continue,
        };
        // A view's tables are those of the schema it names: kept while no table came or went.
        let kept = previous
            .and_then(|p| p.object(name))
            .filter(|o| o.create == *text && (o.kind != ObjectKind::View || same_tables));
        if let Some(object) = kept {
            objects.push(object.clone());
            continue;
        }
        let sql = sql::normalize(text);
        let tables_of = if kind == ObjectKind::View {
            named_tables(text, &table_names)
        } else {
            vec![table.clone()]
        };
        objects.push(Object {
            kind,
            name: name.clone(),
            tables: tables_of,
            unique: sql.starts_with("create unique index"),
            sql,
            create: text.clone(),
        });
    }
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Shape { tables, objects })
}

/// A table from its `CREATE TABLE` text and the pragmas on it.
fn read_table(conn: &Connection, name: &str, text: &str) -> rusqlite::Result<Table> {
    let mut table = table_from_sql(name, text);
    let mut statement = conn.prepare_cached(
        "SELECT lower(name), type, \"notnull\", dflt_value, pk, hidden \
         FROM pragma_table_xinfo(?1) ORDER BY cid",
    )?;
    let mut rows = statement.query([name])?;
    while let Some(r) = rows.next()? {
        let declared = declared_type(&r.get::<_, Option<String>>(1)?.unwrap_or_default());
        table.columns.push(Column {
            name: r.get(0)?,
            affinity: affinity(&declared),
            declared,
            not_null: r.get(2)?,
            default: r.get::<_, Option<String>>(3)?.map(|d| sql::normalize(&d)),
            primary_key: r.get(4)?,
            generated: r.get::<_, i64>(5)? >= 2,
        });
    }
    let mut statement = conn.prepare_cached(
        "SELECT id, lower(\"table\"), lower(\"from\"), lower(\"to\"), on_update, on_delete \
         FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
    )?;
    let mut rows = statement.query([name])?;
    let mut last = None;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        if last != Some(id) {
            table.foreign_keys.push(ForeignKey {
                columns: Vec::new(),
                table: r.get(1)?,
                to: Vec::new(),
                on_update: r.get(4)?,
                on_delete: r.get(5)?,
            });
            last = Some(id);
        }
        if let Some(key) = table.foreign_keys.last_mut() {
            key.columns.push(r.get(2)?);
            if let Some(to) = r.get::<_, Option<String>>(3)? {
                key.to.push(to);
            }
        }
    }
    let mut statement = conn.prepare_cached(
        "SELECT l.name, lower(i.name) FROM pragma_index_list(?1) l, pragma_index_info(l.name) i \
         WHERE l.origin = 'u' ORDER BY l.seq DESC, i.seqno",
    )?;
    let mut rows = statement.query([name])?;
    let mut last: Option<String> = None;
    while let Some(r) = rows.next()? {
        let index: String = r.get(0)?;
        if last.as_ref() != Some(&index) {
            table.uniques.push(Vec::new());
            last = Some(index);
        }
        if let Some(unique) = table.uniques.last_mut() {
            unique.push(r.get::<_, Option<String>>(1)?.unwrap_or_default());
        }
    }
    Ok(table)
}

/// A table with what its `CREATE TABLE` text alone says (CHECKs, AUTOINCREMENT); the
/// pragmas fill in the rest.
fn table_from_sql(name: &str, text: &str) -> Table {
    let tokens = lex(text);
    let mut checks = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        if !token.is_keyword("check")
            || tokens.get(i + 1).map(|t| &t.kind) != Some(&TokenKind::Punct('('))
        {
            continue;
        }
        let mut depth = 0usize;
        for close in &tokens[i + 1..] {
            match close.kind {
                TokenKind::Punct('(') => depth += 1,
                TokenKind::Punct(')') => {
                    depth -= 1;
                    if depth == 0 {
                        checks.push(sql::normalize(&text[token.start..close.end]));
                        break;
                    }
                }
                _ => {}
            }
        }
    }
    Table {
        name: name.to_owned(),
        create: text.to_owned(),
        columns: Vec::new(),
        foreign_keys: Vec::new(),
        uniques: Vec::new(),
        checks,
        autoincrement: tokens.iter().any(|t| t.is_keyword("autoincrement")),
    }
}

/// The names of `tables` that the statement `text` mentions.
fn named_tables(text: &str, tables: &[&str]) -> Vec<String> {
    let mut named: Vec<String> = lex(text)
        .iter()
        .filter_map(|t| t.identifier())
        .map(str::to_ascii_lowercase)
        .filter(|w| tables.contains(&w.as_str()))
        .collect();
    named.sort();
    named.dedup();
    named
}

/// A declared type in upper case with blanks collapsed and none around parentheses.
fn declared_type(declared: &str) -> String {
    let words: Vec<&str> = declared.split_whitespace().collect();
    words
        .join(" ")
        .to_ascii_uppercase()
        .replace(" (", "(")
        .replace("( ", "(")
        .replace(" )", ")")
        .replace(" ,", ",")
}

/// SQLite's "Determination Of Column Affinity", in its order of rules.
pub(crate) fn affinity(declared: &str) -> &'static str {
    let t = declared.to_ascii_uppercase();
    if t.contains("INT") {
        "INTEGER"
    } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") {
        "TEXT"
    } else if t.contains("BLOB") || t.trim().is_empty() || t.trim() == "ANY" {
        "BLOB"
    } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
        "REAL"
    } else {
        "NUMERIC"
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;

    type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn columns_keys_uniques_checks_and_objects_are_read() -> TestResult {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch(
            r#"CREATE TABLE "Users"(
                   id INTEGER PRIMARY KEY AUTOINCREMENT,
                   email varchar ( 80 ) NOT NULL,
                   age  DEFAULT (18) CHECK (age >= 0),
                   twice INT GENERATED ALWAYS AS (age * 2),
                   team_id INTEGER, team_no INTEGER,
                   UNIQUE (email), UNIQUE (team_id, team_no),
                   FOREIGN KEY (team_id, team_no) REFERENCES teams(id, no) ON DELETE SET NULL,
                   CHECK (length(email) > 3)
               );
               CREATE TABLE teams(id INTEGER, no INTEGER, PRIMARY KEY (id, no));
               CREATE TABLE notes(user_id REFERENCES users ON UPDATE CASCADE);
               CREATE UNIQUE INDEX notes_user ON notes(user_id);
               CREATE VIEW adult_notes AS SELECT * FROM notes JOIN users ON users.id = user_id;
               CREATE TRIGGER notes_touch AFTER INSERT ON notes BEGIN SELECT 1; END;"#,
        )?;
        let shape = Shape::capture(&conn)?;
        let names: Vec<&str> = shape.tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["notes", "teams", "users"]);
        let users = shape.table("users").ok_or("no users")?;
        assert!(users.autoincrement);
        let email = users.column("email").ok_or("no email")?;
        assert_eq!(
            (email.declared.as_str(), email.affinity, email.not_null),
            ("VARCHAR(80)", "TEXT", true)
        );
        let age = users.column("age").ok_or("no age")?;
        assert_eq!(
            (age.declared.as_str(), age.affinity, age.default.as_deref()),
            ("", "BLOB", Some("18"))
        );
        assert!(users.column("twice").is_some_and(|c| c.generated));
        assert_eq!(users.column("id").map(|c| c.primary_key), Some(1));
        assert_eq!(
            users.uniques,
            [
                vec!["email".to_owned()],
                vec!["team_id".to_owned(), "team_no".to_owned()]
            ]
        );
        assert_eq!(
            users.checks,
            ["check(age >= 0)", "check(length(email) > 3)"]
        );
        assert_eq!(
            users.foreign_keys,
            [ForeignKey {
                columns: vec!["team_id".into(), "team_no".into()],
                table: "teams".into(),
                to: vec!["id".into(), "no".into()],
                on_update: "NO ACTION".into(),
                on_delete: "SET NULL".into(),
            }]
        );
        let notes = shape.table("notes").ok_or("no notes")?;
        assert_eq!(
            notes.foreign_keys[0].to,
            Vec::<String>::new(),
            "the parent's key, implicitly"
        );
        assert_eq!(notes.foreign_keys[0].on_update, "CASCADE");
        let objects: Vec<(&str, &str, Vec<String>, bool)> = shape
            .objects
            .iter()
            .map(|o| (o.kind.as_str(), o.name.as_str(), o.tables.clone(), o.unique))
            .collect();
        assert_eq!(
            objects,
            [
                (
                    "view",
                    "adult_notes",
                    vec!["notes".to_owned(), "users".to_owned()],
                    false
                ),
                ("trigger", "notes_touch", vec!["notes".to_owned()], false),
                ("index", "notes_user", vec!["notes".to_owned()], true),
            ]
        );
        Ok(())
    }

    #[test]
    fn sqlite_and_history_tables_are_left_out() -> TestResult {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch(
            "CREATE TABLE refinery_schema_history(version INT4 PRIMARY KEY, name VARCHAR(255));
             CREATE TABLE _sqlx_migrations(version BIGINT PRIMARY KEY);
             CREATE TABLE __diesel_schema_migrations(version VARCHAR(50) PRIMARY KEY);
             CREATE INDEX history_name ON refinery_schema_history(name);
             CREATE TABLE t(id INTEGER PRIMARY KEY AUTOINCREMENT);
             INSERT INTO t DEFAULT VALUES;
             ANALYZE;",
        )?;
        let shape = Shape::capture(&conn)?;
        let names: Vec<&str> = shape.tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["t"]);
        assert!(shape.objects.is_empty(), "{:?}", shape.objects);
        Ok(())
    }

    #[test]
    fn affinity_follows_sqlites_rules_in_order() {
        for (declared, affinity) in [
            ("INT", "INTEGER"),
            ("BIGINT", "INTEGER"),
            ("POINT", "INTEGER"), // "INT" is inside, and rule 1 comes first
            ("VARCHAR(20)", "TEXT"),
            ("CLOB", "TEXT"),
            ("", "BLOB"),
            ("BLOB", "BLOB"),
            ("ANY", "BLOB"),
            ("DOUBLE PRECISION", "REAL"),
            ("FLOATING POINT", "INTEGER"),
            ("DECIMAL(10,5)", "NUMERIC"),
            ("DATETIME", "NUMERIC"),
        ] {
            assert_eq!(affinity_of(declared), affinity, "{declared}");
        }
    }

    fn affinity_of(declared: &str) -> &'static str {
        affinity(&declared_type(declared))
    }
}
