//! What a migration step changed, classified from the schemas before and after it
//! ([`Shape`]s), so that SQLite's table rebuild (create a new table, copy, drop the old,
//! rename the new) reads as what it does: the same table, less whatever the new one lacks.
//!
//! The step's SQL text is read for two things only: which indexes, triggers and views it
//! drops by name (those are not *lost*), and `RENAME COLUMN`, which names a rename outright.

mod text;

use std::collections::BTreeMap;

use super::shape::{Column, ForeignKey, Object, ObjectKind, Shape, Table};
use crate::report::Check;
use text::{StepText, rename_words};

/// One classified change of a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Change {
    pub(crate) class: Check,
    /// The table, by its name before the step.
    pub(crate) table: String,
    pub(crate) column: Option<String>,
    /// The index, trigger, view, constraint or new name concerned.
    pub(crate) object: Option<String>,
    /// One line: what changed, naming it.
    pub(crate) detail: String,
}

/// A rename the schemas suggest, for [`changes_confirmed`] to confirm with rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rename<'a> {
    Table {
        old: &'a str,
        new: &'a str,
    },
    Column {
        table: &'a str,
        old: &'a str,
        new: &'a str,
    },
}

/// The changes from `before` to `after` of the step whose SQL is `up_sql`; empty for a step
/// that only adds (a table, an index, a nullable column) or rebuilds a table faithfully.
pub(crate) fn changes(before: &Shape, after: &Shape, up_sql: &str) -> Vec<Change> {
    changes_confirmed(before, after, up_sql, &|_| None)
}

/// [`changes`], with each rename the schemas suggest put to `confirm`: `Some(false)` (the
/// values differ, say) makes it a drop and an add, `Some(true)` or `None` keeps the rename.
pub(crate) fn changes_confirmed(
    before: &Shape,
    after: &Shape,
    up_sql: &str,
    confirm: &dyn Fn(Rename<'_>) -> Option<bool>,
) -> Vec<Change> {
    let text = StepText::read(up_sql);
    let mut found = Vec::new();
    // Tables: kept (same name), renamed (gone, and a new one with the same columns), dropped.
    let mut pairs: Vec<(&Table, &Table)> = Vec::new();
    let mut table_renames: BTreeMap<&str, &str> = BTreeMap::new();
    let mut taken: Vec<&str> = Vec::new();
    for old in &before.tables {
        if let Some(same) = after.table(&old.name) {
            pairs.push((old, same));
            continue;
        }
        let renamed = after.tables.iter().find(|new| {
            before.table(&new.name).is_none()
                && !taken.contains(&new.name.as_str())
                && same_columns(old, new)
                && confirm(Rename::Table {
                    old: &old.name,
                    new: &new.name,
                }) != Some(false)
        });
        match renamed {
            Some(new) => {
                taken.push(&new.name);
                table_renames.insert(&old.name, &new.name);
                pairs.push((old, new));
                found.push(Change {
                    class: Check::TableRenamed,
                    table: old.name.clone(),
                    column: None,
                    object: Some(new.name.clone()),
                    detail: format!("table `{}` is renamed to `{}`", old.name, new.name),
                });
            }
            None => found.push(Change {
                class: Check::TableDropped,
                table: old.name.clone(),
                column: None,
                object: None,
                detail: format!("table `{}` is dropped", old.name),
            }),
        }
    }
    // Columns: renames first, for every table, as references and constraints follow them.
    let column_renames: BTreeMap<&str, Vec<(&str, &str)>> = pairs
        .iter()
        .map(|(old, new)| (old.name.as_str(), renamed_columns(old, new, &text, confirm)))
        .collect();
    let context = Context {
        before,
        after,
        table_renames: &table_renames,
        column_renames: &column_renames,
    };
    for (old, new) in &pairs {
        // The same CREATE TABLE says the same, unless a table it references has moved.
        let unchanged = old.create == new.create
            && old
                .foreign_keys
                .iter()
                .all(|k| !table_renames.contains_key(k.table.as_str()));
        if !unchanged {
            context.compare(old, new, &mut found);
        }
    }
    context.objects(&text, &mut found);
    found
}

/// Same column names and declared types, in the same order.
fn same_columns(a: &Table, b: &Table) -> bool {
    a.columns.len() == b.columns.len()
        && a.columns
            .iter()
            .zip(&b.columns)
            .all(|(x, y)| x.name == y.name && x.declared == y.declared)
}

/// The columns of `old` renamed in `new`: named by `RENAME COLUMN` in the step, or gone
/// from one place and a new column of the same declared type in that place.
fn renamed_columns<'a>(
    old: &'a Table,
    new: &'a Table,
    text: &StepText,
    confirm: &dyn Fn(Rename<'_>) -> Option<bool>,
) -> Vec<(&'a str, &'a str)> {
    let gone: Vec<(usize, &Column)> = old
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| new.column(&c.name).is_none())
        .collect();
    let added: Vec<(usize, &Column)> = new
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| old.column(&c.name).is_none())
        .collect();
    let mut renames = Vec::new();
    for (at, column) in gone {
        let by_text = text
            .column_renames
            .iter()
            .filter(|(from, _)| *from == column.name)
            .find_map(|(_, to)| added.iter().find(|(_, c)| c.name == *to));
        let in_place = added
            .iter()
            .find(|(place, c)| *place == at && c.declared == column.declared);
        if let Some((_, to)) = by_text.or(in_place) {
            let rename = Rename::Column {
                table: &old.name,
                old: &column.name,
                new: &to.name,
            };
            if confirm(rename) != Some(false) {
                renames.push((column.name.as_str(), to.name.as_str()));
            }
        }
    }
    renames
}

