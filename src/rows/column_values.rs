//! The value a generated row puts in a column: a plain one most of the time, otherwise an
//! awkward but legal one (empty, unicode, very long, quoted, huge or negative, repeated).

use rusqlite::types::Value;

use super::affinity::Affinity;
use super::column_kind::Kind;
use super::rng::Rng;
use super::table::Column;
use super::timestamp::timestamp;

/// Text that repeats from row to row, for columns with no unique key.
const REPEATED: &str = "same";
pub(crate) const UNICODE: &str = "Zoë ünïcödé — 漢字 🦀 é\u{301}";
pub(crate) const QUOTES: &str = "it's \"quoted\"; -- not a comment";
const SPACES: &str = "  padded\ttab\nnew line  ";

/// A value for `column` in row `i`: plain most of the time, awkward but legal otherwise
/// (empty, unicode, very long, quotes, huge and negative numbers, repeats).
pub(crate) fn awkward(column: &Column, i: usize, distinct: bool, rng: &mut Rng) -> Value {
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
pub(crate) fn typical(column: &Column, n: usize, seed: u64) -> Value {
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

#[cfg(test)]
mod tests {
    use super::{QUOTES, UNICODE};
    use crate::sql::literal::literal;
    use rusqlite::Connection;
    use rusqlite::types::Value;

    /// The awkward values this module generates, and the other kinds of value, read back
    /// the same from their SQL literals.
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
