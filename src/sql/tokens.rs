//! Just enough of SQL's tokens to read `CHECK` expressions and the columns of expression
//! indexes, with their byte spans.

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TokenKind {
    Word(String),
    Quoted(String),
    Str(String),
    Number(String),
    Punct(char),
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub(crate) kind: TokenKind,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

#[cfg(feature = "check")]
impl Token {
    pub(crate) fn identifier(&self) -> Option<&str> {
        match &self.kind {
            TokenKind::Word(w) | TokenKind::Quoted(w) => Some(w),
            _ => None,
        }
    }

    pub(crate) fn is_keyword(&self, keyword: &str) -> bool {
        matches!(&self.kind, TokenKind::Word(w) if w.eq_ignore_ascii_case(keyword))
    }
}

/// Just enough of SQL's tokens for CHECK expressions, with their byte spans.
pub(crate) fn lex(sql: &str) -> Vec<Token> {
    let chars: Vec<(usize, char)> = sql.char_indices().collect();
    let end_of = |i: usize| chars.get(i).map_or(sql.len(), |(b, _)| *b);
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        let next = chars.get(i + 1).map(|(_, c)| *c);
        if c.is_whitespace() {
            i += 1;
        } else if c == '-' && next == Some('-') {
            while i < chars.len() && chars[i].1 != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i < chars.len()
                && !(chars[i].1 == '*' && chars.get(i + 1).map(|x| x.1) == Some('/'))
            {
                i += 1;
            }
            i += 2;
        } else if matches!(c, '\'' | '"' | '`' | '[') {
            let close = if c == '[' { ']' } else { c };
            let mut text = String::new();
            i += 1;
            while i < chars.len() {
                if chars[i].1 == close {
                    if close != ']' && chars.get(i + 1).map(|x| x.1) == Some(close) {
                        text.push(close);
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                text.push(chars[i].1);
                i += 1;
            }
            let kind = if c == '\'' {
                TokenKind::Str(text)
            } else {
                TokenKind::Quoted(text)
            };
            tokens.push(Token {
                kind,
                start,
                end: end_of(i),
            });
        } else if c.is_ascii_digit() || (c == '.' && next.is_some_and(|n| n.is_ascii_digit())) {
            let from = i;
            while i < chars.len() {
                let ch = chars[i].1;
                let exponent_sign =
                    matches!(ch, '+' | '-') && i > from && matches!(chars[i - 1].1, 'e' | 'E');
                if ch.is_ascii_alphanumeric() || ch == '.' || exponent_sign {
                    i += 1;
                } else {
                    break;
                }
            }
            let text: String = chars[from..i].iter().map(|(_, c)| c).collect();
            tokens.push(Token {
                kind: TokenKind::Number(text),
                start,
                end: end_of(i),
            });
        } else if c.is_alphanumeric() || c == '_' || c == '$' {
            let from = i;
            while i < chars.len()
                && (chars[i].1.is_alphanumeric() || matches!(chars[i].1, '_' | '$'))
            {
                i += 1;
            }
            let text: String = chars[from..i].iter().map(|(_, c)| c).collect();
            tokens.push(Token {
                kind: TokenKind::Word(text),
                start,
                end: end_of(i),
            });
        } else {
            tokens.push(Token {
                kind: TokenKind::Punct(c),
                start,
                end: end_of(i + 1),
            });
            i += 1;
        }
    }
    tokens
}
