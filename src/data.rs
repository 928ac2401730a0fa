//! [`DataOptions`] and the row generator behind
//! [`replay::check_with_data`](crate::replay::check_with_data): rows for every table that
//! satisfy its schema as SQLite reports it, the same rows for the same seed.
//!
//! What SQLite reports is read with pragmas: `table_xinfo` (declared type, hence affinity;
//! `NOT NULL`; defaults; primary keys; generated and hidden columns, which are skipped),
//! `index_list`/`index_info` (unique indexes and primary keys, whose columns get distinct
//! values) and `foreign_key_list` (foreign key columns take the values of parent rows that
//! exist: parents are filled first). `CHECK` constraints are not reported by any pragma:
//! when SQLite says `CHECK constraint failed: <expr>`, the columns named in `<expr>` are
//! switched to the literals found in it, to texts of the lengths it names, to their
//! default or to `NULL`, and the row is tried again. A row that still cannot be inserted
//! after a few tries is skipped, and counted.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::path::Path;

use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, params_from_iter};

use crate::db::HISTORY_TABLE;
use crate::{Error, Result, TestDb, Version};

/// How many times a row is tried, fixed after each failure, before it is skipped.
const ATTEMPTS: usize = 12;

/// The most combinations of candidate values tried, in memory, to satisfy one `CHECK`.
const CHECK_SEARCH_BUDGET: usize = 4000;

/// Settings of the generated rows of [`replay::check_with_data`](crate::replay::check_with_data)
/// and [`DataOptions::fill`]: how many rows per table, the seed, and the migrations that
/// change data on purpose.
///
/// The default is 20 rows per table and seed 0. Methods take and return the options by
/// value, to chain them.
///
/// # Examples
///
/// ```
/// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT NOT NULL);")?])?;
/// use sqlite_testdb::{DataOptions, replay};
///
/// let report = replay::check_with_data(&m, DataOptions::default().rows_per_table(50).seed(7))?;
/// assert_eq!(report.steps().len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataOptions {
    rows: usize,
    seed: u64,
    expected: Vec<Version>,
}

impl Default for DataOptions {
    fn default() -> Self {
        DataOptions {
            rows: 20,
            seed: 0,
            expected: Vec::new(),
        }
    }
}

impl DataOptions {
    /// How many rows to generate in every table (default 20). Triggers may add more;
    /// rows that cannot be inserted are skipped and counted.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?])?;
    /// let rows = sqlite_testdb::DataOptions::default()
    ///     .rows_per_table(5)
    ///     .fill(&sqlite_testdb::TestDb::new(&m)?)?;
    /// assert_eq!(rows.inserted(), 5);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn rows_per_table(mut self, rows: usize) -> Self {
        self.rows = rows;
        self
    }

    /// The seed of the generator (default 0): the same seed gives the same rows.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?])?;
    /// use sqlite_testdb::{DataOptions, TestDb};
    ///
    /// let a = DataOptions::default().seed(7).fill(&TestDb::new(&m)?)?;
    /// let b = DataOptions::default().seed(7).fill(&TestDb::new(&m)?)?;
    /// assert_eq!(a.sql(), b.sql());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Marks a migration that deletes or transforms data on purpose: the rows and values it
    /// loses are listed in its [`StepReport::data_changes`](crate::replay::StepReport::data_changes)
    /// instead of failing the check. Call once per such migration.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);")?,
    /// #     refinery::Migration::unapplied("V2__upper", "UPDATE users SET name = upper(name);")?,
    /// # ])?;
    /// use sqlite_testdb::{DataOptions, replay};
    ///
    /// // V2 upper-cases every name: without expect_changes(2) that is a failure.
    /// let err = replay::check_with_data(&m, DataOptions::default()).unwrap_err();
    /// assert!(err.to_string().contains("(table users, column name)"));
    /// # if let sqlite_testdb::Error::ReplayData { script: Some(script), .. } = &err { std::fs::remove_dir_all(script.parent().unwrap())?; }
    /// let report = replay::check_with_data(&m, DataOptions::default().expect_changes(2))?;
    /// assert_eq!(report.steps()[1].data_changes()[0].column(), Some("name"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn expect_changes(mut self, version: Version) -> Self {
        if !self.expected.contains(&version) {
            self.expected.push(version);
        }
        self
    }

    /// Fills every table of `db` (not SQLite's own, not refinery's history) with generated
    /// rows, parents before the tables that reference them, in one transaction. Useful on
    /// its own for a database full of awkward but legal rows.
    ///
    /// # Errors
    ///
    /// [`Error::Sqlite`] naming the file when its schema cannot be read or the transaction
    /// fails. A row that cannot be inserted is not an error: it is skipped and counted in
    /// [`TableRows::skipped`].
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__blog",
    /// #     "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);
    /// #      CREATE TABLE posts(id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), title TEXT);")?])?;
    /// use sqlite_testdb::{DataOptions, TestDb};
    ///
    /// let db = TestDb::new(&m)?;
    /// let rows = DataOptions::default().rows_per_table(10).fill(&db)?;
    /// assert_eq!(rows.inserted(), 20);
    /// assert_eq!(rows.tables()[0].table(), "users");          // parents first
    /// let orphans: i64 = db.connect()?.query_row(
    ///     "SELECT count(*) FROM posts WHERE user_id NOT IN (SELECT id FROM users)", [], |r| r.get(0))?;
    /// assert_eq!(orphans, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fill(&self, db: &TestDb) -> Result<GeneratedRows> {
        let conn = db.connect()?;
        self.fill_connection(&conn, db.path())
    }

    /// [`fill`](Self::fill) through an open connection to the database at `path`.
    pub(crate) fn fill_connection(&self, conn: &Connection, path: &Path) -> Result<GeneratedRows> {
        let sqlite = |e| Error::sqlite("fill with generated rows", path, e);
        let tables = read_tables(conn).map_err(sqlite)?;
        let order = fill_order(&tables);
        conn.execute_batch("BEGIN").map_err(sqlite)?;
        let mut generated = GeneratedRows::default();
        for index in order {
            let table = &tables[index];
            match Filler::new(conn, table, self) {
                Ok(filler) => generated.tables.push(filler.run()),
                Err(e) => {
                    let _ = conn.execute_batch("ROLLBACK");
                    return Err(sqlite(e));
                }
            }
        }
        if !conn.is_autocommit() {
            conn.execute_batch("COMMIT").map_err(sqlite)?;
        }
        Ok(generated)
    }

    /// Whether `version` changes data on purpose.
    pub(crate) fn expects_changes(&self, version: Version) -> bool {
        self.expected.contains(&version)
    }

    /// The seed, for the reproduction scripts.
    pub(crate) fn seed_value(&self) -> u64 {
        self.seed
    }

    /// Rows per table, for the reproduction scripts.
    pub(crate) fn rows(&self) -> usize {
        self.rows
    }
}

/// The rows [`DataOptions::fill`] generated: per table, how many were inserted and skipped,
/// and the `INSERT` statements that reproduce them.
///
/// # Examples
///
/// ```
/// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);")?])?;
/// let db = sqlite_testdb::TestDb::new(&m)?;
/// let rows = sqlite_testdb::DataOptions::default().rows_per_table(3).fill(&db)?;
/// assert_eq!(rows.inserted(), 3);
/// assert_eq!(rows.skipped(), 0);
/// assert!(rows.sql().starts_with("INSERT INTO \"users\""));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GeneratedRows {
    tables: Vec<TableRows>,
}

impl GeneratedRows {
    /// One entry per table, in the order they were filled (parents first).
    pub fn tables(&self) -> &[TableRows] {
        &self.tables
    }

    /// Rows inserted, in every table.
    pub fn inserted(&self) -> usize {
        self.tables.iter().map(|t| t.inserted).sum()
    }

    /// Rows that could not be inserted after a few tries, in every table.
    pub fn skipped(&self) -> usize {
        self.tables.iter().map(|t| t.skipped).sum()
    }

    /// Every `INSERT` statement that ran, one per line, values as SQL literals, in the
    /// order they ran.
    pub fn sql(&self) -> String {
        let mut sql = String::new();
        for table in &self.tables {
            for insert in &table.inserts {
                sql.push_str(insert);
                sql.push('\n');
            }
        }
        sql
    }
}

