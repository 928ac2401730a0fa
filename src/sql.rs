//! Just enough of a SQL lexer to compare statements as a person would and to tell a script
//! with statements from one of only comments.

/// One token of SQL text, as far as normalizing needs to know.
#[derive(Debug, PartialEq)]
enum Token {
    /// A word, number or unquoted name, in lower case.
    Word(String),
    /// A string literal, exactly as written.
    Literal(String),
    /// Punctuation or an operator.
    Punct(String),
}

/// Normalizes a `CREATE` statement: comments dropped, whitespace collapsed, names
/// unquoted where they are plain words, everything but string literals in lower case.
pub(crate) fn normalize(sql: &str) -> String {
    let tokens = tokenize(sql);
    let mut out = String::with_capacity(sql.len());
    let mut previous: Option<&Token> = None;
    for token in &tokens {
        let text = match token {
            Token::Word(w) | Token::Literal(w) | Token::Punct(w) => w.as_str(),
        };
        let glued = match (previous, token) {
            (None, _) => true,
            (Some(Token::Punct(p)), _) if p == "(" || p == "." => true,
            (_, Token::Punct(p)) if matches!(p.as_str(), "," | ")" | ";" | "." | "(") => true,
            _ => false,
        };
        if !glued {
            out.push(' ');
        }
        out.push_str(text);
        previous = Some(token);
    }
    out.trim_end_matches(';').trim_end().to_owned()
}

fn tokenize(sql: &str) -> Vec<Token> {
    let chars: Vec<char> = sql.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            _ if c.is_whitespace() => i += 1,
            '-' if chars.get(i + 1) == Some(&'-') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                i += 2;
                while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                    i += 1;
                }
                i += 2;
            }
            '\'' => {
                let (text, next) = quoted(&chars, i, '\'');
                tokens.push(Token::Literal(format!("'{}'", text.replace('\'', "''"))));
                i = next;
            }
            '"' | '`' | '[' => {
                let close = if c == '[' { ']' } else { c };
                let (name, next) = quoted(&chars, i, close);
                tokens.push(name_token(&name));
                i = next;
            }
            _ if is_word_char(c) => {
                let start = i;
                while i < chars.len() && is_word_char(chars[i]) {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                tokens.push(Token::Word(word.to_lowercase()));
            }
            _ if is_operator_char(c) => {
                let start = i;
                while i < chars.len() && is_operator_char(chars[i]) {
                    i += 1;
                }
                tokens.push(Token::Punct(chars[start..i].iter().collect()));
            }
            _ => {
                tokens.push(Token::Punct(c.to_string()));
                i += 1;
            }
        }
    }
    tokens
}

/// The text between the quote at `start` and its closing quote (a doubled closing quote is
/// one quote character), and the index after it.
fn quoted(chars: &[char], start: usize, close: char) -> (String, usize) {
    let mut text = String::new();
    let mut i = start + 1;
    while i < chars.len() {
        if chars[i] == close {
            if close != ']' && chars.get(i + 1) == Some(&close) {
                text.push(close);
                i += 2;
                continue;
            }
            return (text, i + 1);
        }
        text.push(chars[i]);
        i += 1;
    }
    (text, i)
}

/// A quoted name: a plain word when it is one, else kept in double quotes.
fn name_token(name: &str) -> Token {
    let plain =
        name.chars().next().is_some_and(|c| !c.is_ascii_digit()) && name.chars().all(is_word_char);
    if plain {
        Token::Word(name.to_lowercase())
    } else {
        Token::Word(format!("\"{}\"", name.to_lowercase().replace('"', "\"\"")))
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

fn is_operator_char(c: char) -> bool {
    matches!(c, '<' | '>' | '=' | '!' | '|')
}

/// Whether `sql` holds at least one statement, not only comments, whitespace and `;`.
pub(crate) fn has_statement(sql: &str) -> bool {
    tokenize(sql)
        .iter()
        .any(|t| !matches!(t, Token::Punct(p) if p == ";"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_case_whitespace_and_comments_are_normalized() {
        let plain = normalize("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)");
        for same in [
            "create table \"users\"(id integer primary key,email text)",
            "CREATE TABLE [users] (\n  id INTEGER PRIMARY KEY, -- key\n  email TEXT\n)",
            "CREATE TABLE `Users` ( id /* the id */ INTEGER PRIMARY KEY , email TEXT );",
        ] {
            assert_eq!(normalize(same), plain, "{same}");
        }
        assert_eq!(
            plain,
            "create table users(id integer primary key, email text)"
        );
    }

    #[test]
    fn string_literals_keep_their_case_and_spaces() {
        assert_eq!(
            normalize("CHECK (status IN ('Active', 'it''s  done'))"),
            "check(status in('Active', 'it''s  done'))"
        );
        assert_ne!(
            normalize("DEFAULT 'a b'"),
            normalize("DEFAULT 'a  b'"),
            "literals are data"
        );
    }

    #[test]
    fn quoted_names_that_are_not_plain_words_stay_quoted() {
        assert_eq!(
            normalize("CREATE TABLE \"my table\" (\"the id\" INT)"),
            "create table \"my table\"(\"the id\" int)"
        );
    }

    #[test]
    fn scripts_of_only_comments_have_no_statement() {
        assert!(!has_statement(
            "-- This file should undo anything in `up.sql`\n"
        ));
        assert!(!has_statement("/* nothing */ ;\n -- still nothing"));
        assert!(has_statement("-- drop it\nDROP TABLE users;"));
    }

    #[test]
    fn operators_are_kept_whole() {
        assert_eq!(
            normalize("WHERE a <> b AND c>=d OR e || f"),
            "where a <> b and c >= d or e || f"
        );
    }
}
