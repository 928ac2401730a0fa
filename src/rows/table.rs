//! The tables to fill, as SQLite's pragmas report them: each column's affinity, kind,
//! `NOT NULL`, default and key; the column sets of unique indexes; the foreign keys.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::Connection;

use super::affinity::Affinity;
use super::column_kind::Kind;
use super::implied::{Implied, implied};
use crate::migrations::history::HISTORY_TABLES;
use crate::sql::tokens::{TokenKind, lex};

/// A table to fill.
#[derive(Debug)]
pub(crate) struct Table {
    pub(crate) name: String,
    pub(crate) sql: String,
    pub(crate) without_rowid: bool,
    pub(crate) columns: Vec<Column>,
    pub(crate) foreign_keys: Vec<ForeignKey>,
    pub(crate) unique_sets: Vec<Vec<usize>>,
}

#[derive(Debug)]
pub(crate) struct Column {
    pub(crate) name: String,
    pub(crate) affinity: Affinity,
    pub(crate) not_null: bool,
    pub(crate) default: Option<String>,
    pub(crate) primary_key: bool,
    pub(crate) rowid_alias: bool,
    pub(crate) kind: Kind,
    pub(crate) position: usize,
    /// Its name says it references a table a later migration creates: `NULL` where allowed.
    pub(crate) references_later: bool,
}

#[derive(Debug)]
pub(crate) struct ForeignKey {
    pub(crate) parent: String,
    pub(crate) from: Vec<usize>,
    pub(crate) to: Vec<String>,
    /// Not declared: the column's name says it (see [`implied`](super::implied)).
    pub(crate) implied: bool,
}

/// What a table's columns are read against: the tables of the database and those a later
/// migration creates, lower case.
#[derive(Debug, Default)]
pub(crate) struct Context {
    pub(crate) tables: BTreeSet<String>,
    pub(crate) later: BTreeSet<String>,
}

/// The tables to fill, by name: not SQLite's own, not refinery's history, not virtual or
/// shadow tables.
///
/// Read from `sqlite_master`, not `pragma_table_list`, which prepares every view to count its
/// columns: slow in a schema of heavy views, and this runs at every step of a replay.
pub(crate) fn user_tables(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    conn.prepare_cached(
        "SELECT name FROM sqlite_master AS m WHERE type = 'table' \
         AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT IN (?1, ?2, ?3) \
         AND coalesce(sql, '') NOT LIKE 'CREATE VIRTUAL TABLE%' \
         AND NOT EXISTS (SELECT 1 FROM sqlite_master AS v WHERE v.type = 'table' \
             AND v.sql LIKE 'CREATE VIRTUAL TABLE%' AND lower(m.name) IN ( \
             lower(v.name) || '_content', lower(v.name) || '_segments', \
             lower(v.name) || '_segdir', lower(v.name) || '_docsize', \
             lower(v.name) || '_stat', lower(v.name) || '_data', lower(v.name) || '_idx', \
             lower(v.name) || '_config', lower(v.name) || '_node', \
             lower(v.name) || '_rowid', lower(v.name) || '_parent')) \
         ORDER BY name",
    )?
    .query_map(HISTORY_TABLES, |r| r.get(0))?
    .collect()
}

/// The ordinary columns of `table` (not generated, not hidden), in order.
pub(crate) fn ordinary_columns(conn: &Connection, table: &str) -> rusqlite::Result<Vec<String>> {
    conn.prepare_cached("SELECT name FROM pragma_table_xinfo(?1) WHERE hidden = 0 ORDER BY cid")?
        .query_map([table], |r| r.get(0))?
        .collect()
}

/// One table, as the pragmas report it, with the references its columns' names imply.
pub(crate) fn read_table(
    conn: &Connection,
    name: &str,
    context: &Context,
) -> rusqlite::Result<Table> {
    let sql: String = conn
        .prepare_cached(
            "SELECT coalesce(sql, '') FROM sqlite_master WHERE type = 'table' AND name = ?1",
        )?
        .query_row([name], |r| r.get(0))?;
    let without_rowid = is_without_rowid(&sql);
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
                references_later: false,
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
        foreign_keys.push(ForeignKey {
            parent,
            from,
            to,
            implied: false,
        });
    }
    // References the columns' names imply, for columns no declared one covers.
    for column in &mut columns {
        let position = column.position;
        let declared = foreign_keys.iter().any(|fk| fk.from.contains(&position));
        if declared || column.rowid_alias || column.primary_key {
            continue;
        }
        match implied(conn, name, &column.name, &context.tables, &context.later)? {
            Some(Implied::Table { parent, key }) => foreign_keys.push(ForeignKey {
                parent,
                from: vec![position],
                to: vec![key],
                implied: true,
            }),
            Some(Implied::Later) => column.references_later = true,
            None => {}
        }
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

/// Whether a `CREATE TABLE` statement ends in `WITHOUT ROWID` (outside its parentheses).
/// Read from the SQL: `pragma_table_list`, which says it too, prepares every view.
fn is_without_rowid(sql: &str) -> bool {
    let tokens = lex(sql);
    let mut depth = 0usize;
    tokens.iter().enumerate().any(|(i, t)| {
        match t.kind {
            TokenKind::Punct('(') => depth += 1,
            TokenKind::Punct(')') => depth = depth.saturating_sub(1),
            _ => {}
        }
        depth == 0
            && t.is_keyword("without")
            && tokens.get(i + 1).is_some_and(|n| n.is_keyword("rowid"))
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