/// The generated rows of one table, part of [`GeneratedRows`].
///
/// # Examples
///
/// ```
/// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, age INTEGER CHECK (age BETWEEN 0 AND 150));")?])?;
/// let db = sqlite_testdb::TestDb::new(&m)?;
/// let rows = sqlite_testdb::DataOptions::default().fill(&db)?;
/// let users = &rows.tables()[0];
/// assert_eq!((users.table(), users.inserted(), users.skipped()), ("users", 20, 0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRows {
    table: String,
    inserted: usize,
    skipped: usize,
    skip_reason: Option<String>,
    inserts: Vec<String>,
}

impl TableRows {
    /// The table.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Rows inserted.
    pub fn inserted(&self) -> usize {
        self.inserted
    }

    /// Rows that could not be inserted after a few tries.
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// SQLite's error for the first row skipped, if any was.
    pub fn skip_reason(&self) -> Option<&str> {
        self.skip_reason.as_deref()
    }
}

// ---------------------------------------------------------------------------------------
// The schema, as the pragmas report it.

/// A table to fill.
#[derive(Debug)]
struct Table {
    name: String,
    sql: String,
    without_rowid: bool,
    columns: Vec<Column>,
    foreign_keys: Vec<ForeignKey>,
    unique_sets: Vec<Vec<usize>>,
}

#[derive(Debug)]
struct Column {
    name: String,
    affinity: Affinity,
    not_null: bool,
    default: Option<String>,
    primary_key: bool,
    rowid_alias: bool,
    kind: Kind,
    position: usize,
}

#[derive(Debug)]
struct ForeignKey {
    parent: String,
    from: Vec<usize>,
    to: Vec<String>,
}

/// SQLite's column affinity, from the declared type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Affinity {
    Integer,
    Text,
    Blob,
    Real,
    Numeric,
}

impl Affinity {
    /// The rules of SQLite's "Determination Of Column Affinity" (and `ANY` of STRICT
    /// tables, which stores values as given).
    fn of(declared: &str) -> Affinity {
        let t = declared.to_ascii_uppercase();
        if t.contains("INT") {
            Affinity::Integer
        } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") {
            Affinity::Text
        } else if t.contains("BLOB") || t.trim().is_empty() || t.trim() == "ANY" {
            Affinity::Blob
        } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
            Affinity::Real
        } else {
            Affinity::Numeric
        }
    }

    /// `value` as a column of this affinity stores it.
    fn apply(self, value: Value) -> Value {
        match (self, value) {
            (Affinity::Text, Value::Integer(i)) => Value::Text(i.to_string()),
            (Affinity::Text, Value::Real(r)) => Value::Text(real_literal(r)),
            (Affinity::Integer | Affinity::Numeric, Value::Text(s)) => {
                numeric(&s, false).map_or(Value::Text(s), integral)
            }
            (Affinity::Integer | Affinity::Numeric, Value::Real(r)) => integral(Value::Real(r)),
            (Affinity::Real, Value::Text(s)) => numeric(&s, true).unwrap_or(Value::Text(s)),
            (Affinity::Real, Value::Integer(i)) => Value::Real(i as f64),
            (_, v) => v,
        }
    }
}

/// A text that reads as a number, as a number (a real when `real`).
fn numeric(text: &str, real: bool) -> Option<Value> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    if !real && let Ok(i) = t.parse::<i64>() {
        return Some(Value::Integer(i));
    }
    let looks_numeric = t
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'));
    match t.parse::<f64>() {
        Ok(r) if looks_numeric && r.is_finite() => Some(Value::Real(r)),
        _ if real => t.parse::<i64>().ok().map(|i| Value::Real(i as f64)),
        _ => None,
    }
}

/// A real with no fractional part, as an integer, as INTEGER and NUMERIC columns store it.
fn integral(value: Value) -> Value {
    match value {
        Value::Real(r) if r.fract() == 0.0 && r.abs() < 9.0e18 => Value::Integer(r as i64),
        v => v,
    }
}

/// What a column's name says its values look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Email,
    /// A timestamp; the rank orders the columns of one row (created before expires).
    Time(u8),
    /// A date without time.
    Date(u8),
    Bool,
    Url,
    Ip,
    Hash,
    Uuid,
    Json,
    Name,
    Plain,
}

impl Kind {
    fn of(name: &str, declared: &str, affinity: Affinity) -> Kind {
        let n = name.to_ascii_lowercase();
        let t = declared.to_ascii_uppercase();
        let textual = matches!(
            affinity,
            Affinity::Text | Affinity::Blob | Affinity::Numeric
        );
        let timeish = n.ends_with("_at")
            || n.ends_with("_on")
            || n.ends_with("_until")
            || n.contains("timestamp")
            || (n.contains("time") && !n.contains("zone"))
            || t.contains("TIMESTAMP")
            || t.contains("DATETIME");
        if timeish && affinity != Affinity::Blob {
            return Kind::Time(time_rank(&n));
        }
        if (n.contains("date") || t == "DATE") && affinity != Affinity::Blob {
            return Kind::Date(time_rank(&n));
        }
        let boolish = t.contains("BOOL")
            || n.starts_with("is_")
            || n.starts_with("has_")
            || n.starts_with("can_")
            || n.ends_with("_flag")
            || n.ends_with("verified")
            || n.ends_with("enabled")
            || matches!(n.as_str(), "active" | "enabled" | "deleted" | "archived");
        if boolish && matches!(affinity, Affinity::Integer | Affinity::Numeric) {
            return Kind::Bool;
        }
        if !textual {
            return Kind::Plain;
        }
        if n.contains("email") || n == "mail" {
            Kind::Email
        } else if n.contains("url") || n.contains("uri") || n == "website" || n == "homepage" {
            Kind::Url
        } else if n == "ip" || n.starts_with("ip_") || n.ends_with("_ip") {
            Kind::Ip
        } else if n.contains("uuid") || n.contains("guid") {
            Kind::Uuid
        } else if n.contains("hash") || n.contains("digest") || n.contains("secret") {
            Kind::Hash
        } else if n.contains("json") || n == "metadata" || t.contains("JSON") {
            Kind::Json
        } else if n.contains("name") {
            Kind::Name
        } else {
            Kind::Plain
        }
    }

    fn is_temporal(self) -> bool {
        matches!(self, Kind::Time(_) | Kind::Date(_))
    }
}

/// Orders the timestamps of one row: `created_at` < `updated_at` < `revoked_at` <
/// `expires_at`, so checks such as `expires_at > created_at` hold.
fn time_rank(name: &str) -> u8 {
    let has = |words: &[&str]| words.iter().any(|w| name.contains(w));
    if has(&[
        "created",
        "inserted",
        "issued",
        "start",
        "begin",
        "from",
        "opened",
        "registered",
        "joined",
        "born",
        "birth",
    ]) {
        0
    } else if has(&["expire", "expiry", "until", "deadline", "due", "valid_to"]) {
        5
    } else if has(&[
        "revoked",
        "ended",
        "ends",
        "end_",
        "_end",
        "consumed",
        "deleted",
        "closed",
        "finished",
        "completed",
        "cancel",
        "used",
        "archived",
    ]) {
        4
    } else if has(&["updated", "modified", "seen", "login", "last", "changed"]) {
        3
    } else {
        2
    }
}

/// The tables to fill, by name: not SQLite's own, not refinery's history, not virtual or
/// shadow tables.
pub(crate) fn user_tables(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    conn.prepare(
        "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' \
         AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> ?1 ORDER BY name",
    )?
    .query_map([HISTORY_TABLE], |r| r.get(0))?
    .collect()
}

/// The ordinary columns of `table` (not generated, not hidden), in order.
pub(crate) fn ordinary_columns(conn: &Connection, table: &str) -> rusqlite::Result<Vec<String>> {
    conn.prepare("SELECT name FROM pragma_table_xinfo(?1) WHERE hidden = 0 ORDER BY cid")?
        .query_map([table], |r| r.get(0))?
        .collect()
}