/// The two shapes and the renames found between them.
struct Context<'a> {
    before: &'a Shape,
    after: &'a Shape,
    table_renames: &'a BTreeMap<&'a str, &'a str>,
    column_renames: &'a BTreeMap<&'a str, Vec<(&'a str, &'a str)>>,
}

impl Context<'_> {
    /// The name after the step of column `column` of `table` (names before it); `None`
    /// when the column is gone.
    fn column_after(&self, table: &str, column: &str) -> Option<String> {
        let renamed = self
            .column_renames
            .get(table)
            .and_then(|r| r.iter().find(|(old, _)| *old == column))
            .map(|(_, new)| (*new).to_owned());
        let new_table = self.table_after(table)?;
        let name = renamed.unwrap_or_else(|| column.to_owned());
        new_table.column(&name).map(|_| name)
    }

    /// The table `table` (its name before the step) is after it, if it is still there.
    fn table_after(&self, table: &str) -> Option<&Table> {
        let name = self.table_renames.get(table).copied().unwrap_or(table);
        self.after.table(name)
    }

    fn compare(&self, old: &Table, new: &Table, found: &mut Vec<Change>) {
        let t = &old.name;
        let change = |class, column: Option<&str>, object: Option<String>, detail: String| Change {
            class,
            table: t.clone(),
            column: column.map(str::to_owned),
            object,
            detail,
        };
        let renames = self
            .column_renames
            .get(t.as_str())
            .cloned()
            .unwrap_or_default();
        for (from, to) in &renames {
            found.push(change(
                Check::ColumnRenamed,
                Some(from),
                Some((*to).to_owned()),
                format!("column `{t}.{from}` is renamed to `{to}`"),
            ));
        }
        for column in &old.columns {
            let Some(name) = self.column_after(t, &column.name) else {
                found.push(change(
                    Check::ColumnDropped,
                    Some(&column.name),
                    None,
                    format!("column `{t}.{}` is dropped", column.name),
                ));
                continue;
            };
            let Some(now) = new.column(&name) else {
                continue;
            };
            let c = &column.name;
            if column.declared != now.declared || column.affinity != now.affinity {
                found.push(change(
                    Check::ColumnTypeChanged,
                    Some(c),
                    None,
                    format!(
                        "column `{t}.{c}` was declared {} (affinity {}), now {} (affinity {})",
                        declared(column),
                        column.affinity,
                        declared(now),
                        now.affinity
                    ),
                ));
            }
            let mut lost = |what: &str, detail: String| {
                found.push(change(
                    Check::ConstraintDropped,
                    Some(c),
                    Some(what.to_owned()),
                    detail,
                ));
            };
            if column.not_null && !now.not_null && !now.generated {
                lost("not null", format!("NOT NULL of column `{t}.{c}` is gone"));
            }
            if let (Some(default), None) = (&column.default, &now.default) {
                lost(
                    "default",
                    format!("DEFAULT {default} of column `{t}.{c}` is gone"),
                );
            }
            if column.primary_key > 0 && now.primary_key == 0 {
                lost(
                    "primary key",
                    format!("column `{t}.{c}` is no longer in the PRIMARY KEY"),
                );
            }
        }
        self.uniques(old, new, found);
        self.checks(old, new, found);
        self.foreign_keys(old, new, found);
    }

    fn uniques(&self, old: &Table, new: &Table, found: &mut Vec<Change>) {
        let t = &old.name;
        for unique in &old.uniques {
            let Some(now) = unique
                .iter()
                .map(|c| self.column_after(t, c))
                .collect::<Option<Vec<String>>>()
            else {
                continue; // a column of it is dropped: reported as such
            };
            let suffix = format!(" on {}({})", new.name, now.join(", "));
            let kept = new.uniques.contains(&now)
                || primary_key(new) == now
                || self
                    .after
                    .objects
                    .iter()
                    .any(|o| o.unique && o.sql.ends_with(&suffix));
            if !kept {
                found.push(Change {
                    class: Check::ConstraintDropped,
                    table: t.clone(),
                    column: (unique.len() == 1).then(|| unique[0].clone()),
                    object: Some("unique".to_owned()),
                    detail: format!("UNIQUE ({}) of table `{t}` is gone", unique.join(", ")),
                });
            }
        }
    }

    fn checks(&self, old: &Table, new: &Table, found: &mut Vec<Change>) {
        let t = &old.name;
        let renames: Vec<(&str, &str)> = self
            .column_renames
            .get(t.as_str())
            .cloned()
            .unwrap_or_default();
        let dropped: Vec<&str> = old
            .columns
            .iter()
            .filter(|c| self.column_after(t, &c.name).is_none())
            .map(|c| c.name.as_str())
            .collect();
        for check in &old.checks {
            let (now, mentions_dropped) = rename_words(check, &renames, &dropped);
            if !mentions_dropped && !new.checks.contains(&now) {
                found.push(Change {
                    class: Check::ConstraintDropped,
                    table: t.clone(),
                    column: None,
                    object: Some("check".to_owned()),
                    detail: format!("{} of table `{t}` is gone", check_text(check)),
                });
            }
        }
    }

    fn foreign_keys(&self, old: &Table, new: &Table, found: &mut Vec<Change>) {
        let t = &old.name;
        for key in &old.foreign_keys {
            let Some(columns) = key
                .columns
                .iter()
                .map(|c| self.column_after(t, c))
                .collect::<Option<Vec<String>>>()
            else {
                continue; // a column of it is dropped: reported as such
            };
            let parent = self.table_renames.get(key.table.as_str()).copied();
            let parent = parent.unwrap_or(&key.table);
            let to: Vec<String> = referenced(self.before, key)
                .iter()
                .map(|c| {
                    self.column_after(&key.table, c)
                        .unwrap_or_else(|| c.clone())
                })
                .collect();
            let same_reference = |k: &&ForeignKey| {
                k.columns == columns && k.table == parent && referenced(self.after, k) == to
            };
            // A reference to a table that exists neither before nor after the step enforced
            // nothing: repointing or dropping it loses nothing.
            if self.before.table(&key.table).is_none() && self.after.table(parent).is_none() {
                continue;
            }
            let same_actions =
                |k: &ForeignKey| k.on_delete == key.on_delete && k.on_update == key.on_update;
            // A table may declare the same reference twice: any one kept as it was will do.
            if new
                .foreign_keys
                .iter()
                .any(|k| same_reference(&k) && same_actions(k))
            {
                continue;
            }
            let from = format!("`{t}({})`", key.columns.join(", "));
            let detail = match new.foreign_keys.iter().find(same_reference) {
                Some(now) => {
                    let mut changed = Vec::new();
                    if now.on_delete != key.on_delete {
                        changed.push(format!(
                            "ON DELETE {} became {}",
                            key.on_delete, now.on_delete
                        ));
                    }
                    if now.on_update != key.on_update {
                        changed.push(format!(
                            "ON UPDATE {} became {}",
                            key.on_update, now.on_update
                        ));
                    }
                    format!(
                        "reference {from} to `{}`: {}",
                        key.table,
                        changed.join(", ")
                    )
                }
                None if parent != key.table
                    && new
                        .foreign_keys
                        .iter()
                        .any(|k| k.columns == columns && k.table == key.table) =>
                {
                    format!(
                        "{from} still references `{}`, which is gone (now `{parent}`)",
                        key.table
                    )
                }
                None => format!("{from} no longer references `{}`", key.table),
            };
            found.push(Change {
                class: Check::ForeignKeyDropped,
                table: t.clone(),
                column: (key.columns.len() == 1).then(|| key.columns[0].clone()),
                object: Some(key.table.clone()),
                detail,
            });
        }
    }

    /// Indexes, triggers and views that are gone: dropped by name (nothing to say, unless a
    /// UNIQUE index), with their table (said already), or lost.
    fn objects(&self, text: &StepText, found: &mut Vec<Change>) {
        for object in &self.before.objects {
            if self.after.object(&object.name).is_some() {
                continue;
            }
            let table = object.tables.first().cloned().unwrap_or_default();
            let kind = object.kind.as_str();
            let name = &object.name;
            if text.drops(object.kind, name) {
                if object.unique {
                    found.push(Change {
                        class: Check::ConstraintDropped,
                        table,
                        column: None,
                        object: Some(name.clone()),
                        detail: format!("UNIQUE index `{name}` is dropped: {}", object.sql),
                    });
                }
                continue;
            }
            let kept_tables: Vec<&str> = object
                .tables
                .iter()
                .filter(|t| self.table_after(t).is_some())
                .map(String::as_str)
                .collect();
            if kept_tables.is_empty() || self.recreated(object) || self.column_gone(object) {
                continue;
            }
            found.push(Change {
                class: Check::RebuildLostObject,
                table: kept_tables[0].to_owned(),
                column: None,
                object: Some(name.clone()),
                detail: format!(
                    "{kind} `{name}` on `{}` is gone, yet the migration has no DROP {} {name}: \
                     the table was dropped and recreated without it",
                    kept_tables.join("`, `"),
                    kind.to_uppercase()
                ),
            });
        }
    }

    /// Whether an object like `object` exists after the step under another name.
    fn recreated(&self, object: &Object) -> bool {
        let renames: Vec<(&str, &str)> = self
            .table_renames
            .iter()
            .map(|(a, b)| (*a, *b))
            .chain([(object.name.as_str(), "?")])
            .collect();
        let (wanted, _) = rename_words(&object.sql, &renames, &[]);
        self.after.objects.iter().any(|o| {
            o.kind == object.kind
                && rename_words(&o.sql, &[(o.name.as_str(), "?")], &[]).0 == wanted
        })
    }

    /// Whether `object` is an index on a column that is gone (the loss of the column says it).
    fn column_gone(&self, object: &Object) -> bool {
        if object.kind != ObjectKind::Index {
            return false;
        }
        let Some(table) = object.tables.first().and_then(|t| self.before.table(t)) else {
            return false;
        };
        let dropped: Vec<&str> = table
            .columns
            .iter()
            .filter(|c| self.column_after(&table.name, &c.name).is_none())
            .map(|c| c.name.as_str())
            .collect();
        rename_words(&object.sql, &[], &dropped).1
    }
}

/// The primary key's columns, in key order.
fn primary_key(table: &Table) -> Vec<String> {
    let mut key: Vec<&Column> = table.columns.iter().filter(|c| c.primary_key > 0).collect();
    key.sort_by_key(|c| c.primary_key);
    key.into_iter().map(|c| c.name.clone()).collect()
}

/// The columns `key` references: as written, or the parent's primary key.
fn referenced(shape: &Shape, key: &ForeignKey) -> Vec<String> {
    if !key.to.is_empty() {
        return key.to.clone();
    }
    shape.table(&key.table).map(primary_key).unwrap_or_default()
}

/// A column's declared type for a message.
fn declared(column: &Column) -> String {
    if column.declared.is_empty() {
        "without a type".to_owned()
    } else {
        format!("`{}`", column.declared)
    }
}

/// A normalized `check(…)` with its keyword in capitals, as people write it.
fn check_text(check: &str) -> String {
    match check.strip_prefix("check") {
        Some(rest) => format!("CHECK {rest}"),
        None => check.to_owned(),
    }
}

#[cfg(test)]
mod tests;
