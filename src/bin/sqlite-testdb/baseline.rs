//! Baselines: `check --write-baseline FILE` records today's findings, `check --baseline FILE`
//! fails only on findings not in it. A finding is known by its code, its migration and what
//! it is about (table, column, object or file), never by its wording or line, which drift.
//!
//! The file is JSON:
//!
//! ```json
//! { "sqlite-testdb-baseline": 1,
//!   "findings": [ { "code": "rows-lost", "migration": "V21__units", "subject": "units.qu_id" } ] }
//! ```

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Value, json};

use crate::annotation::Annotation;
use crate::failure::Failure;

/// What identifies a finding across runs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Key {
    pub(crate) code: String,
    pub(crate) migration: Option<String>,
    pub(crate) subject: Option<String>,
}

impl Key {
    pub(crate) fn of(a: &Annotation) -> Key {
        Key {
            code: a.code.clone(),
            migration: a.migration.clone(),
            subject: a.subject.clone(),
        }
    }

    fn json(&self) -> Value {
        json!({ "code": self.code, "migration": self.migration, "subject": self.subject })
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.code)?;
        if let Some(m) = &self.migration {
            write!(f, " at {m}")?;
        }
        if let Some(s) = &self.subject {
            write!(f, " ({s})")?;
        }
        Ok(())
    }
}

/// Writes the keys of `findings` to `path`, sorted, each once; returns how many.
pub(crate) fn write(path: &Path, findings: &[Annotation]) -> Result<usize, Failure> {
    let keys: BTreeSet<Key> = findings.iter().map(Key::of).collect();
    let document = json!({
        "sqlite-testdb-baseline": 1,
        "findings": keys.iter().map(Key::json).collect::<Vec<_>>(),
    });
    let text = serde_json::to_string_pretty(&document).unwrap_or_default();
    std::fs::write(path, format!("{text}\n")).map_err(|e| {
        Failure::InputText(format!(
            "cannot write baseline file {}: {e}",
            path.display()
        ))
    })?;
    Ok(keys.len())
}

/// The keys recorded in the baseline file `path`.
pub(crate) fn read(path: &Path) -> Result<BTreeSet<Key>, Failure> {
    let bad = |why: String| {
        Failure::InputText(format!(
            "bad baseline file {}: {why} (write one with check --write-baseline)",
            path.display()
        ))
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let document: Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let list = document
        .get("findings")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no `findings` list".to_owned()))?;
    let text_of =
        |entry: &Value, field: &str| entry.get(field).and_then(Value::as_str).map(str::to_owned);
    list.iter()
        .map(|entry| {
            Ok(Key {
                code: text_of(entry, "code")
                    .ok_or_else(|| bad(format!("an entry without a `code`: {entry}")))?,
                migration: text_of(entry, "migration"),
                subject: text_of(entry, "subject"),
            })
        })
        .collect()
}