fn read_tables(conn: &Connection) -> rusqlite::Result<Vec<Table>> {
    let names = user_tables(conn)?;
    names.iter().map(|name| read_table(conn, name)).collect()
}

fn read_table(conn: &Connection, name: &str) -> rusqlite::Result<Table> {
    let (sql, without_rowid): (String, bool) = conn.query_row(
        "SELECT coalesce(m.sql, ''), l.wr FROM pragma_table_list AS l \
         LEFT JOIN sqlite_master AS m ON m.type = 'table' AND m.name = l.name \
         WHERE l.schema = 'main' AND l.name = ?1",
        [name],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let mut columns: Vec<Column> = conn
        .prepare(
            "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_xinfo(?1) \
             WHERE hidden = 0 ORDER BY cid",
        )?
        .query_map([name], |r| {
            let name: String = r.get(0)?;
            let declared: String = r.get::<_, Option<String>>(1)?.unwrap_or_default();
            let affinity = Affinity::of(&declared);
            Ok(Column {
                kind: Kind::of(&name, &declared, affinity),
                rowid_alias: declared.eq_ignore_ascii_case("INTEGER"),
                name,
                affinity,
                not_null: r.get(2)?,
                default: r.get(3)?,
                primary_key: r.get::<_, i64>(4)? > 0,
                position: 0,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let pk_count = columns.iter().filter(|c| c.primary_key).count();
    for (position, column) in columns.iter_mut().enumerate() {
        column.position = position;
        column.rowid_alias &= column.primary_key && pk_count == 1 && !without_rowid;
    }
    let index_of = |columns: &[Column], wanted: &str| {
        columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(wanted))
    };

    let mut unique_sets = Vec::new();
    let indexes: Vec<(String, bool)> = conn
        .prepare("SELECT name, \"unique\" FROM pragma_index_list(?1) ORDER BY seq")?
        .query_map([name], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for index in indexes.into_iter().filter(|(_, u)| *u).map(|(i, _)| i) {
        let cids: Vec<i64> = conn
            .prepare("SELECT cid FROM pragma_index_info(?1) ORDER BY seqno")?
            .query_map([&index], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut set: Vec<usize> = Vec::new();
        if cids.contains(&-2) {
            // An expression index: the columns its SQL names.
            let index_sql: String = conn
                .query_row(
                    "SELECT coalesce(sql, '') FROM sqlite_master WHERE type = 'index' AND name = ?1",
                    [&index],
                    |r| r.get(0),
                )
                .unwrap_or_default();
            for token in lex(&index_sql) {
                if let Some(word) = token.identifier()
                    && let Some(i) = index_of(&columns, word)
                    && !set.contains(&i)
                {
                    set.push(i);
                }
            }
        }
        for cid in cids.into_iter().filter(|c| *c >= 0) {
            let position = usize::try_from(cid).unwrap_or(usize::MAX);
            if position < columns.len() && !set.contains(&position) {
                set.push(position);
            }
        }
        if !set.is_empty() {
            unique_sets.push(set);
        }
    }

    let mut foreign_keys: Vec<ForeignKey> = Vec::new();
    let rows: Vec<(i64, String, String, Option<String>)> = conn
        .prepare(
            "SELECT id, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?1) \
             ORDER BY id, seq",
        )?
        .query_map([name], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    // Each foreign key: its parent, and the (from, to) column pairs.
    let mut grouped: BTreeMap<i64, (String, Vec<ColumnPair>)> = BTreeMap::new();
    for (id, parent, from, to) in rows {
        grouped
            .entry(id)
            .or_insert_with(|| (parent, Vec::new()))
            .1
            .push((from, to));
    }
    for (parent, pairs) in grouped.into_values() {
        let (from, to): (Vec<String>, Vec<Option<String>>) = pairs.into_iter().unzip();
        let Some(from) = from
            .iter()
            .map(|f| index_of(&columns, f))
            .collect::<Option<Vec<usize>>>()
        else {
            continue;
        };
        let to = if to.iter().all(Option::is_some) {
            to.into_iter().flatten().collect()
        } else {
            primary_key_of(conn, &parent)?
        };
        foreign_keys.push(ForeignKey { parent, from, to });
    }
    // A rowid alias that is also a foreign key (one-to-one tables) needs distinct values.
    for column in columns.iter().filter(|c| c.rowid_alias) {
        if foreign_keys
            .iter()
            .any(|fk| fk.from.contains(&column.position))
        {
            unique_sets.push(vec![column.position]);
        }
    }

    Ok(Table {
        name: name.to_owned(),
        sql,
        without_rowid,
        columns,
        foreign_keys,
        unique_sets,
    })
}

/// A foreign key's child column and the parent column it references (`None`: the parent's
/// primary key).
type ColumnPair = (String, Option<String>);

/// The primary key columns of `table`, the target of a `REFERENCES table` that names none.
fn primary_key_of(conn: &Connection, table: &str) -> rusqlite::Result<Vec<String>> {
    let pk: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_xinfo(?1) WHERE pk > 0 ORDER BY pk")?
        .query_map([table], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(if pk.is_empty() {
        vec!["rowid".to_owned()]
    } else {
        pk
    })
}

/// Parents before children (Kahn's algorithm, ties by name). A cycle is broken at a table
/// whose parents not filled yet are all referenced through nullable columns (they get
/// `NULL`), else at the first table by name.
fn fill_order(tables: &[Table]) -> Vec<usize> {
    let index: HashMap<String, usize> = tables
        .iter()
        .enumerate()
        .map(|(i, t)| (t.name.to_lowercase(), i))
        .collect();
    // For each table: its parents, and whether it may leave the reference NULL.
    let parents: Vec<Vec<(usize, bool)>> = tables
        .iter()
        .enumerate()
        .map(|(i, t)| {
            t.foreign_keys
                .iter()
                .filter_map(|fk| {
                    let parent = index.get(&fk.parent.to_lowercase()).copied()?;
                    let nullable = fk.from.iter().all(|&c| {
                        let column = &t.columns[c];
                        !column.not_null && !column.primary_key
                    });
                    (parent != i).then_some((parent, nullable))
                })
                .collect()
        })
        .collect();
    let mut done = vec![false; tables.len()];
    let mut order = Vec::with_capacity(tables.len());
    loop {
        let pending = || (0..tables.len()).filter(|&i| !done[i]);
        let ready = pending()
            .find(|&i| parents[i].iter().all(|&(p, _)| done[p]))
            .or_else(|| {
                pending().find(|&i| parents[i].iter().all(|&(p, nullable)| done[p] || nullable))
            })
            .or_else(|| pending().next());
        let Some(next) = ready else { break };
        done[next] = true;
        order.push(next);
    }
    order
}

// ---------------------------------------------------------------------------------------
// Filling one table.

/// A column's value in a row to insert: a value, or left out so its default applies (and
/// for a rowid alias, so SQLite numbers the row).
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Omit,
    Set(Value),
}

/// The per-row choices of a table's columns, worked out once.
struct Plan {
    /// Values of the column must differ from row to row (it carries a unique key).
    distinct: Vec<bool>,
    /// Each foreign key takes a parent row no other row took (one-to-one).
    fk_distinct: Vec<bool>,
    /// For each column, the foreign key it belongs to.
    fk_of: Vec<Option<usize>>,
    /// For each foreign key, the parent rows' key values; for one to the table itself,
    /// the rows inserted so far.
    parents: Vec<Vec<Vec<Value>>>,
    /// Which foreign keys reference the table itself.
    self_ref: Vec<bool>,
}

struct Filler<'a> {
    conn: &'a Connection,
    table: &'a Table,
    options: &'a DataOptions,
    plan: Plan,
    rng: Rng,
    defaults: HashMap<usize, Value>,
}

impl<'a> Filler<'a> {
    fn new(
        conn: &'a Connection,
        table: &'a Table,
        options: &'a DataOptions,
    ) -> rusqlite::Result<Self> {
        let columns = &table.columns;
        let mut fk_of = vec![None; columns.len()];
        for (k, fk) in table.foreign_keys.iter().enumerate() {
            for &c in &fk.from {
                fk_of[c] = Some(k);
            }
        }
        let mut distinct = vec![false; columns.len()];
        let mut fk_distinct = vec![false; table.foreign_keys.len()];
        for set in &table.unique_sets {
            let covered = set
                .iter()
                .any(|&c| distinct[c] || fk_of[c].is_some_and(|k| fk_distinct[k]));
            if covered {
                continue;
            }
            let own = set
                .iter()
                .copied()
                .filter(|&c| fk_of[c].is_none() && columns[c].kind != Kind::Bool)
                .min_by_key(|&c| usize::from(!columns[c].kind.is_temporal()));
            match own {
                Some(c) => distinct[c] = true,
                None => {
                    if let Some(k) = set.iter().find_map(|&c| fk_of[c]) {
                        fk_distinct[k] = true;
                    } else if let Some(&c) = set.first() {
                        distinct[c] = true;
                    }
                }
            }
        }
        let mut parents = Vec::with_capacity(table.foreign_keys.len());
        let mut self_ref = Vec::with_capacity(table.foreign_keys.len());
        for fk in &table.foreign_keys {
            let is_self = fk.parent.eq_ignore_ascii_case(&table.name);
            self_ref.push(is_self);
            parents.push(if is_self {
                Vec::new()
            } else {
                parent_keys(conn, &fk.parent, &fk.to).unwrap_or_default()
            });
        }
        let mut defaults = HashMap::new();
        for column in columns {
            if let Some(default) = &column.default {
                let value = conn
                    .query_row(&format!("SELECT {default}"), [], |r| r.get::<_, Value>(0))
                    .unwrap_or(Value::Null);
                defaults.insert(column.position, column.affinity.apply(value));
            }
        }
        Ok(Filler {
            conn,
            table,
            options,
            plan: Plan {
                distinct,
                fk_distinct,
                fk_of,
                parents,
                self_ref,
            },
            rng: Rng::new(options.seed ^ fnv1a(table.name.to_lowercase().as_bytes())),
            defaults,
        })
    }

    fn run(mut self) -> TableRows {
        let mut rows = TableRows {
            table: self.table.name.clone(),
            inserted: 0,
            skipped: 0,
            skip_reason: None,
            inserts: Vec::new(),
        };
        for i in 0..self.options.rows {
            let mut row = self.row(i);
            let mut inserted = false;
            let mut last_error = String::new();
            for attempt in 0..ATTEMPTS {
                match self.insert(&row) {
                    Ok(sql) => {
                        rows.inserts.push(sql);
                        inserted = true;
                        break;
                    }
                    Err(message) => {
                        let fixed = self.fix(&mut row, i, attempt, &message);
                        last_error = message;
                        if !fixed {
                            break;
                        }
                    }
                }
            }
            if inserted {
                rows.inserted += 1;
                self.remember_self_reference(&row);
            } else {
                rows.skipped += 1;
                if rows.skip_reason.is_none() {
                    rows.skip_reason = Some(last_error);
                }
            }
        }
        rows
    }

    /// A fresh row `i`: every column generated, then foreign keys pointed at parents.
    fn row(&mut self, i: usize) -> Vec<Cell> {
        let mut row: Vec<Cell> = (0..self.table.columns.len())
            .map(|c| self.generate(c, i))
            .collect();
        for k in 0..self.table.foreign_keys.len() {
            self.point_foreign_key(&mut row, k, i, 0);
        }
        row
    }

    fn generate(&mut self, c: usize, i: usize) -> Cell {
        let column = &self.table.columns[c];
        if column.rowid_alias {
            return Cell::Omit;
        }
        let distinct = self.plan.distinct[c];
        let nullable = !column.not_null && !column.primary_key;
        if nullable && self.rng.percent(12) {
            return Cell::Set(Value::Null);
        }
        let omit_default = column.default.is_some()
            && !distinct
            && !column.kind.is_temporal()
            && self.rng.percent(10);
        if omit_default {
            return Cell::Omit;
        }
        let value = awkward(column, i, distinct, &mut self.rng);
        Cell::Set(column.affinity.apply(value))
    }

    /// Points foreign key `k` of `row` at a parent row; `NULL` where allowed when there is
    /// none (or sometimes, to have some).
    fn point_foreign_key(&mut self, row: &mut [Cell], k: usize, i: usize, attempt: usize) {
        let fk = &self.table.foreign_keys[k];
        let nullable = fk.from.iter().all(|&c| {
            let column = &self.table.columns[c];
            !column.not_null && !column.primary_key
        });
        let parents = &self.plan.parents[k];
        if parents.is_empty() && !nullable && self.plan.self_ref[k] {
            // The first row of a table that must reference itself references itself.
            if let Some(next) = self.next_rowid_key(fk) {
                for &c in &fk.from {
                    row[c] = Cell::Set(Value::Integer(next));
                }
            }
            return;
        }
        let choice = if parents.is_empty() {
            None
        } else if self.plan.fk_distinct[k] {
            let n = i + attempt * self.options.rows;
            (n < parents.len()).then_some(n)
        } else if nullable && self.rng.percent(10) {
            None
        } else {
            let pick = self.rng.below(parents.len() as u64) as usize;
            Some((pick + attempt) % parents.len())
        };
        match choice {
            Some(p) => {
                for (&c, value) in fk.from.iter().zip(&parents[p]) {
                    row[c] = Cell::Set(self.table.columns[c].affinity.apply(value.clone()));
                }
            }
            None => {
                for &c in &fk.from {
                    let column = &self.table.columns[c];
                    if !column.not_null && !column.primary_key {
                        row[c] = Cell::Set(Value::Null);
                    }
                }
            }
        }
    }

    /// The rowid the next row will get, when `fk` references the table's rowid (or its
    /// alias).
    fn next_rowid_key(&self, fk: &ForeignKey) -> Option<i64> {
        let [to] = fk.to.as_slice() else { return None };
        let is_rowid = to.eq_ignore_ascii_case("rowid")
            || self
                .table
                .columns
                .iter()
                .any(|c| c.rowid_alias && c.name.eq_ignore_ascii_case(to));
        if !is_rowid || self.table.without_rowid {
            return None;
        }
        let sql = format!(
            "SELECT coalesce(max(rowid), 0) + 1 FROM {}",
            quote_identifier(&self.table.name)
        );
        self.conn.query_row(&sql, [], |r| r.get(0)).ok()
    }

    /// Inserts `row`; the `INSERT` with its values as literals, or SQLite's message.
    fn insert(&self, row: &[Cell]) -> std::result::Result<String, String> {
        let mut names = Vec::new();
        let mut values = Vec::new();
        for (column, cell) in self.table.columns.iter().zip(row) {
            if let Cell::Set(value) = cell {
                names.push(quote_identifier(&column.name));
                values.push(value.clone());
            }
        }
        let table = quote_identifier(&self.table.name);
        let (sql, literal_sql) = if names.is_empty() {
            let sql = format!("INSERT INTO {table} DEFAULT VALUES");
            (sql.clone(), format!("{sql};"))
        } else {
            let placeholders: Vec<String> = (1..=values.len()).map(|n| format!("?{n}")).collect();
            let literals: Vec<String> = values.iter().map(literal).collect();
            (
                format!(
                    "INSERT INTO {table} ({}) VALUES ({})",
                    names.join(", "),
                    placeholders.join(", ")
                ),
                format!(
                    "INSERT INTO {table} ({}) VALUES ({});",
                    names.join(", "),
                    literals.join(", ")
                ),
            )
        };
        let result = self
            .conn
            .prepare_cached(&sql)
            .and_then(|mut stmt| stmt.execute(params_from_iter(values.iter())));
        match result {
            Ok(_) => Ok(literal_sql),
            Err(e) => Err(sqlite_message(&e)),
        }
    }

    /// Changes `row` after SQLite refused it with `message`; `false` when there is nothing
    /// left to try.
    fn fix(&mut self, row: &mut [Cell], i: usize, attempt: usize, message: &str) -> bool {
        if attempt + 1 >= ATTEMPTS {
            return false;
        }
        if let Some(expr) = message.strip_prefix("CHECK constraint failed: ") {
            let expr = check_expression(&self.table.sql, expr);
            self.satisfy_check(row, i, attempt, &expr);
            true
        } else if let Some(rest) = message.strip_prefix("NOT NULL constraint failed: ") {
            for c in self.named_columns(rest) {
                row[c] = Cell::Set(self.plain(c, i, attempt));
            }
            true
        } else if let Some(rest) = message.strip_prefix("UNIQUE constraint failed: ") {
            let mut named = self.named_columns(rest);
            if named.is_empty() {
                named = (0..row.len()).filter(|&c| self.plan.distinct[c]).collect();
            }
            for c in named {
                match self.plan.fk_of[c] {
                    Some(k) => self.point_foreign_key(row, k, i, attempt + 1),
                    None => row[c] = Cell::Set(self.plain(c, i, attempt + 1)),
                }
            }
            true
        } else if message.starts_with("FOREIGN KEY constraint failed") {
            for k in 0..self.table.foreign_keys.len() {
                self.point_foreign_key(row, k, i, attempt + 1);
            }
            true
        } else if message.starts_with("cannot store") || message.contains("datatype mismatch") {
            let named = message
                .rsplit_once(" column ")
                .map(|(_, rest)| self.named_columns(rest))
                .unwrap_or_default();
            let all: Vec<usize> = (0..row.len()).collect();
            for c in if named.is_empty() { all } else { named } {
                if self.plan.fk_of[c].is_none() && !self.table.columns[c].rowid_alias {
                    row[c] = Cell::Set(self.plain(c, i, attempt));
                }
            }
            true
        } else {
            false
        }
    }

    /// The columns of this table named in `t.a, t.b` (SQLite's constraint messages).
    fn named_columns(&self, list: &str) -> Vec<usize> {
        list.split(", ")
            .filter_map(|item| {
                let name = item
                    .rsplit_once('.')
                    .map_or(item, |(_, c)| c)
                    .trim_end_matches(|c: char| c.is_whitespace());
                self.table
                    .columns
                    .iter()
                    .position(|c| c.name.eq_ignore_ascii_case(name))
            })
            .collect()
    }

    /// A plain value of column `c` for row `i`, that most checks accept; `salt` makes
    /// another distinct one.
    fn plain(&self, c: usize, i: usize, salt: usize) -> Value {
        let column = &self.table.columns[c];
        let n = i + salt * self.options.rows.max(1);
        column.affinity.apply(typical(column, n, self.options.seed))
    }

    /// Changes the columns named in `expr` to the first combination of candidate values
    /// that makes `expr` true (or NULL), evaluated in memory; changes as few as it can.
    fn satisfy_check(&mut self, row: &mut [Cell], i: usize, attempt: usize, expr: &str) {
        let tokens = lex(expr);
        let mut named: Vec<usize> = Vec::new();
        for token in &tokens {
            if let Some(word) = token.identifier()
                && let Some(c) = self
                    .table
                    .columns
                    .iter()
                    .position(|c| c.name.eq_ignore_ascii_case(word))
                && !named.contains(&c)
                && !self.table.columns[c].rowid_alias
            {
                named.push(c);
            }
        }
        if named.is_empty() {
            return;
        }
        let literals = literals(&tokens);
        let candidates: Vec<Vec<Cell>> = named
            .iter()
            .map(|&c| self.candidates(row, c, i, &literals))
            .collect();
        let lengths: Vec<usize> = candidates.iter().map(Vec::len).collect();
        let sql = self.check_query(expr);
        let combos = combinations(&lengths, CHECK_SEARCH_BUDGET);
        let with = |combo: &[usize]| {
            let mut trial = row.to_vec();
            for (slot, &pick) in combo.iter().enumerate() {
                trial[named[slot]] = candidates[slot][pick].clone();
            }
            trial
        };
        for combo in &combos {
            let trial = with(combo);
            match self.evaluate(&sql, &trial) {
                Some(true) => {
                    row.clone_from_slice(&trial);
                    return;
                }
                Some(false) => {}
                None => {
                    // It cannot be evaluated apart from the table (it names something only
                    // the table has): insert the combinations in order, one per attempt.
                    if let Some(combo) = combos.get(attempt + 1) {
                        row.clone_from_slice(&with(combo));
                    }
                    return;
                }
            }
        }
    }

    /// The values to try for column `c` of `row`, most wanted first: its own, the literals
    /// of the check, texts of the lengths it names, its default, a plain value, `NULL`.
    fn candidates(&mut self, row: &[Cell], c: usize, i: usize, literals: &[Value]) -> Vec<Cell> {
        let column = &self.table.columns[c];
        let mut out: Vec<Cell> = vec![row[c].clone()];
        let nullable = !column.not_null && !column.primary_key;
        if let Some(k) = self.plan.fk_of[c] {
            let fk = &self.table.foreign_keys[k];
            let slot = fk.from.iter().position(|&f| f == c).unwrap_or(0);
            for parent in self.plan.parents[k].iter().take(4) {
                if let Some(v) = parent.get(slot) {
                    out.push(Cell::Set(v.clone()));
                }
            }
        } else {
            let distinct = self.plan.distinct[c];
            let start = if literals.is_empty() {
                0
            } else {
                self.rng.below(literals.len() as u64) as usize
            };
            for n in 0..literals.len() {
                let literal = &literals[(start + n) % literals.len()];
                let mut values = vec![literal.clone()];
                if let Value::Integer(x) = literal {
                    values.push(Value::Integer(x.saturating_add(1)));
                    values.push(Value::Integer(x.saturating_sub(1)));
                    if matches!(column.affinity, Affinity::Text | Affinity::Blob)
                        && let Ok(len) = usize::try_from(*x)
                        && (1..=4096).contains(&len)
                    {
                        values.push(Value::Text(text_of_length(len, i)));
                        values.push(Value::Text(text_of_length(len + 1, i)));
                    }
                }
                if distinct && let Value::Text(s) = literal {
                    values.push(Value::Text(format!("{s}{i}")));
                }
                out.extend(
                    values
                        .into_iter()
                        .map(|v| Cell::Set(column.affinity.apply(v))),
                );
            }
            if column.default.is_some() && !distinct {
                out.push(Cell::Omit);
            }
            out.push(Cell::Set(self.plain(c, i, 0)));
            if let Kind::Time(_) | Kind::Date(_) = column.kind {
                let base = self.plain(c, i, 0);
                for days in [-1, 1, 30] {
                    out.push(Cell::Set(shift_time(&base, days)));
                }
            }
        }
        if nullable {
            out.push(Cell::Set(Value::Null));
        }
        let mut seen = HashSet::new();
        out.retain(|cell| {
            seen.insert(match cell {
                Cell::Omit => "\u{0}omit".to_owned(),
                Cell::Set(v) => format!("{}:{}", type_tag(v), literal(v)),
            })
        });
        out.truncate(24);
        out
    }

    /// `SELECT` that says whether `expr` holds (true or NULL) for the bound row.
    fn check_query(&self, expr: &str) -> String {
        let columns: Vec<String> = self
            .table
            .columns
            .iter()
            .enumerate()
            .map(|(n, c)| format!("?{} AS {}", n + 1, quote_identifier(&c.name)))
            .collect();
        format!(
            "SELECT (({expr}) IS NULL) OR (CAST(({expr}) AS NUMERIC) <> 0) \
             FROM (SELECT {}) AS {}",
            columns.join(", "),
            quote_identifier(&self.table.name)
        )
    }

    fn evaluate(&self, sql: &str, row: &[Cell]) -> Option<bool> {
        let values: Vec<Value> = row
            .iter()
            .enumerate()
            .map(|(c, cell)| match cell {
                Cell::Set(v) => v.clone(),
                Cell::Omit => self.defaults.get(&c).cloned().unwrap_or(Value::Null),
            })
            .collect();
        let mut stmt = self.conn.prepare_cached(sql).ok()?;
        stmt.query_row(params_from_iter(values.iter()), |r| r.get::<_, bool>(0))
            .ok()
    }

    /// After row inserted: its key, for the foreign keys of the table to itself.
    fn remember_self_reference(&mut self, row: &[Cell]) {
        for k in 0..self.table.foreign_keys.len() {
            if !self.plan.self_ref[k] {
                continue;
            }
            let fk = &self.table.foreign_keys[k];
            let key = if self.table.without_rowid {
                fk.to
                    .iter()
                    .map(|to| {
                        self.table
                            .columns
                            .iter()
                            .position(|c| c.name.eq_ignore_ascii_case(to))
                            .and_then(|c| match &row[c] {
                                Cell::Set(v) => Some(v.clone()),
                                Cell::Omit => None,
                            })
                    })
                    .collect::<Option<Vec<Value>>>()
            } else {
                let columns: Vec<String> = fk.to.iter().map(|t| quote_identifier(t)).collect();
                let sql = format!(
                    "SELECT {} FROM {} WHERE rowid = last_insert_rowid()",
                    columns.join(", "),
                    quote_identifier(&self.table.name)
                );
                self.conn
                    .query_row(&sql, [], |r| {
                        (0..columns.len()).map(|n| r.get::<_, Value>(n)).collect()
                    })
                    .ok()
            };
            if let Some(key) = key
                && !key.iter().any(|v| matches!(v, Value::Null))
            {
                self.plan.parents[k].push(key);
            }
        }
    }
}

/// The key values of every row of `parent`, in key order.
fn parent_keys(
    conn: &Connection,
    parent: &str,
    to: &[String],
) -> rusqlite::Result<Vec<Vec<Value>>> {
    let columns: Vec<String> = to.iter().map(|c| quote_identifier(c)).collect();
    let not_null: Vec<String> = columns.iter().map(|c| format!("{c} IS NOT NULL")).collect();
    let sql = format!(
        "SELECT DISTINCT {cols} FROM {table} WHERE {not_null} ORDER BY {cols} LIMIT 100000",
        cols = columns.join(", "),
        table = quote_identifier(parent),
        not_null = not_null.join(" AND "),
    );
    conn.prepare(&sql)?
        .query_map([], |r| {
            (0..columns.len()).map(|n| r.get::<_, Value>(n)).collect()
        })?
        .collect()
}

/// Every combination of one candidate per slot, those that change fewer slots (pick 0 is a
/// slot's current value) first, at most `budget` of them.
fn combinations(lengths: &[usize], budget: usize) -> Vec<Vec<usize>> {
    let slots = lengths.len();
    let mut out = Vec::new();
    for changes in 0..=slots {
        let mut chosen = Vec::new();
        subsets(slots, changes, 0, &mut chosen, &mut |subset| {
            let mut picks = vec![0; slots];
            product(lengths, subset, 0, &mut picks, &mut out, budget);
        });
        if out.len() >= budget {
            break;
        }
    }
    out.truncate(budget);
    out
}

fn subsets(n: usize, k: usize, from: usize, chosen: &mut Vec<usize>, f: &mut dyn FnMut(&[usize])) {
    if chosen.len() == k {
        f(chosen);
        return;
    }
    for s in from..n {
        chosen.push(s);
        subsets(n, k, s + 1, chosen, f);
        chosen.pop();
    }
}

fn product(
    lengths: &[usize],
    subset: &[usize],
    depth: usize,
    picks: &mut Vec<usize>,
    out: &mut Vec<Vec<usize>>,
    budget: usize,
) {
    if out.len() >= budget {
        return;
    }
    let Some(&slot) = subset.get(depth) else {
        out.push(picks.clone());
        return;
    };
    for pick in 1..lengths[slot] {
        picks[slot] = pick;
        product(lengths, subset, depth + 1, picks, out, budget);
    }
    picks[slot] = 0;
}

// ---------------------------------------------------------------------------------------
// Values.

/// Text that repeats from row to row, for columns with no unique key.
const REPEATED: &str = "same";
const UNICODE: &str = "Zoë ünïcödé — 漢字 🦀 é\u{301}";
const QUOTES: &str = "it's \"quoted\"; -- not a comment";
const SPACES: &str = "  padded\ttab\nnew line  ";

/// A value for `column` in row `i`: plain most of the time, awkward but legal otherwise
/// (empty, unicode, very long, quotes, huge and negative numbers, repeats).
fn awkward(column: &Column, i: usize, distinct: bool, rng: &mut Rng) -> Value {
    match column.kind {
        Kind::Email => {
            let local = match rng.below(6) {
                0 => format!("User.{i}+tag"),
                1 => format!("zoë.{i}"),
                2 => format!("o'brien.{i}"),
                _ => format!("user{i}"),
            };
            let domain = match rng.below(5) {
                0 => "Example.COM",
                1 => "exämple.org",
                _ => "example.com",
            };
            Value::Text(format!("{local}@{domain}"))
        }
        Kind::Time(rank) | Kind::Date(rank) => {
            let jitter = rng.below(60) as i64;
            timestamp(column, i, rank, jitter)
        }
        Kind::Bool => Value::Integer(i64::from(rng.percent(50))),
        Kind::Url => Value::Text(match rng.below(4) {
            0 => format!("https://example.com/callback/{i}?q=a%20b&x=ü"),
            1 => format!("http://localhost:8080/{i}"),
            _ => format!("https://example.com/{i}"),
        }),
        Kind::Ip => Value::Text(match rng.below(3) {
            0 => format!("2001:db8::{i:x}"),
            _ => format!("192.0.2.{}", i % 254 + 1),
        }),
        Kind::Hash => Value::Text(format!("{:08x}{:016x}{:016x}", i, rng.next(), rng.next())),
        Kind::Uuid => {
            let a = rng.next();
            Value::Text(format!(
                "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
                i,
                a & 0xffff,
                (a >> 16) & 0xfff,
                (a >> 28) & 0xfff,
                (a >> 40) ^ (i as u64)
            ))
        }
        Kind::Json => Value::Text(match rng.below(4) {
            0 => "{}".to_owned(),
            1 => "[]".to_owned(),
            _ => format!("{{\"i\":{i},\"s\":\"ü\\\"\"}}"),
        }),
        Kind::Name => {
            let base = match rng.below(8) {
                0 => "Zoë Ünïcode".to_owned(),
                1 => "O'Brien".to_owned(),
                2 => "李雷".to_owned(),
                3 if !distinct => String::new(),
                4 if !distinct => REPEATED.to_owned(),
                5 => "  Spaced  Name ".to_owned(),
                _ => format!("Name {i}"),
            };
            Value::Text(if distinct {
                format!("{base} #{i}")
            } else {
                base
            })
        }
        Kind::Plain => plain_awkward(&column.name, column.affinity, i, distinct, rng),
    }
}

fn plain_awkward(name: &str, affinity: Affinity, i: usize, distinct: bool, rng: &mut Rng) -> Value {
    let roll = rng.below(100);
    match affinity {
        Affinity::Text => {
            let base = match roll {
                0..=34 => format!("{name} {i}"),
                35..=44 => String::new(),
                45..=54 => UNICODE.to_owned(),
                55..=59 => "lorem ipsum dolor sit amet ".repeat(80),
                60..=67 => QUOTES.to_owned(),
                68..=74 => SPACES.to_owned(),
                75..=79 => "007".to_owned(),
                80..=83 => "NULL".to_owned(),
                _ => REPEATED.to_owned(),
            };
            Value::Text(if distinct {
                if base.is_empty() {
                    format!("{i}")
                } else {
                    format!("{base}#{i}")
                }
            } else {
                base
            })
        }
        Affinity::Integer => Value::Integer(if distinct {
            let n = i as i64;
            match roll % 5 {
                0 => -(n + 1),
                1 => i64::MAX - n,
                2 => i64::MIN + n,
                3 => 1_000_000_007 * (n + 1),
                _ => n + 1,
            }
        } else {
            match roll {
                0..=34 => i as i64 + 1,
                35..=44 => 0,
                45..=52 => -1,
                53..=58 => i64::MAX,
                59..=64 => i64::MIN,
                65..=70 => 2_147_483_648,
                71..=76 => -2_147_483_649,
                77..=80 => 9_007_199_254_740_993,
                _ => 42,
            }
        }),
        Affinity::Real => Value::Real(if distinct {
            let n = i as f64;
            match roll % 3 {
                0 => -(n + 0.5),
                1 => (n + 0.25) * 1e200,
                _ => n + 0.5,
            }
        } else {
            match roll {
                0..=34 => i as f64 + 0.5,
                35..=44 => 0.0,
                45..=54 => -1.5,
                55..=62 => 1e300,
                63..=70 => -1e-300,
                71..=78 => std::f64::consts::PI,
                _ => 2.5,
            }
        }),
        Affinity::Numeric => {
            let affinity = if roll.is_multiple_of(2) {
                Affinity::Integer
            } else {
                Affinity::Real
            };
            plain_awkward(name, affinity, i, distinct, rng)
        }
        Affinity::Blob => {
            if distinct {
                let mut bytes = (i as u64).to_be_bytes().to_vec();
                bytes.push(0);
                return Value::Blob(bytes);
            }
            match roll {
                0..=24 => Value::Blob(rng.next().to_le_bytes().to_vec()),
                25..=34 => Value::Blob(Vec::new()),
                35..=44 => Value::Blob(vec![0, 0xff, 0]),
                45..=59 => Value::Text(UNICODE.to_owned()),
                60..=74 => Value::Integer(i64::MIN),
                75..=84 => Value::Real(-1.5),
                _ => Value::Text(REPEATED.to_owned()),
            }
        }
    }
}

/// A plain, distinct value of `column` for row `n`, that most checks accept.
fn typical(column: &Column, n: usize, seed: u64) -> Value {
    match column.kind {
        Kind::Email => Value::Text(format!("user{n}@example.com")),
        Kind::Time(rank) | Kind::Date(rank) => timestamp(column, n, rank, (seed % 60) as i64),
        Kind::Bool => Value::Integer((n % 2) as i64),
        Kind::Url => Value::Text(format!("https://example.com/{n}")),
        Kind::Ip => Value::Text(format!("192.0.2.{}", n % 254 + 1)),
        Kind::Hash => Value::Text(format!("{n:08x}{:056x}", seed)),
        Kind::Uuid => Value::Text(format!("00000000-0000-4000-8000-{n:012x}")),
        Kind::Json => Value::Text(format!("{{\"n\":{n}}}")),
        Kind::Name => Value::Text(format!("Name {n}")),
        Kind::Plain => match column.affinity {
            Affinity::Text => Value::Text(format!("{} {n}", column.name)),
            Affinity::Integer | Affinity::Numeric => Value::Integer(n as i64 + 1),
            Affinity::Real => Value::Real(n as f64 + 0.5),
            Affinity::Blob => Value::Blob((n as u64).to_be_bytes().to_vec()),
        },
    }
}

/// 2024-01-01T00:00:00Z.
const EPOCH_2024: i64 = 1_704_067_200;

/// Row `i`'s timestamp for a column of `rank`: a day per row, an hour per rank, a minute
/// per column position, `jitter` seconds. ISO-8601 text (`2024-01-01T00:00:00.000Z`), Unix
/// seconds for an INTEGER column, a date for a date column.
fn timestamp(column: &Column, i: usize, rank: u8, jitter: i64) -> Value {
    let seconds = EPOCH_2024
        + i as i64 * 86_400
        + i64::from(rank) * 3_600
        + (column.position % 60) as i64 * 60
        + jitter.rem_euclid(60);
    match (column.affinity, column.kind) {
        (Affinity::Integer, _) => Value::Integer(seconds),
        (Affinity::Real, _) => Value::Real(seconds as f64),
        (_, Kind::Date(rank)) => Value::Text(day_of(seconds + i64::from(rank) * 86_400)),
        _ => Value::Text(iso_date(seconds)),
    }
}

/// A timestamp value moved by `days`.
fn shift_time(value: &Value, days: i64) -> Value {
    match value {
        Value::Integer(s) => Value::Integer(s + days * 86_400),
        Value::Real(s) => Value::Real(s + days as f64 * 86_400.0),
        Value::Text(t) => match parse_iso(t) {
            Some(s) if t.len() == 10 => Value::Text(day_of(s + days * 86_400)),
            Some(s) => Value::Text(iso_date(s + days * 86_400)),
            None => value.clone(),
        },
        other => other.clone(),
    }
}

/// `YYYY-MM-DDTHH:MM:SS.000Z` for Unix seconds.
fn iso_date(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// `YYYY-MM-DD` for Unix seconds.
fn day_of(seconds: i64) -> String {
    iso_date(seconds).chars().take(10).collect()
}

/// Unix seconds of a `YYYY-MM-DD…` text.
fn parse_iso(text: &str) -> Option<i64> {
    let y: i64 = text.get(0..4)?.parse().ok()?;
    let m: i64 = text.get(5..7)?.parse().ok()?;
    let d: i64 = text.get(8..10)?.parse().ok()?;
    let time =
        |a: usize, b: usize| -> i64 { text.get(a..b).and_then(|s| s.parse().ok()).unwrap_or(0) };
    Some(days_from_civil(y, m, d) * 86_400 + time(11, 13) * 3600 + time(14, 16) * 60 + time(17, 19))
}

/// Howard Hinnant's `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Howard Hinnant's `days_from_civil`.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A text of exactly `len` characters that holds `i`, for `length(x) BETWEEN a AND b`.
fn text_of_length(len: usize, i: usize) -> String {
    let mut text = format!("{i}-");
    while text.chars().count() < len {
        text.push('x');
    }
    text.chars().take(len).collect()
}

/// `value` as a SQL literal: `NULL`, `42`, `1.5`, `'it''s'`, `X'00FF'`.
pub(crate) fn literal(value: &Value) -> String {
    match value {
        Value::Null => "NULL".to_owned(),
        Value::Integer(i) => i.to_string(),
        Value::Real(r) => real_literal(*r),
        Value::Text(t) => text_literal(t),
        Value::Blob(b) => blob_literal(b),
    }
}

/// [`literal`] of a borrowed value.
pub(crate) fn literal_ref(value: ValueRef<'_>) -> String {
    match value {
        ValueRef::Null => "NULL".to_owned(),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(r) => real_literal(r),
        ValueRef::Text(t) => text_literal(&String::from_utf8_lossy(t)),
        ValueRef::Blob(b) => blob_literal(b),
    }
}

fn real_literal(r: f64) -> String {
    if r.is_nan() {
        "NULL".to_owned()
    } else if r.is_infinite() {
        if r > 0.0 { "1e999" } else { "-1e999" }.to_owned()
    } else {
        format!("{r:?}")
    }
}

fn text_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn blob_literal(bytes: &[u8]) -> String {
    let mut hex = String::with_capacity(bytes.len() * 2 + 3);
    hex.push_str("X'");
    for b in bytes {
        let _ = write!(hex, "{b:02X}");
    }
    hex.push('\'');
    hex
}

fn type_tag(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Integer(_) => "int",
        Value::Real(_) => "real",
        Value::Text(_) => "text",
        Value::Blob(_) => "blob",
    }
}

/// `name` as a quoted SQL identifier.
pub(crate) fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// SQLite's own message of an error, without rusqlite's wrapping.
pub(crate) fn sqlite_message(error: &rusqlite::Error) -> String {
    match error {
        rusqlite::Error::SqliteFailure(_, Some(message)) => message.clone(),
        other => other.to_string(),
    }
}

// ---------------------------------------------------------------------------------------
// CHECK expressions.

/// The expression of a failed CHECK: SQLite names an unnamed one by its text, a named one
/// (`CONSTRAINT name CHECK (…)`) by its name, whose text is looked up in the table's SQL.
fn check_expression(table_sql: &str, reported: &str) -> String {
    let tokens = lex(table_sql);
    let named = tokens.windows(3).position(|w| {
        w[0].is_keyword("constraint")
            && w[1]
                .identifier()
                .is_some_and(|n| n.eq_ignore_ascii_case(reported))
            && w[2].is_keyword("check")
    });
    let Some(at) = named else {
        return reported.to_owned();
    };
    let mut depth = 0usize;
    let mut start = None;
    for token in &tokens[at + 3..] {
        match &token.kind {
            TokenKind::Punct('(') => {
                if depth == 0 {
                    start = Some(token.end);
                }
                depth += 1;
            }
            TokenKind::Punct(')') => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return start
                        .and_then(|s| table_sql.get(s..token.start))
                        .map_or_else(|| reported.to_owned(), ToOwned::to_owned);
                }
            }
            _ => {}
        }
    }
    reported.to_owned()
}

/// The literals of a CHECK expression: strings and numbers, numbers with both signs.
fn literals(tokens: &[Token]) -> Vec<Value> {
    let mut out = Vec::new();
    for token in tokens {
        match &token.kind {
            TokenKind::Str(s) => out.push(Value::Text(s.clone())),
            TokenKind::Number(n) => {
                if let Ok(i) = n.parse::<i64>() {
                    out.push(Value::Integer(i));
                    out.push(Value::Integer(-i));
                } else if let Ok(r) = n.parse::<f64>() {
                    out.push(Value::Real(r));
                    out.push(Value::Real(-r));
                }
            }
            _ => {}
        }
    }
    let mut seen = HashSet::new();
    out.retain(|v| seen.insert(format!("{}:{}", type_tag(v), literal(v))));
    out
}

#[derive(Debug, Clone, PartialEq)]
enum TokenKind {
    Word(String),
    Quoted(String),
    Str(String),
    Number(String),
    Punct(char),
}

#[derive(Debug, Clone)]
struct Token {
    kind: TokenKind,
    start: usize,
    end: usize,
}

impl Token {
    fn identifier(&self) -> Option<&str> {
        match &self.kind {
            TokenKind::Word(w) | TokenKind::Quoted(w) => Some(w),
            _ => None,
        }
    }

    fn is_keyword(&self, keyword: &str) -> bool {
        matches!(&self.kind, TokenKind::Word(w) if w.eq_ignore_ascii_case(keyword))
    }
}

/// Just enough of SQL's tokens for CHECK expressions, with their byte spans.
fn lex(sql: &str) -> Vec<Token> {
    let chars: Vec<(usize, char)> = sql.char_indices().collect();
    let end_of = |i: usize| chars.get(i).map_or(sql.len(), |(b, _)| *b);
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        let next = chars.get(i + 1).map(|(_, c)| *c);
        if c.is_whitespace() {
            i += 1;
        } else if c == '-' && next == Some('-') {
            while i < chars.len() && chars[i].1 != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i < chars.len()
                && !(chars[i].1 == '*' && chars.get(i + 1).map(|x| x.1) == Some('/'))
            {
                i += 1;
            }
            i += 2;
        } else if matches!(c, '\'' | '"' | '`' | '[') {
            let close = if c == '[' { ']' } else { c };
            let mut text = String::new();
            i += 1;
            while i < chars.len() {
                if chars[i].1 == close {
                    if close != ']' && chars.get(i + 1).map(|x| x.1) == Some(close) {
                        text.push(close);
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                text.push(chars[i].1);
                i += 1;
            }
            let kind = if c == '\'' {
                TokenKind::Str(text)
            } else {
                TokenKind::Quoted(text)
            };
            tokens.push(Token {
                kind,
                start,
                end: end_of(i),
            });
        } else if c.is_ascii_digit() || (c == '.' && next.is_some_and(|n| n.is_ascii_digit())) {
            let from = i;
            while i < chars.len() {
                let ch = chars[i].1;
                let exponent_sign =
                    matches!(ch, '+' | '-') && i > from && matches!(chars[i - 1].1, 'e' | 'E');
                if ch.is_ascii_alphanumeric() || ch == '.' || exponent_sign {
                    i += 1;
                } else {
                    break;
                }
            }
            let text: String = chars[from..i].iter().map(|(_, c)| c).collect();
            tokens.push(Token {
                kind: TokenKind::Number(text),
                start,
                end: end_of(i),
            });
        } else if c.is_alphanumeric() || c == '_' || c == '$' {
            let from = i;
            while i < chars.len()
                && (chars[i].1.is_alphanumeric() || matches!(chars[i].1, '_' | '$'))
            {
                i += 1;
            }
            let text: String = chars[from..i].iter().map(|(_, c)| c).collect();
            tokens.push(Token {
                kind: TokenKind::Word(text),
                start,
                end: end_of(i),
            });
        } else {
            tokens.push(Token {
                kind: TokenKind::Punct(c),
                start,
                end: end_of(i + 1),
            });
            i += 1;
        }
    }
    tokens
}

// ---------------------------------------------------------------------------------------
// Determinism.

/// splitmix64: small, fast, and the same sequence for the same seed on every platform.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n` (0 for 0).
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }

    /// `true` `percent` times in a hundred.
    fn percent(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// FNV-1a: a stable hash of a table name, so each table has its own stream of values
/// whatever the order tables are filled in.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_is_the_published_sequence() {
        // The first outputs of splitmix64 seeded with 0, as in the reference implementation.
        let mut rng = Rng::new(0);
        assert_eq!(rng.next(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(rng.next(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn affinity_follows_sqlite_rules() {
        assert_eq!(Affinity::of("INTEGER"), Affinity::Integer);
        assert_eq!(Affinity::of("VARCHAR(20)"), Affinity::Text);
        assert_eq!(Affinity::of(""), Affinity::Blob);
        assert_eq!(Affinity::of("DOUBLE PRECISION"), Affinity::Real);
        assert_eq!(Affinity::of("DECIMAL(10,2)"), Affinity::Numeric);
        // SQLite's own quirk: "POINT" holds "INT".
        assert_eq!(Affinity::of("FLOATING POINT"), Affinity::Integer);
        assert_eq!(Affinity::of("DATETIME"), Affinity::Numeric);
    }

    #[test]
    fn timestamps_order_the_columns_of_a_row() {
        assert!(time_rank("created_at") < time_rank("updated_at"));
        assert!(time_rank("updated_at") < time_rank("revoked_at"));
        assert!(time_rank("revoked_at") < time_rank("expires_at"));
        assert_eq!(iso_date(EPOCH_2024), "2024-01-01T00:00:00.000Z");
        assert_eq!(
            iso_date(EPOCH_2024 + 60 * 86_400 + 61),
            "2024-03-01T00:01:01.000Z"
        );
        assert_eq!(
            parse_iso("2024-03-01T00:01:01.000Z"),
            Some(EPOCH_2024 + 60 * 86_400 + 61)
        );
    }

    #[test]
    fn named_checks_are_found_in_the_table_sql() {
        let sql = "CREATE TABLE t (a INT, CONSTRAINT a_positive CHECK (a > (0)), b TEXT)";
        assert_eq!(check_expression(sql, "a_positive"), "a > (0)");
        assert_eq!(check_expression(sql, "b <> ''"), "b <> ''");
    }

    #[test]
    fn literals_are_read_from_expressions() {
        let tokens = lex("status IN ('active', 'it''s') AND version >= 1 AND x > 2.5");
        let found: Vec<String> = literals(&tokens).iter().map(literal).collect();
        assert_eq!(found, ["'active'", "'it''s'", "1", "-1", "2.5", "-2.5"]);
    }

    #[test]
    fn combinations_change_fewest_columns_first() {
        let combos = combinations(&[2, 3], 100);
        assert_eq!(combos[0], [0, 0]);
        assert_eq!(&combos[1..4], [[1, 0], [0, 1], [0, 2]]);
        assert_eq!(combos.len(), 6);
    }

    #[test]
    fn literals_round_trip_through_sqlite() -> rusqlite::Result<()> {
        let conn = Connection::open_in_memory()?;
        for value in [
            Value::Integer(i64::MIN),
            Value::Integer(i64::MAX),
            Value::Real(1e300),
            Value::Real(-1e-300),
            Value::Real(0.1 + 0.2),
            Value::Text(QUOTES.to_owned()),
            Value::Text(UNICODE.to_owned()),
            Value::Blob(vec![0, 0xff]),
            Value::Null,
        ] {
            let back: Value =
                conn.query_row(&format!("SELECT {}", literal(&value)), [], |r| r.get(0))?;
            assert_eq!(back, value);
        }
        Ok(())
    }
}
