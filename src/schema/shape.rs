//! [`Shape`]: a database's schema as structure, read with SQLite's own pragmas, for telling
//! what a migration step changed (a column's type, a lost UNIQUE, a reference's action).
//!
//! [`Schema`](super::Schema) compares `CREATE` statements as text; a shape compares what they
//! mean, so a table rebuilt with the same columns reads as the same table.

use rusqlite::Connection;

use crate::migrations::history::HISTORY_TABLE;
use crate::sql::tokens::{TokenKind, lex};
use crate::{Error, Result, sql};

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
}

impl Shape {
    /// Reads the shape of the main database of `conn`: one query of `sqlite_master` and one
    /// per pragma over every table, whatever the number of tables.
    pub(crate) fn capture(conn: &Connection) -> Result<Shape> {
        let path = conn.path().unwrap_or_default().to_owned();
        read(conn).map_err(|e| Error::sqlite("read the schema of", path, e))
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
        self.objects.iter().find(|o| o.name == name)
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

/// The rows `m` of `sqlite_master` that are tables, not SQLite's own.
const USER_TABLE: &str = "m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'";

fn read(conn: &Connection) -> rusqlite::Result<Shape> {
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
    for (kind, name, table, text) in &rows {
        let kind = match kind.as_str() {
            "table" => {
                tables.push(table_from_sql(name, text));
                continue;
            }
            "index" => ObjectKind::Index,
            "trigger" => ObjectKind::Trigger,
            "view" => ObjectKind::View,
            _ => continue,
        };
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
        });
    }
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    let index_of =
        |tables: &[Table], name: &str| tables.binary_search_by(|t| t.name.as_str().cmp(name)).ok();
    let columns = format!(
        "SELECT lower(m.name), lower(p.name), p.type, p.\"notnull\", p.dflt_value, p.pk, p.hidden \
         FROM sqlite_master m, pragma_table_xinfo(m.name) p WHERE {USER_TABLE} \
         ORDER BY m.name, p.cid"
    );
    let mut statement = conn.prepare_cached(&columns)?;
    let mut rows = statement.query([])?;
    while let Some(r) = rows.next()? {
        let table: String = r.get(0)?;
        let Some(at) = index_of(&tables, &table) else {
            continue;
        };
        let declared = declared_type(&r.get::<_, Option<String>>(2)?.unwrap_or_default());
        tables[at].columns.push(Column {
            name: r.get(1)?,
            affinity: affinity(&declared),
            declared,
            not_null: r.get(3)?,
            default: r.get::<_, Option<String>>(4)?.map(|d| sql::normalize(&d)),
            primary_key: r.get(5)?,
            generated: r.get::<_, i64>(6)? >= 2,
        });
    }
    let keys = format!(
        "SELECT lower(m.name), f.id, lower(f.\"table\"), lower(f.\"from\"), lower(f.\"to\"), \
         f.on_update, f.on_delete FROM sqlite_master m, pragma_foreign_key_list(m.name) f \
         WHERE {USER_TABLE} ORDER BY m.name, f.id, f.seq"
    );
    let mut statement = conn.prepare_cached(&keys)?;
    let mut rows = statement.query([])?;
    let mut last: Option<(String, i64)> = None;
    while let Some(r) = rows.next()? {
        let (table, id): (String, i64) = (r.get(0)?, r.get(1)?);
        let Some(at) = index_of(&tables, &table) else {
            continue;
        };
        let keys = &mut tables[at].foreign_keys;
        let same = last.as_ref() == Some(&(table.clone(), id));
        if !same {
            keys.push(ForeignKey {
                columns: Vec::new(),
                table: r.get(2)?,
                to: Vec::new(),
                on_update: r.get(5)?,
                on_delete: r.get(6)?,
            });
            last = Some((table, id));
        }
        if let Some(key) = keys.last_mut() {
            key.columns.push(r.get(3)?);
            if let Some(to) = r.get::<_, Option<String>>(4)? {
                key.to.push(to);
            }
        }
    }
    let uniques = format!(
        "SELECT lower(m.name), l.name, lower(i.name) FROM sqlite_master m, \
         pragma_index_list(m.name) l, pragma_index_info(l.name) i \
         WHERE {USER_TABLE} AND l.origin = 'u' ORDER BY m.name, l.name, i.seqno"
    );
    let mut statement = conn.prepare_cached(&uniques)?;
    let mut rows = statement.query([])?;
    let mut last: Option<(String, String)> = None;
    while let Some(r) = rows.next()? {
        let (table, index): (String, String) = (r.get(0)?, r.get(1)?);
        let Some(at) = index_of(&tables, &table) else {
            continue;
        };
        let column: Option<String> = r.get(2)?;
        let uniques = &mut tables[at].uniques;
        if last.as_ref() != Some(&(table.clone(), index.clone())) {
            uniques.push(Vec::new());
            last = Some((table, index));
        }
        if let Some(unique) = uniques.last_mut() {
            unique.push(column.unwrap_or_default());
        }
    }
    Ok(Shape { tables, objects })
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
