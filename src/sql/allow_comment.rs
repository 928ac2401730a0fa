//! Acknowledgements written in a migration file itself:
//!
//! ```sql
//! -- sqlite-testdb: allow column-dropped
//! ALTER TABLE users DROP COLUMN nick;
//! -- sqlite-testdb: allow table-dropped, foreign-key-dropped
//! ```
//!
//! Only `--` comments count (not text in strings, not block comments). Which codes exist is
//! the replay's to say; this reads codes of the right shape (kebab-case) with their line.

/// The marker a comment starts with, after `--` and blanks.
const MARKER: &str = "sqlite-testdb:";

/// One acknowledged code, at the 1-based line of its comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InlineAllow {
    pub(crate) code: String,
    pub(crate) line: usize,
}

/// A `-- sqlite-testdb:` comment that does not read as `allow <codes>`, with its line and
/// what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BadDirective {
    pub(crate) line: usize,
    pub(crate) message: String,
}

/// Every `-- sqlite-testdb: allow …` comment of `sql`: the codes it names (several, comma
/// or space separated), and the comments that start with the marker but do not read.
pub(crate) fn inline_allows(sql: &str) -> (Vec<InlineAllow>, Vec<BadDirective>) {
    let mut allows = Vec::new();
    let mut bad = Vec::new();
    for (line, comment) in line_comments(sql) {
        let Some(rest) = comment.trim_start().strip_prefix(MARKER) else {
            continue;
        };
        let rest = rest.trim();
        let codes = rest
            .strip_prefix("allow")
            .filter(|after| after.is_empty() || after.starts_with([' ', '\t', ',']));
        let Some(codes) = codes else {
            bad.push(BadDirective {
                line,
                message: format!(
                    "`-- {MARKER} {rest}` is not understood: expected `-- {MARKER} allow <code>, …`"
                ),
            });
            continue;
        };
        let codes: Vec<&str> = codes
            .split([',', ' ', '\t'])
            .filter(|c| !c.is_empty())
            .collect();
        if codes.is_empty() {
            bad.push(BadDirective {
                line,
                message: format!("`-- {MARKER} allow` names no code"),
            });
        }
        for code in codes {
            if is_code(code) {
                allows.push(InlineAllow {
                    code: code.to_owned(),
                    line,
                });
            } else {
                bad.push(BadDirective {
                    line,
                    message: format!(
                        "`{code}` is not a code: codes are kebab-case, e.g. column-dropped"
                    ),
                });
            }
        }
    }
    (allows, bad)
}

/// Whether `code` is kebab-case: lower-case words of letters and digits joined by `-`.
pub(crate) fn is_code(code: &str) -> bool {
    code.starts_with(|c: char| c.is_ascii_lowercase())
        && code.split('-').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// The text of every `--` comment of `sql` after its `--`, with its 1-based line.
fn line_comments(sql: &str) -> Vec<(usize, &str)> {
    let bytes = sql.as_bytes();
    let mut found = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => line += 1,
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                let end = sql[i..].find('\n').map_or(sql.len(), |n| i + n);
                found.push((line, &sql[i + 2..end]));
                i = end;
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let end = sql[i + 2..].find("*/").map_or(sql.len(), |n| i + 2 + n + 2);
                line += sql[i..end].matches('\n').count();
                i = end;
                continue;
            }
            open @ (b'\'' | b'"' | b'`' | b'[') => {
                let close = if open == b'[' { b']' } else { open };
                let end = bytes[i + 1..]
                    .iter()
                    .position(|&b| b == close)
                    .map_or(sql.len(), |n| i + 1 + n + 1);
                // A doubled quote inside is two strings back to back: same lines either way.
                line += sql[i..end].matches('\n').count();
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(sql: &str) -> Vec<(String, usize)> {
        inline_allows(sql)
            .0
            .into_iter()
            .map(|a| (a.code, a.line))
            .collect()
    }

    #[test]
    fn codes_are_read_with_their_line_comma_or_space_separated() {
        let sql = "-- sqlite-testdb: allow column-dropped\n\
                   ALTER TABLE users DROP COLUMN nick; --sqlite-testdb:allow table-dropped,foreign-key-dropped\n\
                   \n\
                   --   sqlite-testdb: allow  constraint-dropped rebuild-lost-object ,\n";
        assert_eq!(
            codes(sql),
            [
                ("column-dropped".to_owned(), 1),
                ("table-dropped".to_owned(), 2),
                ("foreign-key-dropped".to_owned(), 2),
                ("constraint-dropped".to_owned(), 4),
                ("rebuild-lost-object".to_owned(), 4),
            ]
        );
        assert!(inline_allows(sql).1.is_empty());
    }

    #[test]
    fn text_in_strings_and_block_comments_and_other_comments_is_not_read() {
        let sql = "INSERT INTO notes VALUES ('-- sqlite-testdb: allow table-dropped');\n\
                   /* -- sqlite-testdb: allow column-dropped\n */\n\
                   -- an ordinary comment: allow column-dropped\n\
                   SELECT 1; -- sqlite-testdb: allow column-renamed\n";
        assert_eq!(codes(sql), [("column-renamed".to_owned(), 5)]);
    }

    #[test]
    fn comments_with_the_marker_that_do_not_read_are_reported_at_their_line() {
        let sql = "SELECT 1;\n-- sqlite-testdb: allw column-dropped\n\
                   -- sqlite-testdb: allow\n-- sqlite-testdb: allow Column_Dropped\n\
                   -- sqlite-testdb: allowcolumn-dropped\n";
        let (allows, bad) = inline_allows(sql);
        assert!(allows.is_empty(), "{allows:?}");
        let lines: Vec<usize> = bad.iter().map(|b| b.line).collect();
        assert_eq!(lines, [2, 3, 4, 5]);
        assert!(bad[0].message.contains("allw column-dropped"));
        assert!(bad[2].message.contains("`Column_Dropped` is not a code"));
    }

    #[test]
    fn codes_are_kebab_case() {
        for good in ["table-dropped", "must-apply", "x1-y2"] {
            assert!(is_code(good), "{good}");
        }
        for bad in ["", "-x", "x-", "a--b", "Table-dropped", "a_b", "1-a"] {
            assert!(!is_code(bad), "{bad}");
        }
    }
}
