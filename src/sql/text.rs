//! SQL text as a person compares it: statements normalized, and scripts of only comments
//! told from scripts with statements. The tokens come from [`tokens`](super::tokens).

use super::tokens::{Token, TokenKind, lex};

/// Normalizes a `CREATE` statement: comments dropped, whitespace collapsed, names
/// unquoted where they are plain words, everything but string literals in lower case.
pub(crate) fn normalize(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut previous: Option<(Token, String)> = None;
    for token in lex(sql) {
        let text = match &token.kind {
            TokenKind::Word(w) | TokenKind::Number(w) => w.to_lowercase(),
            TokenKind::Quoted(name) => name_text(name),
            TokenKind::Str(s) => format!("'{}'", s.replace('\'', "''")),
            TokenKind::Punct(c) => c.to_string(),
        };
        let glued = match &previous {
            None => true,
            // `<>`, `>=`, `||`: operator characters written together stay together.
            Some((p, _))
                if p.end == token.start && is_operator(&p.kind) && is_operator(&token.kind) =>
            {
                true
            }
            Some((_, p)) if p == "(" || p == "." => true,
            _ => matches!(text.as_str(), "," | ")" | ";" | "." | "("),
        };
        if !glued {
            out.push(' ');
        }
        out.push_str(&text);
        previous = Some((token, text));
    }
    out.trim_end_matches(';').trim_end().to_owned()
}

/// Whether `sql` holds at least one statement, not only comments, whitespace and `;`.
pub(crate) fn has_statement(sql: &str) -> bool {
    lex(sql)
        .iter()
        .any(|t| !matches!(t.kind, TokenKind::Punct(';')))
}

/// A quoted name: a plain word when it is one, else kept in double quotes.
fn name_text(name: &str) -> String {
    let plain = name.chars().next().is_some_and(|c| !c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '$');
    if plain {
        name.to_lowercase()
    } else {
        format!("\"{}\"", name.to_lowercase().replace('"', "\"\""))
    }
}

fn is_operator(kind: &TokenKind) -> bool {
    matches!(kind, TokenKind::Punct('<' | '>' | '=' | '!' | '|'))
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
