//! The order tables are filled in: parents before the tables that reference them.

use std::collections::HashMap;

use super::table::Table;

/// Parents before children (Kahn's algorithm, ties by name). A cycle is broken at a table
/// whose parents not filled yet are all referenced through nullable columns (they get
/// `NULL`), else at the first table by name.
pub(crate) fn fill_order(tables: &[Table]) -> Vec<usize> {
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
                    // An implied reference may go without its parent: the column then keeps
                    // a value of its own.
                    let nullable = fk.implied
                        || fk.from.iter().all(|&c| {
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
