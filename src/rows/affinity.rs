//! SQLite's column affinity, from the declared type, and how a column of each affinity
//! stores a value.

use rusqlite::types::Value;

use crate::sql::literal::real_literal;

/// SQLite's column affinity, from the declared type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Affinity {
    Integer,
    Text,
    Blob,
    Real,
    Numeric,
}

impl Affinity {
    /// The rules of SQLite's "Determination Of Column Affinity" (and `ANY` of STRICT
    /// tables, which stores values as given).
    pub(crate) fn of(declared: &str) -> Affinity {
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
    pub(crate) fn apply(self, value: Value) -> Value {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
