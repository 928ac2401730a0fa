//! Where in a script SQLite's error points: rusqlite writes an error at a token as
//! `<message> in <the rest of the script, from the failing statement> at offset <n>`,
//! which for a long migration is most of the file. This turns it into the line itself,
//! numbered in the file when the script is known.

/// `message` with every `… in <sql> at offset <n>` turned into `… at line L: <the line>`
/// (`script`, the whole script the SQL came from, numbers the lines from its start;
/// without it, they are the failing statement's). Other messages are returned unchanged.
pub(crate) fn pinpoint(message: &str, script: Option<&str>) -> String {
    const AT: &str = " at offset ";
    let Some(at) = message.rfind(AT) else {
        return message.to_owned();
    };
    let digits = message[at + AT.len()..]
        .bytes()
        .take_while(u8::is_ascii_digit)
        .count();
    let Ok(offset) = message[at + AT.len()..at + AT.len() + digits].parse::<usize>() else {
        return message.to_owned();
    };
    // The SQL starts after the first " in " that leaves enough text for the offset.
    let Some(start) = message[..at]
        .match_indices(" in ")
        .map(|(i, _)| i)
        .find(|&i| at - (i + 4) >= offset)
    else {
        return message.to_owned();
    };
    let failing = &message[start + 4..at];
    let Some(position) = Position::of(failing, offset, script) else {
        return message.to_owned();
    };
    format!(
        "{}{position}{}",
        &message[..start],
        &message[at + AT.len() + digits..]
    )
}

/// A line of a script, and where on it an error points.
struct Position {
    /// 1-based, in the whole script when it is known, else in the failing statement.
    line: usize,
    column: usize,
    text: String,
    in_script: bool,
}

impl Position {
    /// Byte `offset` of `failing`, which ends `script` when that is given.
    fn of(failing: &str, offset: usize, script: Option<&str>) -> Option<Position> {
        let (whole, offset, in_script) = match script {
            Some(script) if script.ends_with(failing) => {
                (script, script.len() - failing.len() + offset, true)
            }
            // The statement starts after the blank left by the one before it.
            _ => {
                let statement = failing.trim_start();
                let skipped = failing.len() - statement.len();
                (statement, offset.checked_sub(skipped)?, false)
            }
        };
        let before = whole.get(..offset)?;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let line_end = whole[offset..]
            .find('\n')
            .map_or(whole.len(), |i| offset + i);
        Some(Position {
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
            text: whole[line_start..line_end].trim_end().to_owned(),
            in_script,
        })
    }
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let of = if self.in_script {
            ""
        } else {
            " of the failing statement"
        };
        write!(
            f,
            " at line {}, column {}{of}: {}",
            self.line, self.column, self.text
        )
    }
}

#[cfg(test)]
mod tests {
    use super::pinpoint;

    const SCRIPT: &str = "CREATE TABLE a (id INTEGER PRIMARY KEY);\n\
                          CREATE TABLE b (id INTEGER PRIMARY KEY)\n\
                          CREATE TABLE c (id INTEGER);\n";

    /// What rusqlite writes for SQLite's error at `CREATE TABLE c`.
    fn rusqlite_message() -> String {
        let failing = &SCRIPT[40..];
        let offset = failing.find("CREATE TABLE c").unwrap_or_default();
        format!("near \"CREATE\": syntax error in {failing} at offset {offset}")
    }

    #[test]
    fn the_line_in_the_script_replaces_the_rest_of_the_script() {
        assert_eq!(
            pinpoint(&rusqlite_message(), Some(SCRIPT)),
            "near \"CREATE\": syntax error at line 3, column 1: CREATE TABLE c (id INTEGER);"
        );
    }

    #[test]
    fn without_the_script_the_line_is_the_failing_statements() {
        assert_eq!(
            pinpoint(&rusqlite_message(), None),
            "near \"CREATE\": syntax error at line 2, column 1 of the failing statement: \
             CREATE TABLE c (id INTEGER);"
        );
    }

    #[test]
    fn wrapped_messages_keep_their_wrapping() {
        let wrapped = format!("`error applying update`, `{}`", rusqlite_message());
        assert_eq!(
            pinpoint(&wrapped, Some(SCRIPT)),
            "`error applying update`, `near \"CREATE\": syntax error at line 3, column 1: \
             CREATE TABLE c (id INTEGER);`"
        );
    }

    #[test]
    fn other_messages_are_unchanged() {
        for message in [
            "no such table: tag",
            "UNIQUE constraint failed: users.email",
            "something in the way at offset x",
        ] {
            assert_eq!(pinpoint(message, None), message);
        }
    }
}
