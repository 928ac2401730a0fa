//! SQLite release numbers as a project declares its minimum (`min-sqlite = "3.31"`) and as
//! features need them.

use std::fmt;

/// A SQLite release, `3.31` or `3.31.1`; ordered as releases are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct SqliteVersion {
    pub(crate) major: u32,
    pub(crate) minor: u32,
    pub(crate) patch: u32,
}

impl SqliteVersion {
    pub(crate) const fn new(major: u32, minor: u32, patch: u32) -> SqliteVersion {
        SqliteVersion {
            major,
            minor,
            patch,
        }
    }

    /// `3.31` or `3.31.1` (surrounding blanks allowed); anything else is an error whose
    /// text names what was given.
    pub(crate) fn parse(text: &str) -> Result<SqliteVersion, String> {
        let bad =
            || format!("`{text}` is not a SQLite version: expected e.g. \"3.31\" or \"3.31.1\"");
        let parts: Vec<&str> = text.trim().split('.').collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(bad());
        }
        let mut numbers = [0u32; 3];
        for (slot, part) in numbers.iter_mut().zip(&parts) {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            *slot = part.parse().map_err(|_| bad())?;
        }
        if numbers[0] != 3 {
            return Err(bad());
        }
        Ok(SqliteVersion::new(numbers[0], numbers[1], numbers[2]))
    }
}

impl fmt::Display for SqliteVersion {
    /// `3.35.0` as SQLite writes its releases.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

#[cfg(test)]
mod tests {
    use super::SqliteVersion;

    #[test]
    fn two_and_three_part_versions_parse_and_order_as_releases() {
        let v = |t: &str| SqliteVersion::parse(t);
        assert_eq!(v("3.31"), Ok(SqliteVersion::new(3, 31, 0)));
        assert_eq!(v(" 3.31.1 "), Ok(SqliteVersion::new(3, 31, 1)));
        assert!(v("3.9").ok() < v("3.31").ok());
        assert!(v("3.31").ok() < v("3.31.1").ok());
        assert_eq!(SqliteVersion::new(3, 35, 0).to_string(), "3.35.0");
    }

    #[test]
    fn other_texts_are_refused_with_the_text_named() {
        for bad in ["", "3", "3.", "3.x", "3.31.1.2", "4.0", "v3.31", "3.-1"] {
            let err = SqliteVersion::parse(bad).err().unwrap_or_default();
            assert!(err.contains(&format!("`{bad}`")), "{bad}: {err}");
        }
    }
}
