//! Values and names as SQL text: literals (`NULL`, `42`, `1.5`, `'it''s'`, `X'00FF'`),
//! quoted identifiers, and the shortened one-line form failure messages show values in.

use std::fmt::Write as _;

use rusqlite::types::{Value, ValueRef};

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

pub(crate) fn real_literal(r: f64) -> String {
    if r.is_nan() {
        "NULL".to_owned()
    } else if r.is_infinite() {
        if r > 0.0 { "1e999" } else { "-1e999" }.to_owned()
    } else {
        format!("{r:?}")
    }
}

pub(crate) fn text_literal(text: &str) -> String {
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

pub(crate) fn type_tag(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Integer(_) => "int",
        Value::Real(_) => "real",
        Value::Text(_) => "text",
        Value::Blob(_) => "blob",
    }
}

/// A value as a SQL literal on one line, long texts and blobs shortened:
/// `'lorem ipsum…' (2160 chars)`, `'a' || char(10) || 'b'`.
pub(crate) fn shown(value: ValueRef<'_>) -> String {
    match value {
        ValueRef::Text(bytes) => {
            let text = String::from_utf8_lossy(bytes);
            let chars = text.chars().count();
            if chars > 40 {
                let head: String = text.chars().take(24).collect();
                format!(
                    "{}…' ({chars} chars)",
                    one_line(&head).trim_end_matches('\'')
                )
            } else {
                one_line(&text)
            }
        }
        ValueRef::Blob(bytes) if bytes.len() > 16 => {
            let head = literal_ref(ValueRef::Blob(&bytes[..8]));
            format!("{}…' ({} bytes)", head.trim_end_matches('\''), bytes.len())
        }
        other => literal_ref(other),
    }
}

/// A text literal with its control characters as `char(n)`, so it stays on one line.
fn one_line(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text_literal(text);
    }
    let mut parts: Vec<String> = Vec::new();
    let mut run = String::new();
    for c in text.chars() {
        if c.is_control() {
            if !run.is_empty() {
                parts.push(text_literal(&std::mem::take(&mut run)));
            }
            parts.push(format!("char({})", u32::from(c)));
        } else {
            run.push(c);
        }
    }
    if !run.is_empty() {
        parts.push(text_literal(&run));
    }
    parts.join(" || ")
}

/// `name` as a quoted SQL identifier.
pub(crate) fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
