//! What the command prints: text on stdout, JSON documents, a progress line on stderr.

use std::error::Error as StdError;
use std::io::{self, IsTerminal, Write};
use std::path::Path;

use serde_json::{Value, json};
use sqlite_testdb::replay::{Down, Finding, FindingKind, ReplayReport};
use sqlite_testdb::{Migrations, Schema, SchemaObject, Version};

/// The report of `check` as JSON: every migration with what became of it, and every
/// finding.
pub(crate) fn report_json(
    migrations: &Migrations,
    report: &ReplayReport,
    expect_hint: &dyn Fn(&Finding) -> Option<String>,
) -> Value {
    let steps: Vec<Value> = report
        .steps()
        .iter()
        .map(|s| {
            let down = match s.down() {
                Down::Reverses => "reverses",
                Down::Missing => "missing",
                Down::Irreversible => "irreversible",
                Down::Fails => "fails",
                Down::NotChecked => "not_checked",
                _ => "unknown",
            };
            let checks: Vec<&str> = s
                .findings()
                .iter()
                .map(|f| f.check().wording(f.kind()))
                .collect();
            json!({
                "version": s.version(),
                "migration": s.migration(),
                "file": s.file().map(path_text),
                "down": down,
                "checked": s.checked(),
                "findings": checks,
            })
        })
        .collect();
    let findings: Vec<Value> = report
        .findings()
        .iter()
        .map(|f| finding_json(f, expect_hint(f)))
        .collect();
    let mut document = json!({
        "ok": report.passed(),
        "dir": migrations.dir().map(path_text),
        "migrations": steps,
        "without_down_script": report.without_down_script(),
        "irreversible": report.irreversible(),
        "findings": findings,
        "summary": report.summary(),
    });
    if !report.passed() {
        document["exit_code"] = json!(1);
        document["error"] = json!({ "kind": "findings", "message": report.summary() });
    }
    document
}

/// One finding as JSON.
fn finding_json(finding: &Finding, hint: Option<String>) -> Value {
    let kind = match finding.kind() {
        FindingKind::Schema => "replay",
        FindingKind::Data => "replay_data",
        FindingKind::Upgrade => "upgrade",
        _ => "unknown",
    };
    json!({
        "kind": kind,
        "version": finding.version(),
        "migration": finding.migration(),
        "file": finding.file().map(path_text),
        "check": finding.check().wording(finding.kind()),
        "code": finding.check().code(),
        "line": finding.line(),
        "acknowledged": finding.acknowledged(),
        "fails": finding.fails(),
        "table": finding.table(),
        "column": finding.column(),
        "detail": finding.detail(),
        "script": finding.script().map(path_text),
        "lost_data": finding.lost_data(),
        "hint": hint,
        "message": finding.render(None),
    })
}

pub(crate) fn object_json(object: &SchemaObject) -> Value {
    json!({
        "kind": object.kind(),
        "name": object.name(),
        "table": object.table(),
        "sql": object.sql(),
    })
}

/// The diff as JSON: the text, and the objects added, removed and changed.
pub(crate) fn diff_json(from: Version, to: Version, a: &Schema, b: &Schema, diff: &str) -> Value {
    let find = |schema: &Schema, o: &SchemaObject| {
        schema
            .objects()
            .iter()
            .find(|x| x.kind() == o.kind() && x.name() == o.name())
            .cloned()
    };
    let removed: Vec<Value> = a
        .objects()
        .iter()
        .filter(|o| find(b, o).is_none())
        .map(object_json)
        .collect();
    let added: Vec<Value> = b
        .objects()
        .iter()
        .filter(|o| find(a, o).is_none())
        .map(object_json)
        .collect();
    let changed: Vec<Value> = a
        .objects()
        .iter()
        .filter_map(|o| {
            let other = find(b, o)?;
            (other.sql() != o.sql()).then(|| {
                json!({
                    "kind": o.kind(),
                    "name": o.name(),
                    "table": other.table(),
                    "from_sql": o.sql(),
                    "to_sql": other.sql(),
                })
            })
        })
        .collect();
    json!({
        "from": from,
        "to": to,
        "diff": diff,
        "added": added,
        "removed": removed,
        "changed": changed,
    })
}

pub(crate) fn path_text(path: &Path) -> String {
    path.display().to_string()
}

/// refinery's or SQLite's error (the source of ours) with every source below it that adds
/// something: [`Error::with_causes`] for an error that is not ours.
pub(crate) fn chain(error: &dyn StdError) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let message = cause.to_string();
        if !text.contains(&message) {
            text.push_str("\ncaused by: ");
            text.push_str(&message);
        }
        source = cause.source();
    }
    text
}

/// Writes to stdout; a closed pipe (`| head`) is not an error worth a panic.
pub(crate) fn print_text(text: &str) {
    let mut out = io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

pub(crate) fn print_json(value: &Value) {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("\"{e}\""));
    print_text(&format!("{text}\n"));
}

/// One line on stderr, rewritten in place; only when stderr is a terminal.
/// Shown only when stderr is a terminal, and only once the work has taken a second: quick
/// runs print nothing but their result.
pub(crate) struct ProgressLine {
    enabled: bool,
    width: usize,
    started: std::time::Instant,
}

impl ProgressLine {
    /// Longest line shown: a long migration name must not wrap, or `\r` cannot rewrite it.
    const MAX: usize = 76;

    pub(crate) fn new() -> Self {
        ProgressLine {
            enabled: io::stderr().is_terminal(),
            width: 0,
            started: std::time::Instant::now(),
        }
    }

    pub(crate) fn show(&mut self, text: &str) {
        if !self.enabled || self.started.elapsed() < std::time::Duration::from_secs(1) {
            return;
        }
        let text: String = text.chars().take(Self::MAX).collect();
        let len = text.chars().count();
        let pad = self.width.saturating_sub(len);
        let mut err = io::stderr().lock();
        let _ = write!(err, "\r{text}{:pad$}", "").and_then(|()| err.flush());
        self.width = len;
    }

    pub(crate) fn clear(&mut self) {
        if self.enabled && self.width > 0 {
            let mut err = io::stderr().lock();
            let _ = write!(err, "\r{:w$}\r", "", w = self.width).and_then(|()| err.flush());
            self.width = 0;
        }
    }
}

impl Drop for ProgressLine {
    fn drop(&mut self) {
        self.clear();
    }
}
