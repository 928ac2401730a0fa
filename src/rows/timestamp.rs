//! The timestamps and dates of generated rows: a day per row and, within a row, in the
//! order their names say (created before updated before expires), as ISO-8601 text or as
//! Unix seconds.

use rusqlite::types::Value;

use super::affinity::Affinity;
use super::column_kind::Kind;
use super::table::Column;

/// 2024-01-01T00:00:00Z.
const EPOCH_2024: i64 = 1_704_067_200;

/// Row `i`'s timestamp for a column of `rank`: a day per row, an hour per rank, a minute
/// per column position, `jitter` seconds. ISO-8601 text (`2024-01-01T00:00:00.000Z`), Unix
/// seconds for an INTEGER column, a date for a date column.
pub(crate) fn timestamp(column: &Column, i: usize, rank: u8, jitter: i64) -> Value {
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
pub(crate) fn shift_time(value: &Value, days: i64) -> Value {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::column_kind::time_rank;

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
}
